"""BG/NBD and Gamma-Gamma: recover known parameters from simulated data."""

import numpy as np
import pytest

from clientele.retention.bgnbd import BetaGeoNBD, GammaGamma, simulate_bgnbd

# Published CDNOW estimates (Fader, Hardie & Lee 2005, weeks; 2,357 customers,
# first purchases over 12 weeks, 39-week calibration period).
CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


def _cdnow_like(n: int, seed: int):
    T = np.random.default_rng(seed).uniform(27, 39, n)
    return simulate_bgnbd(**CDNOW, T=T, seed=seed)


def test_recovers_cdnow_parameters_from_a_large_simulated_panel():
    data = _cdnow_like(20_000, seed=11)
    model = BetaGeoNBD().fit(data["frequency"], data["recency"], data["T"])
    for name, value in CDNOW.items():
        assert model.params_[name] == pytest.approx(value, rel=0.15), name
    assert model.converged_


def test_cdnow_sized_panel_matches_published_summary_statistics():
    # Same size and design as CDNOW: about 60% of customers make no repeat
    # purchase and the mean repeat frequency is about 1 (published: 1,411 of
    # 2,357 with x = 0); the fit lands near the published parameters.
    data = _cdnow_like(2_357, seed=3)
    assert 0.55 < (data["frequency"] == 0).mean() < 0.65
    model = BetaGeoNBD().fit(data["frequency"], data["recency"], data["T"])
    assert model.params_["r"] == pytest.approx(CDNOW["r"], rel=0.35)
    assert model.params_["alpha"] == pytest.approx(CDNOW["alpha"], rel=0.35)
    # The population mean of repeat purchases in 39 weeks matches the simulation.
    expected = model.expected_transactions(data["T"].to_numpy()).mean()
    assert expected == pytest.approx(data["frequency"].mean(), rel=0.1)


def test_conditional_predictions_match_the_simulated_future():
    # Simulate 78 weeks, fit on the first 39, predict the next 39 per customer.
    rng = np.random.default_rng(5)
    n = 10_000
    T_cal = rng.uniform(27, 39, n)
    cal = simulate_bgnbd(**CDNOW, T=T_cal, seed=5, t_future=39)
    model = BetaGeoNBD().fit(cal["frequency"], cal["recency"], cal["T"])
    holdout = cal["future_frequency"]
    predicted = model.conditional_expected_transactions(39, cal["frequency"], cal["recency"],
                                                        cal["T"])
    assert predicted.sum() == pytest.approx(holdout.sum(), rel=0.1)
    # Ranking: customers predicted to buy more do buy more.
    assert np.corrcoef(predicted, holdout)[0, 1] > 0.4
    p_any = model.probability_of_purchase(39, cal["frequency"], cal["recency"], cal["T"])
    assert p_any.mean() == pytest.approx((holdout > 0).mean(), abs=0.03)


def test_p_alive_behaves():
    model = BetaGeoNBD()
    model.params_ = dict(CDNOW)
    p = model.p_alive([0, 5, 5], [0, 30, 5], [38, 38, 38])
    assert p[0] == 1.0
    # Same frequency, a long silence since the last purchase: less likely alive.
    assert p[1] > p[2]


def test_gamma_gamma_recovers_spend_parameters():
    rng = np.random.default_rng(2)
    p, q, v = 6.25, 3.74, 15.44
    n = 20_000
    nu = rng.gamma(q, 1 / v, n)
    x = rng.integers(1, 8, n)
    values = rng.gamma(p, 1 / nu[:, None], size=(n, 8))
    mean = np.where(np.arange(8)[None, :] < x[:, None], values, 0).sum(1) / x
    model = GammaGamma().fit(x, mean)
    assert model.params_["q"] == pytest.approx(q, rel=0.1)
    # Expected value shrinks one observed order towards the population mean.
    population = p * v / (q - 1)
    one = model.conditional_expected_value([1], [10 * population])[0]
    many = model.conditional_expected_value([7], [10 * population])[0]
    assert population < one < many < 10 * population
