"""Baseline 4: implicit ALS matrix factorisation (numpy, batched conjugate gradient)."""

import logging

from clientele.recommendations.pipeline import als_recommendations


def model(dbt, session):
    dbt.config(materialized="table")
    log = logging.getLogger("clientele.recommendations")
    events = dbt.ref("int_recommendations__events").df()
    catalog = dbt.ref("int_recommendations__catalog").df()
    horizons = dbt.ref("int_recommendations__horizons").df()
    result = als_recommendations(
        events, catalog, horizons,
        top_k=int(dbt.config.get("candidates")),
        factors=int(dbt.config.get("als_factors")),
        iterations=int(dbt.config.get("als_iterations")),
        regularization=float(dbt.config.get("als_regularization")),
        alpha=float(dbt.config.get("als_alpha")),
        seed=int(dbt.config.get("seed")),
    )
    log.info("recommendations_als: %d rows", len(result))
    return result
