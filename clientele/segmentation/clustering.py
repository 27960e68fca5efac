"""Clustering customers on scaled RFM + satisfaction features.

KMeans on log-transformed, standardised features: RFM amounts are heavy-tailed
(a few customers spend 100x the median), so recency, frequency, spend and basket
go through log1p before standardisation; satisfaction and delivery shares are
bounded and only standardised. A feature missing for a customer (no review yet,
no delivery with a promised date) takes the training median; a feature missing
for everyone, or constant, is dropped with a logged reason (Online Retail has no
reviews), so the same code runs on every dataset.

k is chosen in [k_min, k_max] by two criteria, both reported in `selection_`:
silhouette (separation, on a fixed-seed sample) and stability (mean ARI between
the full-data partition and partitions refitted on random 80% subsamples, which
is the resampling stability of Ben-Hur et al., 2002). The chosen k is the one
with the best silhouette among those whose stability reaches `min_stability`
(the most stable k when none does). Every fit uses fixed seeds and `n_init`
restarts. Cluster ids are renumbered by value (1 = highest mean net spend), so
that ids mean the same thing between runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from clientele import seam
from clientele.segmentation.settings import SegmentationSettings
from clientele.segmentation.stability import adjusted_rand_index

log = logging.getLogger("clientele.segmentation")


#: Features the clustering may use; (name, log-transform before scaling).
CLUSTER_FEATURES: tuple[tuple[str, bool], ...] = (
    ("recency_days", True),
    ("frequency", True),
    ("monetary", True),
    ("avg_basket", True),
    ("avg_review_score", False),
    ("low_review_share", False),
    ("late_delivery_share", False),
)


@dataclass
class CustomerFeatureScaler:
    """log1p (for heavy-tailed features) + median imputation + standardisation.

    Parameters
    ----------
    features:
        (column, log-transform) pairs to use; columns absent from the frame count as
        missing for everyone and are dropped at fit time.
    """

    features: tuple[tuple[str, bool], ...] = CLUSTER_FEATURES

    def fit(self, frame: pd.DataFrame) -> CustomerFeatureScaler:
        names = [name for name, _ in self.features]
        raw = pd.DataFrame(self._raw_matrix(frame, names), columns=names, index=frame.index)
        self.columns_: list[str] = []
        self.dropped_: dict[str, str] = {}
        medians, means, stds = {}, {}, {}
        for name in raw.columns:
            values = raw[name]
            if values.notna().sum() == 0:
                self.dropped_[name] = "missing for every customer"
                continue
            median = float(values.median())
            filled = values.fillna(median)
            std = float(filled.std(ddof=0))
            if not np.isfinite(std) or std < 1e-12:
                self.dropped_[name] = "constant"
                continue
            self.columns_.append(name)
            medians[name], means[name], stds[name] = median, float(filled.mean()), std
        if not self.columns_:
            raise ValueError("no usable feature to cluster on")
        self.medians_ = pd.Series(medians)
        self.means_ = pd.Series(means)
        self.stds_ = pd.Series(stds)
        for name, reason in self.dropped_.items():
            log.info("clustering: feature %s dropped (%s)", name, reason)
        return self

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        return self.transform_raw(self.raw_matrix(frame))

    def raw_matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """Every feature of ``features`` as float64, log1p'd where asked, NaN where missing:
        the same for every fitted scaler, so scoring one batch with many models (one per
        month end) reads it once."""
        return self._raw_matrix(frame, [name for name, _ in self.features])

    def transform_raw(self, raw: np.ndarray) -> np.ndarray:
        """Scaled features from :meth:`raw_matrix`, in numpy (per-column pandas operations
        would cost more than the KMeans when millions of customers are scored)."""
        names = [name for name, _ in self.features]
        picked = raw[:, [names.index(name) for name in self.columns_]]
        filled = np.where(np.isnan(picked), self.medians_.to_numpy(), picked)
        return (filled - self.means_.to_numpy()) / self.stds_.to_numpy()

    def fit_transform(self, frame: pd.DataFrame) -> np.ndarray:
        return self.fit(frame).transform(frame)

    def _raw_matrix(self, frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
        """Columns as float64 (non-numbers and absent columns NaN), log1p'd where asked."""
        use_log = dict(self.features)
        out = np.full((len(frame), len(columns)), np.nan)
        for j, name in enumerate(columns):
            if name not in frame.columns:
                continue
            values = frame[name]
            if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
                values = pd.to_numeric(values, errors="coerce")
            numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
            if use_log.get(name, False):
                numbers = np.log1p(np.clip(numbers, 0, None))
            out[:, j] = numbers
        return out


class SegmentClusterer:
    """KMeans segmentation with k chosen by silhouette and resampling stability.

    Parameters
    ----------
    n_clusters:
        Fixed k; None selects k in [k_min, k_max].
    k_min, k_max:
        Range of k tried when selecting.
    n_init:
        KMeans restarts per fit (best inertia kept).
    random_state:
        Seed of every fit, sample and subsample.
    max_fit_rows:
        Fit on a fixed-seed sample of at most this many customers; predict all.
    silhouette_sample:
        Customers the silhouette is computed on.
    n_stability_runs, stability_fraction:
        Subsamples refitted to measure stability, and their size.
    min_stability:
        Mean ARI a k needs to be eligible.
    value_column:
        Raw column whose cluster mean orders the ids (1 = highest).
    n_threads:
        BLAS/OpenMP threads for KMeans; 1 is fastest on a shared machine (many
        small fits; more threads oversubscribe the cores dbt already uses).
    sort_key:
        Column the training rows are sorted by before fitting, so that the same data
        in any row order gives the same clusters (ignored when absent).
    """

    def __init__(
        self,
        n_clusters: int | None = None,
        k_min: int = 4,
        k_max: int = 8,
        n_init: int = 10,
        random_state: int = 42,
        max_fit_rows: int = 20_000,
        silhouette_sample: int = 3_000,
        n_stability_runs: int = 3,
        stability_fraction: float = 0.8,
        min_stability: float = 0.8,
        value_column: str = "monetary",
        features: tuple[tuple[str, bool], ...] = CLUSTER_FEATURES,
        n_threads: int = 1,
        sort_key: str = "customer_id",
    ) -> None:
        self.n_clusters = n_clusters
        self.k_min = k_min
        self.k_max = k_max
        self.n_init = n_init
        self.random_state = random_state
        self.max_fit_rows = max_fit_rows
        self.silhouette_sample = silhouette_sample
        self.n_stability_runs = n_stability_runs
        self.stability_fraction = stability_fraction
        self.min_stability = min_stability
        self.value_column = value_column
        self.features = features
        self.n_threads = n_threads
        self.sort_key = sort_key

    @classmethod
    def from_settings(cls, settings: SegmentationSettings, n_clusters: int | None = None
                      ) -> SegmentClusterer:
        """The clusterer ``dbt build`` uses (k chosen in range unless ``n_clusters``)."""
        return cls(
            n_clusters=n_clusters, k_min=settings.k_min, k_max=settings.k_max,
            n_init=settings.n_init, random_state=settings.seed,
            max_fit_rows=settings.max_fit_rows, silhouette_sample=settings.silhouette_sample,
            n_stability_runs=settings.stability_runs,
            stability_fraction=settings.stability_fraction,
            min_stability=settings.min_stability,
        )

    # -- fitting ---------------------------------------------------------------
    def fit(self, frame: pd.DataFrame) -> SegmentClusterer:
        """Fit the scaler and KMeans on `frame` (one row per buyer)."""
        with seam.bounded_threads(self.n_threads):
            return self._fit(frame)

    def _fit(self, frame: pd.DataFrame) -> SegmentClusterer:
        if len(frame) < 2:
            raise ValueError("need at least two customers to cluster")
        self._selection_fits_: dict[int, KMeans] = {}
        # KMeans initialisation and the samples depend on row order, and a warehouse
        # returns rows in any order: sort by the sort key so that a seed means one result.
        if self.sort_key in frame.columns:
            frame = frame.sort_values(self.sort_key, kind="stable")
        rng = np.random.default_rng(self.random_state)
        if len(frame) > self.max_fit_rows:
            keep = np.sort(rng.choice(len(frame), self.max_fit_rows, replace=False))
            frame = frame.iloc[keep]
        self.scaler_ = CustomerFeatureScaler(self.features).fit(frame)
        x = self.scaler_.transform(frame)
        n_distinct = len(np.unique(x, axis=0))
        if self.n_clusters is not None:
            k = int(min(self.n_clusters, n_distinct))
            self.selection_ = pd.DataFrame()
        else:
            self.selection_ = self.select_k(x)
            k = int(self.selection_.loc[self.selection_["is_chosen"], "k"].iloc[0])
        self.n_clusters_ = k
        # select_k already fitted this k on the same rows with the same seed.
        model = self._selection_fits_.get(k)
        if model is None:
            model = self._kmeans(k).fit(x)
        self._selection_fits_ = {}
        # Renumber by value: 1 = highest mean of value_column.
        values = pd.to_numeric(frame[self.value_column], errors="coerce").to_numpy()
        means = np.array([np.nanmean(values[model.labels_ == c]) for c in range(k)])
        order = np.argsort(-np.nan_to_num(means, nan=-np.inf), kind="stable")
        self.kmeans_ = model
        self.rank_of_label_ = np.empty(k, dtype=np.int64)
        self.rank_of_label_[order] = np.arange(1, k + 1)
        self.cluster_centers_ = pd.DataFrame(
            model.cluster_centers_[order], columns=self.scaler_.columns_,
            index=pd.Index(np.arange(1, k + 1), name="cluster_id"),
        )
        self.inertia_ = float(model.inertia_)
        return self

    def select_k(self, x: np.ndarray) -> pd.DataFrame:
        """Silhouette and stability for each k in range; marks the chosen k."""
        n = len(x)
        n_distinct = len(np.unique(x, axis=0))
        k_max = int(min(self.k_max, n_distinct - 1, n - 1))
        k_min = int(min(self.k_min, k_max))
        rows = []
        rng = np.random.default_rng(self.random_state + 1)
        sample = rng.choice(n, min(self.silhouette_sample, n), replace=False)
        subsamples = [
            rng.choice(n, max(2, int(self.stability_fraction * n)), replace=False)
            for _ in range(self.n_stability_runs)
        ]
        for k in range(max(2, k_min), max(2, k_max) + 1):
            model = self._kmeans(k).fit(x)
            self._selection_fits_[k] = model
            labels = model.labels_
            if len(np.unique(labels[sample])) > 1:
                silhouette = float(silhouette_score(x[sample], labels[sample]))
            else:
                silhouette = float("nan")
            aris = []
            for run, idx in enumerate(subsamples):
                sub = self._kmeans(k, seed_offset=run + 1).fit(x[idx])
                aris.append(adjusted_rand_index(labels, sub.predict(x)))
            rows.append({
                "k": k,
                "silhouette": silhouette,
                "stability_ari": float(np.mean(aris)) if aris else float("nan"),
                "inertia": float(model.inertia_),
            })
            log.info("clustering: k=%d silhouette=%.3f stability=%.3f", k, silhouette,
                     rows[-1]["stability_ari"])
        table = pd.DataFrame(rows)
        eligible = table[table["stability_ari"] >= self.min_stability]
        if len(eligible) and eligible["silhouette"].notna().any():
            chosen = int(eligible.loc[eligible["silhouette"].idxmax(), "k"])
            reason = f"best silhouette among k with stability >= {self.min_stability}"
        else:
            chosen = int(table.loc[table["stability_ari"].idxmax(), "k"])
            reason = f"no k reached stability {self.min_stability}: most stable k"
        table["is_chosen"] = table["k"] == chosen
        table["reason"] = np.where(table["is_chosen"], reason, "")
        log.info("clustering: chose k=%d (%s)", chosen, reason)
        return table

    def silhouette_of(self, frame: pd.DataFrame, labels: np.ndarray | pd.Series) -> float:
        """Silhouette of any labelling of `frame` (e.g. a baseline such as RFM groups) on the
        fitted scaled features, with the same fixed-seed sample size as for k selection."""
        labels = np.asarray(labels)
        if self.sort_key in frame.columns:
            order = np.argsort(frame[self.sort_key].to_numpy(), kind="stable")
            frame, labels = frame.iloc[order], labels[order]
        x = self.scaler_.transform(frame)
        rng = np.random.default_rng(self.random_state + 1)
        sample = rng.choice(len(x), min(self.silhouette_sample, len(x)), replace=False)
        if len(np.unique(labels[sample])) < 2:
            return float("nan")
        with seam.bounded_threads(self.n_threads):
            return float(silhouette_score(x[sample], labels[sample]))

    def _kmeans(self, k: int, seed_offset: int = 0) -> KMeans:
        return KMeans(
            n_clusters=k, n_init=self.n_init, random_state=self.random_state + seed_offset
        )

    # -- predicting ------------------------------------------------------------
    def transform_features(self, frame: pd.DataFrame) -> np.ndarray:
        """Scaled features with the scaler fitted at fit time (frozen)."""
        return self.scaler_.transform(frame)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Cluster id (1 = most valuable) of each row, with the frozen scaler and centres."""
        return self.predict_raw(self.scaler_.raw_matrix(frame))

    def predict_raw(self, raw: np.ndarray) -> np.ndarray:
        """:meth:`predict` from :meth:`CustomerFeatureScaler.raw_matrix` rows.

        The nearest centre is found row by row in numpy (squared distances summed over
        the features), not with KMeans.predict: its input checks cost more than the
        arithmetic when a batch is split between models, and a row's distances must not
        depend on which other rows share its batch (a matrix product's blocking can move
        the last bit), so that batched and whole scoring agree exactly."""
        if len(raw) == 0:
            return np.empty(0, dtype=np.int64)
        x = self.scaler_.transform_raw(raw)
        centres = self.kmeans_.cluster_centers_
        distances = np.empty((len(x), len(centres)))
        for j, centre in enumerate(centres):
            distances[:, j] = np.square(x - centre).sum(axis=1)
        return self.rank_of_label_[np.argmin(distances, axis=1)]

    def fit_predict(self, frame: pd.DataFrame) -> np.ndarray:
        return self.fit(frame).predict(frame)
