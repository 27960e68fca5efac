{#- The launch area's rows of model_evaluation, typed. -#}
with

evaluation as (

    select * from {{ ref('int_launch__evaluation') }}

),

typed as (

    select
        cast(area as varchar) as area,
        cast(model_name as varchar) as model_name,
        cast(is_baseline as boolean) as is_baseline,
        cast(metric as varchar) as metric,
        cast(k as integer) as k,
        cast(segment as varchar) as segment,
        cast(metric_value as double) as metric_value,
        cast(n_evaluated as bigint) as n_evaluated,
        cast(cutoff_date as date) as cutoff_date,
        cast(as_of_date as date) as as_of_date,
        cast(notes as varchar) as notes
    from evaluation

)

select * from typed
