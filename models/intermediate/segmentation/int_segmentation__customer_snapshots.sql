{#- RFM, satisfaction and delivery features of every known customer at each
    snapshot date: the as-of date and the month ends of the last
    var('segmentation_history_months') months before it. One code path serves
    customer_rfm (the as-of snapshot) and segment_history (the month ends).
    Orders, reviews and deliveries count only once they are known at the
    snapshot date (ordered, written or delivered on or before it). -#}
with

as_of as (

    select * from {{ ref('int_as_of') }}

),

customers as (

    select * from {{ ref('stg_customers') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

reviews as (

    select * from {{ ref('stg_reviews') }}

),

history_start as (

    select
        greatest(
            min(orders.order_date),
            cast({{ dbt.dateadd('month', - (var('segmentation_history_months', 24) | int), 'max(as_of.as_of_date)') }} as date)
        ) as start_date
    from orders
    cross join as_of
    where orders.is_purchase

),

month_ends as (

    {{ segmentation_month_ends(
        '(select start_date from history_start)',
        '(select as_of_date from as_of)'
    ) }}

),

snapshot_dates as (

    select snapshot_date from month_ends
    union
    select as_of_date as snapshot_date from as_of

),

snapshot_flags as (

    select
        snapshot_dates.snapshot_date,
        snapshot_dates.snapshot_date = as_of.as_of_date as is_as_of,
        snapshot_dates.snapshot_date in (select month_ends.snapshot_date from month_ends) as is_month_end
    from snapshot_dates
    cross join as_of

),

customer_orders as (

    select
        customer_id,
        order_date,
        is_purchase,
        is_return,
        net_amount,
        is_late_delivery,
        cast(delivered_at as date) as delivered_date
    from orders
    where is_purchase or is_return

),

order_activity as (

    select
        snapshot_flags.snapshot_date,
        customer_orders.customer_id,
        min(case when customer_orders.is_purchase then customer_orders.order_date end) as first_purchase_date,
        max(case when customer_orders.is_purchase then customer_orders.order_date end) as last_purchase_date,
        sum(case when customer_orders.is_purchase then 1 else 0 end) as frequency,
        sum(case when customer_orders.is_purchase then customer_orders.net_amount else 0 end) as purchase_amount,
        -sum(case when customer_orders.is_return then customer_orders.net_amount else 0 end) as returned_amount,
        sum(
            case
                when customer_orders.is_late_delivery is not null
                    and customer_orders.delivered_date <= snapshot_flags.snapshot_date then 1
                else 0
            end
        ) as delivered_order_count,
        sum(
            case
                when customer_orders.is_late_delivery
                    and customer_orders.delivered_date <= snapshot_flags.snapshot_date then 1
                else 0
            end
        ) as late_delivery_count
    from snapshot_flags
    inner join customer_orders
        on snapshot_flags.snapshot_date >= customer_orders.order_date
    group by snapshot_flags.snapshot_date, customer_orders.customer_id

),

customer_reviews as (

    select
        orders.customer_id,
        reviews.review_score,
        coalesce(cast(reviews.created_at as date), orders.order_date) as review_date
    from reviews
    inner join orders
        on reviews.order_id = orders.order_id
    where reviews.review_score is not null

),

review_activity as (

    select
        snapshot_flags.snapshot_date,
        customer_reviews.customer_id,
        count(*) as review_count,
        avg(customer_reviews.review_score) as avg_review_score,
        avg(case when customer_reviews.review_score <= 2 then 1.0 else 0.0 end) as low_review_share
    from snapshot_flags
    inner join customer_reviews
        on snapshot_flags.snapshot_date >= customer_reviews.review_date
    group by snapshot_flags.snapshot_date, customer_reviews.customer_id

),

known_customers as (

    select
        snapshot_flags.snapshot_date,
        snapshot_flags.is_as_of,
        snapshot_flags.is_month_end,
        customers.customer_id
    from snapshot_flags
    inner join customers
        on customers.first_seen_at is null
            or cast(customers.first_seen_at as date) <= snapshot_flags.snapshot_date

),

features as (

    select
        known_customers.snapshot_date,
        known_customers.customer_id,
        known_customers.is_as_of,
        known_customers.is_month_end,
        coalesce(order_activity.frequency, 0) > 0 as is_buyer,
        order_activity.first_purchase_date,
        order_activity.last_purchase_date,
        {{ dbt.datediff('order_activity.last_purchase_date', 'known_customers.snapshot_date', 'day') }}
            as recency_days,
        cast(coalesce(order_activity.frequency, 0) as bigint) as frequency,
        coalesce(order_activity.purchase_amount, 0) as purchase_amount,
        coalesce(order_activity.returned_amount, 0) as returned_amount,
        coalesce(order_activity.purchase_amount, 0) - coalesce(order_activity.returned_amount, 0) as monetary,
        case
            when order_activity.frequency > 0 then order_activity.purchase_amount / order_activity.frequency
        end as avg_basket,
        {{ dbt.datediff('order_activity.first_purchase_date', 'known_customers.snapshot_date', 'day') }}
            as tenure_days,
        case
            when order_activity.frequency >= 2
                then {{ dbt.datediff('order_activity.first_purchase_date', 'order_activity.last_purchase_date', 'day') }}
                    / (order_activity.frequency - 1.0)
        end as avg_days_between_orders,
        cast(coalesce(review_activity.review_count, 0) as bigint) as review_count,
        review_activity.avg_review_score,
        review_activity.low_review_share,
        cast(coalesce(order_activity.delivered_order_count, 0) as bigint) as delivered_order_count,
        cast(coalesce(order_activity.late_delivery_count, 0) as bigint) as late_delivery_count,
        case
            when order_activity.delivered_order_count > 0
                then order_activity.late_delivery_count / cast(order_activity.delivered_order_count as double)
        end as late_delivery_share
    from known_customers
    left join order_activity
        on known_customers.snapshot_date = order_activity.snapshot_date
            and known_customers.customer_id = order_activity.customer_id
    left join review_activity
        on known_customers.snapshot_date = review_activity.snapshot_date
            and known_customers.customer_id = review_activity.customer_id

)

select * from features
