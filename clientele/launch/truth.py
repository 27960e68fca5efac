"""The launch scores against the demo brand's latent truth, outside the dbt DAG.

The demo generator writes, next to the raw folder, a ``truth`` folder that no dbt model
reads (a real brand has none): who really is an early adopter, and each client's
appetence for the upcoming collection. This module reads a built warehouse and that
folder and gives the rows of the checks, in model_evaluation's shape:

- the out-of-fold lookalike, the early-adopter rules, their mean percentile and a random
  ranking against the true early adopters (AUC, precision and lift in the top 10 %);
- Gower appetence against the latent appetence (Spearman).

``pytests/test_launch_demo_quality.py`` (``make quality``) asserts on them, and the
README's "AUC vs true early adopters" figures come from::

    python -m clientele.launch.truth --db warehouse/clientele.duckdb --truth data/demo/truth
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from clientele import intervals, seam
from clientele.launch.lookalike import top_share_metrics

UPCOMING_SCORES = """
    select
        scores.customer_id,
        scores.early_adopter_score,
        scores.lookalike_percentile,
        scores.appetence,
        scores.appetence_similarity,
        reference_launches.cutoff_date
    from int_launch__scores as scores
    inner join int_launch__references as reference_launches
        on scores.reference_collection_id = reference_launches.collection_id
    where reference_launches.is_upcoming
    order by scores.customer_id
"""


def truth_evaluation(scores: seam.Source, truth: seam.Source, as_of: object = None,
                     share: float = 0.1) -> pd.DataFrame:
    """model_evaluation rows of the upcoming launch's scores (int_launch__scores, with the
    launch's cutoff_date) against the latent truth (customers_truth: customer_id,
    is_true_early_adopter, upcoming_appetence)."""
    rows = seam.EvaluationRows("launch", as_of_date=as_of)
    upcoming = seam.read_frame(scores, order_by="customer_id")
    columns = [c for c in ("customer_id", "is_true_early_adopter", "upcoming_appetence")
               if c in seam.as_relation(truth).columns]
    t = upcoming.merge(seam.read_frame(truth, columns), on="customer_id", how="inner")
    if t.empty or "is_true_early_adopter" not in t or t["is_true_early_adopter"].nunique() < 2:
        return rows.to_frame()
    k_pct = int(round(share * 100))
    common = {"segment": "upcoming", "n_evaluated": len(t), "cutoff_date": t["cutoff_date"].iloc[0]}
    y = t["is_true_early_adopter"].to_numpy(bool)
    rules = t["early_adopter_score"].to_numpy(float)
    look = t["lookalike_percentile"].fillna(0).to_numpy(float)
    for name, baseline, ranking, note in (
        ("lookalike_xgb_pu", False, look, "lookalike (out-of-fold) vs latent true early adopters"),
        ("early_adopter_rules", True, rules, "rule score vs latent true early adopters"),
        ("rules_plus_lookalike", False,
         0.5 * look + 0.5 * pd.Series(rules).rank(pct=True).to_numpy(),
         "mean percentile of rules and lookalike vs latent true early adopters"),
        ("random", True, np.random.default_rng(0).random(len(y)), "random ranking"),
    ):
        m = top_share_metrics(ranking, y, share)
        _, lo, hi = intervals.auc_ci(y, ranking)
        _, p_lo, p_hi = intervals.proportion_ci(int(m["hits"]), int(m["n_top"]))
        rows.add(name, "auc_truth", m["auc"], is_baseline=baseline, ci=(lo, hi), notes=note,
                 **common)
        rows.add(name, "precision_truth", m["precision"], is_baseline=baseline, k=k_pct,
                 ci=(p_lo, p_hi), notes=note, **common)
        rows.add(name, "lift_truth", m["lift"], is_baseline=baseline, k=k_pct,
                 ci=(p_lo / m["base_rate"], p_hi / m["base_rate"]), notes=note, **common)
    bought = t["appetence_similarity"].notna()
    if "upcoming_appetence" in t and bought.sum() > 2:
        from scipy.stats import spearmanr

        rho = spearmanr(t.loc[bought, "appetence"], t.loc[bought, "upcoming_appetence"]).statistic
        rows.add("gower_appetence", "spearman_truth", float(rho), is_baseline=False,
                 segment="upcoming", n_evaluated=int(bought.sum()),
                 cutoff_date=common["cutoff_date"],
                 notes="rank correlation of Gower appetence with the latent appetence (upcoming)")
    return rows.to_frame()


def from_warehouse(db: Path, truth_dir: Path) -> pd.DataFrame:
    """The truth rows of a built warehouse (opened read-only) and the demo's truth folder."""
    import duckdb

    truth_file = Path(truth_dir) / "customers_truth.parquet"
    if not truth_file.exists():
        raise FileNotFoundError(f"{truth_file}: no latent truth (only the demo brand has one)")
    with duckdb.connect(str(db), read_only=True) as con:
        scores = con.sql(UPCOMING_SCORES).df()
        as_of = con.sql("select as_of_date from int_as_of").fetchone()[0]  # type: ignore[index]
    return truth_evaluation(scores, pd.read_parquet(truth_file), as_of)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, type=Path, help="built warehouse (DuckDB file)")
    parser.add_argument("--truth", required=True, type=Path,
                        help="the demo's truth folder (next to its raw folder)")
    args = parser.parse_args(argv)
    frame = from_warehouse(args.db, args.truth)
    columns = ["model_name", "metric", "k", "metric_value", "ci_lower", "ci_upper", "n_evaluated"]
    with pd.option_context("display.width", 120, "display.float_format", "{:.3f}".format):
        print(frame[columns].to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
