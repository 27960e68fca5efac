{#- Baseline 3, market basket: per horizon, pairs of products bought in the same order,
    with support, confidence and lift. Orders with more than
    recommendations_basket_max_products products (wholesale restocking) are left out of
    the pairs; pairs seen in fewer than recommendations_min_pair_orders orders are dropped;
    each product keeps its best consequents by confidence. -#}
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

basket_lines as (

    select
        horizons.horizon,
        events.order_id,
        events.product_id
    from events
    inner join horizons
        on events.event_date < horizons.known_before
    inner join catalog
        on events.product_id = catalog.product_id
    where events.event_type = 'purchase'

),

basket_sizes as (

    select
        horizon,
        order_id,
        count(*) as basket_products
    from basket_lines
    group by horizon, order_id

),

order_counts as (

    select
        horizon,
        count(*) as total_orders
    from basket_sizes
    group by horizon

),

product_orders as (

    select
        horizon,
        product_id,
        count(*) as product_orders
    from basket_lines
    group by horizon, product_id

),

pair_lines as (

    select basket_lines.*
    from basket_lines
    inner join basket_sizes
        on
            basket_lines.horizon = basket_sizes.horizon
            and basket_lines.order_id = basket_sizes.order_id
    where
        basket_sizes.basket_products between 2 and {{ var('recommendations_basket_max_products', 50) }}

),

pairs as (

    select
        antecedent.horizon,
        antecedent.product_id as antecedent_product_id,
        consequent.product_id as consequent_product_id,
        count(*) as pair_orders
    from pair_lines as antecedent
    inner join pair_lines as consequent
        on
            antecedent.horizon = consequent.horizon
            and antecedent.order_id = consequent.order_id
            and antecedent.product_id != consequent.product_id
    group by antecedent.horizon, antecedent.product_id, consequent.product_id
    having count(*) >= {{ var('recommendations_min_pair_orders', 2) }}

),

measured as (

    select
        pairs.horizon,
        pairs.antecedent_product_id,
        pairs.consequent_product_id,
        pairs.pair_orders,
        antecedent_orders.product_orders as antecedent_orders,
        consequent_orders.product_orders as consequent_orders,
        pairs.pair_orders / order_counts.total_orders as pair_support,
        pairs.pair_orders / antecedent_orders.product_orders as confidence,
        (pairs.pair_orders / antecedent_orders.product_orders)
        / (consequent_orders.product_orders / order_counts.total_orders) as lift
    from pairs
    inner join order_counts
        on pairs.horizon = order_counts.horizon
    inner join product_orders as antecedent_orders
        on
            pairs.horizon = antecedent_orders.horizon
            and pairs.antecedent_product_id = antecedent_orders.product_id
    inner join product_orders as consequent_orders
        on
            pairs.horizon = consequent_orders.horizon
            and pairs.consequent_product_id = consequent_orders.product_id

),

ranked as (

    select
        *,
        row_number() over (
            partition by horizon, antecedent_product_id
            order by confidence desc, lift desc, consequent_product_id asc
        ) as consequent_rank
    from measured

)

select * from ranked
where consequent_rank <= {{ var('recommendations_rules_per_product', 20) }}
