"""The seam between dbt and Python: one way for a dbt Python model to read its inputs, get
its settings and return its output, in memory bounded by settings, never by the number of
clients.

A dbt Python model (``python_models/<area>/int_<area>__*.py``) is glue of a dozen lines::

    from clientele.<area> import pipeline
    from clientele.<area>.settings import <Area>Settings

    def model(dbt, session):
        dbt.config(materialized="table")
        return pipeline.<entry_point>(
            dbt.ref("int_<area>__inputs"),
            settings=<Area>Settings.from_config(dbt.config.get("settings")),
        )

- **Inputs** are DuckDB relations (``dbt.ref``), or, in tests and notebooks, pandas frames or
  Arrow tables: :func:`as_relation` turns either into a relation. Large inputs are read
  with :func:`iter_frames` (Arrow record batches of ``batch_rows``) or filtered and
  sampled in DuckDB first (:func:`sample_keys`); :func:`read_frame` reads a whole input
  and is meant for the small ones (catalogue, launches, settings rows, one month's sample).
- **Settings** are one frozen dataclass per area (:class:`AreaSettings`); their defaults
  are the dbt defaults declared in ``dbt_project.yml`` (``pytests/test_settings.py``
  checks that they agree) and reach the model through its YAML ``config: settings:``.
- **Outputs** have one Arrow schema each, declared once next to the code that fills it:
  :func:`to_table` types a frame, :func:`empty_table` is the typed empty output, and
  :func:`stream` returns a ``pyarrow.RecordBatchReader`` fed by a generator, which
  dbt-duckdb materialises batch by batch (``create table ... as select * from`` the
  registered reader), so a large output never sits in memory either.
- **Evaluation rows** (every area's contribution to ``model_evaluation``) are built with
  :class:`EvaluationRows`, whose schema :data:`EVALUATION_SCHEMA` is the only place the
  row shape is written in Python.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import types
import typing
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Self

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

Source = duckdb.DuckDBPyRelation | pd.DataFrame | pa.Table

#: Rows per Arrow record batch when nothing else is said: about 10-100 MB of a wide frame.
DEFAULT_BATCH_ROWS = 100_000


def get_logger(area: str) -> logging.Logger:
    """The area's logger (``clientele.<area>``). Inside dbt nothing configures logging,
    so it prints INFO lines to stdout, which dbt shows; a CLI or notebook that set up
    logging keeps its own handlers."""
    log = logging.getLogger(f"clientele.{area}")
    root = logging.getLogger()
    if not log.handlers and not root.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    return log


# --------------------------------------------------------------------------- settings


def _coerce(value: Any, annotation: Any, name: str) -> Any:
    """A config value (YAML may give a number as a string) as the field's type."""
    origin = typing.get_origin(annotation)
    if origin in (types.UnionType, typing.Union):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none",
                                                                                  "null")):
            return None
        return _coerce(value, options[0], name)
    if origin is tuple:
        (item, *_) = typing.get_args(annotation)
        items = value.split(",") if isinstance(value, str) else list(value)
        return tuple(_coerce(v.strip() if isinstance(v, str) else v, item, name)
                     for v in items if not (isinstance(v, str) and not v.strip()))
    try:
        if annotation is bool:
            if isinstance(value, str):
                lowered = value.strip().lower()
                if lowered not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(value)
                return lowered in ("true", "1", "yes")
            return bool(value)
        if annotation is int:
            as_float = float(value)
            if not as_float.is_integer():
                raise ValueError(value)
            return int(as_float)
        if annotation is float:
            return float(value)
        if annotation is str:
            return str(value)
    except (TypeError, ValueError):
        raise ValueError(f"setting {name}: {value!r} is not a valid {annotation.__name__}"
                         ) from None
    return value


@dataclasses.dataclass(frozen=True)
class AreaSettings:
    """Base of every area's settings dataclass.

    Subclasses declare their fields with the dbt defaults; ``from_config`` builds one from
    the ``settings`` mapping a dbt Python model receives through its YAML config (values
    may arrive as strings), so that a notebook user and ``dbt build`` get the same model.
    """

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None = None) -> Self:
        """Settings from a (possibly partial) mapping; unknown names are an error."""
        config = dict(config or {})
        hints = typing.get_type_hints(cls)
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(config) - fields)
        if unknown:
            raise ValueError(f"{cls.__name__}: unknown setting(s) {', '.join(unknown)}; "
                             f"known: {', '.join(sorted(fields))}")
        return cls(**{k: _coerce(v, hints[k], k) for k, v in config.items()})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# --------------------------------------------------------------------------- inputs


def as_relation(source: Source) -> duckdb.DuckDBPyRelation:
    """A DuckDB relation over ``source``: a relation as is; a frame or Arrow table
    (tests, notebooks) through an in-memory connection of its own."""
    if isinstance(source, duckdb.DuckDBPyRelation):
        return source
    con = duckdb.connect()
    if isinstance(source, pd.DataFrame):
        return con.from_df(source)
    if isinstance(source, pa.Table):
        return con.from_arrow(source)
    raise TypeError(f"cannot read {type(source).__name__} as a table")


def _shaped(source: Source, columns: Sequence[str] | None, where: str | None,
            order_by: str | None) -> duckdb.DuckDBPyRelation:
    rel = as_relation(source)
    if where:
        rel = rel.filter(where)
    if columns is not None:
        rel = rel.project(", ".join(f'"{c}"' for c in columns))
    if order_by:
        rel = rel.order(order_by)
    return rel


def read_frame(source: Source, columns: Sequence[str] | None = None, where: str | None = None,
               order_by: str | None = None) -> pd.DataFrame:
    """The whole (filtered) input as one frame: for inputs bounded by the catalogue, the
    launches or a sample size, never for one row per client."""
    if isinstance(source, pd.DataFrame) and where is None and order_by is None:
        return source[list(columns)].copy() if columns is not None else source.copy()
    return _shaped(source, columns, where, order_by).df()


def iter_frames(source: Source, batch_rows: int = DEFAULT_BATCH_ROWS,
                columns: Sequence[str] | None = None, where: str | None = None,
                order_by: str | None = None) -> Iterator[pd.DataFrame]:
    """The input as pandas frames of at most ``batch_rows`` rows (Arrow record batches)."""
    reader = _shaped(source, columns, where, order_by).to_arrow_reader(int(batch_rows))
    for batch in reader:
        if batch.num_rows:
            yield batch.to_pandas()


def count_rows(source: Source, where: str | None = None) -> int:
    rel = as_relation(source)
    if where:
        rel = rel.filter(where)
    return int(rel.aggregate("count(*)").fetchone()[0])  # type: ignore[index]


def _draw(key: str, seed: int) -> str:
    """The SQL expression ranking keys for a seeded sample (a hash of key and seed)."""
    return f'hash("{key}"::varchar || \'#{int(seed)}\')'


def sample_keys(source: Source, key: str, n: int, seed: int, where: str | None = None
                ) -> pd.DataFrame:
    """Up to ``n`` distinct values of ``key`` drawn deterministically: the same input and
    seed give the same sample whatever the row order (ranked by a hash of key and seed).
    All of them, in key order, when there are at most ``n``."""
    rel = as_relation(source)
    if where:
        rel = rel.filter(where)
    keys = rel.project(f'"{key}"').distinct()
    draw = keys.project(f'"{key}", {_draw(key, seed)} as draw')
    picked = draw.order(f'draw, "{key}"').limit(int(n)).project(f'"{key}"')
    return picked.order(f'"{key}"').df()


def sample_filter(source: Source, key: str, n: int, seed: int, where: str | None = None
                  ) -> str | None:
    """A SQL predicate keeping the keys :func:`sample_keys` draws, for any relation that
    holds ``key`` (the clients' orders, events...), so a sample is filtered in DuckDB
    without joining across connections. None when all keys fit in ``n``."""
    rel = as_relation(source)
    if where:
        rel = rel.filter(where)
    keys = rel.filter(f'"{key}" is not null').project(f'"{key}"').distinct()
    draws = keys.project(f"{_draw(key, seed)} as draw").order("draw")
    row = draws.limit(1, offset=int(n)).fetchone()
    if row is None:
        return None
    # The (n + 1)-th smallest draw: keys below it are the sample (ties need a hash collision).
    return f"{_draw(key, seed)} < {int(row[0])}"


def _literal(value: Any) -> str:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(int(value))
    return "'" + str(value).replace("'", "''") + "'"


def key_ranges(source: Source, key: str, batch_keys: int, where: str | None = None
               ) -> list[str]:
    """SQL predicates splitting the distinct values of ``key`` into consecutive ranges of
    at most ``batch_keys`` values, in key order. Filtering every input of a model with the
    same predicate reads one batch of clients (with their orders, events...) at a time."""
    rel = as_relation(source)
    if where:
        rel = rel.filter(where)
    keys = rel.filter(f'"{key}" is not null').project(f'"{key}"').distinct()
    numbered = keys.project(f'"{key}", row_number() over (order by "{key}") - 1 as position')
    starts = [r[0] for r in numbered.filter(f"position % {int(batch_keys)} = 0")
              .order("position").project(f'"{key}"').fetchall()]
    ranges = []
    for i, start in enumerate(starts):
        predicate = f'"{key}" >= {_literal(start)}'
        if i + 1 < len(starts):
            predicate += f' and "{key}" < {_literal(starts[i + 1])}'
        ranges.append(predicate)
    return ranges


# --------------------------------------------------------------------------- outputs


def _array(values: Any, field: pa.Field) -> pa.Array:
    if isinstance(values, pd.Series):
        if pa.types.is_date32(field.type) and (pd.api.types.is_datetime64_any_dtype(values)):
            values = values.dt.date
        if pa.types.is_string(field.type) and values.dtype != object:
            values = values.astype(object).where(values.notna(), None)
    array = pa.array(values, from_pandas=True)
    if array.type == field.type:
        return array
    if pa.types.is_null(array.type):
        return pa.nulls(len(array), field.type)
    if pa.types.is_string(field.type) and not pa.types.is_string(array.type):
        return pa.array([None if v is None else str(v) for v in array.to_pylist()], pa.string())
    return array.cast(field.type)


def to_table(frame: pd.DataFrame | Mapping[str, Any], schema: pa.Schema) -> pa.Table:
    """``frame``'s columns of ``schema``, typed as declared (a missing column is an error)."""
    columns = frame if isinstance(frame, Mapping) else {c: frame[c] for c in frame.columns}
    missing = [f.name for f in schema if f.name not in columns]
    if missing:
        raise KeyError(f"output lacks column(s) {', '.join(missing)}")
    arrays = [_array(columns[f.name], f) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def empty_table(schema: pa.Schema) -> pa.Table:
    """The typed empty output (a dataset without what the model needs still builds)."""
    return schema.empty_table()


def stream(schema: pa.Schema, parts: Iterable[pd.DataFrame | pa.Table | pa.RecordBatch]
           ) -> pa.RecordBatchReader:
    """A RecordBatchReader over ``parts`` (produced lazily, e.g. one per batch of
    clients), each typed to ``schema``: dbt-duckdb writes it batch by batch."""

    def batches() -> Iterator[pa.RecordBatch]:
        for part in parts:
            if isinstance(part, pa.RecordBatch):
                part = pa.Table.from_batches([part])
            table = part.select(schema.names).cast(schema) if isinstance(
                part, pa.Table) else to_table(part, schema)
            yield from table.to_batches()

    return pa.RecordBatchReader.from_batches(schema, batches())


def fields(*columns: tuple[str, pa.DataType]) -> pa.Schema:
    """Shorthand for an output schema: ``fields(("customer_id", pa.string()), ...)``."""
    return pa.schema(list(columns))


# --------------------------------------------------------------------------- evaluation

#: One row of model_evaluation: a model's (or a baseline's) figure on one metric, k and
#: segment, with its 95 % confidence interval where one was computed.
EVALUATION_SCHEMA = fields(
    ("area", pa.string()),
    ("model_name", pa.string()),
    ("is_baseline", pa.bool_()),
    ("metric", pa.string()),
    ("k", pa.int32()),
    ("segment", pa.string()),
    ("metric_value", pa.float64()),
    ("ci_lower", pa.float64()),
    ("ci_upper", pa.float64()),
    ("n_evaluated", pa.int64()),
    ("cutoff_date", pa.date32()),
    ("as_of_date", pa.date32()),
    ("notes", pa.string()),
)


def _date(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if value is pd.NaT:
        return None
    return pd.Timestamp(value).date()


class EvaluationRows:
    """Collects an area's model_evaluation rows; ``to_table`` gives them typed."""

    def __init__(self, area: str, as_of_date: Any = None, cutoff_date: Any = None) -> None:
        self.area = area
        self.as_of_date = as_of_date
        self.cutoff_date = cutoff_date
        self.rows: list[dict[str, Any]] = []

    def add(self, model_name: str, metric: str, value: float | None, *, is_baseline: bool,
            k: int | None = None, segment: str = "all", n_evaluated: int | None = None,
            notes: str | None = None, ci: tuple[float | None, float | None] | None = None,
            cutoff_date: Any = ..., as_of_date: Any = ...) -> None:
        lower, upper = ci if ci is not None else (None, None)
        # An interval that could not be computed (NaN) is null, like one never asked for.
        lower, upper = (None if v is None or not np.isfinite(v) else v for v in (lower, upper))
        self.rows.append({
            "area": self.area, "model_name": model_name, "is_baseline": bool(is_baseline),
            "metric": metric, "k": None if k is None else int(k), "segment": segment,
            "metric_value": None if value is None else float(value),
            "ci_lower": None if lower is None else float(lower),
            "ci_upper": None if upper is None else float(upper),
            "n_evaluated": None if n_evaluated is None else int(n_evaluated),
            "cutoff_date": _date(self.cutoff_date if cutoff_date is ... else cutoff_date),
            "as_of_date": _date(self.as_of_date if as_of_date is ... else as_of_date),
            "notes": notes,
        })

    def extend(self, frame: pd.DataFrame) -> None:
        """Rows already in model_evaluation's columns (ci_* and dates may be missing)."""
        for row in frame.to_dict("records"):
            ci = (row.get("ci_lower"), row.get("ci_upper"))
            self.add(row["model_name"], row["metric"], row["metric_value"],
                     is_baseline=row["is_baseline"], k=None if pd.isna(row.get("k")) else
                     row["k"], segment=row.get("segment") or "all",
                     n_evaluated=None if pd.isna(row.get("n_evaluated")) else
                     row["n_evaluated"], notes=row.get("notes"),
                     ci=tuple(None if pd.isna(v) else v for v in ci),  # type: ignore[arg-type]
                     **{d: row[d] for d in ("cutoff_date", "as_of_date") if d in row})

    def __len__(self) -> int:
        return len(self.rows)

    def to_frame(self) -> pd.DataFrame:
        return self.to_table().to_pandas()

    def to_table(self) -> pa.Table:
        if not self.rows:
            return empty_table(EVALUATION_SCHEMA)
        columns = {f.name: [r[f.name] for r in self.rows] for f in EVALUATION_SCHEMA}
        return pa.Table.from_pydict(columns, schema=EVALUATION_SCHEMA)
