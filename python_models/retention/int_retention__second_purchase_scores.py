"""When each one-time buyer is likely to buy again, as of as_of (streamed in batches)."""

from clientele.retention import pipeline
from clientele.retention.settings import RetentionSettings


def model(dbt, session):
    dbt.config(materialized="table")
    inputs = pipeline.RetentionInputs(
        purchases=dbt.ref("int_retention__purchases"),
        first_purchases=dbt.ref("int_retention__first_purchases"),
        families=dbt.ref("int_retention__purchase_families"),
        engagement=dbt.ref("int_retention__engagement"),
        as_of=dbt.ref("int_as_of"),
    )
    settings = RetentionSettings.from_config(dbt.config.get("settings"))
    return pipeline.score_second_purchase(inputs, settings)
