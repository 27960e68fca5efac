with

source as (

    select * from {{ raw_table('campaign_contacts') }}

),

customers as (

    select customer_id from {{ ref('base_customers') }}
    where reject_reason is null

),

typed as (

    select
        {{ clean_text('source.campaign_id') }} as campaign_id,
        {{ clean_text('source.customer_id') }} as customer_id,
        {{ clean_text('source.collection_id') }} as collection_id,
        source.contacted_at,
        lower({{ clean_text('source.channel') }}) as contact_channel,
        coalesce(source.is_control, false) as is_control,
        coalesce(source.converted, false) as converted,
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
            ("campaign_id is null", "missing campaign_id"),
            ("customer_id is null or not is_known_customer", "unknown or missing customer_id"),
            ("contacted_at > " ~ run_started_timestamp(), "contacted_at in the future"),
            ("contacted_at < " ~ min_valid_date(), "contacted_at before staging_min_valid_date"),
            ("not is_control and contacted_at is null", "contacted client without contact date"),
        ]) }}) as rule_failure
    from typed

),

duplicates as (

    {{ duplicate_copies('rules_checked', ['campaign_id', 'customer_id']) }}

),

validated as (

    select
        rules_checked.* exclude (rule_failure, is_known_customer, unreadable_reason),
        coalesce(
            rules_checked.rule_failure,
            case when duplicates.raw_row_number is not null then 'duplicate campaign contact' end
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
