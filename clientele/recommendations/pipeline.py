"""The recommendation area's entry module: one function per dbt Python model.

* :func:`als_lists` (``int_recommendations__als``): implicit ALS, the collaborative
  baseline, listed for the backtests only.
* :func:`lstm_lists` (``int_recommendations__lstm``): the sequence model, raw and with
  the best-seller penalty.
* :func:`evaluation` (``int_recommendations__evaluation``): the backtest of every method,
  in ``model_evaluation``'s rows.

Each takes its inputs as DuckDB relations (``dbt.ref``; frames or Arrow tables in tests
and notebooks) and :class:`RecommendationSettings`. Memory and time are bounded by the
settings, not by the number of clients: models train on seeded samples of clients
(``als_training_clients``, ``lstm_training_clients``); every client is then scored in
batches of ``batch_clients`` read from DuckDB; the backtest and the choices made on a
validation cut use at most ``sample_clients`` clients; the lists are returned as a
stream of Arrow batches that dbt writes as they come.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import scipy.sparse as sp

from clientele import seam
from clientele.recommendations import evaluation as backtest
from clientele.recommendations import ranker
from clientele.recommendations.als import ImplicitALS
from clientele.recommendations.diversity import (
    Candidates,
    PenaltyChoice,
    apply_exposure_thresholds,
    choose_penalty,
    exposure_thresholds,
)
from clientele.recommendations.inputs import (
    EVENT_COLUMNS,
    ClientSample,
    Horizon,
    backtests,
    both,
    client_frames,
    day,
    distinct_products,
    in_catalog,
    purchase_matrix,
    read_clients,
    read_horizons,
    read_products,
    read_sample,
    sample_clients,
    sorted_ids,
)
from clientele.recommendations.lstm import (
    EVENT_TYPES,
    LSTMRecommender,
    Sequences,
    build_sequences,
    popularity_log_prior,
)
from clientele.recommendations.settings import RecommendationSettings
from clientele.recommendations.topk import chunked_top_k, top_k_indices

log = seam.get_logger("recommendations")

#: The best-seller penalty re-ranks each client's best PENALTY_CANDIDATES products; the
#: exposure cap applies to the first EXPOSURE_K slots of the lists.
PENALTY_CANDIDATES = 200
EXPOSURE_K = 10

ALS_SCHEMA = seam.fields(
    ("horizon", pa.string()), ("customer_id", pa.string()), ("product_id", pa.string()),
    ("score", pa.float64()), ("rank", pa.int64()))

LSTM_SCHEMA = seam.fields(
    ("horizon", pa.string()), ("variant", pa.string()), ("customer_id", pa.string()),
    ("product_id", pa.string()), ("score", pa.float64()), ("rank", pa.int64()),
    ("popularity_penalty", pa.float64()), ("exposure_cap", pa.float64()),
    ("validation_recall", pa.float64()), ("validation_coverage", pa.float64()),
    ("epochs_trained", pa.int64()), ("best_epoch", pa.int64()), ("final_loss", pa.float64()),
    ("training_sequences", pa.int64()))

PURCHASE = "event_type = 'purchase'"


def _settings(settings: RecommendationSettings | None) -> RecommendationSettings:
    return settings if settings is not None else RecommendationSettings()


def _top_table(customers: pd.Index, products: pd.Index, idx: np.ndarray, val: np.ndarray,
               **constants: object) -> pa.Table:
    """Long table (constants..., customer_id, product_id, score, rank) from top-k arrays
    (one row of ``idx`` per customer, -1 for an empty slot), built in Arrow."""
    rows, cols = np.nonzero(idx >= 0)
    # A constant column repeats one value (take, not a Python-level array: 35x faster).
    zeros = pa.array(np.zeros(len(rows), dtype=np.int32))
    columns: dict[str, pa.Array] = {  # from_pandas: a NaN constant is a null
        name: pa.array([value], from_pandas=True).take(zeros)
        for name, value in constants.items()}
    columns["customer_id"] = pa.array(np.asarray(customers, dtype=object)).take(rows)
    columns["product_id"] = pa.array(np.asarray(products, dtype=object)).take(idx[rows, cols])
    columns["score"] = pa.array(val[rows, cols].astype(np.float64))
    columns["rank"] = pa.array((cols + 1).astype(np.int64))
    return pa.table(columns)


def evaluated_clients(events: seam.Source, horizon: Horizon, products: pd.Index,
                      settings: RecommendationSettings, catalog_filter: str | None = None,
                      evaluated: seam.Source | None = None) -> ClientSample:
    """The clients the backtest evaluates at a backtest horizon (and every method lists
    there): those who bought a catalogue product from the cut-off to the horizon's as_of,
    at most ``sample_clients`` of them (seeded). ``evaluated``
    (int_recommendations__evaluated_clients) has them drawn in SQL with the same hash;
    without it (a notebook, a test) they are drawn here."""
    where = both(PURCHASE, f"event_date >= {day(horizon.known_before)}",
                 f"event_date <= {day(horizon.as_of)}",
                 catalog_filter or in_catalog(events, products))
    clients = (read_sample(evaluated, horizon.name, where, settings.seed)
               if evaluated is not None
               else sample_clients(events, settings.sample_clients, settings.seed, where))
    if clients.sampled:
        log.info("backtest: %d clients sampled among those who bought after the cut-off %s",
                 len(clients.ids), horizon.known_before.date())
    return clients


# --------------------------------------------------------------------------- ALS


def _counts(frame: pd.DataFrame, vocabulary: pd.Index) -> tuple[pd.Index, sp.csr_matrix]:
    """(sorted customers, customers x vocabulary matrix of orders) of a counts frame."""
    frame = frame[frame["product_id"].isin(vocabulary)]
    customers = sorted_ids(frame["customer_id"])
    return customers, purchase_matrix(frame, customers, vocabulary)


def _als_horizon(events: seam.Source, products: pd.Index, horizon: Horizon,
                 catalog_filter: str, settings: RecommendationSettings,
                 evaluated: seam.Source | None) -> Iterator[pa.Table]:
    bought = both(PURCHASE, horizon.before(), catalog_filter)
    vocabulary = distinct_products(events, bought)
    if vocabulary.empty:
        log.info("ALS %s: no purchase before %s", horizon.name, horizon.known_before.date())
        return
    # Orders per client and product, aggregated in DuckDB.
    orders = seam.as_relation(events).filter(bought or "true").aggregate(
        "customer_id, product_id, count(*) as orders", "customer_id, product_id")
    columns = ["customer_id", "product_id", "orders"]
    # Products never bought before the horizon have no factors: they rank last.
    trained_on = sample_clients(orders, settings.als_training_clients, settings.seed)
    customers, counts = _counts(read_clients(orders, columns, None, trained_on), vocabulary)
    model = ImplicitALS(factors=settings.als_factors, regularization=settings.als_regularization,
                        alpha=settings.als_alpha, iterations=settings.als_iterations,
                        seed=settings.seed).fit(counts)
    log.info("ALS %s: product factors fitted on %d clients%s", horizon.name, len(customers),
             " (a sample)" if trained_on.sampled else "")
    scored = evaluated_clients(events, horizon, products, settings, catalog_filter, evaluated)
    item_factors = model.item_factors_
    progress = seam.ClientProgress(log, f"ALS {horizon.name}")
    for frame in client_frames(orders, columns, None, settings.batch_clients, scored):
        clients, counts = _counts(frame, vocabulary)
        user_factors = model.fold_in(counts)
        idx, val = chunked_top_k(lambda rows, x=user_factors: x[rows] @ item_factors.T,
                                 len(clients), settings.candidates)
        progress.add(len(clients))
        yield _top_table(clients, vocabulary, idx, val, horizon=horizon.name)
    log.info("ALS %s: %d clients folded in and listed", horizon.name, progress.done)


def als_lists(events: seam.Source, catalog: seam.Source, horizons: seam.Source,
              settings: RecommendationSettings | None = None,
              evaluated: seam.Source | None = None) -> pa.RecordBatchReader:
    """Top ``candidates`` ALS products of each backtest horizon's evaluated clients.

    Only the backtest reads these lists (the ranker fits ALS factors of its own), so
    today's horizon gets none: at a million clients listing every buyer cost most of the
    model's time and 24M rows nobody read."""
    settings = _settings(settings)
    products = read_products(catalog)
    catalog_filter = in_catalog(events, products)

    def parts() -> Iterator[pa.Table]:
        with seam.bounded_threads(settings.threads):
            for horizon in backtests(read_horizons(horizons)):
                yield from _als_horizon(events, products, horizon, catalog_filter, settings,
                                        evaluated)

    return seam.stream(ALS_SCHEMA, parts(), settings.threads)


# --------------------------------------------------------------------------- LSTM


@dataclasses.dataclass
class _FittedLSTM:
    """One cut-off's trained LSTM and what scoring it needs."""

    model: LSTMRecommender
    known_before: pd.Timestamp
    vocabulary: pd.Index
    prior: np.ndarray
    training_sequences: int

    @property
    def epochs_trained(self) -> int:
        return len(getattr(self.model, "history_", []))

    @property
    def best_epoch(self) -> int:
        return int(getattr(self.model, "best_epoch_", 0))

    @property
    def final_loss(self) -> float:
        history = getattr(self.model, "history_", [])
        return float(history[-1]["loss"]) if history else float("nan")


def _sequences(frame: pd.DataFrame, vocabulary: pd.Index, settings: RecommendationSettings,
               targets: bool = False) -> tuple[pd.Index, Sequences]:
    """(customer of each row, day-bag sequences) of the events in ``frame``."""
    frame = frame[frame["product_id"].isin(vocabulary)]
    customers = sorted_ids(frame["customer_id"])
    days = (pd.to_datetime(frame["event_date"]) - pd.Timestamp("1970-01-01")).dt.days
    seq = build_sequences(
        customers.get_indexer(frame["customer_id"]), vocabulary.get_indexer(frame["product_id"]),
        frame["event_type"].map(EVENT_TYPES).to_numpy(), days.to_numpy(),
        max_steps=settings.lstm_max_steps, max_events_per_step=settings.lstm_max_events_per_step,
        targets=targets)
    return customers[seq.users], seq


def _fit_lstm(events: seam.Source, products: pd.Index, known_before: pd.Timestamp,
              catalog_filter: str, settings: RecommendationSettings) -> _FittedLSTM | None:
    known = both(f"event_date < {day(known_before)}", catalog_filter)
    vocabulary = distinct_products(events, known)
    if vocabulary.empty:
        return None
    # Output vocabulary: products with any event before the cut-off; the others have
    # untrained embeddings and rank last. Only clients with two days of activity or more
    # and a purchase can have a training pair: the sample is drawn among them.
    eligible = seam.as_relation(events).filter(known).aggregate(
        "customer_id, count(distinct event_date) as active_days, "
        f"count(*) filter (where {PURCHASE}) as purchases", "customer_id").filter(
        "active_days >= 2 and purchases >= 1")
    trained_on = sample_clients(eligible, settings.lstm_training_clients, settings.seed)
    _, seq = _sequences(read_clients(events, EVENT_COLUMNS, known, trained_on), vocabulary,
                        settings, targets=True)
    model = LSTMRecommender(
        n_items=len(vocabulary), embedding_dim=settings.lstm_embedding_dim,
        hidden_dim=settings.lstm_hidden_dim, epochs=settings.lstm_epochs,
        batch_size=settings.lstm_batch_size, learning_rate=settings.lstm_learning_rate,
        seed=settings.seed, threads=settings.threads).fit(seq)
    bought = seam.as_relation(events).filter(both(known, PURCHASE) or "true").aggregate(
        "product_id, count(*) as purchases", "product_id").df()
    counts = np.zeros(len(vocabulary))
    at = vocabulary.get_indexer(bought["product_id"])
    counts[at[at >= 0]] = bought["purchases"].to_numpy()[at >= 0]
    training = int((seq.targets[:, :, 0] > 0).any(axis=1).sum())
    log.info("LSTM before %s: %d training sequences%s, %d epochs", known_before.date(),
             training, " (sampled clients)" if trained_on.sampled else "", settings.lstm_epochs)
    return _FittedLSTM(model, known_before, vocabulary, popularity_log_prior(counts), training)


def _candidates(fitted: _FittedLSTM, seq: Sequences, depths: dict[float, int],
                own: set[float]) -> dict[float, Candidates]:
    """penalty -> top-m (vocabulary indices, scores, in the client's history) of
    log p - penalty x log prior, for every row of ``seq``; m = depths[penalty], capped
    by the vocabulary. Whether a candidate is in the client's history (what the exposure
    cap exempts) is only looked up for the penalties in ``own`` (False elsewhere)."""
    parts: dict[float, list[Candidates]] = {p: [] for p in depths}
    # Chunks of clients bound the (clients x catalogue) score matrices (32 MB of float32).
    chunk = max(64, min(8192, 2**23 // max(len(fitted.vocabulary), 1)))
    for start in range(0, len(seq.users), chunk):
        rows = np.arange(start, min(start + chunk, len(seq.users)))
        logp = fitted.model.log_proba(seq, rows)
        history = fitted.model.history_mask(seq, rows) if own else None
        for penalty, m in depths.items():
            scores = logp - penalty * fitted.prior if penalty else logp  # float32 is faster
            idx, val = top_k_indices(scores, m)
            exempt = (np.take_along_axis(history, idx.clip(0), axis=1)
                      if history is not None and penalty in own
                      else np.zeros(idx.shape, dtype=bool))
            parts[penalty].append((idx, val, exempt))
    return {p: (np.vstack([c[0] for c in v]), np.vstack([c[1] for c in v]),
                np.vstack([c[2] for c in v])) if v else _no_candidates(depths[p])
            for p, v in parts.items()}


def _pool(settings: RecommendationSettings) -> int:
    """Candidates per client the best-seller penalty and the exposure cap re-rank."""
    return max(settings.candidates, PENALTY_CANDIDATES)


def _no_candidates(m: int) -> Candidates:
    return np.empty((0, m), dtype=np.int64), np.empty((0, m)), np.empty((0, m), dtype=bool)


def _scored_candidates(events: seam.Source, fitted: _FittedLSTM, known: str | None,
                       clients: ClientSample | None, depths: dict[float, int],
                       own: set[float], settings: RecommendationSettings,
                       bought_since: pd.Timestamp | None = None
                       ) -> Iterator[tuple[pd.Index, dict[float, Candidates]]]:
    """(clients, candidates per penalty) batch by batch for the sampled clients (every
    client when None) with events ``known`` before the model's cut-off; with
    ``bought_since``, only the clients with a purchase since then."""
    for frame in client_frames(events, EVENT_COLUMNS, known, settings.batch_clients, clients):
        if bought_since is not None:
            recent = frame.loc[(frame["event_type"] == "purchase")
                               & (pd.to_datetime(frame["event_date"]) >= bought_since),
                               "customer_id"]
            frame = frame[frame["customer_id"].isin(recent.unique())]
        customers, seq = _sequences(frame, fitted.vocabulary, settings)
        if len(customers):
            yield customers, _candidates(fitted, seq, depths, own)


def _stacked(parts: list[tuple[pd.Index, dict[float, Candidates]]], penalty: float
             ) -> tuple[pd.Index, Candidates]:
    if not parts:
        return pd.Index([]), _no_candidates(0)
    customers = pd.Index(np.concatenate([np.asarray(c) for c, _ in parts]))
    arrays = tuple(np.vstack([c[penalty][i] for _, c in parts]) for i in range(3))
    return customers, arrays  # type: ignore[return-value]


def validation_cut(backtest: Horizon) -> tuple[pd.Timestamp, pd.Timedelta]:
    """(cut, window) of a backtest horizon's validation cut: its cut-off moved back by one
    holdout window, so that settings are chosen on what was known before the test."""
    window = backtest.as_of + pd.Timedelta(days=1) - backtest.known_before
    return backtest.known_before - window, window


def _validation_choice(events: seam.Source, products: pd.Index, backtest: Horizon,
                       catalog_filter: str, settings: RecommendationSettings
                       ) -> tuple[PenaltyChoice | None, pa.Table | None]:
    """Best-seller penalty and exposure cap chosen on the validation cut of one backtest
    horizon (:func:`validation_cut`), so nothing after its test cut-off is used. None when
    nobody can be validated on. Also the raw lists of the validation clients at that cut
    (horizon 'validation' for the primary cut-off, 'validation_minus_<n>d' for an
    earlier one): the ranker learns on them."""
    cut = backtest.known_before
    validation_at, window = validation_cut(backtest)
    fitted = _fit_lstm(events, products, validation_at, catalog_filter, settings)
    if fitted is None:
        return None, None
    later = both(PURCHASE, f"event_date >= {day(validation_at)}", f"event_date < {day(cut)}",
                 catalog_filter)
    clients = sample_clients(events, settings.sample_clients, settings.seed, later)
    penalties = {0.0, *settings.lstm_penalty_grid}
    known = both(f"event_date < {day(validation_at)}", catalog_filter)
    parts = list(_scored_candidates(events, fitted, known, clients,
                                    dict.fromkeys(penalties, _pool(settings)), penalties,
                                    settings))
    if not parts:
        return None, None
    customers, (raw_idx, raw_val, _) = _stacked(parts, 0.0)
    lists = _top_table(customers, fitted.vocabulary, raw_idx[:, :settings.candidates],
                       raw_val[:, :settings.candidates], horizon=backtest.stage("validation"),
                       variant="lstm",
                       popularity_penalty=0.0, exposure_cap=np.nan,
                       validation_recall=np.nan, validation_coverage=np.nan,
                       epochs_trained=fitted.epochs_trained, best_epoch=fitted.best_epoch,
                       final_loss=fitted.final_loss,
                       training_sequences=fitted.training_sequences)
    truth = purchase_matrix(read_clients(events, ["customer_id", "product_id"], later, clients),
                            customers, products)
    to_catalog = products.get_indexer(fitted.vocabulary)
    candidates = {}
    for penalty in penalties:
        _, (idx, val, exempt) = _stacked(parts, penalty)
        candidates[penalty] = (np.where(idx >= 0, to_catalog[idx], -1), val, exempt)
    log.info("LSTM validation cut %s: %d clients bought in the %d days before the test "
             "cut-off %s%s", validation_at.date(), len(customers), window.days, cut.date(),
             " (a sample)" if clients.sampled else "")
    return choose_penalty(candidates, truth, len(products), settings.lstm_exposure_cap_grid,
                          EXPOSURE_K, settings.lstm_max_recall_loss), lists


def _lstm_horizon(events: seam.Source, products: pd.Index, horizon: Horizon,
                  catalog_filter: str, choice: PenaltyChoice, settings: RecommendationSettings,
                  evaluated: seam.Source | None) -> Iterator[pa.Table]:
    fitted = _fit_lstm(events, products, horizon.known_before, catalog_filter, settings)
    if fitted is None:
        log.info("LSTM %s: no event before %s", horizon.name, horizon.known_before.date())
        return
    scored = (evaluated_clients(events, horizon, products, settings, catalog_filter, evaluated)
              if horizon.is_backtest else None)
    known = both(horizon.before(), catalog_filter)
    # Today's lists: the clients whose composed list has a similar slot (a purchase in the
    # last inactive_days; any product counts, as in the composed list).
    since = (None if scored is not None
             else horizon.known_before - pd.Timedelta(days=settings.inactive_days))
    if since is not None:
        known = horizon.before()
    variants = {"lstm": (0.0, np.inf), "lstm_debiased": (choice.penalty, choice.max_exposure)}
    if not horizon.is_backtest and settings.similar_variant != "lstm_debiased":
        # Today's penalised lists serve nobody unless the composed list uses them (the
        # backtest evaluates both variants); they cost half of the scoring.
        del variants["lstm_debiased"]
    # The raw lists are the head of the ranking; the capped ones re-rank a deeper pool.
    depths: dict[float, int] = {}
    for penalty, cap in variants.values():
        depth = _pool(settings) if np.isfinite(cap) else settings.candidates
        depths[penalty] = max(depths.get(penalty, 0), depth)
    batches: Iterator[tuple[pd.Index, dict[float, Candidates]]] | list[
        tuple[pd.Index, dict[float, Candidates]]]
    own = {p for p, cap in variants.values() if np.isfinite(cap)}
    batches = _scored_candidates(events, fitted, known, scored, depths, own, settings, since)
    thresholds = None
    if "lstm_debiased" in variants and np.isfinite(choice.max_exposure):
        # The cap's thresholds are set on the lists of at most sample_clients clients;
        # when those are all the lists, their candidates are kept and listed.
        cap_lists = scored if scored is not None else sample_clients(
            events, settings.sample_clients, settings.seed,
            both(PURCHASE, f"event_date >= {day(since)}", horizon.before()))
        every_list = scored is not None or not cap_lists.sampled
        parts = list(_scored_candidates(
            events, fitted, known, cap_lists,
            depths if every_list else {choice.penalty: _pool(settings)}, own, settings, since))
        customers, (idx, val, exempt) = _stacked(parts, choice.penalty)
        thresholds = exposure_thresholds(idx, val, EXPOSURE_K, choice.max_exposure,
                                         len(products), exempt,
                                         list_keys=np.asarray(customers, dtype=str))
        if every_list:
            batches = parts
        else:
            log.info("exposure cap: thresholds set on the lists of %d sampled clients",
                     len(customers))
    figures = {(g["penalty"], g["max_exposure"]): g for g in choice.grid}
    progress = seam.ClientProgress(log, f"LSTM {horizon.name}")
    for customers, candidates in batches:
        keys = np.asarray(customers, dtype=str)
        for variant, (penalty, cap) in variants.items():
            idx, val, exempt = candidates[penalty]
            idx, val = apply_exposure_thresholds(
                idx, val, thresholds if variant == "lstm_debiased" else None, exempt, keys)
            chosen = figures.get((penalty, cap), {})
            yield _top_table(
                customers, fitted.vocabulary, idx[:, :settings.candidates],
                val[:, :settings.candidates], horizon=horizon.name, variant=variant,
                popularity_penalty=float(penalty),
                exposure_cap=float(cap) if np.isfinite(cap) else np.nan,  # null = no cap
                validation_recall=float(chosen.get("recall", np.nan)),
                validation_coverage=float(chosen.get("coverage", np.nan)),
                epochs_trained=fitted.epochs_trained, best_epoch=fitted.best_epoch,
                final_loss=fitted.final_loss, training_sequences=fitted.training_sequences)
        progress.add(len(customers))
    log.info("LSTM %s: %d clients listed", horizon.name, progress.done)


def lstm_lists(events: seam.Source, catalog: seam.Source, horizons: seam.Source,
               settings: RecommendationSettings | None = None,
               evaluated: seam.Source | None = None) -> pa.RecordBatchReader:
    """Top ``candidates`` LSTM products per client with any activity, for every horizon
    (the backtest only for the evaluated clients), in two variants: 'lstm' (raw) and
    'lstm_debiased' (best-seller penalty and exposure cap chosen on a validation cut before
    the backtest cut-off by ``choose_penalty``; without one, ``lstm_popularity_penalty``
    and no cap). Training figures are repeated on every row."""
    settings = _settings(settings)
    products = read_products(catalog)
    catalog_filter = in_catalog(events, products)
    horizon_list = read_horizons(horizons)

    def parts() -> Iterator[pa.Table]:
        default = PenaltyChoice(float(settings.lstm_popularity_penalty), np.inf, [])
        today_choice = default
        with seam.bounded_threads(settings.threads):
            for horizon in horizon_list:
                choice = today_choice
                if horizon.is_backtest:
                    # Each backtest's penalty and cap are chosen on its own validation cut.
                    found, validation_lists = _validation_choice(
                        events, products, horizon, catalog_filter, settings)
                    if validation_lists is not None:
                        yield validation_lists
                    if found is None:
                        log.info("LSTM %s: no validation cut; best-seller penalty %.2f "
                                 "without exposure cap", horizon.name,
                                 settings.lstm_popularity_penalty)
                    choice = found or default
                    if horizon.is_primary:
                        today_choice = choice  # today's lists: the latest cut-off's choice
                yield from _lstm_horizon(events, products, horizon, catalog_filter, choice,
                                         settings, evaluated)

    return seam.stream(LSTM_SCHEMA, parts(), settings.threads)


# --------------------------------------------------------------------------- ranker

RANKER_SCHEMA = seam.fields(
    ("horizon", pa.string()), ("variant", pa.string()), ("customer_id", pa.string()),
    ("product_id", pa.string()), ("score", pa.float64()), ("rank", pa.int64()),
    ("together_score", pa.float64()), ("was_bought", pa.bool_()),
    ("category_bought", pa.bool_()), ("feature", pa.string()), ("importance", pa.float64()),
    ("trees", pa.int64()), ("validation_ndcg", pa.float64()), ("training_clients", pa.int64()))


def _ranked_table(batch: ranker.CandidateBatch, scores: np.ndarray, k: int, horizon: str,
                  variant: str) -> pa.Table:
    kept, rank, client, score = ranker.top_of(batch, scores, k)
    n = len(kept)
    # Ids by Arrow's take: building strings from Python objects cost as much as the scoring.
    return pa.table({
        "horizon": pa.repeat(pa.scalar(horizon, pa.string()), n),
        "variant": pa.repeat(pa.scalar(variant, pa.string()), n),
        "customer_id": pa.array(np.asarray(batch.customers, dtype=object), pa.string()).take(
            pa.array(client)),
        "product_id": pa.array(np.asarray(batch.catalogue, dtype=object), pa.string()).take(
            pa.array(batch.product[kept])),
        "score": pa.array(score.astype(np.float64)),
        "rank": pa.array(rank.astype(np.int64)),
        "together_score": pa.array(batch.together[kept].astype(np.float64)),
        "was_bought": pa.array(batch.was_bought[kept].astype(bool)),
        "category_bought": pa.array(batch.category_bought[kept].astype(bool)),
        "feature": pa.nulls(n, pa.string()), "importance": pa.nulls(n, pa.float64()),
        "trees": pa.nulls(n, pa.int64()), "validation_ndcg": pa.nulls(n, pa.float64()),
        "training_clients": pa.nulls(n, pa.int64())}, schema=RANKER_SCHEMA)


def _training_table(variant: str, fitted: ranker.FittedRanker, horizon: str) -> pa.Table:
    names = sorted(fitted.importance, key=lambda f: (-fitted.importance[f], f))
    frame = pd.DataFrame({
        "horizon": horizon, "variant": variant, "feature": names,
        "importance": [fitted.importance[f] for f in names], "trees": fitted.trees,
        "validation_ndcg": fitted.validation_ndcg,
        "training_clients": fitted.training_clients})
    for name in ("customer_id", "product_id", "score", "rank", "together_score", "was_bought",
                 "category_bought"):
        frame[name] = None
    return seam.to_table(frame, RANKER_SCHEMA)


def _fit_rankers(events: seam.Source, catalog: seam.Source, customers: seam.Source,
                 lstm: seam.Source, products: pd.Index, backtest: Horizon, catalog_filter: str,
                 settings: RecommendationSettings) -> dict[str, ranker.FittedRanker]:
    """'ranker' and the ablation 'ranker_no_lstm' trained on the validation cut of one
    backtest horizon (candidates known at the cut, labelled with the purchases up to the
    backtest cut-off) and the LSTM's lists at that cut."""
    at, _ = validation_cut(backtest)
    validation = ranker.Cut(backtest.stage("validation"), at, backtest.stage("validation"))
    later = both(PURCHASE, f"event_date >= {day(at)}",
                 f"event_date < {day(backtest.known_before)}", catalog_filter)
    clients = sample_clients(events, settings.ranker_training_clients, settings.seed, later)
    signals = ranker.catalogue_signals(events, catalog, customers, products, validation,
                                       catalog_filter, settings)
    batches = list(ranker.iter_cut_batches(events, lstm, customers, signals, validation,
                                           catalog_filter, clients, settings))
    truth = read_clients(events, ["customer_id", "product_id"], later, clients)
    labels = [ranker.labels_of(b, truth) for b in batches]
    log.info("ranker %s: %d candidates for %d training clients (%.1f%% bought)",
             validation.name, sum(len(b.client) for b in batches), len(clients.ids),
             100 * float(np.concatenate(labels).mean()) if labels else 0.0)
    if not batches:
        return {}
    without_lstm = tuple(f for f in ranker.FEATURES if f not in ranker.LSTM_FEATURES)
    models = {"ranker": ranker.fit_ranker(batches, labels, ranker.FEATURES, settings),
              "ranker_no_lstm": ranker.fit_ranker(batches, labels, without_lstm, settings)}
    return {variant: fitted for variant, fitted in models.items() if fitted is not None}


def _ranked_lists(events: seam.Source, catalog: seam.Source, customers: seam.Source,
                  lstm: seam.Source, products: pd.Index, horizon: Horizon, catalog_filter: str,
                  models: dict[str, ranker.FittedRanker], settings: RecommendationSettings,
                  evaluated: seam.Source | None) -> Iterator[pa.Table]:
    """The top ``candidates`` of each model for the horizon's clients: a backtest's
    evaluated clients, or every buyer today."""
    cut = ranker.Cut(horizon.name, horizon.known_before, horizon.name)
    scored = (evaluated_clients(events, horizon, products, settings, catalog_filter, evaluated)
              if horizon.is_backtest else None)
    signals = ranker.catalogue_signals(events, catalog, customers, products, cut,
                                       catalog_filter, settings)
    progress = seam.ClientProgress(log, f"ranker {horizon.name}")
    for batch in ranker.iter_cut_batches(events, lstm, customers, signals, cut,
                                         catalog_filter, scored, settings):
        for variant, fitted in models.items():
            yield _ranked_table(batch, fitted.score(batch), settings.candidates,
                                horizon.name, variant)
        progress.add(len(batch.customers))
    log.info("ranker %s: %d clients ranked", horizon.name, progress.done)


def ranker_lists(events: seam.Source, catalog: seam.Source, customers: seam.Source,
                 horizons: seam.Source, lstm: seam.Source,
                 settings: RecommendationSettings | None = None,
                 evaluated: seam.Source | None = None) -> pa.RecordBatchReader:
    """The two-stage recommender (:mod:`clientele.recommendations.ranker`). For each
    backtest horizon, trained on its validation cut (its cut-off minus one holdout window,
    the LSTM's validation lists there), then the top ``candidates`` ranked products of its
    evaluated clients ('ranker' and the ablation 'ranker_no_lstm'); today, the latest
    cut-off's 'ranker' lists every buyer. 'training' rows ('training_minus_<n>d' for an
    earlier cut-off) give each model's feature importances (share of gain)."""
    settings = _settings(settings)
    products = read_products(catalog)
    catalog_filter = in_catalog(events, products)
    horizon_list = read_horizons(horizons)

    def parts() -> Iterator[pa.Table]:
        if not backtests(horizon_list) or products.empty:
            log.info("ranker: no backtest horizon or an empty catalogue; no ranker")
            return
        today: dict[str, ranker.FittedRanker] = {}
        with seam.bounded_threads(settings.threads):
            for horizon in horizon_list:
                if horizon.is_backtest:
                    models = _fit_rankers(events, catalog, customers, lstm, products, horizon,
                                          catalog_filter, settings)
                    for variant, fitted in models.items():
                        yield _training_table(variant, fitted, horizon.stage("training"))
                    if horizon.is_primary:
                        today = {v: m for v, m in models.items() if v == "ranker"}
                else:
                    models = today
                if models:
                    yield from _ranked_lists(events, catalog, customers, lstm, products,
                                             horizon, catalog_filter, models, settings,
                                             evaluated)

    return seam.stream(RANKER_SCHEMA, parts(), settings.threads)


# --------------------------------------------------------------------------- evaluation


def evaluation(horizons: seam.Source, events: seam.Source, catalog: seam.Source,
               customers: seam.Source, popularity: seam.Source, repurchase: seam.Source,
               cooccurrence: seam.Source, als: seam.Source, lstm: seam.Source,
               composed: seam.Source, ranker: seam.Source | None = None,
               settings: RecommendationSettings | None = None,
               evaluated: seam.Source | None = None) -> pa.Table:
    """The backtest of every method on the evaluated clients of every backtest cut-off
    (see :mod:`clientele.recommendations.evaluation`), as model_evaluation rows: every
    figure for the latest cut-off, the key figures for each earlier one, and their mean
    over the cut-offs."""
    settings = _settings(settings)
    horizon_list = backtests(read_horizons(horizons))
    products = read_products(catalog)
    if not horizon_list or products.empty:
        log.info("evaluation: no backtest horizon or an empty catalogue")
        return seam.empty_table(seam.EVALUATION_SCHEMA)
    if len(horizon_list) < settings.backtest_cutoffs:
        log.info("evaluation: %d backtest cut-offs, not the %d asked for", len(horizon_list),
                 settings.backtest_cutoffs)
    if len(products) < max(backtest.KS):
        log.info("evaluation: the catalogue has %d products, fewer than k = %d: lists are "
                 "shorter than k and a recall at k counts the whole catalogue",
                 len(products), max(backtest.KS))
    catalog_filter = in_catalog(events, products)
    run_as_of = horizon_list[0].as_of
    tables, scores = [], []
    with seam.bounded_threads(settings.threads):
        for horizon in horizon_list:
            clients = evaluated_clients(events, horizon, products, settings, catalog_filter,
                                        evaluated)
            table, cutoff_scores = backtest.evaluate_methods(
                horizon, products, clients, catalog_filter, events=events,
                customers=customers, popularity=popularity, repurchase=repurchase,
                cooccurrence=cooccurrence, als=als, lstm=lstm, composed=composed,
                ranker=ranker, similar_variant=settings.similar_variant, seed=settings.seed,
                run_as_of=run_as_of)
            tables.append(table)
            if cutoff_scores is not None:
                scores.append(cutoff_scores)
            log.info("evaluation %s: %d clients", horizon.name, len(clients.ids))
        tables.append(backtest.mean_over_cutoffs(scores, settings.seed, run_as_of))
    return pa.concat_tables(tables)
