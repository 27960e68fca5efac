"""The retention area's entry points without dbt: batches, samples, typed outputs, and the
weighted sampling of the hazard model's training rows."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import xgboost as xgb
from test_retention_timing import AS_OF, _brand

from clientele import seam
from clientele.intervals import auc_ci, statistic_ci
from clientele.retention import metrics
from clientele.retention.pipeline import (
    CUSTOMER_SCHEMA,
    TIMING_SCHEMA,
    RetentionInputs,
    backtest,
    score_customers,
    score_second_purchase,
)
from clientele.retention.settings import RetentionSettings
from clientele.retention.timing import (
    BINS,
    HazardTimingModel,
    negative_sampling_rate,
    person_period,
    prepare_second_purchase_data,
)

SUPERVISED_WINS = pd.DataFrame({"model_name": ["repeat_xgb", "repeat_bgnbd"], "metric": "brier",
                                "k": 90, "segment": "all", "metric_value": [0.1, 0.2]})


def test_scoring_in_batches_equals_scoring_in_one_batch():
    inputs = _brand(1200, seed=1)
    whole = RetentionSettings(trees=30, min_events=20)
    small = RetentionSettings(trees=30, min_events=20, batch_clients=97)
    timing_reader = score_second_purchase(inputs, small)
    timing_batches = list(timing_reader)
    assert len(timing_batches) > 3  # streamed, batch by batch
    timing = pa.Table.from_batches(timing_batches, TIMING_SCHEMA)
    assert timing.equals(score_second_purchase(inputs, whole).read_all())
    assert timing.num_rows == inputs.first_purchases["second_order_date"].isna().sum()
    assert (timing.column("model_name").to_pylist()[0]) == "hazard_xgb"
    customers = score_customers(inputs, SUPERVISED_WINS, small).read_all()
    assert customers.schema == CUSTOMER_SCHEMA
    assert customers.equals(score_customers(inputs, SUPERVISED_WINS, whole).read_all())
    assert set(customers.column("selected_model").to_pylist()) == {"repeat_xgb"}
    assert customers.num_rows == inputs.first_purchases["customer_id"].nunique()


def _empty_inputs() -> RetentionInputs:
    full = _brand(50)
    return RetentionInputs(full.purchases.iloc[:0], full.first_purchases.iloc[:0],
                           full.families.iloc[:0], full.engagement.iloc[:0], AS_OF)


def test_empty_inputs_give_typed_empty_outputs():
    inputs = _empty_inputs()
    evaluation = backtest(inputs)
    assert evaluation.schema == seam.EVALUATION_SCHEMA
    # Only the dataset-level figure: nothing to fit or score.
    assert set(evaluation.column("metric").to_pylist()) <= {"repeat_buyer_share",
                                                            "n_training_events"}
    timing = score_second_purchase(inputs).read_all()
    assert timing.schema == TIMING_SCHEMA and timing.num_rows == 0
    customers = score_customers(inputs, evaluation).read_all()
    assert customers.schema == CUSTOMER_SCHEMA and customers.num_rows == 0


def _known_hazard_data(n: int, seed: int = 0) -> tuple[pd.DataFrame, dict[str, float]]:
    """One-time buyers whose second purchase comes at a constant daily hazard that depends
    on the market only: FR 1/120, US 1/500 (nothing else says anything)."""
    daily = {"FR": 1 / 120, "US": 1 / 500}
    rng = np.random.default_rng(seed)
    market = np.where(rng.random(n) < 0.5, "FR", "US")
    lam = np.array([daily[m] for m in market])
    first = AS_OF - pd.to_timedelta(rng.integers(0, 900, n), unit="D")
    gap = np.ceil(rng.exponential(1 / lam)) - 1  # day of the second purchase, from day 0
    second = pd.Series(first + pd.to_timedelta(gap, unit="D")).where(
        lambda d: d <= AS_OF)
    fp = _brand(n).first_purchases.assign(
        customer_id=[f"K{i:06d}" for i in range(n)], market=market, first_order_date=first,
        second_order_date=second.to_numpy(), first_order_lead_family=None,
        first_order_top_category="leather", first_order_value=100.0)
    return fp, daily


def _no_families() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": pd.Series(dtype=str), "order_id": pd.Series(dtype=str),
                         "order_date": pd.Series(dtype="datetime64[ns]"),
                         "purchase_number": pd.Series(dtype=int),
                         "family": pd.Series(dtype=str)})


def _no_engagement() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": pd.Series(dtype=str),
                         "event_date": pd.Series(dtype="datetime64[ns]"),
                         "event_kind": pd.Series(dtype=str)})


def test_weighted_negative_sampling_keeps_the_hazard_unbiased():
    fp, daily = _known_hazard_data(12_000)
    data = prepare_second_purchase_data(fp, _no_families(), _no_engagement(), AS_OF)
    X_all, y_all, period_all, w_all = person_period(data)
    max_rows = len(y_all) // 5
    X, y, period, weight = person_period(data, max_rows=max_rows, seed=3)
    q = negative_sampling_rate(int(y_all.sum()), len(y_all), max_rows)
    assert q < 0.25 and len(y) < 0.3 * len(y_all)
    assert y.sum() == y_all.sum() and set(weight[y]) == {1.0} and set(weight[~y]) == {1 / q}
    # Per period, the weighted event rate estimates the full one; the unweighted one does not.
    for j in range(len(BINS)):
        full, mask = y_all[period_all == j], period == j
        if full.sum() < 200:
            continue
        weighted = np.sum(weight[mask] * y[mask]) / np.sum(weight[mask])
        assert weighted == pytest.approx(full.mean(), rel=0.1)
        assert y[mask].mean() > 2 * full.mean()
    # The hazard model trained on the sample recovers the known daily hazards...
    fresh = prepare_second_purchase_data(
        fp.assign(first_order_date=AS_OF, second_order_date=pd.NaT), _no_families(),
        _no_engagement(), AS_OF)
    markets = fresh.frame["market"].to_numpy()
    model = HazardTimingModel(n_estimators=80, max_depth=2, max_rows=max_rows).fit(data)
    assert model.negative_rate_ == pytest.approx(q)
    rates = model.rates(fresh)[:, :12]  # periods up to 365 days, where buyers are at risk
    for market, truth in daily.items():
        assert rates[markets == market].mean() == pytest.approx(truth, rel=0.15), market
    # ... which the same sample without its weights does not.
    unweighted = xgb.XGBClassifier(n_estimators=80, max_depth=2, learning_rate=0.05,
                                   min_child_weight=5.0, tree_method="hist", max_bin=64,
                                   n_jobs=1, random_state=0)
    unweighted.fit(model._encode(X), y)
    fr = X["market"].to_numpy() == "FR"
    h_unweighted = unweighted.predict_proba(model._encode(X[fr]))[:, 1].mean()
    h_true = np.mean(1 - np.exp(-daily["FR"] * X.loc[fr, "period_length"].to_numpy()))
    assert h_unweighted > 2 * h_true


def _row(frame: pd.DataFrame, model: str, metric: str = "auc", segment: str = "all"
         ) -> pd.Series:
    row = frame[(frame.model_name == model) & (frame.metric == metric)
                & (frame.segment == segment)]
    assert len(row) == 1, (model, metric, segment)
    return row.iloc[0]


def test_training_on_samples_stays_close_to_training_on_everyone():
    inputs = _brand(4000, seed=2)
    full = backtest(inputs, RetentionSettings(trees=40)).to_pandas()
    capped = RetentionSettings(trees=40, max_training_clients=1500, max_hazard_rows=8000,
                               max_fit_clients=2000)
    sampled = backtest(inputs, capped).to_pandas()
    assert _row(sampled, "second_purchase_hazard_xgb", "n_training_events")["n_evaluated"] == 1500
    assert _row(sampled, "repeat_bgnbd", "param_r")["n_evaluated"] == 2000
    for model in ("second_purchase_hazard_xgb", "repeat_xgb"):
        a, b = _row(full, model), _row(sampled, model)
        assert a["n_evaluated"] == b["n_evaluated"]  # the same clients scored
        assert b["metric_value"] == pytest.approx(a["metric_value"], abs=0.02), model
    # Scoring a sample of the clients: the interval says how far the figure may be.
    part = backtest(inputs, RetentionSettings(trees=40, max_evaluation_clients=1000)
                    ).to_pandas()
    for model in ("second_purchase_hazard_xgb", "repeat_xgb", "repeat_bgnbd"):
        a, b = _row(full, model), _row(part, model)
        assert b["n_evaluated"] == 1000 and "seeded sample" in b["notes"]
        assert b["ci_lower"] < b["metric_value"] < b["ci_upper"]
        assert abs(b["metric_value"] - a["metric_value"]) < b["ci_upper"] - b["ci_lower"]
        brier = _row(part, model, "brier")
        assert brier["ci_lower"] < brier["metric_value"] < brier["ci_upper"]


def test_delong_interval_agrees_with_a_bootstrap():
    rng = np.random.default_rng(4)
    y = rng.random(6000) < 0.1
    score = rng.normal(size=6000) + 1.2 * y
    auc, lower, upper = auc_ci(y, score)
    assert auc == pytest.approx(metrics.auc(y, score), abs=1e-12)
    _, b_lower, b_upper = statistic_ci(metrics.auc, (y, score), n_resamples=300, seed=1)
    assert lower == pytest.approx(b_lower, abs=0.006)
    assert upper == pytest.approx(b_upper, abs=0.006)
    assert np.isnan(auc_ci(np.array([True, False]), np.array([0.3, 0.1]))[1])


def test_samples_and_batches_select_each_client_once():
    frame = pd.DataFrame({"customer_id": [f"C{i:04d}" for i in range(1000)] * 2,
                          "x": np.arange(2000)})
    predicate = seam.sample_filter(frame, "customer_id", 300, seed=5)
    picked = seam.as_relation(frame).filter(predicate).df()["customer_id"].unique()
    assert sorted(picked) == list(seam.sample_keys(frame, "customer_id", 300, 5)["customer_id"])
    assert seam.sample_filter(frame, "customer_id", 1000, seed=5) is None
    seen = []
    for batch in seam.key_ranges(frame, "customer_id", 128, where=predicate):
        rows = seam.as_relation(frame).filter(f"({batch}) and ({predicate})").df()
        assert rows["customer_id"].nunique() <= 128
        assert (rows.groupby("customer_id").size() == 2).all()  # a client's rows together
        seen += sorted(rows["customer_id"].unique())
    assert seen == sorted(picked)


def test_settings_come_from_dbt_config_strings():
    settings = RetentionSettings.from_config({"trees": "60", "max_hazard_rows": 5000.0})
    assert settings.trees == 60 and settings.max_hazard_rows == 5000
    with pytest.raises(ValueError, match="unknown"):
        RetentionSettings.from_config({"n_estimators": 10})
    with pytest.raises(ValueError, match="at least 1"):
        RetentionSettings(batch_clients=0)
