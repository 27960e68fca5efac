"""Backtest of the retention models: cut at as_of - retention_holdout_days, score after."""

import logging


def model(dbt, session):
    dbt.config(materialized="table")
    from clientele.retention.pipeline import RetentionInputs, Settings, backtest

    inputs = RetentionInputs(
        purchases=dbt.ref("int_retention__purchases").df(),
        first_purchases=dbt.ref("int_retention__first_purchases").df(),
        families=dbt.ref("int_retention__purchase_families").df(),
        engagement=dbt.ref("int_retention__engagement").df(),
    )
    settings = Settings(
        holdout_days=int(dbt.config.get("retention_holdout_days")),
        min_events=int(dbt.config.get("retention_min_events")),
        n_estimators=int(dbt.config.get("retention_trees")),
    )
    as_of = dbt.ref("int_as_of").df()["as_of_date"][0]
    logging.getLogger("clientele.retention").info("retention backtest as of %s", as_of)
    return backtest(inputs, as_of, settings)
