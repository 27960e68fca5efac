{#- Per horizon, client (of int_recommendations__clients) and product the client bought or
    browsed before the horizon: the product's category, whether it was bought and when
    last. What "bought before", "browsed", a client's categories and the last baskets
    "bought together" completes are read from. -#}
with

clients as (

    select * from {{ ref('int_recommendations__clients') }}

),

events as (

    select * from {{ ref('int_recommendations__events') }}

),

catalog as (

    select * from {{ ref('int_recommendations__catalog') }}

),

known_events as (

    select
        clients.horizon,
        events.customer_id,
        events.product_id,
        events.event_type,
        events.event_date
    from events
    inner join clients
        on
            events.customer_id = clients.customer_id
            and events.event_date < clients.known_before

),

client_products as (

    select
        known_events.horizon,
        known_events.customer_id,
        known_events.product_id,
        catalog.category,
        max(case when known_events.event_type = 'purchase' then 1 else 0 end) = 1 as was_bought,
        max(case when known_events.event_type = 'purchase' then known_events.event_date end) as last_bought_on
    from known_events
    left join catalog
        on known_events.product_id = catalog.product_id
    group by known_events.horizon, known_events.customer_id, known_events.product_id, catalog.category

)

select * from client_products
