"""Frame-in, frame-out steps the dbt Python models call (ids <-> indices, per horizon).

Every function is vectorised over customers; loops run over horizons, methods and k.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from clientele.recommendations.als import ImplicitALS
from clientele.recommendations.diversity import (
    Candidates,
    PenaltyChoice,
    choose_penalty,
    exposure_capped,
)
from clientele.recommendations.lstm import (
    EVENT_TYPES,
    LSTMRecommender,
    Sequences,
    build_sequences,
    popularity_log_prior,
)
from clientele.recommendations.topk import chunked_top_k, top_k_indices

log = logging.getLogger("clientele.recommendations")


def _known(events: pd.DataFrame, known_before: object) -> pd.DataFrame:
    return events[pd.to_datetime(events["event_date"]) < pd.Timestamp(known_before)]


def _sorted_ids(ids: pd.Series) -> pd.Index:
    """Distinct ids in sorted order: the integer indices, and so the seeded batches and
    initialisations, must not depend on the order in which the warehouse returns rows."""
    return pd.Index(np.sort(ids.unique()))


def _top_frame(customers: pd.Index, rows: np.ndarray, products: pd.Index, idx: np.ndarray,
               val: np.ndarray) -> pd.DataFrame:
    """Long frame (customer_id, product_id, score, rank) from top-k arrays."""
    k = idx.shape[1]
    r = np.repeat(rows, k)
    flat_idx, flat_val = idx.ravel(), val.ravel()
    ok = flat_idx >= 0
    return pd.DataFrame({
        "customer_id": customers[r[ok]],
        "product_id": products[flat_idx[ok]],
        "score": flat_val[ok].astype(float),
        "rank": np.tile(np.arange(1, k + 1), len(rows))[ok].astype("int64"),
    })


def _scored_customers(events: pd.DataFrame, horizon: str, known_before: object,
                      customers: pd.Index) -> np.ndarray:
    """Rows of `customers` to score: all of them for 'current'; for 'backtest', only those
    who bought on or after the cut-off (the only lists the evaluation reads; a client's
    scores do not depend on who else is scored)."""
    if horizon != "backtest":
        return np.arange(len(customers))
    later = events[(events["event_type"] == "purchase")
                   & (pd.to_datetime(events["event_date"]) >= pd.Timestamp(known_before))]
    return np.flatnonzero(customers.isin(later["customer_id"]))


def purchase_matrix(purchases: pd.DataFrame, customers: pd.Index, products: pd.Index
                    ) -> sp.csr_matrix:
    """Customers x products count of orders containing the product."""
    u = customers.get_indexer(purchases["customer_id"])
    i = products.get_indexer(purchases["product_id"])
    ok = (u >= 0) & (i >= 0)
    return sp.csr_matrix((np.ones(ok.sum(), dtype=np.float32), (u[ok], i[ok])),
                         shape=(len(customers), len(products)))


def als_recommendations(events: pd.DataFrame, catalog: pd.DataFrame, horizons: pd.DataFrame,
                        top_k: int = 30, **als_params: float) -> pd.DataFrame:
    """Top-k ALS products per customer with purchases, for every horizon."""
    products = pd.Index(catalog["product_id"])
    frames = []
    for horizon, known_before in horizons[["horizon", "known_before"]].itertuples(index=False):
        purchases = _known(events[events["event_type"] == "purchase"], known_before)
        purchases = purchases[purchases["product_id"].isin(products)]
        customers = _sorted_ids(purchases["customer_id"])
        if len(customers) == 0:
            continue
        # Products never bought before the horizon have no factors: they rank last.
        vocabulary = _sorted_ids(purchases["product_id"])
        R = purchase_matrix(purchases, customers, vocabulary)
        model = ImplicitALS(**als_params).fit(R)  # type: ignore[arg-type]
        rows = _scored_customers(events, horizon, known_before, customers)
        idx, val = chunked_top_k(lambda r, rows=rows, m=model: m.score(rows[r]), len(rows), top_k)
        frame = _top_frame(customers, rows, vocabulary, idx, val)
        frame.insert(0, "horizon", horizon)
        frames.append(frame)
    columns = {"horizon": "object", "customer_id": "object", "product_id": "object",
               "score": "float64", "rank": "int64"}
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})
    return pd.concat(frames, ignore_index=True)


@dataclass
class _FittedLSTM:
    """One horizon's trained LSTM and what scoring it needs."""

    model: LSTMRecommender
    seq: Sequences
    customers: pd.Index
    vocabulary: pd.Index
    prior: np.ndarray
    train_seconds: float


def _fit_lstm(events: pd.DataFrame, products: pd.Index, known_before: object, max_steps: int,
              max_events_per_step: int, target_horizon_days: int | None,
              lstm_params: dict[str, float]) -> _FittedLSTM | None:
    known = _known(events, known_before)
    known = known[known["product_id"].isin(products)]
    customers = _sorted_ids(known["customer_id"])
    if len(customers) == 0:
        return None
    # Output vocabulary: products with any event before the horizon; the others have
    # untrained embeddings and rank last.
    vocabulary = _sorted_ids(known["product_id"])
    day = (pd.to_datetime(known["event_date"]) - pd.Timestamp("1970-01-01")).dt.days
    seq = build_sequences(
        customers.get_indexer(known["customer_id"]),
        vocabulary.get_indexer(known["product_id"]),
        known["event_type"].map(EVENT_TYPES).to_numpy(), day.to_numpy(),
        max_steps=max_steps, max_events_per_step=max_events_per_step,
        target_horizon_days=target_horizon_days)
    start = time.perf_counter()
    model = LSTMRecommender(n_items=len(vocabulary), **lstm_params).fit(seq)  # type: ignore
    counts = np.bincount(vocabulary.get_indexer(
        known.loc[known["event_type"] == "purchase", "product_id"]), minlength=len(vocabulary))
    return _FittedLSTM(model, seq, customers, vocabulary, popularity_log_prior(counts),
                       time.perf_counter() - start)


def _candidates(fitted: _FittedLSTM, rows: np.ndarray, penalties: set[float], m: int
                ) -> dict[float, Candidates]:
    """penalty -> top-m (vocabulary indices, scores, in the client's history) of
    log p - penalty x log prior."""
    parts: dict[float, list[Candidates]] = {p: [] for p in penalties}
    for start in range(0, len(rows), 2048):  # chunks of customers bound the memory
        chunk = rows[start:start + 2048]
        logp = fitted.model.log_proba(fitted.seq, chunk)
        history = fitted.model.history_mask(fitted.seq, chunk)
        for penalty in penalties:
            idx, val = top_k_indices(logp - penalty * fitted.prior, m)
            parts[penalty].append((idx, val, np.take_along_axis(history, idx.clip(0), axis=1)))
    empty = (np.empty((0, m), dtype=np.int64), np.empty((0, m)), np.empty((0, m), dtype=bool))
    return {p: (np.vstack([c[0] for c in v]), np.vstack([c[1] for c in v]),
                np.vstack([c[2] for c in v])) if v else empty for p, v in parts.items()}


def _validation_choice(events: pd.DataFrame, products: pd.Index, horizons: pd.DataFrame,
                       penalty_grid: Sequence[float], exposure_grid: Sequence[float],
                       max_recall_loss: float, exposure_k: int, m: int,
                       fit_args: dict[str, object]) -> PenaltyChoice | None:
    """Best-seller penalty and exposure cap chosen on a validation cut: the backtest
    cut-off moved back by one holdout window, so nothing after the test cut-off is used.
    None when there is no backtest horizon or nobody to validate on."""
    backtest = horizons[horizons["horizon"] == "backtest"]
    if backtest.empty:
        return None
    cut = pd.Timestamp(backtest["known_before"].iloc[0])
    window = pd.Timestamp(backtest["as_of_date"].iloc[0]) + pd.Timedelta(days=1) - cut
    validation_cut = cut - window
    fitted = _fit_lstm(events, products, validation_cut, **fit_args)  # type: ignore[arg-type]
    if fitted is None:
        return None
    purchases = events[(events["event_type"] == "purchase") & events["product_id"].isin(products)]
    dates = pd.to_datetime(purchases["event_date"])
    later = purchases[(dates >= validation_cut) & (dates < cut)]
    rows = np.flatnonzero(fitted.customers[fitted.seq.users].isin(later["customer_id"]))
    if rows.size == 0:
        return None
    clients = fitted.customers[fitted.seq.users[rows]]
    truth = purchase_matrix(later, clients, products)
    to_catalog = products.get_indexer(fitted.vocabulary)
    candidates = {p: (np.where(idx >= 0, to_catalog[idx], -1), val, exempt)
                  for p, (idx, val, exempt)
                  in _candidates(fitted, rows, {0.0, *penalty_grid}, m).items()}
    log.info("LSTM validation cut %s: %d clients bought in the %d days before the test "
             "cut-off %s", validation_cut.date(), rows.size, window.days, cut.date())
    return choose_penalty(candidates, truth, len(products), exposure_grid, exposure_k,
                          max_recall_loss)


def lstm_recommendations(events: pd.DataFrame, catalog: pd.DataFrame, horizons: pd.DataFrame,
                         top_k: int = 30, penalty_grid: Sequence[float] = (0.0, 0.5, 1.0),
                         exposure_grid: Sequence[float] = (np.inf, 4.0, 2.0, 1.0),
                         max_recall_loss: float = 0.08, fallback_penalty: float = 1.0,
                         exposure_k: int = 10, penalty_candidates: int = 200,
                         max_steps: int = 12, max_events_per_step: int = 16,
                         target_horizon_days: int | None = None,
                         **lstm_params: float) -> pd.DataFrame:
    """Top-k LSTM products per customer with any activity, for every horizon, in two
    variants: 'lstm' (raw) and 'lstm_debiased' (best-seller penalty and exposure cap,
    chosen on a validation cut before the backtest cut-off by ``choose_penalty``; without
    one, ``fallback_penalty`` and no cap).

    Training statistics are carried in columns (epochs_trained, seconds_per_epoch,
    train_seconds, final_loss) so that the evaluation can report them.
    """
    products = pd.Index(catalog["product_id"])
    fit_args: dict[str, object] = {
        "max_steps": max_steps, "max_events_per_step": max_events_per_step,
        "target_horizon_days": target_horizon_days, "lstm_params": lstm_params}
    m = max(top_k, penalty_candidates)
    choice = _validation_choice(events, products, horizons, penalty_grid, exposure_grid,
                                max_recall_loss, exposure_k, m, fit_args)
    if choice is None:
        log.info("LSTM: no validation cut; best-seller penalty %.2f without exposure cap",
                 fallback_penalty)
        choice = PenaltyChoice(float(fallback_penalty), np.inf, [])
    figures = {(g["penalty"], g["max_exposure"]): g for g in choice.grid}
    variants = {"lstm": (0.0, np.inf), "lstm_debiased": (choice.penalty, choice.max_exposure)}
    frames = []
    for horizon, known_before in horizons[["horizon", "known_before"]].itertuples(index=False):
        fitted = _fit_lstm(events, products, known_before, **fit_args)  # type: ignore[arg-type]
        if fitted is None:
            continue
        seq, history = fitted.seq, pd.DataFrame(fitted.model.history_)
        log.info("LSTM %s: %d sequences, %d epochs, %.1fs", horizon, len(seq.users),
                 len(history), fitted.train_seconds)
        scored = np.flatnonzero(np.isin(
            seq.users, _scored_customers(events, horizon, known_before, fitted.customers)))
        candidates = _candidates(fitted, scored, {p for p, _ in variants.values()}, m)
        for variant, (penalty, cap) in variants.items():
            idx, val = exposure_capped(*candidates[penalty][:2], exposure_k, cap,
                                       len(products), candidates[penalty][2])
            frame = _top_frame(fitted.customers, seq.users[scored], fitted.vocabulary,
                               idx[:, :top_k], val[:, :top_k])
            frame.insert(0, "variant", variant)
            frame.insert(0, "horizon", horizon)
            frame["popularity_penalty"] = penalty
            frame["exposure_cap"] = cap if np.isfinite(cap) else np.nan  # null = no cap
            chosen = figures.get((penalty, cap), {})
            frame["validation_recall"] = chosen.get("recall", np.nan)
            frame["validation_coverage"] = chosen.get("coverage", np.nan)
            frame["epochs_trained"] = len(history)
            frame["best_epoch"] = int(getattr(fitted.model, "best_epoch_", 0))
            frame["seconds_per_epoch"] = (float(history["seconds"].mean())
                                          if len(history) else 0.0)
            frame["train_seconds"] = fitted.train_seconds
            frame["final_loss"] = float(history["loss"].iloc[-1]) if len(history) else np.nan
            frame["training_sequences"] = int((seq.targets[:, :, 0] > 0).any(axis=1).sum())
            frames.append(frame)
    if not frames:
        return pd.DataFrame({
            "horizon": pd.Series(dtype="object"), "variant": pd.Series(dtype="object"),
            "customer_id": pd.Series(dtype="object"), "product_id": pd.Series(dtype="object"),
            "score": pd.Series(dtype="float64"), "rank": pd.Series(dtype="int64"),
            "popularity_penalty": pd.Series(dtype="float64"),
            "exposure_cap": pd.Series(dtype="float64"),
            "validation_recall": pd.Series(dtype="float64"),
            "validation_coverage": pd.Series(dtype="float64"),
            "epochs_trained": pd.Series(dtype="int64"),
            "best_epoch": pd.Series(dtype="int64"),
            "seconds_per_epoch": pd.Series(dtype="float64"),
            "train_seconds": pd.Series(dtype="float64"),
            "final_loss": pd.Series(dtype="float64"),
            "training_sequences": pd.Series(dtype="int64")})
    return pd.concat(frames, ignore_index=True)
