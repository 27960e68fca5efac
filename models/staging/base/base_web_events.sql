with

source as (

    select * from {{ source('raw', 'web_events') }}

),

customers as (

    select customer_id from {{ ref('base_customers') }}
    where reject_reason is null

),

products as (

    select product_id from {{ ref('base_products') }}
    where reject_reason is null

),

typed as (

    select
        {{ clean_text('source.event_id') }} as event_id,
        {{ clean_text('source.customer_id') }} as customer_id,
        {{ clean_text('source.product_id') }} as product_id,
        lower({{ clean_text('source.event_type') }}) as event_type,
        cast(source.occurred_at as timestamp) as occurred_at,
        customers.customer_id is not null as is_known_customer,
        products.product_id is not null as is_known_product,
        {{ row_to_json('source') }} as raw_record
    from source
    left join customers
        on {{ clean_text('source.customer_id') }} = customers.customer_id
    left join products
        on {{ clean_text('source.product_id') }} = products.product_id

),

rules_checked as (

    select
        *,
        {{ first_failure([
            ("event_id is null", "missing event_id"),
            ("customer_id is null or not is_known_customer", "unknown or missing customer_id"),
            ("product_id is null or not is_known_product", "unknown or missing product_id"),
            ("event_type is null or event_type not in ('view', 'add_to_cart')", "unknown event_type"),
            ("occurred_at is null", "missing occurred_at"),
            ("occurred_at > " ~ run_started_timestamp(), "occurred_at in the future"),
        ]) }} as rule_failure
    from typed

),

validated as (

    select
        * exclude (rule_failure, is_known_customer, is_known_product),
        {{ reason_with_duplicates(['event_id'], 'duplicate event_id') }} as reject_reason
    from rules_checked

)

select * from validated
