{#- One row per merchandise purchase line (fct_order_lines.is_merchandise_purchase) of a
    collection's product from the collection's launch date on, with the days since the
    launch: what adopting a launch (int_launch__adoptions) and buying in a launch's
    window (int_launch__collection_window_buyers) are counted from. -#}
with

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

collection_lines as (

    select
        order_lines.customer_id,
        products.collection_id,
        products.launch_date,
        order_lines.order_date,
        {{ dbt.datediff('products.launch_date', 'order_lines.order_date', 'day') }} as days_after_launch,
        order_lines.net_amount,
        order_lines.is_discounted
    from order_lines
    inner join products
        on order_lines.product_id = products.product_id
    where
        order_lines.is_merchandise_purchase
        and products.collection_id is not null
        and products.launch_date is not null
        and order_lines.order_date >= products.launch_date

)

select * from collection_lines
