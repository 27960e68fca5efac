with

source as (

    select * from {{ source('raw', 'customers') }}

),

typed as (

    select
        {{ clean_text('customer_id') }} as customer_id,
        cast(first_seen_at as timestamp) as first_seen_at,
        {{ clean_text('country') }} as country,
        {{ clean_text('city') }} as city,
        upper({{ clean_text('gender') }}) as gender,
        cast(birth_year as integer) as birth_year,
        {{ clean_text('home_store_id') }} as home_store_id,
        {{ clean_text('advisor_id') }} as advisor_id,
        -- Unknown consent is no consent.
        coalesce(email_opt_in, false) as email_opt_in,
        coalesce(phone_opt_in, false) as phone_opt_in,
        {{ row_to_json('source') }} as raw_record
    from source

),

rules_checked as (

    select
        *,
        {{ first_failure([
            ("customer_id is null", "missing customer_id"),
            ("first_seen_at > " ~ run_started_timestamp(), "first_seen_at in the future"),
            ("birth_year is not null and (birth_year < 1900 or birth_year > extract(year from " ~ run_started_timestamp() ~ "))", "impossible birth_year"),
        ]) }} as rule_failure
    from typed

),

validated as (

    select
        * exclude (rule_failure),
        {{ reason_with_duplicates(['customer_id'], 'duplicate customer_id') }} as reject_reason
    from rules_checked

)

select * from validated
