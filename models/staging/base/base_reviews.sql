with

source as (

    select * from {{ source('raw', 'reviews') }}

),

orders as (

    select order_id from {{ ref('base_orders') }}
    where reject_reason is null

),

typed as (

    select
        {{ clean_text('source.review_id') }} as review_id,
        {{ clean_text('source.order_id') }} as order_id,
        cast(source.score as integer) as review_score,
        cast(source.created_at as timestamp) as created_at,
        orders.order_id is not null as is_staged_order,
        {{ row_to_json('source') }} as raw_record
    from source
    left join orders
        on {{ clean_text('source.order_id') }} = orders.order_id

),

rules_checked as (

    select
        *,
        {{ first_failure([
            ("review_id is null", "missing review_id"),
            ("order_id is null", "missing order_id"),
            ("not is_staged_order", "order missing or quarantined"),
            ("review_score is null or review_score not between 1 and 5", "score outside 1-5"),
            ("created_at > " ~ run_started_timestamp(), "created_at in the future"),
        ]) }} as rule_failure
    from typed

),

validated as (

    select
        * exclude (rule_failure, is_staged_order),
        {{ reason_with_duplicates(['review_id', 'order_id'], 'duplicate review') }}
            as reject_reason
    from rules_checked

)

select * from validated
