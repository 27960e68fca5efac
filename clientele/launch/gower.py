"""Weighted Gower similarity between two sets of products, vectorised.

Gower (1971): the similarity of two items is the weighted mean, over the
attributes both items have, of a per-attribute similarity: 1 when two
categorical values are equal (0 otherwise), ``1 - |x - y| / range`` for a
numeric attribute. An attribute missing on either side drops out of that
pair's mean. Unlike ``gower.gower_matrix`` (which loops over rows in Python),
this computes one ``n_a x n_b`` block per attribute with NumPy broadcasting,
in float32, and is meant for products x new products (thousands x hundreds),
computed once and then joined to purchases.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Attribute:
    """One attribute of the similarity: its column, kind and weight."""

    name: str
    kind: str  # "categorical" or "numeric"
    weight: float


class GowerSimilarity:
    """Weighted Gower similarity, scikit-learn style.

    Parameters
    ----------
    attributes:
        Mapping ``column -> (kind, weight)`` with kind ``"categorical"`` or
        ``"numeric"``, e.g. read from ``seeds/launch_gower_weights.csv``.
        Columns absent from the frames are ignored.

    ``fit`` learns the numeric ranges (on the whole catalogue, so that a
    similarity means the same whatever subsets are compared); ``transform``
    returns the ``len(a) x len(b)`` similarity matrix in [0, 1].
    """

    def __init__(self, attributes: Mapping[str, tuple[str, float]]) -> None:
        self.attributes = dict(attributes)

    @classmethod
    def from_seed(cls, seed: pd.DataFrame) -> GowerSimilarity:
        """From a frame with columns attribute, kind, weight (the seed)."""
        return cls(
            {
                str(r.attribute): (str(r.kind), float(r.weight))
                for r in seed.itertuples(index=False)
                if float(r.weight) > 0
            }
        )

    def _active(self, frame: pd.DataFrame) -> list[Attribute]:
        out = []
        for name, (kind, weight) in self.attributes.items():
            if kind not in ("categorical", "numeric"):
                raise ValueError(
                    f"attribute {name}: kind must be categorical or numeric, not {kind}"
                )
            if name in frame.columns and weight > 0:
                out.append(Attribute(name, kind, float(weight)))
        return out

    def fit(self, products: pd.DataFrame) -> GowerSimilarity:
        """Learn numeric ranges (max - min) on the catalogue."""
        self.attributes_ = self._active(products)
        self.ranges_: dict[str, float] = {}
        for attr in self.attributes_:
            if attr.kind == "numeric":
                values = pd.to_numeric(products[attr.name], errors="coerce").to_numpy(float)
                finite = values[np.isfinite(values)]
                span = float(finite.max() - finite.min()) if len(finite) else 0.0
                self.ranges_[attr.name] = span if span > 0 else 1.0
        return self

    def transform(self, a: pd.DataFrame, b: pd.DataFrame) -> np.ndarray:
        """Similarity matrix ``len(a) x len(b)`` (float32)."""
        if not hasattr(self, "attributes_"):
            raise RuntimeError("call fit() first")
        n_a, n_b = len(a), len(b)
        num = np.zeros((n_a, n_b), dtype=np.float32)
        den = np.zeros((n_a, n_b), dtype=np.float32)
        for attr in self.attributes_:  # a loop over attributes, never over products
            w = np.float32(attr.weight)
            if attr.kind == "categorical":
                both = pd.concat([a[attr.name], b[attr.name]], ignore_index=True).astype("object")
                codes, _ = pd.factorize(both, use_na_sentinel=True)
                ca, cb = codes[:n_a], codes[n_a:]
                present = (ca[:, None] >= 0) & (cb[None, :] >= 0)
                same = (ca[:, None] == cb[None, :]) & present
                num += w * same
            else:
                xa = pd.to_numeric(a[attr.name], errors="coerce").to_numpy(np.float32)
                xb = pd.to_numeric(b[attr.name], errors="coerce").to_numpy(np.float32)
                diff = np.abs(xa[:, None] - xb[None, :]) / np.float32(self.ranges_[attr.name])
                present = np.isfinite(diff)
                num += w * np.where(present, 1.0 - np.minimum(diff, 1.0), 0.0).astype(np.float32)
            den += w * present
        with np.errstate(invalid="ignore", divide="ignore"):
            sim = np.where(den > 0, num / den, 0.0).astype(np.float32)
        return sim

    def fit_transform(self, a: pd.DataFrame, b: pd.DataFrame) -> np.ndarray:
        """Fit ranges on ``a`` and ``b`` together, then transform."""
        return self.fit(pd.concat([a, b], ignore_index=True)).transform(a, b)
