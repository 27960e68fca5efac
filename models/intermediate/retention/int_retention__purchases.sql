{#- One row per purchase (an order that counts for RFM) up to as_of: the
    event history BG/NBD, the hazard model and the backtests cut at any date. -#}
with

orders as (

    select * from {{ ref('fct_orders') }}

),

purchases as (

    select
        customer_id,
        order_id,
        order_date,
        purchase_number,
        merchandise_amount as order_value
    from orders
    where is_purchase

)

select * from purchases
