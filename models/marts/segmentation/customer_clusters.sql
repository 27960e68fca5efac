{#- One row per customer known at as_of: KMeans cluster (1 = highest mean net
    spend, 0 = prospect), its label, description and suggested action. Typed
    and contracted on top of the Python model
    int_segmentation__customer_clusters. -#}
with

clusters as (

    select * from {{ ref('int_segmentation__customer_clusters') }}

),

typed as (

    select
        cast(customer_id as varchar) as customer_id,
        cast(as_of_date as date) as as_of_date,
        cast(cluster_id as integer) as cluster_id,
        cast(cluster_label as varchar) as cluster_label,
        cast(cluster_description as varchar) as cluster_description,
        cast(suggested_action as varchar) as suggested_action,
        cast(n_clusters as integer) as n_clusters
    from clusters

)

select * from typed
