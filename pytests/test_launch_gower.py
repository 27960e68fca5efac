"""Weighted Gower similarity and appetence: vectorised results equal a naive reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clientele.launch.appetence import AppetenceScorer, percentile, purchase_matrix
from clientele.launch.gower import GowerSimilarity

ATTRS = {"category": ("categorical", 3.0), "color": ("categorical", 1.0), "price": ("numeric", 2.0)}


def _products(n: int, rng: np.random.Generator) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "category": rng.choice(["bags", "shoes", "rtw"], n).astype(object),
            "color": rng.choice(["black", "white", "red", "tan"], n).astype(object),
            "price": rng.uniform(100, 3000, n),
        }
    )
    frame.loc[rng.random(n) < 0.1, "color"] = None
    frame.loc[rng.random(n) < 0.1, "price"] = np.nan
    return frame


def _naive(a: pd.DataFrame, b: pd.DataFrame, span: float) -> np.ndarray:
    out = np.zeros((len(a), len(b)))
    for i in range(len(a)):
        for j in range(len(b)):
            num = den = 0.0
            for name, (kind, w) in ATTRS.items():
                x, y = a[name].iloc[i], b[name].iloc[j]
                if pd.isna(x) or pd.isna(y):
                    continue
                s = float(x == y) if kind == "categorical" else 1 - abs(x - y) / span
                num, den = num + w * s, den + w
            out[i, j] = num / den if den else 0.0
    return out


def test_gower_matches_the_definition_with_missing_values():
    rng = np.random.default_rng(1)
    a, b = _products(40, rng), _products(15, rng)
    both = pd.concat([a, b])
    sim = GowerSimilarity(ATTRS).fit(both).transform(a, b)
    span = both["price"].max() - both["price"].min()
    np.testing.assert_allclose(sim, _naive(a, b, span), atol=1e-5)
    assert sim.shape == (40, 15) and sim.min() >= 0 and sim.max() <= 1


def test_gower_weights_change_the_ranking():
    a = pd.DataFrame({"category": ["bags"], "color": ["black"], "price": [1000.0]})
    b = pd.DataFrame(
        {"category": ["bags", "shoes"], "color": ["red", "black"], "price": [1000.0] * 2}
    )
    by_category = GowerSimilarity({"category": ("categorical", 5.0), "color": ("categorical", 1.0)})
    by_color = GowerSimilarity({"category": ("categorical", 1.0), "color": ("categorical", 5.0)})
    assert by_category.fit(b).transform(a, b).argmax() == 0
    assert by_color.fit(b).transform(a, b).argmax() == 1


def test_gower_rejects_an_unknown_kind():
    with pytest.raises(ValueError):
        GowerSimilarity({"category": ("ordinal", 1.0)}).fit(pd.DataFrame({"category": ["x"]}))


def test_appetence_is_the_weighted_mean_similarity_and_chunking_does_not_change_it():
    rng = np.random.default_rng(2)
    n_clients, n_products, n_new = 300, 50, 12
    sim = rng.random((n_products, n_new)).astype(np.float32)
    rows = rng.integers(0, n_clients, 2000)
    prods = rng.integers(0, n_products, 2000)
    weights = rng.random(2000)
    ids = np.array([f"C{r:04d}" for r in rows], dtype=object)
    pm = purchase_matrix(ids, prods, weights, n_products)
    dense = np.zeros((len(pm.customer_ids), n_products))
    pos = {c: i for i, c in enumerate(pm.customer_ids)}
    for c, p, w in zip(ids, prods, weights, strict=True):
        dense[pos[c], p] += w
    expected = (dense / dense.sum(axis=1, keepdims=True)) @ sim
    for chunk in (7, 10_000):
        r, c, v = AppetenceScorer(top_n=3, chunk_size=chunk).top_products(pm, sim)
        np.testing.assert_allclose(v, expected[r, c], rtol=1e-4)
        best = np.sort(expected, axis=1)[:, ::-1][:, :3].ravel()
        np.testing.assert_allclose(v, best, rtol=1e-4)
    codes, per_col = AppetenceScorer().collection_scores(pm, sim, np.array([0] * 6 + [1] * 6))
    np.testing.assert_allclose(per_col[:, 0], expected[:, :6].mean(axis=1), rtol=1e-4)
    assert list(codes) == [0, 1]


def test_percentile_is_in_unit_interval_and_monotone():
    p = percentile(np.array([3.0, 1.0, 2.0, 2.0]))
    assert p.min() > 0 and p.max() < 1
    assert p[1] < p[2] == p[3] < p[0]


def test_appetence_scales_linearly_enough_for_a_million_clients():
    """50k clients x 200 new products must take well under 3 s (1M in <= 60 s)."""
    from clientele.launch.bench import run

    timings = run(clients=50_000, new_products=200, catalog=5_000, per_client=5.0, top_n=20)
    assert timings["total_seconds"] * 20 < 60, timings


def test_purchase_lists_give_the_same_matrix_as_purchase_rows():
    import pyarrow as pa

    from clientele.launch.appetence import purchase_matrix_from_lists

    rng = np.random.default_rng(4)
    rows = pd.DataFrame({"customer_id": rng.choice([f"C{i}" for i in range(60)], 400),
                         "product": rng.integers(-1, 30, 400),  # -1: not in the catalogue
                         "weight": rng.uniform(0.1, 2, 400)})
    rows = rows.drop_duplicates(["customer_id", "product"]).sort_values(["customer_id", "product"])
    expected = purchase_matrix(rows["customer_id"].to_numpy(object), rows["product"].to_numpy(),
                               rows["weight"].to_numpy(), 30)
    lists = pa.Table.from_pandas(rows.groupby("customer_id", sort=True).agg(list).reset_index())
    part = lists.slice(7)  # a batch that starts mid-table: its offsets do not start at 0
    offsets = part.column("product").chunk(0).offsets.to_numpy()
    got = purchase_matrix_from_lists(
        part.column("customer_id").chunk(0), offsets - offsets[0],
        part.column("product").chunk(0).flatten().to_numpy(),
        part.column("weight").chunk(0).flatten().to_numpy(), 30)
    first = list(expected.customer_ids).index(part.column("customer_id")[0].as_py())
    assert got.customer_ids.to_pylist() == list(expected.customer_ids[first:])
    assert (got.matrix != expected.matrix[first:]).nnz == 0
