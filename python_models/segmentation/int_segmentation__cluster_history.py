"""Cluster of every buyer at each month end: refitted at that month end (same k,
same seeds) and given by the model frozen at the reference date. One KMeans fit per
month (a loop over months, not over customers)."""

import logging

import pandas as pd

from clientele.segmentation import SegmentClusterer

log = logging.getLogger("clientele.segmentation")


def model(dbt, session):
    dbt.config(materialized="table")
    selection = dbt.ref("cluster_model_selection").df()
    k = int(selection.loc[selection["is_chosen"], "k"].iloc[0])
    reference = dbt.ref("int_segmentation__reference_date").df()
    reference_date = pd.Timestamp(reference["reference_date"][0])
    history = dbt.ref("int_segmentation__customer_scores").filter("is_month_end and is_buyer").df()
    history["snapshot_date"] = pd.to_datetime(history["snapshot_date"])
    min_buyers = int(dbt.config.get("min_buyers"))

    def clusterer():
        return SegmentClusterer(
            n_clusters=k,
            n_init=int(dbt.config.get("n_init")),
            random_state=int(dbt.config.get("seed")),
            max_fit_rows=int(dbt.config.get("max_fit_rows")),
        )

    frames = []
    frozen = None
    reference = history[history["snapshot_date"] == reference_date]
    if k >= 2 and len(reference) >= max(min_buyers, k):
        frozen = clusterer().fit(reference)
    else:
        log.warning("cluster history: no frozen model (k=%d, %d buyers at %s)", k, len(reference),
                    reference_date.date())
    for snapshot_date, month in history.groupby("snapshot_date", sort=True):
        month = month.reset_index(drop=True)
        out = pd.DataFrame({"snapshot_date": snapshot_date, "customer_id": month["customer_id"]})
        if k >= 2 and len(month) >= max(min_buyers, k):
            out["cluster_id_refit"] = clusterer().fit_predict(month)
        else:
            out["cluster_id_refit"] = pd.NA
        if frozen is not None and snapshot_date >= reference_date:
            out["cluster_id_frozen"] = frozen.predict(month)
        else:
            out["cluster_id_frozen"] = pd.NA
        frames.append(out)
    log.info("cluster history: %d month ends, k=%d, reference %s", len(frames), k,
             reference_date.date())
    if not frames:
        return pd.DataFrame({
            "snapshot_date": pd.Series(dtype="datetime64[ns]"),
            "customer_id": pd.Series(dtype="object"),
            "cluster_id_refit": pd.Series(dtype="Int64"),
            "cluster_id_frozen": pd.Series(dtype="Int64"),
        })
    result = pd.concat(frames, ignore_index=True)
    result["snapshot_date"] = result["snapshot_date"].dt.date
    result["cluster_id_refit"] = result["cluster_id_refit"].astype("Int64")
    result["cluster_id_frozen"] = result["cluster_id_frozen"].astype("Int64")
    return result
