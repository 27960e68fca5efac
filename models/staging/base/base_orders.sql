with

source as (

    select * from {{ source('raw', 'orders') }}

),

customers as (

    select customer_id from {{ ref('base_customers') }}
    where reject_reason is null

),

typed as (

    select
        {{ clean_text('source.order_id') }} as order_id,
        {{ clean_text('source.customer_id') }} as customer_id,
        cast(source.ordered_at as timestamp) as ordered_at,
        coalesce(lower({{ clean_text('source.channel') }}), 'unknown') as channel,
        {{ clean_text('source.store_id') }} as store_id,
        {{ clean_text('source.country') }} as country,
        coalesce(lower({{ clean_text('source.status') }}), 'unknown') as order_status,
        cast(source.delivered_at as timestamp) as delivered_at,
        cast(source.promised_delivery_at as timestamp) as promised_delivery_at,
        customers.customer_id is not null as is_known_customer,
        {{ row_to_json('source') }} as raw_record
    from source
    left join customers
        on {{ clean_text('source.customer_id') }} = customers.customer_id

),

rules_checked as (

    select
        *,
        {{ first_failure([
            ("order_id is null", "missing order_id"),
            ("customer_id is null", "missing customer_id"),
            ("not is_known_customer", "unknown customer_id"),
            ("ordered_at is null", "missing ordered_at"),
            ("ordered_at > " ~ run_started_timestamp(), "ordered_at in the future"),
        ]) }} as rule_failure
    from typed

),

validated as (

    select
        * exclude (rule_failure, is_known_customer),
        {{ reason_with_duplicates(['order_id'], 'duplicate order_id') }} as reject_reason
    from rules_checked

)

select * from validated
