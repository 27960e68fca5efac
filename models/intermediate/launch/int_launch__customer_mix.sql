{#- One row per reference launch, customer and attribute value (category,
    price band): the share of the customer's merchandise spend before the
    cutoff. Long format so the lookalike model pivots whatever categories a
    dataset has. -#}
with

population as (

    select * from {{ ref('int_launch__early_adopter_features') }}

),

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

lines as (

    select
        population.reference_collection_id,
        population.customer_id,
        products.category,
        cast(coalesce(products.price_band, 0) as varchar) as price_band,
        greatest(order_lines.net_amount, 0) as amount
    from population
    inner join order_lines
        on
            population.customer_id = order_lines.customer_id
            and population.cutoff_date > order_lines.order_date
    inner join products
        on order_lines.product_id = products.product_id
    where order_lines.is_merchandise_purchase

),

by_value as (

    select
        reference_collection_id,
        customer_id,
        'category' as attribute_name,
        category as attribute_value,
        {{ exact_sum('amount') }} as amount
    from lines
    group by reference_collection_id, customer_id, category

    union all

    select
        reference_collection_id,
        customer_id,
        'price_band' as attribute_name,
        price_band as attribute_value,
        {{ exact_sum('amount') }} as amount
    from lines
    group by reference_collection_id, customer_id, price_band

),

customer_totals as (

    -- Every attribute splits the same merchandise spend: one total per client and launch
    -- (a window over the long rows cost three times as much at a million clients).
    select
        reference_collection_id,
        customer_id,
        {{ exact_sum('amount') }} as total_amount
    from lines
    group by reference_collection_id, customer_id

),

shares as (

    select
        by_value.reference_collection_id,
        by_value.customer_id,
        by_value.attribute_name,
        by_value.attribute_value,
        by_value.amount / nullif(customer_totals.total_amount, 0) as spend_share
    from by_value
    inner join customer_totals
        on
            by_value.reference_collection_id = customer_totals.reference_collection_id
            and by_value.customer_id = customer_totals.customer_id

)

select * from shares
