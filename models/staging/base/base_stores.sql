with

source as (

    select * from {{ source('raw', 'stores') }}

),

typed as (

    select
        {{ clean_text('store_id') }} as store_id,
        {{ clean_text('name') }} as store_name,
        {{ clean_text('country') }} as country,
        {{ clean_text('city') }} as city,
        coalesce(cast(advisor_count as integer), 0) as advisor_count,
        coalesce(cast(advisor_capacity as integer), 0) as advisor_capacity,
        {{ row_to_json('source') }} as raw_record
    from source

),

rules_checked as (

    select
        *,
        {{ first_failure([
            ("store_id is null", "missing store_id"),
            ("advisor_count < 0 or advisor_capacity < 0", "negative advisor figures"),
        ]) }} as rule_failure
    from typed

),

validated as (

    select
        * exclude (rule_failure),
        {{ reason_with_duplicates(['store_id'], 'duplicate store_id') }} as reject_reason
    from rules_checked

)

select * from validated
