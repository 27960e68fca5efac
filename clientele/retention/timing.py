"""When will a one-time buyer buy again? A discrete-time hazard model of the second purchase.

Choice of model: a discrete-time hazard (one row per customer and period of
follow-up since the first order, label = the second purchase fell in that
period), fitted with gradient-boosted trees (XGBoost). The hazard form handles
right-censoring exactly the way the issue asks: a period enters training only
for customers whose follow-up covers it entirely and who had not bought again
before it starts, so a client who bought 40 days ago says nothing about days
61-90. One model then yields every window, the probability of no second
purchase, and consistent probabilities conditional on the days already
elapsed; per-window classifiers would each see a different censored
population and need not add up. Trees let the hazard's shape depend on the
first basket (a routine product that runs out), the market and engagement.

Three models share one interface, ``log_survival(data, days)``:
``HazardTimingModel`` (supervised), ``KaplanMeierTiming`` (naive baseline: the
overall distribution of time to second purchase, the same for everyone with
the same elapsed time) and ``BGNBDTiming`` (BG/NBD or MBG/NBD for customers with x = 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import xgboost as xgb

from clientele import seam
from clientele.retention.bgnbd import BetaGeoFamily
from clientele.retention.inputs import as_datetime

#: Follow-up periods (days since the first order, inclusive) of the hazard model.
BINS: tuple[tuple[int, int], ...] = (
    (0, 15), (16, 30), (31, 45), (46, 60), (61, 75), (76, 90), (91, 120), (121, 150),
    (151, 180), (181, 240), (241, 300), (301, 365), (366, 545), (546, 730),
)
#: Contact windows reported to marketers (days since the first order, inclusive).
WINDOWS: tuple[tuple[int, int], ...] = ((0, 30), (31, 60), (61, 90), (91, 180), (181, 365))
ENGAGEMENT_KINDS: tuple[str, ...] = ("email_open", "email_click", "web_view", "web_cart")
CATEGORICAL = ("market", "first_order_channel", "first_order_top_category", "gender")
NUMERIC = (
    "first_order_value", "first_order_units", "first_order_lines", "first_order_discount_share",
    "first_order_categories", "first_order_price_band", "first_order_review_score",
    "first_order_late", "age", "email_opt_in", "phone_opt_in", "has_home_store",
    "days_known_before_first_order", "first_order_month", "basket_families",
    "basket_family_rebuy_rate", "basket_family_rebuy_days", "pre_purchase_engagement",
    "lead_family_rebuy_rate", "lead_family_rebuy_days",
)


@dataclass
class SecondPurchaseData:
    """Customers with a first purchase on or before ``cutoff`` and their features.

    ``frame`` has one row per customer: customer_id, market, first_order_date,
    elapsed (days from the first order to the cutoff), event_day (days from the
    first to the second purchase when it happened on or before the cutoff, else
    NaN) and the static features.

    Engagement is time-varying, measured at a landmark day L since the first
    order: events in [0, L) (``*_since_first``), in [L - 30, L) (``*_last_30d``)
    and the staleness (period start - L). At prediction time the freshest
    landmark for period j is min(period start, elapsed + 1): for periods ahead,
    engagement is stale. Training rows draw L uniformly in [0, period start] so
    that the model learns how much stale engagement still says (training with
    L = period start and predicting with stale values overstated the hazard of
    recent buyers three-fold on the demo brand). Arrays are (n, len(BINS)) per
    engagement kind; the pred_* values of periods that ended before the cutoff are
    left at 0, as no probability reads them.
    """

    frame: pd.DataFrame
    cutoff: pd.Timestamp
    train_since: dict[str, np.ndarray] = field(default_factory=dict)
    train_recent: dict[str, np.ndarray] = field(default_factory=dict)
    train_staleness: np.ndarray | None = None
    pred_since: dict[str, np.ndarray] = field(default_factory=dict)
    pred_recent: dict[str, np.ndarray] = field(default_factory=dict)
    pred_staleness: np.ndarray | None = None

    def subset(self, rows: np.ndarray) -> SecondPurchaseData:
        """The same data restricted to some customers (positions)."""
        return SecondPurchaseData(
            frame=self.frame.iloc[rows].reset_index(drop=True), cutoff=self.cutoff,
            train_since={k: v[rows] for k, v in self.train_since.items()},
            train_recent={k: v[rows] for k, v in self.train_recent.items()},
            train_staleness=None if self.train_staleness is None else self.train_staleness[rows],
            pred_since={k: v[rows] for k, v in self.pred_since.items()},
            pred_recent={k: v[rows] for k, v in self.pred_recent.items()},
            pred_staleness=None if self.pred_staleness is None else self.pred_staleness[rows],
        )


def _days(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (as_datetime(later) - as_datetime(earlier)).dt.days


FAMILY_STATS_SQL = """
with

family_purchases as (
    select customer_id, family, order_date
    from families
    where family is not null and order_date <= cast('{cutoff}' as date)
),

per_client as (
    select customer_id, family, min(order_date) as first_date,
        count(distinct order_date) as purchase_dates
    from family_purchases
    group by customer_id, family
),

second_dates as (
    select family_purchases.customer_id, family_purchases.family,
        min(family_purchases.order_date) as second_date
    from family_purchases
    inner join per_client
        on family_purchases.customer_id = per_client.customer_id
        and family_purchases.family = per_client.family
    where family_purchases.order_date > per_client.first_date
    group by family_purchases.customer_id, family_purchases.family
)

select
    per_client.family,
    count(*) as buyers,
    count(*) filter (where per_client.purchase_dates > 1) as rebuyers,
    median(datediff('day', per_client.first_date, second_dates.second_date)) as gap
from per_client
left join second_dates
    on per_client.customer_id = second_dates.customer_id
    and per_client.family = second_dates.family
group by per_client.family
order by per_client.family
"""


def family_rebuy_stats(families: seam.Source, cutoff: pd.Timestamp) -> pd.DataFrame:
    """How routine each product family is, from the purchases on or before the cutoff.

    Among customers who bought the family, the share who bought it again (shrunk
    towards the overall share with 20 pseudo customers; one value per family: a
    leave-one-out share would leak each customer's own outcome into its feature,
    which trees exploit) and the median days between the first two purchases of it.
    Aggregated in DuckDB (one row per family comes back, whatever the number of
    clients). Returns one row per family (index) with ``rate`` and ``gap``.
    """
    sql = FAMILY_STATS_SQL.format(cutoff=pd.Timestamp(cutoff).date())
    stats = seam.as_relation(families).query("families", sql).df().set_index("family")
    if stats.empty:
        return pd.DataFrame({"rate": pd.Series(dtype=float), "gap": pd.Series(dtype=float)})
    buyers = stats["buyers"].astype(float)
    rebuyers = stats["rebuyers"].astype(float)
    prior = rebuyers.sum() / max(buyers.sum(), 1)
    stats["rate"] = (rebuyers + 20 * prior) / (buyers + 20)
    stats["gap"] = stats["gap"].astype(float)
    return stats[["rate", "gap"]]


def family_rebuy_features(
    families: pd.DataFrame, lead_families: pd.DataFrame, cutoff: pd.Timestamp,
    stats: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per customer, how routine the first basket is (``family_rebuy_stats``).

    Over the basket's families: how many, the highest rebuy rate and the shortest
    median gap; for the lead line's family (``lead_families``: customer_id,
    first_order_lead_family) its own rate and gap. The lead item is what the client
    came for: a routine product bought with a handbag says more when it leads the
    basket than when it was added to it (on the demo brand it lifts the AUC of a
    second order within 90 days of the first by 0.006 on average over twelve
    backtests; docs/retention.md). ``stats`` (computed over every client) may be
    given, and ``families`` then need only hold the batch's first baskets.
    """
    columns = ["customer_id", "basket_families", "basket_family_rebuy_rate",
               "basket_family_rebuy_days", "lead_family_rebuy_rate", "lead_family_rebuy_days"]
    if stats is None:
        stats = family_rebuy_stats(families, cutoff)
    if stats.empty:
        return pd.DataFrame(columns=columns)
    ids = lead_families["customer_id"].to_numpy()
    n = len(ids)
    fam = families[(as_datetime(families["order_date"]) <= cutoff)
                   & (families["purchase_number"] == 1)][["customer_id", "family"]]
    fam = fam.drop_duplicates()
    # Customers and families as positions (hash lookups), then per-customer reductions.
    row = pd.Index(ids).get_indexer(fam["customer_id"])
    family = stats.index.get_indexer(fam["family"])
    keep = (row >= 0) & (family >= 0)
    row, family = row[keep], family[keep]
    rate, gap = stats["rate"].to_numpy(float), stats["gap"].to_numpy(float)
    size = np.bincount(row, minlength=n).astype(float)
    best_rate = np.full(n, np.nan)
    np.fmax.at(best_rate, row, rate[family])
    shortest_gap = np.full(n, np.nan)
    np.fmin.at(shortest_gap, row, gap[family])
    lead = stats.index.get_indexer(lead_families["first_order_lead_family"])
    found = lead >= 0
    return pd.DataFrame({
        "customer_id": ids,
        "basket_families": np.where(size > 0, size, np.nan),
        "basket_family_rebuy_rate": best_rate,
        "basket_family_rebuy_days": shortest_gap,
        "lead_family_rebuy_rate": np.where(found, rate[np.maximum(lead, 0)], np.nan),
        "lead_family_rebuy_days": np.where(found, gap[np.maximum(lead, 0)], np.nan),
    })[columns]


class _EventCounter:
    """Counts each customer's engagement events of each kind with offsets in
    [start, end) (days since the first order, bounds per customer) by binary search
    over the events sorted by customer and offset: O(customers x log events) per
    count instead of a pass over every event."""

    SPAN = 1 << 20  # offsets are days: far inside +-2^19

    def __init__(self, pos: np.ndarray, kind: np.ndarray, offset: np.ndarray, n: int) -> None:
        """``kind``: the position of each event's kind in ENGAGEMENT_KINDS (-1: other)."""
        self.n = n
        self.base = np.arange(n, dtype=np.int64) * self.SPAN + self.SPAN // 2
        self.keys = {}
        for code, k in enumerate(ENGAGEMENT_KINDS):
            sel = kind == code
            keys = pos[sel].astype(np.int64) * self.SPAN + self.SPAN // 2 + offset[sel].astype(
                np.int64)
            self.keys[k] = np.sort(keys)

    def counts(self, start: np.ndarray, end: np.ndarray, rows: np.ndarray | None = None
               ) -> dict[str, np.ndarray]:
        """Counts for every customer, or for the customers at ``rows`` (bounds per row)."""
        half = self.SPAN // 2 - 1
        base = self.base if rows is None else self.base[rows]
        lo = base + np.clip(np.ceil(start), -half, half).astype(np.int64)
        hi = base + np.clip(np.ceil(end), -half, half).astype(np.int64)
        return {k: np.maximum(np.searchsorted(keys, hi) - np.searchsorted(keys, lo),
                              0).astype(float) for k, keys in self.keys.items()}


def prepare_second_purchase_data(
    first_purchases: pd.DataFrame,
    families: pd.DataFrame,
    engagement: pd.DataFrame | pa.Table,
    cutoff: pd.Timestamp,
    seed: int = 0,
    family_stats: pd.DataFrame | None = None,
    training: bool = True,
) -> SecondPurchaseData:
    """Features known at ``cutoff`` for every customer whose first purchase is on or before it.

    ``family_stats`` (``family_rebuy_stats`` over every client) lets a batch of clients
    be prepared with only its own rows; the features of a client then do not depend on
    the batch it is in. ``training=False`` skips the random training landmarks (scoring).
    """
    cutoff = pd.Timestamp(cutoff)
    fp = first_purchases.copy()
    fp["first_order_date"] = as_datetime(fp["first_order_date"])
    # Sorted, so the random landmarks and the trees do not depend on the order in which
    # the warehouse returns rows (it varied between builds: 0.751 vs 0.755 AUC).
    fp = (fp[fp["first_order_date"] <= cutoff].sort_values("customer_id", kind="stable")
          .reset_index(drop=True))
    fp["elapsed"] = (cutoff - fp["first_order_date"]).dt.days
    second = as_datetime(fp["second_order_date"])
    event_day = _days(second, fp["first_order_date"]).astype(float)
    fp["event_day"] = np.where(second <= cutoff, event_day, np.nan)
    fp["first_order_month"] = fp["first_order_date"].dt.month
    for col in ("email_opt_in", "phone_opt_in", "has_home_store"):
        fp[col] = fp[col].astype(float)
    fp = fp.merge(family_rebuy_features(families, fp[["customer_id", "first_order_lead_family"]],
                                        cutoff, family_stats), on="customer_id", how="left")
    fp["basket_families"] = fp["basket_families"].astype(float).fillna(0)

    pos, kind, event_time = _events_of(engagement, fp["customer_id"], cutoff)
    offset = (event_time - fp["first_order_date"].to_numpy()[pos]) // np.timedelta64(1, "D")
    n = len(fp)
    counter = _EventCounter(pos, kind, offset, n)
    pre = counter.counts(np.full(n, -90), np.zeros(n))
    fp["pre_purchase_engagement"] = sum(pre.values()) if pre else 0.0
    data = SecondPurchaseData(frame=fp, cutoff=cutoff)
    rng = np.random.default_rng(seed)
    e = fp["elapsed"].to_numpy(float)
    which_landmarks = ("train", "pred") if training else ("pred",)
    if training:
        data.train_staleness = np.zeros((n, len(BINS)))
    data.pred_staleness = np.zeros((n, len(BINS)))
    for k in ENGAGEMENT_KINDS:
        stores = (data.train_since, data.train_recent) if training else ()
        for store in (*stores, data.pred_since, data.pred_recent):
            store[k] = np.zeros((n, len(BINS)))
    every = np.arange(n)
    for j, (lo, hi) in enumerate(BINS):
        # Predictions integrate the hazard after the days already elapsed: the periods
        # that ended before them are never read (their pred_* stay 0).
        ahead = every if j == len(BINS) - 1 else np.flatnonzero(hi > e)
        landmarks = {
            "train": (every, np.floor(rng.random(n) * (lo + 1))) if training else None,
            "pred": (ahead, np.minimum(lo, e[ahead] + 1)),
        }
        for which in which_landmarks:
            rows, landmark = landmarks[which]
            since = counter.counts(np.zeros(len(rows)), landmark, rows)
            recent = counter.counts(landmark - 30, landmark, rows)
            target_since = data.train_since if which == "train" else data.pred_since
            target_recent = data.train_recent if which == "train" else data.pred_recent
            for k in ENGAGEMENT_KINDS:
                target_since[k][rows, j] = since[k]
                target_recent[k][rows, j] = recent[k]
            staleness = data.train_staleness if which == "train" else data.pred_staleness
            staleness[rows, j] = lo - landmark
    return data


def _events_of(engagement: pd.DataFrame | pa.Table, customer_ids: pd.Series,
               cutoff: pd.Timestamp) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row of the customer in ``customer_ids``, kind as a position in ENGAGEMENT_KINDS,
    date) of each engagement event on or before the cutoff, events of other customers
    dropped. From an Arrow table (what the pipeline reads) the ids are dictionary-encoded,
    so only the distinct ones are looked up; a frame (tests, notebooks) row by row."""
    index = pd.Index(customer_ids)
    if isinstance(engagement, pa.Table):
        engagement = engagement.filter(pc.is_valid(engagement["customer_id"]))
        ids = engagement["customer_id"].combine_chunks().dictionary_encode()
        pos = index.get_indexer(ids.dictionary.to_pandas())[ids.indices.to_numpy()]
        kinds = engagement["event_kind"].combine_chunks().dictionary_encode()
        codes = pd.Index(ENGAGEMENT_KINDS).get_indexer(kinds.dictionary.to_pandas())
        kind = codes[kinds.indices.to_numpy()]
        when = engagement["event_date"].to_numpy().astype("datetime64[us]")
    else:
        pos = index.get_indexer(engagement["customer_id"])
        kind = pd.Index(ENGAGEMENT_KINDS).get_indexer(engagement["event_kind"])
        when = as_datetime(engagement["event_date"]).to_numpy()
    keep = (pos >= 0) & (when <= np.datetime64(pd.Timestamp(cutoff)))
    return pos[keep], kind[keep], when[keep]


def _overlap(lo: np.ndarray, hi: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Days of [lo, hi] inside (start, end], broadcast."""
    return np.clip(np.minimum(hi, end) - np.maximum(lo, start + 1) + 1, 0, None)


def _bin_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lo = np.array([b[0] for b in BINS], dtype=float)
    hi = np.array([b[1] for b in BINS], dtype=float)
    return lo, hi, hi - lo + 1


def cumulative_hazard(rates: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Integrated daily hazard over days (start, end] since the first order.

    ``rates`` is (n, len(BINS)) of daily hazard rates (-log(1 - h) / length);
    days beyond the last period continue at the last period's rate.
    """
    lo, hi, _ = _bin_arrays()
    hi_ext = hi.copy()
    hi_ext[-1] = np.inf
    ov = _overlap(lo[None, :], hi_ext[None, :], start[:, None], end[:, None])
    ov = np.where(np.isfinite(ov), ov, 0.0)
    return np.sum(rates * ov, axis=1)


class TimingModel:
    """Common interface: daily hazard rates per period, then any window's probability."""

    name = "timing"

    def rates(self, data: SecondPurchaseData) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def survival(self, data: SecondPurchaseData, day: np.ndarray | float) -> np.ndarray:
        """P(no second purchase by ``day`` since the first order | none by the cutoff)."""
        e = data.frame["elapsed"].to_numpy(float)
        day = np.broadcast_to(np.asarray(day, dtype=float), e.shape)
        return np.exp(-cumulative_hazard(self.rates(data), e, np.maximum(day, e)))

    def window_probabilities(self, data: SecondPurchaseData) -> pd.DataFrame:
        """P(second purchase in each window | none by the cutoff), plus later/never."""
        e = data.frame["elapsed"].to_numpy(float)
        rates = self.rates(data)
        out = {}
        for lo, hi in WINDOWS:
            s_start = np.exp(-cumulative_hazard(rates, e, np.maximum(lo - 1.0, e)))
            s_end = np.exp(-cumulative_hazard(rates, e, np.maximum(float(hi), e)))
            out[f"p_{lo}_{hi}"] = np.clip(s_start - s_end, 0, 1)
        last = float(WINDOWS[-1][1])
        out["p_later_or_never"] = np.exp(-cumulative_hazard(rates, e, np.maximum(last, e)))
        return pd.DataFrame(out, index=data.frame.index)

    def probability_next(self, data: SecondPurchaseData, days: int) -> np.ndarray:
        """P(second purchase in the ``days`` after the cutoff)."""
        e = data.frame["elapsed"].to_numpy(float)
        return 1.0 - np.exp(-cumulative_hazard(self.rates(data), e, e + days))


def _periods_at_risk(data: SecondPurchaseData) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per period: the customers at risk whose follow-up covers it, and their labels."""
    fp = data.frame
    e = fp["elapsed"].to_numpy(float)
    d = fp["event_day"].to_numpy(float)
    out = []
    for lo, hi in BINS:
        rows = np.flatnonzero((np.isnan(d) | (d >= lo)) & (e >= hi))
        out.append((rows, (d[rows] >= lo) & (d[rows] <= hi)))
    return out


def negative_sampling_rate(n_events: int, n_rows: int, max_rows: int | None) -> float:
    """Share of the periods without a second purchase kept for training: all of them up to
    ``max_rows`` rows, else enough to fill what the events leave of ``max_rows`` (at least
    half of it). Every period with a second purchase is kept."""
    n_negative = n_rows - n_events
    if max_rows is None or n_rows <= max_rows or n_negative <= 0:
        return 1.0
    return min(1.0, max(max_rows - n_events, max_rows // 2) / n_negative)


def person_period(
    data: SecondPurchaseData, max_rows: int | None = None, seed: int = 0
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Training rows: (customer, period) pairs at risk whose period the follow-up covers.

    Returns the row frame (static features + period + engagement at period
    start), the label (second purchase in the period), the period index and the
    row weight. Beyond ``max_rows`` rows the periods without a second purchase are
    sampled at rate q (``negative_sampling_rate``, seeded) and weighted 1 / q: the
    weighted log-likelihood is then an unbiased estimate of the full one, so the
    hazard the trees learn stays unbiased while the rows, hence memory and time,
    stay bounded (``pytests/test_retention_seam.py`` checks it on a known hazard).
    """
    fp = data.frame
    risk = _periods_at_risk(data)
    n_events = int(sum(int(y.sum()) for _, y in risk))
    q = negative_sampling_rate(n_events, sum(len(r) for r, _ in risk), max_rows)
    rng = np.random.default_rng(seed)
    parts, labels, periods, weights = [], [], [], []
    for j, (rows, y) in enumerate(risk):
        if q < 1.0:
            keep = y | (rng.random(len(rows)) < q)
            rows, y = rows[keep], y[keep]
        if len(rows) == 0:
            continue
        part = fp.iloc[rows][list(CATEGORICAL) + list(NUMERIC)].copy()
        part = _add_period_features(part, j, data, rows, now=False)
        parts.append(part)
        labels.append(y)
        periods.append(np.full(len(rows), j))
        weights.append(np.where(y, 1.0, 1.0 / q))
    if not parts:
        return pd.DataFrame(), np.array([], bool), np.array([], int), np.array([], float)
    return (pd.concat(parts, ignore_index=True), np.concatenate(labels),
            np.concatenate(periods), np.concatenate(weights))


def _add_period_features(
    part: pd.DataFrame, j: int, data: SecondPurchaseData, rows: np.ndarray, now: bool
) -> pd.DataFrame:
    lo, hi = BINS[j]
    part["period_start"] = float(lo)
    part["period_length"] = float(hi - lo + 1)
    since = data.pred_since if now else data.train_since
    recent = data.pred_recent if now else data.train_recent
    staleness = data.pred_staleness if now else data.train_staleness
    for k in ENGAGEMENT_KINDS:
        part[f"{k}_since_first"] = since[k][rows, j]
        part[f"{k}_last_30d"] = recent[k][rows, j]
    if ENGAGEMENT_KINDS:
        part["engagement_staleness"] = staleness[rows, j]
    return part


@dataclass
class HazardTimingModel(TimingModel):
    """Discrete-time hazard of the second purchase, fitted by XGBoost.

    Parameters
    ----------
    n_estimators, max_depth, learning_rate, min_child_weight:
        XGBoost settings (small defaults: the CI builds it in seconds).
    n_jobs:
        Threads for XGBoost.
    random_state:
        Seed of XGBoost and of the sampling of periods.
    max_rows:
        Training rows beyond which periods without a second purchase are sampled and
        weighted (``person_period``); None keeps every row.
    """

    n_estimators: int = 120
    max_depth: int = 3
    learning_rate: float = 0.05
    min_child_weight: float = 5.0
    n_jobs: int = 1
    random_state: int = 0
    max_rows: int | None = None
    name: str = "hazard_xgb"

    def fit(self, data: SecondPurchaseData) -> HazardTimingModel:
        X, y, _, weight = person_period(data, self.max_rows, self.random_state)
        if len(X) == 0 or y.sum() == 0:
            raise ValueError("no observed second purchase to learn from")
        sampled = bool((weight != 1.0).any())
        self.categories_ = {c: pd.Index(X[c].astype(str).unique()) for c in CATEGORICAL}
        self.model_ = xgb.XGBClassifier(
            n_estimators=self.n_estimators, max_depth=self.max_depth,
            learning_rate=self.learning_rate, min_child_weight=self.min_child_weight,
            subsample=0.8, colsample_bytree=0.8, tree_method="hist", max_bin=64,
            n_jobs=self.n_jobs, random_state=self.random_state, eval_metric="logloss",
        )
        self.model_.fit(self._encode(X), y, sample_weight=weight if sampled else None)
        self.n_rows_, self.n_events_ = len(X), int(y.sum())
        self.negative_rate_ = float(1.0 / weight.max()) if sampled else 1.0
        return self

    def _encode(self, X: pd.DataFrame) -> np.ndarray:
        """Categories as integer codes (unknown = NaN): fast, and trees split them fine."""
        X = X.copy()
        for c in CATEGORICAL:
            codes = self.categories_[c].get_indexer(X[c].astype(str)).astype(float)
            X[c] = np.where(codes < 0, np.nan, codes)
        return np.ascontiguousarray(X.to_numpy(dtype=float))

    def rates(self, data: SecondPurchaseData) -> np.ndarray:
        cached = getattr(data, "_rates_cache", {}).get(id(self))
        if cached is not None:
            return cached
        fp = data.frame
        n = len(fp)
        # The static features are encoded once; each period adds its own columns, in the
        # order _add_period_features gives them in training.
        static = self._encode(fp[list(CATEGORICAL) + list(NUMERIC)])
        e = fp["elapsed"].to_numpy(float)
        lo, hi, length = _bin_arrays()
        out = np.zeros((n, len(BINS)))
        for j in range(len(BINS)):
            # Every probability integrates the hazard after the days already elapsed, so
            # a period that ended before them is never used (its rate stays 0 here):
            # predicting only the others halves the work on an old customer base.
            rows = np.arange(n) if j == len(BINS) - 1 else np.flatnonzero(hi[j] > e)
            if len(rows) == 0:
                continue
            period = [np.full(len(rows), lo[j]), np.full(len(rows), length[j])]
            for k in ENGAGEMENT_KINDS:
                period += [data.pred_since[k][rows, j], data.pred_recent[k][rows, j]]
            if ENGAGEMENT_KINDS:
                period.append(data.pred_staleness[rows, j])
            X = np.ascontiguousarray(np.column_stack([static[rows], *period]))
            h = self.model_.predict_proba(X)[:, 1]
            out[rows, j] = -np.log1p(-np.clip(h, 1e-6, 1 - 1e-6)) / length[j]
        data._rates_cache = {id(self): out}
        return out


@dataclass
class KaplanMeierTiming(TimingModel):
    """Naive baseline: the overall discrete hazard per period, the same for everyone."""

    name: str = "naive"

    def fit(self, data: SecondPurchaseData) -> KaplanMeierTiming:
        risk = _periods_at_risk(data)
        _, _, length = _bin_arrays()
        events = np.array([float(y.sum()) for _, y in risk])
        at_risk = np.array([float(len(rows)) for rows, _ in risk])
        self.n_events_ = int(events.sum())
        h = np.where(at_risk > 0, events / np.maximum(at_risk, 1), np.nan)
        # Periods nobody was followed through borrow the last observed hazard.
        h = pd.Series(h).ffill().fillna(0.0).to_numpy()
        self.hazard_ = h
        self.daily_rates_ = -np.log1p(-np.clip(h, 0, 1 - 1e-9)) / length
        return self

    def rates(self, data: SecondPurchaseData) -> np.ndarray:
        return np.tile(self.daily_rates_, (len(data.frame), 1))


@dataclass
class BGNBDTiming(TimingModel):
    """A BG/NBD-family model for one-time buyers (x = 0, t_x = 0, T = e days elapsed):
    P(none by day d | none by e) = 1 - P(a purchase in (e, d]), in closed form.

    With BG/NBD that is ((alpha + e) / (alpha + d))^r: a one-time buyer is alive by
    construction. With MBG/NBD the buyer may have dropped out at the first purchase, so
    long-silent buyers get a lower chance. Times in weeks, as the models are fitted;
    expressed as period rates so it shares the TimingModel machinery (exact at period
    edges).
    """

    bgnbd: BetaGeoFamily | None = None
    name: str = "bgnbd"

    def _log_survival(self, e: np.ndarray, day: np.ndarray) -> np.ndarray:
        zeros = np.zeros_like(e)
        p = self.bgnbd.probability_of_purchase((day - e) / 7, zeros, zeros, e / 7)
        return np.log(np.clip(1.0 - p, 1e-300, 1.0))

    def survival(self, data: SecondPurchaseData, day: np.ndarray | float) -> np.ndarray:
        e = data.frame["elapsed"].to_numpy(float)
        day = np.maximum(np.broadcast_to(np.asarray(day, dtype=float), e.shape), e)
        return np.exp(self._log_survival(e, day))

    def rates(self, data: SecondPurchaseData) -> np.ndarray:
        e = data.frame["elapsed"].to_numpy(float)
        lo, hi, _ = _bin_arrays()
        start = np.maximum(lo[None, :] - 1, e[:, None])
        end = np.maximum(hi[None, :], e[:, None])
        ee = np.broadcast_to(e[:, None], start.shape)
        log_s = self._log_survival(ee, end) - self._log_survival(ee, start)
        days = np.maximum(end - start, 1e-9)
        return np.where(end > start, -log_s / days, 0.0)
