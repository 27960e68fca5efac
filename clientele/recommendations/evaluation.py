"""Time-split backtest of every recommendation method (baselines, ALS, LSTM, composed list).

Train = everything known before the backtest cut-off (the 'backtest' horizon); truth =
each client's merchandise purchases from the cut-off to as_of. Each method's list is the
head of a full ranking over the whole recommendable catalogue (never sampled negatives);
when a method has fewer than K products for a client (a new client, a short history), the
list is completed with the client's market's popular products, then all markets' — the
same fallback for every method, said in the notes.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pyarrow as pa
import scipy.sparse as sp

from clientele import seam
from clientele.intervals import (
    N_RESAMPLES,
    mean_ci,
    mean_of_group_means_ci,
    paired_difference_ci,
)
from clientele.recommendations.inputs import (
    ClientSample,
    Horizon,
    both,
    day,
    purchase_matrix,
    read_clients,
    sorted_ids,
)
from clientele.recommendations.metrics import evaluate_ranking, ndcg_at_k, recall_at_k

log = seam.get_logger("recommendations")

KS = (3, 10, 20)
#: Recall and NDCG at this k get a 95 % bootstrap interval over the evaluated clients.
CI_K = 10
#: model_evaluation's segment of the mean over every backtest cut-off.
MEAN_OVER_CUTOFFS = "mean_over_cutoffs"


def cutoff_segment(horizon: Horizon) -> str:
    """model_evaluation's segment of an earlier cut-off's key rows."""
    return f"cutoff={horizon.name}"


@dataclasses.dataclass(frozen=True)
class CutoffScores:
    """One backtest cut-off's per-client Recall@10 and NDCG@10 of every method (rows:
    ``clients``), what the mean over cut-offs resamples."""

    horizon: Horizon
    clients: pd.Index
    scores: dict[str, dict[str, np.ndarray]]
    baselines: tuple[str, ...]


def _positions(users: pd.Index, products: pd.Index, frame: pd.DataFrame) -> np.ndarray:
    """(len(users), width) product indices of a ranked frame (customer_id, product_id,
    rank), in rank order (ties: product), -1 where a list is shorter."""
    u = users.get_indexer(frame["customer_id"])
    i = products.get_indexer(frame["product_id"])
    ok = (u >= 0) & (i >= 0)
    u, i, rank = u[ok], i[ok], frame["rank"].to_numpy()[ok]
    order = np.lexsort((i, rank, u))
    u, i = u[order], i[order]
    position = np.arange(len(u)) - np.searchsorted(u, u, "left")
    matrix = np.full((len(users), int(position.max()) + 1 if len(u) else 0), -1, dtype=np.int64)
    matrix[u, position] = i
    return matrix


def first_distinct(candidates: np.ndarray, k: int) -> np.ndarray:
    """(n, k): each row's first k distinct products (>= 0), in column order."""
    n = candidates.shape[0]
    order = np.argsort(candidates, axis=1, kind="stable")
    grouped = np.take_along_axis(candidates, order, axis=1)
    repeated = np.zeros_like(grouped, dtype=bool)
    repeated[:, 1:] = grouped[:, 1:] == grouped[:, :-1]
    duplicate = np.zeros_like(repeated)
    np.put_along_axis(duplicate, order, repeated, axis=1)
    keep = (candidates >= 0) & ~duplicate
    position = np.cumsum(keep, axis=1) - 1
    top = np.full((n, k), -1, dtype=np.int64)
    rows, cols = np.nonzero(keep & (position < k))
    top[rows, position[rows, cols]] = candidates[rows, cols]
    return top


def ranked_array(users: pd.Index, products: pd.Index, frames: list[pd.DataFrame | np.ndarray],
                 k: int) -> np.ndarray:
    """(len(users), k) product indices from ranked frames (customer_id, product_id, rank)
    or ready (len(users), width) index matrices, earlier ones first; a product already
    listed for a client is skipped."""
    matrices = [f if isinstance(f, np.ndarray) else _positions(users, products, f)
                for f in frames]
    return first_distinct(np.hstack([np.full((len(users), 0), -1), *matrices]), k)


def _popularity_fallbacks(users: pd.Index, products: pd.Index, markets: pd.Series,
                          popularity: pd.DataFrame) -> list[np.ndarray]:
    """Per evaluated client: their market's popular list, then all markets' (index
    matrices, one list per market rather than one copy per client)."""
    lists = {market: products.get_indexer(group.sort_values(
        ["popularity_rank", "product_id"])["product_id"])
        for market, group in popularity.groupby("market")}
    width = max((len(v) for v in lists.values()), default=0)
    names = sorted(m for m in lists if m != "(all)")
    table = np.full((len(names) + 1, width), -1, dtype=np.int64)  # last row: no list
    for row, name in enumerate(names):
        table[row, :len(lists[name])] = lists[name]
    client_market = pd.Index(names).get_indexer(
        markets.reindex(users).fillna("(unknown)").to_numpy())
    by_market = table[np.where(client_market >= 0, client_market, len(names))]
    every = lists.get("(all)", np.empty(0, dtype=np.int64))
    by_all = np.broadcast_to(every, (len(users), len(every)))
    return [by_market, by_all]


def cooccurrence_frame(history: sp.csr_matrix, rules: pd.DataFrame, users: pd.Index,
                       products: pd.Index, k: int) -> pd.DataFrame:
    """Score = sum over the client's bought products of confidence(product -> candidate).
    Ties are frequent (equal pair counts give equal confidences): they go to the product
    in more orders (the likelier purchase a priori), then to the product id.

    Rules and history are put in canonical order first, so that the sums do not depend on
    the order of the rows; the scores stay sparse (only products some rule reaches), and a
    catalogue with fewer than k products gives shorter lists."""
    a = products.get_indexer(rules["antecedent_product_id"])
    c = products.get_indexer(rules["consequent_product_id"])
    ok = (a >= 0) & (c >= 0)
    C = sp.csr_matrix((rules["confidence"].to_numpy(np.float64)[ok], (a[ok], c[ok])),
                      shape=(len(products), len(products)))
    C.sum_duplicates()
    C.sort_indices()
    orders = np.zeros(len(products))
    np.maximum.at(orders, c[ok], rules["consequent_orders"].to_numpy(np.float64)[ok])
    H = sp.csr_matrix(history > 0, dtype=np.float64)
    H.sort_indices()
    scores = (H @ C).tocoo()
    keep = scores.data > 0
    row, col, score = scores.row[keep], scores.col[keep], scores.data[keep]
    order = np.lexsort((col, -orders[col], -score, row))
    row, col = row[order], col[order]
    rank = np.arange(len(row)) - np.searchsorted(row, row, "left")
    top = rank < k
    return pd.DataFrame({"customer_id": users[row[top]], "product_id": products[col[top]],
                         "rank": rank[top] + 1})


def _horizon_rows(horizon: Horizon) -> str:
    return f"horizon = {seam.sql_literal(horizon.name)}"


def _backtest_lists(source: seam.Source, columns: list[str], clients: ClientSample,
                    horizon: Horizon) -> pd.DataFrame:
    """The rows of a method at a backtest horizon, for the evaluated clients only."""
    return read_clients(source, columns, _horizon_rows(horizon), clients)


def evaluate_methods(horizon: Horizon, products: pd.Index, clients: ClientSample,
                     catalog_filter: str, *, events: seam.Source, customers: seam.Source,
                     popularity: seam.Source, repurchase: seam.Source,
                     cooccurrence: seam.Source, als: seam.Source, lstm: seam.Source,
                     composed: seam.Source, ranker: seam.Source | None = None,
                     similar_variant: str = "lstm", seed: int = 42,
                     run_as_of: object = None) -> tuple[pa.Table, CutoffScores | None]:
    """model_evaluation rows for every method, k, metric and segment, over ``clients``
    (those who bought a catalogue product from the backtest cut-off to the horizon's
    as_of, or a seeded sample of them), and the per-client scores behind them.

    The primary (latest) cut-off gives every row; an earlier one the key rows only:
    Recall@10 and NDCG@10 of every method and each method minus the best baseline, with
    their intervals, in segment 'cutoff=<horizon>' and dated with the run's as_of
    (``run_as_of``; the notes give its holdout)."""
    cutoff, as_of = horizon.known_before, horizon.as_of
    bought = "event_type = 'purchase'"
    test = read_clients(events, ["customer_id", "product_id"], clients.where, clients)
    users = sorted_ids(test["customer_id"])
    if len(users) == 0:
        log.info("evaluation: nobody bought after the cut-off %s", cutoff.date())
        return seam.empty_table(seam.EVALUATION_SCHEMA), None
    before = both(bought, f"event_date < {day(cutoff)}", catalog_filter)
    train = read_clients(events, ["customer_id", "product_id"], before, clients)
    truth = purchase_matrix(test, users, products)
    history = purchase_matrix(train, users, products)
    returning = np.asarray(history.getnnz(axis=1) > 0)
    # Novelty's popularity: distinct training buyers per product, over every client.
    buyers = seam.as_relation(events).filter(before or "true")
    per_product = buyers.aggregate("product_id, count(distinct customer_id) as buyers",
                                   "product_id").df()
    item_pop = np.zeros(len(products), dtype=np.int64)
    at = products.get_indexer(per_product["product_id"])
    item_pop[at[at >= 0]] = per_product["buyers"].to_numpy()[at >= 0]
    n_train_users = int(buyers.aggregate("count(distinct customer_id)").fetchone()[0])  # type: ignore[index]
    markets = read_clients(customers, ["customer_id", "country"], None, clients)
    markets = markets.drop_duplicates("customer_id").set_index("customer_id")["country"]
    markets = markets.fillna("(unknown)")

    fallback = _popularity_fallbacks(users, products, markets, seam.read_frame(
        popularity, ["market", "product_id", "popularity_rank"], where=_horizon_rows(horizon)))
    rank_columns = ["customer_id", "product_id", "rank"]
    K = max(KS)
    rules = seam.read_frame(cooccurrence, ["antecedent_product_id", "consequent_product_id",
                                           "confidence", "consequent_orders"],
                         where=_horizon_rows(horizon))
    methods: dict[str, tuple[bool, list[pd.DataFrame], str]] = {
        "popularity": (True, [], "distinct buyers in the client's market over the popularity "
                       "window before the cut-off, then all markets"),
        "repurchase": (True, [_backtest_lists(
            repurchase, ["customer_id", "product_id", "repurchase_rank"], clients,
            horizon).rename(
                columns={"repurchase_rank": "rank"})],
                       "the client's own products by number of orders, then recency"),
        "cooccurrence": (True, [cooccurrence_frame(history, rules, users, products, K)],
                         "sum of confidence(bought product -> candidate) over the client's "
                         "purchases"),
        "als": (True, [_backtest_lists(als, rank_columns, clients, horizon)],
                "implicit ALS on order counts (numpy, conjugate gradient; every client "
                "folded in on the product factors)"),
    }
    lstm_bt = _backtest_lists(lstm, ["variant", *rank_columns, "popularity_penalty",
                                     "exposure_cap", "validation_recall", "validation_coverage",
                                     "epochs_trained", "best_epoch", "training_sequences"],
                              clients, horizon)
    for variant in ("lstm", "lstm_debiased"):
        rows = lstm_bt[lstm_bt["variant"] == variant]
        penalty = float(rows["popularity_penalty"].iloc[0]) if len(rows) else float("nan")
        cap = rows["exposure_cap"].iloc[0] if len(rows) else np.nan
        cap_text = f"{cap:g} x the average exposure" if pd.notna(cap) else "none"
        methods[variant] = (False, [rows], f"LSTM over day-bags of purchases and browsing, "
                            f"best-seller penalty {penalty:g}, exposure cap {cap_text}"
                            + (" (chosen on a validation cut before the test cut-off)"
                               if variant == "lstm_debiased" else ""))
    if ranker is not None:
        ranked = _backtest_lists(ranker, ["variant", *rank_columns], clients, horizon)
        for variant, text in (("ranker", "every source's signals"),
                              ("ranker_no_lstm", "every source's signals but the LSTM's "
                               "(ablation)")):
            methods[variant] = (False, [ranked[ranked["variant"] == variant]],
                                "two stages: candidates from every source, then an XGBoost "
                                f"learning-to-rank model over {text}, trained on a validation "
                                "cut before the test cut-off")
    composed_bt = _backtest_lists(composed, ["customer_id", "product_id",
                                             "recommendation_rank"], clients,
                              horizon).rename(
        columns={"recommendation_rank": "rank"})
    # Past its 7 slots the composed list is continued by the ranking its first slot reads.
    continuation, continued_by = ((methods["ranker"][1][0], "ranker") if "ranker" in methods
                                  else (lstm_bt[lstm_bt["variant"] == similar_variant],
                                        similar_variant))
    methods["composed"] = (False, [composed_bt, continuation],
                           "client_recommendations' composed list (similar, bought together, "
                           "novel; stock-filtered when stock exists), continued by the "
                           f"{continued_by} ranking")
    sample_note = (f"; a seeded sample of {len(users)} of the clients who bought after the "
                   "cut-off" if clients.sampled else "")
    primary = horizon.is_primary
    segment_of_cutoff = "all" if primary else cutoff_segment(horizon)
    if not primary:
        sample_note += (f"; earlier cut-off {horizon.name}: trained before {cutoff.date()}, "
                        f"holdout to {as_of.date()}")
    rows_out = seam.EvaluationRows("recommendations", cutoff_date=cutoff,
                                   as_of_date=as_of if run_as_of is None else run_as_of)
    # Recall split as in the reality-check paper: items bought before (repeat) and new
    # items (explore), each over the clients who bought at least one such item.
    repeat = truth.multiply(history > 0).tocsr()
    repeat.eliminate_zeros()
    explore = (truth - truth.multiply(history > 0)).tocsr()
    explore.eliminate_zeros()
    per_method: dict[str, dict[str, np.ndarray]] = {}
    for name, (is_baseline, frames, notes) in methods.items():
        top = ranked_array(users, products, [*frames, *fallback], K)
        note = notes + "; lists completed by market popularity" + sample_note
        per_method[name] = {"recall": recall_at_k(top, truth, CI_K),
                            "ndcg": ndcg_at_k(top, truth, CI_K)}
        if not primary:  # an earlier cut-off: the key figures only
            for metric, values in per_method[name].items():
                value, lower, upper = mean_ci(values, seed=seed)
                rows_out.add(name, metric, value, is_baseline=is_baseline, k=CI_K,
                             segment=segment_of_cutoff,
                             n_evaluated=int(np.isfinite(values).sum()), notes=note,
                             ci=(lower, upper))
            continue
        for metric, part in (("recall_repeat", repeat), ("recall_explore", explore)):
            has = np.asarray(part.getnnz(axis=1) > 0)
            if has.any():
                value, lower, upper = mean_ci(recall_at_k(top[has], part[has], CI_K), seed=seed)
                rows_out.add(name, metric, value, is_baseline=is_baseline, k=CI_K,
                             segment="all", n_evaluated=int(has.sum()),
                             notes=note + f"; over the clients who bought {metric[7:]} items",
                             ci=(lower, upper))
        for segment, mask in (("all", np.ones(len(users), dtype=bool)),
                              ("returning", returning)):
            if not mask.any():
                continue
            intervals = {(metric, CI_K): mean_ci(per_client(top[mask], truth[mask], CI_K),
                                                 seed=seed)[1:]
                         for metric, per_client in (("recall", recall_at_k),
                                                    ("ndcg", ndcg_at_k))}
            for row in evaluate_ranking(top[mask], truth[mask], KS, item_pop, n_train_users,
                                        n_catalog=len(products)):
                key = (str(row["metric"]), int(row["k"]))
                rows_out.add(name, key[0], float(row["value"]), is_baseline=is_baseline,
                             k=key[1], segment=segment, n_evaluated=int(row["n"]),
                             notes=note, ci=intervals.get(key))
    _against_best_baseline(rows_out, per_method, methods, seed, sample_note,
                           segment_of_cutoff)
    scores = CutoffScores(horizon, users, per_method,
                          tuple(name for name, (is_baseline, _, _) in methods.items()
                                if is_baseline))
    if not primary:
        return rows_out.to_table(), scores
    if ranker is not None:
        _ranker_training(rows_out, ranker)
    training = {"lstm": ("epochs_trained", "best_epoch", "validation_recall",
                         "validation_coverage"),
                "lstm_debiased": ("popularity_penalty", "exposure_cap", "validation_recall",
                                  "validation_coverage")}
    for variant, columns in training.items():
        rows = lstm_bt[lstm_bt["variant"] == variant]
        for column in columns if len(rows) else ():
            value = rows[column].iloc[0]
            rows_out.add(variant, column, None if pd.isna(value) else float(value),
                         is_baseline=False, segment="training",
                         n_evaluated=int(rows["training_sequences"].iloc[0]),
                         notes="LSTM training on the backtest horizon; validation figures "
                         "(recall, coverage at 10) on the cut before it that chose the "
                         "best-seller penalty and exposure cap")
    return rows_out.to_table(), scores


def _against_best_baseline(rows_out: seam.EvaluationRows,
                           per_method: dict[str, dict[str, np.ndarray]],
                           methods: dict[str, tuple[bool, list[pd.DataFrame], str]], seed: int,
                           sample_note: str, segment: str = "all") -> None:
    """Each method minus the best baseline (the baseline with the highest mean on that
    metric), per client: the mean difference and its paired bootstrap 95 % interval
    (the same resampled clients for both), as '<metric>_vs_best_baseline' rows."""
    baselines = [name for name, (is_baseline, _, _) in methods.items() if is_baseline]
    for metric in ("recall", "ndcg"):
        if not baselines:
            return
        best = max(baselines, key=lambda b: (np.nanmean(per_method[b][metric]), b))
        for name, values in per_method.items():
            if name == best:
                continue
            ok = np.isfinite(values[metric]) & np.isfinite(per_method[best][metric])
            diff, lower, upper = paired_difference_ci(values[metric][ok],
                                                      per_method[best][metric][ok], seed=seed)
            rows_out.add(name, f"{metric}_vs_best_baseline", diff,
                         is_baseline=methods[name][0], k=CI_K, segment=segment,
                         n_evaluated=int(ok.sum()), ci=(lower, upper),
                         notes=f"{name} minus the best baseline ({best}) on {metric}@{CI_K}, "
                         "per client; paired bootstrap over clients" + sample_note)


def _ranker_training(rows_out: seam.EvaluationRows, ranker: seam.Source) -> None:
    """The ranker's feature importances (share of the trees' gain) and training figures."""
    frame = seam.read_frame(ranker, ["variant", "feature", "importance", "trees",
                                     "validation_ndcg", "training_clients"],
                            where="horizon = 'training'", order_by="variant, feature")
    note = ("XGBoost ranker trained on the validation cut; importance = share of the "
            "trees' total gain")
    for row in frame.itertuples(index=False):
        rows_out.add(row.variant, f"importance:{row.feature}", float(row.importance),
                     is_baseline=False, segment="training",
                     n_evaluated=int(row.training_clients), notes=note)
    for variant, group in frame.groupby("variant", sort=True):
        first = group.iloc[0]
        for column in ("trees", "validation_ndcg"):
            rows_out.add(str(variant), column, float(first[column]), is_baseline=False,
                         segment="training", n_evaluated=int(first["training_clients"]),
                         notes=note)


def mean_over_cutoffs(cutoffs: list[CutoffScores], seed: int, as_of: object) -> pa.Table:
    """model_evaluation rows (segment 'mean_over_cutoffs') of every method's Recall@10 and
    NDCG@10 averaged over the backtest cut-offs (each cut-off's mean over its evaluated
    clients, cut-offs weighted equally), and of each method minus the best baseline (the
    baseline with the highest mean over the cut-offs), with 95 % intervals from a
    bootstrap resampling the clients, a client drawn once for every cut-off
    (:func:`clientele.intervals.mean_of_group_means_ci`). No rows without two cut-offs."""
    if len(cutoffs) < 2:
        return seam.empty_table(seam.EVALUATION_SCHEMA)
    names = [m for m in cutoffs[0].scores if all(m in c.scores for c in cutoffs)]
    baselines = [b for b in cutoffs[0].baselines if b in names
                 and all(b in c.baselines for c in cutoffs)]
    units = [np.asarray(c.clients) for c in cutoffs]
    dates = ", ".join(str(c.horizon.known_before.date()) for c in cutoffs)
    note = (f"mean over {len(cutoffs)} backtest cut-offs ({dates}) of each cut-off's mean "
            f"over its evaluated clients; 95 % interval: {N_RESAMPLES} seeded bootstrap "
            "resamples of the clients, a client drawn once for every cut-off")
    rows_out = seam.EvaluationRows("recommendations", as_of_date=as_of,
                                   cutoff_date=min(c.horizon.known_before for c in cutoffs))
    n = int(sum(len(c.clients) for c in cutoffs))
    for metric in ("recall", "ndcg"):
        level = [np.column_stack([c.scores[m][metric] for m in names]) for c in cutoffs]
        mean, lower, upper = mean_of_group_means_ci(level, units, seed=seed)
        for i, name in enumerate(names):
            rows_out.add(name, metric, mean[i], is_baseline=name in baselines, k=CI_K,
                         segment=MEAN_OVER_CUTOFFS, n_evaluated=n, notes=note,
                         ci=(lower[i], upper[i]))
        if not baselines:
            continue
        best = max(baselines, key=lambda b: (mean[names.index(b)], b))
        others = [m for m in names if m != best]
        if not others:
            continue
        differences = [np.column_stack([c.scores[m][metric] - c.scores[best][metric]
                                        for m in others]) for c in cutoffs]
        mean, lower, upper = mean_of_group_means_ci(differences, units, seed=seed)
        for i, name in enumerate(others):
            rows_out.add(name, f"{metric}_vs_best_baseline", mean[i],
                         is_baseline=name in baselines, k=CI_K, segment=MEAN_OVER_CUTOFFS,
                         n_evaluated=n, ci=(lower[i], upper[i]),
                         notes=f"{name} minus the best baseline over the cut-offs ({best}) "
                         f"on {metric}@{CI_K}, per client; " + note)
    return rows_out.to_table()
