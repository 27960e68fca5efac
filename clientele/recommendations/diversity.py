"""Best-seller penalty: popularity-debiased scores, then a cap on each product's exposure.

The beauty house wants lists that do not all collapse onto the same best-sellers. Two
levers, both vectorised over customers:

* ``penalty`` (beta): rank by log p(product | history) - beta * log p(product). It lowers
  best-sellers for everyone alike, whether or not they suit the client.
* ``max_exposure`` (cap): a *new* product (one the client has not bought or browsed) may
  fill at most ``max_exposure`` times the average number of the lists' first ``k`` slots
  per catalogue product (n_lists x k / n_items; inf = no cap). Relative to the average,
  the cap can always be met in total (>= 1), whatever the number of lists. Where a product is
  over-exposed it keeps the clients for whom it scores highest and the others get their
  next candidate (deferred acceptance, as in college admissions with capacities): exposure
  is bounded directly and the recall given up is the least the scores can tell. A client's
  own products are exempt: a repurchase is personal, not a best-seller pushed on everyone,
  and capping them too cost Online Retail far more recall per point of coverage (a
  prototype on its validation cut: -19 % recall for +22 % coverage).

``choose_penalty`` picks both on a validation cut before the test cut-off: the
combination with the highest catalogue coverage whose Recall@k stays within
``max_recall_loss`` of the raw model's.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from clientele.recommendations.metrics import catalog_coverage, recall_at_k

log = logging.getLogger("clientele.recommendations")


@dataclass(frozen=True)
class ExposureThresholds:
    """What the exposure cap's deferred acceptance settled on, per product: the score
    and the list key (ties: the earlier list) of the last list it kept; a list keeps a
    new product in its head only at or above that. ``score`` is -inf for a product
    the cap never limited.

    Set once on a set of lists (all of them, or a seeded sample: the cap is a share of
    the lists, ``max_exposure x lists x k / n_items``, so a sample gives about the same
    thresholds), then applied to every list batch by batch: a list's re-ranking depends
    only on its own candidates and the thresholds."""

    score: np.ndarray
    key: np.ndarray
    k: int


def exposure_thresholds(idx: np.ndarray, val: np.ndarray, k: int, max_exposure: float,
                        n_items: int, exempt: np.ndarray | None = None,
                        list_keys: np.ndarray | None = None, max_rounds: int = 500
                        ) -> ExposureThresholds | None:
    """Deferred acceptance of the lists' heads under the cap; None when the cap cannot bind.

    Args:
        idx: (n, m) candidate product indices per list, best first, -1 = none.
        val: (n, m) their scores; an over-exposed product keeps the lists that score it
            highest (ties: the earlier list, which must be the smaller list key).
        k: the capped head of each list.
        max_exposure: a product fills at most ceil(max_exposure * n * k / n_items) of the n
            lists' heads; inf (or a cap >= n) leaves the lists unchanged.
        n_items: catalogue size.
        exempt: optional (n, m) boolean, True where a candidate neither counts towards nor
            is limited by the cap (the client's own products: a repurchase is personal, not
            a best-seller pushed on everyone).
        list_keys: (n,) sortable keys of the lists in increasing order (client ids; by
            default their positions).
    """
    idx = np.asarray(idx)
    val = np.asarray(val)
    n = idx.shape[0]
    if not np.isfinite(max_exposure) or n == 0 or max_exposure * k * n >= n_items * n:
        return None
    cap = math.ceil(max_exposure * n * k / max(n_items, 1))
    if cap >= n:
        return None
    keys = np.arange(n) if list_keys is None else np.asarray(list_keys)
    size = max(n_items, int(idx.max()) + 1)
    kept_score = np.full(size, -np.inf)
    kept_row = np.full(size, -1)
    # Work on the heads only: head[r] holds the candidate columns of list r's current head,
    # next_col[r] the next candidate it would propose after a rejection.
    m = idx.shape[1]
    n_valid = (idx >= 0).sum(axis=1)
    free = np.ones_like(idx, dtype=bool) if exempt is None else ~np.asarray(exempt)
    head = np.tile(np.arange(k), (n, 1))
    head = np.where(head < n_valid[:, None], head, m)  # m = no candidate
    next_col = np.minimum(n_valid, k)
    rows = np.repeat(np.arange(n), k)
    for _ in range(max_rounds):
        cols = head.ravel()
        real = cols < m
        r, c = rows[real], cols[real]
        capped_entry = free[r, c]
        r, c = r[capped_entry], c[capped_entry]
        items = idx[r, c]
        order = np.lexsort((r, -val[r, c], items))
        sorted_items = items[order]
        starts = np.r_[0, np.flatnonzero(np.diff(sorted_items)) + 1]
        rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
        # A full product keeps its `cap` best lists; its threshold (the lowest kept
        # score) only rises, so a list skips at once every later candidate that could
        # not beat it: few rounds instead of one per displaced candidate. The last
        # thresholds are what the lists settled on.
        kept_last = order[rank == cap - 1]
        kept_score[items[kept_last]] = val[r[kept_last], c[kept_last]]
        kept_row[items[kept_last]] = r[kept_last]
        rejected = order[rank >= cap]
        if rejected.size == 0:
            break
        threshold = np.full(size + 1, -np.inf)
        threshold[:size] = kept_score
        rej_r, rej_c = r[rejected], c[rejected]
        lists, n_rej = np.unique(rej_r, return_counts=True)
        cand = idx[lists]
        viable = ((np.arange(m) >= next_col[lists, None]) & (cand >= 0)
                  & (~free[lists] | (val[lists] >= threshold[cand])))
        rank_viable = np.cumsum(viable, axis=1)
        take = viable & (rank_viable <= n_rej[:, None])
        # Rejected slots are refilled by the taken columns; a list short of viable
        # candidates leaves the rest of its slots empty (m).
        refill = np.full((len(lists), int(n_rej.max())), m)
        tr, tc = np.nonzero(take)
        refill[tr, rank_viable[tr, tc] - 1] = tc
        last_taken = np.where(take.any(axis=1), m - 1 - np.argmax(take[:, ::-1], axis=1), -1)
        next_col[lists] = np.where(n_rej <= rank_viable[:, -1], last_taken + 1, m)
        order_in_list = np.argsort(rej_r, kind="stable")
        rej_r, rej_c = rej_r[order_in_list], rej_c[order_in_list]
        first = np.r_[0, np.flatnonzero(np.diff(rej_r)) + 1]
        nth = np.arange(len(rej_r)) - np.repeat(first, np.diff(np.r_[first, len(rej_r)]))
        slot = np.argmax(head[rej_r] == rej_c[:, None], axis=1)
        head[rej_r, slot] = refill[np.searchsorted(lists, rej_r), nth]
    else:
        log.warning("exposure cap: no stable assignment after %d rounds", max_rounds)
    limited = kept_row >= 0
    key = np.empty(size, dtype=keys.dtype)
    key[limited] = keys[kept_row[limited]]
    return ExposureThresholds(kept_score, key, k)


def apply_exposure_thresholds(idx: np.ndarray, val: np.ndarray,
                              thresholds: ExposureThresholds | None,
                              exempt: np.ndarray | None = None,
                              list_keys: np.ndarray | None = None
                              ) -> tuple[np.ndarray, np.ndarray]:
    """Each list's head: its first k candidates it may keep (exempt ones, or scored at or
    above the product's threshold), then its other candidates, each in candidate order.
    A list whose candidates run out before its head is full is completed by its
    displaced products, so the cap is soft there (logged)."""
    idx, val = np.asarray(idx), np.asarray(val)
    if thresholds is None or idx.shape[0] == 0:
        return idx.copy(), val.copy()
    n = idx.shape[0]
    keys = np.arange(n) if list_keys is None else np.asarray(list_keys)
    valid = idx >= 0
    item = np.where(valid, idx, 0)
    limit = thresholds.score[item]
    allowed = (val > limit) | ~np.isfinite(limit)
    tie = valid & (val == limit) & np.isfinite(limit)
    if tie.any():
        rows, cols = np.nonzero(tie)
        allowed[rows, cols] = keys[rows] <= thresholds.key[item[rows, cols]]
    if exempt is not None:
        allowed |= np.asarray(exempt)
    allowed &= valid
    head = allowed & (np.cumsum(allowed, axis=1) <= thresholds.k)
    short = int((head.sum(axis=1) < np.minimum(thresholds.k, valid.sum(axis=1))).sum())
    if short:
        log.info("exposure cap: %d of %d lists ran out of candidates and are completed "
                 "by their displaced products", short, n)
    # Head first, then the rest, each in candidate order (a stable sort on "not in head").
    order = np.argsort(~head, axis=1, kind="stable")
    return np.take_along_axis(idx, order, axis=1), np.take_along_axis(val, order, axis=1)


def exposure_capped(idx: np.ndarray, val: np.ndarray, k: int, max_exposure: float,
                    n_items: int, exempt: np.ndarray | None = None, max_rounds: int = 500
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Re-rank candidate lists so that no product fills more than its capped share of the
    heads (see exposure_thresholds; the lists compete among themselves).

    Returns:
        (indices, scores), (n, m): each list's capped head (at most k, in candidate order),
        then its other candidates in their order.
    """
    thresholds = exposure_thresholds(idx, val, k, max_exposure, n_items, exempt,
                                     max_rounds=max_rounds)
    return apply_exposure_thresholds(idx, val, thresholds, exempt)


@dataclass(frozen=True)
class PenaltyChoice:
    """The strength chosen on validation and the grid it was chosen from."""

    penalty: float
    max_exposure: float
    grid: list[dict[str, float]]


Candidates = tuple[np.ndarray, np.ndarray, np.ndarray]
"""(idx, val, exempt), each (n, m): candidate products, scores, and whether the client
already bought or browsed the product (exempt from the exposure cap)."""


def choose_penalty(candidates: dict[float, Candidates], truth: sp.spmatrix,
                   n_catalog: int, exposures: Sequence[float], k: int = 10,
                   max_recall_loss: float = 0.08) -> PenaltyChoice:
    """The (penalty, exposure cap) with the highest coverage@k whose Recall@k is at least
    (1 - max_recall_loss) x the raw model's (penalty 0, no cap), on a validation cut.

    Args:
        candidates: penalty -> (idx, val, exempt) candidate lists (n, m) scored with that
            penalty; must contain penalty 0.0 (the raw model).
        truth: (n, n_items) what each validation client bought after the validation cut.
        n_catalog: catalogue size (coverage's denominator).
        exposures: caps to try (see exposure_capped; inf = no cap).
    Ties in coverage go to the weaker penalty, then the looser cap.
    """
    grid = []
    for penalty, (idx, val, exempt) in sorted(candidates.items()):
        for cap in sorted(set(exposures) | {np.inf}, reverse=True):
            top = exposure_capped(idx, val, k, cap, n_catalog, exempt)[0][:, :k]
            grid.append({"penalty": float(penalty), "max_exposure": float(cap),
                         "recall": float(np.nanmean(recall_at_k(top, truth, k))),
                         "coverage": catalog_coverage(top, n_catalog, k)})
    raw = next(g for g in grid if g["penalty"] == 0.0 and not np.isfinite(g["max_exposure"]))
    floor = (1.0 - max_recall_loss) * raw["recall"]
    allowed = [g for g in grid if g["recall"] >= floor] or [raw]
    best = max(allowed, key=lambda g: (g["coverage"], -g["penalty"], g["max_exposure"]))
    for g in grid:
        log.info("best-seller penalty %.2f, exposure cap %g: validation recall@%d %.4f, "
                 "coverage@%d %.3f%s", g["penalty"], g["max_exposure"], k, g["recall"], k,
                 g["coverage"], "  <- chosen" if g is best else "")
    return PenaltyChoice(best["penalty"], best["max_exposure"], grid)
