"""Drive-to-store rows of model_evaluation: a backtest on the last launch campaigns
(clientele.clienteling.pipeline.store_evaluation)."""

from clientele.clienteling import pipeline
from clientele.clienteling.settings import ClientelingSettings


def model(dbt, session):
    dbt.config(materialized="table")
    return pipeline.store_evaluation(
        dbt.ref("int_clienteling__store_features"),
        settings=ClientelingSettings.from_config(dbt.config.get("settings")),
    )
