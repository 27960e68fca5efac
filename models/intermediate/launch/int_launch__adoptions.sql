{#- One row per customer and past collection they adopted: a purchase of the
    collection's products within launch_adoption_days of its launch. -#}
with

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

launch_lines as (

    select
        order_lines.customer_id,
        products.collection_id,
        products.launch_date,
        order_lines.order_date,
        order_lines.net_amount,
        order_lines.is_discounted
    from order_lines
    inner join products
        on order_lines.product_id = products.product_id
    where
        order_lines.is_purchase_order
        and not order_lines.is_return_line
        and products.collection_id is not null
        and products.launch_date is not null
        and order_lines.order_date >= products.launch_date
        and order_lines.order_date
        < cast({{ dbt.dateadd('day', var('launch_adoption_days', 30), 'products.launch_date') }} as date)

),

adoptions as (

    select
        customer_id,
        collection_id,
        launch_date,
        min(order_date) as first_adoption_date,
        {{ dbt.datediff('launch_date', 'min(order_date)', 'day') }} as days_to_adopt,
        {{ exact_sum('net_amount') }} as adoption_amount,
        {{ exact_sum('case when coalesce(is_discounted, false) then 0 else net_amount end') }} as full_price_amount
    from launch_lines
    group by customer_id, collection_id, launch_date

)

select * from adoptions
