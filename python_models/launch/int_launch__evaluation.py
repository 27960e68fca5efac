"""Launch rows of model_evaluation: pool recovery, truth checks (demo), policy holdout."""

from pathlib import Path

import pandas as pd

from clientele.launch.glue import evaluation_rows, get_logger


def model(dbt, session):
    dbt.config(materialized="table")
    log = get_logger()
    scores = dbt.ref("int_launch__scores").df()
    references = dbt.ref("int_launch__references").df()[["collection_id", "cutoff_date"]]
    scores = scores.merge(
        references, left_on="reference_collection_id", right_on="collection_id", how="left"
    )
    policy = dbt.ref("audience_policy").df()
    as_of = dbt.ref("int_as_of").df()["as_of_date"][0]
    truth_file = Path(str(dbt.config.get("raw_path"))).parent / "truth" / "customers_truth.parquet"
    truth = None
    if truth_file.exists():
        truth = pd.read_parquet(truth_file)
        keep = [
            c
            for c in ("customer_id", "is_true_early_adopter", "upcoming_appetence")
            if c in truth.columns
        ]
        truth = truth[keep] if "is_true_early_adopter" in keep else None
    else:
        log.info(
            "launch: no latent truth next to the raw folder (%s): truth checks skipped", truth_file
        )
    if scores.empty:
        log.info("launch: evaluation skipped: no collection launches in this dataset")
    return evaluation_rows(scores, policy, truth, as_of)
