"""Contact policy tuned on past launches, checked on the latest past launch and on rolling
hold-outs at the same contact volume (clientele.launch.pipeline.audience_policy)."""

from clientele.launch import pipeline
from clientele.launch.settings import LaunchSettings


def model(dbt, session):
    dbt.config(materialized="table")
    return pipeline.audience_policy(
        dbt.ref("int_launch__scores"),
        settings=LaunchSettings.from_config(dbt.config.get("settings")),
    )
