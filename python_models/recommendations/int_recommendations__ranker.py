"""Two-stage recommender: candidates from every source, ranked by an XGBoost
learning-to-rank model trained on a validation cut (clientele.recommendations.pipeline)."""

from clientele.recommendations import pipeline
from clientele.recommendations.settings import RecommendationSettings


def model(dbt, session):
    dbt.config(materialized="table")
    return pipeline.ranker_lists(
        events=dbt.ref("int_recommendations__events"),
        catalog=dbt.ref("int_recommendations__catalog"),
        customers=dbt.ref("dim_customers"),
        horizons=dbt.ref("int_recommendations__horizons"),
        lstm=dbt.ref("int_recommendations__lstm"),
        settings=RecommendationSettings.from_config(dbt.config.get("settings")),
        evaluated=dbt.ref("int_recommendations__evaluated_clients"),
    )
