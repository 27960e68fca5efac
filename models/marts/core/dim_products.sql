with

products as (

    select * from {{ ref('stg_products') }}

),

collections as (

    select * from {{ ref('stg_collections') }}

),

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

sales as (

    select
        product_id,
        cast(sum(case when is_purchase_order then quantity else 0 end) as bigint) as units_sold,
        {{ exact_sum('net_amount') }} as net_revenue,
        min(ordered_at) as first_sold_at,
        max(ordered_at) as last_sold_at
    from order_lines
    group by product_id

),

price_bands as (

    select
        product_id,
        ntile(5) over (order by list_price, product_id) as price_band
    from products
    where is_merchandise and list_price is not null

),

described as (

    select
        products.product_id,
        products.product_name,
        products.category,
        products.family,
        products.subfamily,
        products.collection_id,
        collections.collection_name,
        collections.launch_date,
        coalesce(collections.launch_date > {{ as_of_date() }}, false) as is_upcoming_collection,
        products.color,
        products.material,
        products.gender_line,
        products.list_price,
        products.unit_cost,
        case
            when products.list_price > 0 and products.unit_cost is not null
                then (products.list_price - products.unit_cost) / products.list_price
        end as margin_rate,
        price_bands.price_band,
        products.is_merchandise,
        products.is_discontinued,
        coalesce(sales.units_sold, 0) as units_sold,
        coalesce(sales.net_revenue, 0) as net_revenue,
        sales.first_sold_at,
        sales.last_sold_at
    from products
    left join collections
        on products.collection_id = collections.collection_id
    left join price_bands
        on products.product_id = price_bands.product_id
    left join sales
        on products.product_id = sales.product_id

)

select * from described
