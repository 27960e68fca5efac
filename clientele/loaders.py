"""Loaders that turn public datasets into the raw contract.

Each loader reads its input completely before writing anything, writes through
`RawFolderWriter` (so a failure leaves no half-written folder), and returns a
report: rows read, rows written per table, rows rejected by reason. Rows are
rejected here only when they cannot be represented at all (an unparseable
date, a quantity that is not a number); everything representable is passed on
so that staging can quarantine it with a reason.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clientele.errors import UserError
from clientele.raw import REPORT_FILE, RawFolderWriter

log = logging.getLogger(__name__)


class LoadError(UserError):
    """Input that cannot be read; the message names the file and, when known, the line."""


# --------------------------------------------------------------------------- helpers


def _read_csv(path: Path, usecols: list[str] | None = None, free_text: tuple[str, ...] = (),
              allow_empty: bool = False, **kwargs: Any) -> pd.DataFrame:
    """Read a CSV as text, turning parser errors into one line naming file and line.

    Refuses what it cannot read faithfully: a header without rows (unless `allow_empty`),
    and a quote that runs over several lines in a column that is not free text.
    """
    frames = list(iter_csv(path, usecols=usecols, free_text=free_text, chunk_rows=None, **kwargs))
    frame = frames[0]
    if len(frame) == 0 and not allow_empty:
        raise LoadError(f"{path}: no data rows (header only); nothing written")
    return frame


def iter_csv(path: Path, usecols: list[str] | None = None, free_text: tuple[str, ...] = (),
             chunk_rows: int | None = 200_000, encoding: str = "utf-8", **kwargs: Any
             ) -> Iterator[pd.DataFrame]:
    """A CSV as frames of text (all of it when `chunk_rows` is None), checked as `_read_csv`
    says; each frame carries the file line of its rows in `frame.attrs["lines"]`."""
    if not path.exists():
        raise LoadError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise LoadError(f"{path}: empty file")
    # A byte-order mark is not part of the first column's name.
    encoding = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    next_line = 2
    try:
        reader = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""],
                             encoding=encoding, chunksize=chunk_rows, **kwargs)
        chunks = [reader] if chunk_rows is None else reader
        for chunk in chunks:
            if usecols:
                missing = [c for c in usecols if c not in chunk.columns]
                if missing:
                    raise LoadError(f"{path}: line 1: missing columns {', '.join(missing)} "
                                    f"(the file has {', '.join(map(str, chunk.columns))})")
            lines = _line_numbers(chunk, next_line)
            _refuse_quote_runs(chunk, path, lines, usecols, free_text)
            chunk.attrs["lines"] = lines
            next_line = int(lines.iloc[-1]) + 1 + _newlines(chunk).iloc[-1] if len(chunk) else next_line
            yield chunk
    except pd.errors.ParserError as exc:
        raise LoadError(f"{path}: {_parser_message(exc)}") from exc
    except UnicodeDecodeError as exc:
        raise LoadError(f"{path}: not {encoding.removesuffix('-sig').upper()} text (byte {exc.start}); "
                        "give the file's encoding (e.g. latin-1)") from exc
    except pd.errors.EmptyDataError as exc:
        raise LoadError(f"{path}: empty file") from exc


def _newlines(frame: pd.DataFrame) -> pd.Series:
    """Line breaks inside each row's quoted values."""
    counts = pd.Series(0, index=frame.index)
    for column in frame.columns:  # a loop over columns, not rows
        counts += frame[column].str.count("\n").fillna(0).astype(int)
    return counts


def _line_numbers(frame: pd.DataFrame, first: int) -> pd.Series:
    """The file line each row starts on (rows spanning lines push the next ones down)."""
    extra = _newlines(frame)
    return pd.Series(first + np.arange(len(frame)), index=frame.index) + extra.cumsum() - extra


def _refuse_quote_runs(frame: pd.DataFrame, path: Path, lines: pd.Series,
                       usecols: list[str] | None, free_text: tuple[str, ...]) -> None:
    """An unterminated quote swallows the next lines into one value: refuse it rather than
    write a 1,000-character id. Only free-text columns may hold line breaks."""
    for column in usecols or list(frame.columns):
        if column in free_text:
            continue
        broken = frame[column].str.contains("[\r\n]", regex=True, na=False)
        if broken.any():
            first = broken.idxmax()
            raise LoadError(
                f"{path}: line {int(lines[first])}: column {column}: a quoted value runs over "
                f"{int(frame.loc[first, column].count(chr(10))) + 1} lines (unterminated quote?); "
                "nothing written")


def _parser_message(exc: Exception) -> str:
    text = str(exc).strip()
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if match:
        expected, line, saw = match.groups()
        return f"line {line}: expected {expected} fields, saw {saw}"
    match = re.search(r"line (\d+)", text)
    if match:
        return f"line {match.group(1)}: {text.splitlines()[-1]}"
    return text.splitlines()[-1]


def _parse_timestamps(
    values: pd.Series, path: Path, column: str, rejects: Counter[str], required: bool
) -> pd.Series:
    """Parse text or datetime values; count (or, if none parse, fail on) bad ones."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[us]")
    text = values.astype("string").str.strip()
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
    retry = parsed.isna() & text.notna()
    if retry.any():
        # The 2010-2011 UCI release stores dates as US text, e.g. 12/1/2010 8:26.
        parsed.loc[retry] = pd.to_datetime(text[retry], errors="coerce", format="%m/%d/%Y %H:%M")
    retry = parsed.isna() & text.notna()
    if retry.any():
        parsed.loc[retry] = pd.to_datetime(text[retry], errors="coerce", format="mixed")
    bad = parsed.isna() & (text.notna() if not required else True)
    if bad.all() and len(values):
        first = text[bad].iloc[0] if text[bad].notna().any() else "empty"
        raise LoadError(f"{path}: line 2: column {column}: cannot read date {first!r}")
    if bad.any():
        rejects[f"unreadable {column}"] += int(bad.sum())
    return parsed.astype("datetime64[us]")


def format_report(report: dict[str, Any]) -> str:
    lines = [f"loaded {report['source']} from {report['input']} into {report['out']}"]
    for table, read in report["rows_read"].items():
        lines.append(f"  read {table}: {read:,}")
    for table, written in report["rows_written"].items():
        lines.append(f"  wrote {table}: {written:,}")
    if report["rows_rejected"]:
        for reason, count in report["rows_rejected"].items():
            lines.append(f"  rejected ({reason}): {count:,}")
    else:
        lines.append("  rejected: none")
    lines.append(f"  report: {Path(report['out']) / REPORT_FILE}")
    return "\n".join(lines)


def _finish(writer: RawFolderWriter, report: dict[str, Any]) -> dict[str, Any]:
    report["rows_rejected"] = dict(report["rows_rejected"])
    writer.write_report(report)
    report["rows_written"] = dict(writer.rows_written)
    return report


# --------------------------------------------------------------------------- Olist

OLIST_FILES = {
    "customers": ("olist_customers_dataset.csv",
                  ["customer_id", "customer_unique_id", "customer_city", "customer_state"]),
    "orders": ("olist_orders_dataset.csv",
               ["order_id", "customer_id", "order_status", "order_purchase_timestamp",
                "order_delivered_customer_date", "order_estimated_delivery_date"]),
    "items": ("olist_order_items_dataset.csv", ["order_id", "order_item_id", "product_id", "price"]),
    "products": ("olist_products_dataset.csv", ["product_id", "product_category_name"]),
    "reviews": ("olist_order_reviews_dataset.csv",
                ["review_id", "order_id", "review_score", "review_creation_date"]),
    "translation": ("product_category_name_translation.csv",
                    ["product_category_name", "product_category_name_english"]),
}


def load_olist(folder: Path, out: Path) -> dict[str, Any]:
    """Olist's CSV folder -> raw contract. The person is customer_unique_id."""
    if not folder.is_dir():
        raise LoadError(f"{folder}: not a folder of Olist CSV files")
    frames = {
        key: _read_csv(folder / name, usecols=cols, allow_empty=key == "reviews")
        for key, (name, cols) in OLIST_FILES.items()
    }
    rejects: Counter[str] = Counter()
    rows_read = {OLIST_FILES[k][0]: len(v) for k, v in frames.items()}

    accounts = frames["customers"]
    person_of_account = accounts.set_index("customer_id")["customer_unique_id"]

    orders_in = frames["orders"]
    ordered_at = _parse_timestamps(orders_in["order_purchase_timestamp"],
                                   folder / OLIST_FILES["orders"][0],
                                   "order_purchase_timestamp", rejects, required=True)
    orders = pd.DataFrame({
        "order_id": orders_in["order_id"],
        # An account id that maps to no person stays as is: staging quarantines it.
        "customer_id": orders_in["customer_id"].map(person_of_account).fillna(
            orders_in["customer_id"]),
        "ordered_at": ordered_at,
        "channel": "online",
        "store_id": None,
        "country": "BR",
        "status": orders_in["order_status"],
        "delivered_at": pd.to_datetime(orders_in["order_delivered_customer_date"],
                                       errors="coerce"),
        "promised_delivery_at": pd.to_datetime(orders_in["order_estimated_delivery_date"],
                                               errors="coerce"),
    })
    unreadable = orders["ordered_at"].isna() & orders_in["order_purchase_timestamp"].notna()
    orders = orders[~unreadable]

    first_order = (orders.dropna(subset=["customer_id"])
                   .groupby("customer_id")["ordered_at"].min())
    people = (accounts.merge(orders_in[["customer_id", "order_purchase_timestamp"]],
                             on="customer_id", how="left")
              .sort_values(["customer_unique_id", "order_purchase_timestamp"])
              .groupby("customer_unique_id", sort=True).last().reset_index())
    customers = pd.DataFrame({
        "customer_id": people["customer_unique_id"],
        "first_seen_at": people["customer_unique_id"].map(first_order),
        "country": "BR",
        "city": people["customer_city"].str.strip() + " (" + people["customer_state"] + ")",
        "gender": None,
        "birth_year": None,
        "home_store_id": None,
        "advisor_id": None,
        # Olist records no marketing consent: unknown is not consent.
        "email_opt_in": None,
        "phone_opt_in": None,
    })

    items = frames["items"]
    price = pd.to_numeric(items["price"], errors="coerce")
    line_number = pd.to_numeric(items["order_item_id"], errors="coerce")
    bad = price.isna() | line_number.isna()
    if bad.any():
        rejects["unreadable price or order_item_id"] += int(bad.sum())
    items = items[~bad]
    order_lines = pd.DataFrame({
        "order_id": items["order_id"],
        "line_number": line_number[~bad].astype("int32"),
        "product_id": items["product_id"],
        "quantity": 1,
        "unit_price": price[~bad],
        "discount": 0.0,
    })

    translation = frames["translation"].set_index("product_category_name")[
        "product_category_name_english"]
    products_in = frames["products"]
    category = products_in["product_category_name"].map(translation).fillna(
        products_in["product_category_name"]).fillna("unknown")
    median_price = order_lines.groupby("product_id")["unit_price"].median()
    products = pd.DataFrame({
        "product_id": products_in["product_id"],
        "name": None,
        "category": category,
        "family": category,
        "subfamily": None,
        "collection_id": None,
        "color": None,
        "material": None,
        "gender_line": None,
        "list_price": products_in["product_id"].map(median_price),
        "unit_cost": None,
        "is_merchandise": True,
        "is_discontinued": False,
    })

    reviews_in = frames["reviews"]
    score = pd.to_numeric(reviews_in["review_score"], errors="coerce")
    if score.isna().any():
        rejects["unreadable review_score"] += int(score.isna().sum())
    keep = score.notna()
    reviews = pd.DataFrame({
        "review_id": reviews_in["review_id"][keep],
        "order_id": reviews_in["order_id"][keep],
        "score": score[keep].astype("int32"),
        "created_at": pd.to_datetime(reviews_in["review_creation_date"][keep], errors="coerce"),
    })

    report: dict[str, Any] = {"source": "olist", "input": str(folder), "out": str(out),
                              "rows_read": rows_read, "rows_rejected": rejects}
    with RawFolderWriter(out) as writer:
        for name, frame in [("customers", customers), ("orders", orders),
                            ("order_lines", order_lines), ("products", products),
                            ("reviews", reviews)]:
            writer.write(name, frame)
        return _finish(writer, report)


# --------------------------------------------------------------------------- Online Retail

# Both UCI releases: Online Retail II (2009-2011) and Online Retail (2010-2011).
RETAIL_COLUMNS = {
    "Invoice": "invoice", "InvoiceNo": "invoice",
    "StockCode": "stock_code",
    "Description": "description",
    "Quantity": "quantity",
    "InvoiceDate": "invoice_date",
    "Price": "price", "UnitPrice": "price",
    "Customer ID": "customer", "CustomerID": "customer",
    "Country": "country",
}
RETAIL_REQUIRED = ["invoice", "stock_code", "quantity", "invoice_date", "price", "customer",
                   "country"]


def _read_retail_file(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise LoadError(f"{path}: file not found")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif suffix in (".xlsx", ".xls"):
            # Only the first sheet: Online Retail II ships one sheet per year.
            frame = pd.read_excel(path, sheet_name=0, dtype={"Invoice": str, "InvoiceNo": str,
                                                             "StockCode": str})
        elif suffix in (".csv", ".txt"):
            frame = _read_csv(path, free_text=("Description",))
        else:
            raise LoadError(f"{path}: unsupported file type {suffix!r} (parquet, csv or xlsx)")
    except LoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure becomes one clear line
        raise LoadError(f"{path}: cannot read: {str(exc).splitlines()[0]}") from exc
    frame = frame.rename(columns={c: RETAIL_COLUMNS.get(str(c).strip(), c) for c in frame.columns})
    missing = [c for c in RETAIL_REQUIRED if c not in frame.columns]
    if missing:
        raise LoadError(f"{path}: line 1: missing columns for an Online Retail file: {missing}")
    if len(frame) == 0:
        raise LoadError(f"{path}: no data rows (header only); nothing written")
    return frame


def _customer_text(values: pd.Series) -> pd.Series:
    """'Customer ID' is a float in the Excel/Parquet releases: 12346.0 -> '12346'."""
    numeric = pd.to_numeric(values, errors="coerce")
    text = values.astype("string").str.strip()
    as_int = numeric.round().astype("Int64").astype("string")
    return as_int.where(numeric.notna(), text.where(text != "", pd.NA))


def load_online_retail(path: Path, out: Path) -> dict[str, Any]:
    """UCI Online Retail (II) -> raw contract; 'C' invoices (cancellations) become returns."""
    raw = _read_retail_file(path)
    rejects: Counter[str] = Counter()
    rows_read = {path.name: len(raw)}

    frame = pd.DataFrame({
        "invoice": raw["invoice"].astype("string").str.strip(),
        "stock_code": raw["stock_code"].astype("string").str.strip().str.upper(),
        "description": raw["description"].astype("string").str.strip()
        if "description" in raw else pd.NA,
        "quantity": pd.to_numeric(raw["quantity"], errors="coerce"),
        "invoice_date": _parse_timestamps(raw["invoice_date"], path, "InvoiceDate", rejects,
                                          required=True),
        "price": pd.to_numeric(raw["price"], errors="coerce"),
        "customer": _customer_text(raw["customer"]),
        "country": raw["country"].astype("string").str.strip(),
    })
    frame.loc[frame["description"].isin(["nan", ""]), "description"] = pd.NA
    unreadable_numbers = (frame["quantity"].isna() | frame["price"].isna()) & frame[
        "invoice_date"].notna()
    if unreadable_numbers.any():
        rejects["unreadable Quantity or Price"] += int(unreadable_numbers.sum())
    frame = frame[frame["invoice_date"].notna() & ~unreadable_numbers].copy()
    frame["line_number"] = frame.groupby("invoice", sort=False).cumcount() + 1

    by_invoice = frame.groupby("invoice", sort=True)
    first_customer = by_invoice["customer"].first()
    orders = pd.DataFrame({
        "order_id": first_customer.index,
        "customer_id": first_customer.values,
        "ordered_at": by_invoice["invoice_date"].min().values,
        "channel": "online",
        "store_id": None,
        "country": by_invoice["country"].first().values,
        "status": None,
        "delivered_at": pd.NaT,
        "promised_delivery_at": pd.NaT,
    })
    prefix = orders["order_id"].str[0]
    orders["status"] = prefix.map({"C": "returned", "A": "adjustment"}).fillna("completed")

    order_lines = pd.DataFrame({
        "order_id": frame["invoice"],
        "line_number": frame["line_number"].astype("int32"),
        "product_id": frame["stock_code"],
        "quantity": frame["quantity"].clip(-2**31 + 1, 2**31 - 1).astype("int64"),
        "unit_price": frame["price"],
        "discount": 0.0,
    })

    sold = frame[(frame["quantity"] > 0) & (frame["price"] > 0)]
    names = (frame.dropna(subset=["description"])
             .groupby(["stock_code", "description"]).size().rename("n").reset_index()
             .sort_values(["stock_code", "n", "description"], ascending=[True, False, True])
             .drop_duplicates("stock_code").set_index("stock_code")["description"])
    codes = pd.Index(sorted(frame["stock_code"].dropna().unique()))
    name = pd.Series(codes.map(names), index=codes)
    # No merchandise hierarchy in UCI: the last word of the description names the
    # kind of item (BAG, MUG, HOLDER...) and serves as family.
    family = name.str.split().str[-1].str.lower()
    # Merchandise codes start with a digit; POST, M, D, DOT, BANK CHARGES... are fees.
    is_merchandise = codes.str.match(r"^\d")
    products = pd.DataFrame({
        "product_id": codes,
        "name": name.values,
        "category": pd.Series(is_merchandise, index=codes).map(
            {True: "giftware", False: "fees_and_adjustments"}).values,
        "family": family.values,
        "subfamily": None,
        "collection_id": None,
        "color": None,
        "material": None,
        "gender_line": None,
        "list_price": codes.map(sold.groupby("stock_code")["price"].median()),
        "unit_cost": None,
        "is_merchandise": is_merchandise,
        "is_discontinued": False,
    })

    by_customer = frame.dropna(subset=["customer"]).groupby("customer", sort=True)
    customers = pd.DataFrame({
        "customer_id": by_customer.size().index,
        "first_seen_at": by_customer["invoice_date"].min().values,
        "country": by_customer["country"].agg(lambda s: s.mode().iloc[0]).values,
        "city": None, "gender": None, "birth_year": None, "home_store_id": None,
        "advisor_id": None, "email_opt_in": None, "phone_opt_in": None,
    })

    report: dict[str, Any] = {"source": "online-retail", "input": str(path), "out": str(out),
                              "rows_read": rows_read, "rows_rejected": rejects}
    with RawFolderWriter(out) as writer:
        writer.write("customers", customers)
        writer.write("products", products)
        writer.write("orders", orders)
        writer.write("order_lines", order_lines)
        return _finish(writer, report)


__all__ = ["LoadError", "format_report", "load_olist", "load_online_retail"]
