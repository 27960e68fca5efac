"""Bad input before dbt: loaders, the mapping loader, `clientele check`, `init` and the
pre-flight of `clientele build`. Each case gives one line naming the file (and the line
or column when there is one), exit code 2 from the CLI, no traceback, and the previous
raw folder left as it was; or, for values that do not parse, a rejected row counted in
the load report and kept in RAW/_load_rejects.parquet.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clientele import mapping, rawcheck
from clientele.contract import TABLES
from clientele.errors import UserError
from clientele.loaders import LoadError, load_online_retail
from clientele.mapping import REJECTS_FILE, load_mapping, read_mapping
from clientele.raw import ContractError, RawFolderWriter

ROOT = Path(__file__).resolve().parent.parent

RETAIL_HEADER = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country"
RETAIL_ROWS = [f"5363{i:02d},85123A,WHITE HEART,6,2010-12-01 08:{i:02d}:00,2.55,178{i:02d},United Kingdom"
               for i in range(20)]


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "clientele.cli", *args], cwd=cwd,
                          capture_output=True, text=True)


def assert_one_line(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    # Progress lines are logged; the error is one line, the last one.
    errors = [line for line in result.stderr.splitlines() if line.startswith("clientele:")]
    assert len(errors) == 1 and result.stderr.strip().endswith(errors[0]), result.stderr
    for fragment in fragments:
        assert fragment in errors[0], result.stderr


@pytest.fixture
def previous(tmp_path: Path) -> Path:
    """A good raw folder that a failed load must leave as it was."""
    out = tmp_path / "raw"
    load_online_retail(_write(tmp_path / "good.csv", [RETAIL_HEADER, *RETAIL_ROWS]), out)
    return out


def _write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def _unchanged(out: Path) -> None:
    assert len(pd.read_parquet(out / "order_lines.parquet")) == len(RETAIL_ROWS)
    assert not [p for p in out.parent.iterdir() if ".partial" in p.name]


# --------------------------------------------------------------------------- public loaders


def test_unterminated_quote_is_refused_and_the_previous_folder_kept(tmp_path: Path,
                                                                     previous: Path) -> None:
    """Once: exit 0, 'rejected: none', 13 rows merged into one 1,254-character product_id."""
    rows = list(RETAIL_ROWS)
    rows[3] = rows[3].replace("85123A", '"85123A')
    path = _write(tmp_path / "quote.csv", [RETAIL_HEADER, *rows, '9,"X,1,1,2010-12-01,1,1,UK'])
    result = cli("load", "online-retail", str(path), "--out", str(previous))
    assert_one_line(result, "quote.csv: line 5: column StockCode: a quoted value runs over",
                    "unterminated quote")
    _unchanged(previous)


def test_header_only_file_is_refused_and_the_previous_folder_kept(tmp_path: Path,
                                                                  previous: Path) -> None:
    """Once: a good raw folder replaced by an empty one, exit 0."""
    path = _write(tmp_path / "empty.csv", [RETAIL_HEADER])
    result = cli("load", "online-retail", str(path), "--out", str(previous))
    assert_one_line(result, "empty.csv: no data rows (header only); nothing written")
    _unchanged(previous)


@pytest.mark.parametrize("name, content, message", [
    ("latin1.csv", "ü".encode("latin-1"), "not UTF-8 text (byte"),
    ("picture.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not UTF-8 text"),
    ("zero.csv", b"", "empty file"),
    ("table.xls", b"not a spreadsheet", "cannot read"),
    ("data.json", b"{}", "unsupported file type '.json'"),
])
def test_unreadable_retail_files_are_one_line(tmp_path: Path, previous: Path, name: str,
                                              content: bytes, message: str) -> None:
    path = tmp_path / name
    if name == "latin1.csv":
        content = (RETAIL_HEADER + "\n" + RETAIL_ROWS[0].replace("WHITE", "WHÜTE")).encode("latin-1")
    path.write_bytes(content)
    result = cli("load", "online-retail", str(path), "--out", str(previous))
    assert_one_line(result, name, message)
    _unchanged(previous)


def test_a_bom_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    path = _write(tmp_path / "bom.csv", ["\ufeff" + RETAIL_HEADER, *RETAIL_ROWS])
    report = load_online_retail(path, tmp_path / "raw")
    assert report["rows_written"]["order_lines"] == len(RETAIL_ROWS)


def test_a_line_with_too_many_fields_names_file_and_line(tmp_path: Path, previous: Path) -> None:
    rows = list(RETAIL_ROWS)
    rows[6] += ",extra"
    result = cli("load", "online-retail", str(_write(tmp_path / "wide.csv", [RETAIL_HEADER, *rows])),
                 "--out", str(previous))
    assert_one_line(result, "wide.csv: line 8: expected 8 fields, saw 9")
    _unchanged(previous)


def test_the_writer_refuses_to_publish_empty_required_tables(tmp_path: Path,
                                                             previous: Path) -> None:
    with pytest.raises(ContractError, match="customers, products, orders, order_lines: no rows"), \
            RawFolderWriter(previous):
        pass
    _unchanged(previous)


# --------------------------------------------------------------------------- mapping loader

CLIENTS = ["client_no;created;country;optin_mail;city",
           "K1;31/01/2024;FR;O;Lyon",
           "K2;01/02/2024;FR;N;Saint-Étienne 🏙️",
           "K3;02/02/2024;FR;O;\"x'); drop table stg_customers; --\""]
ITEMS = ["item;label;price",
         "A1;Sac;1 250,50",
         "A2;Foulard;89,00"]
SALES = ["ticket;client;date;item;qty;price",
         "T1;K1;01/03/2024 10:00;A1;1;1 250,50",
         "T1;K1;01/03/2024 10:00;A2;2;89,00",
         "T2;K2;2024-03-02T23:30:00+01:00;A2;1;89,00",
         "T3;K3;03/03/2024 11:00;A2;deux;89,00",
         "T4;K3;31/02/2024 11:00;A2;1;89,00",
         "T5;K1;04/03/2024 11:00;A2;1,5;89,00"]
MAPPING = """
timezone: Europe/Paris
date_format: "%d/%m/%Y %H:%M"
csv: {delimiter: ";", decimal: ",", thousands: " "}
tables:
  customers:
    file: clients.csv
    columns:
      customer_id: client_no
      first_seen_at: {column: created, format: "%d/%m/%Y"}
      country: country
      city: city
      email_opt_in: {column: optin_mail, true_values: [O], false_values: [N]}
  products:
    file: items.csv
    columns: {product_id: item, name: label, list_price: price, is_merchandise: {value: true}}
  orders:
    file: sales.csv
    columns: {order_id: ticket, customer_id: client, ordered_at: date}
  order_lines:
    file: lines.csv
    columns: {order_id: ticket, line_number: n, product_id: item, quantity: qty, unit_price: price}
"""


def write_exports(folder: Path, mapping_text: str = MAPPING, **files: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    contents = {"clients.csv": CLIENTS, "items.csv": ITEMS, "sales.csv": SALES}
    contents.update({k.replace("_", "."): v for k, v in files.items()})
    for name, lines in contents.items():
        _write(folder / name, lines)
    (folder / "mapping.yml").write_text(textwrap.dedent(mapping_text))
    return folder / "mapping.yml"


LINES = ["ticket;n;item;qty;price", "T1;1;A1;1;1 250,50", "T1;2;A2;2;89,00", "T2;1;A2;1;89,00",
         "T3;1;A2;deux;89,00", "T5;1;A2;1,5;89,00", "T6;1;A2;3;inf"]


def test_mapping_loads_a_retailers_csv_exports(tmp_path: Path) -> None:
    path = write_exports(tmp_path / "exports", MAPPING, lines_csv=LINES)
    report = load_mapping(path, tmp_path / "raw")
    raw = tmp_path / "raw"
    for table in TABLES:  # the whole contract, typed
        schema = pq.read_schema(raw / f"{table.name}.parquet")
        assert schema.types == [c.type for c in table.columns], table.name
    customers = pd.read_parquet(raw / "customers.parquet").set_index("customer_id")
    assert customers.loc["K1", "first_seen_at"] == pd.Timestamp("2024-01-31")
    assert customers.loc["K1", "email_opt_in"] and not customers.loc["K2", "email_opt_in"]
    assert customers.loc["K2", "city"] == "Saint-Étienne 🏙️"
    assert customers.loc["K3", "city"] == "x'); drop table stg_customers; --"
    products = pd.read_parquet(raw / "products.parquet").set_index("product_id")
    assert products.loc["A1", "list_price"] == 1250.5  # decimal comma, thousands space
    orders = pd.read_parquet(raw / "orders.parquet")
    # One row per ticket line in the export: staging quarantines the repeated order ids.
    t2 = orders[orders["order_id"] == "T2"]["ordered_at"].iloc[0]
    assert t2 == pd.Timestamp("2024-03-02 23:30")  # +01:00 is Paris time in March
    # 31/02 is no date: that row is rejected, counted and kept, the others are written.
    assert report["rows_rejected"] == {
        "orders: unreadable date (contract ordered_at: timestamp)": 1,
        "order_lines: unreadable qty (contract quantity: integer)": 2,
    }
    assert report["rows_read"] == {"customers (clients.csv)": 3, "products (items.csv)": 2,
                                   "orders (sales.csv)": 6, "order_lines (lines.csv)": 6}
    lines = pd.read_parquet(raw / "order_lines.parquet")
    assert len(lines) + 2 == 6
    assert lines["unit_price"].max() == float("inf")  # kept: staging quarantines it
    rejects = pd.read_parquet(raw / REJECTS_FILE).sort_values(["table", "line"])
    assert rejects[["table", "line", "column"]].values.tolist() == [
        ["order_lines", 5, "qty"], ["order_lines", 6, "qty"], ["orders", 6, "date"]]
    assert json.loads(rejects["record"].iloc[0])["qty"] == "deux"
    assert json.loads((raw / "_load_report.json").read_text())["rows_rejected"] == report[
        "rows_rejected"]


@pytest.mark.parametrize("change, message", [
    ({"mapping": "tables: [1, 2"}, "not a readable YAML file"),
    ({"mapping": "tables: {}\nfoo: 1"}, "unknown key(s) foo"),
    ({"mapping": MAPPING.replace("timezone: Europe/Paris", "timezone: Mars/Olympus")},
     "timezone 'Mars/Olympus' is not a time zone"),
    ({"mapping": MAPPING.replace("  products:", "  produce:")}, "table 'produce' is not in"),
    ({"mapping": MAPPING.replace("name: label", "title: label")}, "'title' is not a contract"),
    ({"mapping": MAPPING.replace("      customer_id: client_no\n", "")},
     "table customers: required column(s) not mapped: customer_id"),
    ({"mapping": MAPPING.replace("  orders:\n    file: sales.csv\n    columns: {order_id: ticket, "
                                 "customer_id: client, ordered_at: date}\n", "")},
     "required table(s) not mapped: orders"),
    ({"mapping": MAPPING.replace("country: country", "country: pays")},
     "clients.csv: line 1: missing columns pays (the file has client_no, created"),
    ({"mapping": MAPPING.replace("file: items.csv", "file: nowhere.csv")},
     "nowhere.csv: file not found"),
    ({"mapping": MAPPING.replace("file: items.csv", "file: items.xlsx")},
     "unsupported file type '.xlsx'"),
    ({"items_csv": ["item;label;price"]}, "items.csv: no data rows (header only)"),
    ({"clients_csv": [*CLIENTS[:2], 'K9;"01/01/2024;FR;O;Lyon', *CLIENTS[2:], 'K8;"x";FR;O;y']},
     "clients.csv: line 3: column created: a quoted value runs over 3 lines"),
    ({"mapping": MAPPING.replace('date_format: "%d/%m/%Y %H:%M"', "")},
     "sales.csv: line 2: column date: 5 of 6 values do not convert (e.g. '01/03/2024 10:00')"),
    ({"mapping": MAPPING.replace('csv: {delimiter: ";", ', 'csv: {sep: ";", ')},
     "unknown CSV option(s) sep"),
])
def test_mapping_mistakes_are_one_line_and_keep_the_previous_folder(
        tmp_path: Path, previous: Path, change: dict[str, object], message: str) -> None:
    files = {k: v for k, v in change.items() if k != "mapping"}
    text = str(change.get("mapping", MAPPING))
    path = write_exports(tmp_path / "exports", text, lines_csv=LINES, **files)  # type: ignore
    result = cli("load", "mapping", str(path), "--out", str(previous))
    assert_one_line(result, message)
    _unchanged(previous)


def test_mapping_reads_latin1_when_told_and_refuses_it_otherwise(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    write_exports(folder, MAPPING, lines_csv=LINES)
    (folder / "clients.csv").write_bytes(("\n".join(CLIENTS[:2] + ["K2;01/02/2024;FR;N;Gen\u00e8ve"])
                                          + "\n").encode("latin-1"))
    with pytest.raises(LoadError, match="clients.csv: not UTF-8 text .*give the file's encoding"):
        load_mapping(folder / "mapping.yml", tmp_path / "raw")
    text = MAPPING.replace("    file: clients.csv\n", "    file: clients.csv\n"
                                "    csv: {encoding: latin-1}\n")
    (folder / "mapping.yml").write_text(textwrap.dedent(text))
    load_mapping(folder / "mapping.yml", tmp_path / "raw")
    customers = pd.read_parquet(tmp_path / "raw" / "customers.parquet")
    assert "Genève" in set(customers["city"])


def test_mapping_reads_parquet_exports_with_aware_timestamps(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    write_exports(folder, MAPPING, lines_csv=LINES)
    pq.write_table(pa.table({
        "ticket": ["T1", "T2"], "client": ["K1", "K2"],
        "date": pa.array([pd.Timestamp("2024-03-01 22:30", tz="UTC"),
                          pd.Timestamp("2024-07-01 22:30", tz="UTC")],
                         pa.timestamp("us", tz="UTC"))}), folder / "sales.parquet")
    (folder / "mapping.yml").write_text(textwrap.dedent(
        MAPPING.replace("file: sales.csv", "file: sales.parquet")))
    load_mapping(folder / "mapping.yml", tmp_path / "raw")
    orders = pd.read_parquet(tmp_path / "raw" / "orders.parquet").set_index("order_id")
    # Paris is UTC+1 in March and UTC+2 in July: both land on the next calendar day.
    assert orders.loc["T1", "ordered_at"] == pd.Timestamp("2024-03-01 23:30")
    assert orders.loc["T2", "ordered_at"] == pd.Timestamp("2024-07-02 00:30")


def test_a_parquet_export_that_is_not_parquet_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    write_exports(folder, MAPPING.replace("file: items.csv", "file: items.parquet"),
                  lines_csv=LINES)
    (folder / "items.parquet").write_text("item;label\nA1;Sac\n")
    with pytest.raises(LoadError, match="items.parquet: not a Parquet file"):
        load_mapping(folder / "mapping.yml", tmp_path / "raw")


def test_the_template_lists_every_contract_column_and_reads_back(tmp_path: Path) -> None:
    text = mapping.template()
    for table in TABLES:
        for column in table.columns:
            assert f"      {column.name}: " in text
    path = tmp_path / "mapping.yml"
    path.write_text(text)
    parsed = read_mapping(path)
    assert {t.table.name for t in parsed.tables} == {t.name for t in TABLES}


# --------------------------------------------------------------------------- init, check, build


def test_init_writes_a_typed_empty_contract_that_check_accepts(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    result = cli("init", str(raw), "--mapping", str(tmp_path / "mapping.yml"))
    assert result.returncode == 0, result.stderr
    for table in TABLES:
        schema = pq.read_schema(raw / table.file_name)
        assert schema.names == table.column_names
    assert "| customer_id | varchar | yes |" in (raw / "CONTRACT.md").read_text()
    assert (tmp_path / "mapping.yml").exists()
    checked = cli("check", str(raw))
    assert checked.returncode == 0, checked.stdout
    assert_one_line(cli("init", str(raw)), "already holds Parquet files")


def write_contract_copy(raw: Path, **changes: pa.Table | None) -> Path:
    """A small valid raw folder, with some tables replaced (or removed with None)."""
    raw.mkdir(parents=True)
    tables = {
        "customers": pa.table({"customer_id": ["C1", "C2"],
                               "first_seen_at": pa.array([None, None], pa.timestamp("us"))}),
        "products": pa.table({"product_id": ["P1"], "list_price": [10.0]}),
        "orders": pa.table({"order_id": ["O1", "O2"], "customer_id": ["C1", "C2"],
                            "ordered_at": pa.array([pd.Timestamp("2024-01-02"),
                                                    pd.Timestamp("2024-01-03")],
                                                   pa.timestamp("us"))}),
        "order_lines": pa.table({"order_id": ["O1", "O2"], "line_number": pa.array([1, 1], pa.int32()),
                                 "product_id": ["P1", "P1"], "quantity": pa.array([1, 2], pa.int32()),
                                 "unit_price": [10.0, 10.0]}),
    }
    tables.update(changes)
    for name, table in tables.items():
        if table is not None:
            pq.write_table(table, raw / f"{name}.parquet")
    return raw


def test_check_names_file_column_and_count(tmp_path: Path) -> None:
    raw = write_contract_copy(tmp_path / "raw", orders=pa.table({
        "order_id": ["O1", "O2", "O2", None], "customer_id": ["C1", "C9", "C2", "C1"],
        "ordered_at": ["2024-01-02", "1970-01-01", "yesterday", "2100-01-01 00:00:00"],
        "delivered_at": pa.array([pd.Timestamp("2023-12-01"), None, None, None],
                                 pa.timestamp("us"))}),
        order_lines=pa.table({"order_id": ["O1"], "line_number": pa.array([1], pa.int32()),
                              "product_id": ["P1"], "quantity": ["1.5"],
                              "unit_price": [float("nan")]}))
    result = cli("check", str(raw), "--notes")
    assert result.returncode == 1, result.stdout
    lines = result.stdout.splitlines()
    expected = [
        "rows: orders.parquet: column ordered_at: 1 values that are not timestamp: quarantined "
        "(e.g. 'yesterday')",
        "rows: orders.parquet: column ordered_at: 1 dates before 1990-01-01",
        "rows: orders.parquet: column ordered_at: 1 dates in the future",
        "rows: orders.parquet: column order_id: 1 rows without a key",
        "rows: orders.parquet: column order_id: 1 duplicate keys",
        "rows: orders.parquet: column delivered_at: 1 delivered before ordered",
        "rows: orders.parquet: column customer_id: 1 values not in customers.parquet",
        "rows: order_lines.parquet: column quantity: 1 values that are not integer",
        "rows: order_lines.parquet: column unit_price: 1 NaN or infinite values",
        "note: reviews.parquet: not there: read as empty (optional)",
        "note: customers.parquet: column city: not there: read as null",
    ]
    for fragment in expected:
        assert any(line.startswith(fragment) for line in lines), (fragment, lines)


@pytest.mark.parametrize("changes, message", [
    ({"customers": pa.table({"client_id": ["C1"]})},
     "customers.parquet: column customer_id: required column missing (the file has client_id); "
     "is it client_id?"),
    ({"orders": None}, "orders.parquet: required table missing"),
    ({"order_lines": pa.table({"order_id": ["O1"]})},
     "order_lines.parquet: column line_number: required column missing"),
])
def test_build_stops_before_dbt_on_what_would_break_it(tmp_path: Path, changes: dict,
                                                       message: str) -> None:
    """Once: a Binder error 'referenced before it is defined', or DuckDB's 'No files found'."""
    raw = write_contract_copy(tmp_path / "raw", **changes)
    assert_one_line(cli("build", "--raw", str(raw), "--db", str(tmp_path / "w.duckdb")), message)
    checked = cli("check", str(raw))
    assert checked.returncode == 2 and message in checked.stdout


def test_a_file_that_is_not_parquet_stops_check_and_build(tmp_path: Path) -> None:
    raw = write_contract_copy(tmp_path / "raw")
    (raw / "products.parquet").write_text("product_id\nP1\n")
    assert_one_line(cli("build", "--raw", str(raw)), "products.parquet: not a readable Parquet")


def test_an_optional_table_left_out_does_not_stop_a_build(tmp_path: Path) -> None:
    raw = write_contract_copy(tmp_path / "raw")
    rawcheck.require_buildable(raw)  # reviews, stores... are not there: fine


@pytest.mark.parametrize("args, message", [
    (["--as-of", "2024-02-30"], "--as-of 2024-02-30: not a date (YYYY-MM-DD)"),
    (["--as-of", "2100-01-01"], "--as-of 2100-01-01: after today"),
    (["--as-of", "2023-12-31"], "before the first order in"),
    (["--var", "staging_timezone"], "--var staging_timezone: expected NAME=VALUE"),
    (["--db", "w.parquet"], "w.parquet: not a DuckDB database"),
    (["--db", "busy.duckdb"], "busy.duckdb: in use by process"),
])
def test_build_arguments_that_cannot_work_are_one_line(tmp_path: Path, args: list[str],
                                                       message: str) -> None:
    """Once: a second build printed the lock line and then 234 lines of tracebacks."""
    raw = write_contract_copy(tmp_path / "raw")
    duckdb.sql("select 1 as x").write_parquet(str(tmp_path / "w.parquet"))
    duckdb.connect(str(tmp_path / "busy.duckdb")).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, time; c = duckdb.connect('busy.duckdb'); "
         "print('held', flush=True); time.sleep(60)"], cwd=tmp_path, stdout=subprocess.PIPE,
        text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        result = cli("build", "--raw", str(raw), *args, cwd=tmp_path)
    finally:
        holder.kill()
        holder.wait()
    assert_one_line(result, message)


BUILD_HOLDER = ("import sys, time; from pathlib import Path; from clientele import warehouse\n"
                "with warehouse.hold(Path(sys.argv[1]), build=sys.argv[2] == 'build'):\n"
                "    print('held', flush=True); time.sleep(60)")


@pytest.mark.parametrize("holder, message", [
    ("build", "w.duckdb: in use by a build (process "),
    ("export", "w.duckdb: in use by an export; wait for it to finish"),
])
def test_a_second_build_while_one_runs_is_one_line(tmp_path: Path, holder: str,
                                                   message: str) -> None:
    """dbt opens the warehouse only after parsing: a second build started meanwhile passed
    DuckDB's check, and one of the two then printed 234 lines of tracebacks. The first
    `clientele build` (or an export) holds w.duckdb.lock for as long as it runs."""
    raw = write_contract_copy(tmp_path / "raw")
    first = subprocess.Popen([sys.executable, "-c", BUILD_HOLDER, str(tmp_path / "w.duckdb"),
                              holder], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert first.stdout is not None and first.stdout.readline().strip() == "held"
        result = cli("build", "--raw", str(raw), "--db", str(tmp_path / "w.duckdb"))
    finally:
        first.kill()
        first.wait()
    assert_one_line(result, message)
    assert not (tmp_path / "w.duckdb").exists()  # dbt never started


def test_require_buildable_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not a folder"):
        rawcheck.require_buildable(tmp_path / "nope")
