"""The thread limits Python models run under are shared by the whole process: dbt runs two
models in two threads of one process, and a model whose limits changed half-way through a
fit gave another fit (to the last bits) than the same build run again."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from clientele import seam


def _blas_threads() -> int:
    blas = [lib for lib in threadpool_info() if lib["user_api"] == "blas"]
    if not blas:
        pytest.skip("no BLAS library found by threadpoolctl")
    return int(blas[0]["num_threads"])


def test_a_model_leaving_does_not_change_the_threads_of_one_still_running():
    _blas_threads()
    inside = threading.Event()
    first_left = threading.Event()
    seen: dict[str, int] = {}

    def second_model() -> None:
        with seam.bounded_threads(2):
            seen["second, on entry"] = _blas_threads()
            inside.set()
            first_left.wait(10)
            seen["second, after the first left"] = _blas_threads()

    with threadpool_limits(limits=3):  # the process's own setting, restored at the end
        with seam.bounded_threads(1):
            seen["first"] = _blas_threads()
            other = threading.Thread(target=second_model)
            other.start()
            assert inside.wait(10)
        first_left.set()
        other.join(10)
    # The first model in sets the limit; the second keeps it, even after the first left
    # (before: the first one's exit restored 3 threads under the second one's fit).
    assert seen == {"first": 1, "second, on entry": 1, "second, after the first left": 1}


def test_the_limits_are_restored_when_the_last_model_leaves():
    _blas_threads()
    with threadpool_limits(limits=3):
        with seam.bounded_threads(1):
            with seam.bounded_threads(1):
                assert _blas_threads() == 1
            assert _blas_threads() == 1
        assert _blas_threads() == 3


def test_a_stream_is_produced_within_the_limits():
    _blas_threads()
    produced: list[int] = []

    def parts():
        for i in range(3):
            produced.append(_blas_threads())
            yield pd.DataFrame({"x": [i]})

    schema = seam.fields(("x", pa.int64()))
    with threadpool_limits(limits=3):
        reader = seam.stream(schema, parts())  # the parts run when the stream is read
        assert reader.read_all().column("x").to_pylist() == [0, 1, 2]
        assert _blas_threads() == 3
    assert produced == [1, 1, 1]


def test_a_decorated_entry_point_runs_within_the_limits():
    _blas_threads()

    @seam.bounded_threads()
    def fit() -> int:
        np.ones((4, 4)) @ np.ones((4, 4))
        return _blas_threads()

    with threadpool_limits(limits=3):
        assert fit() == 1
        assert _blas_threads() == 3


def test_a_torch_still_being_imported_by_another_model_is_left_alone(monkeypatch):
    """dbt ran segmentation while the LSTM model was importing torch: the partly
    initialised module had no get_num_threads yet and the build failed."""
    import types

    monkeypatch.setitem(sys.modules, "torch", types.ModuleType("torch"))
    with seam.bounded_threads():
        pass
