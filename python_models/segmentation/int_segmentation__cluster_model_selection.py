"""Choice of k for the customer clusters at as_of, next to the RFM groups (baseline)."""

from clientele.segmentation import pipeline
from clientele.segmentation.settings import SegmentationSettings


def model(dbt, session):
    dbt.config(materialized="table")
    return pipeline.choose_k(
        dbt.ref("int_segmentation__customer_scores"),
        dbt.ref("int_as_of"),
        settings=SegmentationSettings.from_config(dbt.config.get("settings")),
    )
