{#- Per horizon, the clients its lists are made for, with what the composed list needs of
    them: market, home store, last purchase before the horizon and segment (active,
    inactive beyond recommendations_inactive_days, prospect). The backtest horizons hold
    their evaluated clients only; 'current' every client known on as_of. A table of its
    own so that int_recommendations__candidates reads it from disk instead of holding it
    in memory at a million clients. -#}
with

horizons as (

    select * from {{ ref('int_recommendations__horizons') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

events as (

    select * from {{ ref('int_recommendations__events') }}

),

evaluated as (

    select * from {{ ref('int_recommendations__evaluated_clients') }}

),

horizon_clients as (

    select
        horizons.horizon,
        horizons.known_before,
        customers.customer_id,
        coalesce(customers.country, '(unknown)') as market,
        customers.home_store_id
    from customers
    inner join horizons
        on customers.first_seen_at is null or cast(customers.first_seen_at as date) < horizons.known_before
    left join evaluated
        on
            horizons.horizon = evaluated.horizon
            and customers.customer_id = evaluated.customer_id
    where not horizons.is_backtest or evaluated.customer_id is not null

),

purchase_summary as (

    select
        horizon_clients.horizon,
        horizon_clients.customer_id,
        max(events.event_date) as last_purchase_date
    from horizon_clients
    inner join events
        on
            horizon_clients.customer_id = events.customer_id
            and horizon_clients.known_before > events.event_date
    where events.event_type = 'purchase'
    group by horizon_clients.horizon, horizon_clients.customer_id

),

clients as (

    select
        horizon_clients.horizon,
        horizon_clients.known_before,
        horizon_clients.customer_id,
        horizon_clients.market,
        horizon_clients.home_store_id,
        purchase_summary.last_purchase_date,
        case
            when purchase_summary.last_purchase_date is null then 'prospect'
            when purchase_summary.last_purchase_date
                < {{ dbt.dateadd('day', -var('recommendations_inactive_days'), 'horizon_clients.known_before') }}
                then 'inactive'
            else 'active'
        end as client_segment
    from horizon_clients
    left join purchase_summary
        on
            horizon_clients.horizon = purchase_summary.horizon
            and horizon_clients.customer_id = purchase_summary.customer_id

)

select * from clients
