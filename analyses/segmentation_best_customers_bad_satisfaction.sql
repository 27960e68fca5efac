-- The best customers with bad satisfaction: top RFM groups (Champions, Loyal, Active)
-- or top spend quintile, whose reviews are poor (average <= 2.5 or half of them 1-2
-- stars) or whose deliveries were often late. A service-recovery call list, most
-- valuable first. Empty on datasets without reviews or delivery dates.
with

rfm as (

    select * from {{ ref('customer_rfm') }}

),

segments as (

    select * from {{ ref('customer_segments') }}

),

best_unhappy as (

    select
        rfm.customer_id,
        rfm.rfm_group,
        segments.cluster_label,
        rfm.monetary as net_spend,
        rfm.frequency,
        rfm.recency_days,
        rfm.review_count,
        rfm.avg_review_score,
        rfm.low_review_share,
        rfm.late_delivery_count,
        rfm.late_delivery_share
    from rfm
    inner join segments
        on rfm.customer_id = segments.customer_id
    where (rfm.group_rank <= 3 or rfm.m_score = 5)
        and (
            rfm.avg_review_score <= 2.5
            or rfm.low_review_share >= 0.5
            or rfm.late_delivery_share >= 0.5
        )

)

select * from best_unhappy
order by net_spend desc
