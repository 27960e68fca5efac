"""Weighted sampling of products within groups, vectorised over millions of draws.

Each purchase or view picks a product from a group (the products of one family
on sale in one period, or those of a preferred colour, material or price band).
Building a Python list per group and looping over draws would be far too slow,
so all (group, product, weight) pairs live in one array sorted by group with a
running cumulative weight, and one `searchsorted` serves every draw at once.
"""

from __future__ import annotations

import numpy as np

# Bit layout of a group key: period | family | gender set | style kind | style value.
FAMILY_BITS = 6
GSET_BITS = 2
KIND_BITS = 2
VALUE_BITS = 6

KIND_NONE = 0
KIND_COLOR = 1
KIND_MATERIAL = 2
KIND_BAND = 3


def group_key(
    period: np.ndarray | int,
    family: np.ndarray | int,
    gset: np.ndarray | int,
    kind: np.ndarray | int,
    value: np.ndarray | int,
) -> np.ndarray:
    """Pack the parts of a group into one int64, so groups sort and search as numbers."""
    key = np.asarray(period, dtype=np.int64)
    key = (key << FAMILY_BITS) | np.asarray(family, dtype=np.int64)
    key = (key << GSET_BITS) | np.asarray(gset, dtype=np.int64)
    key = (key << KIND_BITS) | np.asarray(kind, dtype=np.int64)
    key = (key << VALUE_BITS) | np.asarray(value, dtype=np.int64)
    return key


class GroupSampler:
    """Draw one item per requested group, with probability proportional to its weight."""

    def __init__(self, keys: np.ndarray, items: np.ndarray, weights: np.ndarray) -> None:
        # A stable sort keeps the build deterministic when keys tie.
        order = np.lexsort((items, keys))
        self._items = items[order].astype(np.int64)
        sorted_keys = keys[order]
        w = weights[order].astype(np.float64)
        self._cum = np.cumsum(w)
        self.keys, starts = np.unique(sorted_keys, return_index=True)
        ends = np.append(starts[1:], len(sorted_keys))
        self._start = starts
        self._end = ends
        self._lo = self._cum[starts] - w[starts]
        self._hi = self._cum[ends - 1]

    def sample(self, keys: np.ndarray, u: np.ndarray) -> np.ndarray:
        """One item index per key (u uniform in [0, 1)); -1 where the group is empty."""
        keys = np.asarray(keys, dtype=np.int64)
        out = np.full(len(keys), -1, dtype=np.int64)
        if len(keys) == 0 or len(self.keys) == 0:
            return out
        pos = np.searchsorted(self.keys, keys)
        pos_c = np.minimum(pos, len(self.keys) - 1)
        found = self.keys[pos_c] == keys
        g = pos_c[found]
        target = self._lo[g] + u[found] * (self._hi[g] - self._lo[g])
        idx = np.searchsorted(self._cum, target, side="right")
        idx = np.clip(idx, self._start[g], self._end[g] - 1)
        out[found] = self._items[idx]
        return out


def sample_rows(cum: np.ndarray, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Draw a column per row of a row-stochastic matrix given as cumulative sums."""
    c = cum[rows]
    return np.minimum((u[:, None] >= c).sum(axis=1), cum.shape[1] - 1)
