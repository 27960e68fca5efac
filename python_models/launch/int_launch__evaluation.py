"""Launch rows of model_evaluation: pool recovery per launch, the policy on held-out
launches, the uplift on held-out campaigns (clientele.launch.pipeline.evaluation; truth
checks: clientele.launch.truth)."""

from clientele.launch import pipeline
from clientele.launch.settings import LaunchSettings


def model(dbt, session):
    dbt.config(materialized="table")
    return pipeline.evaluation(
        dbt.ref("int_launch__scores"),
        dbt.ref("int_launch__references"),
        dbt.ref("int_launch__audience_policy"),
        dbt.ref("int_as_of"),
        settings=LaunchSettings.from_config(dbt.config.get("settings")),
        uplift_inputs=dbt.ref("int_launch__uplift_inputs"),
    )
