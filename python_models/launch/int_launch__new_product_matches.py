"""For every product outside the upcoming collection, its K closest new products (Gower)
(clientele.launch.pipeline.new_product_matches)."""

from clientele.launch import pipeline
from clientele.launch.settings import LaunchSettings


def model(dbt, session):
    dbt.config(materialized="table")
    return pipeline.new_product_matches(
        dbt.ref("dim_products"),
        dbt.ref("launch_gower_weights"),
        dbt.ref("int_launch__references"),
        settings=LaunchSettings.from_config(dbt.config.get("settings")),
    )
