"""Deliberately bad rows, one kind for each rule of the staging quarantine.

Real exports carry a trickle of broken rows; the demo brand carries a small,
configurable share of them so the quarantine models have something to catch.
Bad rows are added next to the good ones (never replacing them), so the
brand's figures are the same with or without them, and every kind is counted.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from clientele.demo.customers import Counters, make_ids

# Kind -> table it lands in; the summary reports one count per kind.
BAD_ROW_KINDS: dict[str, str] = {
    "orders_missing_customer": "orders",
    "orders_unknown_customer": "orders",
    "orders_duplicate_order_id": "orders",
    "orders_future_date": "orders",
    "order_lines_unknown_product": "order_lines",
    "order_lines_nonpositive_price": "order_lines",
    "order_lines_bad_quantity": "order_lines",
    "order_lines_duplicate_key": "order_lines",
    "reviews_score_out_of_range": "reviews",
    "web_events_unknown_product": "web_events",
    "email_events_unknown_customer": "email_events",
}
UNKNOWN_CUSTOMER_PREFIX = "C9"  # customer ids have 7 digits: 'C9' + 7 digits never exists
UNKNOWN_PRODUCT_PREFIX = "P9"  # product ids have 5 digits: 'P9' + 5 digits never exists


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate frames of identical dtypes; all-null bad columns change nothing here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning, message=".*all-NA.*")
        return pd.concat(frames, ignore_index=True)


def _unknown(prefix: str, rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    return make_ids(prefix, rng.integers(0, 10**width, n), width)


def inject_bad_rows(
    tables: dict[str, pd.DataFrame], rng: np.random.Generator, rate: float, counters: Counters,
) -> dict[str, int]:
    """Append bad rows to the chunk's frames (in place); returns how many of each kind."""
    counts = dict.fromkeys(BAD_ROW_KINDS, 0)
    if rate <= 0:
        return counts
    orders = tables["orders"]
    lines = tables["order_lines"]
    reviews = tables["reviews"]
    web = tables["web_events"]
    email = tables["email_events"]

    def draw(kind: str, base: pd.DataFrame) -> pd.DataFrame:
        n = int(rng.binomial(len(base), rate)) if len(base) else 0
        counts[kind] = n
        return base.iloc[np.sort(rng.integers(0, len(base), n))].copy() if n else base.iloc[:0]

    extra_orders = []
    for kind in ("orders_missing_customer", "orders_unknown_customer", "orders_future_date"):
        rows = draw(kind, orders)
        rows["order_id"] = make_ids("O", counters.order + 1 + np.arange(len(rows)), 9)
        counters.order += len(rows)
        if kind == "orders_missing_customer":
            rows["customer_id"] = None
        elif kind == "orders_unknown_customer":
            rows["customer_id"] = _unknown(UNKNOWN_CUSTOMER_PREFIX, rng, len(rows), 7)
        else:
            # A clock gone wrong: the order lands about 76 years ahead, around 2100.
            rows["ordered_at"] = rows["ordered_at"] + pd.Timedelta(days=76 * 365)
            rows["delivered_at"] = pd.NaT
            rows["promised_delivery_at"] = pd.NaT
        extra_orders.append(rows)
    extra_orders.append(draw("orders_duplicate_order_id", orders))
    tables["orders"] = _concat([orders, *extra_orders])

    # Bad lines are added to distinct existing orders, numbered after their last line, so
    # each breaks exactly one rule.
    last_line = lines.groupby("order_id", sort=True)["line_number"].max()
    line_kinds = ("order_lines_unknown_product", "order_lines_nonpositive_price",
                  "order_lines_bad_quantity")
    sizes = [int(rng.binomial(len(lines), rate)) if len(lines) else 0 for _ in line_kinds]
    picked = rng.choice(len(last_line), min(sum(sizes), len(last_line)), replace=False)
    extra_lines = []
    offset = 0
    for kind, size in zip(line_kinds, sizes, strict=True):
        take = np.sort(picked[offset:offset + size])
        offset += size
        counts[kind] = len(take)
        template = lines.iloc[rng.integers(0, len(lines), len(take))] if len(lines) else lines
        rows = pd.DataFrame({
            "order_id": last_line.index.to_numpy()[take],
            "line_number": last_line.to_numpy()[take] + 1,
            "product_id": template["product_id"].to_numpy(),
            "quantity": np.ones(len(take), dtype=np.int64),
            "unit_price": template["unit_price"].abs().to_numpy(),
            "discount": np.zeros(len(take)),
        })
        if kind == "order_lines_unknown_product":
            rows["product_id"] = _unknown(UNKNOWN_PRODUCT_PREFIX, rng, len(rows), 5)
        elif kind == "order_lines_nonpositive_price":
            rows["unit_price"] = np.where(rng.random(len(rows)) < 0.5, 0.0,
                                          -rows["unit_price"].to_numpy())
        else:
            rows["quantity"] = np.where(rng.random(len(rows)) < 0.5, 0,
                                        rng.integers(20_000, 100_000, len(rows)))
        extra_lines.append(rows)
    extra_lines.append(draw("order_lines_duplicate_key", lines))
    tables["order_lines"] = _concat([lines, *extra_lines])

    rows = draw("reviews_score_out_of_range", reviews)
    rows["review_id"] = make_ids("R", counters.review + 1 + np.arange(len(rows)), 9)
    counters.review += len(rows)
    rows["score"] = rng.choice([-1, 0, 6, 10], len(rows))
    tables["reviews"] = _concat([reviews, rows])

    rows = draw("web_events_unknown_product", web)
    rows["event_id"] = make_ids("W", counters.web + 1 + np.arange(len(rows)), 10)
    counters.web += len(rows)
    rows["product_id"] = _unknown(UNKNOWN_PRODUCT_PREFIX, rng, len(rows), 5)
    tables["web_events"] = _concat([web, rows])

    rows = draw("email_events_unknown_customer", email)
    rows["event_id"] = make_ids("M", counters.email + 1 + np.arange(len(rows)), 10)
    counters.email += len(rows)
    rows["customer_id"] = _unknown(UNKNOWN_CUSTOMER_PREFIX, rng, len(rows), 7)
    tables["email_events"] = _concat([email, rows])
    return counts
