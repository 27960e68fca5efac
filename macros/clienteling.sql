{#- Day of the week of a timestamp, Monday 0 to Sunday 6 (send blocks, reading days). -#}
{% macro weekday_index(ts) -%}
    {{ return(adapter.dispatch('weekday_index', 'clientele')(ts)) }}
{%- endmacro %}

{% macro default__weekday_index(ts) -%}
    (cast(extract(isodow from {{ ts }}) as integer) - 1)
{%- endmacro %}

{% macro spark__weekday_index(ts) -%}
    ((dayofweek({{ ts }}) + 5) % 7)
{%- endmacro %}

{#- The 3-hour block of the day of a timestamp, 0 (00-03) to 7 (21-24). -#}
{% macro hour_block(ts) -%}
    cast(floor(extract(hour from {{ ts }}) / 3) as integer)
{%- endmacro %}

{#- exact_sum(<value>) per level of <column> as wide columns <prefix>0..<prefix>n-1: for
    fractional values (identical rebuilds); counts use pivot_counts. -#}
{% macro pivot_sums(column, levels, value, prefix) -%}
    {%- for level in range(levels) %}
        {%- set term = 'case when ' ~ column ~ ' = ' ~ level ~ ' then ' ~ value ~ ' else 0 end' %}
        {{ exact_sum(term) }}
        as {{ prefix }}{{ level }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- count of the rows meeting <condition> (all rows when none) per level of <column>, as
    wide integer columns <prefix>0..<prefix>n-1: a 64-bit count_if per level instead of
    a sum of zeros and ones (128-bit in DuckDB), the bulk of a million clients' profiles. -#}
{% macro pivot_counts(column, levels, prefix, condition=none) -%}
    {%- for level in range(levels) %}
        cast(count_if({{ column }} = {{ level }}{% if condition %} and {{ condition }}{% endif %}) as integer)
        as {{ prefix }}{{ level }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- One select item per column: <template> with @ replaced by the column name. -#}
{% macro column_list(columns, template) -%}
    {%- for column in columns %}
        {{ template | replace('@', column) }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- sum(<relation>.<column>) as <column> per column, an integer, or an exact_sum for
    the columns in `exact_columns` (fractional values: identical rebuilds). -#}
{% macro column_sums(columns, relation, exact_columns) -%}
    {%- for column in columns %}
        {% if column in exact_columns %}{{ exact_sum(relation ~ '.' ~ column) }}{% else %}cast(sum({{ relation }}.{{ column }}) as integer){% endif %}
        as {{ column }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}
