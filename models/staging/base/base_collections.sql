with

source as (

    select * from {{ source('raw', 'collections') }}

),

typed as (

    select
        {{ clean_text('collection_id') }} as collection_id,
        {{ clean_text('name') }} as collection_name,
        cast(launch_date as date) as launch_date,
        {{ row_to_json('source') }} as raw_record
    from source

),

rules_checked as (

    select
        *,
        {{ first_failure([
            ("collection_id is null", "missing collection_id"),
            ("launch_date is null", "missing launch_date"),
        ]) }} as rule_failure
    from typed

),

validated as (

    select
        * exclude (rule_failure),
        {{ reason_with_duplicates(['collection_id'], 'duplicate collection_id') }} as reject_reason
    from rules_checked

)

select * from validated
