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

shares as (

    select
        reference_collection_id,
        customer_id,
        attribute_name,
        attribute_value,
        amount / nullif({{ exact_sum('amount', over='partition by reference_collection_id, customer_id, attribute_name') }}, 0)
            as spend_share
    from by_value

)

select * from shares
