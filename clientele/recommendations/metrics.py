"""Ranking metrics over top-k index arrays, vectorised over customers.

Conventions (documented in docs/recommendations.md):

* ``top_k``: (n_users, K) int array of item indices, best first, -1 for an empty slot.
  It is the head of a full ranking over the whole catalogue (never sampled negatives).
* ``truth``: scipy.sparse matrix (n_users, n_items), nonzero where the user really
  bought the item in the holdout window. Users without any relevant item should be
  removed before evaluation (they have no recall).
* Recall@k = hits in the top k / min(k, |relevant|)  (so a perfect ranking scores 1).
* NDCG@k with binary gains and log2 discount, ideal DCG over min(k, |relevant|) items.
* HitRate@k = share of users with at least one hit in the top k.
* Coverage@k = distinct items recommended in anyone's top k / catalogue size.
* Novelty@k = mean self-information -log2(p_i) of recommended items, p_i the share of
  training customers who bought item i (smoothed by one customer).
* Best-seller share@k = share of all top-k slots taken by the 10 items most training
  customers bought: how much the lists collapse onto the same best-sellers.
* Exposure Gini@k = Gini coefficient of the number of top-k slots per catalogue item
  (0 = every item equally exposed, 1 = one item in every slot).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def _hits(top_k: np.ndarray, truth: sp.spmatrix, k: int) -> np.ndarray:
    """Boolean (n_users, k): is the item at each of the first k slots relevant."""
    truth = sp.csr_matrix(truth)
    n_users, n_items = truth.shape
    top = np.asarray(top_k)[:, :k]
    if top.shape[0] != n_users:
        raise ValueError(f"top_k has {top.shape[0]} rows, truth has {n_users}")
    coo = truth.tocoo()
    truth_keys = np.sort(coo.row.astype(np.int64) * n_items + coo.col)
    rows = np.repeat(np.arange(n_users, dtype=np.int64), top.shape[1]).reshape(top.shape)
    keys = rows * n_items + np.where(top >= 0, top, 0)
    # A binary search in the sorted truth: np.isin hashed the keys, 100x slower here.
    at = np.searchsorted(truth_keys, keys).clip(max=max(len(truth_keys) - 1, 0))
    found = truth_keys[at] == keys if len(truth_keys) else np.zeros(keys.shape, dtype=bool)
    return found & (top >= 0)


def _n_relevant(truth: sp.spmatrix) -> np.ndarray:
    return np.asarray((sp.csr_matrix(truth) != 0).sum(axis=1)).ravel()


def recall_at_k(top_k: np.ndarray, truth: sp.spmatrix, k: int) -> np.ndarray:
    """Per-user recall@k = hits / min(k, relevant); NaN for a user with nothing relevant."""
    hits = _hits(top_k, truth, k).sum(axis=1)
    denom = np.minimum(_n_relevant(truth), k).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, hits / denom, np.nan)


def ndcg_at_k(top_k: np.ndarray, truth: sp.spmatrix, k: int) -> np.ndarray:
    """Per-user NDCG@k with binary relevance; NaN for a user with nothing relevant."""
    hits = _hits(top_k, truth, k)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hits * discounts[: hits.shape[1]]).sum(axis=1)
    n_ideal = np.minimum(_n_relevant(truth), k)
    ideal_cum = np.concatenate([[0.0], np.cumsum(discounts)])
    idcg = ideal_cum[n_ideal]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(idcg > 0, dcg / idcg, np.nan)


def hit_rate_at_k(top_k: np.ndarray, truth: sp.spmatrix, k: int) -> np.ndarray:
    """Per-user 1.0 if any of the first k items is relevant, else 0.0."""
    return _hits(top_k, truth, k).any(axis=1).astype(float)


def catalog_coverage(top_k: np.ndarray, n_items: int, k: int) -> float:
    """Share of the catalogue appearing in at least one user's top k."""
    top = np.asarray(top_k)[:, :k]
    return float(np.unique(top[top >= 0]).size / n_items) if n_items else 0.0


def novelty_at_k(top_k: np.ndarray, item_popularity: np.ndarray, n_train_users: int,
                 k: int) -> float:
    """Mean self-information (bits) of the recommended items.

    item_popularity: (n_items,) number of training customers who bought each item.
    """
    top = np.asarray(top_k)[:, :k]
    items = top[top >= 0]
    if items.size == 0:
        return float("nan")
    p = (np.asarray(item_popularity, dtype=float)[items] + 1.0) / (n_train_users + 1.0)
    return float(np.mean(-np.log2(p)))


def best_seller_share(top_k: np.ndarray, item_popularity: np.ndarray, k: int,
                      n_best: int = 10) -> float:
    """Share of the filled top-k slots taken by the n_best most popular items."""
    top = np.asarray(top_k)[:, :k]
    items = top[top >= 0]
    if items.size == 0:
        return float("nan")
    popularity = np.asarray(item_popularity)
    best = np.lexsort((np.arange(popularity.size), -popularity))[:n_best]
    return float(np.isin(items, best).mean())


def exposure_gini(top_k: np.ndarray, n_items: int, k: int) -> float:
    """Gini coefficient of top-k slots per item over the n_items catalogue."""
    top = np.asarray(top_k)[:, :k]
    slots = np.sort(np.bincount(top[top >= 0], minlength=n_items)).astype(float)
    if n_items == 0 or slots.sum() == 0:
        return float("nan")
    ranks = np.arange(1, n_items + 1)
    return float((2 * ranks - n_items - 1) @ slots / (n_items * slots.sum()))


def evaluate_ranking(
    top_k: np.ndarray,
    truth: sp.spmatrix,
    ks: tuple[int, ...] = (3, 10, 20),
    item_popularity: np.ndarray | None = None,
    n_train_users: int | None = None,
    n_catalog: int | None = None,
) -> list[dict[str, float | int | str]]:
    """All metrics for one method: rows {metric, k, value, n}.

    Users with no relevant item are ignored for recall/ndcg/hit_rate; coverage and novelty
    are computed on every user's list.
    """
    truth = sp.csr_matrix(truth)
    evaluable = _n_relevant(truth) > 0
    top_eval, truth_eval = np.asarray(top_k)[evaluable], truth[evaluable]
    n = int(evaluable.sum())
    rows: list[dict[str, float | int | str]] = []
    for k in ks:
        for name, fn in (("recall", recall_at_k), ("ndcg", ndcg_at_k),
                         ("hit_rate", hit_rate_at_k)):
            value = float(np.nanmean(fn(top_eval, truth_eval, k))) if n else float("nan")
            rows.append({"metric": name, "k": k, "value": value, "n": n})
        n_items = n_catalog if n_catalog is not None else truth.shape[1]
        rows.append({"metric": "coverage", "k": k,
                     "value": catalog_coverage(top_k, n_items, k), "n": len(top_k)})
        rows.append({"metric": "exposure_gini", "k": k,
                     "value": exposure_gini(top_k, n_items, k), "n": len(top_k)})
        if item_popularity is not None and n_train_users is not None:
            rows.append({"metric": "novelty", "k": k,
                         "value": novelty_at_k(top_k, item_popularity, n_train_users, k),
                         "n": len(top_k)})
            rows.append({"metric": "best_seller_share", "k": k,
                         "value": best_seller_share(top_k, item_popularity, k),
                         "n": len(top_k)})
    return rows
