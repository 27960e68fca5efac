{#- Segmentation figures for model_evaluation: separation (silhouette of the
    chosen KMeans vs the RFM groups on the same scaled features, baseline) and
    stability (ARI at each horizon after the reference date; the RFM groups
    are the baseline) plus the recommended refresh interval per method. -#}
with

selection as (

    select * from {{ ref('int_segmentation__cluster_model_selection') }}

),

stability as (

    select * from {{ ref('segment_stability') }}

),

recommendation as (

    select * from {{ ref('segment_refresh_recommendation') }}

),

as_of as (

    select * from {{ ref('int_as_of') }}

),

separation as (

    select
        case when labelling = 'kmeans' then 'kmeans' else 'rfm_groups' end as model_name,
        labelling = 'rfm_groups' as is_baseline,
        'silhouette' as metric,
        cast(k as integer) as k,
        'buyers' as segment,
        silhouette as metric_value,
        cast(n_customers as bigint) as n_evaluated,
        cast(null as date) as cutoff_date,
        case
            when labelling = 'kmeans' then 'chosen k: ' || reason
            else reason
        end as notes
    from selection
    where (labelling = 'kmeans' and is_chosen) or labelling = 'rfm_groups'

),

drift as (

    select
        method as model_name,
        method = 'rfm_groups' as is_baseline,
        'ari_vs_reference' as metric,
        horizon_months as k,
        'buyers_at_reference' as segment,
        ari as metric_value,
        n_customers as n_evaluated,
        reference_date as cutoff_date,
        'ARI between the labels at cutoff_date and k months later (k = horizon in months)' as notes
    from stability
    where horizon_months > 0

),

refresh as (

    select
        method as model_name,
        method = 'rfm_groups' as is_baseline,
        'recommended_refresh_days' as metric,
        cast(null as integer) as k,
        'buyers_at_reference' as segment,
        cast(recommended_refresh_days as double) as metric_value,
        n_customers_reference as n_evaluated,
        reference_date as cutoff_date,
        notes
    from recommendation

),

unioned as (

    select * from separation
    union all
    select * from drift
    union all
    select * from refresh

),

evaluation as (

    select
        cast('segmentation' as varchar) as area,
        cast(unioned.model_name as varchar) as model_name,
        cast(unioned.is_baseline as boolean) as is_baseline,
        cast(unioned.metric as varchar) as metric,
        cast(unioned.k as integer) as k,
        cast(unioned.segment as varchar) as segment,
        cast(unioned.metric_value as double) as metric_value,
        cast(null as double) as ci_lower,
        cast(null as double) as ci_upper,
        cast(unioned.n_evaluated as bigint) as n_evaluated,
        cast(unioned.cutoff_date as date) as cutoff_date,
        cast(as_of.as_of_date as date) as as_of_date,
        cast(unioned.notes as varchar) as notes
    from unioned
    cross join as_of

)

select * from evaluation
