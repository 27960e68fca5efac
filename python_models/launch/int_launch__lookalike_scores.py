"""Every client of every reference launch scored by the lookalike's fold models, in
batches (clientele.launch.pipeline.lookalike_scores)."""

from clientele.launch import pipeline
from clientele.launch.settings import LaunchSettings


def model(dbt, session):
    dbt.config(materialized="table")
    return pipeline.lookalike_scores(
        dbt.ref("int_launch__lookalike_models"),
        dbt.ref("int_launch__lookalike_features"),
        dbt.ref("int_launch__customer_mix"),
        dbt.ref("int_launch__early_adopter_features"),
        settings=LaunchSettings.from_config(dbt.config.get("settings")),
    )
