"""The mapping loader: a retailer's own CSV or Parquet exports into the raw contract.

A mapping file (YAML) says which file feeds which contract table and which column of
the file feeds which contract column, with the formats of dates, numbers and yes/no
values. `clientele init RAW --mapping mapping.yml` writes a commented template;
`clientele load mapping mapping.yml --out RAW` runs it::

    timezone: Europe/Paris         # the brand's wall-clock zone (dbt var staging_timezone)
    date_format: "%d/%m/%Y %H:%M"  # default for every date column; omit for ISO 8601
    csv: {delimiter: ";", decimal: ",", encoding: utf-8}
    tables:
      customers:
        file: exports/clients.csv  # relative to the mapping file; .csv, .txt or .parquet
        columns:                   # contract column: column of the file
          customer_id: CLIENT_NO
          first_seen_at: {column: CREATED, format: "%d/%m/%Y"}
          email_opt_in: {column: OPTIN, true_values: [O, Y], false_values: [N]}
          country: {value: FR}     # a constant for a column the export lacks

Rules, so that a load is faithful or refused:

- Files are read in chunks (memory bounded by `chunk_rows`, not by the file's size).
- Unmapped optional columns are null; an unmapped required column, a mapped column the
  file lacks, a file that is not there, not UTF-8 (or the declared encoding), a header
  without rows for a required table, a quote that runs over lines, or a column none of
  values do not parse (a wrong format) stop the load with one line naming file and line,
  and the previous raw folder is kept.
- A value that does not parse (a date in another format, text in a number, 2.5 units,
  'NaN', a yes/no value not listed) rejects its row: counted by reason in the report and
  kept with its file, line and reason in `RAW/_load_rejects.parquet`, never dropped silently.
- Time zones: a naive date-time is the brand's wall-clock time and is kept as is; a
  date-time with an offset or zone (``2024-03-31T14:05:00+02:00``, ``...Z``, an aware
  Parquet timestamp) is converted to `timezone` and the zone dropped. Staging applies
  the same rule (README, "Your own data").
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from clientele.contract import TABLES, TABLES_BY_NAME, Table
from clientele.loaders import LoadError, iter_csv
from clientele.raw import RawFolderWriter

log = logging.getLogger(__name__)

REJECTS_FILE = "_load_rejects.parquet"
TRUE_VALUES = ("true", "t", "yes", "y", "1")
FALSE_VALUES = ("false", "f", "no", "n", "0")
# Contract text columns that may hold line breaks; any other value with one is a quote run.
FREE_TEXT = {("customers", "city"), ("products", "name"), ("collections", "name"),
             ("stores", "name"), ("stores", "city")}
_AWARE = re.compile(r"\d:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$")
REJECTS_SCHEMA = pa.schema([
    ("table", pa.string()), ("file", pa.string()), ("line", pa.int64()),
    ("column", pa.string()), ("reason", pa.string()), ("record", pa.string()),
])


@dataclass(frozen=True)
class ColumnMap:
    """Where one contract column comes from: a column of the file, or a constant."""

    name: str
    source: str | None = None
    value: Any = None
    format: str | None = None
    true_values: tuple[str, ...] = TRUE_VALUES
    false_values: tuple[str, ...] = FALSE_VALUES


@dataclass(frozen=True)
class TableMap:
    """One contract table: its file, its columns and how to read the file."""

    table: Table
    file: Path
    columns: tuple[ColumnMap, ...]
    csv: dict[str, str] = field(default_factory=dict)

    @property
    def source_columns(self) -> list[str]:
        return [c.source for c in self.columns if c.source is not None]


@dataclass(frozen=True)
class Mapping:
    path: Path
    tables: tuple[TableMap, ...]
    timezone: str = "UTC"


def _fail(path: Path, message: str) -> LoadError:
    return LoadError(f"{path}: {message}")


def read_mapping(path: Path) -> Mapping:
    """Parse and check a mapping file; every mistake is one line naming the file."""
    if not path.is_file():
        raise _fail(path, "mapping file not found")
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise _fail(path, f"not a readable YAML file ({str(exc).splitlines()[0]})") from exc
    if not isinstance(spec, dict) or not isinstance(spec.get("tables"), dict):
        raise _fail(path, "expected a `tables:` mapping (see `clientele init --mapping`)")
    unknown = sorted(set(spec) - {"timezone", "date_format", "csv", "tables"})
    if unknown:
        raise _fail(path, f"unknown key(s) {', '.join(unknown)}")
    zone = str(spec.get("timezone") or "UTC")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise _fail(path, f"timezone {zone!r} is not a time zone (e.g. UTC, Europe/Paris)") from exc
    csv_defaults = _csv_options(path, spec.get("csv") or {}, "csv")
    tables = []
    for name, table_spec in spec["tables"].items():
        if name not in TABLES_BY_NAME:
            raise _fail(path, f"table {name!r} is not in the contract "
                              f"({', '.join(TABLES_BY_NAME)})")
        tables.append(_table_map(path, TABLES_BY_NAME[name], table_spec or {},
                                 spec.get("date_format"), csv_defaults))
    missing = [t.name for t in TABLES if t.required and t.name not in spec["tables"]]
    if missing:
        raise _fail(path, f"required table(s) not mapped: {', '.join(missing)}")
    return Mapping(path=path, tables=tuple(tables), timezone=zone)


def _csv_options(path: Path, options: Any, where: str) -> dict[str, str]:
    if not isinstance(options, dict):
        raise _fail(path, f"{where}: expected a mapping of CSV options")
    unknown = sorted(set(options) - {"delimiter", "encoding", "decimal", "thousands"})
    if unknown:
        raise _fail(path, f"{where}: unknown CSV option(s) {', '.join(unknown)} "
                          "(delimiter, encoding, decimal, thousands)")
    return {k: str(v) for k, v in options.items()}


def _table_map(path: Path, table: Table, spec: dict[str, Any], date_format: str | None,
               csv_defaults: dict[str, str]) -> TableMap:
    where = f"table {table.name}"
    if not isinstance(spec, dict) or not spec.get("file"):
        raise _fail(path, f"{where}: no `file:`")
    unknown = sorted(set(spec) - {"file", "columns", "csv"})
    if unknown:
        raise _fail(path, f"{where}: unknown key(s) {', '.join(unknown)} (file, columns, csv)")
    columns_spec = spec.get("columns") or {}
    if not isinstance(columns_spec, dict):
        raise _fail(path, f"{where}: `columns:` must map contract columns to file columns")
    known = {c.name: c for c in table.columns}
    columns = []
    for name, source in columns_spec.items():
        if name not in known:
            raise _fail(path, f"{where}: {name!r} is not a contract column "
                              f"({', '.join(known)})")
        columns.append(_column_map(path, f"{where}, column {name}", name, source,
                                   date_format if known[name].sql_type in ("timestamp", "date")
                                   else None))
    unmapped = [c for c in table.required_columns if c not in columns_spec]
    if unmapped:
        raise _fail(path, f"{where}: required column(s) not mapped: {', '.join(unmapped)}")
    file = Path(str(spec["file"]))
    file = file if file.is_absolute() else path.parent / file
    options = {**csv_defaults, **_csv_options(path, spec.get("csv") or {}, f"{where}, csv")}
    return TableMap(table=table, file=file, columns=tuple(columns), csv=options)


def _column_map(path: Path, where: str, name: str, spec: Any, date_format: str | None
                ) -> ColumnMap:
    if isinstance(spec, str):
        return ColumnMap(name, source=spec, format=date_format)
    if not isinstance(spec, dict):
        raise _fail(path, f"{where}: expected a column name or {{column: ..., format: ...}}")
    unknown = sorted(set(spec) - {"column", "value", "format", "true_values", "false_values"})
    if unknown:
        raise _fail(path, f"{where}: unknown key(s) {', '.join(map(str, unknown))} "
                          "(column, value, format, true_values, false_values)")
    if ("column" in spec) == ("value" in spec):
        raise _fail(path, f"{where}: give either `column:` or `value:`")
    return ColumnMap(
        name, source=str(spec["column"]) if "column" in spec else None,
        value=spec.get("value"), format=spec.get("format", date_format),
        true_values=tuple(str(v).strip().lower() for v in spec.get("true_values", TRUE_VALUES)),
        false_values=tuple(str(v).strip().lower()
                           for v in spec.get("false_values", FALSE_VALUES)),
    )


# --------------------------------------------------------------------------- conversion


def parse_times(values: pd.Series, fmt: str | None, zone: str, as_date: bool = False
                ) -> pd.Series:
    """Date-times by the time-zone rule: naive values as they are, aware ones converted to
    `zone` and made naive. Unparseable values are NaT."""
    if pd.api.types.is_datetime64_any_dtype(values):
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_convert(zone).dt.tz_localize(None)
        parsed = values.astype("datetime64[us]")
    else:
        text = values.astype("string").str.strip()
        aware = text.str.contains(_AWARE, na=False)
        parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
        # The declared format, then ISO 8601 (year first, never ambiguous); never a guess
        # between day-first and month-first.
        for attempt in dict.fromkeys([fmt or "ISO8601", "ISO8601"]):
            todo = parsed.isna() & text.notna()
            naive, zoned = todo & ~aware, todo & aware
            if naive.any():
                parsed[naive] = pd.to_datetime(text[naive], format=attempt, errors="coerce")
            if zoned.any():
                utc = pd.to_datetime(text[zoned], format=attempt, errors="coerce", utc=True)
                parsed[zoned] = utc.dt.tz_convert(zone).dt.tz_localize(None)
    return parsed.dt.normalize() if as_date else parsed


def parse_numbers(values: pd.Series, options: dict[str, str]) -> pd.Series:
    """Numbers from text with the file's decimal and thousands marks; NaN where unreadable."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype("float64")
    text = values.astype("string").str.strip()
    if options.get("thousands"):
        text = text.str.replace(options["thousands"], "", regex=False)
    if options.get("decimal", ".") != ".":
        text = text.str.replace(options["decimal"], ".", regex=False)
    # 'NaN' is not a price: pandas would read it as a missing value.
    text = text.where(~text.str.lower().isin(["nan", "-nan", "+nan"]), "unreadable")
    return pd.to_numeric(text, errors="coerce")


def parse_flags(values: pd.Series, column: ColumnMap) -> pd.Series:
    if pd.api.types.is_bool_dtype(values):
        return values.astype(object)
    text = values.astype("string").str.strip().str.lower()
    flags = pd.Series(None, index=values.index, dtype=object)
    flags[text.isin(column.true_values).fillna(False)] = True
    flags[text.isin(column.false_values).fillna(False)] = False
    return flags


def convert_column(values: pd.Series, column: ColumnMap, type_: str, zone: str,
                   options: dict[str, str]) -> tuple[pd.Series, pd.Series]:
    """The contract-typed values and the mask of values that did not convert."""
    given = values.notna() & (values.astype("string").str.strip() != "").fillna(False)
    if type_ == "varchar":
        text = values.astype(object).where(given, None)
        return text.map(lambda v: v if v is None or isinstance(v, str) else str(v)), \
            pd.Series(False, index=values.index)
    if type_ in ("timestamp", "date"):
        converted = parse_times(values, column.format, zone, as_date=type_ == "date")
        return converted, given & converted.isna()
    if type_ == "boolean":
        flags = parse_flags(values, column)
        return flags, given & flags.isna()
    numbers = parse_numbers(values, options)
    if type_ == "integer":
        # Whole numbers only: 2.5 units is not a quantity, so it is not rounded.
        whole = numbers.notna() & (numbers == np.floor(numbers)) & (numbers.abs() < 2**31)
        return numbers.where(whole).astype("Int32"), given & ~whole
    # +-Infinity is kept (staging quarantines it with its reason); text is not a number.
    return numbers, given & numbers.isna()


# --------------------------------------------------------------------------- reading


def _chunks(table: TableMap, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """The file in chunks of text (CSV) or typed columns (Parquet), with file lines."""
    suffix = table.file.suffix.lower()
    if suffix == ".parquet":
        yield from _parquet_chunks(table, chunk_rows)
    elif suffix in (".csv", ".txt", ".tsv"):
        options = dict(table.csv)
        free_text = tuple(c.source for c in table.columns
                          if c.source and (table.table.name, c.name) in FREE_TEXT)
        yield from iter_csv(table.file, usecols=table.source_columns, free_text=free_text,
                            chunk_rows=chunk_rows, encoding=options.get("encoding", "utf-8"),
                            sep=options.get("delimiter", "\t" if suffix == ".tsv" else ","))
    else:
        raise _fail(table.file, f"unsupported file type {suffix!r} (csv, txt, tsv or parquet)")


def _parquet_chunks(table: TableMap, chunk_rows: int) -> Iterator[pd.DataFrame]:
    if not table.file.exists():
        raise _fail(table.file, "file not found")
    try:
        parquet = pq.ParquetFile(table.file)
    except (pa.ArrowInvalid, OSError) as exc:
        raise _fail(table.file, f"not a Parquet file ({str(exc).splitlines()[0]})") from exc
    missing = [c for c in table.source_columns if c not in parquet.schema_arrow.names]
    if missing:
        raise _fail(table.file, f"missing columns {', '.join(missing)} "
                                f"(the file has {', '.join(parquet.schema_arrow.names)})")
    row = 1
    for batch in parquet.iter_batches(batch_size=chunk_rows, columns=table.source_columns):
        frame = batch.to_pandas()
        frame.attrs["lines"] = pd.Series(row + np.arange(len(frame)), index=frame.index)
        row += len(frame)
        yield frame


def _records(frame: pd.DataFrame, rows: pd.Series) -> list[str]:
    """The rejected rows as JSON text, as the file gave them."""
    part = frame.loc[rows]
    return [json.dumps({k: (None if isinstance(v, float) and math.isnan(v) else v)
                        for k, v in rec.items()}, default=str, ensure_ascii=False)
            for rec in part.to_dict("records")]


class _Rejects:
    """Rejected rows, appended to RAW/_load_rejects.parquet as they come (bounded memory)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / REJECTS_FILE
        self.counts: Counter[str] = Counter()
        self._writer: pq.ParquetWriter | None = None

    def add(self, table: TableMap, frame: pd.DataFrame, reasons: pd.Series) -> None:
        rejected = reasons.notna()
        if not rejected.any():
            return
        for reason, n in reasons[rejected].value_counts().items():
            self.counts[f"{table.table.name}: {reason}"] += int(n)
        rows = pa.table({
            "table": [table.table.name] * int(rejected.sum()),
            "file": [str(table.file)] * int(rejected.sum()),
            "line": frame.attrs["lines"][rejected].astype("int64").to_numpy(),
            "column": reasons.attrs["columns"][rejected].to_numpy(),
            "reason": reasons[rejected].to_numpy(),
            "record": _records(frame, rejected),
        }, schema=REJECTS_SCHEMA)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, REJECTS_SCHEMA)
        self._writer.write_table(rows)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def _convert_chunk(table: TableMap, frame: pd.DataFrame, zone: str
                   ) -> tuple[pd.DataFrame, pd.Series, dict[str, pd.Series]]:
    """The chunk in contract columns, the first failure per row (its reason, or None; the
    file column it failed on in `reasons.attrs["columns"]`), and the bad-value mask of
    each mapped column."""
    out: dict[str, Any] = {}
    reasons = pd.Series(None, index=frame.index, dtype=object)
    failed_columns = pd.Series(None, index=frame.index, dtype=object)
    masks = {}
    for column in table.table.columns:
        mapped = next((c for c in table.columns if c.name == column.name), None)
        if mapped is None or mapped.source is None:
            value = None if mapped is None else mapped.value
            out[column.name] = pd.Series([value] * len(frame), index=frame.index, dtype=object)
            continue
        values, bad = convert_column(frame[mapped.source], mapped, column.sql_type, zone,
                                     table.csv)
        out[column.name] = values
        masks[column.name] = bad
        first = bad & reasons.isna()
        reasons[first] = f"unreadable {mapped.source} (contract {column.name}: {column.sql_type})"
        failed_columns[first] = mapped.source
    reasons.attrs["columns"] = failed_columns
    return pd.DataFrame(out, index=frame.index), reasons, masks


def load_mapping(mapping_path: Path, out: Path, chunk_rows: int = 200_000) -> dict[str, Any]:
    """Every mapped file -> the raw contract in `out` (replaced only when all is read)."""
    mapping = read_mapping(mapping_path)
    rows_read: dict[str, int] = {}
    with RawFolderWriter(out) as writer:
        rejects = _Rejects(writer.partial_path)
        try:
            for table in mapping.tables:
                read = 0
                for number, frame in enumerate(_chunks(table, chunk_rows)):
                    read += len(frame)
                    converted, reasons, masks = _convert_chunk(table, frame, mapping.timezone)
                    if number == 0:  # the first chunk tells a wrong format from bad rows
                        _refuse_wrong_format(table, frame, masks)
                    rejects.add(table, frame, reasons)
                    kept = converted[reasons.isna()]
                    if len(kept):
                        writer.write(table.table.name, kept)
                    log.info("%s: %d rows read from %s", table.table.name, read, table.file.name)
                rows_read[f"{table.table.name} ({table.file.name})"] = read
                if read == 0 and table.table.required:
                    raise _fail(table.file, "no data rows (header only); nothing written")
        finally:
            rejects.close()
        report: dict[str, Any] = {
            "source": "mapping", "input": str(mapping_path), "out": str(out),
            "rows_read": rows_read, "rows_rejected": dict(rejects.counts),
            "rejects_file": REJECTS_FILE if rejects.counts else None,
            "timezone": mapping.timezone,
        }
        writer.write_report(report)
        report["rows_written"] = dict(writer.rows_written)
        return report


def _refuse_wrong_format(table: TableMap, frame: pd.DataFrame, masks: dict[str, pd.Series]
                         ) -> None:
    """Most values of a column not converting is a wrong format in the mapping (or the wrong
    column), not a few bad rows: stop rather than reject half the file."""
    for name, bad in masks.items():
        column = next(c for c in table.columns if c.name == name)
        given = frame[column.source].notna()
        if given.sum() >= 2 and bad[given].mean() >= 0.5:
            first = bad.idxmax()
            example = str(frame.loc[first, column.source])
            hint = f"format {column.format!r}" if column.format else "ISO 8601 dates"
            raise _fail(table.file, f"line {int(frame.attrs['lines'][first])}: column "
                                    f"{column.source}: {int(bad.sum())} of {int(given.sum())} "
                                    f"values do not convert (e.g. {example[:40]!r}); check the "
                                    f"mapping ({hint}, decimal mark, yes/no values)")


# --------------------------------------------------------------------------- template


def template(raw_hint: str = "data/raw") -> str:
    """A commented mapping file listing every contract table and column."""
    lines = [
        "# clientele mapping: which export feeds which table of the raw contract.",
        f"# Run: clientele load mapping THIS_FILE --out {raw_hint}",
        "# Paths are relative to this file. Columns: `contract_column: FILE_COLUMN`,",
        "# or {column: FILE_COLUMN, format: '%d/%m/%Y'} for a date in another format,",
        "# or {column: FILE_COLUMN, true_values: [O], false_values: [N]} for yes/no,",
        "# or {value: CONSTANT}. Unmapped optional columns are null; delete optional",
        "# tables you do not have (they are read as empty).",
        "timezone: UTC            # the brand's wall-clock zone; aware times are converted to it",
        "# date_format: \"%d/%m/%Y %H:%M\"   # default for every date column (else ISO 8601)",
        "csv: {delimiter: \",\", encoding: utf-8, decimal: \".\"}",
        "tables:",
    ]
    for table in TABLES:
        optional = "" if table.required else "   # optional"
        lines.append(f"  {table.name}:{optional}")
        lines.append(f"    file: exports/{table.name}.csv")
        lines.append("    columns:")
        for column in table.columns:
            need = "required" if column.required else "optional"
            lines.append(f"      {column.name}: {column.name.upper():<24}"
                         f"# {column.sql_type}, {need}: {column.description}")
    return "\n".join(lines) + "\n"
