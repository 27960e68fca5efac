"""Repeat purchases of every customer: RFM summaries at a date, BG/NBD and a supervised model.

The supervised model learns, from the customers' state at ``date - horizon``,
whether (classifier) and how often (Poisson regressor) they ordered in the
``horizon`` days up to ``date``, then applies that to their state at ``date``.
Its features are the RFM summary, recent activity, the first basket, the
market, engagement and the BG/NBD's own predictions at the feature date.
Orders are counted as distinct purchase days, as in BG/NBD.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xgboost as xgb

from clientele import seam
from clientele.retention.bgnbd import BetaGeoNBD, ModifiedBetaGeoNBD
from clientele.retention.inputs import as_datetime

CATEGORICAL = ("market", "first_order_channel", "first_order_top_category", "gender")
STATIC = (
    "first_order_value", "first_order_price_band", "first_order_review_score", "age",
    "email_opt_in", "phone_opt_in", "has_home_store",
)
KINDS = ("email_open", "email_click", "web_view", "web_cart")


def client_codes(customer_ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(code of each row, the distinct ids sorted): codes follow the sorted ids, so
    grouping by code gives the customer order. The ids are sorted once, as fixed-width
    strings, which is far faster than sorting Python strings in every groupby."""
    codes, uniques = pd.factorize(customer_ids, sort=False)
    uniques = np.asarray(uniques, dtype=object)
    order = np.argsort(uniques.astype(str), kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[codes], uniques[order]


def rfm_at(purchases: pd.DataFrame, date: pd.Timestamp) -> pd.DataFrame:
    """RFM summary on purchases up to ``date`` (days): frequency = purchase days - 1,
    recency = last - first purchase day, T = date - first, plus value and recent counts.
    One row per customer, in customer id order."""
    date = pd.Timestamp(date)
    p = purchases[as_datetime(purchases["order_date"]) <= date]
    codes, clients = client_codes(p["customer_id"])
    rows = pd.DataFrame({"client": codes, "order_date": as_datetime(p["order_date"]).to_numpy(),
                         "order_value": p["order_value"].to_numpy()})
    days = rows.groupby(["client", "order_date"], as_index=False)["order_value"].sum()
    age_days = (date - days["order_date"]).dt.days.to_numpy()
    g = days.groupby("client")
    out = pd.DataFrame({
        "n_days": g.size(),
        "first": g["order_date"].min(),
        "last": g["order_date"].max(),
        "mean_value": g["order_value"].mean(),
        "total_value": g["order_value"].sum(),
        "first_value": g["order_value"].first(),
    })
    client = days["client"].to_numpy()
    for w in (30, 90, 180, 365):
        out[f"orders_last_{w}d"] = np.bincount(client[age_days < w],
                                               minlength=len(clients)).astype(float)
    out["frequency"] = out["n_days"] - 1
    out["recency"] = (out["last"] - out["first"]).dt.days.astype(float)
    out["T"] = (date - out["first"]).dt.days.astype(float)
    out["days_since_last"] = (date - out["last"]).dt.days.astype(float)
    out["mean_gap"] = np.where(out["frequency"] > 0,
                               out["recency"] / out["frequency"].clip(lower=1), np.nan)
    # Gamma-Gamma's m_x: the mean value of the repeat purchase days, the first excluded.
    repeat = out["frequency"] > 0
    out["mean_repeat_value"] = np.where(
        repeat, (out["total_value"] - out["first_value"]) / out["frequency"].clip(lower=1),
        np.nan)
    out.index = pd.Index(clients, name="customer_id")
    return out.drop(columns=["first", "last", "first_value"]).reset_index()


def fit_bgnbd(rfm: pd.DataFrame, penalizer: float = 0.0, modified: bool = False
              ) -> BetaGeoNBD | ModifiedBetaGeoNBD:
    """BG/NBD (``modified``: MBG/NBD) on an RFM frame, in weeks like the published fits;
    unpenalised by default, as published."""
    model = ModifiedBetaGeoNBD if modified else BetaGeoNBD
    return model(penalizer=penalizer).fit(rfm["frequency"], rfm["recency"] / 7, rfm["T"] / 7)


def bgnbd_predictions(
    model: BetaGeoNBD | ModifiedBetaGeoNBD, rfm: pd.DataFrame, horizons: tuple[int, ...]
) -> pd.DataFrame:
    """p_alive, expected orders and P(any order) over each horizon (days), and the days
    until P(an order by then) reaches one half (+inf when it never does)."""
    x, tx, T = rfm["frequency"], rfm["recency"] / 7, rfm["T"] / 7
    out = pd.DataFrame({"customer_id": rfm["customer_id"], "p_alive": model.p_alive(x, tx, T)})
    for h in horizons:
        out[f"expected_orders_{h}d"] = model.conditional_expected_transactions(h / 7, x, tx, T)
        out[f"p_order_{h}d"] = model.probability_of_purchase(h / 7, x, tx, T)
    out["median_days_to_next"] = model.time_to_purchase_probability(0.5, x, tx, T) * 7
    return out


def engagement_counts(engagement: seam.Source, date: pd.Timestamp, where: str | None = None
                      ) -> pd.DataFrame:
    """Per customer with engagement, events of each kind in the last 30 and 90 days up to
    ``date`` (``{kind}_last_{w}d``), counted in DuckDB (``where`` selects the clients)."""
    day = f"cast('{pd.Timestamp(date).date()}' as date)"
    counts = ", ".join(
        f"count(*) filter (where event_kind = '{k}' and datediff('day', event_date, {day}) < {w})"
        f" as {k}_last_{w}d" for w in (30, 90) for k in KINDS)
    rel = seam.as_relation(engagement)
    if where:
        rel = rel.filter(where)
    return rel.filter(f"event_date <= {day}").aggregate(
        f"customer_id, {counts}", "customer_id").df()


def customer_features(
    rfm: pd.DataFrame,
    first_purchases: pd.DataFrame,
    engagement: pd.DataFrame,
    horizon: int,
    bgnbd: BetaGeoNBD | None,
) -> pd.DataFrame:
    """One row per customer of ``rfm`` (``rfm_at`` a date): every model input, with the
    ``engagement_counts`` at the same date."""
    ids = pd.Index(rfm["customer_id"])
    static = first_purchases.set_index("customer_id")[[*CATEGORICAL, *STATIC]].reindex(ids)
    eng_cols = [f"{k}_last_{w}d" for w in (30, 90) for k in KINDS]
    counts = engagement.set_index("customer_id")[eng_cols].reindex(ids).astype(float).fillna(0.0)
    # The value columns of Gamma-Gamma are not features (the trees learnt without them).
    parts = [rfm.drop(columns=["mean_repeat_value"], errors="ignore").reset_index(drop=True),
             static.reset_index(drop=True), counts.reset_index(drop=True)]
    if bgnbd is not None:
        pred = bgnbd_predictions(bgnbd, rfm, (horizon,)).drop(columns="customer_id")
        # The median wait of a client still active: finite for everyone, as trees need.
        pred["median_days_to_next"] = bgnbd.median_time_to_next_purchase(
            rfm["frequency"], rfm["T"] / 7) * 7
        parts.append(pred.add_prefix("bg_").reset_index(drop=True))
    frame = pd.concat(parts, axis=1)
    for col in ("email_opt_in", "phone_opt_in", "has_home_store"):
        frame[col] = frame[col].astype(float)
    return frame


def orders_between(purchases: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """Distinct purchase days per customer in (start, end]."""
    d = as_datetime(purchases["order_date"])
    sel = purchases[(d > pd.Timestamp(start)) & (d <= pd.Timestamp(end))]
    return sel.groupby("customer_id")["order_date"].nunique()


@dataclass
class RepeatPurchaseModel:
    """Supervised P(any order) and expected orders over a horizon (XGBoost).

    Parameters
    ----------
    horizon:
        Days ahead the model predicts (the label window).
    n_estimators, max_depth, learning_rate:
        XGBoost settings shared by the classifier and the Poisson regressor.
    """

    horizon: int = 90
    n_estimators: int = 120
    max_depth: int = 3
    learning_rate: float = 0.05
    n_jobs: int = 1
    random_state: int = 0
    name: str = "repeat_xgb"

    def _encode(self, frame: pd.DataFrame) -> np.ndarray:
        """Categories as integer codes (unknown = NaN)."""
        X = frame.drop(columns=["customer_id"], errors="ignore").copy()
        X = X.reindex(columns=self.columns_)
        for c in CATEGORICAL:
            codes = self.categories_[c].get_indexer(X[c].astype(str)).astype(float)
            X[c] = np.where(codes < 0, np.nan, codes)
        return X.to_numpy(dtype=float)

    def fit(self, features: pd.DataFrame, orders_in_horizon: np.ndarray) -> RepeatPurchaseModel:
        """``features`` at the start of a horizon; ``orders_in_horizon`` aligned to its rows."""
        y = np.asarray(orders_in_horizon, dtype=float)
        if (y > 0).sum() == 0 or (y > 0).all():
            raise ValueError("the training labels have a single class")
        self.columns_ = [c for c in features.columns if c != "customer_id"]
        self.categories_ = {c: pd.Index(features[c].astype(str).unique()) for c in CATEGORICAL}
        X = self._encode(features)
        params = dict(n_estimators=self.n_estimators, max_depth=self.max_depth,
                      learning_rate=self.learning_rate, subsample=0.8, colsample_bytree=0.8,
                      tree_method="hist", max_bin=64, n_jobs=self.n_jobs,
                      random_state=self.random_state, min_child_weight=5.0)
        self.classifier_ = xgb.XGBClassifier(eval_metric="logloss", **params).fit(X, y > 0)
        self.regressor_ = xgb.XGBRegressor(objective="count:poisson", **params).fit(X, y)
        self.n_train_, self.n_positive_ = len(y), int((y > 0).sum())
        return self

    def predict(self, features: pd.DataFrame) -> pd.DataFrame:
        X = self._encode(features)
        p = self.classifier_.predict_proba(X)[:, 1]
        expected = np.maximum(self.regressor_.predict(X), p)
        return pd.DataFrame({"customer_id": features["customer_id"].to_numpy(),
                             f"p_order_{self.horizon}d": p,
                             f"expected_orders_{self.horizon}d": expected})
