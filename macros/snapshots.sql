{#- pre-hook of a snapshot: refuse to go back in time. A snapshot's rows are dated by the
    as-of date of the run that saw them; a run as of an earlier date than the latest row
    would close rows before they start (dbt_valid_to < dbt_valid_from). The run stops
    with one line saying how to go on. `updated_at`: the column of `model` the snapshot
    dates its rows by. -#}
{% macro snapshot_moves_forward(model, updated_at) -%}
    {%- set source_relation = ref(model) -%}
    {%- if execute and adapter.get_relation(this.database, this.schema, this.identifier) is not none -%}
        select
            case
                when latest.valid_from > current_run.updated_at
                    then error(
                        '{{ this.identifier }} already holds rows as of '
                        || cast(cast(latest.valid_from as date) as varchar)
                        || ', after this run''s as_of ' || cast(cast(current_run.updated_at as date) as varchar)
                        || ': a snapshot only moves forward. Build as of that date or later, or drop '
                        || 'the table {{ this.schema }}.{{ this.identifier }} to rebuild its history from this date'
                    )
            end as refused
        from (select max(dbt_valid_from) as valid_from from {{ this }}) as latest
        cross join (select max({{ updated_at }}) as updated_at from {{ source_relation }}) as current_run
    {%- else -%}
        select 1 as first_snapshot
    {%- endif -%}
{%- endmacro %}
