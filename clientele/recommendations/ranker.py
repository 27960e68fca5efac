"""The second stage: a learning-to-rank model over the candidates of every source.

Stage one gathers, per client, the products each source proposes (the client's own
products, products bought together with the last basket, ALS, the LSTM, popular and
trending in the client's market, products browsed): about 100-200 per client. Stage two
describes each (client, product) pair with the signals of all sources and the client's
history (:data:`FEATURES`) and orders them with an XGBoost ranker (``rank:ndcg``) trained on
a validation cut: candidates known before the backtest cut-off minus one holdout window,
labelled with what the client bought in that window, so that nothing after the test
cut-off is seen. The number of trees is chosen by early stopping on held-out validation
clients of that same cut.

Memory is bounded by the settings: the ranker trains on at most ``ranker_training_clients``
clients; clients are read and scored ``ranker_batch_clients`` at a time, and their
(clients x catalogue) signals in chunks of about 2 million cells.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import pandas as pd
import scipy.sparse as sp

from clientele import seam
from clientele.recommendations.als import ImplicitALS
from clientele.recommendations.inputs import (
    EVENT_COLUMNS,
    ClientSample,
    both,
    client_frames,
    day,
    read_clients,
    sample_clients,
    sorted_ids,
)
from clientele.recommendations.settings import RecommendationSettings
from clientele.recommendations.topk import top_k_indices

log = seam.get_logger("recommendations")

PURCHASE = "event_type = 'purchase'"
#: Trend: buyers in the last TREND_DAYS before the cut against the TREND_DAYS before those.
TREND_DAYS = 30
#: A product never bought (or a family never bought) is this many days ago.
NEVER_DAYS = 10_000.0
#: Cells of one (clients x catalogue) chunk of signals (float32: 8 MB each).
CHUNK_CELLS = 2**21

#: The features of one (client, product) pair, in the business's words.
FEATURES = (
    "orders_of_product", "days_since_product", "usual_gap_days", "days_since_over_gap",
    "views_of_product", "carts_of_product", "orders_in_family", "days_since_family",
    "orders_in_category", "together_score", "together_rank", "als_score", "als_rank",
    "lstm_score", "lstm_rank", "market_popularity", "market_popularity_rank",
    "all_markets_popularity", "trend", "price_vs_usual", "margin_rate", "product_age_days",
    "client_orders", "client_days_since_purchase", "client_products",
)
LSTM_FEATURES = ("lstm_score", "lstm_rank")


@dataclasses.dataclass
class Cut:
    """A moment candidates are built for: events before ``known_before``; ``lstm_horizon``
    names the LSTM lists made at that moment (None: none)."""

    name: str
    known_before: pd.Timestamp
    lstm_horizon: str | None


@dataclasses.dataclass
class CatalogueSignals:
    """What is known at a cut per product (and per market): bounded by the catalogue."""

    products: pd.Index
    family: np.ndarray            # product -> family code
    category: np.ndarray          # product -> category code
    families: sp.csr_matrix       # products x families one-hot
    categories: sp.csr_matrix     # products x categories one-hot
    price: np.ndarray
    margin: np.ndarray
    age_days: np.ndarray
    markets: pd.Index
    market_buyers: np.ndarray     # markets x products, share of the market's buyers
    all_buyers: np.ndarray        # share of all buyers
    trend: np.ndarray
    together: sp.csr_matrix       # products x products confidence(antecedent -> consequent)
    als: ImplicitALS | None       # fitted over the whole catalogue (unbought: zero factors)


def _codes(values: pd.Series) -> tuple[np.ndarray, int]:
    codes, uniques = pd.factorize(values.fillna("(none)"), sort=True)
    return codes.astype(np.int64), len(uniques)


def _one_hot(codes: np.ndarray, width: int) -> sp.csr_matrix:
    n = len(codes)
    return sp.csr_matrix((np.ones(n, dtype=np.float32), (np.arange(n), codes)), shape=(n, width))


def _per_product(products: pd.Index, frame: pd.DataFrame, column: str) -> np.ndarray:
    out = np.zeros(len(products))
    at = products.get_indexer(frame["product_id"])
    out[at[at >= 0]] = frame[column].to_numpy(np.float64)[at >= 0]
    return out


def catalogue_signals(events: seam.Source, catalog: seam.Source, customers: seam.Source,
                      products: pd.Index, cut: Cut, catalog_filter: str,
                      settings: RecommendationSettings) -> CatalogueSignals:
    """Popularity, trend, basket rules and ALS factors known at ``cut``, computed in
    DuckDB (aggregates per product and market) and on a sample of clients (ALS)."""
    info = seam.read_frame(catalog, ["product_id", "category", "family", "list_price",
                                     "ranking_margin_rate"]).drop_duplicates("product_id")
    info = info.set_index("product_id").reindex(products)
    family, n_families = _codes(info["family"])
    category, n_categories = _codes(info["category"])
    known = both(PURCHASE, f"event_date < {day(cut.known_before)}", catalog_filter)
    purchases = seam.as_relation(events).filter(known or "true")
    start = cut.known_before - pd.Timedelta(days=settings.popularity_window_days)
    recent = purchases.filter(f"event_date >= {day(start)}")
    market_of = seam.as_relation(customers).project(
        "customer_id as market_customer_id, coalesce(country, '(unknown)') as market"
    ).set_alias("markets")
    by_market = recent.set_alias("recent").join(market_of, "customer_id = market_customer_id").aggregate(
        "market, product_id, count(distinct customer_id) as buyers", "market, product_id").df()
    markets = sorted_ids(by_market["market"]) if len(by_market) else pd.Index([])
    market_buyers = np.zeros((len(markets), len(products)), dtype=np.float32)
    m = markets.get_indexer(by_market["market"])
    p = products.get_indexer(by_market["product_id"])
    ok = (m >= 0) & (p >= 0)
    market_buyers[m[ok], p[ok]] = by_market["buyers"].to_numpy(np.float32)[ok]
    market_buyers /= np.maximum(market_buyers.max(axis=1, keepdims=True), 1.0)
    trend_start = cut.known_before - pd.Timedelta(days=2 * TREND_DAYS)
    trend_mid = cut.known_before - pd.Timedelta(days=TREND_DAYS)
    per_product = purchases.aggregate(
        "product_id, min(event_date) as first_sold, "
        f"count(distinct customer_id) filter (where event_date >= {day(start)}) as buyers, "
        f"count(*) filter (where event_date >= {day(trend_mid)}) as last_orders, "
        f"count(*) filter (where event_date >= {day(trend_start)} "
        f"and event_date < {day(trend_mid)}) as previous_orders", "product_id").df()
    buyers = _per_product(products, per_product, "buyers")
    all_buyers = buyers / max(buyers.max(), 1.0)
    trend = np.log1p(_per_product(products, per_product, "last_orders")) - np.log1p(
        _per_product(products, per_product, "previous_orders"))
    first = pd.to_datetime(per_product["first_sold"])
    per_product["age"] = (cut.known_before - first).dt.days.astype(float)
    age = _per_product(products, per_product, "age")
    return CatalogueSignals(
        products=products, family=family, category=category,
        families=_one_hot(family, n_families), categories=_one_hot(category, n_categories),
        price=info["list_price"].astype(float).to_numpy(),
        margin=info["ranking_margin_rate"].astype(float).fillna(0).to_numpy(),
        age_days=age, markets=markets, market_buyers=market_buyers,
        all_buyers=all_buyers.astype(np.float32), trend=trend.astype(np.float32),
        together=_basket_rules(events, products, known, settings),
        **_als(purchases, products, cut, settings))


def _basket_rules(events: seam.Source, products: pd.Index, known: str | None,
                  settings: RecommendationSettings) -> sp.csr_matrix:
    """confidence(a -> b) = orders with a and b / orders with a, for pairs in at least
    ``min_pair_orders`` orders of at most ``basket_max_products`` products (as the
    co-occurrence baseline), as a products x products sparse matrix."""
    lines = seam.as_relation(events).filter(known or "true").project(
        "order_id, product_id").distinct().set_alias("lines")
    sizes = lines.aggregate("order_id as sized_order, count(*) as basket_products",
                            "order_id").set_alias("sizes")
    kept = lines.join(sizes, "order_id = sized_order").filter(
        f"basket_products between 2 and {int(settings.basket_max_products)}").project(
        "order_id, product_id").set_alias("antecedent")
    other = kept.project("order_id as other_order, product_id as consequent").set_alias(
        "consequent")
    pairs = kept.join(other, "order_id = other_order and product_id != consequent").aggregate(
        "product_id, consequent, count(*) as pair_orders", "product_id, consequent").filter(
        f"pair_orders >= {int(settings.min_pair_orders)}").df()
    orders = lines.aggregate("product_id, count(*) as orders", "product_id").df()
    n_orders = _per_product(products, orders, "orders")
    a = products.get_indexer(pairs["product_id"])
    c = products.get_indexer(pairs["consequent"])
    ok = (a >= 0) & (c >= 0)
    confidence = pairs["pair_orders"].to_numpy(np.float64)[ok] / np.maximum(n_orders[a[ok]], 1)
    rules = sp.csr_matrix((confidence.astype(np.float32), (a[ok], c[ok])),
                          shape=(len(products), len(products)))
    rules.sum_duplicates()
    rules.sort_indices()
    return rules


def _als(purchases: object, products: pd.Index, cut: Cut, settings: RecommendationSettings
         ) -> dict[str, object]:
    """ALS product factors at the cut, fitted on a seeded sample of buyers."""
    orders = purchases.aggregate(  # type: ignore[attr-defined]
        "customer_id, product_id, count(*) as orders", "customer_id, product_id")
    trained_on = sample_clients(orders, settings.als_training_clients, settings.seed)
    frame = read_clients(orders, ["customer_id", "product_id", "orders"], None, trained_on)
    if frame.empty:
        return {"als": None}
    customers = sorted_ids(frame["customer_id"])
    counts = _matrix(frame, customers, products, "orders")
    model = ImplicitALS(factors=settings.als_factors, regularization=settings.als_regularization,
                        alpha=settings.als_alpha, iterations=settings.als_iterations,
                        seed=settings.seed).fit(counts)
    log.info("ranker %s: ALS factors on %d clients", cut.name, len(customers))
    return {"als": model}


def _matrix(frame: pd.DataFrame, customers: pd.Index, products: pd.Index,
            column: str | None = None, how: str = "sum") -> sp.csr_matrix:
    u = customers.get_indexer(frame["customer_id"])
    i = products.get_indexer(frame["product_id"])
    ok = (u >= 0) & (i >= 0)
    values = (frame[column].to_numpy(np.float64)[ok] if column is not None
              else np.ones(int(ok.sum())))
    if how == "max":  # one value per cell: keep the largest
        cells = pd.DataFrame({"u": u[ok], "i": i[ok], "v": values}).groupby(
            ["u", "i"], sort=True)["v"].max()
        u_, i_ = cells.index.get_level_values(0), cells.index.get_level_values(1)
        matrix = sp.csr_matrix((cells.to_numpy(), (u_, i_)), shape=(len(customers),
                                                                      len(products)))
    else:
        matrix = sp.csr_matrix((values, (u[ok], i[ok])), shape=(len(customers), len(products)))
        matrix.sum_duplicates()
    matrix.sort_indices()
    return matrix


@dataclasses.dataclass
class CandidateBatch:
    """The candidates of a batch of clients: one row per (client, product)."""

    customers: pd.Index
    catalogue: pd.Index
    client: np.ndarray     # row -> index in customers
    product: np.ndarray    # row -> catalogue index
    features: np.ndarray   # rows x FEATURES, float32 (NaN = not proposed by that source)
    together: np.ndarray   # co-occurrence score (0 = no rule from the last basket)
    was_bought: np.ndarray
    category_bought: np.ndarray


def _ranks(scores: np.ndarray) -> np.ndarray:
    """1 = best per row, ties in column order (a stable sort of the float32 scores).

    Each cell's sort key packs its score (as an order-preserving integer) above its
    column, so keys are unique and numpy's fast unstable sort gives the stable order."""
    n, m = scores.shape
    flipped = np.negative(scores, dtype=np.float32)
    flipped += np.float32(0.0)  # -0.0 ties with 0.0, as the scores compare
    bits = flipped.view(np.int32)
    bits ^= (bits >> 31) & np.int32(0x7FFFFFFF)  # float order as signed-integer order
    keys = bits.astype(np.int64)
    keys <<= 32
    keys |= np.arange(m, dtype=np.int64)[None, :]
    keys.sort(axis=1)
    ranks = np.empty((n, m), dtype=np.float32)
    np.put_along_axis(ranks, (keys & 0xFFFFFFFF).astype(np.intp),
                      np.arange(1, m + 1, dtype=np.float32)[None, :], axis=1)
    return ranks


def _top_mask(scores: np.ndarray, k: int, positive: bool = True) -> np.ndarray:
    mask = np.zeros(scores.shape, dtype=bool)
    if k <= 0 or scores.shape[1] == 0:
        return mask
    idx, val = top_k_indices(scores, min(k, scores.shape[1]))
    rows = np.repeat(np.arange(scores.shape[0]), idx.shape[1])
    keep = (idx.ravel() >= 0) & ((val.ravel() > 0) if positive else np.isfinite(val.ravel()))
    mask[rows[keep], idx.ravel()[keep]] = True
    return mask


def candidate_batch(frame: pd.DataFrame, lstm: pd.DataFrame, markets: pd.Series,
                    signals: CatalogueSignals, cut: Cut, settings: RecommendationSettings
                    ) -> CandidateBatch:
    """Candidates and features of the clients of ``frame`` (their events before the cut)."""
    products = signals.products
    n_products = len(products)
    customers = sorted_ids(frame["customer_id"])
    cut_day = (cut.known_before - pd.Timestamp("1970-01-01")).days
    frame = frame.assign(day=(pd.to_datetime(frame["event_date"])
                              - pd.Timestamp("1970-01-01")).dt.days.astype(np.float64))
    bought = frame[frame["event_type"] == "purchase"]
    orders = _matrix(bought, customers, products)
    last = _matrix(bought, customers, products, "day", "max")
    first = _matrix(bought.assign(neg=-bought["day"]), customers, products, "neg", "max")
    views = _matrix(frame[frame["event_type"] == "view"], customers, products)
    carts = _matrix(frame[frame["event_type"] == "add_to_cart"], customers, products)
    family_orders = (orders @ signals.families).toarray()
    category_orders = (orders @ signals.categories).toarray()
    # The last basket(s): the client's most recently bought products.
    recency = bought.sort_values(["customer_id", "day", "product_id"],
                                 ascending=[True, False, True]).drop_duplicates(
        ["customer_id", "product_id"])
    recency = recency[recency.groupby("customer_id").cumcount() < settings.basket_antecedents]
    antecedents = _matrix(recency, customers, products)
    antecedents.data[:] = 1.0
    together = antecedents @ signals.together
    fam = bought.assign(family=signals.family[products.get_indexer(bought["product_id"])])
    fam = fam[fam["family"] >= 0]
    family_last = _matrix(fam.assign(product_id=fam["family"]), customers,
                          pd.Index(np.arange(signals.families.shape[1])), "day", "max")
    per_client = bought.groupby("customer_id").agg(
        client_orders=("order_id", "nunique") if "order_id" in bought else ("day", "nunique"),
        last_day=("day", "max"), client_products=("product_id", "nunique")).reindex(customers)
    paid = pd.Series(signals.price[products.get_indexer(bought["product_id"])]).groupby(
        bought["customer_id"].to_numpy()).median().reindex(customers).to_numpy()
    market_row = signals.markets.get_indexer(
        markets.reindex(customers).fillna("(unknown)").to_numpy())
    lstm_score = _matrix(lstm, customers, products, "score", "max") if len(lstm) else None
    lstm_rank = _matrix(lstm, customers, products, "rank", "max") if len(lstm) else None
    user_factors = (signals.als.fold_in(orders.astype(np.float32))
                    if signals.als is not None else None)

    # A client's market scores are their market's row: ranked once per market, and the
    # last row (no market) all zeros.
    market_scores = np.vstack([signals.market_buyers.reshape(-1, n_products),
                               np.zeros((1, n_products))]).astype(np.float32)
    market_ranks = _ranks(market_scores)
    k = settings.ranker_candidates_per_source
    market_best = _top_mask(market_scores + 1e-6 * signals.all_buyers[None, :], k)
    trending = _top_mask((signals.trend * (signals.all_buyers > 0))[None, :], k // 3)
    market_row = np.where(market_row >= 0, market_row, len(market_scores) - 1)

    parts: list[tuple[np.ndarray, ...]] = []
    chunk = max(16, CHUNK_CELLS // max(n_products, 1))
    for start in range(0, len(customers), chunk):
        rows = np.arange(start, min(start + chunk, len(customers)))
        n = len(rows)
        o = orders[rows].toarray().astype(np.float32)
        together_c = together[rows].toarray().astype(np.float32)
        als = ((user_factors[rows] @ signals.als.item_factors_.T).astype(np.float32)
               if user_factors is not None and signals.als is not None
               else np.zeros((n, n_products), np.float32))
        market = market_scores[market_row[rows]]
        lstm_s = (lstm_score[rows].toarray() if lstm_score is not None
                  else np.zeros((n, n_products)))
        lstm_r = (lstm_rank[rows].toarray() if lstm_rank is not None
                  else np.zeros((n, n_products)))
        browsed = views[rows].toarray() + carts[rows].toarray()
        # Stage one: the union of every source's best products.
        proposed = (o > 0) & (_top_mask(o + 1e-3 * np.nan_to_num(
            last[rows].toarray() / max(cut_day, 1)), k))
        proposed |= _top_mask(together_c, k)
        proposed |= _top_mask(als, k, positive=False)
        proposed |= lstm_r > 0
        proposed |= market_best[market_row[rows]]
        proposed |= trending
        proposed |= _top_mask(browsed, k)
        r, c = np.nonzero(proposed)
        last_day = last[rows].toarray()[r, c]
        first_day = -first[rows].toarray()[r, c]
        count = o[r, c]
        since = np.where(count > 0, cut_day - last_day, NEVER_DAYS)
        gap = np.where((count > 1) & (last_day > first_day),
                       (last_day - first_day) / np.maximum(count - 1, 1), np.nan)
        fam_idx = signals.family[c]
        fam_last = family_last[rows].toarray()[r, fam_idx]
        client = per_client.iloc[rows[r]]
        with np.errstate(divide="ignore", invalid="ignore"):
            price_ratio = signals.price[c] / paid[rows[r]]
        features = np.column_stack([
            count, since, gap, since / gap,
            views[rows].toarray()[r, c], carts[rows].toarray()[r, c],
            family_orders[rows][r, fam_idx],
            np.where(fam_last > 0, cut_day - fam_last, NEVER_DAYS),
            category_orders[rows][r, signals.category[c]],
            together_c[r, c], np.where(together_c[r, c] > 0, _ranks(together_c)[r, c], np.nan),
            als[r, c], _ranks(als)[r, c],
            np.where(lstm_r[r, c] > 0, lstm_s[r, c], np.nan),
            np.where(lstm_r[r, c] > 0, lstm_r[r, c], np.nan),
            market[r, c], market_ranks[market_row[rows[r]], c], signals.all_buyers[c], signals.trend[c],
            price_ratio, signals.margin[c], signals.age_days[c],
            client["client_orders"].to_numpy(), cut_day - client["last_day"].to_numpy(),
            client["client_products"].to_numpy(),
        ]).astype(np.float32)
        # A ratio over zero (a gap of 0 days, a price of 0) is unknown, not infinite.
        features[~np.isfinite(features)] = np.nan
        parts.append((rows[r], c, features, together_c[r, c], count > 0,
                      category_orders[rows][r, signals.category[c]] > 0))
    if not parts:
        empty = np.empty(0)
        return CandidateBatch(customers, products, empty.astype(np.int64), empty.astype(np.int64),
                              np.empty((0, len(FEATURES)), np.float32), empty,
                              empty.astype(bool), empty.astype(bool))
    stacked = [np.concatenate([p[i] for p in parts]) for i in range(6)]
    return CandidateBatch(customers, products, *stacked)  # type: ignore[arg-type]


@dataclasses.dataclass
class FittedRanker:
    """A trained second stage: the XGBoost ranker over ``features`` and what it learnt."""

    model: object
    features: tuple[str, ...]
    trees: int
    validation_ndcg: float
    training_clients: int
    importance: dict[str, float]

    def score(self, batch: CandidateBatch) -> np.ndarray:
        columns = [FEATURES.index(f) for f in self.features]
        features = (batch.features if columns == list(range(len(FEATURES)))
                    else batch.features[:, columns])
        return np.asarray(self.model.predict(features),  # type: ignore[attr-defined]
                          dtype=np.float64)


def fit_ranker(batches: list[CandidateBatch], labels: list[np.ndarray],
               features: tuple[str, ...], settings: RecommendationSettings) -> FittedRanker | None:
    """XGBoost ``ranker_objective`` on the candidates of the training clients (one query per
    client; clients with no bought candidate teach nothing and are left out), the number of
    trees chosen by early stopping on NDCG@10 of a seeded fifth of the clients."""
    import xgboost as xgb

    columns = [FEATURES.index(f) for f in features]
    X = np.vstack([b.features[:, columns] for b in batches])
    y = np.concatenate(labels).astype(np.float32)
    offsets = np.cumsum([0, *[len(b.customers) for b in batches[:-1]]])
    qid = np.concatenate([b.client + o for b, o in zip(batches, offsets, strict=True)])
    positive = np.bincount(qid, weights=y, minlength=int(qid.max()) + 1 if len(qid) else 0)
    keep = positive[qid] > 0
    X, y, qid = X[keep], y[keep], qid[keep]
    clients = np.unique(qid)
    if len(clients) < 10:
        log.info("ranker: %d training clients with a bought candidate; no ranker",
                 len(clients))
        return None
    held = np.random.default_rng(settings.seed).random(int(qid.max()) + 1) < 0.2
    fit, val = ~held[qid], held[qid]
    model = xgb.XGBRanker(
        objective=settings.ranker_objective, n_estimators=settings.ranker_trees,
        max_depth=settings.ranker_depth, learning_rate=settings.ranker_learning_rate,
        tree_method="hist", n_jobs=settings.threads, random_state=settings.seed,
        eval_metric="ndcg@10", early_stopping_rounds=20, lambdarank_num_pair_per_sample=8,
        lambdarank_pair_method="topk")
    model.fit(X[fit], y[fit], qid=qid[fit], eval_set=[(X[val], y[val])], eval_qid=[qid[val]],
              verbose=False)
    gain = model.get_booster().get_score(importance_type="gain")
    total = sum(gain.values()) or 1.0
    importance = {name: gain.get(f"f{i}", 0.0) / total for i, name in enumerate(features)}
    history = model.evals_result()["validation_0"]["ndcg@10"]
    best = int(model.best_iteration)
    log.info("ranker (%d features): %d trees chosen on %d validation clients, NDCG@10 %.4f",
             len(features), best + 1, int(np.unique(qid[val]).size), history[best])
    return FittedRanker(model, features, best + 1, float(history[best]), len(clients),
                        importance)


def labels_of(batch: CandidateBatch, later: pd.DataFrame) -> np.ndarray:
    """1 where the candidate was bought in ``later`` (customer_id, product_id)."""
    bought = _matrix(later, batch.customers, batch.catalogue)
    return (np.asarray(bought[batch.client, batch.product]).ravel() > 0).astype(np.float32)


def top_of(batch: CandidateBatch, scores: np.ndarray, k: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(rows of the batch's candidates, rank) of each client's k best, ties broken by
    product; and the positions in the batch of those rows."""
    order = np.lexsort((batch.product, -scores, batch.client))
    client = batch.client[order]
    rank = np.arange(len(order)) - np.searchsorted(client, client, "left") + 1
    kept = order[rank <= k]
    return kept, rank[rank <= k], client[rank <= k], scores[kept]


def iter_cut_batches(events: seam.Source, lstm: seam.Source | None, customers: seam.Source,
                     signals: CatalogueSignals, cut: Cut, catalog_filter: str,
                     clients: ClientSample | None, settings: RecommendationSettings
                     ) -> Iterator[CandidateBatch]:
    """Candidate batches of the clients (every buyer when None) with their events before
    the cut, ``ranker_batch_clients`` clients at a time."""
    known = both(f"event_date < {day(cut.known_before)}", catalog_filter)
    columns = [*EVENT_COLUMNS, "order_id"]
    for frame in client_frames(events, columns, known, settings.ranker_batch_clients, clients):
        buyers = frame.loc[frame["event_type"] == "purchase", "customer_id"].unique()
        frame = frame[frame["customer_id"].isin(buyers)]
        if frame.empty:
            continue
        ids = sorted_ids(frame["customer_id"])
        span = ClientSample(None, f"customer_id between {seam.sql_literal(ids[0])} and "
                            f"{seam.sql_literal(ids[-1])}", ids)
        lists = (read_clients(lstm, ["customer_id", "product_id", "score", "rank"],
                              f"horizon = '{cut.lstm_horizon}' and variant = 'lstm'", span)
                 if lstm is not None and cut.lstm_horizon else
                 pd.DataFrame(columns=["customer_id", "product_id", "score", "rank"]))
        markets = read_clients(customers, ["customer_id", "country"], None, span)
        markets = markets.drop_duplicates("customer_id").set_index("customer_id")["country"]
        yield candidate_batch(frame, lists, markets, signals, cut, settings)
