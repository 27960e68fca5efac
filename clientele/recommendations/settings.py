"""The recommendation models' settings: one frozen dataclass whose defaults are the dbt
vars of the same name with the ``recommendations_`` prefix (declared once in
``dbt_project.yml``; ``pytests/test_settings.py`` checks that they agree), so that a
notebook user and ``dbt build`` get the same models.

The sample caps bound each Python model's memory and time whatever the number of clients;
they are above the client counts of the 20k demo, the CI demo and Online Retail II, whose
results therefore do not depend on them.
"""

from __future__ import annotations

import dataclasses
import math

from clientele import seam


@dataclasses.dataclass(frozen=True)
class RecommendationSettings(seam.AreaSettings):
    """Settings of the ALS, the LSTM and the backtest.

    Args:
        seed: seeds every model and every client sample.
        candidates: products kept per client and horizon by ALS and the LSTM.
        similar_variant: the LSTM variant filling the composed list's similar slot (the
            evaluation continues the composed list with it).
        inactive_days: a client with no purchase for this many days is inactive: the
            composed list gives them a win-back list instead of the LSTM's, so today's
            LSTM lists are made for the others only (the backtest lists for every
            evaluated client).
        sample_clients: at most this many clients (a seeded sample) where a figure needs
            clients, not all of them: the backtest's evaluated clients (and so the ALS and
            LSTM backtest lists), the LSTM's validation clients, and the lists on which the
            exposure cap's thresholds are set before every list is re-ranked with them.
        batch_clients: clients scored (and read) per batch.
        als_factors, als_iterations, als_regularization, als_alpha: implicit ALS.
        als_training_clients: the product factors are fitted on at most this many clients
            (a seeded sample of the buyers); every client is then folded in.
        lstm_epochs: training epochs (a fixed number: the same data gives the same model).
        lstm_training_clients: the LSTM trains on at most this many clients (a seeded
            sample of those with two days of activity or more).
        lstm_penalty_grid, lstm_exposure_cap_grid, lstm_max_recall_loss: the best-seller
            penalty and exposure cap tried on the validation cut, and the recall loss
            allowed for coverage; lstm_popularity_penalty without a validation cut.
        lstm_max_steps, lstm_max_events_per_step: the days of a client read, and events
            per day.
        lstm_embedding_dim, lstm_hidden_dim, lstm_batch_size, lstm_learning_rate: the
            network and its training.
        threads: CPU threads of numpy's BLAS, torch and XGBoost in these models (dbt may
            run two Python models at once on a 2-core machine: one each was several times
            faster than two contending).
        popularity_window_days, basket_max_products, min_pair_orders, basket_antecedents:
            the SQL baselines' windows and rules, which the ranker's features recompute at
            its validation cut.
        ranker_training_clients: the ranker trains on at most this many clients (a seeded
            sample of those who bought in the validation window).
        ranker_candidates_per_source: products each source proposes per client (stage one).
        ranker_batch_clients: clients whose candidates are built and scored at a time (a
            client has about 80 candidates x 25 features: heavier than the other models').
        ranker_objective: XGBoost objective, rank:ndcg or rank:pairwise.
        ranker_trees, ranker_depth, ranker_learning_rate: the boosted trees (the number of
            trees is the most kept by early stopping on the validation cut).
        backtest_cutoffs, backtest_step_days: the backtest cut-offs
            (int_recommendations__horizons makes them; every model treats each as a
            backtest, with its own validation cut) and the days between two of them.
    """

    seed: int = 42
    candidates: int = 30
    similar_variant: str = "lstm"
    inactive_days: int = 365
    sample_clients: int = 20_000
    batch_clients: int = 50_000
    ranker_batch_clients: int = 20_000
    als_factors: int = 32
    als_iterations: int = 6
    als_regularization: float = 0.1
    als_alpha: float = 10.0
    als_training_clients: int = 100_000
    lstm_epochs: int = 2
    lstm_training_clients: int = 20_000
    lstm_penalty_grid: tuple[float, ...] = (0.0, 0.5, 1.0)
    lstm_exposure_cap_grid: tuple[float, ...] = (math.inf, 4.0, 2.0, 1.0)
    lstm_max_recall_loss: float = 0.08
    lstm_popularity_penalty: float = 1.0
    lstm_max_steps: int = 20
    lstm_max_events_per_step: int = 24
    lstm_embedding_dim: int = 32
    lstm_hidden_dim: int = 64
    lstm_batch_size: int = 256
    lstm_learning_rate: float = 0.005
    threads: int = 1
    popularity_window_days: int = 90
    basket_max_products: int = 50
    min_pair_orders: int = 2
    basket_antecedents: int = 10
    ranker_training_clients: int = 5_000
    ranker_candidates_per_source: int = 30
    ranker_objective: str = "rank:ndcg"
    ranker_trees: int = 300
    ranker_depth: int = 6
    ranker_learning_rate: float = 0.1
    backtest_cutoffs: int = 3
    backtest_step_days: int = 30

    def __post_init__(self) -> None:
        if self.similar_variant not in ("lstm", "lstm_debiased"):
            raise ValueError(f"similar_variant {self.similar_variant!r}: "
                             "expected lstm or lstm_debiased")
        if self.ranker_objective not in ("rank:ndcg", "rank:pairwise", "rank:map"):
            raise ValueError(f"ranker_objective {self.ranker_objective!r}: expected "
                             "rank:ndcg, rank:pairwise or rank:map")
        for name in ("candidates", "ranker_training_clients", "ranker_trees",
                     "ranker_candidates_per_source", "sample_clients", "batch_clients",
                     "ranker_batch_clients", "als_factors",
                     "als_training_clients", "lstm_training_clients", "lstm_max_steps",
                     "lstm_max_events_per_step", "lstm_batch_size", "backtest_cutoffs",
                     "backtest_step_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")
