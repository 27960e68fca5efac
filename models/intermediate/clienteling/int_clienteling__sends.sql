{#- One row per e-mail sent to a client (first send of a campaign to that client) up to
    as_of: when it went out (weekday, 3-hour block), whether it was opened or clicked
    by as_of, the open rate of that campaign in the client's market (what the
    send-time model compares each open with), and whether the campaign's sends were
    spread over the week (only those say anything about timing). Empty without e-mail
    events. -#}
with

email_events as (

    select * from {{ ref('fct_email_events') }}

),

customers as (

    select * from {{ ref('stg_customers') }}

),

identified_events as (

    select
        customer_id,
        campaign_id,
        event_type,
        occurred_at
    from email_events
    where customer_id is not null

),

campaign_events as (

    {#- One pass over the events per client and campaign: the first send and whether
        it was opened or clicked (a group-by each and a join of the two cost twice). -#}
    select
        customer_id,
        campaign_id,
        min(case when event_type = 'sent' then occurred_at end) as sent_at,
        max(case when event_type = 'open' then 1 else 0 end) as has_open,
        max(case when event_type = 'click' then 1 else 0 end) as has_click
    from identified_events
    group by customer_id, campaign_id

),

sends as (

    select
        campaign_events.customer_id,
        campaign_events.campaign_id,
        customers.country,
        campaign_events.sent_at,
        cast(campaign_events.sent_at as date) as send_date,
        {{ weekday_index('campaign_events.sent_at') }} as send_weekday,
        {{ hour_block('campaign_events.sent_at') }} as send_hour_block,
        -- a click counts as an open: some clients' mail apps block the open pixel
        campaign_events.has_open = 1 or campaign_events.has_click = 1 as is_opened,
        campaign_events.has_click = 1 as is_clicked
    from campaign_events
    inner join customers
        on campaign_events.customer_id = customers.customer_id
    where campaign_events.sent_at is not null

),

with_block as (

    select
        *,
        send_weekday * 8 + send_hour_block as send_block
    from sends

),

campaign_rates as (

    {#- A group-by joined back: a window over the campaign's sends sorts them all. -#}
    select
        campaign_id,
        country,
        avg(case when is_opened then 1.0 else 0.0 end) as campaign_open_rate
    from sends
    group by campaign_id, country

),

with_campaign_rate as (

    select
        with_block.*,
        campaign_rates.campaign_open_rate
    from with_block
    inner join campaign_rates
        on
            with_block.campaign_id = campaign_rates.campaign_id
            and with_block.country is not distinct from campaign_rates.country

),

campaign_blocks as (

    select
        campaign_id,
        send_block,
        count(*) * 1.0 / sum(count(*)) over (partition by campaign_id) as block_share
    from with_campaign_rate
    group by campaign_id, send_block

),

campaign_spread as (

    select
        campaign_id,
        max(block_share) as largest_block_share
    from campaign_blocks
    group by campaign_id

),

with_spread as (

    {#- A campaign sent in one go (a launch e-mail at 9 a.m.) says nothing about timing:
        only campaigns whose sends were spread over the week teach when a client reads. -#}
    select
        with_campaign_rate.*,
        campaign_spread.largest_block_share <= {{ var('clienteling_max_block_share') }}
            as is_timing_varied
    from with_campaign_rate
    inner join campaign_spread
        on with_campaign_rate.campaign_id = campaign_spread.campaign_id

)

select * from with_spread
