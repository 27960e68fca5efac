"""Backtest of every recommendation method, in model_evaluation's columns."""

import logging

from clientele.recommendations.evaluation import evaluate_methods


def model(dbt, session):
    dbt.config(materialized="table")
    log = logging.getLogger("clientele.recommendations")
    horizons = dbt.ref("int_recommendations__horizons").df()
    events = dbt.ref("int_recommendations__events").df()
    catalog = dbt.ref("int_recommendations__catalog").df()
    customers = dbt.ref("dim_customers").df()
    popularity = dbt.ref("recommendations_popularity").df()
    repurchase = dbt.ref("recommendations_repurchase").df()
    rules = dbt.ref("recommendations_item_cooccurrence").df()
    als = dbt.ref("recommendations_als").df()
    lstm = dbt.ref("recommendations_lstm").df()
    composed = dbt.ref("int_recommendations__composed").df()
    result = evaluate_methods(
        horizons=horizons, events=events, catalog=catalog,
        customers=customers[["customer_id", "country"]], popularity=popularity,
        repurchase=repurchase, rules=rules, als=als, lstm=lstm, composed=composed,
        similar_variant=str(dbt.config.get("similar_variant")),
    )
    log.info("recommendations_evaluation: %d rows", len(result))
    return result
