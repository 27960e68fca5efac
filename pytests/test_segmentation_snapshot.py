"""The SCD2 snapshot of current segments: a customer who changes segment between two
daily runs gets a new row dated by the run's as-of date; one who does not keeps a
single row. Runs `dbt snapshot` twice on a customer_segments table written here, so
the test takes seconds; CI's full `dbt build` on three datasets runs the whole chain."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
from dbt.cli.main import dbtRunner

from clientele.cli import dbt_command

SNAPSHOT = "segmentation_customer_segments_snapshot"


def segments(as_of: str, groups: dict[str, str], clusters: dict[str, int]) -> pd.DataFrame:
    ids = sorted(groups)
    return pd.DataFrame({
        "customer_id": ids,
        "as_of_date": pd.Timestamp(as_of).date(),
        "segmented_at": pd.Timestamp(as_of),
        "rfm_group": [groups[c] for c in ids],
        "rfm_cell": "111",
        "group_rank": 1,
        "is_good_group": True,
        "rfm_group_action": "act",
        "cluster_id": [clusters[c] for c in ids],
        "cluster_label": "label",
        "cluster_action": "act",
    })


def write_segments(db: Path, frame: pd.DataFrame) -> None:
    with duckdb.connect(str(db)) as con:
        con.register("frame", frame)
        con.execute("create or replace table customer_segments as select * from frame")


def snapshot(tmp_path: Path) -> None:
    """`dbt snapshot` in-process (same arguments as the CLI builds; no interpreter start-up)."""
    cmd = dbt_command(
        "snapshot", tmp_path / "raw",
        ["--target-path", str(tmp_path / "target"), "--select", SNAPSHOT, "--quiet"],
    )
    result = dbtRunner().invoke(cmd[1:])
    assert result.success, result.exception


def test_a_customer_who_changes_segment_gets_a_new_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLIENTELE_DB", str(tmp_path / "seg.duckdb"))
    db = tmp_path / "seg.duckdb"
    write_segments(db, segments(
        "2024-03-01",
        {"A": "Champions", "B": "New", "C": "Loyal"},
        {"A": 1, "B": 3, "C": 2},
    ))
    snapshot(tmp_path)
    # Next day: A drops to At risk, C changes cluster only, B is unchanged, D appears.
    write_segments(db, segments(
        "2024-03-02",
        {"A": "At risk", "B": "New", "C": "Loyal", "D": "New"},
        {"A": 1, "B": 3, "C": 4, "D": 3},
    ))
    snapshot(tmp_path)

    # dbt-duckdb keeps its connection open in this process: open the file the same way.
    with duckdb.connect(str(db)) as con:
        rows = con.sql(f"select * from {SNAPSHOT} order by customer_id, dbt_valid_from").df()
    counts = rows.groupby("customer_id").size().to_dict()
    assert counts == {"A": 2, "B": 1, "C": 2, "D": 1}
    a = rows[rows["customer_id"] == "A"]
    assert list(a["rfm_group"]) == ["Champions", "At risk"]
    # The change is dated by the as-of date of the run that saw it, not the wall clock.
    assert a["dbt_valid_from"].tolist() == [pd.Timestamp("2024-03-01"), pd.Timestamp("2024-03-02")]
    assert a["dbt_valid_to"].iloc[0] == pd.Timestamp("2024-03-02")
    assert pd.isna(a["dbt_valid_to"].iloc[1])
    current = rows[rows["dbt_valid_to"].isna()].set_index("customer_id")
    assert current["cluster_id"].to_dict() == {"A": 1, "B": 3, "C": 4, "D": 3}


def test_a_run_as_of_an_earlier_date_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build as of an earlier date than the snapshot's latest row once closed rows before
    they started (79 rows with dbt_valid_to < dbt_valid_from, exit 0)."""
    monkeypatch.setenv("CLIENTELE_DB", str(tmp_path / "seg.duckdb"))
    db = tmp_path / "seg.duckdb"
    write_segments(db, segments("2024-11-30", {"A": "Champions", "B": "New"}, {"A": 1, "B": 3}))
    snapshot(tmp_path)
    write_segments(db, segments("2024-09-30", {"A": "At risk", "B": "New"}, {"A": 2, "B": 3}))
    cmd = dbt_command(
        "snapshot", tmp_path / "raw",
        ["--target-path", str(tmp_path / "target"), "--select", SNAPSHOT, "--quiet"],
    )
    result = dbtRunner().invoke(cmd[1:])
    assert not result.success
    message = " ".join(str(r.message) for r in result.result)
    assert "already holds rows as of 2024-11-30, after this run's as_of 2024-09-30" in message
    assert "only moves forward" in message
    with duckdb.connect(str(db)) as con:
        broken = con.sql(f"select count(*) from {SNAPSHOT} where dbt_valid_to < dbt_valid_from")
        assert broken.fetchone()[0] == 0
        assert con.sql(f"select count(*) from {SNAPSHOT}").fetchone()[0] == 2
