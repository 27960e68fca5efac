"""The seam's batch and sample helpers: a sample readable as a DuckDB predicate, key
ranges that split a large input by client, and bounded BLAS/torch threads."""

import numpy as np
import pandas as pd
import torch
from threadpoolctl import threadpool_info

from clientele import seam

ROWS = pd.DataFrame({"customer_id": [f"c'{i:04d}" for i in range(500)] * 3,
                     "amount": np.arange(1500)})


def test_sample_where_keeps_exactly_the_sampled_keys():
    for n in (0, 1, 37, 499, 500, 800):
        keys = set(seam.sample_keys(ROWS, "customer_id", n, seed=3)["customer_id"])
        predicate = seam.sample_where(ROWS, "customer_id", n, seed=3)
        if n >= 500:
            assert predicate is None and len(keys) == 500  # nothing to filter
            continue
        kept = seam.read_frame(ROWS, where=predicate)
        assert set(kept["customer_id"]) == keys and len(keys) == n
        assert len(kept) == 3 * n  # every row of a sampled key
    other_seed = seam.sample_keys(ROWS, "customer_id", 37, seed=4)["customer_id"]
    assert set(other_seed) != set(seam.sample_keys(ROWS, "customer_id", 37, seed=3)[
        "customer_id"])


def test_key_batches_cover_every_key_once_in_bounded_ranges():
    predicates = seam.key_batches(ROWS, "customer_id", 120, where="amount % 2 = 0")
    seen = [seam.read_frame(ROWS, where=f"({p}) and amount % 2 = 0") for p in predicates]
    # Even amounts belong to the 250 even keys (three rows each).
    assert len(predicates) == 3
    assert all(frame["customer_id"].nunique() <= 120 for frame in seen)
    together = pd.concat(seen)
    assert together["customer_id"].nunique() == 250 and len(together) == 750
    assert seam.key_batches(ROWS.iloc[:0], "customer_id", 10) == []


def test_bounded_threads_restores_the_callers_threads():
    before = torch.get_num_threads()
    with seam.bounded_threads(1):
        assert torch.get_num_threads() == 1
        assert all(pool["num_threads"] == 1 for pool in threadpool_info())
    assert torch.get_num_threads() == before
