-- Rows read = rows staged + rows quarantined, for every raw table.
select *
from {{ ref('staging_reconciliation') }}
where rows_unaccounted <> 0
