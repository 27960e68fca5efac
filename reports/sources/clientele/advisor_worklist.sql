-- Launch: ranked clients per store and advisor within capacity.
-- A table not built yet is published as an empty typed file; Evidence cannot load a
-- source with no rows, so one placeholder row (is_placeholder = true) stands in for it.
-- Pages filter it out with "where not is_placeholder".
with exported as (
    select * from read_parquet('../exports/current/advisor_worklist.parquet')
)
select *, false as is_placeholder from exported
union all by name
select true as is_placeholder where not exists (select 1 from exported)
