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

    select distinct
        events.order_id,
        events.product_id,
        events.event_date
    from events
    inner join catalog
        on events.product_id = catalog.product_id
    where events.event_type = 'purchase'

),

basket_sizes as (

    select
        order_id,
        min(event_date) as order_date,
        count(*) as basket_products
    from basket_lines
    group by order_id

),

order_counts as (

    select
        horizons.horizon,
        count(*) as total_orders
    from basket_sizes
    inner join horizons
        on basket_sizes.order_date < horizons.known_before
    group by horizons.horizon

),

product_orders as (

    select
        horizons.horizon,
        basket_lines.product_id,
        count(*) as product_orders
    from basket_lines
    inner join horizons
        on basket_lines.event_date < horizons.known_before
    group by horizons.horizon, basket_lines.product_id

),

pair_lines as (

    select
        basket_lines.order_id,
        basket_lines.product_id,
        basket_sizes.order_date
    from basket_lines
    inner join basket_sizes
        on basket_lines.order_id = basket_sizes.order_id
    where
        basket_sizes.basket_products between 2 and {{ var('recommendations_basket_max_products') }}

),

-- One self-join for all horizons; each horizon counts the orders it knows.
order_pairs as (

    select
        antecedent.order_date,
        antecedent.product_id as antecedent_product_id,
        consequent.product_id as consequent_product_id
    from pair_lines as antecedent
    inner join pair_lines as consequent
        on
            antecedent.order_id = consequent.order_id
            and antecedent.product_id != consequent.product_id

),

pairs as (

    select
        horizons.horizon,
        order_pairs.antecedent_product_id,
        order_pairs.consequent_product_id,
        count(*) as pair_orders
    from order_pairs
    inner join horizons
        on order_pairs.order_date < horizons.known_before
    group by horizons.horizon, order_pairs.antecedent_product_id, order_pairs.consequent_product_id
    having count(*) >= {{ var('recommendations_min_pair_orders') }}

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
where consequent_rank <= {{ var('recommendations_rules_per_product') }}
