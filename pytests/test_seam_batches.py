"""The seam's batch and sample helpers: a sample readable as a DuckDB predicate, an input
streamed a bounded number of clients at a time, and bounded BLAS/torch threads."""

import logging

import numpy as np
import pandas as pd
import torch
from threadpoolctl import threadpool_info

from clientele import seam

ROWS = pd.DataFrame({"customer_id": [f"c'{i:04d}" for i in range(500)] * 3,
                     "amount": np.arange(1500)})


def test_sample_filter_keeps_exactly_the_sampled_keys():
    for n in (0, 1, 37, 499, 500, 800):
        keys = set(seam.sample_keys(ROWS, "customer_id", n, seed=3)["customer_id"])
        predicate = seam.sample_filter(ROWS, "customer_id", n, seed=3)
        if n >= 500:
            assert predicate is None and len(keys) == 500  # nothing to filter
            continue
        kept = seam.read_frame(ROWS, where=predicate)
        assert set(kept["customer_id"]) == keys and len(keys) == n
        assert len(kept) == 3 * n  # every row of a sampled key
    other_seed = seam.sample_keys(ROWS, "customer_id", 37, seed=4)["customer_id"]
    assert set(other_seed) != set(seam.sample_keys(ROWS, "customer_id", 37, seed=3)[
        "customer_id"])


def test_draw_sample_gives_the_keys_and_their_predicate_in_one_query():
    keys, predicate = seam.draw_sample(ROWS, "customer_id", 37, seed=3)
    expected = seam.sample_keys(ROWS, "customer_id", 37, seed=3)["customer_id"]
    assert keys.tolist() == expected.tolist()
    assert predicate == seam.sample_filter(ROWS, "customer_id", 37, seed=3)
    assert seam.draw_sample(ROWS, "customer_id", 500, seed=3)[1] is None


def test_iter_key_batches_never_splits_a_key_and_bounds_the_keys():
    frames = list(seam.iter_key_batches(ROWS, "customer_id", 120, where="amount % 2 = 0",
                                        batch_rows=97))
    # Even amounts belong to the 250 even keys (three rows each).
    assert [f["customer_id"].nunique() for f in frames] == [120, 120, 10]
    together = pd.concat(frames)
    assert len(together) == 750 and together["customer_id"].nunique() == 250
    assert together["customer_id"].is_monotonic_increasing
    assert list(seam.iter_key_batches(ROWS.iloc[:0], "customer_id", 10)) == []


def test_bounded_threads_restores_the_callers_threads():
    before = torch.get_num_threads()
    with seam.bounded_threads(1):
        assert torch.get_num_threads() == 1
        assert all(pool["num_threads"] == 1 for pool in threadpool_info())
    assert torch.get_num_threads() == before


def test_key_batches_survive_queries_on_the_same_connection_between_frames():
    # The ranker reads its LSTM lists between client batches on dbt's one connection: a
    # streamed scan ended there without an error and lost every client after the first
    # batch.
    import duckdb

    con = duckdb.connect()
    n = 300_000
    con.execute(f"create table events as select 'c' || lpad(cast(i % {n // 3} as varchar), 7, '0') "
                "as customer_id, i as amount from range(" + str(n) + ") as t(i)")
    events = con.table("events")
    seen: set[str] = set()
    for frame in seam.iter_key_batches(events, "customer_id", 20_000, batch_rows=10_000):
        con.sql("select count(*) from events").fetchall()
        assert frame["customer_id"].is_monotonic_increasing
        seen |= set(frame["customer_id"])
    assert len(seen) == n // 3


def test_client_progress_logs_each_time_another_block_of_clients_is_done():
    log = logging.getLogger("clientele.progress_test")
    log.setLevel(logging.INFO)
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    log.addHandler(handler)
    try:
        progress = seam.ClientProgress(log, "ranker current", every=100)
        for batch in (60, 60, 60, 250, 30):
            progress.add(batch)
    finally:
        log.removeHandler(handler)
    # 60, 120 (crosses 100), 180, 430 (crosses 200, 300 and 400: one line), 460.
    assert lines == ["ranker current: 120 clients so far", "ranker current: 430 clients so far"]
    assert progress.done == 460
