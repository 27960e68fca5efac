"""The recommendation entry points without dbt: synthetic inputs as frames (seam.as_relation
reads them as DuckDB relations, as dbt.ref would give), batched scoring equal to one batch,
ALS fold-in from a sample, and typed outputs on empty or tiny inputs."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from clientele import seam
from clientele.recommendations import pipeline
from clientele.recommendations.settings import RecommendationSettings

AS_OF = dt.date(2024, 6, 30)
CUT = dt.date(2024, 4, 1)


def _horizons() -> pd.DataFrame:
    return pd.DataFrame({"horizon": ["backtest", "current"],
                         "known_before": [CUT, AS_OF + dt.timedelta(days=1)],
                         "as_of_date": [AS_OF, AS_OF], "backtest_order": [0, None]})


def _events(n_clients: int = 240, n_products: int = 12, seed: int = 0) -> pd.DataFrame:
    """Two communities: even clients buy and browse products of the first half of the
    catalogue, odd clients the second half, on several days over six months; one product
    outside the catalogue (discontinued) is bought too."""
    rng = np.random.default_rng(seed)
    half = n_products // 2
    rows = []
    for c in range(n_clients):
        products = np.arange(half) + (half if c % 2 else 0)
        favourite = rng.choice(products)
        days = np.sort(rng.choice(np.arange(0, 182), size=rng.integers(2, 7), replace=False))
        for d, day in enumerate(days):
            date = dt.date(2024, 1, 1) + dt.timedelta(days=int(day))
            bought = {favourite, rng.choice(products)} if d % 2 == 0 else {rng.choice(products)}
            for p in bought:
                rows.append((f"C{c:04d}", f"P{p:02d}", "purchase", f"O{c:04d}-{d}", date, 1))
            rows.append((f"C{c:04d}", f"P{rng.choice(products):02d}", "view", None, date, 1))
        if c % 17 == 0:
            rows.append((f"C{c:04d}", "PX", "purchase", f"O{c:04d}-x", dt.date(2024, 2, 1), 1))
    frame = pd.DataFrame(rows, columns=["customer_id", "product_id", "event_type", "order_id",
                                        "event_date", "quantity"])
    frame["occurred_at"] = pd.to_datetime(frame["event_date"])
    return frame.drop_duplicates(["customer_id", "product_id", "event_type", "order_id",
                                  "event_date"])


def _catalog(n_products: int = 12) -> pd.DataFrame:
    return pd.DataFrame({"product_id": [f"P{p:02d}" for p in range(n_products)]})


FAST = RecommendationSettings(lstm_epochs=2, lstm_embedding_dim=8, lstm_hidden_dim=8,
                              lstm_batch_size=64, candidates=5)


def _frame(reader: pa.RecordBatchReader, keys: list[str]) -> pd.DataFrame:
    return reader.read_all().to_pandas().sort_values(keys, ignore_index=True)


def test_als_batched_scoring_equals_one_batch_and_lists_the_evaluated_clients():
    events, catalog, horizons = _events(), _catalog(), _horizons()
    keys = ["horizon", "customer_id", "rank"]
    one = _frame(pipeline.als_lists(events, catalog, horizons, FAST), keys)
    batched = _frame(pipeline.als_lists(events, catalog, horizons,
                                        RecommendationSettings(candidates=5, batch_clients=7)),
                     keys)
    # The same lists; scores equal up to float32 rounding (BLAS blocks a 7-row product
    # differently from a 240-row one).
    pd.testing.assert_frame_equal(one.drop(columns="score"), batched.drop(columns="score"))
    np.testing.assert_allclose(one["score"], batched["score"], rtol=1e-5, atol=1e-6)
    assert not one["product_id"].eq("PX").any()  # never outside the catalogue
    # Backtest lists only for clients who bought a catalogue product after the cut-off.
    later = events[(events["event_type"] == "purchase") & (events["event_date"] >= CUT)
                   & (events["product_id"] != "PX")]["customer_id"]
    assert set(one.loc[one["horizon"] == "backtest", "customer_id"]) <= set(later)
    # A baseline is only backtested: no lists for today (nothing downstream reads them).
    assert set(one["horizon"]) == {"backtest"}


def test_als_fold_in_from_a_sample_recovers_the_full_fit():
    events, catalog, horizons = _events(n_clients=400), _catalog(), _horizons()
    full = _frame(pipeline.als_lists(events, catalog, horizons,
                                     RecommendationSettings(candidates=3)), ["customer_id"])
    sampled = _frame(pipeline.als_lists(events, catalog, horizons, RecommendationSettings(
        candidates=3, als_training_clients=120)), ["customer_id"])
    for frame in (full, sampled):
        listed = frame[frame["horizon"] == "backtest"]
        odd = listed["customer_id"].str[-1].astype(int) % 2 == 1
        second_half = listed["product_id"].str[1:].astype(int) >= 6
        # The planted communities: every list stays within the client's half.
        assert (odd == second_half).mean() > 0.97
    top = {name: set(zip(f.loc[f["horizon"] == "backtest", "customer_id"],
                         f.loc[f["horizon"] == "backtest", "product_id"], strict=True))
           for name, f in (("full", full), ("sampled", sampled))}
    assert len(top["full"] & top["sampled"]) / len(top["full"]) > 0.8


def test_lstm_batched_scoring_equals_one_batch():
    events, catalog, horizons = _events(), _catalog(), _horizons()
    keys = ["horizon", "variant", "customer_id", "rank"]
    one = _frame(pipeline.lstm_lists(events, catalog, horizons, FAST), keys)
    batched = _frame(pipeline.lstm_lists(events, catalog, horizons, RecommendationSettings(
        **{**FAST.to_dict(), "batch_clients": 9})), keys)
    pd.testing.assert_frame_equal(one.drop(columns="score"), batched.drop(columns="score"))
    np.testing.assert_allclose(one["score"], batched["score"], rtol=1e-5, atol=1e-6)
    # Both variants are backtested; today's lists are the variant the composed list uses.
    assert set(one.loc[one["horizon"] == "backtest", "variant"]) == {"lstm", "lstm_debiased"}
    assert set(one.loc[one["horizon"] == "current", "variant"]) == {"lstm"}
    debiased = RecommendationSettings(**{**FAST.to_dict(), "similar_variant": "lstm_debiased"})
    both_today = pipeline.lstm_lists(events, catalog, horizons, debiased).read_all().to_pandas()
    assert set(both_today.loc[both_today["horizon"] == "current", "variant"]) == {
        "lstm", "lstm_debiased"}
    assert one.groupby(["horizon", "variant", "customer_id"]).size().max() == FAST.candidates
    assert (one["epochs_trained"] == 2).all()


def test_lstm_lists_today_the_clients_the_composed_list_gives_a_similar_slot():
    """A client whose last purchase is older than inactive_days gets a win-back list in
    the composed list: no LSTM list today; the backtest still lists every evaluated
    client."""
    events, catalog, horizons = _events(), _catalog(), _horizons()
    old = events[events["customer_id"] == "C0000"].copy()
    old["customer_id"] = "C9999"
    old["event_date"] = dt.date(2023, 3, 1)
    old["occurred_at"] = pd.Timestamp("2023-03-01")
    lists = pipeline.lstm_lists(pd.concat([events, old]), catalog, horizons,
                                FAST).read_all().to_pandas()
    today = set(lists.loc[lists["horizon"] == "current", "customer_id"])
    assert "C9999" not in today and today == set(events["customer_id"])


def test_lstm_trains_on_a_capped_sample_and_is_deterministic():
    events, catalog, horizons = _events(), _catalog(), _horizons()
    capped = RecommendationSettings(**{**FAST.to_dict(), "lstm_training_clients": 50})
    first = _frame(pipeline.lstm_lists(events, catalog, horizons, capped),
                   ["horizon", "variant", "customer_id", "rank"])
    again = _frame(pipeline.lstm_lists(events, catalog, horizons, capped),
                   ["horizon", "variant", "customer_id", "rank"])
    pd.testing.assert_frame_equal(first, again)
    assert first["training_sequences"].max() <= 50
    # Every client is still listed at the current horizon.
    current = first[(first["horizon"] == "current") & (first["variant"] == "lstm")]
    assert current["customer_id"].nunique() == events["customer_id"].nunique()


def _evaluation_inputs(events: pd.DataFrame, catalog: pd.DataFrame, horizons: pd.DataFrame,
                       settings: RecommendationSettings) -> dict[str, object]:
    """The SQL baselines and the composed list, reduced to what the evaluation reads."""
    purchases = events[events["event_type"] == "purchase"]
    rows = []
    for horizon, known in zip(horizons["horizon"], horizons["known_before"], strict=True):
        before = purchases[purchases["event_date"] < known]
        counts = before.groupby(["customer_id", "product_id"]).size().rename("orders")
        counts = counts.reset_index().sort_values(["customer_id", "orders", "product_id"],
                                                  ascending=[True, False, True])
        counts["repurchase_rank"] = counts.groupby("customer_id").cumcount() + 1
        counts["horizon"] = horizon
        rows.append(counts)
    repurchase = pd.concat(rows)
    popular = purchases["product_id"].value_counts().rename_axis("product_id").reset_index()
    popularity = pd.concat([pd.DataFrame({"horizon": horizon, "market": "(all)",
                                          "product_id": popular["product_id"],
                                          "popularity_rank": np.arange(1, len(popular) + 1)})
                            for horizon in horizons["horizon"]])
    pairs = pd.concat([pd.DataFrame({"horizon": [horizon] * 2,
                                     "antecedent_product_id": ["P00", "P06"],
                                     "consequent_product_id": ["P01", "P07"],
                                     "confidence": [0.5, 0.5], "consequent_orders": [10, 10]})
                       for horizon in horizons["horizon"]])
    composed = repurchase.rename(columns={"repurchase_rank": "recommendation_rank"})
    return {
        "horizons": horizons, "events": events, "catalog": catalog,
        "customers": pd.DataFrame({"customer_id": events["customer_id"].unique(),
                                   "country": "FR"}),
        "popularity": popularity, "repurchase": repurchase, "cooccurrence": pairs,
        "als": pipeline.als_lists(events, catalog, horizons, settings).read_all(),
        "lstm": pipeline.lstm_lists(events, catalog, horizons, settings).read_all(),
        "composed": composed[composed["recommendation_rank"] <= 7],
    }


def test_evaluation_reads_the_evaluated_clients_and_is_typed():
    events, catalog, horizons = _events(), _catalog(), _horizons()
    table = pipeline.evaluation(**_evaluation_inputs(events, catalog, horizons, FAST),
                                settings=FAST)
    assert table.schema == seam.EVALUATION_SCHEMA
    frame = table.to_pandas()
    methods = {"popularity", "repurchase", "cooccurrence", "als", "lstm", "lstm_debiased",
               "composed"}
    assert set(frame["model_name"]) == methods
    recall = frame[(frame["metric"] == "recall") & (frame["k"] == 10)
                   & (frame["segment"] == "all")].set_index("model_name")["metric_value"]
    assert recall["repurchase"] > recall["popularity"]  # the planted favourites repeat
    at_10 = frame[(frame["metric"] == "recall") & (frame["k"] == 10)]
    assert (at_10["ci_lower"] <= at_10["metric_value"]).all()
    assert (at_10["metric_value"] <= at_10["ci_upper"]).all()
    # A sample of the evaluated clients: fewer clients, the same ALS and LSTM sample.
    sampled = RecommendationSettings(**{**FAST.to_dict(), "sample_clients": 40})
    small = pipeline.evaluation(**_evaluation_inputs(events, catalog, horizons, sampled),
                                settings=sampled).to_pandas()
    evaluated = small.loc[(small["metric"] == "recall") & (small["segment"] == "all"),
                          "n_evaluated"]
    assert (evaluated == 40).all()
    assert small["notes"].str.contains("seeded sample").any()


def test_every_backtest_cutoff_is_evaluated_and_averaged():
    """Three cut-offs: the latest gives every row in segment 'all', each earlier one its
    key rows in 'cutoff=<horizon>' (its own validation cut and lists), and the mean over
    the cut-offs each method minus the best baseline with an interval."""
    cut, step = dt.date(2024, 5, 1), dt.timedelta(days=20)  # validation cuts after Jan 1
    horizons = pd.DataFrame({
        "horizon": ["backtest", "backtest_minus_20d", "backtest_minus_40d", "current"],
        "known_before": [cut, cut - step, cut - 2 * step, AS_OF + dt.timedelta(days=1)],
        "as_of_date": [AS_OF, AS_OF - step, AS_OF - 2 * step, AS_OF],
        "backtest_order": [0, 1, 2, None]})
    events, catalog = _events(), _catalog()
    inputs = _evaluation_inputs(events, catalog, horizons, FAST)
    lstm = inputs["lstm"].to_pandas()  # type: ignore[union-attr]
    assert {"validation", "validation_minus_20d", "validation_minus_40d"} <= set(lstm["horizon"])
    frame = pipeline.evaluation(**inputs, settings=FAST).to_pandas()
    latest = horizons[~horizons["backtest_order"].isin([1, 2])]
    one = pipeline.evaluation(**_evaluation_inputs(events, catalog, latest, FAST),
                              settings=FAST).to_pandas()
    primary = frame[frame["segment"].isin(["all", "returning", "training"])]
    pd.testing.assert_frame_equal(primary.reset_index(drop=True), one)  # unchanged
    for name, earlier in (("backtest_minus_20d", cut - step),
                          ("backtest_minus_40d", cut - 2 * step)):
        rows = frame[frame["segment"] == f"cutoff={name}"]
        assert set(rows["metric"]) == {"recall", "ndcg", "recall_vs_best_baseline",
                                       "ndcg_vs_best_baseline"}
        assert (rows["cutoff_date"] == earlier).all() and (rows["as_of_date"] == AS_OF).all()
        assert set(rows.loc[rows["metric"] == "recall", "model_name"]) == set(
            one.loc[one["metric"] == "recall", "model_name"])
    mean = frame[frame["segment"] == "mean_over_cutoffs"].set_index(["model_name", "metric"])
    recall = frame[(frame["metric"] == "recall") & (frame["k"] == 10)
                   & frame["segment"].isin(["all", "cutoff=backtest_minus_20d",
                                            "cutoff=backtest_minus_40d"])]
    per_cutoff = recall.groupby("model_name")["metric_value"].mean()
    for model, value in per_cutoff.items():
        assert mean.loc[(model, "recall"), "metric_value"] == pytest.approx(value)
    differences = mean.xs("recall_vs_best_baseline", level="metric")
    assert len(differences) == len(per_cutoff) - 1
    assert (differences["ci_lower"] <= differences["metric_value"]).all()
    assert (differences["metric_value"] <= differences["ci_upper"]).all()


def test_empty_inputs_give_typed_empty_outputs():
    events = _events().iloc[:0]
    catalog, horizons = _catalog(), _horizons()
    als = pipeline.als_lists(events, catalog, horizons, FAST).read_all()
    lstm = pipeline.lstm_lists(events, catalog, horizons, FAST).read_all()
    assert als.num_rows == 0 and als.schema == pipeline.ALS_SCHEMA
    assert lstm.num_rows == 0 and lstm.schema == pipeline.LSTM_SCHEMA
    inputs = _evaluation_inputs(events, catalog, horizons, FAST)
    assert pipeline.evaluation(**inputs, settings=FAST).schema == seam.EVALUATION_SCHEMA
    no_catalog = pipeline.evaluation(**{**inputs, "catalog": catalog.iloc[:0]}, settings=FAST)
    assert no_catalog.num_rows == 0 and no_catalog.schema == seam.EVALUATION_SCHEMA


def test_a_four_product_catalogue_builds_every_output():
    """Fewer products than the lists' k (issue 14: the co-occurrence baseline crashed)."""
    events = _events(n_products=4)
    catalog, horizons = _catalog(4), _horizons()
    frame = pipeline.evaluation(**_evaluation_inputs(events, catalog, horizons, FAST),
                                settings=FAST).to_pandas()
    coverage = frame[(frame["metric"] == "coverage") & (frame["segment"] == "all")]
    assert coverage["metric_value"].between(0, 1).all()
    lists = pipeline.lstm_lists(events, catalog, horizons, FAST).read_all().to_pandas()
    assert lists.groupby(["horizon", "variant", "customer_id"]).size().max() <= 4


def test_settings_from_dbt_config_strings():
    settings = RecommendationSettings.from_config({
        "candidates": "20", "lstm_penalty_grid": "0,0.5", "lstm_exposure_cap_grid": "inf,2",
        "als_regularization": "0.2", "similar_variant": "lstm_debiased"})
    assert settings.candidates == 20 and settings.lstm_penalty_grid == (0.0, 0.5)
    assert settings.lstm_exposure_cap_grid == (np.inf, 2.0)
    with pytest.raises(ValueError, match="unknown setting"):
        RecommendationSettings.from_config({"lstm_time_budget_s": 15})
    with pytest.raises(ValueError, match="similar_variant"):
        RecommendationSettings(similar_variant="als")


def test_a_sample_drawn_in_sql_is_read_back_as_the_python_draw():
    """int_recommendations__evaluated_clients draws with seam's hash; read back, it gives
    the clients and the DuckDB predicate the Python draw gives."""
    import duckdb

    from clientele.recommendations.inputs import read_horizons, read_products

    events, products = _events(), read_products(_catalog())
    horizon = read_horizons(_horizons())[0]
    for n in (40, 10_000):
        settings = RecommendationSettings(sample_clients=n)
        drawn = pipeline.evaluated_clients(events, horizon, products, settings)
        population = len(seam.as_relation(events).filter(drawn.where).project(
            "customer_id").distinct().df())
        rows = duckdb.from_df(pd.DataFrame({"customer_id": list(drawn.ids)})).project(
            f"'backtest' as horizon, customer_id, "
            f"hash(customer_id::varchar || '#{settings.seed}') as draw, "
            f"{population} as holdout_buyers").df()
        read = pipeline.evaluated_clients(events, horizon, products, settings, evaluated=rows)
        assert list(read.ids) == list(drawn.ids) and read.where == drawn.where
        assert read.predicate == drawn.predicate and read.sampled == (n < population)
