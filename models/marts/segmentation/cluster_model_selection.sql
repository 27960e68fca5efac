{#- Choice of k for the customer clusters at as_of: silhouette, stability and
    inertia per k tried, the chosen k, and the RFM groups' silhouette as the
    baseline. Typed and contracted on top of the Python model
    int_segmentation__cluster_model_selection. -#}
with

selection as (

    select * from {{ ref('int_segmentation__cluster_model_selection') }}

),

typed as (

    select
        cast(labelling as varchar) as labelling,
        cast(k as integer) as k,
        cast(silhouette as double) as silhouette,
        cast(stability_ari as double) as stability_ari,
        cast(inertia as double) as inertia,
        cast(is_chosen as boolean) as is_chosen,
        cast(reason as varchar) as reason,
        cast(n_customers as bigint) as n_customers,
        cast(n_fitted as bigint) as n_fitted,
        cast(features_used as varchar) as features_used,
        cast(as_of_date as date) as as_of_date
    from selection

)

select * from typed
