{#- Month-end dates from the month of start_date to the last complete month
    end on or before end_date, as a one-column relation (snapshot_date).
    DuckDB's generate_series keeps it one line; other adapters can dispatch
    their own implementation (a date spine) under the same name. -#}
{% macro segmentation_month_ends(start_date, end_date) -%}
    {{ return(adapter.dispatch('segmentation_month_ends', 'clientele')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__segmentation_month_ends(start_date, end_date) -%}
    select cast(month_start + interval 1 month - interval 1 day as date) as snapshot_date
    from generate_series(
        cast({{ dbt.date_trunc('month', start_date) }} as date),
        cast({{ end_date }} as date),
        interval 1 month
    ) as months (month_start)
    where cast(month_start + interval 1 month - interval 1 day as date) <= cast({{ end_date }} as date)
{%- endmacro %}
