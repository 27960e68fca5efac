{#- RFM group and cluster of every known customer at each month end, each
    recomputed as of that date from what was known then (time travel on the
    order, review and delivery dates). Cluster ids: refitted at the month end,
    and given by the model frozen at the reference date (from it on);
    0 = prospect. -#}
with

scores as (

    select * from {{ ref('int_segmentation__customer_scores') }}

),

cluster_history as (

    select * from {{ ref('int_segmentation__cluster_history') }}

),

month_ends as (

    select * from scores
    where is_month_end

),

history as (

    select
        month_ends.snapshot_date,
        month_ends.customer_id,
        month_ends.is_buyer,
        month_ends.recency_days,
        month_ends.frequency,
        month_ends.monetary,
        month_ends.avg_review_score,
        month_ends.r_score,
        month_ends.f_score,
        month_ends.m_score,
        month_ends.rfm_cell,
        month_ends.rfm_group,
        month_ends.group_rank,
        month_ends.is_good_group,
        cast(
            case when month_ends.is_buyer then cluster_history.cluster_id_refit else 0 end as integer
        ) as cluster_id_refit,
        cast(
            case when month_ends.is_buyer then cluster_history.cluster_id_frozen else 0 end as integer
        ) as cluster_id_frozen
    from month_ends
    left join cluster_history
        on month_ends.snapshot_date = cluster_history.snapshot_date
            and month_ends.customer_id = cluster_history.customer_id

)

select * from history
