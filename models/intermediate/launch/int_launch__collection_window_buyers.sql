{#- Who bought each collection within launch_window_days of its launch: the
    outcome of a launch, for backtests (int_launch__outcomes) and for campaign
    lift (campaign_lift) alike. -#}
with

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

window_buyers as (

    select distinct
        order_lines.customer_id,
        products.collection_id
    from order_lines
    inner join products
        on order_lines.product_id = products.product_id
    where
        order_lines.is_purchase_order
        and not order_lines.is_return_line
        and products.launch_date is not null
        and order_lines.order_date >= products.launch_date
        and order_lines.order_date
        < cast({{ dbt.dateadd('day', var('launch_window_days', 45), 'products.launch_date') }} as date)

)

select * from window_buyers
