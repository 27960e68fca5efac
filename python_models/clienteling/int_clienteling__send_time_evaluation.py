"""Send-time rows of model_evaluation: the recommended block against the market's best
block, the client's own block and any block on held-out sends
(clientele.clienteling.pipeline.send_time_evaluation)."""

from clientele.clienteling import pipeline
from clientele.clienteling.settings import ClientelingSettings


def model(dbt, session):
    dbt.config(materialized="table")
    return pipeline.send_time_evaluation(
        dbt.ref("int_clienteling__send_time_model"),
        dbt.ref("int_clienteling__cuts"),
        dbt.ref("int_clienteling__reading_profiles"),
        dbt.ref("int_clienteling__sends"),
        settings=ClientelingSettings.from_config(dbt.config.get("settings")),
    )
