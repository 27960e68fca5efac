"""Generate the demo brand: the raw contract folder plus, apart, the latent truth behind it.

The catalog is built once; customers are generated in chunks, each from its
own child seed, and appended to the Parquet files as they come, so memory
stays flat however many customers are asked for and the output depends only
on the seed (and the chunk size, which is fixed).
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from clientele.demo import clienteling
from clientele.demo.badrows import BAD_ROW_KINDS, inject_bad_rows
from clientele.demo.catalog import HISTORY_END, HISTORY_START, build_catalog
from clientele.demo.customers import Counters, generate_chunk
from clientele.raw import ParquetFolderWriter, RawFolderWriter

log = logging.getLogger(__name__)

CHUNK_SIZE = 50_000  # customers per chunk: part of the output's definition, keep it fixed
CHUNK_TABLES = (
    "customers", "orders", "order_lines", "reviews", "web_events", "email_events",
    "campaign_contacts",
)

# Documented ranges of the brand's figures (docs/demo_brand.md; checked by pytest).
FIGURE_RANGES: dict[str, tuple[float, float]] = {
    "prospect_share": (0.05, 0.10),
    "repeat_rate": (0.25, 0.40),
    "mean_orders_per_buyer": (1.5, 2.5),
    "top5pct_products_revenue_share": (0.30, 0.50),
}


def _seed(seed: int, *key: int) -> np.random.Generator:
    """Independent streams for the catalog and each chunk, derived from one seed."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def generate(
    customers: int,
    seed: int,
    out: Path,
    truth_out: Path,
    bad_row_rate: float = 0.002,
) -> dict[str, Any]:
    """Write the demo brand's raw folder to `out` and its latent truth to `truth_out`.

    Returns the summary figures (also printed, and stored in the raw folder's report).
    """
    if customers < 0:
        raise ValueError("customers must be >= 0")
    if not 0.0 <= bad_row_rate < 0.5:
        raise ValueError("bad_row_rate must be in [0, 0.5)")
    started = time.perf_counter()
    out, truth_out = Path(out), Path(truth_out)
    catalog = build_catalog(_seed(seed, 0), customers)
    log.info("catalog: %d products, %d collections, %d stores", catalog.n_products,
             len(catalog.collections), len(catalog.stores))

    counters = Counters()
    totals = {"customers": 0, "buyers": 0, "repeat_buyers": 0, "purchase_orders": 0,
              "returned_lines": 0}
    bad_rows = dict.fromkeys(BAD_ROW_KINDS, 0)
    revenue = np.zeros(catalog.n_products)
    ea_total = 0
    campaign_rows = 0
    converted = 0
    n_chunks = math.ceil(customers / CHUNK_SIZE)
    with RawFolderWriter(out) as raw, ParquetFolderWriter(truth_out) as truth:
        raw.write("stores", catalog.stores)
        raw.write("collections", catalog.collections)
        raw.write("products", catalog.products)
        raw.write("stock", catalog.stock)
        truth.write("products_truth", catalog.products_truth)
        truth.write("collections_truth", catalog.collections_truth)
        for i in range(n_chunks):
            first = i * CHUNK_SIZE + 1
            n = min(CHUNK_SIZE, customers - i * CHUNK_SIZE)
            rng = _seed(seed, 1, i)
            chunk = generate_chunk(catalog, rng, first, n, customers, counters,
                                   clienteling.streams(seed, i))
            for kind, count in inject_bad_rows(chunk.tables, rng, bad_row_rate,
                                               counters).items():
                bad_rows[kind] += count
            for name in CHUNK_TABLES:
                raw.write(name, chunk.tables[name])
            truth.write("customers_truth", chunk.truth)
            truth.write("campaign_truth", chunk.campaign_truth)
            for key in totals:
                totals[key] += int(chunk.stats[key])
            revenue += chunk.revenue_by_product
            ea_total += int(chunk.truth["is_true_early_adopter"].sum())
            campaign_rows += len(chunk.campaign_truth)
            converted += int(chunk.campaign_truth["converted"].sum())
            log.info("chunk %d/%d: %d customers, %d orders so far, %.1fs", i + 1, n_chunks,
                     first + n - 1, counters.order, time.perf_counter() - started)
        summary = _summary(totals, revenue, bad_rows, customers, seed, bad_row_rate,
                           ea_total, campaign_rows, converted)
        raw.write_report(summary)
        rows = dict(raw.rows_written)
    summary["rows"] = rows
    summary["seconds"] = round(time.perf_counter() - started, 1)
    print(format_summary(summary))
    return summary


def _summary(
    totals: dict[str, int], revenue: np.ndarray, bad_rows: dict[str, int], customers: int,
    seed: int, bad_row_rate: float, ea_total: int, campaign_rows: int, converted: int,
) -> dict[str, Any]:
    """The brand's headline figures; deterministic (no timings), so the report is too."""
    buyers = totals["buyers"]
    sold = np.sort(revenue[revenue > 0])[::-1]
    top = max(1, math.ceil(0.05 * len(sold))) if len(sold) else 0
    return {
        "source": "demo",
        "seed": seed,
        "history": f"{HISTORY_START.isoformat()}..{HISTORY_END.isoformat()}",
        "customers": customers,
        "buyers": buyers,
        "prospects": customers - buyers,
        "prospect_share": round((customers - buyers) / customers, 4) if customers else 0.0,
        "repeat_rate": round(totals["repeat_buyers"] / buyers, 4) if buyers else 0.0,
        "mean_orders_per_buyer": round(totals["purchase_orders"] / buyers, 3) if buyers else 0.0,
        "top5pct_products_revenue_share": (
            round(float(sold[:top].sum() / sold.sum()), 4) if len(sold) else 0.0),
        "products_sold": int(len(sold)),
        "net_revenue": round(float(revenue.sum()), 2),
        "purchase_orders": totals["purchase_orders"],
        "returned_lines": totals["returned_lines"],
        "true_early_adopter_share": round(ea_total / customers, 4) if customers else 0.0,
        "campaign_contacts": campaign_rows,
        "campaign_conversion_rate": round(converted / campaign_rows, 4) if campaign_rows else 0.0,
        "bad_row_rate": bad_row_rate,
        "bad_rows": bad_rows,
        "bad_rows_total": int(sum(bad_rows.values())),
    }


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as a few readable lines, with each figure's documented range."""
    lines = [f"demo brand: {summary['customers']:,} customers, seed {summary['seed']}, "
             f"history {summary['history']}"]
    for key, (lo, hi) in FIGURE_RANGES.items():
        value = summary[key]
        flag = "ok" if lo <= value <= hi else "OUT OF RANGE"
        lines.append(f"  {key:32s} {value:8.3f}   expected {lo}-{hi}  {flag}")
    lines.append(f"  purchase orders {summary['purchase_orders']:,}, returned lines "
                 f"{summary['returned_lines']:,}, campaign contacts "
                 f"{summary['campaign_contacts']:,} (conversion "
                 f"{summary['campaign_conversion_rate']:.1%})")
    lines.append(f"  bad rows injected: {summary['bad_rows_total']:,} "
                 + ", ".join(f"{k}={v}" for k, v in summary["bad_rows"].items() if v))
    if "rows" in summary:
        lines.append("  rows: " + ", ".join(f"{k}={v:,}" for k, v in summary["rows"].items()))
    if "seconds" in summary:
        lines.append(f"  generated in {summary['seconds']}s")
    return "\n".join(lines)
