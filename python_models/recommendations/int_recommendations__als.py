"""Baseline: implicit ALS lists per client and horizon (clientele.recommendations.pipeline)."""

from clientele.recommendations import pipeline
from clientele.recommendations.settings import RecommendationSettings


def model(dbt, session):
    dbt.config(materialized="table")
    return pipeline.als_lists(
        dbt.ref("int_recommendations__events"),
        dbt.ref("int_recommendations__catalog"),
        dbt.ref("int_recommendations__horizons"),
        settings=RecommendationSettings.from_config(dbt.config.get("settings")),
        evaluated=dbt.ref("int_recommendations__evaluated_clients"),
    )
