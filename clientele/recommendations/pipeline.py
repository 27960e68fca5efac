"""Frame-in, frame-out steps the dbt Python models call (ids <-> indices, per horizon).

Every function is vectorised over customers; loops run over horizons, methods and k.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp

from clientele.recommendations.als import ImplicitALS
from clientele.recommendations.lstm import (
    EVENT_TYPES,
    LSTMRecommender,
    build_sequences,
    popularity_log_prior,
)
from clientele.recommendations.topk import chunked_top_k, top_k_indices

log = logging.getLogger("clientele.recommendations")


def _known(events: pd.DataFrame, known_before: object) -> pd.DataFrame:
    return events[pd.to_datetime(events["event_date"]) < pd.Timestamp(known_before)]


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
        customers = pd.Index(purchases["customer_id"].unique())
        if len(customers) == 0:
            continue
        # Products never bought before the horizon have no factors: they rank last.
        vocabulary = pd.Index(purchases["product_id"].unique())
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


def lstm_recommendations(events: pd.DataFrame, catalog: pd.DataFrame, horizons: pd.DataFrame,
                         top_k: int = 30, popularity_penalty: float = 0.1,
                         max_steps: int = 12, max_events_per_step: int = 16,
                         target_horizon_days: int | None = None,
                         **lstm_params: float) -> pd.DataFrame:
    """Top-k LSTM products per customer with any activity, for every horizon, in two
    variants: 'lstm' (raw) and 'lstm_debiased' (best-seller penalty applied).

    Training statistics are carried in columns (epochs_trained, seconds_per_epoch,
    train_seconds, final_loss) so that the evaluation can report them.
    """
    products = pd.Index(catalog["product_id"])
    frames = []
    for horizon, known_before in horizons[["horizon", "known_before"]].itertuples(index=False):
        known = _known(events, known_before)
        known = known[known["product_id"].isin(products)]
        customers = pd.Index(known["customer_id"].unique())
        if len(customers) == 0:
            continue
        # Output vocabulary: products with any event before the horizon; the others have
        # untrained embeddings and rank last.
        vocabulary = pd.Index(known["product_id"].unique())
        day = (pd.to_datetime(known["event_date"]) - pd.Timestamp("1970-01-01")).dt.days
        seq = build_sequences(
            customers.get_indexer(known["customer_id"]),
            vocabulary.get_indexer(known["product_id"]),
            known["event_type"].map(EVENT_TYPES).to_numpy(), day.to_numpy(),
            max_steps=max_steps, max_events_per_step=max_events_per_step,
            target_horizon_days=target_horizon_days)
        start = time.perf_counter()
        model = LSTMRecommender(n_items=len(vocabulary), **lstm_params).fit(seq)  # type: ignore
        train_seconds = time.perf_counter() - start
        history = pd.DataFrame(model.history_)
        counts = np.bincount(vocabulary.get_indexer(
            known.loc[known["event_type"] == "purchase", "product_id"]),
            minlength=len(vocabulary))
        prior = popularity_log_prior(counts)
        log.info("LSTM %s: %d sequences, %d epochs, %.1fs", horizon, len(seq.users),
                 len(history), train_seconds)
        penalties = {"lstm": 0.0, "lstm_debiased": popularity_penalty}
        tops: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {v: [] for v in penalties}
        scored = np.flatnonzero(np.isin(
            seq.users, _scored_customers(events, horizon, known_before, customers)))
        for start_row in range(0, len(scored), 2048):  # chunks of customers
            rows = scored[start_row:start_row + 2048]
            logp = model.log_proba(seq, rows)
            for variant, penalty in penalties.items():
                tops[variant].append(top_k_indices(logp - penalty * prior, top_k))
        for variant, penalty in penalties.items():
            if not tops[variant]:
                continue
            idx = np.vstack([t[0] for t in tops[variant]])
            val = np.vstack([t[1] for t in tops[variant]])
            frame = _top_frame(customers, seq.users[scored], vocabulary, idx, val)
            frame.insert(0, "variant", variant)
            frame.insert(0, "horizon", horizon)
            frame["popularity_penalty"] = penalty
            frame["epochs_trained"] = len(history)
            frame["best_epoch"] = int(getattr(model, "best_epoch_", 0))
            frame["seconds_per_epoch"] = (float(history["seconds"].mean())
                                          if len(history) else 0.0)
            frame["train_seconds"] = train_seconds
            frame["final_loss"] = float(history["loss"].iloc[-1]) if len(history) else np.nan
            frame["training_sequences"] = int((seq.targets[:, :, 0] > 0).any(axis=1).sum())
            frames.append(frame)
    if not frames:
        return pd.DataFrame({
            "horizon": pd.Series(dtype="object"), "variant": pd.Series(dtype="object"),
            "customer_id": pd.Series(dtype="object"), "product_id": pd.Series(dtype="object"),
            "score": pd.Series(dtype="float64"), "rank": pd.Series(dtype="int64"),
            "popularity_penalty": pd.Series(dtype="float64"),
            "epochs_trained": pd.Series(dtype="int64"),
            "best_epoch": pd.Series(dtype="int64"),
            "seconds_per_epoch": pd.Series(dtype="float64"),
            "train_seconds": pd.Series(dtype="float64"),
            "final_loss": pd.Series(dtype="float64"),
            "training_sequences": pd.Series(dtype="int64")})
    return pd.concat(frames, ignore_index=True)
