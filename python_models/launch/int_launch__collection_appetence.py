"""Appetence of every client for every reference launch's collection (Gower,
recency-weighted), in client batches (clientele.launch.pipeline.collection_appetence)."""

from clientele.launch import pipeline
from clientele.launch.settings import LaunchSettings


def model(dbt, session):
    dbt.config(materialized="table")
    return pipeline.collection_appetence(
        dbt.ref("dim_products"),
        dbt.ref("launch_gower_weights"),
        dbt.ref("int_launch__purchase_weights"),
        dbt.ref("int_launch__references"),
        settings=LaunchSettings.from_config(dbt.config.get("settings")),
    )
