{#- The current segment of each customer at as_of: RFM group and cluster, with
    what to do. The snapshot segmentation_customer_segments_snapshot keeps its
    history (SCD2). -#}
with

rfm as (

    select * from {{ ref('customer_rfm') }}

),

clusters as (

    select * from {{ ref('customer_clusters') }}

),

group_descriptions as (

    select * from {{ ref('segmentation_rfm_group_descriptions') }}

),

segments as (

    select
        rfm.customer_id,
        rfm.as_of_date,
        cast(rfm.as_of_date as timestamp) as segmented_at,
        rfm.rfm_group,
        rfm.rfm_cell,
        rfm.group_rank,
        rfm.is_good_group,
        group_descriptions.suggested_action as rfm_group_action,
        cast(clusters.cluster_id as integer) as cluster_id,
        clusters.cluster_label,
        clusters.suggested_action as cluster_action
    from rfm
    left join clusters
        on rfm.customer_id = clusters.customer_id
    left join group_descriptions
        on rfm.rfm_group = group_descriptions.rfm_group

)

select * from segments
