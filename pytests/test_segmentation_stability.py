"""The Adjusted Rand Index from the contingency table, in Python and in the SQL macro,
against scikit-learn's adjusted_rand_score on random labellings."""

from __future__ import annotations

from pathlib import Path

import duckdb
import jinja2
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from clientele.segmentation import adjusted_rand_index, ari_from_contingency, contingency_table

PROJECT = Path(__file__).resolve().parent.parent
MACRO = PROJECT / "macros/segmentation/segmentation_adjusted_rand_index.sql"


def random_labellings(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 400))
    a = rng.integers(0, int(rng.integers(1, 12)), n)
    # Half the time b is a noisy copy of a, so ARI covers the whole range, not just ~0.
    if seed % 2:
        b = np.where(rng.random(n) < rng.random(), a, rng.integers(0, 8, n))
    else:
        b = rng.integers(0, int(rng.integers(1, 12)), n)
    return a, b


@pytest.mark.parametrize("seed", range(60))
def test_ari_matches_sklearn_on_random_labellings(seed: int) -> None:
    a, b = random_labellings(seed)
    assert adjusted_rand_index(a, b) == pytest.approx(adjusted_rand_score(a, b), abs=1e-10)


def test_ari_is_invariant_to_renaming_and_detects_identity() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 5, 500)
    renamed = np.array(["v", "w", "x", "y", "z"])[(a + 2) % 5]
    assert adjusted_rand_index(a, renamed) == pytest.approx(1.0)
    shuffled = rng.permutation(a)
    assert abs(adjusted_rand_index(a, shuffled)) < 0.05


def test_degenerate_partitions_follow_sklearn() -> None:
    ones = np.zeros(10, dtype=int)
    singletons = np.arange(10)
    for a, b in [(ones, ones), (singletons, singletons), (ones, singletons), ([1], [2])]:
        assert adjusted_rand_index(a, b) == pytest.approx(adjusted_rand_score(a, b))


def test_contingency_table_counts_pairs_of_labels() -> None:
    table = contingency_table(["x", "x", "y", "y", "y"], [1, 2, 2, 2, 1])
    assert table.tolist() == [[1, 1], [1, 2]]
    assert ari_from_contingency(table) == pytest.approx(
        adjusted_rand_score(["x", "x", "y", "y", "y"], [1, 2, 2, 2, 1])
    )


def render_macro(counts: str, group_columns: list[str]) -> str:
    env = jinja2.Environment()
    template = env.from_string(
        MACRO.read_text()
        + "{{ segmentation_adjusted_rand_index(counts, group_columns) }}"
    )
    return template.render(counts=counts, group_columns=group_columns)


def test_sql_macro_matches_sklearn_per_group() -> None:
    frames, expected = [], {}
    for seed in range(25):
        a, b = random_labellings(seed)
        frames.append(pd.DataFrame({"g": seed, "label_a": a.astype(str), "label_b": b.astype(str)}))
        expected[seed] = adjusted_rand_score(a, b)
    con = duckdb.connect()
    con.register("labels", pd.concat(frames))
    con.execute(
        "create table counts as select g, label_a, label_b, count(*) as n "
        "from labels group by g, label_a, label_b"
    )
    result = con.execute(render_macro("counts", ["g"])).df().set_index("g")
    assert len(result) == len(expected)
    for g, value in expected.items():
        assert result.loc[g, "ari"] == pytest.approx(value, abs=1e-9)
