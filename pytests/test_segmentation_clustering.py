"""Clustering: recovers planted segments, picks their number, orders ids by value,
is reproducible, degrades without reviews, and describes clusters in words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clientele.segmentation import (
    CustomerFeatureScaler,
    SegmentClusterer,
    adjusted_rand_index,
    describe_clusters,
)

# Four planted segments: (recency days, orders, spend per order, review score, late share).
PLANTED = {
    "vip": (10, 12, 300.0, 4.8, 0.0),
    "new": (15, 1, 40.0, 4.5, 0.0),
    "lapsed": (400, 1, 30.0, 4.2, 0.0),
    "unhappy": (120, 1, 80.0, 1.3, 0.9),
}


def planted_customers(
    n_per_segment: int = 150, seed: int = 0, reviews: bool = True
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for name, (recency, orders, basket, score, late) in PLANTED.items():
        n = n_per_segment
        frequency = np.maximum(1, np.round(orders * rng.lognormal(0, 0.15, n))).astype(int)
        avg_basket = basket * rng.lognormal(0, 0.15, n)
        frame = pd.DataFrame({
            "segment": name,
            "recency_days": np.maximum(0, recency * rng.lognormal(0, 0.15, n)).round(),
            "frequency": frequency,
            "avg_basket": avg_basket,
            "monetary": frequency * avg_basket,
            "avg_review_score": np.clip(score + rng.normal(0, 0.2, n), 1, 5) if reviews else np.nan,
            "low_review_share": (score < 2.5) * np.clip(rng.normal(0.9, 0.05, n), 0, 1)
            if reviews else np.nan,
            "late_delivery_share": np.clip(late + rng.normal(0, 0.05, n), 0, 1),
        })
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def test_recovers_planted_segments_and_their_number() -> None:
    customers = planted_customers()
    model = SegmentClusterer(k_min=2, k_max=7, n_init=4, random_state=1).fit(customers)
    assert model.n_clusters_ == 4
    assert model.selection_["is_chosen"].sum() == 1
    labels = model.predict(customers)
    assert adjusted_rand_index(customers["segment"], labels) > 0.95


def test_cluster_ids_are_ordered_by_value() -> None:
    customers = planted_customers(seed=3)
    model = SegmentClusterer(n_clusters=4, n_init=4, random_state=0).fit(customers)
    labels = model.predict(customers)
    means = customers.groupby(labels)["monetary"].mean()
    assert list(means.index) == [1, 2, 3, 4]
    assert means.is_monotonic_decreasing
    # The VIP segment, by far the biggest spenders, is cluster 1.
    assert (labels[customers["segment"] == "vip"] == 1).mean() > 0.95


def test_fixed_seed_gives_identical_assignments() -> None:
    customers = planted_customers(seed=5)
    first = SegmentClusterer(n_clusters=4, n_init=3, random_state=7).fit_predict(customers)
    second = SegmentClusterer(n_clusters=4, n_init=3, random_state=7).fit_predict(customers)
    assert np.array_equal(first, second)


def test_frozen_model_scores_new_data_with_the_reference_scaling() -> None:
    reference = planted_customers(seed=1)
    model = SegmentClusterer(n_clusters=4, n_init=3, random_state=0).fit(reference)
    later = reference.copy()
    later["recency_days"] = later["recency_days"] + 10_000  # everyone lapsed since
    # The frozen scaler sees the shift (recency z-scores move), a refitted one would not.
    recency = model.scaler_.columns_.index("recency_days")
    shift = model.transform_features(later).mean(axis=0)[recency]
    assert shift > 2
    assert set(np.unique(model.predict(later))) <= {1, 2, 3, 4}


def test_missing_reviews_are_dropped_not_fatal() -> None:
    customers = planted_customers(reviews=False)
    scaler = CustomerFeatureScaler().fit(customers.drop(columns=["avg_review_score"]))
    assert "avg_review_score" in scaler.dropped_ and "low_review_share" in scaler.dropped_
    assert "avg_review_score" not in scaler.columns_
    model = SegmentClusterer(n_clusters=3, n_init=2).fit(customers)
    assert len(model.predict(customers)) == len(customers)


def test_missing_values_take_the_training_median() -> None:
    customers = planted_customers(seed=2)
    customers.loc[:9, "avg_review_score"] = np.nan
    x = CustomerFeatureScaler().fit_transform(customers)
    assert np.isfinite(x).all()


def test_too_few_distinct_customers_caps_k() -> None:
    customers = planted_customers(n_per_segment=1)
    model = SegmentClusterer(k_min=4, k_max=8, n_init=2).fit(customers)
    assert model.n_clusters_ <= 3


def test_profiles_read_like_marketing_segments() -> None:
    customers = planted_customers(seed=4)
    model = SegmentClusterer(n_clusters=4, n_init=4, random_state=0).fit(customers)
    labels = model.predict(customers)
    grouped = customers.groupby(labels)["frequency"]
    profiles = describe_clusters(
        model.cluster_centers_, grouped.apply(lambda f: (f >= 2).mean()), grouped.mean()
    ).set_index("cluster_id")
    by_segment = pd.Series(labels).groupby(customers["segment"]).agg(lambda s: s.mode()[0])
    vip, unhappy = profiles.loc[by_segment["vip"]], profiles.loc[by_segment["unhappy"]]
    lapsed = profiles.loc[by_segment["lapsed"]]
    assert "repeat" in vip["cluster_label"] and "high-spend" in vip["cluster_label"]
    assert vip["suggested_action"].startswith("VIP")
    assert "unhappy" in unhappy["cluster_label"]
    assert "recovery" in unhappy["suggested_action"].lower()
    assert lapsed["cluster_label"].startswith("Lapsed")
    assert profiles["cluster_label"].is_unique


@pytest.mark.parametrize("bad", [pd.DataFrame({"monetary": [1.0]})])
def test_refuses_a_single_customer(bad: pd.DataFrame) -> None:
    with pytest.raises(ValueError):
        SegmentClusterer().fit(bad)


def test_same_named_clusters_get_told_apart() -> None:
    centers = pd.DataFrame(
        {"recency_days": [0.0, 0.1, -1.0], "monetary": [-0.9, -2.0, 1.0]},
        index=pd.Index([1, 2, 3], name="cluster_id"),
    )
    share = pd.Series([0.0, 0.0, 1.0], index=centers.index)
    labels = describe_clusters(centers, share, share + 1).set_index("cluster_id")["cluster_label"]
    assert labels.is_unique
    assert labels[1].startswith("Low-spend one-time buyers")
    assert labels[1].endswith("higher net spend")
    assert labels[2].endswith("lower net spend")


def test_row_order_does_not_change_the_clusters() -> None:
    customers = planted_customers(seed=6)
    customers["customer_id"] = [f"C{i:05d}" for i in range(len(customers))]
    shuffled = customers.sample(frac=1.0, random_state=3)
    model_a = SegmentClusterer(k_min=3, k_max=5, n_init=2, random_state=0).fit(customers)
    model_b = SegmentClusterer(k_min=3, k_max=5, n_init=2, random_state=0).fit(shuffled)
    pd.testing.assert_frame_equal(model_a.selection_, model_b.selection_)
    assert np.array_equal(model_a.predict(customers), model_b.predict(customers))


def test_baseline_silhouette_does_not_depend_on_row_order() -> None:
    customers = planted_customers(seed=8)
    customers["customer_id"] = [f"C{i:05d}" for i in range(len(customers))]
    model = SegmentClusterer(n_clusters=4, n_init=2, silhouette_sample=200).fit(customers)
    shuffled = customers.sample(frac=1.0, random_state=1)
    assert model.silhouette_of(customers, customers["segment"].to_numpy()) == pytest.approx(
        model.silhouette_of(shuffled, shuffled["segment"].to_numpy())
    )
