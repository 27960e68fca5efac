-- Clienteling: store_invitations (see models/marts/clienteling/_clienteling.yml).
-- A table not built yet is published as an empty typed file; one placeholder row
-- (is_placeholder = true) stands in for it. Pages filter it out with "where not is_placeholder".
with exported as (
    select * from read_parquet('../exports/current/store_invitations.parquet')
)
select *, false as is_placeholder from exported
union all by name
select true as is_placeholder where not exists (select 1 from exported)
