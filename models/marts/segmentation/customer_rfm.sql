{#- One row per customer known at as_of (one-time buyers and prospects
    included): RFM, satisfaction and delivery features, scores and the named
    group. Scoring rules: int_segmentation__customer_scores. -#}
with

scores as (

    select * from {{ ref('int_segmentation__customer_scores') }}

),

as_of_scores as (

    select
        customer_id,
        snapshot_date as as_of_date,
        is_buyer,
        first_purchase_date,
        last_purchase_date,
        recency_days,
        frequency,
        purchase_amount,
        returned_amount,
        monetary,
        avg_basket,
        tenure_days,
        avg_days_between_orders,
        review_count,
        avg_review_score,
        low_review_share,
        delivered_order_count,
        late_delivery_count,
        late_delivery_share,
        recency_percentile,
        monetary_percentile,
        r_score,
        f_score,
        m_score,
        fm_score,
        rfm_cell,
        rfm_group,
        group_rank,
        is_good_group
    from scores
    where is_as_of

)

select * from as_of_scores
