with

source as (

    select * from {{ raw_table('orders') }}

),

customers as (

    select customer_id from {{ ref('base_customers') }}
    where reject_reason is null

),

typed as (

    select
        {{ clean_text('source.order_id') }} as order_id,
        {{ clean_text('source.customer_id') }} as customer_id,
        source.ordered_at,
        coalesce(lower({{ clean_text('source.channel') }}), 'unknown') as channel,
        {{ clean_text('source.store_id') }} as store_id,
        {{ clean_text('source.country') }} as country,
        coalesce(lower({{ clean_text('source.status') }}), 'unknown') as order_status,
        source.delivered_at,
        source.promised_delivery_at,
        customers.customer_id is not null as is_known_customer,
        source.unreadable_reason,
        source.raw_values,
        source.raw_row_number
    from source
    left join customers
        on {{ clean_text('source.customer_id') }} = customers.customer_id

),

rules_checked as (

    select
        *,
        coalesce(unreadable_reason, {{ first_failure([
            ("order_id is null", "missing order_id"),
            ("customer_id is null", "missing customer_id"),
            ("not is_known_customer", "unknown customer_id"),
            ("ordered_at is null", "missing ordered_at"),
            ("ordered_at > " ~ run_started_timestamp(), "ordered_at in the future"),
            ("ordered_at < " ~ min_valid_date(), "ordered_at before staging_min_valid_date"),
            ("cast(delivered_at as date) < cast(ordered_at as date)", "delivered before ordered"),
            ("cast(promised_delivery_at as date) < cast(ordered_at as date)", "delivery promised before ordered"),
        ]) }}) as rule_failure
    from typed

),

duplicates as (

    {{ duplicate_copies('rules_checked', ['order_id']) }}

),

validated as (

    select
        rules_checked.* exclude (rule_failure, is_known_customer, unreadable_reason),
        coalesce(
            rules_checked.rule_failure,
            case when duplicates.raw_row_number is not null then 'duplicate order_id' end
        ) as reject_reason
    from rules_checked
    left join duplicates
        on rules_checked.raw_row_number = duplicates.raw_row_number

),

recorded as (

    select
        * exclude (raw_values),
        {{ raw_record_when_rejected() }} as raw_record
    from validated

)

select * from recorded
