"""Uplift for launches against known synthetic truth: sure things, persuadables, lost
causes and do-not-disturbs, a randomised 80/20 contact/control split."""

from __future__ import annotations

import numpy as np
import pytest

from clientele.launch import uplift


def _campaign(n: int, seed: int):
    """x0 makes a client buy anyway (sure things), x1 makes a contact persuade,
    x2 makes a contact put the client off; x3 is noise."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 4))
    p0 = 0.02 + 0.35 * (x[:, 0] > 0.75)
    effect = 0.30 * (x[:, 1] > 0.6) * (x[:, 0] <= 0.75) - 0.25 * (x[:, 2] > 0.85) * p0 / 0.37
    p1 = np.clip(p0 + effect, 0.0, 1.0)
    treated = rng.random(n) < 0.8
    u = rng.random(n)
    converted = np.where(treated, u < p1, u < p0)
    return x, treated, converted, p1 - p0, p1


@pytest.fixture(scope="module")
def fitted():
    x, t, y, _, _ = _campaign(12_000, seed=1)
    return uplift.UpliftModel(n_trees=150, depth=2).fit(x, t, y)


def test_x_learner_recovers_the_effect_better_than_a_response_model(fitted):
    x, t, y, effect, p1 = _campaign(6_000, seed=2)
    estimate, p_contacted, p_control = fitted.predict(x)
    assert np.corrcoef(estimate, effect)[0, 1] > 0.7
    # A response model ranks sure things first: it tracks buying, not the effect.
    assert np.corrcoef(estimate, effect)[0, 1] > np.corrcoef(p_contacted, effect)[0, 1] + 0.3
    assert np.corrcoef(p_contacted, p1)[0, 1] > 0.8


def test_qini_ranks_the_oracle_above_response_and_random(fitted):
    x, t, y, effect, p1 = _campaign(20_000, seed=3)
    group = np.arange(len(y)) % 2
    oracle = uplift.qini_coefficient(effect, t, y, group)
    response = uplift.qini_coefficient(p1, t, y, group)
    rng = np.random.default_rng(0)
    random = uplift.qini_coefficient(rng.random(len(y)), t, y, group)
    assert oracle > response + 0.01
    assert oracle > abs(random) + 0.02
    estimate, _, _ = fitted.predict(x)
    assert uplift.qini_coefficient(estimate, t, y, group) > response
    assert uplift.auuc(effect, t, y) > uplift.auuc(p1, t, y)
    # The curve ends, whatever the ranking, at the campaign's average effect.
    assert uplift.uplift_curve(effect, t, y)[-1] == pytest.approx(uplift.uplift_curve(p1, t, y)[-1])


def test_slots_at_equal_sales_saves_contacts_with_the_better_ranking():
    x, t, y, effect, p1 = _campaign(20_000, seed=4)
    group = np.zeros(len(y), dtype=int)
    needed, saved = uplift.slots_at_equal_sales(effect, p1, t, y, group, share=0.5)
    assert 0 < needed < 0.5 and saved > 5
    needed_same, saved_same = uplift.slots_at_equal_sales(p1, p1, t, y, group, share=0.5)
    assert needed_same == pytest.approx(0.5, abs=0.03) and abs(saved_same) < 3


def test_segments_and_refusal():
    seg = uplift.segments(np.array([0.1, -0.05, 0.0, 0.0]), np.array([0.0, 0.3, 0.2, 0.01]),
                     persuadable_from=0.03, do_not_disturb_below=-0.02, sure_thing_from=0.1)
    assert seg.tolist() == ["persuadable", "do_not_disturb", "sure_thing", "lost_cause"]
    x, t, y, _, _ = _campaign(300, seed=5)
    assert "control" in uplift.UpliftModel.can_fit(t, y)
    with pytest.raises(ValueError):
        uplift.UpliftModel().fit(x, t, y)
