"""A retailer's own exports, end to end, twice: identical marts.

The sample is written here as a retailer's till and CRM would export it: eleven CSV files
with their own column names, `;` as separator, decimal commas, day-first dates, O/N
flags, times in UTC with a `Z`, and the deliberately bad rows of the demo brand (1,500
clients, seed 3) it is made from. The mapping file says how they map to the contract.
Then, as a new user would: `clientele load mapping`, `clientele check`, and two
`clientele build`s of the same raw folder into two warehouses (the second without data
tests). Every public mart must be identical (order-independent hash per table), the
quarantine must hold the demo's bad rows with their reasons, and the marts must be filled.

The LSTM's wall-clock budget is lifted (`--var lstm_time_budget_s=...`): a budget hit
mid-epoch on a loaded machine stops training at a different batch, so two builds can
only agree when it is not hit.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from clientele.export import EXPORT_TABLES

ROOT = Path(__file__).resolve().parent.parent
CUSTOMERS = 1_500
# Columns and rows that say when and how fast the build ran, not what it computed.
VOLATILE = {("quarantine", "quarantined_at")}
TIMINGS = {"model_evaluation": "metric not in ('seconds_per_epoch', 'train_seconds')"}
TIME_BUDGET_VAR = "lstm_time_budget_s=100000"


def public_marts() -> set[str]:
    """The models under models/marts and the tables published for BI."""
    marts = {p.stem for p in (ROOT / "models" / "marts").rglob("*.sql")}
    return marts | {t.name for t in EXPORT_TABLES}


def fingerprint(db: Path, tables: set[str]) -> dict[str, tuple[int, str]]:
    """Rows and an order-independent hash of every row of each table that exists."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        existing = {r[0] for r in con.sql(
            "select table_name from information_schema.tables where table_schema = 'main'"
        ).fetchall()}
        out = {}
        for table in sorted(tables & existing):
            columns = [r[0] for r in con.sql(
                "select column_name from information_schema.columns where table_schema = 'main' "
                f"and table_name = '{table}' order by ordinal_position").fetchall()
                       if (table, r[0]) not in VOLATILE]
            row = ", ".join(f'"{c}" := "{c}"' for c in columns)
            where = f"where {TIMINGS[table]}" if table in TIMINGS else ""
            count, total = con.sql(
                f'select count(*), sum(hash(struct_pack({row}))::hugeint) from "{table}" {where}'
            ).fetchone()
            out[table] = (int(count), str(total))
        return out
    finally:
        con.close()


# --------------------------------------------------------------------------- the exports


def _text(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.notna(), "")


def _decimal_comma(values: pd.Series) -> pd.Series:
    return values.map(lambda v: "" if pd.isna(v) else repr(float(v)).replace(".", ","))


def _day_first(values: pd.Series, with_time: bool = True) -> pd.Series:
    fmt = "%d/%m/%Y %H:%M:%S" if with_time else "%d/%m/%Y"
    return pd.to_datetime(values).dt.strftime(fmt).fillna("")


def _utc_z(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.strftime("%Y-%m-%dT%H:%M:%SZ").fillna("")


def _flag(values: pd.Series) -> pd.Series:
    return values.map(lambda v: "" if pd.isna(v) else ("O" if v else "N"))


def _whole(values: pd.Series) -> pd.Series:
    return values.map(lambda v: "" if pd.isna(v) else str(int(v)))


EXPORTS: dict[str, tuple[str, dict[str, tuple[str, Any]]]] = {
    # contract table: (file, {contract column: (export column, formatter)})
    "customers": ("clients.csv", {
        "customer_id": ("NO_CLIENT", _text), "first_seen_at": ("CREE_LE", _day_first),
        "country": ("PAYS", _text), "city": ("VILLE", _text), "gender": ("GENRE", _text),
        "birth_year": ("ANNEE_NAISSANCE", _whole), "home_store_id": ("BOUTIQUE", _text),
        "advisor_id": ("CONSEILLER", _text), "email_opt_in": ("OPTIN_EMAIL", _flag),
        "phone_opt_in": ("OPTIN_TEL", _flag)}),
    "products": ("articles.csv", {
        "product_id": ("SKU", _text), "name": ("LIBELLE", _text), "category": ("CATEGORIE", _text),
        "family": ("FAMILLE", _text), "subfamily": ("SOUS_FAMILLE", _text),
        "collection_id": ("COLLECTION", _text), "color": ("COULEUR", _text),
        "material": ("MATIERE", _text), "gender_line": ("LIGNE", _text),
        "list_price": ("PRIX", _decimal_comma), "unit_cost": ("COUT", _decimal_comma),
        "is_merchandise": ("MARCHANDISE", _flag), "is_discontinued": ("ARRETE", _flag)}),
    "collections": ("collections.csv", {
        "collection_id": ("CODE", _text), "name": ("NOM", _text),
        "launch_date": ("LANCEMENT", lambda v: _day_first(v, with_time=False))}),
    "orders": ("tickets.csv", {
        "order_id": ("TICKET", _text), "customer_id": ("NO_CLIENT", _text),
        "ordered_at": ("DATE_HEURE", _day_first), "channel": ("CANAL", _text),
        "store_id": ("BOUTIQUE", _text), "country": ("PAYS", _text), "status": ("STATUT", _text),
        "delivered_at": ("LIVRE_LE", _day_first),
        "promised_delivery_at": ("PROMIS_LE", _day_first)}),
    "order_lines": ("lignes.csv", {
        "order_id": ("TICKET", _text), "line_number": ("LIGNE", _whole),
        "product_id": ("SKU", _text), "quantity": ("QTE", _whole),
        "unit_price": ("PU", _decimal_comma), "discount": ("REMISE", _decimal_comma)}),
    "reviews": ("avis.csv", {
        "review_id": ("AVIS", _text), "order_id": ("TICKET", _text), "score": ("NOTE", _whole),
        "created_at": ("DATE", _day_first)}),
    "web_events": ("web.csv", {
        "event_id": ("ID", _text), "customer_id": ("CLIENT", _text), "product_id": ("SKU", _text),
        "event_type": ("TYPE", _text), "occurred_at": ("HORODATAGE", _utc_z)}),
    "email_events": ("emails.csv", {
        "event_id": ("ID", _text), "customer_id": ("CLIENT", _text),
        "campaign_id": ("CAMPAGNE", _text), "event_type": ("TYPE", _text),
        "occurred_at": ("HORODATAGE", _utc_z)}),
    "stores": ("boutiques.csv", {
        "store_id": ("CODE", _text), "name": ("NOM", _text), "country": ("PAYS", _text),
        "city": ("VILLE", _text), "advisor_count": ("CONSEILLERS", _whole),
        "advisor_capacity": ("CAPACITE", _whole)}),
    "stock": ("stock.csv", {
        "store_id": ("BOUTIQUE", _text), "product_id": ("SKU", _text),
        "quantity": ("QTE", _whole),
        "as_of": ("INVENTAIRE_DU", lambda v: _day_first(v, with_time=False))}),
    "campaign_contacts": ("campagnes.csv", {
        "campaign_id": ("CAMPAGNE", _text), "customer_id": ("CLIENT", _text),
        "collection_id": ("COLLECTION", _text), "contacted_at": ("CONTACTE_LE", _day_first),
        "channel": ("CANAL", _text), "is_control": ("TEMOIN", _flag),
        "converted": ("CONVERTI", _flag)}),
}


def write_retailer_exports(demo_raw: Path, folder: Path) -> Path:
    """The demo brand as a retailer's CSV exports, and the mapping that reads them."""
    folder.mkdir(parents=True)
    mapping = ["timezone: UTC", 'date_format: "%d/%m/%Y %H:%M:%S"',
               'csv: {delimiter: ";", decimal: ","}', "tables:"]
    for table, (file, columns) in EXPORTS.items():
        frame = pd.read_parquet(demo_raw / f"{table}.parquet")
        export = pd.DataFrame({out: fmt(frame[name]) for name, (out, fmt) in columns.items()})
        export.to_csv(folder / file, sep=";", index=False)
        mapping += [f"  {table}:", f"    file: {file}", "    columns:"]
        for name, (out, fmt) in columns.items():
            if name in ("launch_date", "as_of"):
                mapping.append(f"      {name}: {{column: {out}, format: '%d/%m/%Y'}}")
            elif fmt is _flag:
                mapping.append(f"      {name}: {{column: {out}, true_values: [O], "
                               "false_values: [N]}")
            else:
                mapping.append(f"      {name}: {out}")
    (folder / "mapping.yml").write_text("\n".join(mapping) + "\n")
    return folder / "mapping.yml"


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "clientele.cli", *args], cwd=cwd,
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("own_data")
    demo = cli("demo", "--customers", str(CUSTOMERS), "--seed", "3", "--out",
               str(work / "demo" / "raw"), cwd=work)
    assert demo.returncode == 0, demo.stderr
    mapping = write_retailer_exports(work / "demo" / "raw", work / "exports")
    out: dict[str, Any] = {"work": work}
    out["load"] = cli("load", "mapping", str(mapping), "--out", str(work / "raw"), cwd=work)
    out["check"] = cli("check", str(work / "raw"), cwd=work)
    # The second build only has to give the same tables: its data tests are left out
    # (they are most of a build's nodes, and the first build runs them).
    for name, dbt_args in (("a", []), ("b", ["--exclude-resource-type", "test",
                                             "--exclude-resource-type", "unit_test"])):
        out[f"build_{name}"] = cli(
            "build", "--raw", str(work / "raw"), "--db", str(work / f"{name}.duckdb"),
            "--target-path", str(work / f"target_{name}"), "--var", TIME_BUDGET_VAR,
            "--", *dbt_args, cwd=work)
    return out


def test_the_exports_load_through_the_mapping(own: dict[str, Any]) -> None:
    load = own["load"]
    assert load.returncode == 0, load.stderr
    assert "rejected: none" in load.stdout  # every value of the demo converts
    raw, demo = own["work"] / "raw", own["work"] / "demo" / "raw"
    for table in EXPORTS:  # the same rows as the demo brand wrote directly
        ours, theirs = pd.read_parquet(raw / f"{table}.parquet"), pd.read_parquet(
            demo / f"{table}.parquet")
        assert len(ours) == len(theirs), table
    orders = pd.read_parquet(raw / "orders.parquet").set_index("order_id")
    direct = pd.read_parquet(demo / "orders.parquet").drop_duplicates("order_id").set_index(
        "order_id")
    shared = orders.index.intersection(direct.index).unique()[:500]
    left = orders[~orders.index.duplicated()].loc[shared, "ordered_at"]
    assert (left == direct.loc[shared, "ordered_at"].dt.floor("s")).all()
    prices = pd.read_parquet(raw / "order_lines.parquet")["unit_price"]
    assert np.allclose(prices.to_numpy(), pd.read_parquet(demo / "order_lines.parquet")[
        "unit_price"].to_numpy())


def test_check_reports_the_bad_rows_before_the_build(own: dict[str, Any]) -> None:
    check = own["check"]
    assert check.returncode == 1, check.stdout  # rows to quarantine, nothing that stops
    assert "orders.parquet: column ordered_at:" in check.stdout
    assert "dates in the future: quarantined" in check.stdout
    assert "order_lines.parquet: column product_id:" in check.stdout


def test_both_builds_pass(own: dict[str, Any]) -> None:
    for name in ("a", "b"):
        build = own[f"build_{name}"]
        assert build.returncode == 0, build.stdout[-4000:]


def test_two_builds_give_identical_public_marts(own: dict[str, Any]) -> None:
    marts = public_marts()
    a = fingerprint(own["work"] / "a.duckdb", marts)
    b = fingerprint(own["work"] / "b.duckdb", marts)
    assert len(a) >= 30, sorted(a)
    differ = {t: (a[t], b.get(t)) for t in a if a[t] != b.get(t)}
    assert differ == {}


def test_the_marts_are_filled_and_the_bad_rows_quarantined(own: dict[str, Any]) -> None:
    con = duckdb.connect(str(own["work"] / "a.duckdb"), read_only=True)
    try:
        reasons = dict(con.sql("select reject_reason, count(*) from quarantine group by 1"
                               ).fetchall())
        counts = {t: con.sql(f"select count(*) from {t}").fetchone()[0] for t in (
            "dim_customers", "fct_orders", "customer_rfm", "launch_audience", "advisor_worklist",
            "client_recommendations", "customer_predictions", "second_purchase_timing")}
        unaccounted = con.sql("select sum(abs(rows_unaccounted)) from staging_reconciliation"
                              ).fetchone()[0]
    finally:
        con.close()
    for reason in ("unknown customer_id", "missing customer_id", "ordered_at in the future",
                   "duplicate order_id", "unknown product_id", "duplicate order line",
                   "score outside 1-5"):
        assert reasons.get(reason, 0) > 0, (reason, reasons)
    assert unaccounted == 0
    assert counts["dim_customers"] == CUSTOMERS
    assert all(n > 0 for n in counts.values()), counts


def test_the_mapping_in_the_readme_reads(tmp_path: Path) -> None:
    """The README's example mapping is a valid mapping file."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index("```yaml\n# mapping.yml") + len("```yaml\n")
    text = readme[start:readme.index("```", start)]
    from clientele.mapping import read_mapping

    (tmp_path / "mapping.yml").write_text(textwrap.dedent(text))
    parsed = read_mapping(tmp_path / "mapping.yml")
    assert {"customers", "products", "orders", "order_lines"} <= {
        t.table.name for t in parsed.tables}
