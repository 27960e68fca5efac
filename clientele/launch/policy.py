"""Audience policy: which mix of scores to contact, tuned on past launches.

For every past launch we know, per client, the three scores as they were
the day before the launch (early-adopter rules, lookalike, appetence) and
whether the client bought the collection in its launch window. A policy
ranks clients by

    priority = w_l * lookalike + w_e * early_adopter + w_a * fit(appetence)

where ``fit`` is either the appetence itself or a tent centred on a value
(the luxury house saw the best conversion at a *middle* appetence: a
collection too close to what the client has adds nothing), minus a penalty
for clients under a lookalike floor. The grid is searched on the training
launches for the best mean lift at a fixed contact volume, then checked on
a held-out (the latest) launch against random contact and the rules-only
pool at the same volume.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Policy:
    """One point of the grid."""

    w_lookalike: float
    w_early_adopter: float
    w_appetence: float
    appetence_center: float  # < 0 means "the higher the better"
    appetence_width: float
    lookalike_floor: float

    #: The parameters, in the order audience_policy lists them.
    PARAMETERS: ClassVar[tuple[str, ...]] = (
        "w_lookalike", "w_early_adopter", "w_appetence", "appetence_center", "appetence_width",
        "lookalike_floor",
    )

    @classmethod
    def from_parameters(cls, values: Mapping[str, float], fallback: Policy) -> Policy:
        """The policy of audience_policy's parameter rows; a parameter they lack takes
        ``fallback``'s value (all of them when no policy could be tuned)."""
        return dataclasses.replace(fallback, **{
            name: float(values[name]) for name in cls.PARAMETERS if name in values})

    def priority(
        self, lookalike: np.ndarray, early: np.ndarray, appetence: np.ndarray
    ) -> np.ndarray:
        """Priority score of clients (higher first)."""
        if self.appetence_center < 0:
            fit = appetence
        else:
            fit = np.clip(
                1.0 - np.abs(appetence - self.appetence_center) / self.appetence_width, 0.0, 1.0
            )
        score = self.w_lookalike * lookalike + self.w_early_adopter * early + self.w_appetence * fit
        return score - (lookalike < self.lookalike_floor).astype(float)


def conversion_at_volume(priority: np.ndarray, converted: np.ndarray, volume: int) -> float:
    """Conversion rate of the ``volume`` clients with the highest priority."""
    volume = max(min(volume, len(priority)), 1)
    top = np.argpartition(-priority, volume - 1)[:volume]
    return float(np.asarray(converted, dtype=float)[top].mean())


def policy_grid(step: float = 0.25) -> list[Policy]:
    """Weights on a simplex grid x appetence shapes x lookalike floors."""
    ticks = np.round(np.arange(0.0, 1.0 + 1e-9, step), 6)
    weights = [
        (a, b, round(1.0 - a - b, 6))
        for a, b in itertools.product(ticks, ticks)
        if a + b <= 1 + 1e-9
    ]
    shapes = [(-1.0, 0.0), (0.3, 0.3), (0.5, 0.3), (0.7, 0.3)]
    floors = [0.0, 0.5, 0.7]
    return [
        Policy(float(wl), float(we), float(wa), c, w, f)
        for (wl, we, wa), (c, w), f in itertools.product(weights, shapes, floors)
        if not (wa == 0 and c >= 0)
    ]


class AudiencePolicy:
    """Grid search of a contact policy on past launches, checked on a held-out launch.

    Parameters
    ----------
    volume_share:
        Contact volume as a share of the launch's client base (the same for
        every policy compared).
    grid_step:
        Step of the weight simplex.
    """

    def __init__(self, volume_share: float = 0.1, grid_step: float = 0.25) -> None:
        self.volume_share = volume_share
        self.grid_step = grid_step

    @staticmethod
    def _arrays(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return (
            frame["lookalike_score"].to_numpy(float),
            frame["early_adopter_score"].to_numpy(float),
            frame["appetence"].to_numpy(float),
            frame["converted"].to_numpy(bool),
        )

    def _lift(self, policy: Policy, frame: pd.DataFrame) -> float:
        lk, ea, ap, y = self._arrays(frame)
        base = y.mean()
        volume = int(round(self.volume_share * len(frame)))
        return (
            conversion_at_volume(policy.priority(lk, ea, ap), y, volume) / base if base > 0 else 0.0
        )

    def fit(self, launches: pd.DataFrame) -> AudiencePolicy:
        """``launches``: one row per (launch, client) with reference_collection_id,
        launch_date, lookalike_score, early_adopter_score, appetence, converted.
        The latest launch is held out; the others train."""
        # Row order decides ties in the top-volume cut: make it reproducible.
        keys = [c for c in ("reference_collection_id", "customer_id") if c in launches.columns]
        launches = launches.sort_values(keys, kind="stable")
        order = launches.groupby("reference_collection_id")["launch_date"].max().sort_values()
        if len(order) < 2:
            raise ValueError("need at least two past launches (one to train, one held out)")
        self.holdout_launch_ = str(order.index[-1])
        self.train_launches_ = [str(c) for c in order.index[:-1]]
        groups = {
            c: g for c, g in launches.groupby("reference_collection_id") if g["converted"].any()
        }
        train = [groups[c] for c in self.train_launches_ if c in groups]
        if not train:
            raise ValueError("no training launch has a conversion")
        grid = policy_grid(self.grid_step)
        lifts = np.array([[self._lift(p, g) for g in train] for p in grid])  # grid x launches
        mean_lift = lifts.mean(axis=1)
        best = int(np.argmax(mean_lift))
        self.policy_ = grid[best]
        self.train_lift_ = float(mean_lift[best])
        self.grid_size_ = len(grid)
        self.holdout_ = self.evaluate(
            launches[launches["reference_collection_id"] == self.holdout_launch_]
        )
        return self

    def evaluate(self, frame: pd.DataFrame) -> dict[str, float]:
        """Conversion at one volume: policy, rules-only, lookalike-only, appetence-only, random."""
        lk, ea, ap, y = self._arrays(frame)
        volume = max(int(round(self.volume_share * len(frame))), 1)
        out = {
            "n_clients": float(len(frame)),
            "volume": float(volume),
            "random": float(y.mean()),
            "policy": conversion_at_volume(self.policy_.priority(lk, ea, ap), y, volume),
            "rules_only": conversion_at_volume(ea, y, volume),
            "lookalike_only": conversion_at_volume(lk, y, volume),
            "appetence_only": conversion_at_volume(ap, y, volume),
        }
        return out


#: Priority bands of the calibration: tenths of the 0-100 priority.
PRIORITY_BANDS = 10


def launch_percentile(values: np.ndarray | pd.Series, launch: np.ndarray | pd.Series
                      ) -> np.ndarray:
    """Each value's mid-rank percentile (0-1) among its launch's clients: the SQL macro
    launch_percentile's formula, (average rank - 0.5) / n, so that a past launch's
    priority is on the scale launch_audience gives the upcoming one."""
    frame = pd.DataFrame({"value": np.asarray(values, float), "launch": np.asarray(launch)})
    ranks = frame.groupby("launch")["value"].rank(method="average")
    sizes = frame.groupby("launch")["value"].transform("size")
    return ((ranks - 0.5) / sizes).to_numpy(float)


def priority_calibration(launches: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """Conversion of past launches' clients per tenth of the 0-100 priority (a client's
    percentile of ``policy``'s score within its launch): what contacting a client of the
    upcoming launch at that priority is expected to yield. One row per band with its
    lower bound, clients and conversion rate."""
    lk, ea, ap = (launches[c].to_numpy(float) for c in
                  ("lookalike_score", "early_adopter_score", "appetence"))
    priority = 100.0 * launch_percentile(policy.priority(lk, ea, ap),
                                         launches["reference_collection_id"])
    band = np.minimum(np.floor(priority / (100 / PRIORITY_BANDS)), PRIORITY_BANDS - 1)
    frame = pd.DataFrame({"band": (band * (100 // PRIORITY_BANDS)).astype(int),
                          "converted": launches["converted"].to_numpy(bool)})
    out = frame.groupby("band")["converted"].agg(n_clients="size", conversion="mean")
    return out.reset_index().sort_values("band", ignore_index=True)


def rolling_holdouts(
    launches: pd.DataFrame, n_holdouts: int = 3, volume_share: float = 0.1
) -> pd.DataFrame:
    """Each of the last ``n_holdouts`` launches held out in turn, the policy re-tuned on the
    launches before it: one row per (held-out launch, audience) with its conversion.

    One held-out launch has few conversions; several give a fairer picture of whether the
    tuned policy beats its baselines.
    """
    order = launches.groupby("reference_collection_id")["launch_date"].max().sort_values()
    rows = []
    for k in range(max(2, len(order) - n_holdouts + 1), len(order) + 1):  # loop over launches
        subset = launches[launches["reference_collection_id"].isin(order.index[:k])]
        try:
            fitted = AudiencePolicy(volume_share=volume_share).fit(subset)
        except ValueError:
            continue
        for audience in ("policy", "rules_only", "lookalike_only", "appetence_only", "random"):
            rows.append(
                {
                    "collection_id": fitted.holdout_launch_,
                    "audience": audience,
                    "conversion": fitted.holdout_[audience],
                    "n_clients": int(fitted.holdout_["n_clients"]),
                    "n_train_launches": len(fitted.train_launches_),
                }
            )
    return pd.DataFrame(
        rows, columns=["collection_id", "audience", "conversion", "n_clients", "n_train_launches"]
    )
