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

first_sends as (

    select
        customer_id,
        campaign_id,
        min(occurred_at) as sent_at
    from identified_events
    where event_type = 'sent'
    group by customer_id, campaign_id

),

responses as (

    select
        customer_id,
        campaign_id,
        max(case when event_type = 'open' then 1 else 0 end) as has_open,
        max(case when event_type = 'click' then 1 else 0 end) as has_click
    from identified_events
    where event_type in ('open', 'click')
    group by customer_id, campaign_id

),

sends as (

    select
        first_sends.customer_id,
        first_sends.campaign_id,
        customers.country,
        first_sends.sent_at,
        cast(first_sends.sent_at as date) as send_date,
        {{ weekday_index('first_sends.sent_at') }} as send_weekday,
        {{ hour_block('first_sends.sent_at') }} as send_hour_block,
        -- a click counts as an open: some clients' mail apps block the open pixel
        coalesce(responses.has_open = 1 or responses.has_click = 1, false) as is_opened,
        coalesce(responses.has_click = 1, false) as is_clicked
    from first_sends
    inner join customers
        on first_sends.customer_id = customers.customer_id
    left join responses
        on
            first_sends.customer_id = responses.customer_id
            and first_sends.campaign_id = responses.campaign_id

),

with_campaign_rate as (

    select
        *,
        send_weekday * 8 + send_hour_block as send_block,
        avg(case when is_opened then 1.0 else 0.0 end)
            over (partition by campaign_id, country)
            as campaign_open_rate
    from sends

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
