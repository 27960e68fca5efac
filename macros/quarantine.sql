{#- The whole source row as JSON text, kept in quarantine so nothing is lost. -#}
{% macro row_to_json(relation_alias) -%}
    {{ return(adapter.dispatch('row_to_json', 'clientele')(relation_alias)) }}
{%- endmacro %}

{% macro default__row_to_json(relation_alias) -%}
    to_json({{ relation_alias }})
{%- endmacro %}

{% macro duckdb__row_to_json(relation_alias) -%}
    cast(to_json({{ relation_alias }}) as varchar)
{%- endmacro %}

{#- First failed rule of an ordered list of (condition, reason) pairs, else null.
    One reason per row keeps rows read = rows staged + rows quarantined. -#}
{% macro first_failure(rules) -%}
    case
    {%- for condition, reason in rules %}
        when {{ condition }} then '{{ reason }}'
    {%- endfor %}
    end
{%- endmacro %}

{#- Rows of a validated base model that failed, in the quarantine layout. -#}
{% macro quarantined_rows(base_model, source_table, key_expression) -%}
    select
        '{{ source_table }}' as source_table,
        coalesce({{ key_expression }}, '(missing key)') as record_key,
        reject_reason,
        raw_record
    from {{ ref(base_model) }}
    where reject_reason is not null
{%- endmacro %}

{#- Text of a nullable trimmed string, empty text as null. -#}
{% macro clean_text(column) -%}
    nullif(trim(cast({{ column }} as {{ dbt.type_string() }})), '')
{%- endmacro %}

{#- reject_reason: the first failed rule, else 'duplicate ...' for every copy of a
    key after the first among rows that passed the rules (so a valid row is
    kept in preference to an invalid copy of it). -#}
{% macro reason_with_duplicates(key_columns, duplicate_reason) -%}
    coalesce(
        rule_failure,
        case
            when row_number() over (
                partition by {{ key_columns | join(', ') }}, rule_failure is null
                order by raw_record
            ) > 1 then '{{ duplicate_reason }}'
        end
    )
{%- endmacro %}
