"""Lookalike of the early-adopter pool, learned as positive-unlabeled (PU) data.

The business rules give a pool of *known* early adopters (positives). The
other clients are not negatives: many are early adopters the rules cannot
see yet (too recent, bought launches in another way, ...). We therefore
treat them as unlabeled and follow Elkan & Noto (2008): a classifier
``g(x) = P(labeled | x)`` is trained on labeled vs unlabeled; under the
"selected completely at random" assumption ``P(y = 1 | x) = g(x) / c`` with
``c = E[g(x) | labeled]``, estimated on out-of-fold scores of the labeled
clients. Scores are out-of-fold for every client (a client is never scored
by a model that saw its own label) and clipped to [0, 1].

The features must be disjoint from the rule features (see
``int_launch__lookalike_features``), otherwise the model only re-learns the
rules and widens nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

CATEGORICAL = ("gender", "country")
MAX_LEVELS = 20
# Opportunity, not trait: a client who bought often and long ago had more launches to
# adopt, so the rule pool over-represents them (the labels are not "selected completely
# at random"). Left out of the model, the lookalike learns what early adopters are like
# rather than who had the most chances (demo brand: truth AUC 0.60 with them, 0.67 without).
OPPORTUNITY = ("purchase_count", "purchases_per_year", "days_since_last_purchase", "tenure_days")
#: Columns of the lookalike rows that are keys, dates, the label or the fold, not features.
NOT_FEATURES = ("reference_collection_id", "customer_id", "cutoff_date", "first_order_date",
                "in_pool", "fold")
#: The spend-mix column: per client, a list of {key, share} (share of spend per category
#: and price band, key like ``category=bags``), pivoted to one ``mix_<key>`` column each.
MIX_COLUMN = "mix"
MIX_PREFIX = "mix_"

Rows = pa.Table | pa.RecordBatch


def _floats(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)


class LookalikeMatrix:
    """The lookalike's model matrix with columns fixed at fit time, so that a sample
    and every later batch of clients give the same columns in the same order.

    Columns: the numeric features (as given), one-hot ``gender_*`` and ``country_*``
    (the ``max_levels`` most frequent levels, the rest as ``other``; levels sorted) and
    one ``mix_<key>`` spend share per key of the spend-mix lists (missing = 0). Works on
    Arrow tables and record batches, so a batch of clients never becomes Python objects.
    """

    def __init__(self, max_levels: int = MAX_LEVELS) -> None:
        self.max_levels = max_levels

    def fit(self, rows: Rows) -> LookalikeMatrix:
        names = rows.schema.names
        skip = {*NOT_FEATURES, *CATEGORICAL, *OPPORTUNITY, MIX_COLUMN}
        self.numeric_ = [c for c in names if c not in skip]
        self.levels_: dict[str, list[str]] = {}
        for col in CATEGORICAL:
            if col in names:
                counts = pc.value_counts(rows.column(col))
                pairs = [(v, n) for v, n in zip(counts.field("values").to_pylist(),
                                                counts.field("counts").to_pylist(), strict=True)
                         if v is not None]
                ranked = sorted(pairs, key=lambda kv: (-kv[1], str(kv[0])))
                top = {str(v) for v, _ in ranked[: self.max_levels]}
                in_top = sum(n for v, n in pairs if str(v) in top)
                self.levels_[col] = sorted(top | ({"other"} if in_top < rows.num_rows else set()))
        self.mix_ = []
        if MIX_COLUMN in names:
            flat = pc.list_flatten(rows.column(MIX_COLUMN))
            keys = pc.filter(pc.struct_field(flat, "key"), pc.is_valid(pc.struct_field(flat, "share")))
            self.mix_ = sorted(MIX_PREFIX + str(k) for k in pc.unique(keys).to_pylist())
        return self

    @property
    def columns_(self) -> list[str]:
        dummies = [f"{col}_{level}" for col, levels in self.levels_.items() for level in levels]
        return [*self.numeric_, *dummies, *self.mix_]

    @property
    def inputs_(self) -> list[str]:
        """The input columns the matrix is made of."""
        return [*self.numeric_, *self.levels_, *([MIX_COLUMN] if self.mix_ else [])]

    def transform(self, rows: Rows) -> pd.DataFrame:
        columns = self.columns_
        block = np.zeros((rows.num_rows, len(columns)))
        for j, col in enumerate(self.numeric_):
            block[:, j] = _floats(rows.column(col))
        start = len(self.numeric_)
        for col, levels in self.levels_.items():
            codes = pc.index_in(rows.column(col), value_set=pa.array(levels, pa.string()))
            # A level outside the kept ones (or a missing one) counts as other.
            other = levels.index("other") if "other" in levels else -1
            codes = codes.fill_null(other).to_numpy(zero_copy_only=False).astype(int)
            known = codes >= 0
            block[np.flatnonzero(known), start + codes[known]] = 1.0
            start += len(levels)
        if self.mix_:
            mix = rows.column(MIX_COLUMN)
            flat = pc.list_flatten(mix)
            parents = pc.list_parent_indices(mix).to_numpy(zero_copy_only=False)
            keys = [k.removeprefix(MIX_PREFIX) for k in self.mix_]
            at = pc.index_in(pc.struct_field(flat, "key"), value_set=pa.array(keys, pa.string()))
            at = at.fill_null(-1).to_numpy(zero_copy_only=False).astype(int)
            shares = _floats(pc.struct_field(flat, "share"))
            ok = (at >= 0) & np.isfinite(shares)  # a missing share counts as 0
            block[parents[ok], start + at[ok]] = shares[ok]
        return pd.DataFrame(block, columns=columns)

    def to_json(self) -> str:
        return json.dumps({"numeric": self.numeric_, "levels": self.levels_, "mix": self.mix_})

    @classmethod
    def from_json(cls, spec: str) -> LookalikeMatrix:
        loaded = json.loads(spec)
        matrix = cls()
        matrix.numeric_, matrix.levels_, matrix.mix_ = (
            loaded["numeric"], loaded["levels"], loaded["mix"])
        return matrix


class PULookalike:
    """XGBoost lookalike with out-of-fold, PU-calibrated scores.

    Parameters
    ----------
    n_estimators, max_depth, learning_rate:
        XGBoost settings.
    n_folds:
        Folds for out-of-fold scores.
    n_jobs:
        XGBoost threads.
    random_state:
        Seed of the folds and the trees.
    """

    def __init__(
        self,
        n_estimators: int = 100,
        max_depth: int = 2,
        learning_rate: float = 0.08,
        n_folds: int = 5,
        n_jobs: int = 1,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.n_folds = n_folds
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _model(self):  # noqa: ANN202 - xgboost is imported lazily
        from xgboost import XGBClassifier

        return XGBClassifier(
            n_estimators=self.n_estimators,
            max_depth=self.max_depth,
            learning_rate=self.learning_rate,
            subsample=0.8,
            colsample_bytree=0.8,
            min_child_weight=2.0,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
            tree_method="hist",
            eval_metric="logloss",
        )

    def fit(self, X: pd.DataFrame, labeled: np.ndarray, sampling_ratio: float = 1.0
            ) -> PULookalike:
        """Fold models, out-of-fold scores for every row, the PU constant c and feature
        importances. ``sampling_ratio``: the labeled rows' sampling rate over the
        unlabeled rows' (1 when every client is in ``X``)."""
        s = np.asarray(labeled, dtype=int)
        n_pos = int(s.sum())
        if n_pos < self.n_folds or n_pos == len(s):
            raise ValueError(
                f"need {self.n_folds}+ labeled and some unlabeled rows, got {n_pos}/{len(s)}"
            )
        self.sampling_ratio_ = float(sampling_ratio)
        self.feature_names_ = [str(c) for c in X.columns]
        values = X.to_numpy(dtype=np.float32)
        oof = np.zeros(len(s))
        folds = StratifiedKFold(self.n_folds, shuffle=True, random_state=self.random_state)
        self.fold_of_row_ = np.zeros(len(s), dtype=int)
        self.boosters_ = []
        self.fold_importances_ = []
        for k, (train, test) in enumerate(folds.split(values, s)):  # a loop over folds
            model = self._model().fit(values[train], s[train])
            booster = model.get_booster()
            oof[test] = booster.inplace_predict(values[test])
            self.fold_of_row_[test] = k
            self.boosters_.append(booster)
            self.fold_importances_.append(model.feature_importances_.astype(float))
        self.raw_oof_ = self._unsampled(oof)
        self.c_ = float(self.raw_oof_[s == 1].mean())
        self.oof_scores_ = self._calibrated(self.raw_oof_)
        self.feature_importances_ = pd.Series(
            np.sum([imp / self.n_folds for imp in self.fold_importances_], axis=0),
            index=X.columns).sort_values(ascending=False)
        self.labeled_auc_ = float(roc_auc_score(s, self.raw_oof_))
        return self

    def _unsampled(self, p: np.ndarray) -> np.ndarray:
        """P(labeled | x) in the whole population from the sample's: odds / ratio."""
        if self.sampling_ratio_ == 1.0:
            return p
        return p / (p + self.sampling_ratio_ * (1.0 - p))

    def _calibrated(self, raw: np.ndarray) -> np.ndarray:
        return np.clip(raw / max(self.c_, 1e-9), 0.0, 1.0)

    def predict_raw(self, X: pd.DataFrame, folds: np.ndarray) -> np.ndarray:
        """P(labeled | x) of each row by the fold model given for it (``folds``)."""
        values = X.to_numpy(dtype=np.float32)
        folds = np.asarray(folds, dtype=int)
        raw = np.zeros(len(values))
        for k, booster in enumerate(self.boosters_):  # a loop over folds
            rows = folds == k
            if rows.any():
                raw[rows] = booster.inplace_predict(values[rows])
        return self._unsampled(raw)

    def predict(self, X: pd.DataFrame, folds: np.ndarray) -> np.ndarray:
        """PU-calibrated P(early adopter | x) = raw / c, clipped to [0, 1]."""
        return self._calibrated(self.predict_raw(X, folds))

    def booster_bytes(self) -> list[bytes]:
        """The fold models, serialised (XGBoost UBJSON)."""
        return [bytes(b.save_raw("ubj")) for b in self.boosters_]

    @classmethod
    def from_fitted(cls, boosters: Sequence[bytes], c: float, sampling_ratio: float,
                    n_jobs: int = 1) -> PULookalike:
        """A fitted lookalike from its serialised fold models and constants."""
        import xgboost

        model = cls(n_folds=len(boosters), n_jobs=n_jobs)
        model.boosters_ = []
        for raw in boosters:
            booster = xgboost.Booster(model_file=bytearray(raw))
            booster.set_param({"nthread": n_jobs})
            model.boosters_.append(booster)
        model.c_, model.sampling_ratio_ = float(c), float(sampling_ratio)
        return model


def top_share_metrics(
    scores: np.ndarray, labels: np.ndarray, share: float = 0.1
) -> dict[str, float]:
    """AUC, precision and lift in the top ``share`` of scores against binary labels."""
    labels = np.asarray(labels, dtype=bool)
    n_top = max(int(round(share * len(scores))), 1)
    top = np.argsort(-scores, kind="stable")[:n_top]
    base = labels.mean() if len(labels) else np.nan
    precision = labels[top].mean() if len(top) else np.nan
    auc = roc_auc_score(labels, scores) if 0 < labels.sum() < len(labels) else np.nan
    return {
        "auc": float(auc),
        "precision": float(precision),
        "lift": float(precision / base) if base > 0 else np.nan,
        "base_rate": float(base),
        "n_top": float(n_top),
        "hits": float(labels[top].sum()),
    }
