{#- A list of strings as a SQL tuple for `in`: ('a', 'b'). Takes a list, or a
    comma-separated string (as `--vars` on the command line gives one). -#}
{% macro sql_string_list(values) -%}
    {%- if values is string -%}
        {%- set values = values.split(',') | map('trim') | list -%}
    {%- endif -%}
    ({%- for value in values -%}
        '{{ value | replace("'", "''") }}'{{ ', ' if not loop.last }}
    {%- endfor -%})
{%- endmacro %}
