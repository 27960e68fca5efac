"""Confidence intervals for model_evaluation: bootstrap over the evaluated units (clients).

Every figure a model reports next to its baselines carries a 95 % interval; differences
between a model and a baseline use a *paired* bootstrap (the same resampled clients for
both), which is far tighter than two separate intervals and is what says whether a gain
is real.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Resamples per interval; seeded so that two builds give the same bounds.
N_RESAMPLES = 1000
#: Above this many units, resample a seeded subset of this size for the interval: the
#: interval of the full mean is then rescaled by sqrt(n_sub / n), which is exact for a
#: mean and keeps the cost bounded whatever the number of clients.
MAX_UNITS = 200_000


def _prepared(values: np.ndarray, seed: int) -> tuple[np.ndarray, float]:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)] if values.ndim == 1 else values
    if len(values) > MAX_UNITS:
        rng = np.random.default_rng(seed + 1)
        sub = values[rng.choice(len(values), MAX_UNITS, replace=False)]
        return sub, float(np.sqrt(MAX_UNITS / len(values)))
    return values, 1.0


def mean_ci(values: np.ndarray, n_resamples: int = N_RESAMPLES, seed: int = 0,
            level: float = 0.95) -> tuple[float, float, float]:
    """(mean, lower, upper): percentile bootstrap of the mean of per-unit values."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(values.mean())
    if len(values) < 2:
        return mean, float("nan"), float("nan")
    sub, scale = _prepared(values, seed)
    rng = np.random.default_rng(seed)
    means = np.empty(n_resamples)
    for b in range(n_resamples):  # a loop over resamples, vectorised over units
        means[b] = sub[rng.integers(0, len(sub), len(sub))].mean()
    alpha = (1 - level) / 2
    lo, hi = np.quantile(means - sub.mean(), [alpha, 1 - alpha]) * scale
    return mean, mean + float(lo), mean + float(hi)


def paired_difference_ci(a: np.ndarray, b: np.ndarray, n_resamples: int = N_RESAMPLES,
                         seed: int = 0, level: float = 0.95) -> tuple[float, float, float]:
    """(mean(a - b), lower, upper) over the same units: a paired bootstrap."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError("paired values need the same units")
    return mean_ci(a - b, n_resamples, seed, level)


def mean_of_group_means_ci(values: Sequence[np.ndarray], units: Sequence[np.ndarray],
                           n_resamples: int = N_RESAMPLES, seed: int = 0, level: float = 0.95
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, lower, upper) of the mean over groups of each group's mean (e.g. over backtest
    cut-offs of each cut-off's mean over its clients), for every column of the per-unit
    ``values`` (one (n_g,) or (n_g, m) array per group; ``units[g]`` names its rows; a
    non-finite value counts for nothing in its column). Percentile bootstrap resampling
    the units once for all groups: a client evaluated at several cut-offs is drawn at all
    of them or none, so their correlation widens the interval as it should. Per-unit
    paired differences give a paired interval. Cost: resamples x units, bounded by the
    groups' sizes."""
    groups = [np.asarray(v, dtype=float).reshape(len(v), -1) for v in values]
    width = groups[0].shape[1] if groups else 0
    nan = np.full(width, np.nan)
    finite = [np.isfinite(v) for v in groups]
    filled = [np.where(ok, v, 0.0) for v, ok in zip(groups, finite, strict=True)]
    every = np.unique(np.concatenate([np.asarray(u) for u in units])) if groups else []
    with np.errstate(invalid="ignore", divide="ignore"):
        point = np.mean([v.sum(axis=0) / ok.sum(axis=0)
                         for v, ok in zip(filled, finite, strict=True)], axis=0) \
            if groups else nan
    if len(every) < 2:
        return point, nan, nan.copy()
    at = [np.searchsorted(every, np.asarray(u)) for u in units]
    rng = np.random.default_rng(seed)
    draws = np.empty((n_resamples, width))
    for b in range(n_resamples):  # a loop over resamples, vectorised over units
        counts = np.bincount(rng.integers(0, len(every), len(every)),
                             minlength=len(every)).astype(float)
        means = []
        for v, ok, rows in zip(filled, finite, at, strict=True):
            w = counts[rows]
            with np.errstate(invalid="ignore", divide="ignore"):
                means.append((w @ v) / (w @ ok))
        draws[b] = np.nanmean(means, axis=0)
    alpha = (1 - level) / 2
    lower, upper = np.nanquantile(draws, [alpha, 1 - alpha], axis=0)
    return point, lower, upper


def proportion_ci(successes: int, n: int, z: float = 1.959964) -> tuple[float, float, float]:
    """(rate, lower, upper): Wilson score interval of a proportion."""
    if n <= 0:
        return float("nan"), float("nan"), float("nan")
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return p, centre - half, centre + half


def statistic_ci(statistic, arrays: tuple[np.ndarray, ...], n_resamples: int = 200,
                 seed: int = 0, level: float = 0.95, max_units: int = 50_000
                 ) -> tuple[float, float, float]:
    """(value, lower, upper) of any statistic of paired arrays (e.g. AUC of labels and
    scores) by a percentile bootstrap over units; at most ``max_units`` units are
    resampled (a seeded subset) so the cost is bounded, the point value uses them all."""
    arrays = tuple(np.asarray(a) for a in arrays)
    n = len(arrays[0])
    value = float(statistic(*arrays))
    if n < 2:
        return value, float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    units = rng.choice(n, max_units, replace=False) if n > max_units else np.arange(n)
    scale = float(np.sqrt(len(units) / n))
    base = float(statistic(*(a[units] for a in arrays)))
    draws = []
    for _ in range(n_resamples):
        pick = units[rng.integers(0, len(units), len(units))]
        stat = float(statistic(*(a[pick] for a in arrays)))
        if np.isfinite(stat):
            draws.append(stat - base)
    if len(draws) < n_resamples // 2:
        return value, float("nan"), float("nan")
    alpha = (1 - level) / 2
    lo, hi = np.quantile(draws, [alpha, 1 - alpha]) * scale
    return value, value + float(lo), value + float(hi)


def auc_ci(labels: np.ndarray, scores: np.ndarray, level: float = 0.95
           ) -> tuple[float, float, float]:
    """(AUC, lower, upper): the area under the ROC curve (ties count one half) with
    DeLong's interval, in closed form from the placement values (Sun & Xu 2014): three
    rank computations, no resampling, so it costs O(n log n) on any number of clients
    and gives the same bounds every build. Agrees with a bootstrap (pytest)."""
    from scipy import stats

    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=float)
    pos, neg = s[y], s[~y]
    m, n = len(pos), len(neg)
    if m == 0 or n == 0:
        return float("nan"), float("nan"), float("nan")
    ranks = stats.rankdata(np.concatenate([pos, neg]))
    # Negatives below each positive (ties one half), and positives above each negative.
    v10 = (ranks[:m] - stats.rankdata(pos)) / n
    v01 = 1.0 - (ranks[m:] - stats.rankdata(neg)) / m
    auc = float(v10.mean())
    if m < 2 or n < 2:
        return auc, float("nan"), float("nan")
    se = float(np.sqrt(v10.var(ddof=1) / m + v01.var(ddof=1) / n))
    z = float(stats.norm.ppf(0.5 + level / 2))
    return auc, max(0.0, auc - z * se), min(1.0, auc + z * se)
