-- What was published: one row per exported table, from the set's manifest.
with manifest as (
    select * from read_json('../exports/current/manifest.json', format = 'auto')
),

tables as (
    select
        as_of,
        built_at,
        unnest(tables) as t
    from manifest
)

select
    t.table as table_name,
    t.area as area,
    t.status as status,
    t.rows as row_count,
    cast(as_of as varchar) as as_of,
    cast(built_at as varchar) as built_at
from tables
