"""PU lookalike and audience policy on synthetic data with a known truth.

The entry points of clientele.launch.pipeline, without dbt, are in test_launch_pipeline.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from clientele.launch.lookalike import PULookalike, top_share_metrics
from clientele.launch.policy import AudiencePolicy


def _pu_data(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 6)), columns=[f"x{i}" for i in range(6)])
    truth = (X["x0"] + 0.8 * X["x1"] + 0.5 * rng.normal(size=n)) > 1.2
    labeled = truth.to_numpy() & (rng.random(n) < 0.3)  # only some positives are known
    return X, truth.to_numpy(), labeled


def test_pu_lookalike_recovers_unlabeled_positives():
    X, truth, labeled = _pu_data(3000, 0)
    model = PULookalike(n_estimators=60, n_folds=4).fit(X, labeled)
    assert model.oof_scores_.shape == (3000,)
    assert 0 < model.c_ <= 1 and model.oof_scores_.min() >= 0 and model.oof_scores_.max() <= 1
    hidden = ~labeled  # clients the model never saw as positives
    auc = roc_auc_score(truth[hidden], model.raw_oof_[hidden])
    assert auc > 0.85
    assert model.feature_importances_.index[0] in ("x0", "x1")
    # calibrated scores of true positives are far higher than those of negatives
    assert model.oof_scores_[truth].mean() > 3 * model.oof_scores_[~truth].mean()


def test_top_share_metrics_against_a_perfect_and_a_reversed_ranking():
    labels = np.array([1] * 10 + [0] * 90, dtype=bool)
    good = top_share_metrics(np.linspace(1, 0, 100), labels, 0.1)
    bad = top_share_metrics(np.linspace(0, 1, 100), labels, 0.1)
    assert good["auc"] == 1.0 and good["precision"] == 1.0 and good["lift"] == 10.0
    assert bad["auc"] == 0.0 and bad["precision"] == 0.0


def _launches(n_launches: int, n: int, seed: int) -> pd.DataFrame:
    """Conversion peaks for a high lookalike with a MIDDLE appetence (the luxury house case)."""
    rng = np.random.default_rng(seed)
    parts = []
    for k in range(n_launches):
        look = rng.random(n)
        early = np.clip(look * 0.4 + 0.6 * rng.random(n), 0, 1)
        app = rng.random(n)
        p = 0.005 + 0.25 * look**2 * np.exp(-(((app - 0.5) / 0.12) ** 2))
        parts.append(
            pd.DataFrame(
                {
                    "reference_collection_id": f"L{k}",
                    "launch_date": pd.Timestamp("2024-01-01") + pd.Timedelta(days=90 * k),
                    "lookalike_score": look,
                    "early_adopter_score": early,
                    "appetence": app,
                    "converted": rng.random(n) < p,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def test_policy_learns_the_middle_appetence_and_beats_rules_and_random_on_holdout():
    policy = AudiencePolicy(volume_share=0.1).fit(_launches(4, 6000, 3))
    assert policy.holdout_launch_ == "L3"
    assert policy.policy_.appetence_center == 0.5 and policy.policy_.w_appetence > 0
    hold = policy.holdout_
    assert hold["policy"] >= 2 * hold["random"]
    assert hold["policy"] > hold["rules_only"]


def test_policy_needs_two_launches():
    import pytest

    with pytest.raises(ValueError):
        AudiencePolicy().fit(_launches(1, 100, 0))


def test_rolling_holdouts_retune_before_each_held_out_launch():
    from clientele.launch.policy import rolling_holdouts

    out = rolling_holdouts(_launches(5, 3000, 4), n_holdouts=3)
    assert sorted(out["collection_id"].unique()) == ["L2", "L3", "L4"]
    assert out.groupby("collection_id")["n_train_launches"].first().tolist() == [2, 3, 4]
    wide = out.pivot_table(index="collection_id", columns="audience", values="conversion")
    assert (wide["policy"] > wide["random"]).all()
