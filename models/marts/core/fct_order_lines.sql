with

order_lines as (

    select * from {{ ref('stg_order_lines') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

products as (

    select * from {{ ref('stg_products') }}

),

lines_as_of as (

    select
        order_lines.order_id || '#' || cast(order_lines.line_number as varchar) as order_line_id,
        order_lines.order_id,
        order_lines.line_number,
        orders.customer_id,
        order_lines.product_id,
        orders.ordered_at,
        orders.order_date,
        orders.channel,
        orders.store_id,
        orders.country,
        order_lines.quantity,
        order_lines.unit_price,
        order_lines.discount,
        order_lines.net_amount,
        order_lines.net_amount - order_lines.quantity * products.unit_cost as gross_margin,
        order_lines.is_return_line,
        -- Sold below list price, by markdown or line discount.
        order_lines.discount > 0
        or order_lines.unit_price < {{ var('core_discounted_price_ratio') }} * products.list_price as is_discounted,
        orders.is_purchase as is_purchase_order,
        products.is_merchandise,
        -- The one definition of "bought a product" every area counts from: a product (no
        -- fee or postage) on a purchase order (not cancelled, not a return), not returned.
        orders.is_purchase and not order_lines.is_return_line and products.is_merchandise
            as is_merchandise_purchase
    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id
    inner join products
        on order_lines.product_id = products.product_id

)

select * from lines_as_of
