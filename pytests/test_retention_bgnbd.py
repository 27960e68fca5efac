"""BG/NBD, MBG/NBD and Gamma-Gamma: the published CDNOW estimates from the CDNOW summary,
and known parameters recovered from simulated data."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clientele.retention.bgnbd import BetaGeoNBD, GammaGamma, ModifiedBetaGeoNBD, simulate_bgnbd
from clientele.retention.repeat import fit_bgnbd, rfm_at

#: The CDNOW 1/10 sample as summarised by FHL 2005 (pytests/data/cdnow/README.md).
CDNOW_SUMMARY = Path(__file__).parent / "data" / "cdnow" / "cdnow_customers_summary_with_transactions.csv"

# Published CDNOW estimates (Fader, Hardie & Lee 2005, weeks; 2,357 customers,
# first purchases over 12 weeks, 39-week calibration period).
CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


def _cdnow_summary() -> pd.DataFrame:
    return pd.read_csv(CDNOW_SUMMARY)


def test_bgnbd_reproduces_the_published_cdnow_fit():
    # FHL 2005, "Counting your customers the easy way", section 5: r = 0.243,
    # alpha = 4.414, a = 0.793, b = 2.426, log-likelihood -9,582.4, unpenalised.
    d = _cdnow_summary()
    assert len(d) == 2_357 and (d["x"] == 0).sum() == 1_411
    model = BetaGeoNBD().fit(d["x"], d["t_x"], d["T"])
    for name, value in CDNOW.items():
        assert model.params_[name] == pytest.approx(value, abs=1e-3), name
    assert model.log_likelihood_ == pytest.approx(-9582.4, abs=0.1)
    # A penalty moves the estimates away from the published ones: it must not be the default.
    penalised = BetaGeoNBD(penalizer=0.001).fit(d["x"], d["t_x"], d["T"])
    assert abs(penalised.params_["b"] / CDNOW["b"] - 1) > 0.1


def test_gamma_gamma_reproduces_the_published_cdnow_fit():
    # FHL 2005, "RFM and CLV", on the 946 repeat buyers' mean repeat transaction value:
    # p = 6.25, q = 3.74, gamma = 15.44.
    d = _cdnow_summary()
    repeat = d[d["x"] > 0]
    assert len(repeat) == 946
    model = GammaGamma().fit(repeat["x"], repeat["zbar"])
    assert model.params_["p"] == pytest.approx(6.25, abs=0.01)
    assert model.params_["q"] == pytest.approx(3.74, abs=0.01)
    assert model.params_["v"] == pytest.approx(15.44, abs=0.01)


def test_mbgnbd_on_cdnow_lets_one_time_buyers_lapse():
    # MBG/NBD on the same data (Batislam et al. 2007's model; these are also the
    # estimates lifetimes' ModifiedBetaGeoFitter reports on CDNOW): a one-time buyer
    # silent for 38 weeks is less likely alive than one who just bought, where BG/NBD
    # keeps both at 1, and the two models fit the data about equally well.
    d = _cdnow_summary()
    model = ModifiedBetaGeoNBD().fit(d["x"], d["t_x"], d["T"])
    expected = {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}
    for name, value in expected.items():
        assert model.params_[name] == pytest.approx(value, abs=2e-3), name
    fresh, silent = model.p_alive([0, 0], [0, 0], [1, 38])
    assert 0.3 < silent < fresh < 1
    bg = BetaGeoNBD().fit(d["x"], d["t_x"], d["T"])
    assert (bg.p_alive([0, 0], [0, 0], [1, 38]) == 1).all()
    assert model.log_likelihood_ == pytest.approx(bg.log_likelihood_, abs=5)


def test_mbgnbd_recovers_simulated_parameters_and_predicts_the_future():
    truth = {"r": 0.5, "alpha": 5.0, "a": 0.9, "b": 1.6}
    rng = np.random.default_rng(8)
    T = rng.uniform(27, 39, 20_000)
    data = simulate_bgnbd(**truth, T=T, seed=8, t_future=52, modified=True)
    model = ModifiedBetaGeoNBD().fit(data["frequency"], data["recency"], data["T"])
    for name, value in truth.items():
        assert model.params_[name] == pytest.approx(value, rel=0.15), name
    # P(any purchase in the next 52 weeks), by decile of prediction, matches the simulation.
    p = model.probability_of_purchase(52, data["frequency"], data["recency"], data["T"])
    bought = (data["future_frequency"] > 0).to_numpy()
    assert p.mean() == pytest.approx(bought.mean(), abs=0.02)
    deciles = pd.qcut(p, 10, labels=False, duplicates="drop")
    observed = pd.Series(bought).groupby(deciles).mean()
    predicted = pd.Series(p).groupby(deciles).mean()
    assert np.abs(observed - predicted).max() < 0.05
    # The median wait is where P(purchase by then) = 0.5, and infinite below that.
    wait = model.time_to_purchase_probability(0.5, data["frequency"], data["recency"],
                                              data["T"])
    finite = np.isfinite(wait)
    assert finite.any() and (~finite).any()
    at_wait = model.probability_of_purchase(wait[finite], data["frequency"][finite],
                                            data["recency"][finite], data["T"][finite])
    assert np.allclose(at_wait, 0.5)
    assert (model.probability_of_purchase(1e6, data["frequency"][~finite],
                                          data["recency"][~finite],
                                          data["T"][~finite]) <= 0.5 + 1e-9).all()


def test_the_pipeline_fits_bgnbd_unpenalised_by_default():
    # fit_bgnbd (what the dbt models call) on CDNOW in days gives the published fit.
    d = _cdnow_summary()
    rfm = pd.DataFrame({"frequency": d["x"], "recency": d["t_x"] * 7, "T": d["T"] * 7})
    model = fit_bgnbd(rfm)
    assert model.params_["b"] == pytest.approx(CDNOW["b"], abs=2e-3)


def test_rfm_mean_repeat_value_excludes_the_first_order():
    purchases = pd.DataFrame({
        "customer_id": ["A", "A", "A", "B"],
        "order_date": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-01-05"]),
        "order_value": [100.0, 10.0, 30.0, 50.0],
    })
    rfm = rfm_at(purchases, pd.Timestamp("2024-04-01")).set_index("customer_id")
    assert rfm.loc["A", "mean_repeat_value"] == 20.0
    assert np.isnan(rfm.loc["B", "mean_repeat_value"])


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


def test_the_next_order_date_halves_the_probability_of_an_order_within_the_year():
    # What customer_predictions dates: the day where P(an order by then) reaches half of
    # P(an order within 52 weeks), which always lies inside those 52 weeks.
    d = _cdnow_summary()
    model = ModifiedBetaGeoNBD().fit(d["x"], d["t_x"], d["T"])
    within = model.probability_of_purchase(52, d["x"], d["t_x"], d["T"])
    day = model.time_to_purchase_probability(within / 2, d["x"], d["t_x"], d["T"])
    assert np.isfinite(day).all() and (day > 0).all() and (day < 52).all()
    assert np.allclose(model.probability_of_purchase(day, d["x"], d["t_x"], d["T"]), within / 2)
