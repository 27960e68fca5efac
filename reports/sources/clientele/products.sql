-- Core: product names for every page that shows a product (dim_products), so no page
-- prints a bare product id.
select
    product_id,
    coalesce(product_name, product_id) as product_name,
    category,
    family,
    collection_name
from read_parquet('../exports/current/dim_products.parquet')
