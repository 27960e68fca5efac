"""Time-split backtest of every recommendation method (baselines, ALS, LSTM, composed list).

Train = everything known before the backtest cut-off (the 'backtest' horizon); truth =
each client's merchandise purchases from the cut-off to as_of. Each method's list is the
head of a full ranking over the whole recommendable catalogue (never sampled negatives);
when a method has fewer than K products for a client (a new client, a short history), the
list is completed with the client's market's popular products, then all markets' — the
same fallback for every method, said in the notes.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pyarrow as pa
import scipy.sparse as sp

from clientele.recommendations.metrics import evaluate_ranking
from clientele.recommendations.pipeline import purchase_matrix
from clientele.recommendations.topk import chunked_top_k
from clientele.seam import EVALUATION_SCHEMA, EvaluationRows, empty_table

log = logging.getLogger("clientele.recommendations")

KS = (3, 10, 20)
COLUMNS = ["area", "model_name", "is_baseline", "metric", "k", "segment", "metric_value",
           "n_evaluated", "cutoff_date", "as_of_date", "notes"]


def empty_evaluation() -> pa.Table:
    """Correctly typed empty output."""
    return empty_table(EVALUATION_SCHEMA)


def ranked_array(users: pd.Index, products: pd.Index, frames: list[pd.DataFrame],
                 k: int) -> np.ndarray:
    """(len(users), k) product indices from ranked frames (customer_id, product_id, rank),
    earlier frames first; a product already listed for a client is skipped."""
    parts = []
    for priority, frame in enumerate(frames):
        part = frame[["customer_id", "product_id", "rank"]].copy()
        part["priority"] = priority
        parts.append(part)
    lists = pd.concat(parts, ignore_index=True)
    lists["u"] = users.get_indexer(lists["customer_id"])
    lists["i"] = products.get_indexer(lists["product_id"])
    lists = lists[(lists["u"] >= 0) & (lists["i"] >= 0)]
    lists = lists.sort_values(["u", "priority", "rank"], kind="stable")
    lists = lists.drop_duplicates(["u", "i"])
    lists["pos"] = lists.groupby("u").cumcount()
    lists = lists[lists["pos"] < k]
    top = np.full((len(users), k), -1, dtype=np.int64)
    top[lists["u"].to_numpy(), lists["pos"].to_numpy()] = lists["i"].to_numpy()
    return top


def _popularity_fallbacks(users: pd.Index, markets: pd.Series, popularity: pd.DataFrame
                          ) -> list[pd.DataFrame]:
    """Per evaluated client: their market's popular list, then all markets'."""
    pop = popularity.rename(columns={"popularity_rank": "rank"})
    clients = pd.DataFrame({"customer_id": users, "market": markets.reindex(users).fillna(
        "(unknown)").to_numpy()})
    by_market = clients.merge(pop[pop["market"] != "(all)"], on="market")
    global_ = pop[pop["market"] == "(all)"]
    by_all = clients[["customer_id"]].merge(global_, how="cross")
    return [by_market, by_all]


def cooccurrence_frame(history: sp.csr_matrix, rules: pd.DataFrame, users: pd.Index,
                       products: pd.Index, k: int) -> pd.DataFrame:
    """Score = sum over the client's bought products of confidence(product -> candidate)."""
    a = products.get_indexer(rules["antecedent_product_id"])
    c = products.get_indexer(rules["consequent_product_id"])
    ok = (a >= 0) & (c >= 0)
    C = sp.csr_matrix((rules["confidence"].to_numpy()[ok], (a[ok], c[ok])),
                      shape=(len(products), len(products)))
    H = (history > 0).astype(np.float64).tocsr()
    idx, val = chunked_top_k(lambda rows: (H[rows] @ C).toarray(), len(users), k,
                             chunk_size=1024)
    idx = np.where(val > 0, idx, -1)
    rows = np.repeat(np.arange(len(users)), k)
    flat = idx.ravel()
    keep = flat >= 0
    return pd.DataFrame({"customer_id": users[rows[keep]], "product_id": products[flat[keep]],
                         "rank": np.tile(np.arange(1, k + 1), len(users))[keep]})


def evaluate_methods(horizons: pd.DataFrame, events: pd.DataFrame, catalog: pd.DataFrame,
                     customers: pd.DataFrame, popularity: pd.DataFrame,
                     repurchase: pd.DataFrame, rules: pd.DataFrame, als: pd.DataFrame,
                     lstm: pd.DataFrame, composed: pd.DataFrame,
                     similar_variant: str = "lstm") -> pd.DataFrame:
    """Rows in model_evaluation's columns for every method, k, metric and segment."""
    backtest = horizons[horizons["horizon"] == "backtest"]
    if backtest.empty or catalog.empty:
        log.info("recommendations_evaluation: no backtest horizon or empty catalogue")
        return empty_evaluation()
    cutoff = pd.Timestamp(backtest["known_before"].iloc[0])
    as_of = pd.Timestamp(backtest["as_of_date"].iloc[0])
    # Sorted: DuckDB does not keep row order, and tie-breaks between equal scores and the
    # order per-client metrics are added in must not change from one build to the next.
    products = pd.Index(catalog["product_id"]).sort_values()
    purchases = events[(events["event_type"] == "purchase")
                       & events["product_id"].isin(products)].copy()
    dates = pd.to_datetime(purchases["event_date"])
    train, test = purchases[dates < cutoff], purchases[(dates >= cutoff) & (dates <= as_of)]
    users = pd.Index(test["customer_id"].unique()).sort_values()
    if len(users) == 0:
        log.info("recommendations_evaluation: nobody bought after the cut-off %s", cutoff.date())
        return empty_evaluation()
    truth = purchase_matrix(test, users, products)
    history = purchase_matrix(train, users, products)
    returning = np.asarray(history.getnnz(axis=1) > 0)
    train_buyers = train.drop_duplicates(["customer_id", "product_id"])
    item_pop = np.bincount(products.get_indexer(train_buyers["product_id"]),
                           minlength=len(products))
    n_train_users = int(train["customer_id"].nunique())
    markets = customers.set_index("customer_id")["country"].fillna("(unknown)")
    markets = markets[~markets.index.duplicated()]

    def at(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["horizon"] == "backtest"]

    fallback = _popularity_fallbacks(users, markets, at(popularity))
    K = max(KS)
    methods: dict[str, tuple[bool, list[pd.DataFrame], str]] = {
        "popularity": (True, [], "distinct buyers in the client's market over the popularity "
                       "window before the cut-off, then all markets"),
        "repurchase": (True, [at(repurchase).rename(columns={"repurchase_rank": "rank"})],
                       "the client's own products by number of orders, then recency"),
        "cooccurrence": (True, [cooccurrence_frame(history, at(rules), users, products, K)],
                         "sum of confidence(bought product -> candidate) over the client's "
                         "purchases"),
        "als": (True, [at(als)], "implicit ALS on order counts (numpy, conjugate gradient)"),
    }
    lstm_bt = at(lstm)
    for variant in ("lstm", "lstm_debiased"):
        rows = lstm_bt[lstm_bt["variant"] == variant]
        penalty = float(rows["popularity_penalty"].iloc[0]) if len(rows) else float("nan")
        cap = rows["exposure_cap"].iloc[0] if len(rows) else np.nan
        cap_text = f"{cap:g} x the average exposure" if pd.notna(cap) else "none"
        methods[variant] = (False, [rows], f"LSTM over day-bags of purchases and browsing, "
                            f"best-seller penalty {penalty:g}, exposure cap {cap_text}"
                            + (" (chosen on a validation cut before the test cut-off)"
                               if variant == "lstm_debiased" else ""))
    composed_bt = at(composed).rename(columns={"recommendation_rank": "rank"})
    methods["composed"] = (False, [composed_bt, lstm_bt[lstm_bt["variant"] == similar_variant]],
                           "client_recommendations' composed list (similar, bought together, "
                           "novel; stock-filtered when stock exists), continued by the "
                           f"{similar_variant} ranking")
    out = []
    for name, (is_baseline, frames, notes) in methods.items():
        top = ranked_array(users, products, [*frames, *fallback], K)
        note = notes + "; lists completed by market popularity"
        for segment, mask in (("all", np.ones(len(users), dtype=bool)),
                              ("returning", returning)):
            if not mask.any():
                continue
            for row in evaluate_ranking(top[mask], truth[mask], KS, item_pop, n_train_users,
                                        n_catalog=len(products)):
                out.append({"model_name": name, "is_baseline": is_baseline, "segment": segment,
                            "metric": row["metric"], "k": row["k"],
                            "metric_value": row["value"], "n_evaluated": row["n"],
                            "notes": note})
    training = {"lstm": ("seconds_per_epoch", "epochs_trained", "best_epoch", "train_seconds",
                         "validation_recall", "validation_coverage"),
                "lstm_debiased": ("popularity_penalty", "exposure_cap", "validation_recall",
                                  "validation_coverage")}
    for variant, columns in training.items():
        rows = lstm_bt[lstm_bt["variant"] == variant]
        for column in columns if len(rows) else ():
            out.append({"model_name": variant, "is_baseline": False, "segment": "training",
                        "metric": column, "k": None,
                        "metric_value": float(rows[column].iloc[0]),
                        "n_evaluated": int(rows["training_sequences"].iloc[0]),
                        "notes": "LSTM training on the backtest horizon; validation figures "
                        "(recall, coverage at 10) on the cut before it that chose the "
                        "best-seller penalty and exposure cap"})
    result = pd.DataFrame(out)
    result.insert(0, "area", "recommendations")
    result["k"] = result["k"].astype("Int32")
    result["n_evaluated"] = result["n_evaluated"].astype("int64")
    result["cutoff_date"] = cutoff.date()
    result["as_of_date"] = as_of.date()
    rows = EvaluationRows("recommendations")
    rows.extend(result[COLUMNS])
    return rows.to_table()
