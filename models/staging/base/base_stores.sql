with

source as (

    select * from {{ raw_table('stores') }}

),

typed as (

    select
        {{ clean_text('store_id') }} as store_id,
        {{ clean_text('name') }} as store_name,
        {{ clean_text('country') }} as country,
        {{ clean_text('city') }} as city,
        coalesce(advisor_count, 0) as advisor_count,
        coalesce(advisor_capacity, 0) as advisor_capacity,
        unreadable_reason,
        raw_values,
        raw_row_number
    from source

),

rules_checked as (

    select
        *,
        coalesce(unreadable_reason, {{ first_failure([
            ("store_id is null", "missing store_id"),
            ("advisor_count < 0 or advisor_capacity < 0", "negative advisor figures"),
        ]) }}) as rule_failure
    from typed

),

duplicates as (

    {{ duplicate_copies('rules_checked', ['store_id']) }}

),

validated as (

    select
        rules_checked.* exclude (rule_failure, unreadable_reason),
        coalesce(
            rules_checked.rule_failure,
            case when duplicates.raw_row_number is not null then 'duplicate store_id' end
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
