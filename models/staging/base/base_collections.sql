with

source as (

    select * from {{ raw_table('collections') }}

),

typed as (

    select
        {{ clean_text('collection_id') }} as collection_id,
        {{ clean_text('name') }} as collection_name,
        launch_date,
        unreadable_reason,
        raw_values,
        raw_row_number
    from source

),

rules_checked as (

    select
        *,
        coalesce(unreadable_reason, {{ first_failure([
            ("collection_id is null", "missing collection_id"),
            ("launch_date is null", "missing launch_date"),
            ("launch_date < " ~ min_valid_date(), "launch_date before staging_min_valid_date"),
        ]) }}) as rule_failure
    from typed

),

duplicates as (

    {{ duplicate_copies('rules_checked', ['collection_id']) }}

),

validated as (

    select
        rules_checked.* exclude (rule_failure, unreadable_reason),
        coalesce(
            rules_checked.rule_failure,
            case when duplicates.raw_row_number is not null then 'duplicate collection_id' end
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
