"""Priority of every client of the upcoming launch under the tuned policy, in client
batches (clientele.launch.pipeline.audience_priority)."""

from clientele.launch import pipeline
from clientele.launch.settings import LaunchSettings


def model(dbt, session):
    dbt.config(materialized="table")
    return pipeline.audience_priority(
        dbt.ref("int_launch__audience_policy"),
        dbt.ref("int_launch__scores"),
        settings=LaunchSettings.from_config(dbt.config.get("settings")),
    )
