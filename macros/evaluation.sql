{#- model_evaluation's columns with their types: every area's evaluation rows
    pass through this one list, so they always union. -#}
{% macro evaluation_columns() -%}
    cast(area as varchar) as area,
    cast(model_name as varchar) as model_name,
    cast(is_baseline as boolean) as is_baseline,
    cast(metric as varchar) as metric,
    cast(k as integer) as k,
    cast(segment as varchar) as segment,
    cast(metric_value as double) as metric_value,
    cast(ci_lower as double) as ci_lower,
    cast(ci_upper as double) as ci_upper,
    cast(n_evaluated as bigint) as n_evaluated,
    cast(cutoff_date as date) as cutoff_date,
    cast(as_of_date as date) as as_of_date,
    cast(notes as varchar) as notes
{%- endmacro %}
