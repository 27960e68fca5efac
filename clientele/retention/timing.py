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
the same elapsed time) and ``BGNBDTiming`` (BG/NBD for customers with x = 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xgboost as xgb

from clientele.retention.bgnbd import BetaGeoNBD

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
    engagement kind.
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
    return (pd.to_datetime(later) - pd.to_datetime(earlier)).dt.days


def family_rebuy_stats(families: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """How routine each product family is, from the purchases on or before the cutoff.

    Among customers who bought the family, the share who bought it again (shrunk
    towards the overall share with 20 pseudo customers; one value per family: a
    leave-one-out share would leak each customer's own outcome into its feature,
    which trees exploit) and the median days between the first two purchases of it.
    Returns one row per family (index) with ``rate`` and ``gap``.
    """
    fam = families[pd.to_datetime(families["order_date"]) <= cutoff]
    if fam.empty:
        return pd.DataFrame({"rate": pd.Series(dtype=float), "gap": pd.Series(dtype=float)})
    per_cf = (fam.groupby(["customer_id", "family"])["order_date"]
              .agg(["min", "nunique"]).reset_index())
    second_dates = (fam.merge(per_cf[["customer_id", "family", "min"]],
                              on=["customer_id", "family"])
                    .query("order_date > min")
                    .groupby(["customer_id", "family"])["order_date"].min()
                    .rename("second").reset_index())
    per_cf = per_cf.merge(second_dates, on=["customer_id", "family"], how="left")
    per_cf["rebuy"] = (per_cf["nunique"] > 1).astype(float)
    per_cf["gap"] = _days(per_cf["second"], per_cf["min"])
    stats = per_cf.groupby("family").agg(buyers=("rebuy", "size"), rebuyers=("rebuy", "sum"),
                                          gap=("gap", "median"))
    prior = stats["rebuyers"].sum() / max(stats["buyers"].sum(), 1)
    stats["rate"] = (stats["rebuyers"] + 20 * prior) / (stats["buyers"] + 20)
    return stats[["rate", "gap"]]


def family_rebuy_features(
    families: pd.DataFrame, lead_families: pd.DataFrame, cutoff: pd.Timestamp
) -> pd.DataFrame:
    """Per customer, how routine the first basket is (``family_rebuy_stats``).

    Over the basket's families: how many, the highest rebuy rate and the shortest
    median gap; for the lead line's family (``lead_families``: customer_id,
    first_order_lead_family) its own rate and gap. The lead item is what the client
    came for: a routine product bought with a handbag says more when it leads the
    basket than when it was added to it (on the demo brand it lifts the AUC of a
    second order within 90 days of the first by 0.006 on average over twelve
    backtests; docs/retention.md).
    """
    columns = ["customer_id", "basket_families", "basket_family_rebuy_rate",
               "basket_family_rebuy_days", "lead_family_rebuy_rate", "lead_family_rebuy_days"]
    stats = family_rebuy_stats(families, cutoff)
    if stats.empty:
        return pd.DataFrame(columns=columns)
    fam = families[pd.to_datetime(families["order_date"]) <= cutoff]
    first_basket = fam[fam["purchase_number"] == 1][["customer_id", "family"]].drop_duplicates()
    basket = first_basket.merge(stats, left_on="family", right_index=True)
    out = basket.groupby("customer_id").agg(
        basket_families=("family", "size"),
        basket_family_rebuy_rate=("rate", "max"),
        basket_family_rebuy_days=("gap", "min"),
    ).reset_index()
    lead = lead_families.merge(stats, left_on="first_order_lead_family", right_index=True)
    lead = lead.rename(columns={"rate": "lead_family_rebuy_rate", "gap": "lead_family_rebuy_days"})
    out = out.merge(lead[["customer_id", "lead_family_rebuy_rate", "lead_family_rebuy_days"]],
                    on="customer_id", how="left")
    return out[columns]


def _engagement_counts(
    offsets: pd.DataFrame, n: int, start: np.ndarray, end: np.ndarray
) -> dict[str, np.ndarray]:
    """Per kind, events with start <= offset < end (per-customer bounds).

    ``offsets`` has pos (row of the customer), event_kind and offset (days since
    the first order).
    """
    pos = offsets["pos"].to_numpy()
    off = offsets["offset"].to_numpy()
    kind = offsets["event_kind"].to_numpy()
    inside = (off >= start[pos]) & (off < end[pos])
    return {k: np.bincount(pos[inside & (kind == k)], minlength=n).astype(float)
            for k in ENGAGEMENT_KINDS}


def prepare_second_purchase_data(
    first_purchases: pd.DataFrame,
    families: pd.DataFrame,
    engagement: pd.DataFrame,
    cutoff: pd.Timestamp,
    seed: int = 0,
) -> SecondPurchaseData:
    """Features known at ``cutoff`` for every customer whose first purchase is on or before it."""
    cutoff = pd.Timestamp(cutoff)
    fp = first_purchases.copy()
    fp["first_order_date"] = pd.to_datetime(fp["first_order_date"])
    # Sorted, so the random landmarks and the trees do not depend on the order in which
    # the warehouse returns rows (it varied between builds: 0.751 vs 0.755 AUC).
    fp = (fp[fp["first_order_date"] <= cutoff].sort_values("customer_id", kind="stable")
          .reset_index(drop=True))
    fp["elapsed"] = (cutoff - fp["first_order_date"]).dt.days
    second = pd.to_datetime(fp["second_order_date"])
    event_day = _days(second, fp["first_order_date"]).astype(float)
    fp["event_day"] = np.where(second <= cutoff, event_day, np.nan)
    fp["first_order_month"] = fp["first_order_date"].dt.month
    for col in ("email_opt_in", "phone_opt_in", "has_home_store"):
        fp[col] = fp[col].astype(float)
    fp = fp.merge(family_rebuy_features(families, fp[["customer_id", "first_order_lead_family"]],
                                        cutoff), on="customer_id", how="left")
    fp["basket_families"] = fp["basket_families"].fillna(0)

    ev = engagement[pd.to_datetime(engagement["event_date"]) <= cutoff]
    ev = ev.merge(fp[["customer_id", "first_order_date"]].reset_index(names="pos"),
                  on="customer_id")
    offsets = pd.DataFrame({
        "pos": ev["pos"].to_numpy(),
        "event_kind": ev["event_kind"].to_numpy(),
        "offset": _days(ev["event_date"], ev["first_order_date"]).to_numpy(),
    })
    n = len(fp)
    pre = _engagement_counts(offsets, n, np.full(n, -90), np.zeros(n))
    fp["pre_purchase_engagement"] = sum(pre.values()) if pre else 0.0
    data = SecondPurchaseData(frame=fp, cutoff=cutoff)
    rng = np.random.default_rng(seed)
    e = fp["elapsed"].to_numpy(float)
    lo_all = np.array([b[0] for b in BINS], dtype=float)
    data.train_staleness = np.zeros((n, len(BINS)))
    data.pred_staleness = np.zeros((n, len(BINS)))
    for k in ENGAGEMENT_KINDS:
        for store in (data.train_since, data.train_recent, data.pred_since, data.pred_recent):
            store[k] = np.zeros((n, len(BINS)))
    for j, lo in enumerate(lo_all):
        landmarks = {
            "train": np.floor(rng.random(n) * (lo + 1)),
            "pred": np.minimum(lo, e + 1),
        }
        for which, landmark in landmarks.items():
            since = _engagement_counts(offsets, n, np.zeros(n), landmark)
            recent = _engagement_counts(offsets, n, landmark - 30, landmark)
            target_since = data.train_since if which == "train" else data.pred_since
            target_recent = data.train_recent if which == "train" else data.pred_recent
            for k in ENGAGEMENT_KINDS:
                target_since[k][:, j] = since[k]
                target_recent[k][:, j] = recent[k]
            staleness = data.train_staleness if which == "train" else data.pred_staleness
            staleness[:, j] = lo - landmark
    return data


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


def person_period(data: SecondPurchaseData) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Training rows: (customer, period) pairs at risk whose period the follow-up covers.

    Returns the row frame (static features + period + engagement at period
    start), the label (second purchase in the period) and the period index.
    """
    fp = data.frame
    e = fp["elapsed"].to_numpy(float)
    d = fp["event_day"].to_numpy(float)
    parts, labels, periods = [], [], []
    for j, (lo, hi) in enumerate(BINS):
        at_risk = np.isnan(d) | (d >= lo)
        covered = e >= hi
        rows = np.flatnonzero(at_risk & covered)
        if len(rows) == 0:
            continue
        part = fp.iloc[rows][list(CATEGORICAL) + list(NUMERIC)].copy()
        part = _add_period_features(part, j, data, rows, now=False)
        parts.append(part)
        labels.append((d[rows] >= lo) & (d[rows] <= hi))
        periods.append(np.full(len(rows), j))
    if not parts:
        return pd.DataFrame(), np.array([], bool), np.array([], int)
    return (pd.concat(parts, ignore_index=True), np.concatenate(labels),
            np.concatenate(periods))


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
    """

    n_estimators: int = 120
    max_depth: int = 3
    learning_rate: float = 0.05
    min_child_weight: float = 5.0
    n_jobs: int = 1
    random_state: int = 0
    name: str = "hazard_xgb"

    def fit(self, data: SecondPurchaseData) -> HazardTimingModel:
        X, y, _ = person_period(data)
        if len(X) == 0 or y.sum() == 0:
            raise ValueError("no observed second purchase to learn from")
        self.categories_ = {c: pd.Index(X[c].astype(str).unique()) for c in CATEGORICAL}
        self.model_ = xgb.XGBClassifier(
            n_estimators=self.n_estimators, max_depth=self.max_depth,
            learning_rate=self.learning_rate, min_child_weight=self.min_child_weight,
            subsample=0.8, colsample_bytree=0.8, tree_method="hist", max_bin=64,
            n_jobs=self.n_jobs, random_state=self.random_state, eval_metric="logloss",
        )
        self.model_.fit(self._encode(X), y)
        self.n_rows_, self.n_events_ = len(X), int(y.sum())
        return self

    def _encode(self, X: pd.DataFrame) -> np.ndarray:
        """Categories as integer codes (unknown = NaN): fast, and trees split them fine."""
        X = X.copy()
        for c in CATEGORICAL:
            codes = self.categories_[c].get_indexer(X[c].astype(str)).astype(float)
            X[c] = np.where(codes < 0, np.nan, codes)
        return X.to_numpy(dtype=float)

    def rates(self, data: SecondPurchaseData) -> np.ndarray:
        cached = getattr(data, "_rates_cache", {}).get(id(self))
        if cached is not None:
            return cached
        fp = data.frame
        n = len(fp)
        rows = np.arange(n)
        base = fp[list(CATEGORICAL) + list(NUMERIC)].reset_index(drop=True)
        _, _, length = _bin_arrays()
        out = np.zeros((n, len(BINS)))
        for j in range(len(BINS)):
            part = _add_period_features(base.copy(), j, data, rows, now=True)
            h = self.model_.predict_proba(self._encode(part))[:, 1]
            out[:, j] = -np.log1p(-np.clip(h, 1e-6, 1 - 1e-6)) / length[j]
        data._rates_cache = {id(self): out}
        return out


@dataclass
class KaplanMeierTiming(TimingModel):
    """Naive baseline: the overall discrete hazard per period, the same for everyone."""

    name: str = "naive"

    def fit(self, data: SecondPurchaseData) -> KaplanMeierTiming:
        _, y, period = person_period(data)
        _, _, length = _bin_arrays()
        events = np.bincount(period, weights=y.astype(float), minlength=len(BINS))
        at_risk = np.bincount(period, minlength=len(BINS)).astype(float)
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
    """BG/NBD for one-time buyers (x = 0): P(none by day d | none by e) = ((a+e)/(a+d))^r.

    Times in weeks, as the BG/NBD is fitted; expressed as period rates so it
    shares the TimingModel machinery (exact at period edges).
    """

    bgnbd: BetaGeoNBD | None = None
    name: str = "bgnbd"

    def survival(self, data: SecondPurchaseData, day: np.ndarray | float) -> np.ndarray:
        e = data.frame["elapsed"].to_numpy(float)
        day = np.maximum(np.broadcast_to(np.asarray(day, dtype=float), e.shape), e)
        p = self.bgnbd.params_
        return ((p["alpha"] + e / 7) / (p["alpha"] + day / 7)) ** p["r"]

    def rates(self, data: SecondPurchaseData) -> np.ndarray:
        e = data.frame["elapsed"].to_numpy(float)
        lo, hi, length = _bin_arrays()
        p = self.bgnbd.params_
        start = np.maximum(lo[None, :] - 1, e[:, None])
        end = np.maximum(hi[None, :], e[:, None])
        log_s = p["r"] * (np.log(p["alpha"] + start / 7) - np.log(p["alpha"] + end / 7))
        days = np.maximum(end - start, 1e-9)
        return np.where(end > start, -log_s / days, 0.0)
