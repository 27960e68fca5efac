"""Cluster of every buyer at each month end: refitted then, and frozen at the reference date."""

from clientele.segmentation import pipeline
from clientele.segmentation.settings import SegmentationSettings


def model(dbt, session):
    dbt.config(materialized="table")
    return pipeline.cluster_history(
        dbt.ref("int_segmentation__customer_snapshots"),
        dbt.ref("int_segmentation__cluster_model_selection"),
        dbt.ref("int_segmentation__reference_date"),
        settings=SegmentationSettings.from_config(dbt.config.get("settings")),
    )
