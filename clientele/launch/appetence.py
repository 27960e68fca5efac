"""Appetence: how close what a client bought is to products nobody has bought yet.

The product x new-product Gower similarity ``S`` is computed once (small:
catalogue x new collection). A client's appetence for new product j is the
recency-weighted mean of ``S[p, j]`` over the products p the client bought:
``A = W @ S`` with ``W`` the sparse clients x products matrix of purchase
weights, rows normalised to 1. That is one sparse-dense product, done in
chunks of clients so memory stays bounded; no loop over clients.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy import sparse


@dataclass
class PurchaseMatrix:
    """Clients x products purchase weights, rows summing to 1 (``customer_ids``: one per
    row, a NumPy or Arrow array)."""

    customer_ids: Any
    matrix: sparse.csr_matrix


def _normalised(customer_ids: Any, m: sparse.csr_matrix) -> PurchaseMatrix:
    # Products in a fixed order within each row, whatever order the rows came in: float
    # sums (row totals, the product with the similarity matrix) then add up identically.
    m = m.tocsr()
    m.sort_indices()
    row_sum = np.asarray(m.sum(axis=1)).ravel()
    inv = np.where(row_sum > 0, 1.0 / np.maximum(row_sum, 1e-12), 0.0).astype(np.float32)
    m = sparse.diags(inv) @ m
    return PurchaseMatrix(customer_ids, m.tocsr())


def purchase_matrix(
    customer_ids: np.ndarray,
    product_pos: np.ndarray,
    weights: np.ndarray,
    n_products: int,
) -> PurchaseMatrix:
    """Build the row-normalised clients x products matrix from purchase rows.

    ``product_pos`` is each row's position in the similarity matrix's rows;
    rows with a negative position (product not in the catalogue) are dropped.
    """
    keep = (product_pos >= 0) & np.isfinite(weights) & (weights > 0)
    cust_codes, uniques = pd.factorize(pd.Series(customer_ids[keep]), sort=True)
    m = sparse.csr_matrix(
        (weights[keep].astype(np.float32), (cust_codes, product_pos[keep])),
        shape=(len(uniques), n_products),
    )
    return _normalised(np.asarray(uniques, dtype=object), m)


def purchase_matrix_from_lists(
    customer_ids: Any,
    offsets: np.ndarray,
    product_pos: np.ndarray,
    weights: np.ndarray,
    n_products: int,
) -> PurchaseMatrix:
    """The same matrix from each client's purchase list: client i bought
    ``product_pos[offsets[i]:offsets[i + 1]]`` (increasing positions, no repeats), so no
    factorisation is needed. Purchases outside the catalogue (negative position) are
    dropped, and a client left with none."""
    offsets = np.asarray(offsets, dtype=np.int64)
    counts_all = np.diff(offsets)
    keep = (product_pos >= 0) & np.isfinite(weights) & (weights > 0)
    rows = np.repeat(np.arange(len(counts_all)), counts_all)
    counts = np.bincount(rows[keep], minlength=len(counts_all))
    bought = counts > 0
    indptr = np.concatenate([[0], np.cumsum(counts[bought])])
    m = sparse.csr_matrix(
        (weights[keep].astype(np.float32), product_pos[keep].astype(np.int32), indptr),
        shape=(int(bought.sum()), n_products),
    )
    ids = customer_ids.filter(pa.array(bought)) if isinstance(customer_ids, pa.Array) \
        else np.asarray(customer_ids)[bought]
    return _normalised(ids, m)


class AppetenceScorer:
    """Client appetence for new products and collections.

    Parameters
    ----------
    top_n:
        New products kept per client by ``top_products`` (the full client x
        new-product matrix is never materialised at once).
    chunk_size:
        Clients per block of the sparse-dense product.
    """

    def __init__(self, top_n: int = 20, chunk_size: int = 50_000) -> None:
        self.top_n = top_n
        self.chunk_size = chunk_size

    def top_products(
        self,
        purchases: PurchaseMatrix,
        similarity: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The ``top_n`` new products per client: (client row, new-product column, appetence)."""
        sim = np.ascontiguousarray(similarity, dtype=np.float32)
        n_clients, n_new = purchases.matrix.shape[0], sim.shape[1]
        k = min(self.top_n, n_new)
        rows, cols, vals = [], [], []
        for start in range(0, n_clients, self.chunk_size):  # blocks of clients, not clients
            block = purchases.matrix[start : start + self.chunk_size] @ sim
            block = np.asarray(block, dtype=np.float32)
            if k < n_new:
                idx = np.argpartition(-block, k - 1, axis=1)[:, :k]
            else:
                idx = np.broadcast_to(np.arange(n_new), block.shape).copy()
            top = np.take_along_axis(block, idx, axis=1)
            order = np.argsort(-top, axis=1, kind="stable")
            idx = np.take_along_axis(idx, order, axis=1)
            top = np.take_along_axis(top, order, axis=1)
            rows.append(np.repeat(np.arange(start, start + block.shape[0]), k))
            cols.append(idx.ravel())
            vals.append(top.ravel())
        if not rows:
            return np.array([], int), np.array([], int), np.array([], np.float32)
        return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)

    def collection_scores(
        self,
        purchases: PurchaseMatrix,
        similarity: np.ndarray,
        new_collection: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per client x collection: the weighted mean similarity to the collection's products.

        ``new_collection`` gives the collection code (0..n_col-1) of each
        column of ``similarity``. Returns (collection codes, clients x
        collections matrix). Because the mean over a collection's products
        commutes with the weighted mean over purchases, it is ``W @ M`` with
        ``M[p, c]`` the mean similarity of product p to collection c.
        """
        codes = np.unique(new_collection)
        onehot = (new_collection[:, None] == codes[None, :]).astype(np.float32)
        onehot /= onehot.sum(axis=0, keepdims=True)
        per_collection = np.asarray(similarity, dtype=np.float32) @ onehot
        return codes, np.asarray(purchases.matrix @ per_collection, dtype=np.float32)


def percentile(values: np.ndarray) -> np.ndarray:
    """Rank of each value among all, scaled to [0, 1] (ties share the mean rank)."""
    if len(values) == 0:
        return values.astype(float)
    ranks = pd.Series(values).rank(method="average").to_numpy()
    return (ranks - 0.5) / len(values)
