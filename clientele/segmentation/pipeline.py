"""Segmentation's entry points, one per dbt Python model of ``python_models/segmentation/``:

- :func:`choose_k`: silhouette and resampling stability of each k at as_of, the chosen k,
  and the RFM groups' silhouette on the same scaled features as the baseline
  (``int_segmentation__cluster_model_selection``);
- :func:`cluster_customers`: the cluster of every customer known at as_of (0 = prospect),
  with its label, description and suggested action (``int_segmentation__customer_clusters``);
- :func:`cluster_history`: the cluster of every buyer at each month end, from the model
  refitted then and from the model frozen at the reference date
  (``int_segmentation__cluster_history``).

Memory is bounded by the settings, not by the number of clients: the choice of k and every
KMeans fit see at most ``max_fit_rows`` buyers, drawn in DuckDB by a seeded hash of the
customer id (:func:`clientele.seam.sample_rows`: all of them, in id order, when there are
fewer, so small brands are fitted exactly as before sampling existed); every customer is
then scored in Arrow batches of ``batch_rows`` and the per-customer outputs are streamed
(:func:`clientele.seam.stream`). Scoring a customer depends only on the fitted scaler and
centres, so the batch size never changes a result.

Inputs are DuckDB relations (``dbt.ref``) or, in tests and notebooks, pandas frames or
Arrow tables with the same columns.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa

from clientele import seam
from clientele.segmentation.clustering import (
    CLUSTER_FEATURES,
    CustomerFeatureScaler,
    SegmentClusterer,
)
from clientele.segmentation.profiles import describe_clusters
from clientele.segmentation.settings import SegmentationSettings

AREA = "segmentation"
LOG = seam.get_logger(AREA)
FEATURES = [name for name, _ in CLUSTER_FEATURES]
AS_OF_BUYERS = "is_as_of and is_buyer"
MONTH_END_BUYERS = "is_month_end and is_buyer"

SELECTION_SCHEMA = seam.fields(
    ("labelling", pa.string()),
    ("k", pa.int32()),
    ("silhouette", pa.float64()),
    ("stability_ari", pa.float64()),
    ("inertia", pa.float64()),
    ("is_chosen", pa.bool_()),
    ("reason", pa.string()),
    ("n_customers", pa.int64()),
    ("n_fitted", pa.int64()),
    ("features_used", pa.string()),
    ("as_of_date", pa.date32()),
)
CUSTOMER_CLUSTERS_SCHEMA = seam.fields(
    ("customer_id", pa.string()),
    ("as_of_date", pa.date32()),
    ("cluster_id", pa.int32()),
    ("cluster_label", pa.string()),
    ("cluster_description", pa.string()),
    ("suggested_action", pa.string()),
    ("n_clusters", pa.int32()),
)
CLUSTER_HISTORY_SCHEMA = seam.fields(
    ("snapshot_date", pa.date32()),
    ("customer_id", pa.string()),
    ("cluster_id_refit", pa.int32()),
    ("cluster_id_frozen", pa.int32()),
)
DESCRIPTIONS = ["cluster_label", "cluster_description", "suggested_action"]
#: Cluster 0: customers without a paid purchase, who have nothing to cluster on: prospects
#: (never ordered) and clients whose orders were all returns or zero-priced, whom the RFM
#: group tells apart (rfm_group Prospects / Refunds or free items only) because they call
#: for different actions.
PROSPECTS = ("No paid purchase yet",
             "Known to the brand, no paid purchase: prospects who never ordered, and clients "
             "whose orders were all returns or zero-priced (see rfm_group)",
             "Prospects: first-purchase welcome offer to opted-in contacts; refunds or free "
             "items only: no offer, customer service checks the account first")
#: Cluster 1 of every buyer when there are too few buyers (or distinct profiles) for k >= 2.
ALL_BUYERS = ("All buyers", "Too few buyers to cluster", "Regular newsletter")


def _date(value: object) -> np.datetime64:
    return np.datetime64(pd.Timestamp(value).date(), "D")


def _fit_sample(source: seam.Source, settings: SegmentationSettings, where: str,
                n_buyers: int, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """The buyers a fit is trained on: all of them up to max_fit_rows, else a seeded draw."""
    return seam.sample_rows(source, "customer_id", settings.max_fit_rows, settings.seed,
                            columns=["customer_id", *FEATURES, *extra], where=where,
                            size=n_buyers)


def _raw_features(batch: pa.RecordBatch) -> np.ndarray:
    """The clustering features of a batch as CustomerFeatureScaler.raw_matrix gives them."""
    return CustomerFeatureScaler().raw_matrix(batch.select(FEATURES).to_pandas())


def chosen_k(selection: seam.Source) -> int:
    """The k marked chosen in a cluster model selection."""
    chosen = seam.read_frame(selection, ["k"], where="is_chosen and labelling = 'kmeans'")
    if chosen.empty:
        raise ValueError("the cluster model selection has no chosen k")
    return int(chosen["k"].iloc[0])


# --------------------------------------------------------------------------- choice of k


@seam.bounded_threads()
def choose_k(scores: seam.Source, as_of: seam.Source,
             settings: SegmentationSettings | None = None) -> pa.Table:
    """One row per k tried (silhouette, stability, inertia, the chosen one) and a last row
    with the RFM groups' silhouette on the same scaled features, the baseline the clusters
    should beat. One row with k = 1 when there are fewer than min_buyers buyers.

    ``scores``: int_segmentation__customer_scores (customer_id, is_as_of, is_buyer, the
    clustering features, rfm_group); ``as_of``: int_as_of.
    """
    settings = settings or SegmentationSettings()
    as_of_date = seam.read_frame(as_of, ["as_of_date"])["as_of_date"].iloc[0]
    n_buyers = seam.count_rows(scores, AS_OF_BUYERS)
    if n_buyers < settings.min_buyers:
        LOG.warning("cluster selection skipped: %d buyers < %d", n_buyers, settings.min_buyers)
        table = pd.DataFrame([{
            "labelling": "kmeans", "k": 1, "silhouette": None, "stability_ari": None,
            "inertia": None, "is_chosen": True,
            "reason": f"too few buyers ({n_buyers} < {settings.min_buyers}): one cluster",
            "n_fitted": 0, "features_used": "",
        }])
    else:
        sample = _fit_sample(scores, settings, AS_OF_BUYERS, n_buyers, extra=("rfm_group",))
        LOG.info("cluster selection: %d buyers, fitted on %d", n_buyers, len(sample))
        clusterer = SegmentClusterer.from_settings(settings).fit(sample)
        baseline = pd.DataFrame([{
            "labelling": "rfm_groups", "k": sample["rfm_group"].nunique(),
            "silhouette": clusterer.silhouette_of(sample, sample["rfm_group"].to_numpy()),
            "stability_ari": np.nan, "inertia": np.nan, "is_chosen": False,
            "reason": "baseline: RFM groups on the same scaled features",
        }])
        table = pd.concat([clusterer.selection_.assign(labelling="kmeans"), baseline],
                          ignore_index=True)
        table["n_fitted"] = len(sample)
        table["features_used"] = ", ".join(clusterer.scaler_.columns_)
    table["n_customers"] = n_buyers
    table["as_of_date"] = as_of_date
    return seam.to_table(table, SELECTION_SCHEMA)


# --------------------------------------------------------------------------- customers at as_of


def _descriptions(clusterer: SegmentClusterer, snapshots: seam.Source,
                  settings: SegmentationSettings) -> pd.DataFrame:
    """Label, description and action of clusters 1..k, from their centres and the repeat
    share and mean order count of *every* buyer assigned to them (one batched pass)."""
    k = clusterer.n_clusters_
    buyers = np.zeros(k + 1)
    repeat = np.zeros(k + 1)
    orders = np.zeros(k + 1)
    with_orders = np.zeros(k + 1)
    for batch in seam.iter_frames(snapshots, settings.batch_rows, FEATURES, where=AS_OF_BUYERS):
        labels = clusterer.predict(batch)
        frequency = pd.to_numeric(batch["frequency"], errors="coerce").to_numpy(float)
        known = np.isfinite(frequency)
        buyers += np.bincount(labels, minlength=k + 1)
        repeat += np.bincount(labels, weights=frequency >= 2, minlength=k + 1)
        orders += np.bincount(labels[known], weights=frequency[known], minlength=k + 1)
        with_orders += np.bincount(labels[known], minlength=k + 1)
    ids = pd.Index(np.arange(1, k + 1), name="cluster_id")
    with np.errstate(invalid="ignore", divide="ignore"):
        repeat_share = pd.Series(repeat[1:] / buyers[1:], index=ids)
        mean_frequency = pd.Series(orders[1:] / with_orders[1:], index=ids)
    return describe_clusters(clusterer.cluster_centers_, repeat_share, mean_frequency)


@seam.bounded_threads()
def cluster_customers(snapshots: seam.Source, selection: seam.Source,
                      settings: SegmentationSettings | None = None) -> pa.RecordBatchReader:
    """Cluster of every customer known at as_of (1 = highest mean net spend, 0 = prospect)
    with its label, description and suggested action, streamed in batches.

    ``snapshots``: int_segmentation__customer_snapshots (customer_id, snapshot_date,
    is_as_of, is_buyer, the clustering features); ``selection``: the cluster model
    selection (its chosen k).
    """
    settings = settings or SegmentationSettings()
    k = chosen_k(selection)
    n_buyers = seam.count_rows(snapshots, AS_OF_BUYERS)
    clusterer: SegmentClusterer | None = None
    if k >= 2 and n_buyers >= k:
        sample = _fit_sample(snapshots, settings, AS_OF_BUYERS, n_buyers)
        clusterer = SegmentClusterer.from_settings(settings, n_clusters=k).fit(sample)
        described = _descriptions(clusterer, snapshots, settings)
        texts = [PROSPECTS, *described[DESCRIPTIONS].itertuples(index=False, name=None)]
        LOG.info("customer clusters: %d buyers in %d clusters (fitted on %d)", n_buyers,
                 clusterer.n_clusters_, len(sample))
    else:
        LOG.warning("customer clusters: k=%d and %d buyers, every buyer in one cluster", k,
                    n_buyers)
        texts = [PROSPECTS, ALL_BUYERS]
    # Column i of the lookup holds the words of cluster i.
    lookup = [pa.array([row[i] for row in texts], pa.string()) for i in range(len(DESCRIPTIONS))]

    def parts() -> Iterator[pa.Table]:
        for batch in seam.iter_batches(
                snapshots, settings.batch_rows,
                ["customer_id", "snapshot_date", "is_buyer", *FEATURES], where="is_as_of"):
            is_buyer = batch.column("is_buyer").to_numpy(zero_copy_only=False).astype(bool)
            cluster_id = np.zeros(batch.num_rows, dtype=np.int32)
            if clusterer is not None and is_buyer.any():
                features = batch.select(FEATURES).to_pandas()
                cluster_id[is_buyer] = clusterer.predict(features[is_buyer])
            else:
                cluster_id[is_buyer] = 1
            index = pa.array(cluster_id)
            yield pa.table({
                "customer_id": batch.column("customer_id"),
                "as_of_date": batch.column("snapshot_date"),
                "cluster_id": index,
                **{name: words.take(index) for name, words in zip(DESCRIPTIONS, lookup,
                                                                  strict=True)},
                "n_clusters": pa.array(np.full(batch.num_rows, k, dtype=np.int32)),
            })

    return seam.stream(CUSTOMER_CLUSTERS_SCHEMA, parts())


# --------------------------------------------------------------------------- month-end history


@seam.bounded_threads()
def cluster_history(snapshots: seam.Source, selection: seam.Source, reference: seam.Source,
                    settings: SegmentationSettings | None = None
                    ) -> pa.RecordBatchReader | pa.Table:
    """Cluster of every buyer at each month end: from KMeans refitted at that month end
    (the chosen k, same seeds) and from the model (scaler and centres) frozen at the
    reference date, from that date on. Null when a month has fewer than min_buyers buyers.

    ``snapshots``: int_segmentation__customer_snapshots (snapshot_date, customer_id,
    is_month_end, is_buyer, the clustering features); ``selection``: the cluster model
    selection; ``reference``: int_segmentation__reference_date.
    """
    settings = settings or SegmentationSettings()
    k = chosen_k(selection)
    reference_dates = seam.read_frame(reference, ["reference_date"])["reference_date"].dropna()
    reference_date = _date(reference_dates.iloc[0]) if len(reference_dates) else None
    months = (seam.as_relation(snapshots).filter(MONTH_END_BUYERS)
              .aggregate("snapshot_date, count(*) as n_buyers", "snapshot_date")
              .order("snapshot_date").df())
    if months.empty:
        LOG.warning("cluster history: no buyer at any month end")
        return seam.empty_table(CLUSTER_HISTORY_SCHEMA)
    # One model per month end, each fitted on a bounded sample (drawn for every month in
    # one pass): a loop over months, not over customers. The reference month's refit is
    # the frozen model (same rows, same seeds).
    fitted = months[(months["n_buyers"] >= max(settings.min_buyers, k))] if k >= 2 else (
        months.iloc[:0])
    samples = seam.sample_rows_per(
        snapshots, "customer_id", "snapshot_date", settings.max_fit_rows, settings.seed,
        columns=["snapshot_date", "customer_id", *FEATURES],
        where=f"{MONTH_END_BUYERS} and snapshot_date in "
              f"({', '.join(seam.sql_literal(d) for d in fitted['snapshot_date'])})",
    ) if len(fitted) else pd.DataFrame(columns=["snapshot_date"])
    refits: dict[np.datetime64, SegmentClusterer] = {}
    for snapshot_date, sample in samples.groupby("snapshot_date", sort=True):
        refits[_date(snapshot_date)] = SegmentClusterer.from_settings(
            settings, n_clusters=k).fit(sample)
        LOG.info("cluster history: refitted %s on %d buyers", _date(snapshot_date),
                 len(sample))
    frozen = refits.get(reference_date) if reference_date is not None else None
    if frozen is None:
        LOG.warning("cluster history: no frozen model (k=%d, reference %s)", k, reference_date)
    LOG.info("cluster history: %d month ends, k=%d, reference %s; scoring %d buyer-months",
             len(months), k, reference_date, int(months["n_buyers"].sum()))

    def parts() -> Iterator[pa.Table]:
        # One scan; each batch is put in month order so that every model scores one
        # contiguous slice of it.
        for batch in seam.iter_batches(snapshots, settings.batch_rows,
                                       ["snapshot_date", "customer_id", *FEATURES],
                                       where=MONTH_END_BUYERS):
            dates = batch.column("snapshot_date").to_numpy(zero_copy_only=False)
            order = np.argsort(dates, kind="stable")
            batch, dates = batch.take(pa.array(order)), dates[order]
            raw = _raw_features(batch)
            refit = np.zeros(batch.num_rows, dtype=np.int32)
            frozen_ids = np.zeros(batch.num_rows, dtype=np.int32)
            has_refit = np.zeros(batch.num_rows, dtype=bool)
            has_frozen = np.zeros(batch.num_rows, dtype=bool)
            months_in_batch, starts = np.unique(dates, return_index=True)
            for month, start, stop in zip(months_in_batch, starts,
                                          [*starts[1:], batch.num_rows], strict=True):
                month = month.astype("datetime64[D]")
                if month in refits:
                    refit[start:stop] = refits[month].predict_raw(raw[start:stop])
                    has_refit[start:stop] = True
                if frozen is not None and month >= reference_date:
                    frozen_ids[start:stop] = frozen.predict_raw(raw[start:stop])
                    has_frozen[start:stop] = True
            yield pa.table({
                "snapshot_date": batch.column("snapshot_date"),
                "customer_id": batch.column("customer_id"),
                "cluster_id_refit": pa.array(refit, mask=~has_refit),
                "cluster_id_frozen": pa.array(frozen_ids, mask=~has_frozen),
            })

    return seam.stream(CLUSTER_HISTORY_SCHEMA, parts())

