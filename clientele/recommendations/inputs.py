"""Reading the recommendation inputs in memory bounded by the settings.

The events (one row per purchase, view or add-to-cart) grow with the number of clients:
they are filtered in DuckDB (a horizon, the catalogue, a seeded sample of clients, a
contiguous range of clients) and read in Arrow batches, so that Python only ever holds
the rows of a bounded set of clients. Everything else (horizons, catalogue, baselines per
product) is bounded by the catalogue.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from clientele import seam

EVENT_COLUMNS = ["customer_id", "product_id", "event_type", "event_date"]


def day(value: object) -> str:
    """A date as a SQL literal."""
    return f"DATE '{pd.Timestamp(value).date().isoformat()}'"  # type: ignore[arg-type]


def both(*predicates: str | None) -> str | None:
    """The conjunction of the predicates given (None = no condition)."""
    kept = [f"({p})" for p in predicates if p]
    return " and ".join(kept) if kept else None


@dataclasses.dataclass(frozen=True)
class Horizon:
    """One moment lists are computed for: a backtest cut-off ('backtest', the primary
    one, or an earlier 'backtest_minus_<n>d'; ``backtest_order`` 0, 1, ...: known before
    the cut-off, evaluated up to ``as_of``) or 'current' (everything known on as_of,
    ``backtest_order`` None)."""

    name: str
    known_before: pd.Timestamp
    as_of: pd.Timestamp
    backtest_order: int | None = None

    @property
    def is_backtest(self) -> bool:
        return self.backtest_order is not None

    @property
    def is_primary(self) -> bool:
        """The latest backtest cut-off: its figures are model_evaluation's main rows."""
        return self.backtest_order == 0

    def stage(self, name: str) -> str:
        """The name of a step made for this backtest: 'validation' for the primary
        cut-off, 'validation_minus_30d' for 'backtest_minus_30d'."""
        return name + self.name.removeprefix("backtest")

    def before(self, when: object = None) -> str:
        """Events known at the horizon (or before ``when``)."""
        return f"event_date < {day(self.known_before if when is None else when)}"


def read_horizons(horizons: seam.Source) -> list[Horizon]:
    """Every horizon, the backtests first, latest cut-off first, then 'current'."""
    frame = seam.read_frame(horizons, ["horizon", "known_before", "as_of_date",
                                       "backtest_order"], order_by="horizon")
    found = [Horizon(str(name), pd.Timestamp(known), pd.Timestamp(as_of),
                     None if pd.isna(order) else int(order))
             for name, known, as_of, order in frame.itertuples(index=False)]
    return sorted(found, key=lambda h: (not h.is_backtest, h.backtest_order or 0, h.name))


def backtests(horizons: list[Horizon]) -> list[Horizon]:
    """The backtest horizons, the primary (latest) cut-off first."""
    return [h for h in horizons if h.is_backtest]


def read_products(catalog: seam.Source) -> pd.Index:
    """The recommendable catalogue's product ids, sorted: indices, and so seeded
    initialisations, do not depend on the order in which the warehouse returns rows."""
    ids = seam.read_frame(catalog, ["product_id"])["product_id"]
    return pd.Index(np.sort(ids.dropna().unique()))


def sorted_ids(ids: pd.Series) -> pd.Index:
    return pd.Index(np.sort(ids.unique()))


def in_catalog(events: seam.Source, products: pd.Index) -> str:
    """A predicate keeping the events of catalogue products: the products seen in the
    events but outside the catalogue (discontinued, upcoming) are listed, or the
    catalogue is, whichever is shorter; both are bounded by the product table. The list
    is a subquery so that DuckDB hashes it (a literal IN list of 800 products took 30 s
    on 9 million events, the subquery 0.4 s)."""
    outside = distinct_products(events, None).difference(products)
    if outside.empty:
        return "product_id is not null"
    listed, operator = (outside, "not in") if len(outside) <= len(products) else (
        products, "in")
    if operator == "in" and listed.empty:
        return "false"
    values = ", ".join(seam.sql_literal(p) for p in listed)
    return f"product_id {operator} (select unnest([{values}]))"


@dataclasses.dataclass(frozen=True)
class ClientSample:
    """A seeded sample of clients: ``where`` selects the population, ``predicate`` (None
    when every client of it is kept) keeps the sample in DuckDB, ``ids`` are its sorted
    client ids."""

    where: str | None
    predicate: str | None
    ids: pd.Index

    @property
    def sampled(self) -> bool:
        return self.predicate is not None


def sample_clients(source: seam.Source, n: int, seed: int, where: str | None = None
                   ) -> ClientSample:
    """At most ``n`` clients of ``source`` matching ``where``, drawn by a seeded hash."""
    ids, predicate = seam.draw_sample(source, "customer_id", n, seed, where)
    return ClientSample(where, predicate, pd.Index(ids))


def read_sample(sample: seam.Source, horizon: str, where: str | None, seed: int
                ) -> ClientSample:
    """The clients a SQL model drew for ``horizon`` (columns horizon, customer_id, draw,
    holdout_buyers: int_recommendations__evaluated_clients) with the hash of
    :func:`sample_clients` and ``seed``, as the sample of the population ``where``."""
    frame = seam.read_frame(sample, ["customer_id", "draw", "holdout_buyers"],
                            where=f"horizon = {seam.sql_literal(horizon)}",
                            order_by="draw, customer_id")
    ids = pd.Index(np.sort(frame["customer_id"].to_numpy()))
    if frame.empty or int(frame["holdout_buyers"].iloc[0]) <= len(frame):
        return ClientSample(where, None, ids)
    last = frame.iloc[-1]
    return ClientSample(where, seam.drawn_predicate("customer_id", seed, last["customer_id"],
                                                    int(last["draw"])), ids)


def read_clients(source: seam.Source, columns: Sequence[str], where: str | None,
                 clients: ClientSample | None = None,
                 batch_rows: int = seam.DEFAULT_BATCH_ROWS) -> pd.DataFrame:
    """The rows of ``source`` matching ``where`` of the sampled clients (all clients when
    ``clients`` is None), read in Arrow batches so that only their rows are held."""
    condition = both(where, clients.predicate if clients is not None else None)
    parts = []
    for frame in seam.iter_frames(source, batch_rows, columns, condition):
        if clients is not None:
            frame = frame[frame["customer_id"].isin(clients.ids)]
        parts.append(frame)
    if not parts:
        return seam.read_frame(source, columns, where="false")
    return pd.concat(parts, ignore_index=True)


def client_frames(source: seam.Source, columns: Sequence[str], where: str | None,
                  batch_clients: int, clients: ClientSample | None = None
                  ) -> Iterator[pd.DataFrame]:
    """The rows of ``source`` matching ``where`` of the sampled clients (all clients when
    ``clients`` is None), in client order, as frames of at most ``batch_clients`` clients
    with all their rows: one sorted scan, a bounded set of clients in memory at a time."""
    condition = both(where, clients.predicate if clients is not None else None)
    for frame in seam.iter_key_batches(source, "customer_id", batch_clients, columns,
                                       condition):
        if clients is not None:
            frame = frame[frame["customer_id"].isin(clients.ids)]
        if len(frame):
            yield frame


def distinct_products(source: seam.Source, where: str | None) -> pd.Index:
    """Sorted distinct product ids of the rows matching ``where`` (distinct in DuckDB)."""
    rel = seam.as_relation(source)
    if where:
        rel = rel.filter(where)
    return sorted_ids(rel.project("product_id").distinct().df()["product_id"].dropna())


def purchase_matrix(purchases: pd.DataFrame, customers: pd.Index, products: pd.Index
                    ) -> sp.csr_matrix:
    """Customers x products count of rows (orders) containing the product, in canonical
    form (sorted indices, duplicates summed) whatever the order of the rows."""
    u = customers.get_indexer(purchases["customer_id"])
    i = products.get_indexer(purchases["product_id"])
    ok = (u >= 0) & (i >= 0)
    weight = (purchases["orders"].to_numpy(np.float32)[ok] if "orders" in purchases
              else np.ones(int(ok.sum()), dtype=np.float32))
    matrix = sp.csr_matrix((weight, (u[ok], i[ok])), shape=(len(customers), len(products)))
    matrix.sum_duplicates()
    matrix.sort_indices()
    return matrix
