"""Best-seller penalty: exposure cap, its choice on validation, and the exposure metrics."""

import numpy as np
import scipy.sparse as sp

from clientele.recommendations.diversity import (
    apply_exposure_thresholds,
    choose_penalty,
    exposure_capped,
    exposure_thresholds,
)
from clientele.recommendations.metrics import best_seller_share, exposure_gini

# Four lists that all rank product 0 first; product 0 scores highest for list 2.
IDX = np.array([[0, 1, 2], [0, 2, 3], [0, 3, 1], [0, 1, 3]])
VAL = np.array([[-1.0, -2, -3], [-1.5, -2, -3], [-0.5, -2, -3], [-2.0, -2.5, -3]])


def test_exposure_cap_keeps_the_lists_that_score_the_product_highest():
    # 4 lists x 1 slot over 4 products: one slot each on average; a cap of 2 x that.
    idx, val = exposure_capped(IDX, VAL, k=1, max_exposure=2, n_items=4)
    heads = idx[:, 0]
    assert (heads == 0).sum() == 2
    np.testing.assert_array_equal(heads, [0, 2, 0, 1])  # lists 0 and 2 score 0 highest
    # The displaced product follows the head; each row is a permutation of its candidates.
    np.testing.assert_array_equal(idx[1], [2, 0, 3])
    np.testing.assert_allclose(val[1], [-2, -1.5, -3])
    assert all(sorted(a) == sorted(b) for a, b in zip(idx.tolist(), IDX.tolist(), strict=True))


def test_exposure_cap_respects_the_cap_over_the_whole_head():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(200, 80)) - np.linspace(0, 3, 80)  # item 0 the best-seller
    idx = np.argsort(-scores, axis=1)[:, :40]
    val = np.take_along_axis(scores, idx, axis=1)
    # 1000 slots over 80 products: 12.5 on average, at most 2 x 12.5 -> 25 per product.
    capped, _ = exposure_capped(idx, val, k=5, max_exposure=2, n_items=80)
    assert np.bincount(capped[:, :5].ravel()).max() <= 25
    assert np.bincount(idx[:, :5].ravel()).max() > 25  # the cap did bind


def test_exposure_cap_exempts_the_clients_own_products():
    exempt = np.zeros_like(IDX, dtype=bool)
    exempt[:, 0] = True  # every client already bought product 0
    idx, _ = exposure_capped(IDX, VAL, k=1, max_exposure=1, n_items=4, exempt=exempt)
    np.testing.assert_array_equal(idx[:, 0], [0, 0, 0, 0])


def test_choose_penalty_takes_the_most_coverage_within_the_recall_loss():
    truth = sp.csr_matrix(np.eye(4, 5)[[0, 0, 0, 3]])  # three clients buy 0, one buys 3
    raw = (IDX, VAL, np.zeros_like(IDX, dtype=bool))
    # A "penalty" that never ranks the best-seller: more coverage, much less recall.
    debiased = (IDX[:, 1:], VAL[:, 1:], np.zeros((4, 2), dtype=bool))
    strict = choose_penalty({0.0: raw, 1.0: debiased}, truth, 5, [np.inf, 1.0], k=1,
                            max_recall_loss=0.1)
    assert (strict.penalty, strict.max_exposure) == (0.0, np.inf)
    loose = choose_penalty({0.0: raw, 1.0: debiased}, truth, 5, [np.inf, 1.0], k=1,
                           max_recall_loss=1.0)
    assert (loose.penalty, loose.max_exposure) != (0.0, np.inf)
    best = max(loose.grid, key=lambda g: g["coverage"])
    assert best["coverage"] == next(g["coverage"] for g in loose.grid
                                    if g["penalty"] == loose.penalty
                                    and g["max_exposure"] == loose.max_exposure)


def test_best_seller_share_and_exposure_gini():
    top = np.array([[0, 1], [0, 2], [0, -1]])
    popularity = np.array([5, 1, 0, 3])  # product 0 and 3 are the two best-sellers
    assert best_seller_share(top, popularity, k=2, n_best=2) == 3 / 5
    assert exposure_gini(np.array([[0], [1], [2], [3]]), 4, 1) == 0.0
    assert exposure_gini(np.array([[0], [0], [0], [0]]), 4, 1) == 0.75  # (n-1)/n at most


def test_exposure_thresholds_set_once_apply_batch_by_batch():
    """The cap's deferred acceptance settles on per-product thresholds: applied to the
    lists in any batches, they give exactly the jointly capped lists, ties included
    (identical clients score identically; the earlier client id keeps the slot)."""
    rng = np.random.default_rng(1)
    scores = np.round(rng.normal(size=(120, 30)) - np.linspace(0, 2, 30), 1)
    scores[::4] = scores[0]  # a quarter of the clients are identical
    idx = np.argsort(-scores, axis=1, kind="stable")[:, :12]
    val = np.take_along_axis(scores, idx, axis=1)
    exempt = rng.random(idx.shape) < 0.1
    keys = np.array([f"C{i:04d}" for i in range(len(idx))])
    joint, _ = exposure_capped(idx, val, k=4, max_exposure=1.5, n_items=30, exempt=exempt)
    thresholds = exposure_thresholds(idx, val, 4, 1.5, 30, exempt, list_keys=keys)
    batched = np.vstack([apply_exposure_thresholds(idx[s:s + 25], val[s:s + 25], thresholds,
                                                   exempt[s:s + 25], keys[s:s + 25])[0]
                         for s in range(0, len(idx), 25)])
    np.testing.assert_array_equal(batched, joint)
    assert not np.array_equal(joint, idx)  # the cap did bind
    assert exposure_thresholds(idx, val, 4, np.inf, 30) is None
