"""Adjusted Rand Index (Hubert & Arabie, 1985) from the contingency table of two labellings.

ARI = (sum_ij C(n_ij, 2) - E) / (0.5 (sum_i C(a_i, 2) + sum_j C(b_j, 2)) - E),
E = sum_i C(a_i, 2) sum_j C(b_j, 2) / C(n, 2),
with n_ij the number of items labelled i by the first labelling and j by the second,
a_i, b_j the row and column sums. 1 means identical partitions (up to renaming),
about 0 a chance agreement. The SQL in macros/segmentation/adjusted_rand_index.sql
computes the same formula from grouped counts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Labels = Sequence | np.ndarray


def contingency_table(labels_a: Labels, labels_b: Labels) -> np.ndarray:
    """Counts n_ij of items with label i in `labels_a` and label j in `labels_b` (dense)."""
    a = np.asarray(labels_a)
    b = np.asarray(labels_b)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError("labellings must be 1-d and of the same length")
    _, ia = np.unique(a, return_inverse=True)
    _, ib = np.unique(b, return_inverse=True)
    n_b = int(ib.max()) + 1 if ib.size else 0
    n_a = int(ia.max()) + 1 if ia.size else 0
    flat = np.bincount(ia.ravel() * n_b + ib.ravel(), minlength=n_a * n_b)
    return flat.reshape(n_a, n_b)


def _pairs(x: npt.ArrayLike) -> float:
    x = np.asarray(x, dtype=np.float64)
    return float((x * (x - 1.0) / 2.0).sum())


def ari_from_contingency(table: npt.ArrayLike) -> float:
    """Adjusted Rand Index from a contingency table of counts (any shape r x c).

    Degenerate cases follow scikit-learn: identical trivial partitions (all in one
    cluster on both sides, or all singletons on both sides) give 1.0.
    """
    counts = np.asarray(table, dtype=np.float64)
    n = counts.sum()
    sum_cells = _pairs(counts)
    sum_rows = _pairs(counts.sum(axis=1))
    sum_cols = _pairs(counts.sum(axis=0))
    total_pairs = n * (n - 1.0) / 2.0
    if total_pairs == 0:
        return 1.0
    expected = sum_rows * sum_cols / total_pairs
    maximum = 0.5 * (sum_rows + sum_cols)
    if maximum == expected:
        return 1.0
    return float((sum_cells - expected) / (maximum - expected))


def adjusted_rand_index(labels_a: Labels, labels_b: Labels) -> float:
    """Adjusted Rand Index between two labellings of the same items."""
    return ari_from_contingency(contingency_table(labels_a, labels_b))
