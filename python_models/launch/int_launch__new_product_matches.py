"""For every product outside the upcoming collection, its K closest new products (Gower)."""

import pandas as pd

from clientele.launch.glue import get_logger, new_product_matches


def model(dbt, session):
    dbt.config(materialized="table")
    log = get_logger()
    references = dbt.ref("int_launch__references").df()
    upcoming = references[references["is_upcoming"].astype(bool)]
    if upcoming.empty:
        log.info("launch: new product matches skipped: no upcoming collection")
        return pd.DataFrame(
            {
                "product_id": pd.Series(dtype="string"),
                "collection_id": pd.Series(dtype="string"),
                "new_product_id": pd.Series(dtype="string"),
                "new_collection_id": pd.Series(dtype="string"),
                "match_rank": pd.Series(dtype="int32"),
                "similarity": pd.Series(dtype=float),
            }
        )
    return new_product_matches(
        dbt.ref("dim_products").df(),
        dbt.ref("launch_gower_weights").df(),
        str(upcoming["collection_id"].iloc[0]),
        int(dbt.config.get("match_k")),
    )
