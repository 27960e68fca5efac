"""The mean over backtest cut-offs and its interval (clientele.intervals.mean_of_group_means_ci):
a bootstrap that resamples clients once for all cut-offs."""

from __future__ import annotations

import numpy as np
import pytest

from clientele.intervals import mean_ci, mean_of_group_means_ci


def test_one_group_is_the_bootstrap_of_its_mean():
    values = np.random.default_rng(0).normal(0.1, 1.0, 3000)
    mean, lower, upper = mean_of_group_means_ci([values], [np.arange(3000)], seed=5)
    assert (mean[0], lower[0], upper[0]) == pytest.approx(mean_ci(values, seed=5))


def test_the_point_is_the_mean_of_the_cutoff_means_whatever_their_sizes():
    rng = np.random.default_rng(1)
    groups = [rng.normal(0.0, 1.0, 4000), rng.normal(1.0, 1.0, 1000)]
    units = [np.arange(4000), np.arange(4000, 5000)]
    mean, lower, upper = mean_of_group_means_ci(groups, units, seed=0)
    assert mean[0] == pytest.approx((groups[0].mean() + groups[1].mean()) / 2)
    assert lower[0] < mean[0] < upper[0]


def test_a_client_at_every_cutoff_is_drawn_at_every_cutoff():
    """The same clients with the same values at two cut-offs carry no more information
    than one cut-off: the interval is as wide as one cut-off's. Two cut-offs of different
    clients are independent: the interval is about 1/sqrt(2) as wide."""
    values = np.random.default_rng(2).normal(0.0, 1.0, 4000)
    clients = np.arange(4000)
    _, lo1, hi1 = mean_of_group_means_ci([values], [clients], seed=3)
    _, lo_same, hi_same = mean_of_group_means_ci([values, values], [clients, clients], seed=3)
    assert (lo_same[0], hi_same[0]) == pytest.approx((lo1[0], hi1[0]))
    other = np.random.default_rng(4).normal(0.0, 1.0, 4000)
    _, lo_two, hi_two = mean_of_group_means_ci([values, other], [clients, clients + 4000],
                                               seed=3)
    ratio = (hi_two[0] - lo_two[0]) / (hi1[0] - lo1[0])
    assert ratio == pytest.approx(1 / np.sqrt(2), rel=0.12)


def test_columns_are_independent_series_and_skip_missing_values():
    rng = np.random.default_rng(6)
    a, b = rng.normal(0, 1, (500, 2)), rng.normal(0, 1, (400, 2))
    b[:10, 1] = np.nan
    units = [np.arange(500), np.arange(300, 700)]
    mean, lower, upper = mean_of_group_means_ci([a, b], units, seed=1)
    assert mean[1] == pytest.approx((a[:, 1].mean() + np.nanmean(b[:, 1])) / 2)
    alone, *_ = mean_of_group_means_ci([a[:, :1], b[:, :1]], units, seed=1)
    assert mean[0] == pytest.approx(alone[0])
    assert np.all(lower < mean) and np.all(mean < upper)
