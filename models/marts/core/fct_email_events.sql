{#- One row per staged e-mail event (sent, open, click) that happened on or before
    as_of: the one place e-mail events are cut to the as-of date, as fct_orders is for
    orders. Empty when the dataset has no e-mail events (Olist, Online Retail). -#}
with

email_events as (

    select * from {{ ref('stg_email_events') }}

),

events_as_of as (

    select
        event_id,
        customer_id,
        campaign_id,
        event_type,
        occurred_at,
        cast(occurred_at as date) as event_date
    from email_events
    where cast(occurred_at as date) <= {{ as_of_date() }}

)

select * from events_as_of
