{#- Baseline 2, repurchase: per horizon and client, the client's own products ranked by
    how many orders contained them, then by how recently. Often the strongest baseline in
    retail. A backtest horizon lists the evaluated clients only. -#}
with

horizons as (

    select * from {{ ref('int_recommendations__horizons') }}

),

events as (

    select * from {{ ref('int_recommendations__events') }}

),

catalog as (

    select * from {{ ref('int_recommendations__catalog') }}

),

evaluated as (

    select * from {{ ref('int_recommendations__evaluated_clients') }}

),

known_purchases as (

    select
        horizons.horizon,
        events.customer_id,
        events.product_id,
        events.order_id,
        events.occurred_at
    from events
    inner join horizons
        on events.event_date < horizons.known_before
    inner join catalog
        on events.product_id = catalog.product_id
    left join evaluated
        on
            horizons.horizon = evaluated.horizon
            and events.customer_id = evaluated.customer_id
    where
        events.event_type = 'purchase'
        and (not horizons.is_backtest or evaluated.customer_id is not null)

),

counted as (

    select
        horizon,
        customer_id,
        product_id,
        count(distinct order_id) as purchase_orders,
        max(occurred_at) as last_purchased_at
    from known_purchases
    group by horizon, customer_id, product_id

),

ranked as (

    select
        *,
        row_number() over (
            partition by horizon, customer_id
            order by purchase_orders desc, last_purchased_at desc, product_id asc
        ) as repurchase_rank
    from counted

)

select * from ranked
where repurchase_rank <= {{ var('recommendations_candidates') }}
