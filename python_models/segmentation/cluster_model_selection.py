"""Choose k for the customer clusters: silhouette and stability per k at as_of."""

import logging

import pandas as pd

from clientele.segmentation import SegmentClusterer

log = logging.getLogger("clientele.segmentation")

COLUMNS = ["labelling", "k", "silhouette", "stability_ari", "inertia", "is_chosen", "reason",
           "n_customers", "features_used", "as_of_date"]


def clusterer_from_config(dbt, n_clusters=None):
    return SegmentClusterer(
        n_clusters=n_clusters,
        k_min=int(dbt.config.get("k_min")),
        k_max=int(dbt.config.get("k_max")),
        n_init=int(dbt.config.get("n_init")),
        random_state=int(dbt.config.get("seed")),
        max_fit_rows=int(dbt.config.get("max_fit_rows")),
        min_stability=float(dbt.config.get("min_stability")),
    )


def model(dbt, session):
    dbt.config(materialized="table")
    as_of = dbt.ref("int_as_of").df()["as_of_date"][0]
    buyers = dbt.ref("int_segmentation__customer_scores").filter("is_as_of and is_buyer").df()
    min_buyers = int(dbt.config.get("min_buyers"))
    if len(buyers) < min_buyers:
        log.warning("cluster selection skipped: %d buyers < %d", len(buyers), min_buyers)
        return pd.DataFrame([{
            "labelling": "kmeans", "k": 1, "silhouette": None, "stability_ari": None,
            "inertia": None,
            "is_chosen": True,
            "reason": f"too few buyers ({len(buyers)} < {min_buyers}): one cluster",
            "n_customers": len(buyers), "features_used": "",
            "as_of_date": pd.Timestamp(as_of).date(),
        }], columns=COLUMNS).astype({"silhouette": "float64", "stability_ari": "float64",
                                     "inertia": "float64"})
    clusterer = clusterer_from_config(dbt).fit(buyers)
    table = clusterer.selection_.copy()
    table["labelling"] = "kmeans"
    # Baseline: the Shopify RFM groups as a partition of the same scaled features.
    groups = buyers["rfm_group"]
    baseline = pd.DataFrame([{
        "labelling": "rfm_groups", "k": groups.nunique(),
        "silhouette": clusterer.silhouette_of(buyers, groups.to_numpy()),
        "stability_ari": float("nan"), "inertia": float("nan"), "is_chosen": False,
        "reason": "baseline: RFM groups on the same scaled features",
    }])
    table = pd.concat([table, baseline], ignore_index=True)
    table["n_customers"] = len(buyers)
    table["features_used"] = ", ".join(clusterer.scaler_.columns_)
    table["as_of_date"] = pd.Timestamp(as_of).date()
    return table[COLUMNS]
