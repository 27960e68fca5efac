{#- The products a client can be recommended: merchandise (no postage or fees), not
    discontinued, not in a collection that has not launched yet. Every ranking is a full
    ranking over this catalogue. -#}
with

products as (

    select * from {{ ref('dim_products') }}

),

margins as (

    select {{ exact_avg('margin_rate') }} as average_margin_rate
    from products
    where is_merchandise and margin_rate is not null

),

recommendable as (

    select
        products.product_id,
        coalesce(products.product_name, products.product_id) as product_name,
        products.category,
        products.family,
        products.list_price,
        products.margin_rate,
        -- Unknown margin counts as the average margin: neither pushed nor penalised.
        coalesce(products.margin_rate, margins.average_margin_rate, 0) as ranking_margin_rate,
        products.units_sold
    from products
    cross join margins
    where
        products.is_merchandise
        and not coalesce(products.is_discontinued, false)
        and not products.is_upcoming_collection

)

select * from recommendable
