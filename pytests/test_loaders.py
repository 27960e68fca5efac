"""Loaders: real public samples in, the raw contract out, every row accounted for."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from clientele.contract import TABLES
from clientele.loaders import LoadError, load_olist, load_online_retail
from clientele.raw import REPORT_FILE, RawFolderWriter

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT.parent / "shared" / "datasets"
OLIST = DATASETS / "olist_sample"
RETAIL = DATASETS / "online_retail_ii" / "online_retail_II_2009_2010.parquet"

needs_olist = pytest.mark.skipif(not OLIST.exists(), reason="shared Olist sample not present")
needs_retail = pytest.mark.skipif(not RETAIL.exists(), reason="shared Online Retail II not present")


def assert_contract(raw: Path) -> None:
    for table in TABLES:
        schema = pq.read_schema(raw / f"{table.name}.parquet")
        assert schema.names == table.column_names, table.name
        assert schema.types == [c.type for c in table.columns], table.name


def test_sources_yaml_documents_every_contract_column() -> None:
    sources = yaml.safe_load((ROOT / "models/staging/_sources.yml").read_text())
    documented = {
        t["name"]: [c["name"] for c in t["columns"] if c.get("description")]
        for t in sources["sources"][0]["tables"]
    }
    assert documented == {t.name: t.column_names for t in TABLES}
    # Types and what is required: staging reads them from the YAML (macro raw_table).
    tables = {t["name"]: t for t in sources["sources"][0]["tables"]}
    for table in TABLES:
        spec = tables[table.name]
        assert spec["meta"]["required"] == table.required, table.name
        for column, documented_column in zip(table.columns, spec["columns"], strict=True):
            assert documented_column["data_type"] == column.sql_type, (table.name, column.name)
            assert documented_column.get("meta", {}).get("required", False) == column.required


@needs_olist
def test_olist_every_order_and_person_kept(tmp_path: Path) -> None:
    report = load_olist(OLIST, tmp_path / "raw")
    raw = tmp_path / "raw"
    assert_contract(raw)
    orders = pd.read_parquet(raw / "orders.parquet")
    customers = pd.read_parquet(raw / "customers.parquet")
    source_people = pd.read_csv(OLIST / "olist_customers_dataset.csv")["customer_unique_id"]
    assert len(orders) == 8135
    assert len(customers) == source_people.nunique() == 8016
    # Orders point at the person, not at Olist's per-order customer_id.
    assert set(orders["customer_id"]) <= set(customers["customer_id"])
    assert report["rows_written"]["order_lines"] == 8365
    assert report["rows_written"]["reviews"] == 8225
    products = pd.read_parquet(raw / "products.parquet")
    assert "health_beauty" in set(products["category"])
    assert set(orders["status"]) >= {"delivered", "canceled"}
    assert json.loads((raw / REPORT_FILE).read_text())["rows_rejected"] == {}


@needs_retail
def test_online_retail_ii_every_line_kept_and_cancellations_are_returns(tmp_path: Path) -> None:
    report = load_online_retail(RETAIL, tmp_path / "raw")
    raw = tmp_path / "raw"
    assert_contract(raw)
    lines = pd.read_parquet(raw / "order_lines.parquet")
    orders = pd.read_parquet(raw / "orders.parquet")
    assert len(lines) + sum(report["rows_rejected"].values()) == 525_461
    assert len(lines) == 525_461
    returns = orders[orders["order_id"].str.startswith("C")]
    assert (returns["status"] == "returned").all()
    returned_lines = lines[lines["order_id"].isin(returns["order_id"])]
    # One manual adjustment (code M) in a C invoice has a positive quantity: kept as is.
    positive = returned_lines[returned_lines["quantity"] > 0]
    assert set(positive["product_id"]) == {"M"}
    assert len(positive) == 1
    customers = pd.read_parquet(raw / "customers.parquet")
    assert len(customers) == 4383
    assert not customers["customer_id"].str.contains(r"\.").any()


def _old_release_frame() -> pd.DataFrame:
    """A few rows in the layout of the 2010-2011 'Online Retail' release."""
    return pd.DataFrame({
        "InvoiceNo": ["536365", "536365", "C536379", "536380"],
        "StockCode": ["85123A", "POST", "85123A", "22728"],
        "Description": ["WHITE HANGING HEART T-LIGHT HOLDER", "POSTAGE",
                        "WHITE HANGING HEART T-LIGHT HOLDER", "ALARM CLOCK BAKELIKE PINK"],
        "Quantity": [6, 1, -2, 4],
        "InvoiceDate": ["12/1/2010 8:26", "12/1/2010 8:26", "12/1/2010 9:41", "12/1/2010 9:41"],
        "UnitPrice": [2.55, 18.0, 2.55, 3.75],
        "CustomerID": ["17850", "17850", "17850", ""],
        "Country": ["United Kingdom"] * 4,
    })


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_online_retail_old_release_in_every_format(tmp_path: Path, suffix: str) -> None:
    frame = _old_release_frame()
    path = tmp_path / f"online_retail{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".xlsx":
        frame.to_excel(path, index=False)
    else:
        frame.to_parquet(path)
    report = load_online_retail(path, tmp_path / "raw")
    raw = tmp_path / "raw"
    assert_contract(raw)
    orders = pd.read_parquet(raw / "orders.parquet").set_index("order_id")
    assert orders.loc["536365", "ordered_at"] == pd.Timestamp("2010-12-01 08:26")
    assert orders.loc["C536379", "status"] == "returned"
    assert pd.isna(orders.loc["536380", "customer_id"])
    products = pd.read_parquet(raw / "products.parquet").set_index("product_id")
    assert not products.loc["POST", "is_merchandise"]
    assert products.loc["85123A", "family"] == "holder"
    assert report["rows_written"]["order_lines"] == 4


def test_broken_csv_is_one_clear_line_naming_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    good = _old_release_frame().to_csv(index=False)
    lines = good.splitlines()
    lines.insert(3, '536999,85123A,"A BROKEN, LINE",6,12/1/2010 8:26,2.55,17850,United Kingdom,x,y')
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "raw"
    with pytest.raises(LoadError, match=r"broken\.csv: line 4: expected 8 fields, saw 10"):
        load_online_retail(path, out)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".raw")]

    result = subprocess.run(
        [sys.executable, "-m", "clientele.cli", "load", "online-retail", str(path), "--out",
         str(out)],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "broken.csv: line 4" in result.stderr


def test_missing_olist_file_names_it(tmp_path: Path) -> None:
    (tmp_path / "olist").mkdir()
    with pytest.raises(LoadError, match="olist_customers_dataset.csv: file not found"):
        load_olist(tmp_path / "olist", tmp_path / "raw")


def test_failed_write_keeps_the_previous_raw_folder(tmp_path: Path) -> None:
    out = tmp_path / "raw"
    with RawFolderWriter(out, allow_empty=True) as writer:
        writer.write("customers", pd.DataFrame({
            "customer_id": ["C1"], "first_seen_at": [pd.Timestamp("2024-01-01")],
            "country": ["FR"], "city": [None], "gender": [None], "birth_year": [None],
            "home_store_id": [None], "advisor_id": [None], "email_opt_in": [True],
            "phone_opt_in": [None],
        }))
    before = sorted(p.name for p in out.iterdir())
    with pytest.raises(RuntimeError), RawFolderWriter(out) as writer:
        writer.write("customers", pd.read_parquet(out / "customers.parquet"))
        raise RuntimeError("simulated crash half-way")
    assert sorted(p.name for p in out.iterdir()) == before
    assert len(pd.read_parquet(out / "customers.parquet")) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["raw"]
