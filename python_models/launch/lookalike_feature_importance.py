"""Feature importances of the lookalike trained for the upcoming launch (mean over folds)."""

from clientele.launch.glue import get_logger, lookalike_scores
from clientele.launch.lookalike import PULookalike


def model(dbt, session):
    dbt.config(materialized="table")
    log = get_logger()
    references = dbt.ref("int_launch__references").df()
    upcoming = references.loc[references["is_upcoming"].astype(bool), "collection_id"].tolist()
    features = dbt.ref("int_launch__lookalike_features").df()
    features = features[features["reference_collection_id"].isin(upcoming)]
    mix = dbt.ref("int_launch__customer_mix").df()
    labels = dbt.ref("int_launch__early_adopter_features").df()
    labels = labels[labels["reference_collection_id"].isin(upcoming)]
    if features.empty:
        log.info("launch: feature importances skipped: no upcoming collection")
    estimator = PULookalike(
        n_estimators=int(dbt.config.get("lookalike_trees")),
        n_folds=int(dbt.config.get("lookalike_folds")),
        n_jobs=1,
    )
    _, importances = lookalike_scores(features, mix, labels, estimator)
    return importances
