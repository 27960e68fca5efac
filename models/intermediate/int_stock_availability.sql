{#- Where each product can be bought: units on hand per store and per country (all the
    country's stores), from stg_stock and stg_stores. The one stock model: the advisor
    worklist and the recommendations both read it. Empty when the dataset has no stock
    (Olist, Online Retail). -#}
with

stock as (

    select * from {{ ref('stg_stock') }}

),

stores as (

    select * from {{ ref('stg_stores') }}

),

by_store as (

    select
        'store' as scope_type,
        stock.store_id as scope_id,
        stock.product_id,
        cast(sum(stock.quantity_on_hand) as bigint) as units_on_hand
    from stock
    group by stock.store_id, stock.product_id

),

by_country as (

    select
        'country' as scope_type,
        stores.country as scope_id,
        stock.product_id,
        cast(sum(stock.quantity_on_hand) as bigint) as units_on_hand
    from stock
    inner join stores
        on stock.store_id = stores.store_id
    where stores.country is not null
    group by stores.country, stock.product_id

),

availability as (

    select * from by_store
    union all
    select * from by_country

)

select * from availability
