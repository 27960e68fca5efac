"""Repeat-purchase predictions for every buyer; the backtest picks the 90-day model."""


def model(dbt, session):
    dbt.config(materialized="table")
    from clientele.retention.pipeline import (
        RetentionInputs,
        Settings,
        score_customers,
        select_model,
    )

    inputs = RetentionInputs(
        purchases=dbt.ref("int_retention__purchases").df(),
        first_purchases=dbt.ref("int_retention__first_purchases").df(),
        families=dbt.ref("int_retention__purchase_families").df(),
        engagement=dbt.ref("int_retention__engagement").df(),
    )
    settings = Settings(
        min_events=int(dbt.config.get("retention_min_events")),
        n_estimators=int(dbt.config.get("retention_trees")),
    )
    selected = select_model(dbt.ref("retention_backtest").df())
    as_of = dbt.ref("int_as_of").df()["as_of_date"][0]
    return score_customers(inputs, as_of, selected, settings)
