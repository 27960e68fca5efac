"""Evaluation metrics on full populations (no sampling): AUC, Brier, concordance."""

from __future__ import annotations

import numpy as np
from scipy import stats


def auc(y_true: object, score: object) -> float:
    """Area under the ROC curve (Mann-Whitney, ties count one half); NaN if one class."""
    y = np.asarray(y_true, dtype=bool)
    s = np.asarray(score, dtype=float)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = stats.rankdata(s)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def brier(y_true: object, probability: object) -> float:
    """Mean squared error of a probability against a 0/1 outcome."""
    y = np.asarray(y_true, dtype=float)
    p = np.asarray(probability, dtype=float)
    if len(y) == 0:
        return float("nan")
    return float(np.mean((p - y) ** 2))


def concordance_index(time: object, event: object, risk: object) -> float:
    """Harrell's C: among comparable pairs, the share where the earlier event has the
    higher risk (ties in risk count one half).

    A pair (i, j) is comparable when i has an event and t_i < t_j (j may be
    censored at t_j). Vectorised over customers with a loop over distinct event
    times only: for the customers with an event at time d, their risks are
    compared with the sorted risks of everyone still under observation after d.
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=bool)
    r = np.asarray(risk, dtype=float)
    order = np.argsort(t, kind="stable")
    t, e, r = t[order], e[order], r[order]
    concordant = 0.0
    comparable = 0.0
    for d in np.unique(t[e]):
        later = np.sort(r[t > d])
        if len(later) == 0:
            continue
        risks_d = r[(t == d) & e]
        below = np.searchsorted(later, risks_d, side="left")
        not_above = np.searchsorted(later, risks_d, side="right")
        concordant += float(np.sum(below) + 0.5 * np.sum(not_above - below))
        comparable += float(len(risks_d) * len(later))
    return concordant / comparable if comparable else float("nan")
