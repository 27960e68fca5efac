with

source as (

    select * from {{ raw_table('customers') }}

),

typed as (

    select
        {{ clean_text('customer_id') }} as customer_id,
        first_seen_at,
        {{ clean_text('country') }} as country,
        {{ clean_text('city') }} as city,
        upper({{ clean_text('gender') }}) as gender,
        birth_year,
        {{ clean_text('home_store_id') }} as home_store_id,
        {{ clean_text('advisor_id') }} as advisor_id,
        -- Unknown consent is no consent.
        coalesce(email_opt_in, false) as email_opt_in,
        coalesce(phone_opt_in, false) as phone_opt_in,
        unreadable_reason,
        raw_values,
        raw_row_number
    from source

),

rules_checked as (

    select
        *,
        coalesce(unreadable_reason, {{ first_failure([
            ("customer_id is null", "missing customer_id"),
            ("first_seen_at > " ~ run_started_timestamp(), "first_seen_at in the future"),
            ("first_seen_at < " ~ min_valid_date(), "first_seen_at before staging_min_valid_date"),
            ("birth_year is not null and (birth_year < 1900 or birth_year > extract(year from " ~ run_started_timestamp() ~ "))", "impossible birth_year"),
        ]) }}) as rule_failure
    from typed

),

duplicates as (

    {{ duplicate_copies('rules_checked', ['customer_id']) }}

),

validated as (

    select
        rules_checked.* exclude (rule_failure, unreadable_reason),
        coalesce(
            rules_checked.rule_failure,
            case when duplicates.raw_row_number is not null then 'duplicate customer_id' end
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
