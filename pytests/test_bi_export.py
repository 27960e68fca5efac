"""Atomic Parquet exports: readers always see one complete, consistent set."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from clientele import export
from clientele.export import ExportTable

PROJECT = Path(__file__).resolve().parent.parent

TABLES = (
    ExportTable("small", "test", "n rows", (("id", "bigint"), ("value", "double"))),
    ExportTable("big", "test", "3 n rows", (("id", "bigint"),)),
    ExportTable(
        "later", "test", "not built yet", (("customer_id", "varchar"), ("score", "double"))
    ),
)


def make_db(path: Path, n: int) -> Path:
    """A warehouse with `small` (n rows) and `big` (3n rows): a consistent set has big = 3 small."""
    con = duckdb.connect(str(path))
    con.execute(f"create table small as select range as id, random() as value from range({n})")
    con.execute(f"create table big as select range as id from range({3 * n})")
    con.execute("create table int_as_of as select date '2024-06-30' as as_of_date")
    con.close()
    return path


def test_publish_writes_every_table_and_a_manifest(tmp_path):
    db = make_db(tmp_path / "w.duckdb", 1000)
    manifest = export.publish(db, tmp_path / "exports", TABLES)
    current = export.resolve_current(tmp_path / "exports")
    assert (tmp_path / "exports" / "current").is_symlink()
    assert current.name.startswith(export.BUILD_PREFIX)
    assert export.read_manifest(current) == manifest
    by_name = {t["table"]: t for t in manifest["tables"]}
    assert by_name["small"]["status"] == "built" and by_name["small"]["rows"] == 1000
    assert by_name["big"]["rows"] == 3000
    assert [c["name"] for c in by_name["small"]["columns"]] == ["id", "value"]
    assert manifest["as_of"] == "2024-06-30"
    assert manifest["built_at"]
    assert export.check_set(current) == []


def test_missing_table_is_an_empty_typed_placeholder(tmp_path):
    db = make_db(tmp_path / "w.duckdb", 10)
    manifest = export.publish(db, tmp_path / "exports", TABLES)
    later = next(t for t in manifest["tables"] if t["table"] == "later")
    assert later["status"] == "not_built" and later["rows"] == 0
    table = export.read_table(export.resolve_current(tmp_path / "exports"), "later")
    assert table.num_rows == 0
    assert table.schema.names == ["customer_id", "score"]
    assert str(table.schema.field("score").type) == "double"
    # A BI tool can union the placeholder with real data by name.
    got = duckdb.sql(
        f"select count(*) from read_parquet('{export.resolve_current(tmp_path / 'exports')}"
        "/later.parquet')"
    ).fetchone()[0]
    assert got == 0


def test_old_sets_are_pruned_but_the_previous_one_is_kept(tmp_path):
    db = make_db(tmp_path / "w.duckdb", 10)
    out = tmp_path / "exports"
    for _ in range(5):
        export.publish(db, out, TABLES, keep=2)
    sets = sorted(p.name for p in out.glob(export.BUILD_PREFIX + "*"))
    assert len(sets) == 2
    assert export.resolve_current(out).name == sets[-1]


def test_a_failed_publish_leaves_the_current_set_untouched(tmp_path, monkeypatch):
    out = tmp_path / "exports"
    export.publish(make_db(tmp_path / "a.duckdb", 10), out, TABLES)
    before = export.resolve_current(out)

    def boom(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(export, "_switch", boom)
    with pytest.raises(OSError):
        export.publish(make_db(tmp_path / "b.duckdb", 20), out, TABLES)
    assert export.resolve_current(out) == before
    assert export.check_set(before) == []
    assert len(list(out.glob(export.BUILD_PREFIX + "*"))) == 1


def test_check_set_detects_a_torn_set(tmp_path):
    out = tmp_path / "exports"
    export.publish(make_db(tmp_path / "a.duckdb", 10), out, TABLES)
    current = export.resolve_current(out)
    duckdb.sql("select 1 as id").write_parquet(str(current / "big.parquet"))
    assert any("big" in p for p in export.check_set(current))


def test_cli_export(tmp_path):
    db = tmp_path / "w.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create table dim_customers as select 'C1' as customer_id, 'FR' as country, "
                "'Lyon' as city, 'F' as gender, 1980 as birth_year, 44 as age")
    con.execute("create table quarantine as select 'customers' as source_table, 'C2' as record_key, "
                "'impossible birth_year' as reject_reason, '{\"city\": \"Lyon\"}' as raw_record")
    con.close()
    out = tmp_path / "exports"
    result = subprocess.run(
        [sys.executable, "-m", "clientele.cli", "export", "--db", str(db),
         "--out", str(out), "--tables", "dim_customers,quarantine,customer_predictions"],
        cwd=PROJECT, capture_output=True, text=True, check=True,
    )
    assert "not built yet" in result.stdout and "customer_predictions" in result.stdout
    manifest = json.loads((out / "current" / "manifest.json").read_text())
    assert [t["table"] for t in manifest["tables"]] == [
        "dim_customers", "quarantine", "customer_predictions"]
    # Quasi-identifiers stay home unless asked for.
    published = export.open_published(out)
    assert published.read("dim_customers").column_names == ["customer_id", "country"]
    assert "raw_record" not in published.read("quarantine").column_names
    subprocess.run(
        [sys.executable, "-m", "clientele.cli", "export", "--db", str(db), "--out", str(out),
         "--tables", "dim_customers", "--with-personal-columns"],
        cwd=PROJECT, capture_output=True, text=True, check=True,
    )
    assert "city" in export.open_published(out).read("dim_customers").column_names


@pytest.mark.parametrize("args, message", [
    (["--db", "nope.duckdb"], "no such DuckDB file"),
    (["--tables", "dim_customers,launch_audiense"], "not exported tables: launch_audiense"),
    (["--keep", "1"], "keep 1: at least 2 sets"),
    (["--db", "w.parquet"], "not a DuckDB database"),
    (["--db", "busy.duckdb"], "in use by a build"),
    (["--db", "built.duckdb"], "built.duckdb: in use by a build (process "),
])
def test_cli_export_refuses_in_one_line(tmp_path, args, message):
    """Each of these once ended in a traceback or published an empty placeholder."""
    make_db(tmp_path / "w.duckdb", 5)
    make_db(tmp_path / "busy.duckdb", 5)
    make_db(tmp_path / "built.duckdb", 5)
    duckdb.sql("select 1 as id").write_parquet(str(tmp_path / "w.parquet"))
    holder = subprocess.Popen(  # a build holding the warehouse, as dbt does
        [sys.executable, "-c", "import duckdb, time; c = duckdb.connect('busy.duckdb'); "
         "print('held', flush=True); time.sleep(60)"],
        cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    # A `clientele build` in its first seconds: dbt is still parsing and has not opened
    # the warehouse, but the build holds built.duckdb.lock.
    build = subprocess.Popen(
        [sys.executable, "-c", "import time; from pathlib import Path; from clientele import "
         "warehouse\nwith warehouse.hold(Path('built.duckdb'), build=True):\n"
         "    print('held', flush=True); time.sleep(60)"],
        cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert build.stdout.readline().strip() == "held"
        full = ["--db", "w.duckdb", "--out", "exports", *args]
        result = subprocess.run([sys.executable, "-m", "clientele.cli", "export", *full],
                                cwd=tmp_path, capture_output=True, text=True)
    finally:
        for process in (holder, build):
            process.kill()
            process.wait()
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "exports" / "current").exists()


def test_readers_never_see_a_mixed_or_partial_set_while_sets_are_published(tmp_path):
    """Another process publishes sets of different sizes while this one reads them."""
    sizes = [2_000, 50_000, 7_000, 120_000]
    dbs = [make_db(tmp_path / f"w{i}.duckdb", n) for i, n in enumerate(sizes)]
    out = tmp_path / "exports"
    export.publish(dbs[0], out, TABLES)
    publisher = textwrap.dedent(f"""
        import sys
        from clientele import export
        from clientele.export import ExportTable
        tables = (
            ExportTable("small", "t", "", (("id", "bigint"),)),
            ExportTable("big", "t", "", (("id", "bigint"),)),
            ExportTable("later", "t", "", (("customer_id", "varchar"),)),
        )
        dbs = {[str(d) for d in dbs]!r}
        for i in range(12):
            export.publish(dbs[i % len(dbs)], {str(out)!r}, tables, keep=3)
        print("done")
    """)
    proc = subprocess.Popen(
        [sys.executable, "-c", publisher], cwd=PROJECT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    reads, seen_sets, problems = 0, set(), []
    deadline = time.monotonic() + 50
    while time.monotonic() < deadline:
        finished = proc.poll() is not None
        folder = export.resolve_current(out)
        try:
            manifest = export.read_manifest(folder)
            rows = {t["table"]: t["rows"] for t in manifest["tables"]}
            small = pq.read_table(folder / "small.parquet").num_rows
            big = pq.read_table(folder / "big.parquet").num_rows
        except FileNotFoundError as exc:  # the set vanished under the reader
            problems.append(f"{folder.name}: {exc}")
            continue
        if small != rows["small"] or big != rows["big"] or big != 3 * small:
            problems.append(f"{folder.name}: small={small} big={big} manifest={rows}")
        # A file-by-file reader through the manifest's versioned paths: one set, too.
        try:
            published = export.open_published(out)
            small, big = published.read("small").num_rows, published.read("big").num_rows
        except FileNotFoundError as exc:
            problems.append(f"versioned paths: {exc}")
            continue
        if big != 3 * small:
            problems.append(f"versioned paths: small={small} big={big}")
        problems += export.check_set(folder)
        seen_sets.add(folder.name)
        reads += 1
        if finished:
            break
    out_text, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "done" in out_text
    assert problems == []
    assert reads >= 20
    # The reader really raced the publisher: it saw several distinct sets.
    assert len(seen_sets) >= 3
