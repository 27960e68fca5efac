"""The launch area's entry points (clientele.launch.pipeline) without dbt.

Synthetic launches with a known truth: early adopters have a latent trait that shows in
the lookalike features, the rule pool knows only half of them (positive-unlabeled).
Inputs are frames read through seam.as_relation, as dbt's refs are relations.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.metrics import roc_auc_score

from clientele import seam
from clientele.launch import pipeline
from clientele.launch.policy import Policy
from clientele.launch.settings import LaunchSettings

LAUNCHES = ("L1", "L2", "NEW")
CUTOFFS = {"L1": "2024-03-01", "L2": "2024-09-01", "NEW": "2025-03-01"}
FAST = LaunchSettings(lookalike_trees=30, lookalike_folds=4)


def _world(n: int = 900, seed: int = 0) -> dict[str, pd.DataFrame]:
    """One synthetic brand: catalogue, launches, clients' features, mix and purchases."""
    rng = np.random.default_rng(seed)
    cats, colors = ["bags", "shoes", "rtw", "jewelry"], ["black", "tan", "red", "white"]
    products = pd.DataFrame({
        "product_id": [f"P{i:03d}" for i in range(48)],
        "collection_id": [LAUNCHES[i // 12] if i < 36 else None for i in range(48)],
        "category": [cats[i % 4] for i in range(48)],
        "family": [f"f{i % 6}" for i in range(48)],
        "subfamily": [f"s{i % 9}" for i in range(48)],
        "color": [colors[(i // 3) % 4] for i in range(48)],
        "material": [["leather", "canvas", "silk"][i % 3] for i in range(48)],
        "gender_line": [["women", "men"][i % 2] for i in range(48)],
        "price_band": [1 + i % 5 for i in range(48)],
        "list_price": rng.uniform(100, 3000, 48),
        "is_merchandise": True,
    })
    weights = pd.DataFrame({
        "attribute": ["category", "family", "color", "material", "price_band", "log_list_price"],
        "kind": ["categorical"] * 4 + ["numeric"] * 2,
        "weight": [3.0, 2.0, 1.5, 1.5, 1.5, 1.0],
    })
    references = pd.DataFrame({
        "collection_id": list(LAUNCHES),
        "launch_date": pd.to_datetime(list(CUTOFFS.values())),
        "is_upcoming": [False, False, True],
        "cutoff_date": pd.to_datetime(list(CUTOFFS.values())),
    })
    customers = np.array([f"C{i:05d}" for i in range(n)], dtype=object)
    trait = rng.normal(size=n)
    early = trait > 1.0
    population, features, mix, purchases = [], [], [], []
    for launch in LAUNCHES:
        pool = early & (rng.random(n) < 0.5)
        population.append(pd.DataFrame({
            "reference_collection_id": launch, "customer_id": customers,
            "cutoff_date": pd.Timestamp(CUTOFFS[launch]), "in_pool": pool,
            "early_adopter_score": np.clip(0.5 * pool + 0.5 * rng.random(n), 0, 1),
        }))
        features.append(pd.DataFrame({
            "reference_collection_id": launch, "customer_id": customers,
            "cutoff_date": pd.Timestamp(CUTOFFS[launch]),
            "gender": rng.choice(["f", "m"], n).astype(object),
            "country": rng.choice(["FR", "IT", "JP"], n).astype(object),
            "age": np.where(rng.random(n) < 0.1, np.nan, 40 - 5 * trait + rng.normal(0, 5, n)),
            "has_home_store": rng.random(n) < 0.5 + 0.2 * np.tanh(trait),
            "email_open_rate": 1 / (1 + np.exp(-(trait + rng.normal(0, 0.7, n)))),
            "web_views_180d": rng.poisson(np.exp(0.5 * trait)).astype(float),
            "purchase_count": rng.poisson(3, n).astype(float),
        }))
        shares = rng.dirichlet(np.ones(4), n)
        for j, cat in enumerate(cats):
            mix.append(pd.DataFrame({
                "reference_collection_id": launch, "customer_id": customers,
                "attribute_name": "category", "attribute_value": cat,
                "spend_share": shares[:, j] + 0.2 * early * (j == 0),
            }))
        bought = rng.integers(0, 36, (n, 3))
        purchases.append(pd.DataFrame({
            "reference_collection_id": launch,
            "customer_id": np.repeat(customers, 3),
            "product_id": [f"P{i:03d}" for i in bought.ravel()],
            "purchase_weight": rng.uniform(0.1, 2.0, 3 * n),
        }).drop_duplicates(["customer_id", "product_id"]))
    return {
        "products": products, "weights": weights, "references": references,
        "population": pd.concat(population, ignore_index=True),
        "features": pd.concat(features, ignore_index=True),
        "mix": pd.concat(mix, ignore_index=True),
        "purchases": pd.concat(purchases, ignore_index=True),
        "truth": pd.DataFrame({"customer_id": customers, "early": early}),
    }


@pytest.fixture(scope="module")
def world() -> dict[str, pd.DataFrame]:
    return _world()


def _frame(output: pa.Table | pa.RecordBatchReader, keys: list[str]) -> pd.DataFrame:
    table = output.read_all() if isinstance(output, pa.RecordBatchReader) else output
    return table.to_pandas().sort_values(keys).reset_index(drop=True)


def _lookalike(world: dict, settings: LaunchSettings) -> tuple[pa.Table, pd.DataFrame]:
    rel = {k: seam.as_relation(world[k]) for k in ("features", "mix", "population")}
    models = pipeline.lookalike_models(rel["features"], rel["mix"], rel["population"], settings)
    scores = pipeline.lookalike_scores(models, rel["features"], rel["mix"], rel["population"],
                                       settings)
    return models, _frame(scores, ["reference_collection_id", "customer_id"])


def test_lookalike_is_fitted_once_and_scores_every_client_out_of_fold(world):
    models, scores = _lookalike(world, FAST)
    assert models.schema == pipeline.LOOKALIKE_MODEL_SCHEMA
    assert models.num_rows == len(LAUNCHES) * FAST.lookalike_folds
    fitted = models.to_pandas()
    # Below the caps every client trains, and is held out by exactly one fold model.
    for _launch, folds in fitted.groupby("reference_collection_id"):
        held = np.concatenate(list(folds["held_out_customer_ids"]))
        assert len(held) == len(set(held)) == 900
        assert (folds["sampling_ratio"] == 1.0).all()
        assert (folds["n_train_pool"] + folds["n_train_unlabeled"] == 900).all()
    assert len(scores) == 3 * 900
    assert scores["lookalike_score"].between(0, 1).all()
    truth = world["truth"].set_index("customer_id")["early"]
    for _launch, g in scores.groupby("reference_collection_id"):
        hidden = ~g["in_pool"].to_numpy()  # clients the model never saw as positives
        y = truth.reindex(g["customer_id"]).to_numpy()
        assert roc_auc_score(y[hidden], g["lookalike_raw"].to_numpy()[hidden]) > 0.8
    # Importances name the features the trait shows in.
    imp = fitted.iloc[0]
    top = imp["feature_names"][int(np.argmax(imp["importances"]))]
    assert top in ("email_open_rate", "age", "web_views_180d", "mix_category=bags")
    assert "purchase_count" not in imp["feature_names"]  # opportunity, not trait


def test_batched_scoring_equals_one_batch(world):
    _, one_batch = _lookalike(world, dataclasses.replace(FAST, batch_rows=1_000_000))
    _, batched = _lookalike(world, dataclasses.replace(FAST, batch_rows=37))
    pd.testing.assert_frame_equal(one_batch, batched)


def test_sampled_training_respects_the_caps_and_stays_calibrated(world):
    capped = dataclasses.replace(FAST, lookalike_max_pool_clients=30,
                                 lookalike_max_unlabeled_clients=250, batch_rows=200)
    models, scores = _lookalike(world, capped)
    fitted = models.to_pandas()
    assert (fitted["n_train_pool"] <= 30).all() and (fitted["n_train_unlabeled"] <= 250).all()
    assert (fitted["sampling_ratio"] > 1.2).all()  # the pool was sampled at a higher rate
    assert len(scores) == 3 * 900  # every client is still scored
    truth = world["truth"].set_index("customer_id")["early"]
    for launch, g in scores.groupby("reference_collection_id"):
        # The odds correction keeps P(labeled | x) calibrated: its mean is the pool share.
        share = g["in_pool"].mean()
        assert abs(g["lookalike_raw"].mean() / share - 1) < 0.15, launch
        hidden = ~g["in_pool"].to_numpy()
        y = truth.reindex(g["customer_id"]).to_numpy()
        assert roc_auc_score(y[hidden], g["lookalike_raw"].to_numpy()[hidden]) > 0.75
    again = _lookalike(world, capped)[1]
    pd.testing.assert_frame_equal(scores, again)  # seeded samples: same input, same output


def _appetence(world: dict, settings: LaunchSettings) -> tuple[pd.DataFrame, pd.DataFrame]:
    args = [seam.as_relation(world[k]) for k in ("products", "weights", "purchases", "references")]
    collection = pipeline.collection_appetence(*args, settings)
    product = pipeline.product_appetence(*args, settings)
    return (_frame(collection, ["reference_collection_id", "customer_id"]),
            _frame(product, ["customer_id", "appetence_rank"]))


def test_appetence_in_client_batches_equals_one_batch(world):
    settings = dataclasses.replace(FAST, top_new_products=5)
    one_collection, one_product = _appetence(
        world, dataclasses.replace(settings, batch_rows=1_000_000))
    collection, product = _appetence(world, dataclasses.replace(settings, batch_rows=7))
    pd.testing.assert_frame_equal(one_collection, collection)
    pd.testing.assert_frame_equal(one_product, product)
    assert len(collection) == 3 * 900
    assert collection["appetence_similarity"].between(0, 1).all()
    per_client = product.groupby("customer_id")
    assert (per_client.size() == 5).all()
    assert (per_client["appetence"].apply(lambda a: a.is_monotonic_decreasing)).all()
    assert set(product["product_id"]) <= set(world["products"].query(
        "collection_id == 'NEW'")["product_id"])


def test_appetence_is_the_weighted_mean_similarity_to_the_collection(world):
    from clientele.launch.gower import GowerSimilarity

    collection, _ = _appetence(world, FAST)
    catalogue = pipeline.product_frame(seam.as_relation(world["products"]))
    new = catalogue[catalogue["collection_id"] == "L2"]
    sim = GowerSimilarity.from_seed(world["weights"]).fit(catalogue).transform(catalogue, new)
    mean_sim = pd.Series(sim.mean(axis=1), index=catalogue["product_id"])
    bought = world["purchases"].query("reference_collection_id == 'L2' and customer_id == 'C00007'")
    expected = np.average(mean_sim.reindex(bought["product_id"]), weights=bought["purchase_weight"])
    got = collection.query("reference_collection_id == 'L2' and customer_id == 'C00007'")
    assert got["appetence_similarity"].iloc[0] == pytest.approx(expected, abs=1e-5)


def _scores(world: dict) -> pd.DataFrame:
    """int_launch__scores as the SQL builds it: scores, percentiles and outcomes."""
    rng = np.random.default_rng(5)
    pop = world["population"].copy()
    early = world["truth"].set_index("customer_id")["early"].reindex(pop["customer_id"]).to_numpy()
    pop["lookalike_score"] = np.clip(0.6 * early + 0.5 * rng.random(len(pop)), 0, 1)
    pop["lookalike_percentile"] = pop.groupby("reference_collection_id")["lookalike_score"].rank(
        pct=True)
    pop["appetence"] = rng.random(len(pop))
    pop["is_upcoming"] = pop["reference_collection_id"] == "NEW"
    pop["launch_date"] = pd.to_datetime(pop["reference_collection_id"].map(CUTOFFS))
    p = 0.01 + 0.3 * early * (rng.random(len(pop)) < 0.5)
    pop["converted"] = np.where(pop["is_upcoming"], None, rng.random(len(pop)) < p)
    return pop


def test_audience_policy_priority_and_evaluation(world):
    scores = seam.as_relation(_scores(world))
    policy = pipeline.audience_policy(scores, FAST)
    assert policy.schema == pipeline.AUDIENCE_POLICY_SCHEMA
    rows = policy.to_pandas()
    assert set(rows["item_type"]) == {"parameter", "train", "holdout", "rolling_holdout",
                                      "calibration"}
    params = rows[rows["item_type"] == "parameter"].set_index("item")["value"]
    # The calibration covers every past client once, per tenth of the 0-100 priority.
    calibration = rows[rows["item"].str.startswith("conversion_priority_")]
    base = rows.set_index("item").loc["conversion_base"]
    assert calibration["n_clients"].sum() == base["n_clients"]
    assert np.isclose((calibration["value"] * calibration["n_clients"]).sum()
                      / calibration["n_clients"].sum(), base["value"])
    priority = _frame(pipeline.audience_priority(seam.as_relation(policy), scores, FAST),
                      ["customer_id"])
    upcoming = _scores(world).query("is_upcoming").sort_values("customer_id")
    expected = Policy.from_parameters(params.to_dict(), LaunchSettings().fallback_policy()).priority(
        upcoming["lookalike_score"].to_numpy(), upcoming["early_adopter_score"].to_numpy(),
        upcoming["appetence"].to_numpy())
    np.testing.assert_array_equal(priority["priority_score"].to_numpy(), expected)
    assert (priority["collection_id"] == "NEW").all()

    evaluation = pipeline.evaluation(
        scores, seam.as_relation(world["references"]), seam.as_relation(policy),
        seam.as_relation(pd.DataFrame({"as_of_date": [pd.Timestamp("2025-02-28")]})), FAST,
    ).to_pandas()
    auc = evaluation[(evaluation["metric"] == "auc_pool")
                     & (evaluation["model_name"] == "lookalike_xgb_pu")]
    assert len(auc) == 3
    assert (auc["ci_lower"] <= auc["metric_value"]).all()
    assert (auc["metric_value"] <= auc["ci_upper"]).all()
    conversion = evaluation[evaluation["metric"] == "conversion"].set_index("model_name")
    assert conversion.loc["audience_policy", "metric_value"] > conversion.loc[
        "random", "metric_value"]
    assert conversion["ci_lower"].notna().all()
    assert not evaluation["metric"].str.endswith("_truth").any()  # truth is not in the DAG


def test_priority_falls_back_to_the_default_policy(world):
    scores = seam.as_relation(_scores(world))
    empty_policy = seam.as_relation(seam.empty_table(pipeline.AUDIENCE_POLICY_SCHEMA))
    priority = _frame(pipeline.audience_priority(empty_policy, scores,
                                                 dataclasses.replace(FAST, batch_rows=50)),
                      ["customer_id"])
    upcoming = _scores(world).query("is_upcoming").sort_values("customer_id")
    np.testing.assert_array_equal(
        priority["priority_score"].to_numpy(),
        LaunchSettings().fallback_policy().priority(upcoming["lookalike_score"].to_numpy(),
                                upcoming["early_adopter_score"].to_numpy(),
                                upcoming["appetence"].to_numpy()))


def test_a_policy_sample_caps_the_clients_and_is_reproducible(world):
    scores = seam.as_relation(_scores(world))
    capped = dataclasses.replace(FAST, policy_max_clients=400)
    first = pipeline.audience_policy(scores, capped).to_pandas()
    assert first.equals(pipeline.audience_policy(scores, capped).to_pandas())
    holdout = first[first["item_type"] == "holdout"]
    assert (holdout["n_clients"] == 400).all()


def test_empty_inputs_give_typed_empty_outputs(world):
    empty = {k: seam.as_relation(pa.Table.from_pandas(v.iloc[:0], preserve_index=False))
             for k, v in world.items()}
    no_upcoming = seam.as_relation(world["references"].query("not is_upcoming"))
    policy_input = seam.as_relation(pa.Table.from_pandas(_scores(world).iloc[:0],
                                                         preserve_index=False))
    outputs = {
        "models": (pipeline.lookalike_models(empty["features"], empty["mix"],
                                             empty["population"], FAST),
                   pipeline.LOOKALIKE_MODEL_SCHEMA),
        "collection": (pipeline.collection_appetence(
            empty["products"], empty["weights"], empty["purchases"], empty["references"], FAST),
            pipeline.COLLECTION_APPETENCE_SCHEMA),
        "product": (pipeline.product_appetence(
            empty["products"], empty["weights"], empty["purchases"], no_upcoming, FAST),
            pipeline.PRODUCT_APPETENCE_SCHEMA),
        "matches": (pipeline.new_product_matches(
            empty["products"], empty["weights"], no_upcoming, FAST),
            pipeline.NEW_PRODUCT_MATCH_SCHEMA),
        "policy": (pipeline.audience_policy(policy_input, FAST), pipeline.AUDIENCE_POLICY_SCHEMA),
        "evaluation": (pipeline.evaluation(
            policy_input, empty["references"],
            seam.as_relation(seam.empty_table(pipeline.AUDIENCE_POLICY_SCHEMA)),
            seam.as_relation(pd.DataFrame({"as_of_date": [pd.Timestamp("2025-02-28")]})), FAST),
            seam.EVALUATION_SCHEMA),
    }
    models = outputs["models"][0]
    outputs["scores"] = (pipeline.lookalike_scores(
        seam.as_relation(models), empty["features"], empty["mix"], empty["population"], FAST),
        pipeline.LOOKALIKE_SCORE_SCHEMA)
    outputs["priority"] = (pipeline.audience_priority(
        seam.as_relation(seam.empty_table(pipeline.AUDIENCE_POLICY_SCHEMA)), policy_input, FAST),
        pipeline.AUDIENCE_PRIORITY_SCHEMA)
    for name, (output, schema) in outputs.items():
        table = output.read_all() if isinstance(output, pa.RecordBatchReader) else output
        assert table.num_rows == 0, name
        assert table.schema == schema, name


def test_a_launch_with_too_small_a_pool_is_skipped(world):
    population = world["population"].copy()
    population.loc[population["reference_collection_id"] == "L1", "in_pool"] = False
    rel = {k: seam.as_relation(v) for k, v in
           {"features": world["features"], "mix": world["mix"], "population": population}.items()}
    models = pipeline.lookalike_models(rel["features"], rel["mix"], rel["population"], FAST)
    assert set(models.column("reference_collection_id").to_pylist()) == {"L2", "NEW"}


def test_iter_groups_never_splits_a_client_and_sample_filter_matches_sample_keys(world):
    purchases = seam.as_relation(world["purchases"].query("reference_collection_id == 'L1'"))
    batches = list(seam.iter_groups(purchases, "customer_id", batch_rows=10))
    seen = [set(b["customer_id"]) for b in batches]
    assert sum(len(b) for b in batches) == purchases.shape[0]
    assert all(not (a & b) for a, b in zip(seen, seen[1:], strict=False))
    where = seam.sample_filter(purchases, "customer_id", 50, seed=3)
    picked = set(seam.read_frame(purchases, ["customer_id"], where=where)["customer_id"])
    assert picked == set(seam.sample_keys(purchases, "customer_id", 50, seed=3)["customer_id"])
    assert seam.sample_filter(purchases, "customer_id", 10_000, seed=3) is None
