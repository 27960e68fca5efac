"""The retention area's settings: one frozen dataclass whose defaults are the dbt defaults.

Each field is a dbt var ``retention_<field>`` declared once in ``dbt_project.yml`` and
wired into the Python models' YAML ``config: settings:``; ``pytests/test_settings.py``
checks that the defaults below and the vars agree, so a notebook user gets the model
``dbt build`` gets.

Memory and time are bounded by the sample caps and the batch size, never by the number
of clients. The caps are above the 20,000-client demo, the 8,000-client CI demo and
Online Retail II, whose results therefore do not depend on them.
"""

from __future__ import annotations

from dataclasses import dataclass

from clientele.seam import AreaSettings


@dataclass(frozen=True)
class RetentionSettings(AreaSettings):
    """Knobs of the retention models (see ``docs/retention.md``).

    Parameters
    ----------
    holdout_days:
        The backtest cuts the history this many days before as_of (at least 90).
    min_events:
        Fewest second purchases (timing) or customer-snapshots with an order (repeat
        model) to train a supervised model; below, the baselines stand in.
    trees, tree_depth:
        XGBoost trees and their depth, for the hazard and the repeat models.
    training_snapshots, snapshot_step_days:
        The repeat model learns from this many snapshots, ``snapshot_step_days`` apart.
    max_training_clients:
        Clients (a seeded sample) whose histories the hazard and repeat models learn
        from: at most ``training_snapshots`` x this many customer-snapshots.
    max_hazard_rows:
        Client-period rows the hazard model trains on: every period with a second
        purchase is kept, periods without one are sampled and weighted by the inverse
        of their sampling probability beyond this.
    max_fit_clients:
        Clients (a seeded sample) BG/NBD and Gamma-Gamma are fitted on.
    max_evaluation_clients:
        Clients (a seeded sample) the backtest scores.
    batch_clients:
        Clients read, scored and written per batch.
    seed:
        Seed of the samples, of the engagement landmarks and of XGBoost.
    penalizer:
        L2 penalty on the log-parameters of BG/NBD, MBG/NBD and Gamma-Gamma; 0 is plain
        maximum likelihood, as published (and as reproduces the CDNOW estimates).
    min_window_probability:
        A contact window of a one-time buyer is worth contacting when the probability of
        a second purchase in it is at least this; with none, the buyer is "not worth
        contacting now".
    churn_low_below, churn_high_above:
        Churn bands (Klaviyo's): low below, high above, medium in between; the backtest
        checks their calibration (the customer_predictions mart bands with the same vars).
    """

    holdout_days: int = 90
    min_events: int = 100
    trees: int = 120
    tree_depth: int = 3
    training_snapshots: int = 4
    snapshot_step_days: int = 30
    max_training_clients: int = 25_000
    max_hazard_rows: int = 200_000
    max_fit_clients: int = 50_000
    max_evaluation_clients: int = 50_000
    batch_clients: int = 100_000
    seed: int = 0
    penalizer: float = 0.0
    min_window_probability: float = 0.05
    churn_low_below: float = 0.33
    churn_high_above: float = 0.66

    def __post_init__(self) -> None:
        for name in ("max_training_clients", "max_hazard_rows", "max_fit_clients",
                     "max_evaluation_clients", "batch_clients", "trees", "tree_depth",
                     "training_snapshots", "snapshot_step_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"retention setting {name} must be at least 1")
        if self.penalizer < 0:
            raise ValueError("retention setting penalizer must be at least 0")
        if not 0 <= self.min_window_probability <= 1:
            raise ValueError("retention setting min_window_probability must be in [0, 1]")
        if not 0 < self.churn_low_below <= self.churn_high_above < 1:
            raise ValueError("retention churn bands need 0 < churn_low_below <= "
                             "churn_high_above < 1")
