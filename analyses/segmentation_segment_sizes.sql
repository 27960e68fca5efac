-- Segment sizes and revenue share at the as-of date, for the RFM groups and for the
-- clusters, best segment first. Revenue = net spend; a negative net spend counts as 0.
with

rfm as (

    select * from {{ ref('customer_rfm') }}

),

group_descriptions as (

    select * from {{ ref('segmentation_rfm_group_descriptions') }}

),

cluster_profiles as (

    select * from {{ ref('cluster_profiles') }}

),

rfm_groups as (

    select
        'rfm_group' as segmentation,
        rfm.rfm_group as segment,
        min(rfm.group_rank) as segment_order,
        count(*) as n_customers,
        sum(greatest(rfm.monetary, 0)) as revenue,
        avg(rfm.monetary) as avg_net_spend,
        avg(rfm.avg_review_score) as avg_review_score
    from rfm
    group by rfm.rfm_group

),

rfm_shares as (

    select
        rfm_groups.segmentation,
        rfm_groups.segment,
        rfm_groups.segment_order,
        rfm_groups.n_customers,
        rfm_groups.n_customers / sum(rfm_groups.n_customers) over () as customer_share,
        rfm_groups.revenue / nullif(sum(rfm_groups.revenue) over (), 0) as revenue_share,
        rfm_groups.avg_net_spend,
        rfm_groups.avg_review_score,
        group_descriptions.suggested_action
    from rfm_groups
    left join group_descriptions
        on rfm_groups.segment = group_descriptions.rfm_group

),

clusters as (

    select
        'cluster' as segmentation,
        cast(cluster_id as varchar) || ' - ' || cluster_label as segment,
        case when cluster_id = 0 then 999 else cluster_id end as segment_order,
        n_customers,
        customer_share,
        revenue_share,
        avg_monetary as avg_net_spend,
        avg_review_score,
        suggested_action
    from cluster_profiles

),

both_segmentations as (

    select * from rfm_shares
    union all
    select * from clusters

)

select * from both_segmentations
order by segmentation desc, segment_order asc
