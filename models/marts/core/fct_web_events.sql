{#- One row per staged browsing event (view, add to cart) that happened on or before
    as_of: the one place web events are cut to the as-of date, as fct_orders is for
    orders. Empty when the dataset has no web events (Olist, Online Retail). -#}
with

web_events as (

    select * from {{ ref('stg_web_events') }}

),

events_as_of as (

    select
        event_id,
        customer_id,
        product_id,
        event_type,
        occurred_at,
        cast(occurred_at as date) as event_date
    from web_events
    where cast(occurred_at as date) <= {{ as_of_date() }}

)

select * from events_as_of
