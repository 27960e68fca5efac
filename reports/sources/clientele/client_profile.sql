-- One row per client for the client page and the market/segment filters: who they are
-- (dim_customers), their segment (customer_rfm, customer_clusters), predictions
-- (customer_predictions, second_purchase_timing) and launch band (launch_audience).
-- Every column the report reads from those tables is named here, once: a renamed column
-- is changed in this file only. No names or e-mails: dim_customers' export has none.
with customers as (
    select * from read_parquet('../exports/current/dim_customers.parquet')
),

rfm as (
    select * from read_parquet('../exports/current/customer_rfm.parquet')
),

clusters as (
    select * from read_parquet('../exports/current/customer_clusters.parquet')
),

predictions as (
    select * from read_parquet('../exports/current/customer_predictions.parquet')
),

second_purchase as (
    select * from read_parquet('../exports/current/second_purchase_timing.parquet')
),

launch as (
    select * from read_parquet('../exports/current/launch_audience.parquet')
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
