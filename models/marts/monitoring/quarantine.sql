{#- Every raw row staging refused, with its source table, key, reason and the raw
    record as JSON: nothing is dropped silently. One block per table of the raw
    contract (macro raw_contract_tables). -#}
with

{% for table in raw_contract_tables() %}
    {{ table.name }}_rejected as (

        {{ quarantined_rows('base_' ~ table.name, table.name, raw_contract_record_key(table)) }}

    ),

{% endfor %}
quarantine as (

    {%- for table in raw_contract_tables() %}
        {{ 'union all' if not loop.first }}
        select * from {{ table.name }}_rejected
    {%- endfor %}

),

stamped as (

    select
        *,
        {{ run_started_timestamp() }} as quarantined_at
    from quarantine

)

select * from stamped
