"""The send-time model, fitted for the evaluation and for the recommendations on bounded
samples of sends (clientele.clienteling.pipeline.send_time_model)."""

from clientele.clienteling import pipeline
from clientele.clienteling.settings import ClientelingSettings


def model(dbt, session):
    dbt.config(materialized="table")
    return pipeline.send_time_model(
        dbt.ref("int_clienteling__cuts"),
        dbt.ref("int_clienteling__reading_profiles"),
        dbt.ref("int_clienteling__sends"),
        settings=ClientelingSettings.from_config(dbt.config.get("settings")),
    )
