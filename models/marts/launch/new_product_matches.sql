{#- For every product outside the upcoming collection, its K most similar new
    products (weighted Gower): translates any existing recommendation to the
    new collection. -#}
with

matches as (

    select * from {{ ref('int_launch__new_product_matches') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

described as (

    select
        cast(matches.product_id as varchar) as product_id,
        cast(matches.collection_id as varchar) as collection_id,
        cast(matches.new_product_id as varchar) as new_product_id,
        cast(matches.new_collection_id as varchar) as new_collection_id,
        cast(matches.match_rank as integer) as match_rank,
        cast(matches.similarity as double) as similarity,
        new_products.product_name as new_product_name
    from matches
    inner join products as new_products
        on matches.new_product_id = new_products.product_id

)

select * from described
