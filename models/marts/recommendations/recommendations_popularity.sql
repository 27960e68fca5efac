{#- Baseline 1, popularity: per horizon and market (the client's country), the products
    bought by the most distinct clients in the last recommendations_popularity_window_days
    days before the horizon; market '(all)' ranks all markets together. -#}
with

horizons as (

    select * from {{ ref('int_recommendations__horizons') }}

),

events as (

    select * from {{ ref('int_recommendations__events') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

catalog as (

    select * from {{ ref('int_recommendations__catalog') }}

),

recent_purchases as (

    select
        horizons.horizon,
        events.customer_id,
        events.product_id,
        events.quantity,
        coalesce(customers.country, '(unknown)') as market
    from events
    inner join horizons
        on
            events.event_date < horizons.known_before
            and events.event_date >= {{ dbt.dateadd('day', -var('recommendations_popularity_window_days'),
                'horizons.known_before') }}
    inner join catalog
        on events.product_id = catalog.product_id
    left join customers
        on events.customer_id = customers.customer_id
    where events.event_type = 'purchase'

),

with_all_markets as (

    select
        horizon,
        market,
        customer_id,
        product_id,
        quantity
    from recent_purchases
    union all
    select
        horizon,
        '(all)' as market,
        customer_id,
        product_id,
        quantity
    from recent_purchases

),

counted as (

    select
        horizon,
        market,
        product_id,
        count(distinct customer_id) as buyers,
        cast(sum(quantity) as bigint) as units
    from with_all_markets
    group by horizon, market, product_id

),

ranked as (

    select
        *,
        row_number() over (
            partition by horizon, market order by buyers desc, units desc, product_id asc
        ) as popularity_rank
    from counted

)

select * from ranked
where popularity_rank <= {{ var('recommendations_candidates') }}
