"""Quality of the launch and retention models on a built demo-brand warehouse.

Reads the launch and retention rows of model_evaluation, and checks the launch scores
against the demo brand's latent truth (clientele.launch.truth: the truth folder next to
the raw folder, which no dbt model reads). Skipped when no demo warehouse is built: set
CLIENTELE_DEMO_DB (default warehouse/ci_demo.duckdb, written by `make dbt-demo-ci`) and
CLIENTELE_DEMO_TRUTH (default data/ci/demo/truth).
"""

from __future__ import annotations

import pytest
from demo_quality import DB, TRUTH, area_evaluation, require_truth, skip


@pytest.fixture(scope="module")
def evaluation():
    frame = area_evaluation("launch")
    if frame.empty or not (frame["metric"] == "auc_pool").any():
        skip("no launch rows (a dataset without collection launches)")
    if frame.loc[frame["metric"] == "auc_pool", "n_evaluated"].max() < 5_000:
        skip("demo brand too small for stable launch figures (use >= 5k clients)")
    return frame


@pytest.fixture(scope="module")
def truth(evaluation):
    """The launch scores against the latent truth of the same demo brand."""
    from clientele.launch.truth import from_warehouse

    require_truth()
    frame = from_warehouse(DB, TRUTH)
    if frame.empty:
        skip("no upcoming launch scores to check against the truth")
    return frame


def _value(frame, model, metric, segment_prefix):
    rows = frame[
        (frame["model_name"] == model)
        & (frame["metric"] == metric)
        & frame["segment"].str.startswith(segment_prefix)
    ]
    assert len(rows) == 1, (model, metric, segment_prefix)
    return float(rows["metric_value"].iloc[0])


def test_lookalike_finds_true_early_adopters_better_than_the_rules(truth):
    look = _value(truth, "lookalike_xgb_pu", "auc_truth", "upcoming")
    rules = _value(truth, "early_adopter_rules", "auc_truth", "upcoming")
    random = _value(truth, "random", "auc_truth", "upcoming")
    assert look > rules and look > random + 0.05


def test_lookalike_auc_target(truth):
    # Issue 5's target; 0.82 on the 20k demo (seed 42) since early adopters show in the
    # disjoint features (launch e-mails, new-collection browsing, store, tenure, ...).
    assert _value(truth, "lookalike_xgb_pu", "auc_truth", "upcoming") >= 0.80


def test_tuned_audience_beats_random_twice_and_rules_only_on_the_held_out_launch(evaluation):
    policy = _value(evaluation, "audience_policy", "conversion", "holdout")
    random = _value(evaluation, "random", "conversion", "holdout")
    rules = _value(evaluation, "rules_only", "conversion", "holdout")
    assert policy >= 2 * random
    assert policy > rules


def test_appetence_tracks_the_latent_appetence(truth):
    assert _value(truth, "gower_appetence", "spearman_truth", "upcoming") > 0.3


@pytest.fixture(scope="module")
def retention(evaluation):
    """The retention backtest rows of the same demo warehouse (``evaluation`` checks it)."""
    import duckdb

    with duckdb.connect(str(DB), read_only=True) as con:
        frame = con.sql("select * from model_evaluation where area = 'retention'").df()
    if frame.empty:
        skip(f"{DB} has no retention rows in model_evaluation")
    return frame


def test_second_order_within_90_days_of_the_first_target(retention):
    # Issue 6's target (one-time buyers, window 0-90 of the 90-day backtest): 0.798 vs
    # 0.616 for BG/NBD on this 8k seed-7 demo, 0.752 vs 0.597 on the 20k seed-42 one.
    hazard = _value(retention, "second_purchase_hazard_xgb", "auc", "window=0-90")
    bgnbd = _value(retention, "second_purchase_bgnbd", "auc", "window=0-90")
    assert hazard >= 0.75
    assert hazard > bgnbd


def test_supervised_repeat_model_beats_bgnbd_on_auc_and_brier_at_90_days(retention):
    # Every buyer, an order in the 90 days after the cutoff (the issue asks it of Online
    # Retail II; the demo must not be the exception).
    assert _value(retention, "repeat_xgb", "auc", "all") > _value(retention, "repeat_bgnbd",
                                                                  "auc", "all")
    assert _value(retention, "repeat_xgb", "brier", "all") < _value(retention, "repeat_bgnbd",
                                                                    "brier", "all")
