"""Next-product LSTM lists, raw and with the best-seller penalty
(clientele.recommendations.pipeline)."""

from clientele.recommendations import pipeline
from clientele.recommendations.settings import RecommendationSettings


def model(dbt, session):
    dbt.config(materialized="table")
    return pipeline.lstm_lists(
        dbt.ref("int_recommendations__events"),
        dbt.ref("int_recommendations__catalog"),
        dbt.ref("int_recommendations__horizons"),
        settings=RecommendationSettings.from_config(dbt.config.get("settings")),
        evaluated=dbt.ref("int_recommendations__evaluated_clients"),
    )
