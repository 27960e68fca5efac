with

source as (

    select * from {{ raw_table('reviews') }}

),

orders as (

    select order_id from {{ ref('base_orders') }}
    where reject_reason is null

),

typed as (

    select
        {{ clean_text('source.review_id') }} as review_id,
        {{ clean_text('source.order_id') }} as order_id,
        source.score as review_score,
        source.created_at,
        orders.order_id is not null as is_staged_order,
        source.unreadable_reason,
        source.raw_values,
        source.raw_row_number
    from source
    left join orders
        on {{ clean_text('source.order_id') }} = orders.order_id

),

rules_checked as (

    select
        *,
        coalesce(unreadable_reason, {{ first_failure([
            ("review_id is null", "missing review_id"),
            ("order_id is null", "missing order_id"),
            ("not is_staged_order", "order missing or quarantined"),
            ("review_score is null or review_score not between 1 and 5", "score outside 1-5"),
            ("created_at > " ~ run_started_timestamp(), "created_at in the future"),
            ("created_at < " ~ min_valid_date(), "created_at before staging_min_valid_date"),
        ]) }}) as rule_failure
    from typed

),

duplicates as (

    {{ duplicate_copies('rules_checked', ['review_id', 'order_id']) }}

),

validated as (

    select
        rules_checked.* exclude (rule_failure, is_staged_order, unreadable_reason),
        coalesce(
            rules_checked.rule_failure,
            case when duplicates.raw_row_number is not null then 'duplicate review' end
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
