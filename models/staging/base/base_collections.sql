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

validated as (

    select
        * exclude (rule_failure, unreadable_reason),
        {{ reason_with_duplicates(['collection_id'], 'duplicate collection_id') }} as reject_reason
    from rules_checked

),

recorded as (

    select
        * exclude (raw_values),
        {{ raw_record_when_rejected() }} as raw_record
    from validated

)

select * from recorded
