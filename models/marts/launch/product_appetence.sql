{#- One row per client and new product of the upcoming collection among the
    client's launch_top_new_products closest: recency-weighted mean Gower
    similarity of the client's purchases to the product. -#}
with

appetence as (

    select * from {{ ref('int_launch__product_appetence') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

described as (

    select
        cast(appetence.customer_id as varchar) as customer_id,
        cast(appetence.product_id as varchar) as product_id,
        cast(appetence.collection_id as varchar) as collection_id,
        products.product_name,
        products.category,
        products.color,
        products.material,
        cast(appetence.appetence as double) as appetence,
        cast(appetence.appetence_rank as integer) as appetence_rank
    from appetence
    inner join products
        on appetence.product_id = products.product_id

)

select * from described
