with

source as (

    select * from {{ raw_table('email_events') }}

),

customers as (

    select customer_id from {{ ref('base_customers') }}
    where reject_reason is null

),

typed as (

    select
        {{ clean_text('source.event_id') }} as event_id,
        {{ clean_text('source.customer_id') }} as customer_id,
        {{ clean_text('source.campaign_id') }} as campaign_id,
        lower({{ clean_text('source.event_type') }}) as event_type,
        source.occurred_at,
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
            ("event_id is null", "missing event_id"),
            ("customer_id is null or not is_known_customer", "unknown or missing customer_id"),
            ("event_type is null or event_type not in ('sent', 'open', 'click')", "unknown event_type"),
            ("occurred_at is null", "missing occurred_at"),
            ("occurred_at > " ~ run_started_timestamp(), "occurred_at in the future"),
            ("occurred_at < " ~ min_valid_date(), "occurred_at before staging_min_valid_date"),
        ]) }}) as rule_failure
    from typed

),

duplicates as (

    {{ duplicate_copies('rules_checked', ['event_id']) }}

),

validated as (

    select
        rules_checked.* exclude (rule_failure, is_known_customer, unreadable_reason),
        coalesce(
            rules_checked.rule_failure,
            case when duplicates.raw_row_number is not null then 'duplicate event_id' end
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
