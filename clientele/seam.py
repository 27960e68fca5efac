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

import contextlib
import dataclasses
import datetime as dt
import logging
import sys
import threading
import types
import typing
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Self

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
from threadpoolctl import ThreadpoolController

Source = duckdb.DuckDBPyRelation | pd.DataFrame | pa.Table

#: Rows per Arrow record batch when nothing else is said: about 10-100 MB of a wide frame.
DEFAULT_BATCH_ROWS = 100_000


class ClientProgress:
    """Clients a batched step has done so far, logged each time another ``every`` clients
    are done, so that a step of minutes over a million clients shows it is moving."""

    def __init__(self, log: logging.Logger, step: str, every: int = 100_000) -> None:
        self.log = log
        self.step = step
        self.every = every
        self.done = 0

    def add(self, clients: int) -> None:
        before, self.done = self.done, self.done + clients
        if self.done // self.every > before // self.every:
            self.log.info("%s: %d clients so far", self.step, self.done)


def get_logger(area: str) -> logging.Logger:
    """The area's logger (``clientele.<area>``). Unless logging was set up to show INFO
    (a CLI or notebook keeps its own handlers), it prints INFO lines to stdout, which the
    build shows. Inside dbt a library leaves a WARNING-level handler on the root logger,
    which would drop them silently."""
    log = logging.getLogger(f"clientele.{area}")
    root = logging.getLogger()
    if not log.handlers and not (root.handlers and root.getEffectiveLevel() <= logging.INFO):
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


def _loaded_torch() -> Any:
    """torch if another model has imported it, else None; also None while another thread
    is still importing it (a partly initialised module has no get_num_threads yet: the
    model importing it sets its threads when it enters)."""
    torch = sys.modules.get("torch")
    ready = hasattr(torch, "get_num_threads") and hasattr(torch, "set_num_threads")
    return torch if ready else None


class _ThreadLimits:
    """The process's thread limits, shared by every Python model that runs in it.

    BLAS (OpenBLAS) and torch limits are process-wide, and dbt runs two Python models in
    two threads of one process: when each model set them on entry and restored them on
    exit, one model's exit gave the other, in the middle of a fit, another number of
    threads, and a float sum split over one thread or two differs in its last bits, so
    two builds of the same data gave different send-time fits at a million clients.
    Here the first model in sets them and the last one out restores them. OpenMP's limit
    is per thread: each model sets it for the thread it enters in, to the number in force.
    OpenBLAS (0.3.30) ignores a count set from another thread than the main one once the
    main thread has set one, and dbt runs models in worker threads: so ``clientele build``
    also starts dbt with OPENBLAS_NUM_THREADS=1, which holds whatever the threads do."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._threads = 1
        self._process_limiter: Any = None
        self._controller: ThreadpoolController | None = None
        self._torch_previous: int | None = None

    def enter(self, threads: int) -> Any:
        with self._lock:
            if self._users == 0:
                self._threads = threads
                # Looking the libraries up costs ~10 ms: once per first entry, not per call.
                self._controller = ThreadpoolController()
                self._process_limiter = self._controller.select(user_api="blas").limit(
                    limits=threads)
                self._torch_previous = None
            elif threads != self._threads:
                logging.getLogger("clientele.seam").debug(
                    "threads: %d asked, %d kept (another model runs)", threads, self._threads)
            self._users += 1
            # torch may be loaded by a model that entered after the first one.
            torch = _loaded_torch()
            if torch is not None and torch.get_num_threads() != self._threads:
                if self._torch_previous is None:
                    self._torch_previous = torch.get_num_threads()
                torch.set_num_threads(self._threads)
            assert self._controller is not None
            return self._controller.select(user_api="openmp").limit(limits=self._threads)

    def exit(self, thread_limiter: Any) -> None:
        thread_limiter.restore_original_limits()
        with self._lock:
            self._users -= 1
            if self._users > 0:
                return
            self._process_limiter.restore_original_limits()
            torch = _loaded_torch()
            if torch is not None and self._torch_previous is not None:
                torch.set_num_threads(self._torch_previous)


_THREAD_LIMITS = _ThreadLimits()


@contextlib.contextmanager
def bounded_threads(threads: int = 1) -> Iterator[None]:
    """numpy's BLAS (and OpenMP) and, when loaded, torch limited to ``threads`` threads
    while any Python model is in such a block (see :class:`_ThreadLimits`: a model that
    enters while another is inside keeps the other's number). dbt may run two Python
    models at once on a small machine: two BLAS threads each contending for two cores
    made a numpy product six times slower than one (measured on the shared 2-core machine
    under load). Wrap a generator's loop in it to cover work done while dbt consumes a
    stream; as a decorator (``@bounded_threads()``) it covers one call."""
    thread_limiter = _THREAD_LIMITS.enter(max(1, int(threads)))
    try:
        yield
    finally:
        _THREAD_LIMITS.exit(thread_limiter)


# --------------------------------------------------------------------------- inputs


_FRAMES: duckdb.DuckDBPyConnection | None = None


def as_relation(source: Source) -> duckdb.DuckDBPyRelation:
    """A DuckDB relation over ``source``: a relation as is; a frame or Arrow table
    (tests, notebooks) through one in-memory connection shared by all of them, so that
    relations made from frames can be joined as dbt's refs can."""
    global _FRAMES
    if isinstance(source, duckdb.DuckDBPyRelation):
        return source
    if _FRAMES is None:
        _FRAMES = duckdb.connect()
    con = _FRAMES
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


def iter_batches(source: Source, batch_rows: int = DEFAULT_BATCH_ROWS,
                 columns: Sequence[str] | None = None, where: str | None = None,
                 order_by: str | None = None) -> Iterator[pa.RecordBatch]:
    """The input as Arrow record batches of at most ``batch_rows`` rows: for columns that
    pass through to the output untouched (ids, dates), which then never become Python
    objects."""
    reader = _shaped(source, columns, where, order_by).to_arrow_reader(int(batch_rows))
    for batch in reader:
        if batch.num_rows:
            yield batch


def iter_frames(source: Source, batch_rows: int = DEFAULT_BATCH_ROWS,
                columns: Sequence[str] | None = None, where: str | None = None,
                order_by: str | None = None) -> Iterator[pd.DataFrame]:
    """The input as pandas frames of at most ``batch_rows`` rows (Arrow record batches)."""
    for batch in iter_batches(source, batch_rows, columns, where, order_by):
        yield batch.to_pandas()


def iter_groups(source: Source, key: str, batch_rows: int = DEFAULT_BATCH_ROWS,
                columns: Sequence[str] | None = None, where: str | None = None,
                order_by: str | None = None) -> Iterator[pd.DataFrame]:
    """The input ordered by ``key`` as frames of about ``batch_rows`` rows that never
    split a key's rows (e.g. all purchases of a client in the same frame). ``order_by``
    adds tie-breakers after the key."""
    order = f'"{key}"' + (f", {order_by}" if order_by else "")
    carry: pd.DataFrame | None = None
    for frame in iter_frames(source, batch_rows, columns, where, order):
        if carry is not None:
            frame = pd.concat([carry, frame], ignore_index=True)
        keys = frame[key].to_numpy()
        tail = keys == keys[-1]
        first_of_last = int(np.argmax(tail))
        if first_of_last:
            yield frame.iloc[:first_of_last].reset_index(drop=True)
        carry = frame.iloc[first_of_last:].reset_index(drop=True)
    if carry is not None and len(carry):
        yield carry


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
    not_null = f'"{key}" is not null'
    return draw_sample(source, key, n, seed,
                       f"({where}) and {not_null}" if where else not_null)[1]


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
        predicate = f'"{key}" >= {sql_literal(start)}'
        if i + 1 < len(starts):
            predicate += f' and "{key}" < {sql_literal(starts[i + 1])}'
        ranges.append(predicate)
    return ranges


def sample_rows(source: Source, key: str, n: int, seed: int,
                columns: Sequence[str] | None = None, where: str | None = None,
                margin: float = 1.1, size: int | None = None) -> pd.DataFrame:
    """Up to ``n`` rows of a source with one row per ``key`` (after ``where``), drawn in
    DuckDB with :func:`sample_keys`' draw (the same keys), in key order: a bounded,
    deterministic training sample read without loading the rest. All rows when there are
    at most ``n``. Rows whose draw (a uint64 hash) falls below a threshold set to keep a
    little more than ``n`` (``margin`` x ``n`` + 50) are ordered, not every row; a short
    draw is redone with a wider threshold. ``size``: the number of rows after ``where``
    when the caller has counted them already (saves a scan of an expensive view)."""
    rel = as_relation(source)
    if where:
        rel = rel.filter(where)
    names = list(columns) if columns is not None else list(rel.columns)
    quoted = ", ".join(f'"{c}"' for c in names)
    carried = ", ".join(f'"{c}"' for c in dict.fromkeys([*names, key]))
    if size is None:
        size = int(rel.aggregate("count(*)").fetchone()[0])  # type: ignore[index]
    while True:
        share = (margin * n + 50) / max(size, 1)
        drawn = rel.project(f"{carried}, {_draw(key, seed)} as __draw")
        if share < 1:
            drawn = drawn.filter(f"{_UNIT_DRAW} <= {share!r}")
        picked = drawn.order(f'__draw, "{key}"').limit(int(n))
        frame = picked.order(f'"{key}"').project(quoted).df()
        if len(frame) >= min(int(n), size) or share >= 1:
            return frame
        margin *= 4


#: The draw as a number in [0, 1): below s lies a share s of the rows.
_UNIT_DRAW = "__draw::double / 18446744073709551616.0"


def exact_sum(expression: str) -> str:
    """SQL for a sum of doubles that does not depend on the order DuckDB adds rows in (the
    dbt macro exact_sum): each term fixed to 6 decimals, summed exactly, back to double.
    Terms must stay below 1e12 in absolute value."""
    return f"cast(sum(cast({expression} as decimal(18, 6))) as double)"


def sql_literal(value: Any) -> str:
    """A SQL literal for a key or group value read back from DuckDB (date, timestamp,
    number, text, boolean or null)."""
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return "null"
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | float | np.integer | np.floating):
        return repr(value.item() if isinstance(value, np.generic) else value)
    if isinstance(value, pd.Timestamp | np.datetime64 | dt.datetime):
        # DuckDB dates come back as midnight timestamps; either literal compares right
        # with a date or a timestamp column.
        stamp = pd.Timestamp(value)
        if stamp == stamp.normalize():
            return f"date '{stamp.date().isoformat()}'"
        return f"timestamp '{stamp.isoformat(sep=' ')}'"
    if isinstance(value, dt.date):
        return f"date '{value.isoformat()}'"
    text = str(value).replace("'", "''")
    return f"'{text}'"


def sample_rows_per(source: Source, key: str, group: str, n: int, seed: int,
                    columns: Sequence[str] | None = None, where: str | None = None,
                    margin: float = 1.1) -> pd.DataFrame:
    """:func:`sample_rows` for every value of ``group`` at once (e.g. one training sample
    per month), in ``group``, ``key`` order: the same rows, drawn in one scan instead of
    one per group. A row is kept when its draw (a uint64 hash) falls below its group's
    threshold, set to keep a little more than ``n`` rows, then the ``n`` lowest draws of
    each group are taken; a group left short of ``n`` is redrawn with a wider threshold.
    ``margin``: candidates expected per group, as a multiple of ``n`` (plus 50)."""
    rel = as_relation(source)
    if where:
        rel = rel.filter(where)
    names = list(columns) if columns is not None else list(rel.columns)
    carried = ", ".join(f'"{c}"' for c in dict.fromkeys([*names, key, group]))
    sizes = rel.aggregate(f'"{group}", count(*) as size', f'"{group}"').fetchall()
    if not sizes:
        return rel.project(", ".join(f'"{c}"' for c in names)).limit(0).df()
    wanted = {_group_key(value): min(size, int(n)) for value, size in sizes}
    drawn = rel.project(f"{carried}, {_draw(key, seed)} as __draw")
    while True:
        # Thresholds joined as a small table: a CASE over the groups is ten times slower.
        shares = ", ".join(f"({sql_literal(value)}, {(margin * n + 50) / size!r})"
                           for value, size in sizes)
        picked = drawn.query("__drawn", f"""
            select __drawn.*
            from __drawn
            inner join (values {shares}) as __shares (__group, __share)
                on __drawn."{group}" is not distinct from __shares.__group
            where {_UNIT_DRAW.replace("__draw", "__drawn.__draw")} <= __shares.__share
            qualify row_number() over (
                partition by __drawn."{group}" order by __drawn.__draw, __drawn."{key}"
            ) <= {int(n)}
        """).df()
        got = {_group_key(value): count
               for value, count in picked.groupby(group, dropna=False).size().items()}
        # With every share >= 1 all rows were candidates: the draw is exact.
        if all(got.get(value, 0) >= count for value, count in wanted.items()) or all(
                margin * n + 50 >= size for _, size in sizes):
            return picked.sort_values([group, key], kind="stable", ignore_index=True)[names]
        margin *= 4


def _group_key(value: Any) -> Any:
    """A group value from fetchall() or from a frame, spelt one way (dates as Timestamps,
    nulls as None) to compare the two."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, dt.date | dt.datetime | np.datetime64):
        return pd.Timestamp(value)
    return value


def draw_sample(source: Source, key: str, n: int, seed: int, where: str | None = None
                ) -> tuple[pd.Series, str | None]:
    """The keys :func:`sample_keys` draws (sorted) and a SQL predicate on ``key`` that
    keeps exactly them, so that the sample can be read from any input holding that key,
    filtered in DuckDB (None when every key is kept). One top-n query. On another input
    the predicate keeps the same keys plus those of that input that ``where`` left out
    and that would have been drawn: filter by the keys where it matters."""
    rel = as_relation(source)
    if where:
        rel = rel.filter(where)
    n = max(int(n), 0)
    ranked = rel.project(f'"{key}"').distinct().project(
        f'"{key}", {_draw(key, seed)} as draw').order(f'draw, "{key}"').limit(n + 1).df()
    picked = ranked[key].iloc[:n].sort_values(ignore_index=True)
    if len(ranked) <= n:
        return picked, None
    if n == 0:
        return picked, "false"
    return picked, drawn_predicate(key, seed, ranked[key].iloc[n - 1],
                                   int(ranked["draw"].iloc[n - 1]))


def drawn_predicate(key: str, seed: int, last_key: object, last_draw: int) -> str:
    """A SQL predicate on ``key`` keeping the keys a seeded draw ranks up to the last one
    drawn (its key and draw): the sample of :func:`draw_sample`, or of a SQL model drawing
    with the same hash, read back from any input holding that key."""
    draw = _draw(key, seed)
    return (f"({draw} < {int(last_draw)}::ubigint or ({draw} = {int(last_draw)}::ubigint "
            f'and "{key}" <= {sql_literal(last_key)}))')


def iter_key_batches(source: Source, key: str, batch_keys: int,
                     columns: Sequence[str] | None = None, where: str | None = None,
                     batch_rows: int = DEFAULT_BATCH_ROWS) -> Iterator[pd.DataFrame]:
    """The input ordered by ``key``, as frames each holding every row of at most
    ``batch_keys`` keys (a key is never split across frames), so that a large input is
    processed a bounded set of clients at a time. Each frame is read by a query of its
    own (a range of :func:`key_ranges`) and is complete before it is yielded: the caller
    may query the same connection between frames. (A DuckDB connection serves one open
    result; a query run while a streamed result is open ends that stream early, without
    an error: streaming one sorted scan here lost every client after the first frame when
    the ranker read its LSTM lists between frames.) Memory: the rows of ``batch_keys``
    keys. ``batch_rows`` is kept for callers that pass it."""
    del batch_rows
    for predicate in key_ranges(source, key, batch_keys, where):
        frame = read_frame(source, columns, where=f"({where}) and {predicate}" if where
                           else predicate, order_by=f'"{key}"')
        if len(frame):
            yield frame


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


def stream(schema: pa.Schema, parts: Iterable[pd.DataFrame | pa.Table | pa.RecordBatch],
           threads: int = 1) -> pa.RecordBatchReader:
    """A RecordBatchReader over ``parts`` (produced lazily, e.g. one per batch of
    clients), each typed to ``schema``: dbt-duckdb writes it batch by batch. The parts
    are produced within :func:`bounded_threads` (``threads``): the scoring runs while
    DuckDB reads the stream, after the model's function has returned."""

    def batches() -> Iterator[pa.RecordBatch]:
        with bounded_threads(threads):
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
