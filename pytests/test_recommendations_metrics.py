"""Ranking metrics on hand-computed cases, and top-k selection."""

import numpy as np
import pytest
import scipy.sparse as sp

from clientele.recommendations.metrics import (
    catalog_coverage,
    evaluate_ranking,
    hit_rate_at_k,
    ndcg_at_k,
    novelty_at_k,
    recall_at_k,
)
from clientele.recommendations.topk import chunked_top_k, top_k_indices

# User 0 bought items {1, 3}; user 1 bought {0}; catalogue of 5 items.
TRUTH = sp.csr_matrix(np.array([[0, 1, 0, 1, 0], [1, 0, 0, 0, 0]]))
# User 0's list: 3 (hit), 2, 1 (hit); user 1's list: 4, 2, -1 (an empty slot).
TOP = np.array([[3, 2, 1], [4, 2, -1]])


def test_recall_divides_by_min_k_and_relevant():
    # k=1: user 0 hit at rank 1 -> 1/min(1,2)=1; user 1 -> 0.
    np.testing.assert_allclose(recall_at_k(TOP, TRUTH, 1), [1.0, 0.0])
    # k=3: user 0 has both items -> 2/2.
    np.testing.assert_allclose(recall_at_k(TOP, TRUTH, 3), [1.0, 0.0])
    # k=2: user 0 one hit out of min(2, 2).
    np.testing.assert_allclose(recall_at_k(TOP, TRUTH, 2), [0.5, 0.0])


def test_ndcg_hand_computed():
    # User 0, k=3: DCG = 1/log2(2) + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3).
    expected = 1.5 / (1 + 1 / np.log2(3))
    np.testing.assert_allclose(ndcg_at_k(TOP, TRUTH, 3), [expected, 0.0])


def test_hit_rate():
    np.testing.assert_allclose(hit_rate_at_k(TOP, TRUTH, 3), [1.0, 0.0])


def test_coverage_ignores_empty_slots():
    # Items recommended in the top 2: {3, 2, 4} of 5.
    assert catalog_coverage(TOP, 5, 2) == pytest.approx(3 / 5)
    assert catalog_coverage(TOP, 5, 3) == pytest.approx(4 / 5)


def test_novelty_is_self_information():
    popularity = np.array([9, 0, 9, 0, 0])
    # Top 1: items 3 and 4, each p = (0+1)/(9+1) -> -log2(0.1).
    assert novelty_at_k(TOP, popularity, 9, 1) == pytest.approx(-np.log2(0.1))


def test_evaluate_ranking_skips_users_without_purchases():
    truth = sp.vstack([TRUTH, sp.csr_matrix((1, 5))]).tocsr()
    top = np.vstack([TOP, [[0, 1, 2]]])
    rows = evaluate_ranking(top, truth, ks=(3,))
    recall = next(r for r in rows if r["metric"] == "recall")
    assert recall["n"] == 2 and recall["value"] == pytest.approx(0.5)
    coverage = next(r for r in rows if r["metric"] == "coverage")
    assert coverage["n"] == 3


def test_top_k_order_mask_and_padding():
    scores = np.array([[0.1, 0.9, 0.5, 0.9], [1.0, 2.0, 3.0, 4.0]])
    idx, _ = top_k_indices(scores, 3)
    # Ties broken by the lower index.
    np.testing.assert_array_equal(idx, [[1, 3, 2], [3, 2, 1]])
    mask = np.array([True, False, False, True])
    idx, val = top_k_indices(scores, 3, mask)
    np.testing.assert_array_equal(idx, [[3, 0, -1], [3, 0, -1]])
    assert np.isneginf(val[0, 2])


def test_chunked_top_k_matches_full():
    rng = np.random.default_rng(0)
    scores = rng.random((50, 30))
    full, _ = top_k_indices(scores, 5)
    chunked, _ = chunked_top_k(lambda rows: scores[rows], 50, 5, chunk_size=7)
    np.testing.assert_array_equal(full, chunked)
