{#- RFM, satisfaction and delivery features of every known customer at each
    snapshot date: the as-of date and the month ends of the last
    var('segmentation_history_months') months before it. One code path serves
    customer_rfm (the as-of snapshot) and segment_history (the month ends).
    Orders, reviews and deliveries count only once they are known at the
    snapshot date (ordered, written or delivered on or before it).

    Built incrementally so that 1M customers x 24 months stays cheap: each
    event (order, delivery, review, first sighting) falls in the first
    snapshot on or after its date; running totals per customer over those
    snapshots give one row per customer and change, valid until the
    customer's next change; each such row is then repeated over the snapshots
    it is valid for. Joining every snapshot to every earlier order instead
    grows with snapshots x orders and took twice the time at 1M customers. -#}
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
            cast({{ dbt.dateadd('month', - (var('segmentation_history_months') | int), 'max(as_of.as_of_date)') }} as date)
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

numbered_snapshots as (

    select
        snapshot_dates.snapshot_date,
        snapshot_dates.snapshot_date = as_of.as_of_date as is_as_of,
        snapshot_dates.snapshot_date in (select month_ends.snapshot_date from month_ends) as is_month_end,
        cast(row_number() over (order by snapshot_dates.snapshot_date) - 1 as integer) as snapshot_number
    from snapshot_dates
    cross join as_of

),

-- Snapshots are consecutive month ends (the last may be the as-of date), so
-- the snapshot an event first counts in is its month's distance from the
-- first snapshot; events before the first snapshot count from it.
snapshot_calendar as (

    select
        min(snapshot_date) as first_snapshot_date,
        max(snapshot_date) as last_snapshot_date,
        count(*) as snapshot_count,
        list(
            struct_pack(snapshot_date := snapshot_date, is_as_of := is_as_of, is_month_end := is_month_end)
            order by snapshot_number
        ) as snapshots
    from numbered_snapshots

),

customer_events as (

    select
        customer_id,
        order_date as event_date,
        case when is_purchase then 1 else 0 end as purchases,
        case when is_purchase then net_amount else 0 end as purchase_amount,
        case when is_return then -net_amount else 0 end as returned_amount,
        case when is_purchase then order_date end as purchase_date,
        0 as delivered_orders,
        0 as late_deliveries,
        0 as reviews,
        0 as review_score_total,
        0 as low_reviews,
        -- orders that are not purchases yet were not cancelled: refunds, zero-priced items
        case when not is_purchase then 1 else 0 end as unpaid_orders
    from orders
    where is_purchase or is_return or not is_cancelled

    union all

    -- a delivery is known once both the order and its delivery happened
    select
        customer_id,
        greatest(order_date, cast(delivered_at as date)) as event_date,
        0 as purchases,
        0 as purchase_amount,
        0 as returned_amount,
        null as purchase_date,
        1 as delivered_orders,
        case when is_late_delivery then 1 else 0 end as late_deliveries,
        0 as reviews,
        0 as review_score_total,
        0 as low_reviews,
        0 as unpaid_orders
    from orders
    where (is_purchase or is_return) and is_late_delivery is not null

    union all

    select
        orders.customer_id,
        coalesce(cast(reviews.created_at as date), orders.order_date) as event_date,
        0 as purchases,
        0 as purchase_amount,
        0 as returned_amount,
        null as purchase_date,
        0 as delivered_orders,
        0 as late_deliveries,
        1 as reviews,
        reviews.review_score as review_score_total,
        case when reviews.review_score <= 2 then 1 else 0 end as low_reviews,
        0 as unpaid_orders
    from reviews
    inner join orders
        on reviews.order_id = orders.order_id
    where reviews.review_score is not null

),

customer_sightings as (

    select
        customers.customer_id,
        coalesce(cast(customers.first_seen_at as date), snapshot_calendar.first_snapshot_date) as seen_date
    from customers
    cross join snapshot_calendar

),

customer_first_snapshot as (

    select
        customer_sightings.customer_id,
        customer_sightings.seen_date,
        greatest(
            0, {{ dbt.datediff('snapshot_calendar.first_snapshot_date', 'customer_sightings.seen_date', 'month') }}
        ) as first_snapshot_number
    from customer_sightings
    cross join snapshot_calendar

),

snapshot_events as (

    select
        customer_events.*,
        greatest(
            0, {{ dbt.datediff('snapshot_calendar.first_snapshot_date', 'customer_events.event_date', 'month') }}
        ) as snapshot_number
    from customer_events
    cross join snapshot_calendar
    where customer_events.event_date <= snapshot_calendar.last_snapshot_date

    union all

    -- a customer without events still needs rows from the day they are known
    select
        customer_first_snapshot.customer_id,
        customer_first_snapshot.seen_date as event_date,
        0 as purchases,
        0 as purchase_amount,
        0 as returned_amount,
        null as purchase_date,
        0 as delivered_orders,
        0 as late_deliveries,
        0 as reviews,
        0 as review_score_total,
        0 as low_reviews,
        0 as unpaid_orders,
        customer_first_snapshot.first_snapshot_number as snapshot_number
    from customer_first_snapshot
    cross join snapshot_calendar
    where customer_first_snapshot.seen_date <= snapshot_calendar.last_snapshot_date

),

snapshot_changes as (

    select
        customer_id,
        snapshot_number,
        sum(purchases) as purchases,
        {{ exact_sum('purchase_amount') }} as purchase_amount,
        {{ exact_sum('returned_amount') }} as returned_amount,
        min(purchase_date) as first_purchase_date,
        max(purchase_date) as last_purchase_date,
        sum(delivered_orders) as delivered_orders,
        sum(late_deliveries) as late_deliveries,
        sum(reviews) as reviews,
        sum(review_score_total) as review_score_total,
        sum(low_reviews) as low_reviews,
        sum(unpaid_orders) as unpaid_orders
    from snapshot_events
    group by customer_id, snapshot_number

),

running_totals as (

    select
        snapshot_changes.customer_id,
        greatest(snapshot_changes.snapshot_number, customer_first_snapshot.first_snapshot_number) as valid_from,
        coalesce(
            lead(snapshot_changes.snapshot_number) over customer_timeline, snapshot_calendar.snapshot_count
        ) as valid_until,
        sum(snapshot_changes.purchases) over customer_timeline as frequency,
        sum(snapshot_changes.purchase_amount) over customer_timeline as purchase_amount,
        sum(snapshot_changes.returned_amount) over customer_timeline as returned_amount,
        min(snapshot_changes.first_purchase_date) over customer_timeline as first_purchase_date,
        max(snapshot_changes.last_purchase_date) over customer_timeline as last_purchase_date,
        sum(snapshot_changes.delivered_orders) over customer_timeline as delivered_order_count,
        sum(snapshot_changes.late_deliveries) over customer_timeline as late_delivery_count,
        sum(snapshot_changes.reviews) over customer_timeline as review_count,
        sum(snapshot_changes.review_score_total) over customer_timeline as review_score_total,
        sum(snapshot_changes.low_reviews) over customer_timeline as low_review_count,
        sum(snapshot_changes.unpaid_orders) over customer_timeline as unpaid_order_count,
        snapshot_calendar.snapshots
    from snapshot_changes
    inner join customer_first_snapshot
        on snapshot_changes.customer_id = customer_first_snapshot.customer_id
    cross join snapshot_calendar
    window customer_timeline as (partition by snapshot_changes.customer_id order by snapshot_changes.snapshot_number)

),

-- list_slice is 1-based and inclusive: snapshots valid_from .. valid_until - 1;
-- the recursive unnest spreads each snapshot's fields into columns
customer_snapshots as (

    select
        running_totals.* exclude (snapshots),  -- noqa: RF03
        unnest(  -- noqa: AL03
            list_slice(running_totals.snapshots, running_totals.valid_from + 1, running_totals.valid_until),
            recursive := true
        )
    from running_totals
    where running_totals.valid_from < running_totals.valid_until

),

features as (

    select
        customer_snapshots.snapshot_date,
        customer_snapshots.customer_id,
        customer_snapshots.is_as_of,
        customer_snapshots.is_month_end,
        customer_snapshots.frequency > 0 as is_buyer,
        customer_snapshots.frequency = 0 and customer_snapshots.unpaid_order_count > 0 as has_unpaid_orders_only,
        customer_snapshots.first_purchase_date,
        customer_snapshots.last_purchase_date,
        {{ dbt.datediff('customer_snapshots.last_purchase_date', 'customer_snapshots.snapshot_date', 'day') }}
            as recency_days,
        cast(customer_snapshots.frequency as bigint) as frequency,
        customer_snapshots.purchase_amount,
        customer_snapshots.returned_amount,
        customer_snapshots.purchase_amount - customer_snapshots.returned_amount as monetary,
        case
            when customer_snapshots.frequency > 0
                then customer_snapshots.purchase_amount / customer_snapshots.frequency
        end as avg_basket,
        {{ dbt.datediff('customer_snapshots.first_purchase_date', 'customer_snapshots.snapshot_date', 'day') }}
            as tenure_days,
        case
            when customer_snapshots.frequency >= 2
                then {{ dbt.datediff(
                    'customer_snapshots.first_purchase_date', 'customer_snapshots.last_purchase_date', 'day'
                ) }} / (customer_snapshots.frequency - 1.0)
        end as avg_days_between_orders,
        cast(customer_snapshots.review_count as bigint) as review_count,
        customer_snapshots.review_score_total / nullif(customer_snapshots.review_count, 0) as avg_review_score,
        customer_snapshots.low_review_count / nullif(customer_snapshots.review_count, 0) as low_review_share,
        cast(customer_snapshots.delivered_order_count as bigint) as delivered_order_count,
        cast(customer_snapshots.late_delivery_count as bigint) as late_delivery_count,
        customer_snapshots.late_delivery_count / nullif(cast(customer_snapshots.delivered_order_count as double), 0)
            as late_delivery_share
    from customer_snapshots

)

select * from features
