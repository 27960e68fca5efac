"""PU lookalike of the early-adopter pool, out-of-fold, for every reference launch."""

from clientele.launch.glue import get_logger, lookalike_scores
from clientele.launch.lookalike import PULookalike


def model(dbt, session):
    dbt.config(materialized="table")
    log = get_logger()
    features = dbt.ref("int_launch__lookalike_features").df()
    mix = dbt.ref("int_launch__customer_mix").df()
    labels = dbt.ref("int_launch__early_adopter_features").df()
    if features.empty:
        log.info("launch: lookalike skipped: no collection launches in this dataset")
    estimator = PULookalike(
        n_estimators=int(dbt.config.get("lookalike_trees")),
        n_folds=int(dbt.config.get("lookalike_folds")),
        n_jobs=1,
    )
    scores, _ = lookalike_scores(features, mix, labels, estimator)
    return scores
