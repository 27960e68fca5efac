{#- One row per purchase and product family bought in it: tells how often a
    family is bought again (routine products that run out) and what the first
    basket held. -#}
with

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

purchases as (

    select * from {{ ref('int_retention__purchases') }}

),

purchase_families as (

    select distinct
        purchases.customer_id,
        purchases.order_id,
        purchases.order_date,
        purchases.purchase_number,
        products.family
    from purchases
    inner join order_lines
        on purchases.order_id = order_lines.order_id
    inner join products
        on order_lines.product_id = products.product_id
    where order_lines.is_merchandise_purchase

)

select * from purchase_families
