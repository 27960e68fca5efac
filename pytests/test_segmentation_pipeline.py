"""Segmentation entry points without dbt: the choice of k with its RFM-group baseline, every
customer's cluster and the month-end history, on synthetic snapshots read through DuckDB.
Scoring in batches gives what one batch gives, a bounded training sample is a seeded draw,
and a dataset with too few buyers or none still gives typed outputs."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from clientele import seam
from clientele.segmentation import SegmentClusterer, adjusted_rand_index, pipeline
from clientele.segmentation.settings import SegmentationSettings

# Planted segments: (recency days, orders, spend per order, review score, late share).
PLANTED = {
    "vip": (10, 12, 300.0, 4.8, 0.0),
    "new": (15, 1, 40.0, 4.5, 0.0),
    "lapsed": (400, 1, 30.0, 4.2, 0.0),
    "unhappy": (120, 1, 80.0, 1.3, 0.9),
}
MONTHS = [dt.date(2024, 1, 31), dt.date(2024, 2, 29), dt.date(2024, 3, 31)]
AS_OF = dt.date(2024, 3, 31)
FAST = SegmentationSettings(k_min=2, k_max=6, n_init=3, seed=3, silhouette_sample=500)


def customers_at(snapshot_date: dt.date, n_per_segment: int, n_prospects: int, seed: int,
                 drift: float = 0.0) -> pd.DataFrame:
    """One snapshot: buyers of the four planted segments (features a little noisier and
    more lapsed with ``drift``) and prospects without purchase."""
    rng = np.random.default_rng(seed)
    frames = []
    for name, (recency, orders, basket, score, late) in PLANTED.items():
        n = n_per_segment
        frequency = np.maximum(1, np.round(orders * rng.lognormal(0, 0.15, n))).astype(int)
        avg_basket = basket * rng.lognormal(0, 0.15, n)
        frames.append(pd.DataFrame({
            "customer_id": [f"{name}-{i:04d}" for i in range(n)],
            "rfm_group": rng.choice(["Champions", "Loyal", "At risk"], n),
            "is_buyer": True,
            "recency_days": np.round(recency * (1 + drift) * rng.lognormal(0, 0.15, n)),
            "frequency": frequency,
            "monetary": frequency * avg_basket,
            "avg_basket": avg_basket,
            "avg_review_score": np.clip(score + rng.normal(0, 0.2, n), 1, 5),
            "low_review_share": (score < 2.5) * np.clip(rng.normal(0.9, 0.05, n), 0, 1),
            "late_delivery_share": np.clip(late + rng.normal(0, 0.05, n), 0, 1),
        }))
    frames.append(pd.DataFrame({
        "customer_id": [f"prospect-{i:04d}" for i in range(n_prospects)],
        "rfm_group": "Prospects", "is_buyer": False, "frequency": 0, "monetary": 0.0,
    }))
    frame = pd.concat(frames, ignore_index=True)
    frame["snapshot_date"] = snapshot_date
    return frame


def snapshots(n_per_segment: int = 60, n_prospects: int = 15) -> pd.DataFrame:
    """Month ends (the last one is also as_of) in shuffled row order, as a warehouse
    may return them."""
    frames = [customers_at(month, n_per_segment, n_prospects, seed=i, drift=0.1 * i)
              for i, month in enumerate(MONTHS)]
    frame = pd.concat(frames, ignore_index=True)
    frame["is_month_end"] = True
    frame["is_as_of"] = frame["snapshot_date"] == AS_OF
    return frame.sample(frac=1.0, random_state=0).reset_index(drop=True)


def as_of(date: dt.date | None = AS_OF) -> pd.DataFrame:
    return pd.DataFrame({"as_of_date": [date]})


def reference(date: dt.date = MONTHS[1]) -> pd.DataFrame:
    return pd.DataFrame({"reference_date": [date]})


def read(output: pa.Table | pa.RecordBatchReader) -> pd.DataFrame:
    table = output.read_all() if isinstance(output, pa.RecordBatchReader) else output
    return table.to_pandas()


def sorted_frame(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    return snapshots()


@pytest.fixture(scope="module")
def selection(history: pd.DataFrame) -> pa.Table:
    return pipeline.choose_k(history, as_of(), FAST)


# --------------------------------------------------------------------------- choice of k


def test_choice_of_k_finds_the_planted_segments_and_beats_the_rfm_groups(
        selection: pa.Table, history: pd.DataFrame) -> None:
    assert selection.schema == pipeline.SELECTION_SCHEMA
    table = selection.to_pandas()
    kmeans = table[table["labelling"] == "kmeans"]
    assert list(kmeans["k"]) == [2, 3, 4, 5, 6]
    assert pipeline.chosen_k(selection) == 4
    baseline = table[table["labelling"] == "rfm_groups"].iloc[0]
    chosen = kmeans[kmeans["is_chosen"]].iloc[0]
    # The random RFM groups separate nothing; the planted segments are well apart.
    assert chosen["silhouette"] > 0.5 > 0.1 > baseline["silhouette"]
    buyers = int((history["is_as_of"] & history["is_buyer"]).sum())
    assert (table["n_customers"] == buyers).all() and (table["n_fitted"] == buyers).all()
    assert (table["as_of_date"] == AS_OF).all()


def test_choice_of_k_trains_on_a_bounded_seeded_sample(history: pd.DataFrame) -> None:
    capped = SegmentationSettings(**{**FAST.to_dict(), "max_fit_rows": 150})
    first = pipeline.choose_k(history, as_of(), capped).to_pandas()
    shuffled = history.sample(frac=1.0, random_state=1).reset_index(drop=True)
    again = pipeline.choose_k(shuffled, as_of(), capped).to_pandas()
    assert (first["n_fitted"] == 150).all() and (first["n_customers"] == 240).all()
    pd.testing.assert_frame_equal(first, again)


def test_too_few_buyers_choose_one_cluster(history: pd.DataFrame) -> None:
    few = history[~history["is_buyer"] | history["customer_id"].str.endswith("-0001")]
    table = pipeline.choose_k(few, as_of(), FAST)
    assert table.schema == pipeline.SELECTION_SCHEMA
    row = table.to_pandas().iloc[0]
    assert len(table) == 1 and row["k"] == 1 and row["is_chosen"]
    assert "too few buyers (4 < 30)" in row["reason"]


# --------------------------------------------------------------------------- customers at as_of


def test_every_customer_gets_a_cluster_and_words(selection: pa.Table,
                                                 history: pd.DataFrame) -> None:
    out = read(pipeline.cluster_customers(history, selection, FAST))
    at_as_of = history[history["is_as_of"]]
    assert sorted(out["customer_id"]) == sorted(at_as_of["customer_id"])
    prospects = out["customer_id"].str.startswith("prospect")
    assert (out.loc[prospects, "cluster_id"] == 0).all()
    assert (out.loc[prospects, "cluster_label"] == pipeline.PROSPECTS[0]).all()
    assert set(out.loc[~prospects, "cluster_id"]) == {1, 2, 3, 4}
    assert out[pipeline.DESCRIPTIONS].notna().all().all()
    assert (out["n_clusters"] == 4).all() and (out["as_of_date"] == AS_OF).all()
    segment = out.loc[~prospects, "customer_id"].str.split("-").str[0]
    assert adjusted_rand_index(segment, out.loc[~prospects, "cluster_id"]) > 0.95
    vip = out.loc[out["customer_id"].str.startswith("vip"), "cluster_id"].mode()[0]
    assert vip == 1  # the highest spenders are cluster 1


def test_customer_clusters_equal_a_fit_on_all_buyers_below_the_cap(
        selection: pa.Table, history: pd.DataFrame) -> None:
    out = sorted_frame(read(pipeline.cluster_customers(history, selection, FAST)),
                       ["customer_id"])
    buyers = history[history["is_as_of"] & history["is_buyer"]]
    direct = SegmentClusterer.from_settings(FAST, n_clusters=4).fit(buyers)
    expected = pd.Series(direct.predict(buyers), index=buyers["customer_id"]).sort_index()
    got = out.set_index("customer_id").loc[expected.index, "cluster_id"]
    assert np.array_equal(got.to_numpy(), expected.to_numpy())


def test_batched_scoring_equals_one_batch(selection: pa.Table, history: pd.DataFrame) -> None:
    small = SegmentationSettings(**{**FAST.to_dict(), "batch_rows": 37})
    whole = SegmentationSettings(**{**FAST.to_dict(), "batch_rows": 10**6})
    for run, keys in ((pipeline.cluster_customers, ["customer_id"]),
                      (pipeline.cluster_history, ["snapshot_date", "customer_id"])):
        args = (history, selection, reference()) if run is pipeline.cluster_history else (
            history, selection)
        batched = sorted_frame(read(run(*args, settings=small)), keys)  # type: ignore[operator]
        one = sorted_frame(read(run(*args, settings=whole)), keys)  # type: ignore[operator]
        assert len(one) > 37
        pd.testing.assert_frame_equal(batched, one)


def test_too_few_buyers_put_every_buyer_in_one_cluster(history: pd.DataFrame) -> None:
    one_cluster = pipeline.choose_k(history.iloc[:0], as_of(), FAST)
    out = read(pipeline.cluster_customers(history, one_cluster, FAST))
    buyers = out["customer_id"].str.startswith("prospect") == False  # noqa: E712
    assert (out.loc[buyers, "cluster_id"] == 1).all()
    assert (out.loc[buyers, "cluster_label"] == pipeline.ALL_BUYERS[0]).all()
    assert (out.loc[~buyers, "cluster_id"] == 0).all() and (out["n_clusters"] == 1).all()


def test_no_customer_gives_a_typed_empty_table(selection: pa.Table,
                                               history: pd.DataFrame) -> None:
    empty = history.iloc[:0]
    customers = pipeline.cluster_customers(empty, selection, FAST).read_all()
    assert customers.schema == pipeline.CUSTOMER_CLUSTERS_SCHEMA and customers.num_rows == 0
    months = pipeline.cluster_history(empty, selection, reference(), FAST)
    assert months.schema == pipeline.CLUSTER_HISTORY_SCHEMA and read(months).empty
    assert pipeline.choose_k(empty, as_of(None), FAST).schema == pipeline.SELECTION_SCHEMA


# --------------------------------------------------------------------------- month-end history


def test_history_refits_each_month_and_freezes_the_reference_model(
        selection: pa.Table, history: pd.DataFrame) -> None:
    out = read(pipeline.cluster_history(history, selection, reference(), FAST))
    buyers = history[history["is_buyer"]]
    assert len(out) == len(buyers)
    assert out.duplicated(["snapshot_date", "customer_id"]).sum() == 0
    assert out["cluster_id_refit"].notna().all()
    before = out["snapshot_date"] < MONTHS[1]
    assert out.loc[before, "cluster_id_frozen"].isna().all()
    assert out.loc[~before, "cluster_id_frozen"].notna().all()
    at_reference = out[out["snapshot_date"] == MONTHS[1]]
    # At the reference date the frozen model is that month's refit.
    assert (at_reference["cluster_id_frozen"] == at_reference["cluster_id_refit"]).all()
    later = out[out["snapshot_date"] == MONTHS[2]]
    assert adjusted_rand_index(later["cluster_id_frozen"], later["cluster_id_refit"]) > 0.8


def test_history_months_with_too_few_buyers_are_null(selection: pa.Table,
                                                     history: pd.DataFrame) -> None:
    first = history["snapshot_date"] == MONTHS[0]
    thin = history[~first | history["customer_id"].str.endswith("-0001")]
    table = pipeline.cluster_history(thin, selection, reference(), FAST).read_all()
    assert table.schema == pipeline.CLUSTER_HISTORY_SCHEMA
    out = table.to_pandas()
    in_first = out["snapshot_date"] == MONTHS[0]
    assert in_first.sum() == 4 and out.loc[in_first, "cluster_id_refit"].isna().all()
    assert out.loc[~in_first, "cluster_id_refit"].notna().all()


def test_history_is_streamed_from_relations_as_dbt_materialises_it(
        selection: pa.Table, history: pd.DataFrame) -> None:
    """dbt-duckdb reads refs on the model's connection and writes the returned reader
    through a cursor of it; the generator then reads while DuckDB writes."""
    con = duckdb.connect()
    con.register("history_frame", history)
    con.execute("create table snapshots as select * from history_frame")
    con.register("reference_frame", reference())
    con.execute("create table reference_dates as select * from reference_frame")
    small = SegmentationSettings(**{**FAST.to_dict(), "batch_rows": 50})
    reader = pipeline.cluster_history(con.table("snapshots"), seam.as_relation(selection),
                                      con.table("reference_dates"), small)
    cursor = con.cursor()
    cursor.register("history_reader", reader)
    cursor.execute("create table cluster_history as select * from history_reader")
    written = sorted_frame(con.table("cluster_history").df(), ["snapshot_date", "customer_id"])
    direct = sorted_frame(read(pipeline.cluster_history(history, selection, reference(), FAST)),
                          ["snapshot_date", "customer_id"])
    assert len(written) == len(direct)
    assert (written["customer_id"] == direct["customer_id"]).all()
    assert (written["cluster_id_refit"].to_numpy() == direct["cluster_id_refit"].to_numpy()).all()


def test_scoring_agrees_with_kmeans_predict(history: pd.DataFrame) -> None:
    """predict finds the nearest centre itself (row by row, batch-independent): it must
    give what scikit-learn's KMeans.predict gives on the same scaled features."""
    buyers = history[history["is_buyer"]].reset_index(drop=True)
    model = SegmentClusterer.from_settings(FAST, n_clusters=4).fit(buyers)
    by_sklearn = model.rank_of_label_[model.kmeans_.predict(model.transform_features(buyers))]
    assert np.array_equal(model.predict(buyers), by_sklearn)
    raw = model.scaler_.raw_matrix(buyers)
    halves = np.concatenate([model.predict_raw(raw[:101]), model.predict_raw(raw[101:])])
    assert np.array_equal(halves, by_sklearn)
