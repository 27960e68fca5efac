{#- The raw row as JSON text, for the quarantine: only on rejected rows, so that a staged
    row costs no JSON (raw_values is the struct raw_table() reads from the file). -#}
{% macro raw_record_when_rejected(values='raw_values', reason='reject_reason') -%}
    case when {{ reason }} is not null then {{ row_to_json(values) }} end
{%- endmacro %}

{#- A row or struct as JSON text. -#}
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

{#- Dates before var('staging_min_valid_date') are clock or export errors (1900, 1970). -#}
{% macro min_valid_date() -%}
    cast('{{ var("staging_min_valid_date") }}' as timestamp)
{%- endmacro %}

{#- NaN or +-Infinity: NaN sorts above every number in DuckDB, so `price < 0` alone never
    catches it, and one NaN line turns every sum it enters into NaN. -#}
{% macro not_finite(column) -%}
    not isfinite({{ column }})
{%- endmacro %}

{#- Row numbers (raw_row_number) of the copies of a key after the first, among the rows of
    `relation` that passed every rule (so a valid row is kept in preference to an invalid
    copy of it); by default the first in the raw file is kept, whatever order DuckDB reads
    it in. Only the key and the row number go through the window: ranking whole rows of
    11 million events is what made the event tables slow. -#}
{% macro duplicate_copies(relation, key_columns, order_by='raw_row_number') -%}
    select copies.raw_row_number
    from (
        select
            raw_row_number,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by {{ order_by }}
            ) as copy_number
        from {{ relation }}
        where rule_failure is null
    ) as copies
    where copies.copy_number > 1
{%- endmacro %}
