{#- Rows read from each raw table against rows staged and rows quarantined;
    tests/assert_staging_reconciles.sql fails the build if they differ. -#}
with

customers_counts as (

    select
        'customers' as source_table,
        (select count(*) from {{ raw_table('customers') }} as raw_rows) as rows_read,
        (select count(*) from {{ ref('stg_customers') }}) as rows_staged,
        (
            select count(*) from {{ ref('quarantine') }}
            where source_table = 'customers')
            as rows_quarantined

),

products_counts as (

    select
        'products' as source_table,
        (select count(*) from {{ raw_table('products') }} as raw_rows) as rows_read,
        (select count(*) from {{ ref('stg_products') }}) as rows_staged,
        (
            select count(*) from {{ ref('quarantine') }}
            where source_table = 'products')
            as rows_quarantined

),

collections_counts as (

    select
        'collections' as source_table,
        (select count(*) from {{ raw_table('collections') }} as raw_rows) as rows_read,
        (select count(*) from {{ ref('stg_collections') }}) as rows_staged,
        (
            select count(*) from {{ ref('quarantine') }}
            where source_table = 'collections')
            as rows_quarantined

),

orders_counts as (

    select
        'orders' as source_table,
        (select count(*) from {{ raw_table('orders') }} as raw_rows) as rows_read,
        (select count(*) from {{ ref('stg_orders') }}) as rows_staged,
        (
            select count(*) from {{ ref('quarantine') }}
            where source_table = 'orders')
            as rows_quarantined

),

order_lines_counts as (

    select
        'order_lines' as source_table,
        (select count(*) from {{ raw_table('order_lines') }} as raw_rows) as rows_read,
        (select count(*) from {{ ref('stg_order_lines') }}) as rows_staged,
        (
            select count(*) from {{ ref('quarantine') }}
            where source_table = 'order_lines')
            as rows_quarantined

),

reviews_counts as (

    select
        'reviews' as source_table,
        (select count(*) from {{ raw_table('reviews') }} as raw_rows) as rows_read,
        (select count(*) from {{ ref('stg_reviews') }}) as rows_staged,
        (
            select count(*) from {{ ref('quarantine') }}
            where source_table = 'reviews')
            as rows_quarantined

),

web_events_counts as (

    select
        'web_events' as source_table,
        (select count(*) from {{ raw_table('web_events') }} as raw_rows) as rows_read,
        (select count(*) from {{ ref('stg_web_events') }}) as rows_staged,
        (
            select count(*) from {{ ref('quarantine') }}
            where source_table = 'web_events')
            as rows_quarantined

),

email_events_counts as (

    select
        'email_events' as source_table,
        (select count(*) from {{ raw_table('email_events') }} as raw_rows) as rows_read,
        (select count(*) from {{ ref('stg_email_events') }}) as rows_staged,
        (
            select count(*) from {{ ref('quarantine') }}
            where source_table = 'email_events')
            as rows_quarantined

),

stores_counts as (

    select
        'stores' as source_table,
        (select count(*) from {{ raw_table('stores') }} as raw_rows) as rows_read,
        (select count(*) from {{ ref('stg_stores') }}) as rows_staged,
        (
            select count(*) from {{ ref('quarantine') }}
            where source_table = 'stores')
            as rows_quarantined

),

stock_counts as (

    select
        'stock' as source_table,
        (select count(*) from {{ raw_table('stock') }} as raw_rows) as rows_read,
        (select count(*) from {{ ref('stg_stock') }}) as rows_staged,
        (
            select count(*) from {{ ref('quarantine') }}
            where source_table = 'stock')
            as rows_quarantined

),

campaign_contacts_counts as (

    select
        'campaign_contacts' as source_table,
        (select count(*) from {{ raw_table('campaign_contacts') }} as raw_rows) as rows_read,
        (select count(*) from {{ ref('stg_campaign_contacts') }}) as rows_staged,
        (
            select count(*) from {{ ref('quarantine') }}
            where source_table = 'campaign_contacts')
            as rows_quarantined

),

reconciliation as (

    select * from customers_counts

    union all

    select * from products_counts

    union all

    select * from collections_counts

    union all

    select * from orders_counts

    union all

    select * from order_lines_counts

    union all

    select * from reviews_counts

    union all

    select * from web_events_counts

    union all

    select * from email_events_counts

    union all

    select * from stores_counts

    union all

    select * from stock_counts

    union all

    select * from campaign_contacts_counts

)

select
    *,
    rows_read - rows_staged - rows_quarantined as rows_unaccounted
from reconciliation
