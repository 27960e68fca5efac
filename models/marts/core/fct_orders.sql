with

orders as (

    select * from {{ ref('stg_orders') }}

),

order_totals as (

    select * from {{ ref('int_order_totals') }}

),

reviews as (

    select * from {{ ref('stg_reviews') }}

),

order_reviews as (

    select
        order_id,
        avg(review_score) as review_score
    from reviews
    group by order_id

),

orders_as_of as (

    select *
    from orders
    where cast(ordered_at as date) <= {{ as_of_date() }}

),

classified as (

    select
        orders_as_of.order_id,
        orders_as_of.customer_id,
        orders_as_of.ordered_at,
        cast(orders_as_of.ordered_at as date) as order_date,
        orders_as_of.channel,
        orders_as_of.store_id,
        orders_as_of.country,
        orders_as_of.order_status,
        coalesce(order_totals.line_count, 0) as line_count,
        coalesce(order_totals.net_units, 0) as net_units,
        coalesce(order_totals.net_amount, 0) as net_amount,
        coalesce(order_totals.merchandise_amount, 0) as merchandise_amount,
        coalesce(order_totals.discount_amount, 0) as discount_amount,
        order_totals.gross_margin,
        orders_as_of.delivered_at,
        orders_as_of.promised_delivery_at,
        orders_as_of.order_status in {{ sql_string_list(var('core_cancelled_statuses')) }} as is_cancelled,
        orders_as_of.order_status = 'returned' or coalesce(order_totals.net_units, 0) < 0
            as is_return,
        order_reviews.review_score
    from orders_as_of
    left join order_totals
        on orders_as_of.order_id = order_totals.order_id
    left join order_reviews
        on orders_as_of.order_id = order_reviews.order_id

),

with_purchase_flag as (

    select
        *,
        -- A purchase is what RFM counts: not cancelled, not a return, something paid for.
        not is_cancelled and not is_return and merchandise_amount > 0 as is_purchase,
        case
            when delivered_at is not null and promised_delivery_at is not null
                then delivered_at > promised_delivery_at
        end as is_late_delivery
    from classified

),

sequenced as (

    select
        *,
        case
            when is_purchase then row_number() over (
                    partition by customer_id, is_purchase order by ordered_at, order_id
                )
        end as purchase_number,
        case
            when is_purchase then {{ dbt.datediff(
                "lag(ordered_at) over (partition by customer_id, is_purchase order by ordered_at, order_id)",
                "ordered_at", "day") }}
        end as days_since_previous_purchase
    from with_purchase_flag

)

select * from sequenced
