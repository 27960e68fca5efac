{#- One row per reference launch, customer and product bought before the
    cutoff: the recency-weighted units (half-life launch_recency_half_life_days)
    that appetence averages similarities with. -#}
with

population as (

    select * from {{ ref('int_launch__early_adopter_features') }}

),

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

weighted as (

    select
        population.reference_collection_id,
        population.customer_id,
        order_lines.product_id,
        {{ exact_sum(
            "order_lines.quantity * power(0.5, "
            ~ dbt.datediff('order_lines.order_date', 'population.cutoff_date', 'day')
            ~ " / " ~ var('launch_recency_half_life_days') ~ ".0)"
        ) }} as purchase_weight,
        max(order_lines.order_date) as last_bought_date
    from population
    inner join order_lines
        on
            population.customer_id = order_lines.customer_id
            and population.cutoff_date > order_lines.order_date
    where order_lines.is_merchandise_purchase
    group by population.reference_collection_id, population.customer_id, order_lines.product_id

)

select * from weighted
