"""Backtest of every recommendation method, in model_evaluation's rows
(clientele.recommendations.pipeline)."""

from clientele.recommendations import pipeline
from clientele.recommendations.settings import RecommendationSettings


def model(dbt, session):
    dbt.config(materialized="table")
    return pipeline.evaluation(
        horizons=dbt.ref("int_recommendations__horizons"),
        events=dbt.ref("int_recommendations__events"),
        catalog=dbt.ref("int_recommendations__catalog"),
        customers=dbt.ref("dim_customers"),
        popularity=dbt.ref("int_recommendations__popularity"),
        repurchase=dbt.ref("int_recommendations__repurchase"),
        cooccurrence=dbt.ref("int_recommendations__item_cooccurrence"),
        als=dbt.ref("int_recommendations__als"),
        lstm=dbt.ref("int_recommendations__lstm"),
        composed=dbt.ref("int_recommendations__composed"),
        ranker=dbt.ref("int_recommendations__ranker"),
        settings=RecommendationSettings.from_config(dbt.config.get("settings")),
        evaluated=dbt.ref("int_recommendations__evaluated_clients"),
    )
