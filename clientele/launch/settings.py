"""Settings of the launch area: one frozen dataclass whose defaults are the dbt defaults.

``dbt_project.yml`` declares each as a var named ``launch_<field>``; the launch Python
models receive them through their YAML ``config: settings:`` and build
``LaunchSettings.from_config(dbt.config.get("settings"))``, so a notebook user calling
``clientele.launch.pipeline`` with ``LaunchSettings()`` gets the model ``dbt build`` gets
(``pytests/test_settings.py`` checks the defaults agree).
"""

from __future__ import annotations

from dataclasses import dataclass

from clientele.launch.policy import Policy
from clientele.seam import AreaSettings


@dataclass(frozen=True)
class LaunchSettings(AreaSettings):
    """What the launch models learn with, and the caps that bound their memory.

    The caps are sized so that a brand of a few tens of thousands of clients (the demo
    brands) stays below them and is computed on every client; above them, the figures
    are estimated on seeded samples and every client is still scored.
    """

    #: Trees of each lookalike fold model (XGBoost, depth 2).
    lookalike_trees: int = 100
    #: Folds of the out-of-fold lookalike: every client is scored by a model that did
    #: not see its label.
    lookalike_folds: int = 5
    #: Pool clients (labeled) the lookalike trains on per launch, at most; a seeded
    #: sample above it.
    lookalike_max_pool_clients: int = 5_000
    #: Clients outside the pool (unlabeled) the lookalike trains on per launch, at most;
    #: a seeded sample above it (the sampling ratio is corrected for in the scores).
    lookalike_max_unlabeled_clients: int = 20_000
    #: Seed of the training samples, the folds and the trees.
    seed: int = 0
    #: Rows (clients, or purchase rows) per batch when scoring: bounds the memory.
    batch_rows: int = 100_000
    #: New products kept per client in product appetence.
    top_new_products: int = 20
    #: Closest new products kept per existing product.
    match_k: int = 5
    #: Contact volume, as a share of a launch's clients, at which policies are compared.
    contact_share: float = 0.1
    #: Last launches held out in turn (policy re-tuned on the launches before each).
    rolling_holdouts: int = 3
    #: Clients whose past launches tune the audience policy, at most (a seeded sample).
    policy_max_clients: int = 100_000
    #: Clients per launch the evaluation rows are computed on, at most (a seeded sample).
    evaluation_max_clients: int = 200_000
    #: The priority when no policy can be tuned (fewer than two past launches with
    #: conversions): lookalike and rules alike, a little appetence, preferring a middle
    #: one (clientele.launch.policy.Policy's parameters).
    fallback_w_lookalike: float = 0.4
    fallback_w_early_adopter: float = 0.4
    fallback_w_appetence: float = 0.2
    fallback_appetence_center: float = 0.5
    fallback_appetence_width: float = 0.3
    fallback_lookalike_floor: float = 0.0
    #: Uplift (clientele.launch.uplift.UpliftModel): trees and depth of each XGBoost model.
    uplift_trees: int = 150
    uplift_depth: int = 2
    #: Clients of past campaigns the uplift learns from, at most (a seeded sample of
    #: clients, with all their campaigns).
    uplift_max_clients: int = 100_000
    #: Segment thresholds: persuadable from this uplift, do-not-disturb at or below that
    #: one, otherwise a sure thing from this P(buy without contact), else a lost cause.
    uplift_persuadable_from: float = 0.03
    uplift_do_not_disturb_below: float = -0.02
    uplift_sure_thing_from: float = 0.1
    #: Share of a held-out campaign contacted by response probability whose incremental
    #: sales the uplift ranking must match with fewer contacts (slots saved).
    uplift_slots_share: float = 0.5

    def fallback_policy(self) -> Policy:
        """The priority policy used where audience_policy gives no tuned parameter."""
        return Policy(**{name: getattr(self, f"fallback_{name}") for name in Policy.PARAMETERS})
