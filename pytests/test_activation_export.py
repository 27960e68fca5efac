"""The launch campaign's activation files: per campaign, CSV and Parquet in the published
set, best targets first, ids only."""

from __future__ import annotations

import duckdb
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from clientele import export
from clientele.errors import UserError


def _warehouse(path, extra_column: str = "") -> str:
    con = duckdb.connect(str(path))
    con.execute(f"""
        create table launch_activation as
        select * from (values
            ('CAMP-A', 'C2', 'email', 'Tue 18-21', 'Bag', 2, 'fits'),
            ('CAMP-A', 'C1', 'phone', null, 'Ring', 1, 'early adopter'),
            ('CAMP-B/2', 'C3', 'email', 'Sat 09-12', 'Scarf', 1, 'taste')
        ) as t (campaign_id, customer_id, channel, send_window, product_1_name, target_rank,
                reason) {extra_column}
    """)
    con.execute("create table int_as_of as select date '2026-01-31' as as_of_date")
    con.close()
    return str(path)


def test_activation_is_written_per_campaign_as_csv_and_parquet(tmp_path):
    db = _warehouse(tmp_path / "w.duckdb")
    tables = [export.TABLES_BY_NAME["launch_activation"]]
    manifest = export.publish(db, tmp_path / "exports", tables)
    current = export.resolve_current(tmp_path / "exports")
    by_campaign = {e["campaign_id"]: e for e in manifest["activation"]}
    assert sorted(by_campaign) == ["CAMP-A", "CAMP-B/2"]
    assert by_campaign["CAMP-A"]["rows"] == 2
    a = pq.read_table(tmp_path / "exports" / by_campaign["CAMP-A"]["parquet"]).to_pandas()
    assert list(a["customer_id"]) == ["C1", "C2"]  # best target first
    csv = pcsv.read_csv(tmp_path / "exports" / by_campaign["CAMP-A"]["csv"]).to_pandas()
    assert list(csv["customer_id"]) == ["C1", "C2"]
    assert list(csv.columns) == list(a.columns)
    # A campaign id is never a path: the slash does not make a folder.
    assert (current / "activation" / "CAMP-B_2.csv").is_file()
    assert export.check_set(current) == []


def test_activation_refuses_contact_details(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create table launch_activation as select 'CAMP-A' as campaign_id, "
                "'C1' as customer_id, 'a@b.c' as email, 1 as target_rank")
    con.close()
    with pytest.raises(UserError, match="contact details"):
        export.publish(tmp_path / "w.duckdb", tmp_path / "exports",
                       [export.TABLES_BY_NAME["launch_activation"]])
    assert export.resolve_current(tmp_path / "exports", missing_ok=True) is None
