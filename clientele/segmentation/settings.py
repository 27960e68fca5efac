"""Settings of the segmentation models: one frozen dataclass whose defaults are the dbt
defaults (``dbt_project.yml`` vars ``segmentation_<name>``; ``pytests/test_settings.py``
checks that they agree), so a notebook and ``dbt build`` fit the same clusters."""

from __future__ import annotations

from dataclasses import dataclass

from clientele.seam import AreaSettings


@dataclass(frozen=True)
class SegmentationSettings(AreaSettings):
    """How the customer clusters are chosen, fitted and scored.

    Parameters
    ----------
    k_min, k_max:
        Range of cluster counts tried when choosing k.
    n_init:
        KMeans restarts per fit (the best inertia is kept).
    seed:
        Seed of every fit, training sample and stability subsample.
    max_fit_rows:
        Buyers a KMeans fit (and the choice of k) is trained on, drawn in DuckDB by a
        seeded hash of the customer id; every customer is then scored. Bounds the time
        and memory of every fit whatever the number of clients. 20,000 keeps every brand
        of up to 20,000 buyers (the demo, Online Retail II, Olist) fitted on all of them.
    min_stability:
        Mean resampling ARI a k needs to be eligible.
    min_buyers:
        Fewer buyers than this at a date: no clustering then (one cluster at as_of, null
        in the history).
    silhouette_sample:
        Buyers the silhouette is computed on (quadratic in this number).
    stability_runs, stability_fraction:
        Subsamples refitted to measure a k's stability, and their share of the sample.
    batch_rows:
        Customers read, scored and written per Arrow batch: bounds the memory of
        scoring every customer.
    """

    k_min: int = 4
    k_max: int = 8
    n_init: int = 10
    seed: int = 42
    max_fit_rows: int = 20_000
    min_stability: float = 0.8
    min_buyers: int = 30
    silhouette_sample: int = 3_000
    stability_runs: int = 3
    stability_fraction: float = 0.8
    batch_rows: int = 100_000

    def __post_init__(self) -> None:
        if not 2 <= self.k_min <= self.k_max:
            raise ValueError(f"segmentation k range {self.k_min}-{self.k_max}: need "
                             "2 <= k_min <= k_max")
        if self.max_fit_rows < 2 or self.batch_rows < 1 or self.silhouette_sample < 2:
            raise ValueError("segmentation max_fit_rows and silhouette_sample need >= 2 "
                             "rows, batch_rows >= 1")
        if not 0 < self.stability_fraction <= 1:
            raise ValueError("segmentation stability_fraction must be in (0, 1]")
