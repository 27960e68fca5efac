"""Appetence of every client for the upcoming collection's products: the top N per client."""

import pandas as pd

from clientele.launch.glue import get_logger, product_appetence


def model(dbt, session):
    dbt.config(materialized="table")
    log = get_logger()
    references = dbt.ref("int_launch__references").df()
    upcoming = references[references["is_upcoming"].astype(bool)]
    if upcoming.empty:
        log.info(
            "launch: product appetence skipped: no upcoming collection (none launches after as_of)"
        )
        return pd.DataFrame(
            {
                "customer_id": pd.Series(dtype="string"),
                "product_id": pd.Series(dtype="string"),
                "collection_id": pd.Series(dtype="string"),
                "appetence": pd.Series(dtype=float),
                "appetence_rank": pd.Series(dtype="int32"),
            }
        )
    collection_id = str(upcoming["collection_id"].iloc[0])
    purchases = dbt.ref("int_launch__purchase_weights").df()
    purchases = purchases[purchases["reference_collection_id"] == collection_id]
    return product_appetence(
        dbt.ref("dim_products").df(),
        dbt.ref("launch_gower_weights").df(),
        purchases,
        collection_id,
        int(dbt.config.get("top_new_products")),
    )
