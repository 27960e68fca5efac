"""Cluster of every buyer at each month end: refitted at that month end (same k,
same seeds) and given by the model frozen at the reference date. One KMeans fit per
month (a loop over months, not over customers); each month is read on its own with
only the clustering columns, so memory stays at one month of customers."""

import logging

import pandas as pd

from clientele.segmentation import CLUSTER_FEATURES, SegmentClusterer

log = logging.getLogger("clientele.segmentation")

COLUMNS = ", ".join(["snapshot_date", "customer_id", *(name for name, _ in CLUSTER_FEATURES)])


def model(dbt, session):
    dbt.config(materialized="table")
    selection = dbt.ref("cluster_model_selection").df()
    k = int(selection.loc[selection["is_chosen"], "k"].iloc[0])
    reference = dbt.ref("int_segmentation__reference_date").df()
    reference_date = pd.Timestamp(reference["reference_date"][0]).date()
    buyers = dbt.ref("int_segmentation__customer_snapshots").filter("is_month_end and is_buyer")
    month_list = buyers.project("snapshot_date").distinct().order("snapshot_date")
    months = [row[0] for row in month_list.fetchall()]
    min_buyers = int(dbt.config.get("min_buyers"))

    def clusterer():
        return SegmentClusterer(
            n_clusters=k,
            n_init=int(dbt.config.get("n_init")),
            random_state=int(dbt.config.get("seed")),
            max_fit_rows=int(dbt.config.get("max_fit_rows")),
        )

    def read_month(snapshot_date):
        month = buyers.filter(f"snapshot_date = date '{snapshot_date.isoformat()}'")
        return month.project(COLUMNS).order("customer_id").df()

    frozen = None
    reference_buyers = read_month(reference_date) if reference_date in months else pd.DataFrame()
    if k >= 2 and len(reference_buyers) >= max(min_buyers, k):
        frozen = clusterer().fit(reference_buyers)
    else:
        log.warning("cluster history: no frozen model (k=%d, %d buyers at %s)", k,
                    len(reference_buyers), reference_date)
    frames = []
    for snapshot_date in months:
        month = read_month(snapshot_date)
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
    log.info("cluster history: %d month ends, k=%d, reference %s", len(frames), k, reference_date)
    if not frames:
        return pd.DataFrame({
            "snapshot_date": pd.Series(dtype="datetime64[ns]"),
            "customer_id": pd.Series(dtype="object"),
            "cluster_id_refit": pd.Series(dtype="Int64"),
            "cluster_id_frozen": pd.Series(dtype="Int64"),
        })
    result = pd.concat(frames, ignore_index=True)
    result["snapshot_date"] = pd.to_datetime(result["snapshot_date"]).dt.date
    result["cluster_id_refit"] = result["cluster_id_refit"].astype("Int64")
    result["cluster_id_frozen"] = result["cluster_id_frozen"].astype("Int64")
    return result
