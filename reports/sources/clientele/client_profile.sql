-- One row per client for the client page and the market/segment filters: who they are
-- (dim_customers), their segment (customer_rfm, customer_clusters), predictions
-- (customer_predictions, second_purchase_timing) and launch band (launch_audience).
-- Every column the report reads from those tables is named here, once: a renamed column
-- is changed in this file only. No names or e-mails: dim_customers' export has none.
-- A table not built yet is exported as an empty file with only its declared columns
-- (clientele/export.py): each import CTE unions, by name, an empty row set typed with the
-- columns read here, so a missing column is NULL instead of failing `evidence sources`.
with customers as (
    select * from read_parquet('../exports/current/dim_customers.parquet')
    union all by name
    select
        cast(null as varchar) as customer_id, cast(null as varchar) as country,
        cast(null as varchar) as home_store_id, cast(null as varchar) as advisor_id,
        cast(null as boolean) as email_opt_in, cast(null as boolean) as phone_opt_in,
        cast(null as timestamp) as first_order_at, cast(null as timestamp) as last_order_at,
        cast(null as bigint) as purchase_count, cast(null as double) as net_spend
    where false
),

rfm as (
    select * from read_parquet('../exports/current/customer_rfm.parquet')
    union all by name
    select
        cast(null as varchar) as customer_id, cast(null as varchar) as rfm_group,
        cast(null as bigint) as recency_days
    where false
),

clusters as (
    select * from read_parquet('../exports/current/customer_clusters.parquet')
    union all by name
    select
        cast(null as varchar) as customer_id, cast(null as varchar) as cluster_label,
        cast(null as varchar) as suggested_action
    where false
),

predictions as (
    select * from read_parquet('../exports/current/customer_predictions.parquet')
    union all by name
    select
        cast(null as varchar) as customer_id, cast(null as double) as p_alive,
        cast(null as double) as p_order_90d, cast(null as double) as expected_orders_365d,
        cast(null as date) as expected_next_order_date, cast(null as double) as churn_probability,
        cast(null as varchar) as churn_band, cast(null as double) as predicted_value_365d
    where false
),

second_purchase as (
    select * from read_parquet('../exports/current/second_purchase_timing.parquet')
    union all by name
    select
        cast(null as varchar) as customer_id, cast(null as double) as p_second_next_90d,
        cast(null as double) as p_second_within_365d, cast(null as varchar) as best_window,
        cast(null as date) as best_window_start_date, cast(null as date) as best_window_end_date
    where false
),

launch as (
    select * from read_parquet('../exports/current/launch_audience.parquet')
    union all by name
    select
        cast(null as varchar) as customer_id, cast(null as varchar) as audience_band,
        cast(null as double) as priority_score, cast(null as bigint) as priority_rank,
        cast(null as boolean) as is_control, cast(null as varchar) as top_reasons
    where false
),

profile as (
    select
        customers.customer_id,
        coalesce(customers.country, 'unknown') as country,
        customers.home_store_id,
        customers.advisor_id,
        coalesce(customers.email_opt_in, false) as email_opt_in,
        coalesce(customers.phone_opt_in, false) as phone_opt_in,
        cast(customers.first_order_at as date) as first_order_date,
        cast(customers.last_order_at as date) as last_order_date,
        coalesce(customers.purchase_count, 0) as purchase_count,
        customers.net_spend,
        coalesce(rfm.rfm_group, 'no segment') as rfm_group,
        rfm.recency_days,
        clusters.cluster_label,
        clusters.suggested_action as cluster_action,
        predictions.p_alive,
        predictions.p_order_90d,
        predictions.expected_orders_365d,
        predictions.expected_next_order_date,
        predictions.churn_probability,
        predictions.churn_band,
        predictions.predicted_value_365d,
        second_purchase.p_second_next_90d,
        second_purchase.p_second_within_365d,
        second_purchase.best_window,
        second_purchase.best_window_start_date,
        second_purchase.best_window_end_date,
        launch.audience_band,
        launch.priority_score,
        launch.priority_rank,
        launch.is_control as launch_control_group,
        launch.top_reasons as launch_reasons
    from customers
    left join rfm on customers.customer_id = rfm.customer_id
    left join clusters on customers.customer_id = clusters.customer_id
    left join predictions on customers.customer_id = predictions.customer_id
    left join second_purchase on customers.customer_id = second_purchase.customer_id
    left join launch on customers.customer_id = launch.customer_id
)

select * from profile
