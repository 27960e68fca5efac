{#- The date every time-dependent model computes "as of".
    var('as_of') when set (YYYY-MM-DD), else the date of the last staged order.
    Rendered as a scalar subquery on int_as_of so that a run has one value. -#}
{% macro as_of_date() -%}
    (select as_of_date from {{ ref('int_as_of') }})
{%- endmacro %}

{#- The moment the dbt run started, as a plain timestamp: "the future" for
    staging means after this moment, whatever as_of is. -#}
{% macro run_started_timestamp() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp)
{%- endmacro %}
