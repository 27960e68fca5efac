"""Uplift of an advisor's contact for every client of the upcoming launch: an X-learner
fitted on past campaigns' contacted and control clients, with its segment
(clientele.launch.pipeline.uplift)."""

from clientele.launch import pipeline
from clientele.launch.settings import LaunchSettings


def model(dbt, session):
    dbt.config(materialized="table")
    return pipeline.uplift(
        dbt.ref("int_launch__uplift_inputs"),
        settings=LaunchSettings.from_config(dbt.config.get("settings")),
    )
