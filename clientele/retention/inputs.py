"""What the retention models read, and how: by batches of clients, samples and aggregates
computed in DuckDB, so that no step holds every client's rows in Python.

Every input is keyed by ``customer_id``. A batch of clients is a range of customer ids
(``seam.key_ranges``) and a sample a hash of the id (``seam.sample_filter``); both are
SQL predicates applied to each input separately, so they work on dbt's relations and on
the frames of a test or a notebook alike, and a client's rows always come together.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
import pyarrow as pa

from clientele import seam

KEY = "customer_id"


@dataclass
class RetentionInputs:
    """The retention models' inputs (dbt relations, or frames in tests and notebooks).

    - ``purchases``: ``int_retention__purchases``, one row per purchase
      (customer_id, order_id, order_date, purchase_number, order_value);
    - ``first_purchases``: ``int_retention__first_purchases``, one row per buyer;
    - ``families``: ``int_retention__purchase_families``, purchase x product family;
    - ``engagement``: ``int_retention__engagement`` (customer_id, event_date, event_kind);
    - ``as_of``: ``int_as_of`` (one row, ``as_of_date``) or the date itself.
    """

    purchases: seam.Source
    first_purchases: seam.Source
    families: seam.Source
    engagement: seam.Source
    as_of: seam.Source | date | str

    def relations(self) -> RetentionInputs:
        """The same inputs as DuckDB relations (each frame registered once)."""
        return dataclasses.replace(self, **{
            name: seam.as_relation(getattr(self, name))
            for name in ("purchases", "first_purchases", "families", "engagement")})

    def as_of_date(self) -> pd.Timestamp:
        if isinstance(self.as_of, (str, date, pd.Timestamp)):
            return pd.Timestamp(self.as_of)
        value = seam.read_frame(self.as_of, columns=["as_of_date"])["as_of_date"]
        if len(value) != 1 or pd.isna(value.iloc[0]):
            raise ValueError("as_of: expected one row with an as_of_date")
        return pd.Timestamp(value.iloc[0])


def as_datetime(values: Any) -> Any:
    """Dates as datetimes; a column that already is one is returned as is (pandas'
    conversion would otherwise sample it element by element to decide on a cache)."""
    if isinstance(values, pd.Series) and pd.api.types.is_datetime64_any_dtype(values):
        return values
    return pd.to_datetime(values, cache=False)


def day(value: pd.Timestamp) -> str:
    """A date as a SQL literal."""
    return f"cast('{pd.Timestamp(value).date()}' as date)"


def both(*predicates: str | None) -> str | None:
    """The conjunction of the predicates given (None when there are none)."""
    kept = [f"({p})" for p in predicates if p]
    return " and ".join(kept) if kept else None


def read(source: Any, *predicates: str | None, columns: list[str] | None = None
         ) -> pd.DataFrame:
    """The rows of ``source`` meeting every predicate, as a frame."""
    return seam.read_frame(source, columns=columns, where=both(*predicates))


def read_table(source: Any, *predicates: str | None, columns: list[str]) -> pa.Table:
    """The rows of ``source`` meeting every predicate, as an Arrow table (for many rows
    of a few columns: no Python object per value)."""
    rel = seam.as_relation(source)
    where = both(*predicates)
    if where:
        rel = rel.filter(where)
    return rel.project(", ".join(f'"{c}"' for c in columns)).to_arrow_table()


def bought_by(date_: pd.Timestamp) -> str:
    """Purchases on or before a date."""
    return f"order_date <= {day(date_)}"


def first_bought_by(date_: pd.Timestamp) -> str:
    """Buyers whose first purchase is on or before a date."""
    return f"first_order_date <= {day(date_)}"


def one_time_at(date_: pd.Timestamp) -> str:
    """Buyers with exactly one purchase at a date."""
    return both(first_bought_by(date_),
                f"second_order_date is null or second_order_date > {day(date_)}") or ""


def events_by(date_: pd.Timestamp) -> str:
    return f"event_date <= {day(date_)}"


def sample(source: seam.Source, n: int, seed: int, where: str | None) -> str | None:
    """A predicate keeping a seeded sample of ``n`` clients among those ``where`` selects
    (None when all of them fit)."""
    return seam.sample_filter(source, KEY, n, seed, where)


def batches(source: seam.Source, batch_clients: int, where: str | None = None,
            clients: str | None = None) -> Iterator[str]:
    """Predicates selecting consecutive batches (in customer id order) of the clients of
    ``source`` that meet ``where`` and ``clients`` (a sample); each batch predicate
    includes ``clients``, so it reads the same clients from every input."""
    for key_range in seam.key_ranges(source, KEY, batch_clients, both(where, clients)):
        yield both(key_range, clients) or key_range


def repeat_share(first_purchases: seam.Source) -> tuple[float, int]:
    """(share of buyers with a second purchase, buyers), in DuckDB."""
    row = seam.as_relation(first_purchases).aggregate(
        "count(*) as buyers, avg(case when second_order_date is null then 0.0 else 1.0 end)"
    ).fetchone()
    buyers = int(row[0]) if row else 0
    return (float(row[1]) if buyers else 0.0), buyers


def activity_rates(purchases: seam.Source, start: pd.Timestamp, end: pd.Timestamp
                   ) -> tuple[float, float, int]:
    """Among clients with a purchase on or before ``start``: the share with a purchase
    day in (start, end] and the mean number of such days (the naive baseline), and how
    many clients that is. Aggregated in DuckDB."""
    sql = f"""
        select avg(case when days > 0 then 1.0 else 0.0 end), avg(days), count(*)
        from (
            select {KEY},
                count(distinct order_date) filter (
                    where order_date > {day(start)} and order_date <= {day(end)}) as days
            from purchases
            where order_date <= {day(end)}
            group by {KEY}
            having min(order_date) <= {day(start)}
        )
    """
    row = seam.as_relation(purchases).query("purchases", sql).fetchone()
    if not row or not row[2]:
        return float("nan"), float("nan"), 0
    return float(row[0]), float(row[1]), int(row[2])


def repeat_day_share(purchases: seam.Source, date_: pd.Timestamp) -> float:
    """Share of the clients with a purchase on or before a date who bought on two days or
    more by then (DuckDB)."""
    sql = f"""
        select avg(case when days > 1 then 1.0 else 0.0 end)
        from (
            select {KEY}, count(distinct order_date) as days
            from purchases
            where {bought_by(date_)}
            group by {KEY}
        )
    """
    row = seam.as_relation(purchases).query("purchases", sql).fetchone()
    return float(row[0]) if row and row[0] is not None else 0.0
