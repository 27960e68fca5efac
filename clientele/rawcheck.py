"""`clientele init` and `clientele check`: start a raw folder, and survey one before a build.

`init` writes the contract empty, each table with its columns and types, for a retailer
who fills the files themselves (or through `clientele load mapping`).

`check` reads a raw folder with DuckDB (column statistics in SQL, no row loop) and
prints one line per problem, naming the file and the column:

- *stop*: the build cannot run (no folder, a required table or column missing, a file
  that is not Parquet). `clientele build` runs these checks first; plain `dbt build`
  meets the same ones in the on-run-start hook (macro check_raw_folder).
- *rows*: rows the build will quarantine (values that do not cast to the contract's
  type, missing or duplicate keys, dates before staging_min_valid_date or in the
  future, delivery before order, non-finite or implausible prices, unknown references).
  Staging decides; this is the survey, with counts and an example.
- *note*: what the build does without complaint (an optional table or column read as
  empty, an extra column ignored, aware timestamps converted to staging_timezone).

The bounds are the dbt vars of `dbt_project.yml`, so check and staging agree.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import yaml

from clientele.contract import TABLES, Column, Table
from clientele.errors import UserError

PROJECT_DIR = Path(__file__).resolve().parent.parent
STOP, ROWS, NOTE = "stop", "rows", "note"
# Text ids and codes are compared trimmed, as staging does.
_PRICE_COLUMNS = {("order_lines", "unit_price"), ("products", "list_price"),
                  ("products", "unit_cost")}
# Dates that may lie ahead of today (an upcoming launch, a promised delivery).
_FUTURE_ALLOWED = {("collections", "launch_date"), ("orders", "promised_delivery_at"),
                   ("orders", "delivered_at"), ("stock", "as_of")}
_REFERENCES = (  # table, column, referenced table, referenced column
    ("orders", "customer_id", "customers", "customer_id"),
    ("order_lines", "order_id", "orders", "order_id"),
    ("order_lines", "product_id", "products", "product_id"),
    ("reviews", "order_id", "orders", "order_id"),
)


@dataclass(frozen=True)
class Problem:
    level: str
    file: str
    message: str
    column: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}: column {self.column}" if self.column else self.file
        return f"{where}: {self.message}"


def project_vars() -> dict[str, Any]:
    """The dbt vars declared in dbt_project.yml (the staging bounds)."""
    return yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]


# --------------------------------------------------------------------------- init


def init_folder(raw: Path) -> list[Path]:
    """Write every contract table empty into `raw` (which must not hold Parquet files)."""
    if raw.exists() and not raw.is_dir():
        raise UserError(f"{raw}: exists and is not a folder")
    if raw.exists() and any(raw.glob("*.parquet")):
        raise UserError(f"{raw}: already holds Parquet files; init writes into a new folder")
    raw.mkdir(parents=True, exist_ok=True)
    written = []
    for table in TABLES:
        path = raw / table.file_name
        pq.write_table(table.schema.empty_table(), path)
        written.append(path)
    (raw / "CONTRACT.md").write_text(contract_text())
    return written


def contract_text() -> str:
    """The contract in words: tables, columns, types, what is required."""
    lines = ["# The raw contract", "",
             "One Parquet file per table. Required tables and columns must be there; an optional",
             "table may be left out (read as empty) and an optional column left out (read as null).",
             "Timestamps are the brand's wall-clock time (see README, \"Your own data\").", ""]
    for table in TABLES:
        need = "required" if table.required else "optional"
        lines += [f"## {table.file_name} ({need})", "",
                  f"{table.grain}; key: {', '.join(table.key)}", "",
                  "| column | type | required | description |", "|---|---|---|---|"]
        lines += [f"| {c.name} | {c.sql_type} | {'yes' if c.required else ''} | {c.description} |"
                  for c in table.columns]
        lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------- check


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def file_columns(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, tuple[str, str]]:
    """{lower-case name: (name in the file, DuckDB type)}."""
    rows = con.sql(f"describe select * from read_parquet({_text(path)})").fetchall()
    return {r[0].lower(): (r[0], str(r[1]).upper()) for r in rows}


def structure(raw: Path, con: duckdb.DuckDBPyConnection | None = None
              ) -> tuple[list[Problem], dict[str, dict[str, tuple[str, str]]]]:
    """Stop problems and notes about tables and columns, and the columns of each file."""
    con = con or duckdb.connect()
    if not raw.is_dir():
        return [Problem(STOP, str(raw), "not a folder (run clientele init, load or demo)")], {}
    problems: list[Problem] = []
    found: dict[str, dict[str, tuple[str, str]]] = {}
    for table in TABLES:
        path = raw / table.file_name
        if not path.exists():
            problems.append(Problem(STOP, table.file_name, "required table missing")
                            if table.required else
                            Problem(NOTE, table.file_name, "not there: read as empty (optional)"))
            continue
        try:
            columns = file_columns(con, path)
        except duckdb.Error as exc:
            problems.append(Problem(STOP, table.file_name,
                                    f"not a readable Parquet file ({str(exc).splitlines()[0]})"))
            continue
        found[table.name] = columns
        for column in table.columns:
            if column.name in columns:
                continue
            if column.required:
                close = difflib.get_close_matches(column.name, list(columns), n=1, cutoff=0.5)
                hint = f"; is it {columns[close[0]][0]}?" if close else ""
                problems.append(Problem(STOP, table.file_name, f"required column missing "
                                        f"(the file has {', '.join(v[0] for v in columns.values())})"
                                        f"{hint}", column.name))
            else:
                problems.append(Problem(NOTE, table.file_name, "not there: read as null",
                                        column.name))
        extra = [v[0] for k, v in columns.items() if k not in table.column_names]
        if extra:
            problems.append(Problem(NOTE, table.file_name,
                                    f"columns not in the contract, ignored: {', '.join(extra)}"))
    return problems, found


def _typed(expression: str, file_type: str, column: Column) -> str:
    """The value as the contract type, null when it does not convert (staging's rule)."""
    target = column.sql_type.upper()
    if file_type == target or column.sql_type == "varchar":
        return expression
    if file_type.startswith("TIMESTAMP WITH TIME ZONE"):
        return f"cast({expression} as {column.sql_type})"
    source = f"trim({expression})" if file_type == "VARCHAR" else expression
    if column.sql_type == "integer":
        number = f"try_cast({source} as double)"
        return f"case when {number} = floor({number}) then try_cast({number} as integer) end"
    return f"try_cast({source} as {column.sql_type})"


def _row_checks(table: Table, columns: dict[str, tuple[str, str]], settings: dict[str, Any],
                now: datetime) -> Iterator[tuple[str | None, str, str, str]]:
    """(column, message, count expression, example expression) for one table."""
    def col(name: str) -> str:
        return _quote(columns[name][0])

    present = [c for c in table.columns if c.name in columns]
    for column in present:
        file_type = columns[column.name][1]
        value = _typed(col(column.name), file_type, column)
        if value != col(column.name):
            yield (column.name, f"values that are not {column.sql_type}: quarantined",
                   f"count(*) filter (where {col(column.name)} is not null and {value} is null)",
                   f"any_value(cast({col(column.name)} as varchar)) filter "
                   f"(where {col(column.name)} is not null and {value} is null)")
        if column.sql_type in ("timestamp", "date"):
            low = f"{value} < cast('{settings['staging_min_valid_date']}' as {column.sql_type})"
            yield (column.name, f"dates before {settings['staging_min_valid_date']} "
                                "(staging_min_valid_date): quarantined",
                   f"count(*) filter (where {low})", f"min({value})")
            if (table.name, column.name) not in _FUTURE_ALLOWED:
                high = f"{value} > cast('{now:%Y-%m-%d %H:%M:%S}' as timestamp)"
                yield (column.name, "dates in the future: quarantined",
                       f"count(*) filter (where {high})", f"max({value})")
        if column.sql_type == "double":
            yield (column.name, "NaN or infinite values: quarantined",
                   f"count(*) filter (where not isfinite({value}))",
                   f"any_value({value}) filter (where not isfinite({value}))")
            if (table.name, column.name) in _PRICE_COLUMNS:
                bound = settings["staging_max_unit_price"]
                yield (column.name, f"negative or above {bound} (staging_max_unit_price): "
                                    "quarantined",
                       f"count(*) filter (where isfinite({value}) and ({value} < 0 "
                       f"or {value} > {bound}))",
                       f"any_value({value}) filter (where isfinite({value}) and ({value} < 0 "
                       f"or {value} > {bound}))")
    keys = [k for k in table.key if k in columns]
    if keys:
        cleaned = [f"nullif(trim(cast({col(k)} as varchar)), '')" for k in keys]
        missing = " or ".join(f"{c} is null" for c in cleaned)
        yield (", ".join(keys), "rows without a key: quarantined",
               f"count(*) filter (where {missing})", "null")
        key = cleaned[0] if len(cleaned) == 1 else "struct_pack(" + ", ".join(
            f"k{i} := {c}" for i, c in enumerate(cleaned)) + ")"
        yield (", ".join(keys), "duplicate keys (the first in the file is kept): quarantined",
               f"count({key}) - count(distinct {key})", "null")
    if table.name == "orders" and {"ordered_at", "delivered_at"} <= set(columns):
        by_name = {c.name: c for c in table.columns}
        ordered = _typed(col("ordered_at"), columns["ordered_at"][1], by_name["ordered_at"])
        delivered = _typed(col("delivered_at"), columns["delivered_at"][1],
                           by_name["delivered_at"])
        yield ("delivered_at", "delivered before ordered: quarantined",
               f"count(*) filter (where cast({delivered} as date) < cast({ordered} as date))",
               "null")


def check_folder(raw: Path, now: datetime | None = None) -> list[Problem]:
    """Every problem of a raw folder: stop problems first, then rows, then notes."""
    settings = project_vars()
    now = now or datetime.now()
    con = duckdb.connect()
    problems, found = structure(raw, con)
    by_name = {t.name: t for t in TABLES}
    for name, columns in found.items():
        table = by_name[name]
        if any(p.level == STOP and p.file == table.file_name for p in problems):
            continue
        problems += [Problem(NOTE, table.file_name, "time-zone-aware: converted to "
                             f"{settings['staging_timezone']} (staging_timezone)", c)
                     for c, (_, file_type) in columns.items()
                     if file_type.startswith("TIMESTAMP WITH TIME ZONE")]
        checks = list(_row_checks(table, columns, settings, now))
        if not checks:
            continue
        select = ", ".join(f"{count}, {example}" for _, _, count, example in checks)
        row = con.sql(f"select {select} from read_parquet({_text(raw / table.file_name)})"
                      ).fetchone()
        for i, (column, message, _, _) in enumerate(checks):
            count, example = row[2 * i], row[2 * i + 1]
            if count:
                shown = f" (e.g. {str(example)[:60]!r})" if example is not None else ""
                problems.append(Problem(ROWS, table.file_name, f"{count:,} {message}{shown}",
                                        column))
    problems += _reference_problems(con, raw, found)
    order = {STOP: 0, ROWS: 1, NOTE: 2}
    return sorted(problems, key=lambda p: order[p.level])


def _reference_problems(con: duckdb.DuckDBPyConnection, raw: Path,
                        found: dict[str, dict[str, tuple[str, str]]]) -> list[Problem]:
    problems = []
    for table, column, parent, parent_column in _REFERENCES:
        if column not in found.get(table, {}) or parent_column not in found.get(parent, {}):
            continue
        child_col = _quote(found[table][column][0])
        parent_col = _quote(found[parent][parent_column][0])
        unknown = con.sql(
            f"select count(*), any_value(v) from (select nullif(trim(cast({child_col} as varchar)), "
            f"'') as v from read_parquet({_text(raw / (table + '.parquet'))})) as child "
            f"where v is not null and v not in (select nullif(trim(cast({parent_col} as varchar)),"
            f" '') from read_parquet({_text(raw / (parent + '.parquet'))}))").fetchone()
        if unknown[0]:
            problems.append(Problem(ROWS, f"{table}.parquet",
                                    f"{unknown[0]:,} values not in {parent}.parquet: quarantined "
                                    f"(e.g. {str(unknown[1])[:60]!r})", column))
    return problems


def require_buildable(raw: Path) -> None:
    """Raise one line for the first problem that stops a build (for `clientele build`)."""
    problems, _ = structure(raw)
    stops = [p for p in problems if p.level == STOP]
    if stops:
        more = f" (and {len(stops) - 1} more: clientele check {raw})" if len(stops) > 1 else ""
        raise UserError(f"{raw}/{stops[0]}{more}" if stops[0].file != str(raw) else
                        f"{stops[0]}{more}")
