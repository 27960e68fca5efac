"""One row per customer known at as_of: cluster id (1 = most valuable, 0 = prospect),
label and suggested action. KMeans with the k chosen in cluster_model_selection."""

import logging

import numpy as np
import pandas as pd

from clientele.segmentation import SegmentClusterer, describe_clusters

log = logging.getLogger("clientele.segmentation")

PROSPECTS = {
    "cluster_label": "Prospects (no purchase yet)",
    "cluster_description": "Known to the brand, no completed purchase",
    "suggested_action": "First-purchase welcome offer to opted-in contacts",
}


def model(dbt, session):
    dbt.config(materialized="table")
    scores = dbt.ref("int_segmentation__customer_scores").filter("is_as_of").df()
    selection = dbt.ref("cluster_model_selection").df()
    k = int(selection.loc[selection["is_chosen"], "k"].iloc[0])
    buyers = scores[scores["is_buyer"]].reset_index(drop=True)
    out = scores[["customer_id", "snapshot_date"]].rename(columns={"snapshot_date": "as_of_date"})
    out["cluster_id"] = 0
    for column, value in PROSPECTS.items():
        out[column] = value
    if k >= 2 and len(buyers) >= k:
        clusterer = SegmentClusterer(
            n_clusters=k,
            n_init=int(dbt.config.get("n_init")),
            random_state=int(dbt.config.get("seed")),
            max_fit_rows=int(dbt.config.get("max_fit_rows")),
        ).fit(buyers)
        labels = clusterer.predict(buyers)
        by_cluster = buyers.groupby(labels)["frequency"]
        described = describe_clusters(
            clusterer.cluster_centers_,
            repeat_share=by_cluster.apply(lambda f: (f >= 2).mean()),
            mean_frequency=by_cluster.mean(),
        ).set_index("cluster_id")
    else:
        log.warning("customer_clusters: k=%d, every buyer in one cluster", k)
        labels = np.ones(len(buyers), dtype=np.int64)
        described = pd.DataFrame(
            [{"cluster_id": 1, "cluster_label": "All buyers",
              "cluster_description": "Too few buyers to cluster",
              "suggested_action": "Regular newsletter"}]
        ).set_index("cluster_id")
    buyer_labels = pd.Series(labels, index=buyers["customer_id"].to_numpy())
    is_buyer = out["customer_id"].isin(buyer_labels.index)
    buyer_ids = out.loc[is_buyer, "customer_id"]
    out.loc[is_buyer, "cluster_id"] = buyer_labels.reindex(buyer_ids).to_numpy()
    for column in PROSPECTS:
        mapped = out.loc[is_buyer, "cluster_id"].map(described[column])
        out.loc[is_buyer, column] = mapped.to_numpy()
    out["cluster_id"] = out["cluster_id"].astype("int64")
    out["n_clusters"] = k
    out["as_of_date"] = pd.to_datetime(out["as_of_date"]).dt.date
    log.info("customer_clusters: %d customers, %d buyers in %d clusters", len(out), len(buyers), k)
    return out
