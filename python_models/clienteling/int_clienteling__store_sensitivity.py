"""Every client's chance of buying after an advisor-led contact and after an e-mail, scored
in client batches (clientele.clienteling.pipeline.store_sensitivity)."""

from clientele.clienteling import pipeline
from clientele.clienteling.settings import ClientelingSettings


def model(dbt, session):
    dbt.config(materialized="table")
    return pipeline.store_sensitivity(
        dbt.ref("int_clienteling__store_features"),
        settings=ClientelingSettings.from_config(dbt.config.get("settings")),
    )
