{#- The percentile of a value among the rows of its partition, in (0, 1): (average rank
    - 0.5) / rows, ties sharing their mean rank. Ranking every client of a launch here
    costs the Python models no memory; it equals pandas' rank(method="average"). -#}
{% macro launch_percentile(value, partition_by) -%}
    (
        rank() over (partition by {{ partition_by }} order by {{ value }})
        + (count(*) over (partition by {{ partition_by }}, {{ value }}) - 1) / 2.0
        - 0.5
    )
    / count(*) over (partition by {{ partition_by }})
{%- endmacro %}
