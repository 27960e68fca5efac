"""PU lookalike of the early-adopter pool per reference launch: fold models fitted once,
on a bounded sample (clientele.launch.pipeline.lookalike_models)."""

from clientele.launch import pipeline
from clientele.launch.settings import LaunchSettings


def model(dbt, session):
    dbt.config(materialized="table")
    return pipeline.lookalike_models(
        dbt.ref("int_launch__lookalike_features"),
        dbt.ref("int_launch__customer_mix"),
        dbt.ref("int_launch__early_adopter_features"),
        settings=LaunchSettings.from_config(dbt.config.get("settings")),
    )
