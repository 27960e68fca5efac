{#- Every model's backtest figures next to its baselines, one row per
    (area, model, metric, k, segment). Each area contributes a model with the
    same columns; add its name to the list below. -#}
{%- set area_evaluations = [
    'clienteling_evaluation',
    'launch_evaluation',
    'int_recommendations__evaluation',
    'retention_evaluation',
    'segmentation_evaluation',
] -%}

with

empty_evaluation as (

    select
        cast(null as varchar) as area,
        cast(null as varchar) as model_name,
        cast(null as boolean) as is_baseline,
        cast(null as varchar) as metric,
        cast(null as integer) as k,
        cast(null as varchar) as segment,
        cast(null as double) as metric_value,
        cast(null as double) as ci_lower,
        cast(null as double) as ci_upper,
        cast(null as bigint) as n_evaluated,
        cast(null as date) as cutoff_date,
        cast(null as date) as as_of_date,
        cast(null as varchar) as notes
    where false

),

{% for evaluation in area_evaluations %}
    {{ evaluation }} as (

        select {{ evaluation_columns() }}
        from {{ ref(evaluation) }}

    ),

{% endfor %}
all_evaluations as (

    select * from empty_evaluation
    {%- for evaluation in area_evaluations %}
        union all
        select * from {{ evaluation }}
    {%- endfor %}

)

select * from all_evaluations
