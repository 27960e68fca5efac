"""Appetence of every client for every reference launch's collection (Gower, recency-weighted)."""

from clientele.launch.glue import collection_appetence, get_logger


def model(dbt, session):
    dbt.config(materialized="table")
    log = get_logger()
    references = dbt.ref("int_launch__references").df()
    if references.empty:
        log.info("launch: appetence skipped: no collection launches in this dataset")
    return collection_appetence(
        dbt.ref("dim_products").df(),
        dbt.ref("launch_gower_weights").df(),
        dbt.ref("int_launch__purchase_weights").df(),
        references,
    )
