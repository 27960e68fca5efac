"""Bad raw rows: each one is staged faithfully or quarantined with its reason, never lost.

One raw folder holds a small valid brand and, next to it, one bad row per case, each
tagged by its key (`O-1970`, line `O01#104`...). A single `dbt build` of staging, the
quarantine, the reconciliation and the core marts runs on it (in a session whose time
zone is Asia/Tokyo, to show that the session's zone never moves a date); the tests then
look each case up. A few more dbt runs on the same folder, swapped in place (so dbt's
partial parsing keeps them short), cover what must stop a run with one line: no
orders, a renamed required column, an as_of before the first order (`clientele build`
checks the same before it starts dbt: pytests/test_bad_input_loaders.py).

The folder mixes the types a retailer's own Parquet may have: text in numeric columns
(order_lines.quantity, reviews.score, stores.advisor_count, customers.birth_year, web
event times), a time-zone-aware ordered_at, a DATE promised_delivery_at, and optional
columns left out (products.subfamily, customers.advisor_id).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parent.parent
DBT = str(Path(sys.executable).parent / "dbt")
SELECT = ["+quarantine", "+staging_reconciliation", "+fct_orders", "+fct_order_lines",
          "+dim_customers", "assert_staging_reconciles"]
# One as_of for every run: a change of vars would make dbt parse the project again.
AS_OF = "2024-03-31"
NAN, INF = float("nan"), float("inf")
BIG_CITY = "Lyon " + "x" * 1_000_000  # a 1 MB string

TS = pa.timestamp("us")
TSZ = pa.timestamp("us", tz="UTC")
S = pa.string()


def ts(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def tsz(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)


def write(raw: Path, name: str, rows: list[dict[str, Any]], schema: pa.Schema) -> int:
    columns = {f.name: [r.get(f.name) for r in rows] for f in schema}
    pq.write_table(pa.table(columns, schema=schema), raw / f"{name}.parquet")
    return len(rows)


# --------------------------------------------------------------------------- the folder

CUSTOMERS = pa.schema([("customer_id", S), ("first_seen_at", TS), ("country", S), ("city", S),
                       ("gender", S), ("birth_year", S), ("home_store_id", S),
                       ("email_opt_in", pa.bool_()), ("phone_opt_in", pa.bool_())])
PRODUCTS = pa.schema([("product_id", S), ("name", S), ("category", S), ("family", S),
                      ("collection_id", S), ("color", S), ("material", S), ("gender_line", S),
                      ("list_price", pa.float64()), ("unit_cost", pa.float64()),
                      ("is_merchandise", pa.bool_()), ("is_discontinued", pa.bool_())])
COLLECTIONS = pa.schema([("collection_id", S), ("name", S), ("launch_date", pa.date32())])
ORDERS = pa.schema([("order_id", S), ("customer_id", S), ("ordered_at", TSZ), ("channel", S),
                    ("store_id", S), ("country", S), ("status", S), ("delivered_at", TS),
                    ("promised_delivery_at", pa.date32())])
LINES = pa.schema([("order_id", S), ("line_number", pa.int32()), ("product_id", S),
                   ("quantity", S), ("unit_price", pa.float64()), ("discount", pa.float64()),
                   ("till_note", S)])  # not in the contract: ignored, but kept in raw records
REVIEWS = pa.schema([("review_id", S), ("order_id", S), ("score", S), ("created_at", TS)])
WEB = pa.schema([("event_id", S), ("customer_id", S), ("product_id", S), ("event_type", S),
                 ("occurred_at", S)])
EMAIL = pa.schema([("event_id", S), ("customer_id", S), ("campaign_id", S), ("event_type", S),
                   ("occurred_at", TS)])
STORES = pa.schema([("store_id", S), ("name", S), ("country", S), ("city", S),
                    ("advisor_count", S), ("advisor_capacity", pa.int32())])
STOCK = pa.schema([("store_id", S), ("product_id", S), ("quantity", pa.int32()),
                   ("as_of", pa.date32())])
CONTACTS = pa.schema([("campaign_id", S), ("customer_id", S), ("collection_id", S),
                      ("contacted_at", TS), ("channel", S), ("is_control", pa.bool_()),
                      ("converted", pa.bool_())])

# (table, record key in the quarantine, reason): every bad row of the folder.
QUARANTINED = [
    ("customers", "(missing key)", "missing customer_id"),
    ("customers", "C-dup", "duplicate customer_id"),
    ("customers", "C-future", "first_seen_at in the future"),
    ("customers", "C-1900", "first_seen_at before staging_min_valid_date"),
    ("customers", "C-birth", "impossible birth_year"),
    ("customers", "C-birth-text", "unreadable birth_year: not an integer"),
    ("products", "P-nan", "non-finite list_price"),
    ("products", "P-inf", "non-finite list_price"),
    ("products", "P-huge", "list_price above staging_max_unit_price"),
    ("products", "P-neg", "negative list_price"),
    ("products", "P-cost", "negative unit_cost"),
    ("products", "P-dup", "duplicate product_id"),
    ("collections", "COL-nodate", "missing launch_date"),
    ("collections", "COL-1900", "launch_date before staging_min_valid_date"),
    ("collections", "COL-dup", "duplicate collection_id"),
    ("orders", "(missing key)", "missing order_id"),
    ("orders", "O-nocust", "missing customer_id"),
    ("orders", "O-unknown", "unknown customer_id"),
    ("orders", "O-quarcust", "unknown customer_id"),
    ("orders", "O-future", "ordered_at in the future"),
    ("orders", "O-1900", "ordered_at before staging_min_valid_date"),
    ("orders", "O-1970", "ordered_at before staging_min_valid_date"),
    ("orders", "O-nodate", "missing ordered_at"),
    ("orders", "O-delivered", "delivered before ordered"),
    ("orders", "O-promised", "delivery promised before ordered"),
    ("orders", "O-dup", "duplicate order_id"),
    ("order_lines", "O01#101", "non-finite unit_price"),
    ("order_lines", "O01#102", "non-finite unit_price"),
    ("order_lines", "O01#103", "non-finite unit_price"),
    ("order_lines", "O01#104", "unit_price above staging_max_unit_price"),
    ("order_lines", "O01#105", "negative unit_price"),
    ("order_lines", "O01#106", "zero unit_price"),
    ("order_lines", "O01#107", "zero or missing quantity"),
    ("order_lines", "O01#108", "impossible quantity"),
    ("order_lines", "O01#109", "unreadable quantity: not an integer"),
    ("order_lines", "O01#110", "unreadable quantity: not an integer"),
    ("order_lines", "O01#111", "zero or missing quantity"),
    ("order_lines", "O01#112", "unknown product_id"),
    ("order_lines", "O01#113", "unknown product_id"),
    ("order_lines", "O01#114", "non-finite discount"),
    ("order_lines", "O01#115", "impossible discount"),
    ("order_lines", "O01#116", "impossible discount"),
    ("order_lines", "O01#1", "duplicate order line"),
    ("order_lines", "O-future#1", "order missing or quarantined"),
    ("order_lines", "O-ghost#1", "order missing or quarantined"),
    ("order_lines", "O02#?", "missing line_number"),
    ("reviews", "R-five@O01", "unreadable score: not an integer"),
    ("reviews", "R-zero@O01", "score outside 1-5"),
    ("reviews", "R-six@O01", "score outside 1-5"),
    ("reviews", "R-null@O01", "score outside 1-5"),
    ("reviews", "R-ghost@O-ghost", "order missing or quarantined"),
    ("reviews", "R-future@O01", "created_at in the future"),
    ("reviews", "R-1970@O01", "created_at before staging_min_valid_date"),
    ("reviews", "R-dup@O02", "duplicate review"),
    ("web_events", "W-text", "unreadable occurred_at: not a timestamp"),
    ("web_events", "W-1970", "occurred_at before staging_min_valid_date"),
    ("web_events", "W-future", "occurred_at in the future"),
    ("web_events", "W-ghost-product", "unknown or missing product_id"),
    ("web_events", "W-ghost-customer", "unknown or missing customer_id"),
    ("web_events", "W-type", "unknown event_type"),
    ("web_events", "W-null", "missing occurred_at"),
    ("web_events", "W-dup", "duplicate event_id"),
    ("email_events", "M-ghost", "unknown or missing customer_id"),
    ("email_events", "M-type", "unknown event_type"),
    ("email_events", "M-future", "occurred_at in the future"),
    ("email_events", "M-null", "missing occurred_at"),
    ("email_events", "M-dup", "duplicate event_id"),
    ("stores", "S-neg", "negative advisor figures"),
    ("stores", "S-text", "unreadable advisor_count: not an integer"),
    ("stores", "S-dup", "duplicate store_id"),
    ("stock", "S-ghost@P01", "unknown or missing store_id"),
    ("stock", "S01@P-ghost", "unknown or missing product_id"),
    ("stock", "S01@P02", "negative or missing quantity"),
    ("stock", "S02@P01", "older or duplicate stock count"),
    ("campaign_contacts", "CAMP1@C-ghost", "unknown or missing customer_id"),
    ("campaign_contacts", "CAMP1@C02", "contacted client without contact date"),
    ("campaign_contacts", "CAMP1@C03", "contacted_at in the future"),
    ("campaign_contacts", "CAMP1@C05", "contacted_at before staging_min_valid_date"),
    ("campaign_contacts", "CAMP1@C04", "duplicate campaign contact"),
]


def write_brand(raw: Path) -> dict[str, int]:
    """The valid brand and every bad row; returns rows written per table."""
    raw.mkdir(parents=True, exist_ok=True)
    good_customers = [{"customer_id": f"C{i:02d}", "first_seen_at": ts("2023-01-01"),
                       "country": "FR", "city": "Paris", "gender": "f", "birth_year": "1980",
                       "home_store_id": "S01", "email_opt_in": True, "phone_opt_in": False}
                      for i in range(1, 11)]
    customers = good_customers + [
        {"customer_id": "   ", "first_seen_at": ts("2023-01-01")},
        {"customer_id": "C-dup", "first_seen_at": ts("2023-01-01"), "city": "first copy"},
        {"customer_id": "C-dup", "first_seen_at": ts("2023-01-01"), "city": "second copy"},
        {"customer_id": "C-future", "first_seen_at": ts("2100-01-01")},
        {"customer_id": "C-1900", "first_seen_at": ts("1900-01-01")},
        {"customer_id": "C-birth", "birth_year": "1850"},
        {"customer_id": "C-birth-text", "birth_year": "19x0"},
        {"customer_id": "C'); drop table stg_orders; --", "city": "Robert"},
        {"customer_id": "C-😀", "city": "Saint-Étienne 🏙️"},
        {"customer_id": "C-big", "city": BIG_CITY},
    ]
    products = [{"product_id": f"P{i:02d}", "name": f"Bag {i}", "category": "Bags",
                 "family": "tote", "list_price": 100.0 * i, "unit_cost": 40.0 * i,
                 "is_merchandise": True, "is_discontinued": False} for i in range(1, 6)]
    products += [
        {"product_id": "FEE", "name": "Postage", "list_price": 0.0, "is_merchandise": False},
        {"product_id": "P-nan", "list_price": NAN},
        {"product_id": "P-inf", "list_price": INF},
        {"product_id": "P-huge", "list_price": 1e12},
        {"product_id": "P-neg", "list_price": -1.0},
        {"product_id": "P-cost", "list_price": 10.0, "unit_cost": -5.0},
        {"product_id": "P-dup", "list_price": 10.0},
        {"product_id": "P-dup", "list_price": 20.0},
    ]
    collections = [
        {"collection_id": "COL1", "name": "Spring", "launch_date": date(2024, 1, 1)},
        {"collection_id": "COL-nodate", "name": "No date"},
        {"collection_id": "COL-1900", "launch_date": date(1900, 1, 1)},
        {"collection_id": "COL-dup", "launch_date": date(2024, 1, 1)},
        {"collection_id": "COL-dup", "launch_date": date(2024, 2, 1)},
    ]
    orders = [{"order_id": f"O{i:02d}", "customer_id": f"C{i:02d}",
               "ordered_at": tsz(f"2024-02-{i:02d} 10:00:00"), "channel": "store",
               "store_id": "S01", "country": "FR", "status": "delivered",
               "delivered_at": ts(f"2024-02-{i + 2:02d} 10:00:00"),
               "promised_delivery_at": date(2024, 2, i + 3)} for i in range(1, 11)]
    orders += [
        # 23:30 UTC: a session in Tokyo would call it 08:30 the next day.
        {"order_id": "O-tz", "customer_id": "C01", "ordered_at": tsz("2024-03-01 23:30:00")},
        {"order_id": " ", "customer_id": "C01", "ordered_at": tsz("2024-02-01 10:00:00")},
        {"order_id": "O-nocust", "ordered_at": tsz("2024-02-01 10:00:00")},
        {"order_id": "O-unknown", "customer_id": "C-ghost",
         "ordered_at": tsz("2024-02-01 10:00:00")},
        {"order_id": "O-quarcust", "customer_id": "C-future",
         "ordered_at": tsz("2024-02-01 10:00:00")},
        {"order_id": "O-future", "customer_id": "C01", "ordered_at": tsz("2100-01-01 10:00:00")},
        {"order_id": "O-1900", "customer_id": "C01", "ordered_at": tsz("1900-01-01 00:00:00")},
        {"order_id": "O-1970", "customer_id": "C01", "ordered_at": tsz("1970-01-01 00:00:00")},
        {"order_id": "O-nodate", "customer_id": "C01"},
        {"order_id": "O-delivered", "customer_id": "C01", "ordered_at": tsz("2024-02-01 10:00:00"),
         "delivered_at": ts("2024-01-01 10:00:00")},
        {"order_id": "O-promised", "customer_id": "C01", "ordered_at": tsz("2024-02-01 10:00:00"),
         "promised_delivery_at": date(2024, 1, 15)},
        {"order_id": "O-dup", "customer_id": "C01", "ordered_at": tsz("2024-02-01 10:00:00")},
        {"order_id": "O-dup", "customer_id": "C02", "ordered_at": tsz("2024-02-02 10:00:00")},
    ]
    lines = [{"order_id": f"O{i:02d}", "line_number": 1, "product_id": f"P{1 + i % 5:02d}",
              "quantity": "1", "unit_price": 100.0 + i, "discount": 0.0} for i in range(1, 11)]
    lines += [
        {"order_id": "O-tz", "line_number": 1, "product_id": "P01", "quantity": "2",
         "unit_price": 50.0},
        {"order_id": "O02", "line_number": 2, "product_id": "FEE", "quantity": "1",
         "unit_price": 0.0},
        {"order_id": "O03", "line_number": 2, "product_id": "P01", "quantity": "-1",
         "unit_price": 100.0},
        {"order_id": "O01", "line_number": 1, "product_id": "P02", "quantity": "1",
         "unit_price": 999.0},
        {"order_id": "O-future", "line_number": 1, "product_id": "P01", "quantity": "1",
         "unit_price": 10.0},
        {"order_id": "O-ghost", "line_number": 1, "product_id": "P01", "quantity": "1",
         "unit_price": 10.0},
        {"order_id": "O02", "line_number": None, "product_id": "P01", "quantity": "1",
         "unit_price": 10.0},
    ]
    bad_lines = {101: {"unit_price": NAN}, 102: {"unit_price": INF}, 103: {"unit_price": -INF},
                 104: {"unit_price": 1e12}, 105: {"unit_price": -5.0}, 106: {"unit_price": 0.0},
                 107: {"quantity": "0"}, 108: {"quantity": "1000000"},
                 109: {"quantity": "1.5"}, 110: {"quantity": "two"}, 111: {"quantity": None},
                 112: {"product_id": "P-ghost"}, 113: {"product_id": "P-nan"},
                 114: {"discount": NAN}, 115: {"discount": 1000.0}, 116: {"discount": -1.0}}
    lines += [{"order_id": "O01", "line_number": n, "product_id": "P01", "quantity": "1",
               "unit_price": 10.0, "discount": 0.0, "till_note": f"case {n}", **change}
              for n, change in bad_lines.items()]
    reviews = [
        {"review_id": "R01", "order_id": "O01", "score": "5", "created_at": ts("2024-02-05")},
        {"review_id": "R-five", "order_id": "O01", "score": "five"},
        {"review_id": "R-zero", "order_id": "O01", "score": "0"},
        {"review_id": "R-six", "order_id": "O01", "score": "6"},
        {"review_id": "R-null", "order_id": "O01", "score": None},
        {"review_id": "R-ghost", "order_id": "O-ghost", "score": "4"},
        {"review_id": "R-future", "order_id": "O01", "score": "4",
         "created_at": ts("2100-01-01")},
        {"review_id": "R-1970", "order_id": "O01", "score": "4", "created_at": ts("1970-01-01")},
        {"review_id": "R-dup", "order_id": "O02", "score": "4"},
        {"review_id": "R-dup", "order_id": "O02", "score": "3"},
    ]
    web = [{"event_id": f"W{i:02d}", "customer_id": f"C{i:02d}", "product_id": "P01",
            "event_type": "view", "occurred_at": f"2024-02-{i:02d} 09:00:00"} for i in range(1, 6)]
    event = {"customer_id": "C01", "product_id": "P01", "event_type": "view",
             "occurred_at": "2024-02-01 09:00:00"}
    web += [
        {**event, "event_id": "W-offset", "occurred_at": "2024-03-01T23:30:00-05:00"},
        {**event, "event_id": "W-Z", "occurred_at": "2024-03-01T10:00:00Z"},
        {**event, "event_id": "W-🛍️"},
        {**event, "event_id": "W-text", "occurred_at": "yesterday"},
        {**event, "event_id": "W-1970", "occurred_at": "1970-01-01 00:00:00"},
        {**event, "event_id": "W-future", "occurred_at": "2100-01-01 00:00:00"},
        {**event, "event_id": "W-ghost-product", "product_id": "P-ghost"},
        {**event, "event_id": "W-ghost-customer", "customer_id": "C-ghost"},
        {**event, "event_id": "W-type", "event_type": "purchase"},
        {**event, "event_id": "W-null", "occurred_at": None},
        {**event, "event_id": "W-dup"},
        {**event, "event_id": "W-dup", "event_type": "add_to_cart"},
    ]
    mail = {"customer_id": "C01", "campaign_id": "NL1", "event_type": "sent",
            "occurred_at": ts("2024-02-01 08:00:00")}
    email = [{**mail, "event_id": "M01"}, {**mail, "event_id": "M-ghost", "customer_id": "C-ghost"},
             {**mail, "event_id": "M-type", "event_type": "bounce"},
             {**mail, "event_id": "M-future", "occurred_at": ts("2100-01-01")},
             {**mail, "event_id": "M-null", "occurred_at": None},
             {**mail, "event_id": "M-dup"}, {**mail, "event_id": "M-dup", "event_type": "open"}]
    stores = [{"store_id": "S01", "name": "Paris", "country": "FR", "city": "Paris",
               "advisor_count": "3", "advisor_capacity": 20},
              {"store_id": "S02", "name": "Lyon", "country": "FR", "city": "Lyon",
               "advisor_count": " 2 ", "advisor_capacity": 20},
              {"store_id": "S-neg", "advisor_count": "1", "advisor_capacity": -1},
              {"store_id": "S-text", "advisor_count": "many"},
              {"store_id": "S-dup", "advisor_count": "1"}, {"store_id": "S-dup"}]
    stock = [{"store_id": "S01", "product_id": "P01", "quantity": 5, "as_of": date(2024, 2, 1)},
             {"store_id": "S-ghost", "product_id": "P01", "quantity": 5},
             {"store_id": "S01", "product_id": "P-ghost", "quantity": 5},
             {"store_id": "S01", "product_id": "P02", "quantity": -1},
             {"store_id": "S02", "product_id": "P01", "quantity": 1, "as_of": date(2024, 1, 1)},
             {"store_id": "S02", "product_id": "P01", "quantity": 4, "as_of": date(2024, 2, 1)}]
    contact = {"campaign_id": "CAMP1", "collection_id": "COL1", "channel": "phone",
               "is_control": False, "converted": False, "contacted_at": ts("2024-01-10")}
    contacts = [{**contact, "customer_id": "C01"}, {**contact, "customer_id": "C-ghost"},
                {**contact, "customer_id": "C02", "contacted_at": None},
                {**contact, "customer_id": "C03", "contacted_at": ts("2100-01-01")},
                {**contact, "customer_id": "C05", "contacted_at": ts("1970-01-01")},
                {**contact, "customer_id": "C04"}, {**contact, "customer_id": "C04"}]
    return {
        "customers": write(raw, "customers", customers, CUSTOMERS),
        "products": write(raw, "products", products, PRODUCTS),
        "collections": write(raw, "collections", collections, COLLECTIONS),
        "orders": write(raw, "orders", orders, ORDERS),
        "order_lines": write(raw, "order_lines", lines, LINES),
        "reviews": write(raw, "reviews", reviews, REVIEWS),
        "web_events": write(raw, "web_events", web, WEB),
        "email_events": write(raw, "email_events", email, EMAIL),
        "stores": write(raw, "stores", stores, STORES),
        "stock": write(raw, "stock", stock, STOCK),
        "campaign_contacts": write(raw, "campaign_contacts", contacts, CONTACTS),
    }


def write_minimal(raw: Path) -> None:
    """Only the required tables, each with only its required columns."""
    shutil.rmtree(raw, ignore_errors=True)
    raw.mkdir()
    write(raw, "customers", [{"customer_id": "C1"}, {"customer_id": "C2"}],
          pa.schema([("customer_id", S)]))
    write(raw, "products", [{"product_id": "P1"}], pa.schema([("product_id", S)]))
    write(raw, "orders", [{"order_id": "O1", "customer_id": "C1", "ordered_at": ts("2024-02-01")},
                          {"order_id": "O2", "customer_id": "C2", "ordered_at": ts("2024-03-01")}],
          pa.schema([("order_id", S), ("customer_id", S), ("ordered_at", TS)]))
    write(raw, "order_lines", [
        {"order_id": "O1", "line_number": 1, "product_id": "P1", "quantity": 2, "unit_price": 9.5},
        {"order_id": "O2", "line_number": 1, "product_id": "P1", "quantity": 1, "unit_price": 9.5}],
        pa.schema([("order_id", S), ("line_number", pa.int32()), ("product_id", S),
                   ("quantity", pa.int32()), ("unit_price", pa.float64())]))


# --------------------------------------------------------------------------- dbt runs


def run_dbt(workdir: Path, verb: str, select: list[str]) -> subprocess.CompletedProcess[str]:
    """Plain dbt, as the README's recipe says (no clientele CLI in between)."""
    raw_vars = f"raw_path: '{workdir / 'raw'}', as_of: '{AS_OF}'"
    env = {**os.environ, "CLIENTELE_DB": str(workdir / "bad.duckdb"), "TZ": "Asia/Tokyo"}
    started = time.perf_counter()
    result = subprocess.run(
        [DBT, verb, "--project-dir", str(ROOT), "--profiles-dir", str(ROOT),
         "--target-path", str(workdir / "target"), "--vars", "{" + raw_vars + "}",
         "--indirect-selection", "cautious", "--select", *select],
        env=env, cwd=ROOT, capture_output=True, text=True)
    print(f"dbt {verb} {' '.join(select)}: {time.perf_counter() - started:.1f} s")
    return result


def errors(result: subprocess.CompletedProcess[str]) -> str:
    return "\n".join(line for line in result.stdout.splitlines()
                     if "Error" in line or "error" in line)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every dbt run of the suite, in an order that keeps partial parsing on."""
    workdir = tmp_path_factory.mktemp("bad_input")
    raw = workdir / "raw"
    written = write_brand(raw)
    out: dict[str, Any] = {"written": written, "workdir": workdir}
    out["build"] = run_dbt(workdir, "build", SELECT)
    con = duckdb.connect(str(workdir / "bad.duckdb"), read_only=True)
    out["quarantine"] = con.sql(
        "select source_table, record_key, reject_reason, raw_record from quarantine").fetchall()
    out["reconciliation"] = {r[0]: r[1:] for r in con.sql(
        "select source_table, rows_read, rows_staged, rows_quarantined, rows_unaccounted "
        "from staging_reconciliation").fetchall()}
    out["tables"] = {name: con.sql(f"select * from {name}").df() for name in (
        "base_customers", "base_orders", "base_web_events", "base_stores", "base_order_lines",
        "fct_orders", "dim_customers")}
    con.close()
    # Required tables and columns only: optional tables and columns read as empty.
    write_minimal(raw)
    out["minimal"] = run_dbt(workdir, "build", SELECT)
    con = duckdb.connect(str(workdir / "bad.duckdb"), read_only=True)
    out["minimal_counts"] = {name: con.sql(f"select count(*) from {name}").fetchone()[0]
                             for name in ("stg_reviews", "stg_stores", "stg_web_events",
                                          "fct_orders", "dim_customers")}
    out["minimal_reconciliation"] = con.sql(
        "select sum(rows_read), sum(rows_unaccounted) from staging_reconciliation").fetchone()
    con.close()
    # Every order after as_of: nothing to compute as of.
    write(raw, "orders", [{"order_id": "O1", "customer_id": "C1", "ordered_at": ts("2025-02-01")}],
          pa.schema([("order_id", S), ("customer_id", S), ("ordered_at", TS)]))
    out["early_as_of"] = run_dbt(workdir, "run", ["+int_as_of"])
    # Orders with a header and no row: nothing to compute as of either.
    pq.write_table(ORDERS.empty_table(), raw / "orders.parquet")
    out["no_orders"] = run_dbt(workdir, "run", ["+int_as_of"])
    # A renamed required column stops the run before any model.
    pq.write_table(pa.table({"client_id": ["C1"]}), raw / "customers.parquet")
    out["renamed"] = run_dbt(workdir, "run", ["base_customers"])
    # The raw folder is not there (plain dbt once said DuckDB's 'No files found that match
    # the pattern "data/raw/orders.parquet"').
    raw.rename(workdir / "raw_moved")
    out["no_folder"] = run_dbt(workdir, "run", ["base_customers"])
    return out


def test_the_build_passes_every_data_test(runs: dict[str, Any]) -> None:
    assert runs["build"].returncode == 0, runs["build"].stdout[-3000:]


@pytest.mark.parametrize("table, key, reason", QUARANTINED,
                         ids=[f"{t}:{k}" for t, k, _ in QUARANTINED])
def test_bad_row_is_quarantined_with_its_reason(runs: dict[str, Any], table: str, key: str,
                                                reason: str) -> None:
    found = [r for r in runs["quarantine"] if r[0] == table and r[1] == key]
    assert [r[2] for r in found] == [reason], found
    assert found[0][3], "the raw record is kept"


def test_nothing_else_is_quarantined(runs: dict[str, Any]) -> None:
    expected = sorted((t, k, r) for t, k, r in QUARANTINED)
    assert sorted(r[:3] for r in runs["quarantine"]) == expected


def test_rows_read_equal_staged_plus_quarantined(runs: dict[str, Any]) -> None:
    for table, written in runs["written"].items():
        read, staged, quarantined, unaccounted = runs["reconciliation"][table]
        assert (read, unaccounted) == (written, 0), table
        assert staged + quarantined == read


def test_no_nan_or_infinite_amount_reaches_the_marts(runs: dict[str, Any]) -> None:
    orders, customers = runs["tables"]["fct_orders"], runs["tables"]["dim_customers"]
    for frame, column in ((orders, "net_amount"), (customers, "net_spend"),
                          (customers, "purchase_amount")):
        values = frame[column].dropna()
        assert all(math.isfinite(v) for v in values), column
    assert orders["net_amount"].max() < 1e6


def test_a_staged_row_has_no_raw_record_and_a_rejected_one_has_it(runs: dict[str, Any]) -> None:
    lines = runs["tables"]["base_order_lines"]
    assert lines.loc[lines["reject_reason"].isna(), "raw_record"].isna().all()
    nan_line = lines[(lines["order_id"] == "O01") & (lines["line_number"] == 101)]
    record = json.loads(nan_line["raw_record"].iloc[0])  # NaN kept as NaN
    # Every column of the file, the contract's and the others, as the file held them.
    assert record["till_note"] == "case 101" and record["quantity"] == "1"


def test_the_session_time_zone_does_not_move_dates(runs: dict[str, Any]) -> None:
    """Aware times are converted to staging_timezone (UTC here), not to the session's
    zone (Asia/Tokyo here): 23:30 UTC stays on its day."""
    orders = runs["tables"]["base_orders"].set_index("order_id")
    assert orders.loc["O-tz", "ordered_at"] == datetime(2024, 3, 1, 23, 30)
    web = runs["tables"]["base_web_events"].set_index("event_id")
    assert web.loc["W-offset", "occurred_at"] == datetime(2024, 3, 2, 4, 30)
    assert web.loc["W-Z", "occurred_at"] == datetime(2024, 3, 1, 10, 0)
    assert web.loc["W01", "occurred_at"] == datetime(2024, 2, 1, 9, 0)


def test_odd_but_valid_values_are_staged_intact(runs: dict[str, Any]) -> None:
    customers = runs["tables"]["base_customers"].set_index("customer_id")
    staged = customers[customers["reject_reason"].isna()]
    assert "C'); drop table stg_orders; --" in staged.index
    assert staged.loc["C-😀", "city"] == "Saint-Étienne 🏙️"
    assert staged.loc["C-big", "city"] == BIG_CITY
    # Of two copies of a key, the first in the file is staged.
    assert staged.loc["C-dup", "city"] == "first copy"
    assert runs["tables"]["base_web_events"].set_index("event_id").loc["W-🛍️", "reject_reason"] \
        is None
    stores = runs["tables"]["base_stores"].set_index("store_id")
    assert stores.loc["S02", "advisor_count"] == 2  # text ' 2 ' in an integer column
    lines = runs["tables"]["base_order_lines"]
    fee = lines[(lines["order_id"] == "O02") & (lines["line_number"] == 2)]
    assert fee["reject_reason"].isna().all(), "a zero price on a fee is not an error"
    ret = lines[(lines["order_id"] == "O03") & (lines["line_number"] == 2)]
    assert ret["quantity"].iloc[0] == -1 and ret["reject_reason"].isna().all()


def test_missing_optional_tables_and_columns_read_as_empty(runs: dict[str, Any]) -> None:
    assert runs["minimal"].returncode == 0, runs["minimal"].stdout[-3000:]
    counts = runs["minimal_counts"]
    assert (counts["stg_reviews"], counts["stg_stores"], counts["stg_web_events"]) == (0, 0, 0)
    assert counts["fct_orders"] == 2 and counts["dim_customers"] == 2
    assert runs["minimal_reconciliation"] == (7, 0)


@pytest.mark.parametrize("run, message", [
    ("no_orders", "no staged orders: orders.parquet is empty or every order is in quarantine"),
    ("renamed", "customers.parquet: required column customer_id missing (the file has client_id)"),
    ("early_as_of", f"as_of {AS_OF} is before the first staged order (2025-02-01)"),
    ("no_folder", "not found or holds no Parquet file: pass --vars '{raw_path: /path/to/raw}'"),
])
def test_runs_that_cannot_go_on_stop_with_one_clear_line(runs: dict[str, Any], run: str,
                                                         message: str) -> None:
    result = runs[run]
    assert result.returncode != 0
    assert message in result.stdout, errors(result)
    assert "Traceback" not in result.stdout + result.stderr
