{#- Every signal of interest in a product: merchandise purchases (one per order and
    product) and, where the dataset has them, web views and add-to-carts, up to as_of
    (fct_order_lines and fct_web_events are cut to it). -#}
with

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

web_events as (

    select * from {{ ref('fct_web_events') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

purchases as (

    select
        customer_id,
        product_id,
        'purchase' as event_type,
        order_id,
        min(ordered_at) as occurred_at,
        cast(sum(quantity) as bigint) as quantity
    from order_lines
    where is_merchandise_purchase
    group by customer_id, product_id, order_id

),

browsing as (

    select
        web_events.customer_id,
        web_events.product_id,
        web_events.event_type,
        cast(null as varchar) as order_id,
        web_events.occurred_at,
        cast(1 as bigint) as quantity
    from web_events
    inner join products
        on web_events.product_id = products.product_id
    where products.is_merchandise

),

events as (

    select * from purchases
    union all
    select * from browsing

),

dated as (

    select
        *,
        cast(occurred_at as date) as event_date
    from events

)

select * from dated
