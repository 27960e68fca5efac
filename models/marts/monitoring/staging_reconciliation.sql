{#- Rows read from each raw table against rows staged and rows quarantined, for every
    table of the raw contract (macro raw_contract_tables);
    tests/assert_staging_reconciles.sql fails the build if they differ. -#}
with

quarantine as (

    select * from {{ ref('quarantine') }}

),

quarantined as (

    select
        source_table,
        count(*) as rows_quarantined
    from quarantine
    group by source_table

),

counted as (

    {%- for table in raw_contract_tables() %}
        {{ 'union all' if not loop.first }}
        select
            '{{ table.name }}' as source_table,
            (select count(*) from {{ raw_table(table.name) }} as raw_rows) as rows_read,
            (select count(*) from {{ ref('stg_' ~ table.name) }}) as rows_staged
    {%- endfor %}

),

reconciliation as (

    select
        counted.source_table,
        counted.rows_read,
        counted.rows_staged,
        coalesce(quarantined.rows_quarantined, 0) as rows_quarantined,
        counted.rows_read - counted.rows_staged - coalesce(quarantined.rows_quarantined, 0) as rows_unaccounted
    from counted
    left join quarantined
        on counted.source_table = quarantined.source_table

)

select * from reconciliation
