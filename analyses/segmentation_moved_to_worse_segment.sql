-- Who moved from a good RFM group to a worse one since the end of last month:
-- customers in a good group (Champions, Loyal, Active, New, Promising) at the last
-- month end before the as-of month whose group rank got worse by the as-of date,
-- most valuable first. Use it for a win-back list (opted-in contacts only).
with

history as (

    select * from {{ ref('segment_history') }}

),

current_segments as (

    select * from {{ ref('customer_segments') }}

),

rfm as (

    select * from {{ ref('customer_rfm') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

last_month as (

    select max(snapshot_date) as snapshot_date
    from history
    where snapshot_date < cast({{ dbt.date_trunc('month', as_of_date()) }} as date)

),

previous_segments as (

    select history.*
    from history
    inner join last_month
        on history.snapshot_date = last_month.snapshot_date

),

moves as (

    select
        current_segments.customer_id,
        previous_segments.snapshot_date as previous_date,
        previous_segments.rfm_group as previous_group,
        current_segments.as_of_date,
        current_segments.rfm_group as current_group,
        current_segments.group_rank - previous_segments.group_rank as ranks_lost,
        rfm.monetary as net_spend,
        rfm.frequency,
        rfm.recency_days,
        rfm.avg_review_score,
        current_segments.cluster_label,
        current_segments.rfm_group_action as suggested_action,
        customers.email_opt_in
    from current_segments
    inner join previous_segments
        on current_segments.customer_id = previous_segments.customer_id
    inner join rfm
        on current_segments.customer_id = rfm.customer_id
    inner join customers
        on current_segments.customer_id = customers.customer_id
    where previous_segments.is_good_group
        and current_segments.group_rank > previous_segments.group_rank

)

select * from moves
order by net_spend desc
