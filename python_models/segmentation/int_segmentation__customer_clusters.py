"""Cluster of every customer known at as_of (0 = prospect) with label and action."""

from clientele.segmentation import pipeline
from clientele.segmentation.settings import SegmentationSettings


def model(dbt, session):
    dbt.config(materialized="table")
    return pipeline.cluster_customers(
        dbt.ref("int_segmentation__customer_snapshots"),
        dbt.ref("int_segmentation__cluster_model_selection"),
        settings=SegmentationSettings.from_config(dbt.config.get("settings")),
    )
