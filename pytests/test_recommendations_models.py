"""ALS, sequence construction and the LSTM on small synthetic data with a known answer."""

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from clientele.recommendations.als import ImplicitALS
from clientele.recommendations.evaluation import ranked_array
from clientele.recommendations.lstm import LSTMRecommender, build_sequences
from clientele.recommendations.metrics import recall_at_k


def _two_communities(n_users: int = 200, n_items: int = 20, seed: int = 0) -> sp.csr_matrix:
    """Users 0..n/2 buy among items 0..9, the rest among 10..19."""
    rng = np.random.default_rng(seed)
    rows, cols = [], []
    for group, items in ((0, np.arange(10)), (1, np.arange(10, 20))):
        users = np.arange(n_users)[np.arange(n_users) % 2 == group]
        chosen = rng.choice(items, size=(len(users), 4))
        rows.append(np.repeat(users, 4))
        cols.append(chosen.ravel())
    r, c = np.concatenate(rows), np.concatenate(cols)
    return sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(n_users, n_items))


def test_als_recovers_communities_and_is_seeded():
    R = _two_communities()
    model = ImplicitALS(factors=4, iterations=8, seed=1).fit(R)
    idx, _ = model.recommend(5)
    group_of_item = idx >= 10
    user_group = (np.arange(R.shape[0]) % 2 == 1)[:, None]
    assert (group_of_item == user_group).mean() > 0.95
    again = ImplicitALS(factors=4, iterations=8, seed=1).fit(R)
    np.testing.assert_allclose(model.user_factors_, again.user_factors_)


def test_build_sequences_left_pads_and_targets_next_purchase_day():
    # Customer 0: day 1 views item 5, day 2 buys 1, day 3 buys 2 and 3.
    seq = build_sequences(
        user=np.array([0, 0, 0, 0, 1]), item=np.array([5, 1, 2, 3, 4]),
        event_type=np.array([2, 0, 0, 0, 0]), day=np.array([1, 2, 3, 3, 7]),
        max_steps=4, max_events_per_step=2, max_targets_per_step=2)
    assert seq.items.shape == (2, 4, 2)
    np.testing.assert_array_equal(seq.items[0, :, 0], [0, 6, 2, 3])  # index + 1, left padded
    assert seq.types[0, 1, 0] == 2
    np.testing.assert_array_equal(seq.targets[0, 1], [2, 0])  # after the view: item 1
    np.testing.assert_array_equal(seq.targets[0, 2], [3, 4])  # after day 2: items 2 and 3
    assert (seq.targets[0, 3] == 0).all() and (seq.targets[1] == 0).all()


def _chain_sequences(n_users: int = 300, n_items: int = 12, seed: int = 0):
    """Each customer buys item i, i+1, i+2, i+3 (mod n_items) on four days."""
    rng = np.random.default_rng(seed)
    start = rng.integers(0, n_items, n_users)
    users = np.repeat(np.arange(n_users), 4)
    items = (np.repeat(start, 4) + np.tile([0, 1, 2, 3], n_users)) % n_items
    days = np.tile([1, 2, 3, 4], n_users)
    return users, items, days, start


def test_lstm_learns_a_sequence_popularity_cannot_and_is_deterministic():
    users, items, days, start = _chain_sequences()
    n_items = 12
    train = days < 4
    seq = build_sequences(users[train], items[train], np.zeros(train.sum(), int), days[train],
                          max_steps=4, max_events_per_step=2)
    params = dict(n_items=n_items, embedding_dim=16, hidden_dim=16, epochs=25, threads=1,
                  batch_size=512, learning_rate=0.02, seed=3)
    model = LSTMRecommender(**params).fit(seq)
    logp = model.log_proba(seq, np.arange(len(seq.users)))
    truth = sp.csr_matrix((np.ones(len(seq.users)), (np.arange(len(seq.users)),
                                                      (start[seq.users] + 3) % n_items)),
                          shape=(len(seq.users), n_items))
    top = np.argsort(-logp, axis=1)[:, :3]
    lstm_recall = np.nanmean(recall_at_k(top, truth, 1))
    # Popularity can only be right about 1/12 of the time.
    assert lstm_recall > 0.5
    assert model.history_[-1]["loss"] < model.history_[0]["loss"]
    assert model.best_epoch_ > 0  # validation chose a trained epoch over the initial model
    again = LSTMRecommender(**params).fit(seq).log_proba(seq, np.arange(len(seq.users)))
    np.testing.assert_allclose(logp, again, rtol=1e-5, atol=1e-5)


def test_lstm_scores_skip_the_padding_without_changing_them():
    """log_proba runs the LSTM over each client's real days only (the state after padded
    days is shared): the same scores as the full padded run."""
    users, items, days, _ = _chain_sequences()
    keep = (users % 3 != 0) | (days >= 3)  # some clients with fewer active days
    seq = build_sequences(users[keep], items[keep], np.zeros(keep.sum(), int), days[keep],
                          max_steps=6)
    model = LSTMRecommender(n_items=12, embedding_dim=8, hidden_dim=8, epochs=1).fit(seq)
    rows = np.arange(len(seq.users))
    net = model.net_.eval()
    with torch.no_grad():
        full = net.hidden(torch.from_numpy(seq.items).long(),
                          torch.from_numpy(seq.types).long())[:, -1]
        fast = net.last_hidden(torch.from_numpy(seq.items).long(),
                               torch.from_numpy(seq.types).long())
    np.testing.assert_allclose(full.numpy(), fast.numpy(), rtol=1e-6, atol=1e-7)
    assert model.log_proba(seq, rows).shape == (len(rows), 12)


def test_als_fold_in_is_the_exact_least_squares_solution():
    R = _two_communities()
    model = ImplicitALS(factors=4, iterations=4, seed=1).fit(R)
    dense = R.toarray()
    dense[3, :] = 2.0  # a client who bought every product: the direct (f x f) path
    counts = sp.csr_matrix(dense)
    folded = model.fold_in(counts)
    Y = model.item_factors_.astype(float)
    for user in (0, 1, 3):
        row = counts[user].toarray().ravel()
        confidence = 1 + model.alpha * np.log1p(row)
        A = Y.T @ (confidence[:, None] * Y) + model.regularization * np.eye(4)
        expected = np.linalg.solve(A, Y.T @ (confidence * (row > 0)))
        np.testing.assert_allclose(folded[user], expected, rtol=1e-4, atol=1e-5)
    halves = np.vstack([model.fold_in(counts[:50]), model.fold_in(counts[50:])])
    np.testing.assert_array_equal(folded, halves)


def test_ranked_array_completes_lists_without_duplicates():
    users, products = pd.Index(["a", "b"]), pd.Index(["p0", "p1", "p2", "p3"])
    first = pd.DataFrame({"customer_id": ["a", "a"], "product_id": ["p2", "p9"], "rank": [1, 2]})
    fallback = pd.DataFrame({"customer_id": ["a", "a", "b"], "product_id": ["p2", "p0", "p1"],
                             "rank": [1, 2, 1]})
    top = ranked_array(users, products, [first, fallback], 3)
    np.testing.assert_array_equal(top, [[2, 0, -1], [1, -1, -1]])


def test_build_sequences_horizon_targets_everything_bought_within_it():
    # Day 1 buys 1; day 3 buys 2; day 40 buys 3.
    args = dict(user=np.array([0, 0, 0]), item=np.array([1, 2, 3]),
                event_type=np.array([0, 0, 0]), day=np.array([1, 3, 40]), max_steps=3,
                max_events_per_step=2, max_targets_per_step=3)
    seq = build_sequences(**args, target_horizon_days=30)
    np.testing.assert_array_equal(seq.targets[0, 0], [3, 0, 0])  # only day 3 within 30 days
    assert (seq.targets[0, 1] == 0).all() and (seq.targets[0, 2] == 0).all()  # day 40 too far
    seq = build_sequences(**args, target_horizon_days=40)
    np.testing.assert_array_equal(seq.targets[0, 0], [3, 4, 0])  # days 3 and 40
    np.testing.assert_array_equal(seq.targets[0, 1], [4, 0, 0])
