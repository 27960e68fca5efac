{#- Reading the raw contract (models/staging/_sources.yml) whatever the files hold.

    raw_table(name) is what a base model selects from instead of source('raw', name):
    one row per raw row, every contract column under its contract name and type, plus
      raw_row_number   the row's position in the file (ties between duplicates go to the first);
      raw_values       the row as the file holds it, every column (a struct), for the
                       quarantine's raw record;
      unreadable_reason 'unreadable <column>: ...' for the first value that does not cast to
                       the contract's type, else null (the base model quarantines the row).
    A missing optional table reads as empty and a missing optional column as null; a missing
    required table or column stops the run in check_raw_folder() (on-run-start) with one line.

    Time-zone rule (README, "Your own data"): a raw timestamp is the brand's local wall-clock
    time in var('staging_timezone'). A naive value is taken as it is; a value with a zone
    (TIMESTAMP WITH TIME ZONE in Parquet, or text ending in Z or +hh:mm) is converted to that
    zone and the zone dropped, so the session's time zone never changes a date. -#}

{% macro raw_file_path(table_name) -%}
    {{ return(var('raw_path') ~ '/' ~ table_name ~ '.parquet') }}
{%- endmacro %}

{% macro sql_string(text) -%}
    {{ return("'" ~ (text | replace("'", "''")) ~ "'") }}
{%- endmacro %}

{#- {column name (lower case): DuckDB type} of a raw file, or none when there is no file. -#}
{% macro raw_file_columns(table_name) -%}
    {%- set path = clientele.sql_string(clientele.raw_file_path(table_name)) -%}
    {%- set found = run_query("select count(*) as n from glob(" ~ path ~ ")") -%}
    {%- if found.columns[0].values()[0] == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set described = run_query("describe select * from read_parquet(" ~ path ~ ")") -%}
    {%- set columns = {} -%}
    {%- for row in described.rows -%}
        {%- do columns.update({row[0] | lower: {'name': row[0], 'type': row[1] | upper}}) -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}

{#- The contract's columns of a raw table: [{name, data_type, required}], from _sources.yml. -#}
{% macro raw_contract_columns(table_name) -%}
    {%- set node = graph.sources['source.clientele.raw.' ~ table_name] -%}
    {%- set columns = [] -%}
    {%- for name, column in node.columns.items() -%}
        {%- do columns.append({
            'name': name,
            'data_type': column.data_type,
            'required': (column.meta or {}).get('required', false),
        }) -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}

{#- A raw value converted to a contract type; null when it does not convert. -#}
{% macro raw_typed_value(expression, file_type, data_type) -%}
    {%- set text_types = ['VARCHAR', 'BLOB'] -%}
    {%- set zone = clientele.sql_string(var('staging_timezone')) -%}
    {%- if file_type == data_type | upper -%}
        {{ expression }}
    {%- elif data_type == 'varchar' -%}
        cast({{ expression }} as varchar)
    {%- elif data_type in ('timestamp', 'date') and file_type.startswith('TIMESTAMP WITH TIME ZONE') -%}
        cast(timezone({{ zone }}, {{ expression }}) as {{ data_type }})
    {%- elif data_type in ('timestamp', 'date') and file_type in text_types -%}
        case
            when regexp_matches(trim({{ expression }}), '[T ][0-9:.]+ ?(Z|[+-][0-9]{2}(:?[0-9]{2})?)$')
                then cast(timezone({{ zone }}, try_cast(trim({{ expression }}) as timestamptz)) as {{ data_type }})
            else try_cast(trim({{ expression }}) as {{ data_type }})
        end
    {%- elif data_type == 'integer' -%}
        {#- Whole numbers only: 2.5 units is not a quantity, so it is not rounded. -#}
        {%- set number = 'try_cast(' ~ (('trim(' ~ expression ~ ')') if file_type in text_types else expression) ~ ' as double)' -%}
        case when {{ number }} = floor({{ number }}) then try_cast({{ number }} as integer) end
    {%- elif file_type in text_types -%}
        try_cast(trim({{ expression }}) as {{ data_type }})
    {%- else -%}
        try_cast({{ expression }} as {{ data_type }})
    {%- endif -%}
{%- endmacro %}

{% macro raw_table(table_name) -%}
    {#- source() registers the lineage at parse time; the file is read at run time. -#}
    {%- set relation = source('raw', table_name) -%}
    {%- if not execute -%}
        {{ return('(select 1 as parsing_only)') }}
    {%- endif -%}
    {%- if model.resource_type == 'unit_test' -%}
        {#- A dbt unit test gives the source as rows typed like the contract, in order. -#}
        {{ return(clientele.raw_fixture(relation)) }}
    {%- endif -%}
    {%- set contract = clientele.raw_contract_columns(table_name) -%}
    {%- set file_columns = clientele.raw_file_columns(table_name) -%}
    {%- set present = [] -%}
    {%- for column in contract if file_columns is not none and column.name in file_columns -%}
        {%- do present.append(column) -%}
    {%- endfor -%}
    (
        select
        {%- for column in contract %}
            {%- if column in present %}
            {{ clientele.raw_typed_value('raw_file.' ~ adapter.quote(file_columns[column.name].name),
                file_columns[column.name].type, column.data_type) }} as {{ adapter.quote(column.name) }},
            {%- else %}
            cast(null as {{ column.data_type }}) as {{ adapter.quote(column.name) }},
            {%- endif %}
        {%- endfor %}
            {%- set checks = [] %}
            {%- for column in present
                if file_columns[column.name].type != column.data_type | upper and column.data_type != 'varchar' %}
                {%- do checks.append(column) -%}
            {%- endfor %}
            {%- if checks %}
            case
            {%- for column in checks %}
                {%- set raw = 'raw_file.' ~ adapter.quote(file_columns[column.name].name) %}
                when {{ raw }} is not null and {{ clientele.raw_typed_value(raw, file_columns[column.name].type, column.data_type) }} is null
                    then 'unreadable {{ column.name }}: not {{ 'an' if column.data_type[0] in 'aeiou' else 'a' }} {{ column.data_type }}'
            {%- endfor %}
            end as unreadable_reason,
            {%- else %}
            cast(null as varchar) as unreadable_reason,
            {%- endif %}
            {%- if file_columns is not none %}
            {#- Every column of the file, the contract's and the others: nothing is lost. #}
            struct_pack(
            {%- for column in file_columns.values() %}
                {{ adapter.quote(column.name) }} := raw_file.{{ adapter.quote(column.name) }}{{ ',' if not loop.last }}
            {%- endfor %}
            ) as raw_values,
            raw_file.file_row_number as raw_row_number
        from read_parquet({{ clientele.sql_string(clientele.raw_file_path(table_name)) }}, file_row_number = true) as raw_file
            {%- else %}
            struct_pack(missing := cast(null as varchar)) as raw_values,
            cast(null as bigint) as raw_row_number
        where false
            {%- endif %}
    )
{%- endmacro %}

{#- raw_table() over a unit test's rows for the source (already in the contract's types). -#}
{% macro raw_fixture(relation) -%}
    (
        select
            fixture.*,
            cast(null as varchar) as unreadable_reason,
            fixture as raw_values,
            row_number() over () - 1 as raw_row_number
        from {{ relation }} as fixture
    )
{%- endmacro %}

{#- on-run-start: when the run selects a model that reads the raw folder, the folder exists
    and holds every required table and column it reads, else one line naming the file,
    before any model runs (plain dbt and `clientele build` alike). -#}
{% macro check_raw_folder() -%}
    {%- if execute -%}
        {%- set read = [] -%}
        {%- for unique_id in selected_resources if unique_id in graph.nodes -%}
            {%- for parent in graph.nodes[unique_id].depends_on.nodes
                if parent.startswith('source.clientele.raw.') and parent not in read -%}
                {%- do read.append(parent) -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- if read -%}
            {%- set folder = clientele.sql_string(var('raw_path') ~ '/*.parquet') -%}
            {%- set files = run_query("select count(*) from glob(" ~ folder ~ ")").columns[0].values()[0] -%}
            {%- if files == 0 -%}
                {{ exceptions.raise_compiler_error(
                    "raw folder " ~ var('raw_path') ~ " not found or holds no Parquet file: pass "
                    ~ "--vars '{raw_path: /path/to/raw}' (a folder written by clientele load, demo or init)") }}
            {%- endif -%}
        {%- endif -%}
        {%- for unique_id in read | sort -%}
            {%- set node = graph.sources[unique_id] -%}
            {%- set file_columns = clientele.raw_file_columns(node.name) -%}
            {%- if file_columns is none and (node.meta or {}).get('required', false) -%}
                {{ exceptions.raise_compiler_error(
                    clientele.raw_file_path(node.name) ~ ": required table missing (see clientele check)") }}
            {%- endif -%}
            {%- for column in clientele.raw_contract_columns(node.name)
                if file_columns is not none and column.required and column.name not in file_columns -%}
                {{ exceptions.raise_compiler_error(
                    clientele.raw_file_path(node.name) ~ ": required column " ~ column.name
                    ~ " missing (the file has " ~ (file_columns.keys() | list | join(', ')) ~ ")") }}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}
