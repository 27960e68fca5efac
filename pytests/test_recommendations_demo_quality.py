"""The recommendation backtest on a built demo-brand warehouse (`make quality`: the CI demo).

Reads the recommendation rows of model_evaluation: at least three backtest cut-offs reach
it (the latest in segment 'all', each earlier one in 'cutoff=<horizon>'), with their mean
over the cut-offs of each method minus the best baseline and its interval; and the SQL
sample of evaluated clients is the one the Python models draw. Skipped without a demo
warehouse (see demo_quality).
"""

from __future__ import annotations

import pandas as pd
import pytest
from demo_quality import DB, area_evaluation, skip

from clientele.recommendations.inputs import read_horizons, read_products
from clientele.recommendations.pipeline import evaluated_clients
from clientele.recommendations.settings import RecommendationSettings

CUTOFFS = RecommendationSettings().backtest_cutoffs


@pytest.fixture(scope="module")
def evaluation():
    frame = area_evaluation("recommendations")
    if frame.empty:
        skip("no recommendation rows in model_evaluation")
    return frame


def test_at_least_three_cutoffs_reach_model_evaluation(evaluation):
    assert CUTOFFS >= 3
    key = evaluation[(evaluation["metric"].isin(["recall", "ndcg"])) & (evaluation["k"] == 10)]
    earlier = key[key["segment"].str.startswith("cutoff=")]
    latest = key[key["segment"] == "all"]
    cutoffs = set(earlier["cutoff_date"]) | set(latest["cutoff_date"])
    assert len(cutoffs) >= CUTOFFS, f"cut-offs in model_evaluation: {sorted(cutoffs)}"
    for segment, rows in earlier.groupby("segment"):
        assert set(rows["model_name"]) == set(latest["model_name"]), segment
    mean = evaluation[(evaluation["segment"] == "mean_over_cutoffs")
                      & (evaluation["metric"] == "recall_vs_best_baseline")]
    assert {"ranker", "composed", "lstm"} <= set(mean["model_name"])
    assert mean[["ci_lower", "ci_upper"]].notna().all().all()
    assert (mean["ci_lower"] <= mean["metric_value"]).all()
    assert (mean["metric_value"] <= mean["ci_upper"]).all()
    # The mean is the mean of the cut-offs' figures.
    per_cutoff = pd.concat([latest, earlier])
    recall = per_cutoff[per_cutoff["metric"] == "recall"].groupby("model_name")[
        "metric_value"].mean()
    averaged = evaluation[(evaluation["segment"] == "mean_over_cutoffs")
                          & (evaluation["metric"] == "recall")].set_index("model_name")
    assert averaged["metric_value"].to_dict() == pytest.approx(recall.to_dict())


def test_the_sql_evaluated_clients_are_the_python_sample(evaluation):
    import duckdb

    with duckdb.connect(str(DB), read_only=True) as con:
        settings = RecommendationSettings()
        events = con.table("int_recommendations__events")
        products = read_products(con.table("int_recommendations__catalog"))
        sql = con.table("int_recommendations__evaluated_clients").df()
        for horizon in read_horizons(con.table("int_recommendations__horizons")):
            if not horizon.is_backtest:
                continue
            drawn = evaluated_clients(events, horizon, products, settings)
            listed = sorted(sql.loc[sql["horizon"] == horizon.name, "customer_id"])
            assert listed == list(drawn.ids), horizon.name
