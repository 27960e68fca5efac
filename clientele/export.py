"""Publish the public marts as Parquet, atomically, for BI tools and the Evidence report.

DuckDB allows one writer: a dashboard that opens the warehouse file while
`dbt build` runs either blocks the build or sees a half-built state. So BI
never reads the warehouse; it reads a *published set* of Parquet files::

    exports/
      .build-20261123T132501Z-1234/   a complete set: one <table>.parquet per table + manifest.json
      .build-20261123T140010Z-5678/   the next complete set
      current -> .build-20261123T140010Z-5678   (relative symlink)

`publish()` writes every table into a fresh hidden folder, writes the manifest
last, fsyncs, then swaps the `current` symlink with one `rename()` (atomic on
POSIX). A reader that resolves `current` once (`resolve_current()`,
`read_manifest()`, `read_table()`) sees the previous complete set or the new
one, never a mix. A reader that opens ``current/<table>.parquet`` file by file
may straddle a publish: it should read ``current/manifest.json`` first and then
the versioned ``path`` each entry gives (``.build-.../<table>.parquet``,
relative to the exports folder), which never changes under it. The `keep` most
recent sets stay on disk so that a reader still busy with the previous set is
not pulled from under its feet.

Quasi-identifiers (a customer's city, gender, birth year and age, and the raw
records of the quarantine, which carry them too) are left out unless asked for
(`personal_columns=True`, `clientele export --with-personal-columns`).

The launch campaign's contact list (``launch_activation``) is also written per campaign,
ready to import into an e-mail or CRM tool, as ``activation/<campaign_id>.csv`` and
``activation/<campaign_id>.parquet`` inside the set (listed under ``activation`` in the
manifest): opted-in clients only, ids and no names or e-mail addresses (a column that
could hold them is refused).

Every configured table gets a file. A table the warehouse does not have yet
(its area is not built, or the dataset cannot feed it) is written as an
empty Parquet file with the columns the report expects (`ExportTable.columns`)
and listed as `not_built` in the manifest, so the report and BI tools always
find the file and can say plainly that it is not built.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from clientele import warehouse
from clientele.errors import UserError

log = logging.getLogger("clientele.export")

CURRENT = "current"
BUILD_PREFIX = ".build-"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class ExportTable:
    """A mart published for BI.

    `columns` are the columns (name, DuckDB type) the report relies on; they
    type the empty placeholder written while the table is not built. A built
    table is exported whole, with all its columns.
    """

    name: str
    area: str
    description: str
    columns: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    # Columns that, with others, could single a person out: exported only on request.
    personal: tuple[str, ...] = ()


# The public tables, by business area. Add a table here to publish it; the
# report reads exactly these files. Columns are the ones the report pages use.
EXPORT_TABLES: tuple[ExportTable, ...] = (
    # core
    ExportTable("dim_customers", "core", "One row per customer with lifetime figures.", (
        ("customer_id", "varchar"), ("country", "varchar"), ("email_opt_in", "boolean"),
        ("phone_opt_in", "boolean"),
    ), personal=("city", "gender", "birth_year", "age")),
    ExportTable("dim_products", "core", "One row per product.", (
        ("product_id", "varchar"), ("category", "varchar"), ("family", "varchar"),
    )),
    ExportTable("fct_orders", "core", "One row per order.", (
        ("order_id", "varchar"), ("customer_id", "varchar"), ("order_date", "date"),
        ("country", "varchar"), ("channel", "varchar"), ("net_amount", "double"),
        ("is_purchase", "boolean"), ("purchase_number", "bigint"), ("review_score", "double"),
    )),
    # segmentation
    ExportTable("customer_rfm", "segmentation", "RFM, satisfaction and named group per customer.", (
        ("customer_id", "varchar"), ("recency_days", "bigint"), ("frequency", "bigint"),
        ("monetary", "double"), ("avg_review_score", "double"), ("rfm_group", "varchar"),
        ("group_rank", "integer"),
    )),
    ExportTable("customer_clusters", "segmentation", "Cluster of each customer.", (
        ("customer_id", "varchar"), ("cluster_id", "integer"), ("cluster_label", "varchar"),
    )),
    ExportTable("cluster_profiles", "segmentation", "Size, value and label per cluster.", (
        ("cluster_id", "integer"), ("cluster_label", "varchar"), ("n_customers", "bigint"),
        ("revenue_share", "double"), ("cluster_description", "varchar"),
        ("suggested_action", "varchar"),
    )),
    ExportTable("segment_history", "segmentation", "Segment of each customer at each month end.", (
        ("snapshot_date", "date"), ("customer_id", "varchar"), ("rfm_group", "varchar"),
        ("cluster_id_refit", "integer"),
    )),
    ExportTable("segment_stability", "segmentation", "ARI at each horizon.", (
        ("method", "varchar"), ("horizon_months", "integer"), ("ari", "double"),
    )),
    ExportTable("segment_transitions", "segmentation", "Migration matrix between periods.", (
        ("method", "varchar"), ("period_end", "date"), ("from_segment", "varchar"),
        ("to_segment", "varchar"), ("n_customers", "bigint"), ("share_of_from", "double"),
        ("is_same_segment", "boolean"),
    )),
    ExportTable("segment_refresh_recommendation", "segmentation", "Refresh interval per method.", (
        ("method", "varchar"), ("recommended_refresh_days", "integer"),
        ("recommended_cadence", "varchar"),
    )),
    # launch
    ExportTable("launch_audience", "launch", "Per client, scores, band and rank for the launch.", (
        ("customer_id", "varchar"), ("audience_band", "varchar"), ("priority_score", "double"),
        ("priority_rank", "bigint"), ("is_control", "boolean"),
    )),
    ExportTable("audience_band_conversion", "launch", "Conversion per score band.", (
        ("audience_band", "varchar"), ("n_clients", "bigint"), ("n_converted", "bigint"),
        ("conversion_rate", "double"), ("conversion_ci_low", "double"),
        ("conversion_ci_high", "double"),
    )),
    ExportTable("audience_policy", "launch", "Tuned weights and thresholds, held-out check.", ()),
    ExportTable("advisor_worklist", "launch", "Ranked clients per store and advisor.", (
        ("store_id", "varchar"), ("advisor_id", "varchar"), ("advisor_rank", "bigint"),
        ("customer_id", "varchar"), ("contact_channel", "varchar"), ("product_1", "varchar"),
        ("product_2", "varchar"), ("product_3", "varchar"), ("reasons", "varchar"),
    )),
    ExportTable("launch_activation", "launch",
                "Opted-in contact list of the launch campaign for an e-mail or CRM tool.", (
                    ("campaign_id", "varchar"), ("customer_id", "varchar"), ("channel", "varchar"),
                    ("send_window", "varchar"), ("product_1_name", "varchar"),
                    ("product_2_name", "varchar"), ("product_3_name", "varchar"),
                    ("reason", "varchar"),
                )),
    ExportTable("campaign_lift", "launch", "Lift of contacted vs control.", ()),
    ExportTable("new_product_matches", "launch", "Closest new product per old product.", ()),
    ExportTable("early_adopter_scores", "launch", "Early-adopter score per client.", ()),
    # retention
    ExportTable("second_purchase_timing", "retention", "Best window for a second purchase.", (
        ("customer_id", "varchar"), ("market", "varchar"), ("contact_score", "double"),
        ("contact_decision", "varchar"), ("best_window", "varchar"),
        ("best_window_start_date", "date"), ("best_window_end_date", "date"),
        ("best_window_probability", "double"), ("p_second_within_365d", "double"),
        ("email_opt_in", "boolean"), ("phone_opt_in", "boolean"),
    )),
    ExportTable("customer_predictions", "retention", "p_alive, expected orders, churn, CLV.", (
        ("customer_id", "varchar"), ("p_alive", "double"), ("churn_probability", "double"),
        ("churn_band", "varchar"), ("expected_next_order_date", "date"),
        ("next_order_outlook", "varchar"), ("predicted_value_365d", "double"),
    )),
    # recommendations
    ExportTable("client_recommendations", "recommendations", "Composed product list per client.", (
        ("customer_id", "varchar"), ("recommendation_rank", "integer"), ("product_id", "varchar"),
        ("category", "varchar"), ("recommendation_source", "varchar"), ("reason", "varchar"),
    )),
    # clienteling
    ExportTable("send_time_recommendations", "clienteling",
                "Best block of the week to e-mail each opted-in client.", (
                    ("customer_id", "varchar"), ("country", "varchar"),
                    ("email_opt_in", "boolean"), ("best_send_block", "varchar"),
                    ("best_send_weekday", "varchar"), ("best_send_hour_start", "integer"),
                    ("expected_open_rate", "double"), ("market_best_block", "varchar"),
                    ("market_best_open_rate", "double"), ("recommendation_basis", "varchar"),
                )),
    ExportTable("client_store_sensitivity", "clienteling",
                "Chance of buying after an advisor vs an e-mail, per client.", (
                    ("customer_id", "varchar"), ("home_store_id", "varchar"),
                    ("phone_opt_in", "boolean"), ("store_gain", "double"),
                    ("store_sensitivity", "double"), ("main_reason", "varchar"),
                )),
    ExportTable("store_invitations", "clienteling",
                "Clients each store should invite, within capacity, with reasons.", (
                    ("store_id", "varchar"), ("store_name", "varchar"),
                    ("invitation_rank", "bigint"), ("customer_id", "varchar"),
                    ("advisor_id", "varchar"), ("phone_opt_in", "boolean"),
                    ("p_buy_after_advisor", "double"), ("p_buy_after_email", "double"),
                    ("store_gain", "double"), ("reasons", "varchar"),
                )),
    # monitoring
    ExportTable("model_evaluation", "monitoring", "Every model's backtest next to its baselines.", (
        ("area", "varchar"), ("model_name", "varchar"), ("is_baseline", "boolean"),
        ("metric", "varchar"), ("k", "integer"), ("segment", "varchar"),
        ("metric_value", "double"), ("ci_lower", "double"), ("ci_upper", "double"),
        ("n_evaluated", "bigint"), ("cutoff_date", "date"), ("as_of_date", "date"),
        ("notes", "varchar"),
    )),
    ExportTable("quarantine", "monitoring", "Rejected raw rows with their reason.", (),
                personal=("raw_record",)),
    ExportTable("staging_reconciliation", "monitoring", "Rows read = staged + quarantined.", ()),
)

TABLES_BY_NAME: dict[str, ExportTable] = {t.name: t for t in EXPORT_TABLES}

#: The table whose rows are written per campaign for activation, and its folder in a set.
ACTIVATION_TABLE, ACTIVATION = "launch_activation", "activation"
#: Columns an activation file never carries: contact details stay in the CRM tool, which
#: joins them on customer_id.
CONTACT_DETAILS = frozenset({"name", "first_name", "last_name", "full_name", "email",
                             "email_address", "phone", "phone_number", "address", "city",
                             "birth_year", "birth_date", "gender", "age"})


def _campaign_file(campaign_id: str) -> str:
    """A file name for a campaign id (letters, digits, '-', '_' and '.' kept)."""
    name = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in campaign_id)
    return name.lstrip(".") or "campaign"


def _write_activation(con: duckdb.DuckDBPyConnection, build: Path) -> list[dict]:
    """launch_activation split per campaign as CSV and Parquet in ``build/activation/``,
    best targets first; one manifest entry per campaign."""
    rel = con.table(ACTIVATION_TABLE)
    leaked = sorted(CONTACT_DETAILS & {c.lower() for c in rel.columns})
    if leaked:
        raise UserError(f"{ACTIVATION_TABLE}: refusing to export contact details "
                        f"({', '.join(leaked)}); activation files carry ids only")
    folder = build / ACTIVATION
    folder.mkdir()
    campaigns = [r[0] for r in rel.filter("campaign_id is not null").project(
        "campaign_id").distinct().order("campaign_id").fetchall()]
    entries = []
    for campaign in campaigns:  # a loop over campaigns, not rows
        part = rel.filter(f"campaign_id = '{str(campaign).replace(chr(39), chr(39) * 2)}'"
                          ).order("target_rank, customer_id")
        stem = _campaign_file(str(campaign))
        part.write_parquet(str(folder / f"{stem}.parquet"), compression="zstd")
        part.write_csv(str(folder / f"{stem}.csv"), header=True)
        rows = int(pq.ParquetFile(folder / f"{stem}.parquet").metadata.num_rows)
        entries.append({
            "campaign_id": campaign, "rows": rows,
            "csv": f"{build.name}/{ACTIVATION}/{stem}.csv",
            "parquet": f"{build.name}/{ACTIVATION}/{stem}.parquet",
        })
        log.info("activation %s: %d opted-in contacts (%s.csv, %s.parquet)", campaign, rows,
                 stem, stem)
    return entries


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.sql(
        "select table_name from information_schema.tables where table_schema = 'main'"
    ).fetchall()
    return {r[0] for r in rows}


def _as_of(con: duckdb.DuckDBPyConnection, existing: set[str]) -> str | None:
    if "int_as_of" not in existing:
        return None
    value = con.sql("select max(as_of_date) from int_as_of").fetchone()[0]
    return None if value is None else str(value)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_placeholder(table: ExportTable, path: Path) -> list[dict[str, str]]:
    con = duckdb.connect()
    try:
        cols = ", ".join(f"cast(null as {t}) as {c}" for c, t in table.columns) or (
            "cast(null as varchar) as not_built"
        )
        con.sql(f"select {cols} where false").write_parquet(str(path))
        return [{"name": c, "type": t} for c, t in table.columns] or [
            {"name": "not_built", "type": "varchar"}
        ]
    finally:
        con.close()


def _sets(out: Path) -> list[Path]:
    return sorted(p for p in out.glob(BUILD_PREFIX + "*") if p.is_dir())


def _open_warehouse(db: Path) -> duckdb.DuckDBPyConnection:
    """The warehouse, read-only; one line when it is busy (warehouse.hold has checked that
    it is a DuckDB file)."""
    try:
        return duckdb.connect(str(db), read_only=True)
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" in text.lower():
            raise UserError(f"{db}: in use by a build (DuckDB allows one writer); export when "
                            "it has finished") from None
        raise UserError(f"{db}: not a DuckDB database ({text.splitlines()[0]})") from None
    except duckdb.Error as exc:
        raise UserError(f"{db}: cannot open ({str(exc).splitlines()[0]})") from None


def publish(
    db: Path | str,
    out: Path | str,
    tables: Sequence[ExportTable] | None = None,
    keep: int = 3,
    personal_columns: bool = False,
) -> dict:
    """Export `tables` (default `EXPORT_TABLES`) from the DuckDB file `db` and publish the set.

    Returns the manifest. `keep` (>= 2) complete sets stay on disk, the current one included.
    `personal_columns`: also export each table's quasi-identifiers (`ExportTable.personal`).
    """
    if keep < 2:
        raise UserError(f"keep {keep}: at least 2 sets must stay on disk so that a reader of "
                        "the previous set is safe")
    db, out = Path(db), Path(out)
    if not db.is_file():
        raise UserError(f"{db}: no such DuckDB file; run `clientele build` first")
    tables = list(tables if tables is not None else EXPORT_TABLES)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    stamp = _utc_now().strftime("%Y%m%dT%H%M%S%fZ")
    build = out / f"{BUILD_PREFIX}{stamp}-{os.getpid()}"
    build.mkdir()
    try:
        with warehouse.hold(db, build=False):
            con = _open_warehouse(db)
            try:
                existing = _existing_tables(con)
                entries = []
                for table in tables:  # a loop over tables, not rows
                    path = build / f"{table.name}.parquet"
                    if table.name in existing:
                        rel = con.table(table.name)
                        withheld = [] if personal_columns else [
                            c for c in rel.columns if c in table.personal]
                        if withheld:
                            rel = rel.project(", ".join(
                                f'"{c}"' for c in rel.columns if c not in withheld))
                        rel.write_parquet(str(path), compression="zstd")
                        entries.append({
                            "table": table.name, "area": table.area, "status": "built",
                            "rows": int(pq.ParquetFile(path).metadata.num_rows),
                            "columns": [
                                {"name": n, "type": str(t)}
                                for n, t in zip(rel.columns, rel.types, strict=True)
                            ],
                            "withheld_columns": withheld,
                            "file": path.name,
                            "path": f"{build.name}/{path.name}",
                        })
                    else:
                        log.info("%s: not in %s, published as an empty placeholder", table.name, db)
                        entries.append({
                            "table": table.name, "area": table.area, "status": "not_built",
                            "rows": 0, "columns": _write_placeholder(table, path),
                            "withheld_columns": [],
                            "file": path.name,
                            "path": f"{build.name}/{path.name}",
                        })
                activation = (_write_activation(con, build)
                              if ACTIVATION_TABLE in existing and any(
                                  t.name == ACTIVATION_TABLE for t in tables) else [])
                as_of = _as_of(con, existing)
            finally:
                con.close()
        manifest = {
            "as_of": as_of,
            "built_at": _utc_now().isoformat(timespec="seconds"),
            "source_db": db.name,
            "set": build.name,
            "tables": entries,
            "activation": activation,
        }
        # The manifest is written last: a set with a manifest is complete.
        tmp = build / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(manifest, indent=2) + "\n")
        for f in build.rglob("*"):
            if f.is_file():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
        os.replace(tmp, build / MANIFEST)
        _fsync_dir(build)
        _switch(out, build)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    _prune(out, keep)
    built = sum(e["status"] == "built" for e in entries)
    log.info(
        "published %s: %d tables built, %d not built, in %.1f s",
        build.name, built, len(entries) - built, time.perf_counter() - started,
    )
    return manifest


def _switch(out: Path, build: Path) -> None:
    """Point `out/current` at `build` with one atomic rename of a fresh symlink."""
    link = out / CURRENT
    if link.exists() and not link.is_symlink():
        raise UserError(f"{link} exists and is not a symlink; move it away")
    tmp = out / f".{CURRENT}-{build.name}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(build.name, tmp, target_is_directory=True)
    os.replace(tmp, link)
    _fsync_dir(out)


def _prune(out: Path, keep: int) -> None:
    current = resolve_current(out, missing_ok=True)
    for old in _sets(out)[:-keep]:
        if current is not None and old.resolve() == current:
            continue
        shutil.rmtree(old, ignore_errors=True)


def resolve_current(out: Path | str, missing_ok: bool = False) -> Path | None:
    """The folder of the current complete set (resolve once, then read from it)."""
    link = Path(out) / CURRENT
    if not link.exists():
        if missing_ok:
            return None
        raise UserError(f"{link}: nothing published yet; run `clientele export` first")
    return link.resolve(strict=True)


def read_manifest(folder: Path | str) -> dict:
    """The manifest of a published set folder (from `resolve_current`)."""
    return json.loads((Path(folder) / MANIFEST).read_text())


def read_table(folder: Path | str, name: str) -> pa.Table:
    """One exported table of a published set folder."""
    return pq.read_table(Path(folder) / f"{name}.parquet")


def check_set(folder: Path | str) -> list[str]:
    """Problems with a published set (empty when it is complete and consistent)."""
    folder = Path(folder)
    problems = []
    manifest = read_manifest(folder)
    for entry in manifest["tables"]:
        path = folder / entry["file"]
        if not path.exists():
            problems.append(f"{entry['table']}: file missing")
            continue
        meta = pq.ParquetFile(path).metadata
        if meta.num_rows != entry["rows"]:
            problems.append(
                f"{entry['table']}: {meta.num_rows} rows, manifest says {entry['rows']}"
            )
        names = [c["name"] for c in entry["columns"]]
        if meta.schema.names != names:
            problems.append(f"{entry['table']}: columns differ from the manifest")
    return problems


def select_tables(names: Iterable[str] | None) -> list[ExportTable]:
    """Export tables by name; an unknown name is refused (a typo would publish a placeholder)."""
    if not names:
        return list(EXPORT_TABLES)
    names = list(names)
    unknown = [n for n in names if n not in TABLES_BY_NAME]
    if unknown:
        raise UserError(f"--tables: not exported tables: {', '.join(unknown)} "
                        f"(exported: {', '.join(TABLES_BY_NAME)})")
    return [TABLES_BY_NAME[n] for n in names]


@dataclass(frozen=True)
class PublishedSet:
    """One published set, resolved once: every table read through it comes from that set,
    even if a newer set is published meanwhile."""

    folder: Path
    manifest: dict

    def path(self, name: str) -> Path:
        entry = next((t for t in self.manifest["tables"] if t["table"] == name), None)
        if entry is None:
            raise UserError(f"{name}: not in the published set {self.manifest['set']}")
        return self.folder.parent / entry.get("path", f"{self.folder.name}/{entry['file']}")

    def read(self, name: str) -> pa.Table:
        return pq.read_table(self.path(name))


def open_published(out: Path | str) -> PublishedSet:
    """The current set of an exports folder, resolved once (then `.read(table)`)."""
    folder = resolve_current(out)
    assert folder is not None
    return PublishedSet(folder, read_manifest(folder))
