"""The clienteling models against the demo brand's latent truth, outside the dbt DAG.

The demo generator writes, next to the raw folder, a ``truth`` folder no dbt model reads
(a real brand has none): each client's reading hour and day, timing responsiveness and
store sensitivity. This module reads a built warehouse and that folder and gives the
checks as model_evaluation-shaped rows:

- send time: the true open-rate multiplier of each opted-in client's recommended block,
  against the market's best block and the client's true best block (1 = a random time);
- drive to store: AUC of the store sensitivity against the true store-sensitive clients,
  next to the store-share heuristic and random.

``pytests/test_clienteling_demo_quality.py`` (``make quality``) asserts on them; the README's
figures come from ``python -m clientele.clienteling.truth --db DB --truth TRUTH``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from clientele import intervals, seam
from clientele.clienteling.send_time import DAY_NAMES, HOURS
from clientele.demo.clienteling import block_multiplier


def _block(label: pd.Series) -> np.ndarray:
    """'Tue 18-21' -> block index (weekday * 8 + 3-hour block)."""
    day = label.str[:3].map({d: i for i, d in enumerate(DAY_NAMES)}).to_numpy(int)
    hour = label.str[4:6].astype(int).to_numpy()
    return day * HOURS + hour // 3


def send_time_rows(recommendations: pd.DataFrame, truth: pd.DataFrame,
                   rows: seam.EvaluationRows) -> None:
    """True multiplier at the recommended block vs the market's best and the true best
    (``recommendations``: customer_id, recommended_block, market_block labels)."""
    t = recommendations.merge(truth, on="customer_id", how="inner")
    if t.empty or "read_hour" not in t:
        return
    day = t["read_day"].map({d: i for i, d in enumerate(DAY_NAMES)}).to_numpy(int)
    mult = block_multiplier(t["read_hour"].to_numpy(float), day,
                            t["timing_responsiveness"].to_numpy(float))
    idx = np.arange(len(t))
    chosen = mult[idx, _block(t["recommended_block"])]
    market = mult[idx, _block(t["market_block"])]
    best = t["best_send_multiplier"].to_numpy(float)
    for name, values, baseline in (("send_time_model", chosen, False),
                                   ("market_best_block", market, True),
                                   ("true_best_block", best, True)):
        value, lo, hi = intervals.mean_ci(values)
        rows.add(name, "true_open_multiplier", value, is_baseline=baseline, segment="truth",
                 n_evaluated=len(t), ci=(lo, hi),
                 notes="mean true open-rate multiplier of the block (1 = a random time)")
    value, lo, hi = intervals.paired_difference_ci(chosen, market)
    rows.add("send_time_model", "true_open_multiplier_gain_vs_market", value,
             is_baseline=False, segment="truth", n_evaluated=len(t), ci=(lo, hi),
             notes="recommended block minus the market's best block, same clients")
    hit = (_block(t["recommended_block"]) == _block(t["best_send_block"])).astype(float)
    value, lo, hi = intervals.mean_ci(hit)
    rows.add("send_time_model", "share_true_best_block", value, is_baseline=False,
             segment="truth", n_evaluated=len(t), ci=(lo, hi),
             notes="share of clients whose recommended block is their true best of 42")


def store_rows(sensitivity: pd.DataFrame, truth: pd.DataFrame,
               rows: seam.EvaluationRows) -> None:
    """AUC of the store sensitivity (and of store share, and random) against the truth,
    over buyers and over buyers with a home store (``sensitivity``: customer_id,
    home_store_id, purchases, predicted_sensitivity, observed_store_share)."""
    t = sensitivity.merge(truth, on="customer_id", how="inner")
    if t.empty or "is_store_sensitive" not in t:
        return
    buyers = t["purchases"].to_numpy() > 0
    populations = {"buyers": buyers, "store_buyers": buyers & t["home_store_id"].notna().to_numpy()}
    for segment, mask in populations.items():
        part = t[mask]
        y = part["is_store_sensitive"].to_numpy(bool)
        if len(part) < 2 or y.all() or not y.any():
            continue
        scores = {"store_sensitivity_model": (False,
                                              part["predicted_sensitivity"].to_numpy(float)),
                  "store_share": (True, part["observed_store_share"].fillna(0).to_numpy(float)),
                  "random": (True, np.zeros(len(part)))}
        for name, (baseline, score) in scores.items():
            value, lo, hi = intervals.auc_ci(y, score)
            rows.add(name, "auc_truth", value, is_baseline=baseline, segment=segment,
                     n_evaluated=len(part), ci=(lo, hi),
                     notes="AUC against the truth's store-sensitive clients")


def truth_evaluation(con: duckdb.DuckDBPyConnection, truth_dir: Path) -> pd.DataFrame:
    """Every truth check the warehouse and the truth folder allow (none when either lacks
    the tables: not a demo brand, or the models built empty)."""
    rows = seam.EvaluationRows("clienteling")
    path = Path(truth_dir) / "customers_truth.parquet"
    if not path.exists():
        return rows.to_frame()
    truth = pd.read_parquet(path)
    tables = set(con.sql("select table_name from information_schema.tables").df()["table_name"])
    if "send_time_recommendations" in tables:
        send_time_rows(con.sql("select customer_id, best_send_block as recommended_block, "
                               "market_best_block as market_block "
                               "from send_time_recommendations").df(), truth, rows)
    if "client_store_sensitivity" in tables:
        store_rows(con.sql("select customer_id, home_store_id, purchases, "
                           "store_sensitivity as predicted_sensitivity, "
                           "store_share as observed_store_share "
                           "from client_store_sensitivity").df(), truth, rows)
    return rows.to_frame()


def from_warehouse(db: Path, truth_dir: Path) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return truth_evaluation(con, truth_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--truth", required=True, type=Path)
    args = parser.parse_args()
    frame = from_warehouse(args.db, args.truth)
    columns = ["model_name", "metric", "segment", "metric_value", "ci_lower", "ci_upper",
               "n_evaluated"]
    print(frame[columns].to_string(index=False) if len(frame) else "no truth checks")


if __name__ == "__main__":
    main()
