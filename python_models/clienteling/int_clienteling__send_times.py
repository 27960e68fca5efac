"""Every client's best send block and expected open rates, scored in client batches
(clientele.clienteling.pipeline.send_times)."""

from clientele.clienteling import pipeline
from clientele.clienteling.settings import ClientelingSettings


def model(dbt, session):
    dbt.config(materialized="table")
    return pipeline.send_times(
        dbt.ref("int_clienteling__send_time_model"),
        dbt.ref("int_clienteling__cuts"),
        dbt.ref("int_clienteling__reading_profiles"),
        dbt.ref("int_clienteling__sends"),
        settings=ClientelingSettings.from_config(dbt.config.get("settings")),
    )
