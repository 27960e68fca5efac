{#- Every row staging refused, with its source table, key, reason and the raw
    record as JSON: nothing is dropped silently. -#}
with

customers_rejected as (

    {{ quarantined_rows('base_customers', 'customers', "customer_id") }}

),

products_rejected as (

    {{ quarantined_rows('base_products', 'products', "product_id") }}

),

collections_rejected as (

    {{ quarantined_rows('base_collections', 'collections', "collection_id") }}

),

orders_rejected as (

    {{ quarantined_rows('base_orders', 'orders', "order_id") }}

),

order_lines_rejected as (

    {{ quarantined_rows('base_order_lines', 'order_lines', "order_id || '#' || coalesce(cast(line_number as varchar), '?')") }}

),

reviews_rejected as (

    {{ quarantined_rows('base_reviews', 'reviews', "review_id || '@' || coalesce(order_id, '?')") }}

),

web_events_rejected as (

    {{ quarantined_rows('base_web_events', 'web_events', "event_id") }}

),

email_events_rejected as (

    {{ quarantined_rows('base_email_events', 'email_events', "event_id") }}

),

stores_rejected as (

    {{ quarantined_rows('base_stores', 'stores', "store_id") }}

),

stock_rejected as (

    {{ quarantined_rows('base_stock', 'stock', "store_id || '@' || coalesce(product_id, '?')") }}

),

campaign_contacts_rejected as (

    {{ quarantined_rows('base_campaign_contacts', 'campaign_contacts', "campaign_id || '@' || coalesce(customer_id, '?')") }}

),

quarantine as (

    select * from customers_rejected

    union all

    select * from products_rejected

    union all

    select * from collections_rejected

    union all

    select * from orders_rejected

    union all

    select * from order_lines_rejected

    union all

    select * from reviews_rejected

    union all

    select * from web_events_rejected

    union all

    select * from email_events_rejected

    union all

    select * from stores_rejected

    union all

    select * from stock_rejected

    union all

    select * from campaign_contacts_rejected

)

select
    *,
    {{ run_started_timestamp() }} as quarantined_at
from quarantine
