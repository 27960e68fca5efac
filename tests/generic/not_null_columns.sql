{#- None of these columns is null: dbt's not_null on several columns in one pass, for a
    view whose every test would compute it again. -#}
{% test not_null_columns(model, columns) %}

select *
from {{ model }}
where
    {%- for column in columns %}
    {{ 'or ' if not loop.first }}{{ column }} is null
    {%- endfor %}

{% endtest %}
