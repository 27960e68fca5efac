"""Settings of the clienteling area (send time, drive to store): one frozen dataclass whose
defaults are the dbt defaults.

``dbt_project.yml`` declares each as a var named ``clienteling_<field>``; the area's
Python models receive them through their YAML ``config: settings:`` and build
``ClientelingSettings.from_config(dbt.config.get("settings"))``.
"""

from __future__ import annotations

from dataclasses import dataclass

from clientele.seam import AreaSettings


@dataclass(frozen=True)
class ClientelingSettings(AreaSettings):
    """What the send-time and store-sensitivity models learn with, and the caps that
    bound their memory whatever the number of clients."""

    #: Days of sends held out to evaluate the send-time model (the last ones before
    #: as_of); the model that is evaluated learns on the same span before them.
    holdout_days: int = 365
    #: Prior strengths (in events) tried for shrinking a client's reading hours, days and
    #: open lifts toward the market's; the one with the best validation log-loss is kept.
    prior_strengths: tuple[float, ...] = (0.5, 2.0, 8.0, 32.0)
    #: Sends the send-time model is fitted on, at most (a seeded sample of clients' sends).
    max_training_sends: int = 200_000
    #: Share of the training clients kept aside to choose the prior strength.
    validation_share: float = 0.25
    #: Sends the prior-strength grid is fitted and validated on, about (a seeded sample
    #: of the training clients): the grid picks one number, the final fit uses every
    #: training send.
    max_grid_sends: int = 50_000
    #: Trees of the store-sensitivity propensity model (XGBoost).
    store_trees: int = 200
    #: Depth of its trees.
    store_depth: int = 3
    #: Inverse L2 penalty of the channel-interaction regression (smaller: smoother).
    store_regularization: float = 0.1
    #: Campaign contacts the store-sensitivity models learn from, at most (seeded sample).
    max_training_contacts: int = 200_000
    #: Last launches whose contacts are held out to backtest the store-sensitivity model.
    store_holdout_launches: int = 3
    #: Clients the evaluations are computed on, at most (a seeded sample).
    evaluation_max_clients: int = 200_000
    #: Rows (clients) per batch when scoring: bounds the memory.
    batch_rows: int = 100_000
    #: Seed of the samples, the validation split and the trees.
    seed: int = 0
