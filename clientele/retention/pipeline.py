"""Entry points the dbt Python models call: backtest, second-purchase timing, customer predictions.

Every function takes plain DataFrames (``RetentionInputs``) and returns one.
Datasets with too few repeat buyers (Olist) never fail: the supervised models
are skipped with a logged reason, the baselines still score, and the
evaluation rows say why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from clientele.retention import metrics
from clientele.retention.bgnbd import BetaGeoNBD, GammaGamma
from clientele.retention.repeat import (
    RepeatPurchaseModel,
    bgnbd_predictions,
    customer_features,
    fit_bgnbd,
    orders_between,
    rfm_at,
)
from clientele.retention.timing import (
    WINDOWS,
    BGNBDTiming,
    HazardTimingModel,
    KaplanMeierTiming,
    SecondPurchaseData,
    TimingModel,
    person_period,
    prepare_second_purchase_data,
)
from clientele.seam import EvaluationRows

LOG = logging.getLogger("clientele.retention")
HORIZON = 90
AREA = "retention"
#: Evaluation names: the timing models and the customer-level models are distinct rows.
TIMING_NAMES = {"hazard_xgb": "second_purchase_hazard_xgb", "bgnbd": "second_purchase_bgnbd",
                "naive": "second_purchase_naive"}
CUSTOMER_NAMES = {"repeat_xgb": "repeat_xgb", "bgnbd": "repeat_bgnbd", "naive": "repeat_naive"}
SUPERVISED = ("second_purchase_hazard_xgb", "repeat_xgb")
FREQUENCY_BINS = ((0, 0, "0"), (1, 1, "1"), (2, 2, "2"), (3, 3, "3"), (4, 6, "4-6"),
                  (7, 10**9, "7+"))


@dataclass
class RetentionInputs:
    """The four frames the retention models read (int_retention__* models)."""

    purchases: pd.DataFrame
    first_purchases: pd.DataFrame
    families: pd.DataFrame
    engagement: pd.DataFrame


@dataclass
class Settings:
    """Knobs set from dbt vars."""

    holdout_days: int = 90
    min_events: int = 100
    n_estimators: int = 120
    max_depth: int = 3
    snapshots: int = 4
    snapshot_step_days: int = 30


def _fit_timing(data: SecondPurchaseData, s: Settings) -> tuple[TimingModel, str]:
    """Hazard model when there are enough second purchases, else the naive distribution."""
    naive = KaplanMeierTiming().fit(data)
    _, y, _ = person_period(data)
    if int(y.sum()) < s.min_events:
        reason = (f"only {int(y.sum())} observed second purchases (< {s.min_events}): "
                  "hazard model not trained, naive distribution used")
        LOG.warning("second purchase timing: %s", reason)
        return naive, reason
    model = HazardTimingModel(n_estimators=s.n_estimators, max_depth=s.max_depth).fit(data)
    LOG.info("second purchase timing: hazard model on %d rows, %d events",
             model.n_rows_, model.n_events_)
    return model, ""


def _safe_bgnbd(rfm: pd.DataFrame) -> BetaGeoNBD | None:
    try:
        model = fit_bgnbd(rfm)
        LOG.info("BG/NBD on %d customers: %s", len(rfm),
                 {k: round(float(v), 4) for k, v in model.params_.items()})
        return model
    except (ValueError, RuntimeError) as err:
        LOG.warning("BG/NBD not fitted: %s", err)
        return None


def _fit_supervised(
    inputs: RetentionInputs, date: pd.Timestamp, s: Settings
) -> tuple[RepeatPurchaseModel | None, str]:
    """Train on snapshots before ``date``: features at start, orders in (start, start + HORIZON].

    Snapshots start HORIZON days before ``date`` and step back ``snapshot_step_days``
    (``snapshots`` of them, while customers exist): more examples and more than one
    season, and every label window ends on or before ``date``.
    """
    frames, labels = [], []
    for k in range(max(s.snapshots, 1)):
        start = date - pd.Timedelta(days=HORIZON + k * s.snapshot_step_days)
        rfm_start = rfm_at(inputs.purchases, start)
        if len(rfm_start) < 2:
            break
        y = orders_between(inputs.purchases, start, start + pd.Timedelta(days=HORIZON))
        feats = customer_features(inputs.purchases, inputs.first_purchases, inputs.engagement,
                                  start, HORIZON, _safe_bgnbd(rfm_start))
        frames.append(feats)
        labels.append(y.reindex(feats["customer_id"]).fillna(0).to_numpy(float))
    if not frames:
        return None, f"no customer before {date.date()}: supervised model not trained"
    y_all = np.concatenate(labels)
    positives = int((y_all > 0).sum())
    if positives < s.min_events or positives == len(y_all):
        reason = (f"only {positives} customer-snapshots with an order in the training horizon "
                  f"(< {s.min_events}): supervised model not trained")
        LOG.warning("customer predictions: %s", reason)
        return None, reason
    model = RepeatPurchaseModel(horizon=HORIZON, n_estimators=s.n_estimators,
                                max_depth=s.max_depth).fit(pd.concat(frames, ignore_index=True),
                                                           y_all)
    LOG.info("supervised repeat model: %d customer-snapshots (%d snapshots), %d positives",
             model.n_train_, len(frames), model.n_positive_)
    return model, ""


# --------------------------------------------------------------------------- backtest


def _row(model: str, metric: str, value: float, n: int, k: int | None, segment: str,
         notes: str) -> dict:
    return {"area": AREA, "model_name": model, "is_baseline": model not in SUPERVISED,
            "metric": metric, "k": k, "segment": segment,
            "metric_value": float(value), "n_evaluated": int(n), "notes": notes}


def _score_rows(model: str, y: np.ndarray, p: np.ndarray, k: int, segment: str, notes: str,
                time: np.ndarray | None = None, event: np.ndarray | None = None) -> list[dict]:
    rows = []
    a = metrics.auc(y, p)
    if np.isfinite(a):
        rows.append(_row(model, "auc", a, len(y), k, segment, notes))
    if len(y):
        rows.append(_row(model, "brier", metrics.brier(y, p), len(y), k, segment, notes))
        rows.append(_row(model, "mean_predicted", float(np.mean(p)), len(y), k, segment, notes))
        rows.append(_row(model, "observed_rate", float(np.mean(y)), len(y), k, segment, notes))
    if time is not None and event is not None and event.any():
        c = metrics.concordance_index(time, event, p)
        if np.isfinite(c):
            rows.append(_row(model, "concordance", c, len(y), k, segment, notes))
    return rows


def _timing_backtest(inputs: RetentionInputs, cutoff: pd.Timestamp, as_of: pd.Timestamp,
                     bgnbd: BetaGeoNBD | None, s: Settings, min_market: int) -> list[dict]:
    data = prepare_second_purchase_data(inputs.first_purchases, inputs.families,
                                        inputs.engagement, cutoff)
    fp = data.frame
    one_time = np.flatnonzero(fp["event_day"].isna().to_numpy())
    sub = data.subset(one_time)
    models: dict[str, TimingModel] = {"naive": KaplanMeierTiming().fit(data)}
    note = {"naive": "overall distribution of time to second purchase (Kaplan-Meier per "
                     "period), conditional on days since the first order"}
    supervised, reason = _fit_timing(data, s)
    if isinstance(supervised, HazardTimingModel):
        models["hazard_xgb"] = supervised
        note["hazard_xgb"] = "discrete-time hazard, XGBoost; features: first basket, market, "
        note["hazard_xgb"] += "profile, engagement"
    rows: list[dict] = []
    _, y_train, _ = person_period(data)
    rows.append(_row("hazard_xgb", "n_training_events", float(y_train.sum()), len(fp), None,
                     "all", reason or "second purchases observed in training periods"))
    if bgnbd is not None:
        models["bgnbd"] = BGNBDTiming(bgnbd=bgnbd)
        note["bgnbd"] = "BG/NBD for one-time buyers (x = 0), fitted on all customers at cutoff"
    if len(sub.frame) == 0:
        return rows
    e = sub.frame["elapsed"].to_numpy(float)
    true_day = (pd.to_datetime(sub.frame["second_order_date"])
                - sub.frame["first_order_date"]).dt.days.to_numpy(float)
    horizon_end = (as_of - cutoff).days
    # Headline: a second order in the HORIZON days after the cutoff, all one-time buyers.
    y = (true_day > e) & (true_day <= e + HORIZON)
    time = np.where(np.isnan(true_day), horizon_end, np.minimum(true_day - e, horizon_end))
    event = ~np.isnan(true_day) & (true_day - e <= horizon_end)
    markets = sub.frame["market"].astype(str).to_numpy()
    for name, model in models.items():
        p = model.probability_next(sub, HORIZON)
        rows += _score_rows(name, y, p, HORIZON, "all",
                            note[name] + "; one-time buyers at cutoff, second order in the "
                            f"next {HORIZON} days", time, event)
        for market in pd.unique(markets):
            m = markets == market
            if m.sum() >= min_market:
                rows += [r for r in _score_rows(name, y[m], p[m], HORIZON, f"market={market}",
                                                note[name]) if r["metric"] in ("auc", "brier")]
        # Time-dependent AUC per window since the first order, on the customers whose
        # window is still open at the cutoff and fully covered by the holdout.
        windows = [*WINDOWS, (0, 90)]
        probs = model.window_probabilities(sub)
        surv = {d: model.survival(sub, d) for d in {lo - 1 for lo, _ in windows} | {hi for _,
                                                                                    hi in windows}}
        for lo, hi in windows:
            keep = (e < hi) & (e >= hi - horizon_end)
            if not keep.any():
                continue
            if (lo, hi) in WINDOWS:
                pw = probs[f"p_{lo}_{hi}"].to_numpy()
            else:
                pw = surv[lo - 1] - surv[hi]
            yw = (true_day >= lo) & (true_day <= hi)
            rows += _score_rows(name, yw[keep], pw[keep], hi, f"window={lo}-{hi}",
                                note[name] + "; window still open at cutoff and covered by "
                                "the holdout")
    return _rename(rows, TIMING_NAMES)


def _rename(rows: list[dict], names: dict[str, str]) -> list[dict]:
    for r in rows:
        r["model_name"] = names.get(r["model_name"], r["model_name"])
        r["is_baseline"] = r["model_name"] not in SUPERVISED
    return rows


def _customer_backtest(inputs: RetentionInputs, cutoff: pd.Timestamp, as_of: pd.Timestamp,
                       bgnbd: BetaGeoNBD | None, s: Settings, min_market: int) -> list[dict]:
    rows: list[dict] = []
    rfm = rfm_at(inputs.purchases, cutoff)
    if rfm.empty:
        return rows
    actual = orders_between(inputs.purchases, cutoff, cutoff + pd.Timedelta(days=HORIZON))
    actual = actual.reindex(rfm["customer_id"]).fillna(0).to_numpy(float)
    y = actual > 0
    preds: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    note: dict[str, str] = {}
    # Naive: the rate and mean orders observed over the previous horizon, for everyone.
    start = cutoff - pd.Timedelta(days=HORIZON)
    before = rfm_at(inputs.purchases, start)
    if not before.empty:
        prev = orders_between(inputs.purchases, start, cutoff)
        prev = prev.reindex(before["customer_id"]).fillna(0).to_numpy(float)
        preds["naive"] = (np.full(len(rfm), np.mean(prev > 0)), np.full(len(rfm), prev.mean()))
        note["naive"] = "everyone gets the rate and mean orders of the previous horizon"
    if bgnbd is not None:
        bg = bgnbd_predictions(bgnbd, rfm, (HORIZON,))
        preds["bgnbd"] = (bg[f"p_order_{HORIZON}d"].to_numpy(),
                          bg[f"expected_orders_{HORIZON}d"].to_numpy())
        note["bgnbd"] = "BG/NBD fitted at cutoff (orders = purchase days)"
    supervised, reason = _fit_supervised(inputs, cutoff, s)
    if supervised is not None:
        feats = customer_features(inputs.purchases, inputs.first_purchases, inputs.engagement,
                                  cutoff, HORIZON, bgnbd)
        sp = supervised.predict(feats).set_index("customer_id").reindex(rfm["customer_id"])
        preds["repeat_xgb"] = (sp[f"p_order_{HORIZON}d"].to_numpy(),
                               sp[f"expected_orders_{HORIZON}d"].to_numpy())
        note["repeat_xgb"] = ("XGBoost trained on the previous horizon; features RFM, recent "
                              "orders, first basket, market, engagement, BG/NBD outputs")
    rows.append(_row("repeat_xgb", "n_training_events",
                     float(supervised.n_positive_) if supervised else 0.0,
                     supervised.n_train_ if supervised else 0, None, "all",
                     reason or "customers who ordered in the training horizon"))
    freq = rfm["frequency"].to_numpy()
    next_day = pd.to_datetime(inputs.purchases["order_date"])
    after = inputs.purchases[(next_day > cutoff) & (next_day <= cutoff
                                                    + pd.Timedelta(days=HORIZON))]
    first_after = pd.to_datetime(after.groupby("customer_id")["order_date"].min())
    first_after = first_after.reindex(rfm["customer_id"])
    time = np.where(first_after.isna(), HORIZON + 1, (first_after - cutoff).dt.days)
    markets = rfm.merge(inputs.first_purchases[["customer_id", "market"]], on="customer_id",
                        how="left")["market"].astype(str).to_numpy()
    for name, (p, expected) in preds.items():
        suffix = f"; all customers with a purchase at cutoff, any order in the next {HORIZON} days"
        rows += _score_rows(name, y, p, HORIZON, "all", note[name] + suffix, time, y)
        rows.append(_row(name, "mae_orders", float(np.mean(np.abs(expected - actual))),
                         len(actual), HORIZON, "all", note[name]))
        for label, mask in (("one_time_buyers", freq == 0), ("repeat_buyers", freq > 0)):
            rows += [r for r in _score_rows(name, y[mask], p[mask], HORIZON,
                                            f"customers={label}", note[name])
                     if r["metric"] in ("auc", "brier")]
        for market in pd.unique(markets):
            m = markets == market
            if m.sum() >= min_market:
                rows += [r for r in _score_rows(name, y[m], p[m], HORIZON, f"market={market}",
                                                note[name]) if r["metric"] in ("auc", "brier")]
        for lo, hi, label in FREQUENCY_BINS:
            m = (freq >= lo) & (freq <= hi)
            if m.any():
                cal = "calibration: mean orders in the holdout, customers binned by frequency"
                rows.append(_row(name, "calibration_predicted_orders", float(expected[m].mean()),
                                 int(m.sum()), HORIZON, f"frequency={label}", cal))
                rows.append(_row(name, "calibration_actual_orders", float(actual[m].mean()),
                                 int(m.sum()), HORIZON, f"frequency={label}", cal))
    return _rename(rows, CUSTOMER_NAMES)


def backtest(inputs: RetentionInputs, as_of: object, settings: Settings | None = None,
             min_market: int = 50) -> pd.DataFrame:
    """Cut the history ``holdout_days`` before as_of, fit on before, score after.

    Returns evaluation rows with model_evaluation's columns.
    """
    s = settings or Settings()
    as_of = pd.Timestamp(as_of)
    cutoff = as_of - pd.Timedelta(days=max(s.holdout_days, HORIZON))
    LOG.info("retention backtest: cutoff %s, as_of %s", cutoff.date(), as_of.date())
    rows: list[dict] = []
    fp = inputs.first_purchases
    n_buyers = len(fp)
    repeat_share = float(fp["second_order_date"].notna().mean()) if n_buyers else 0.0
    rows.append(_row("repeat_naive", "repeat_buyer_share", repeat_share, n_buyers, None, "all",
                     "share of buyers with a second purchase by as_of"))
    rfm = rfm_at(inputs.purchases, cutoff)
    bgnbd = _safe_bgnbd(rfm) if not rfm.empty else None
    if bgnbd is not None:
        for k, v in bgnbd.params_.items():
            rows.append(_row("repeat_bgnbd", f"param_{k}", v, bgnbd.n_customers_, None, "all",
                             "BG/NBD parameter at cutoff, time in weeks"))
    rows += _timing_backtest(inputs, cutoff, as_of, bgnbd, s, min_market)
    rows += _customer_backtest(inputs, cutoff, as_of, bgnbd, s, min_market)
    out = pd.DataFrame(rows, columns=["area", "model_name", "is_baseline", "metric", "k",
                                      "segment", "metric_value", "n_evaluated", "notes"])
    if repeat_share < 0.05:
        out["notes"] = out["notes"] + (f" [only {repeat_share:.1%} of buyers bought twice: "
                                       "figures are weak]")
    out["cutoff_date"] = cutoff.date()
    out["as_of_date"] = as_of.date()
    evaluation = EvaluationRows(AREA)
    evaluation.extend(out)
    return evaluation.to_frame()


# --------------------------------------------------------------------------- scoring


def score_second_purchase(inputs: RetentionInputs, as_of: object,
                          settings: Settings | None = None) -> pd.DataFrame:
    """Window probabilities and best contact window for customers with exactly one purchase."""
    s = settings or Settings()
    as_of = pd.Timestamp(as_of)
    data = prepare_second_purchase_data(inputs.first_purchases, inputs.families,
                                        inputs.engagement, as_of)
    model, reason = _fit_timing(data, s)
    fp = data.frame
    one_time = np.flatnonzero(fp["event_day"].isna().to_numpy())
    sub = data.subset(one_time)
    f = sub.frame
    out = pd.DataFrame({
        "customer_id": f["customer_id"].to_numpy(),
        "market": f["market"].astype(str).to_numpy(),
        "first_order_date": f["first_order_date"].dt.date.to_numpy(),
        "days_since_first_order": f["elapsed"].astype(int).to_numpy(),
    })
    if len(f) == 0:
        return _empty_timing(out)
    probs = model.window_probabilities(sub).reset_index(drop=True)
    e = f["elapsed"].to_numpy(float)
    intensity = np.zeros((len(f), len(WINDOWS)))
    for j, (lo, hi) in enumerate(WINDOWS):
        out[f"p_window_{lo}_{hi}"] = probs[f"p_{lo}_{hi}"].to_numpy()
        remaining = hi - np.maximum(lo, e + 1) + 1
        intensity[:, j] = np.where(remaining > 0, probs[f"p_{lo}_{hi}"] / np.maximum(remaining, 1),
                                   -1.0)
    out["p_later_or_never"] = probs["p_later_or_never"].to_numpy()
    out["p_second_within_365d"] = 1.0 - out["p_later_or_never"]
    out[f"p_second_next_{HORIZON}d"] = model.probability_next(sub, HORIZON)
    best = intensity.argmax(axis=1)
    open_any = intensity.max(axis=1) >= 0
    lo_arr = np.array([w[0] for w in WINDOWS])[best]
    hi_arr = np.array([w[1] for w in WINDOWS])[best]
    labels = np.array([f"{lo}-{hi}" for lo, hi in WINDOWS])[best]
    first = f["first_order_date"]
    start_offset = np.maximum(lo_arr, e + 1)
    out["best_window"] = np.where(open_any, labels, "later")
    out["best_window_start_date"] = np.where(
        open_any, (first + pd.to_timedelta(start_offset, unit="D")).dt.date,
        (as_of + pd.Timedelta(days=1)).date())
    out["best_window_end_date"] = pd.Series(
        (first + pd.to_timedelta(hi_arr, unit="D")).dt.date).where(open_any, None).to_numpy()
    out["best_window_probability"] = np.where(
        open_any, np.take_along_axis(probs[[f"p_{lo}_{hi}" for lo, hi in WINDOWS]].to_numpy(),
                                     best[:, None], 1)[:, 0], out["p_later_or_never"])
    out["model_name"] = model.name
    out["notes"] = reason or None
    out["as_of_date"] = as_of.date()
    return out


def _empty_timing(out: pd.DataFrame) -> pd.DataFrame:
    for lo, hi in WINDOWS:
        out[f"p_window_{lo}_{hi}"] = pd.Series(dtype=float)
    for col in ("p_later_or_never", "p_second_within_365d", f"p_second_next_{HORIZON}d"):
        out[col] = pd.Series(dtype=float)
    for col in ("best_window", "best_window_start_date", "best_window_end_date",
                "best_window_probability", "model_name", "notes", "as_of_date"):
        out[col] = pd.Series(dtype=object)
    return out


def score_customers(inputs: RetentionInputs, as_of: object, selected: str = "bgnbd",
                    settings: Settings | None = None) -> pd.DataFrame:
    """p_alive, expected orders, next order date, churn and 365-day value for every buyer.

    ``selected`` (``bgnbd`` or ``repeat_xgb``, from the backtest) drives the 90-day
    probability, expected orders and churn; expected orders over 365 days and the
    value come from BG/NBD + Gamma-Gamma, the only model that reaches a year ahead.
    """
    s = settings or Settings()
    as_of = pd.Timestamp(as_of)
    rfm = rfm_at(inputs.purchases, as_of)
    columns = ["customer_id", "market", "purchase_days", "frequency", "recency_days",
               "tenure_days", "days_since_last_order", "p_alive", "p_order_90d",
               "expected_orders_90d", "expected_orders_365d", "expected_next_order_date",
               "churn_probability", "expected_order_value",
               "predicted_value_365d", "bgnbd_p_order_90d", "supervised_p_order_90d",
               "selected_model", "as_of_date"]
    if rfm.empty:
        return pd.DataFrame(columns=columns)
    bgnbd = _safe_bgnbd(rfm)
    out = pd.DataFrame({
        "customer_id": rfm["customer_id"], "purchase_days": rfm["n_days"].astype(int),
        "frequency": rfm["frequency"].astype(int), "recency_days": rfm["recency"].astype(int),
        "tenure_days": rfm["T"].astype(int),
        "days_since_last_order": rfm["days_since_last"].astype(int),
    })
    out = out.merge(inputs.first_purchases[["customer_id", "market"]], on="customer_id",
                    how="left")
    out["market"] = out["market"].fillna("unknown")
    if bgnbd is not None:
        bg = bgnbd_predictions(bgnbd, rfm, (90, 365))
        out["p_alive"] = bg["p_alive"].to_numpy()
        out["bgnbd_p_order_90d"] = bg["p_order_90d"].to_numpy()
        bg_expected_90 = bg["expected_orders_90d"].to_numpy()
        out["expected_orders_365d"] = bg["expected_orders_365d"].to_numpy()
        wait = bg["median_days_to_next"].to_numpy()
    else:
        # No BG/NBD (e.g. nobody bought twice): the overall repeat rate for everyone.
        rate = float((rfm["frequency"] > 0).mean())
        out["p_alive"] = np.nan
        out["bgnbd_p_order_90d"] = np.nan
        bg_expected_90 = np.full(len(rfm), rate)
        out["expected_orders_365d"] = rate
        wait = np.full(len(rfm), np.nan)
    out["supervised_p_order_90d"] = np.nan
    sup_expected = None
    if selected == "repeat_xgb":
        supervised, reason = _fit_supervised(inputs, as_of, s)
        if supervised is not None:
            feats = customer_features(inputs.purchases, inputs.first_purchases,
                                      inputs.engagement, as_of, HORIZON, bgnbd)
            sp = supervised.predict(feats).set_index("customer_id").reindex(out["customer_id"])
            out["supervised_p_order_90d"] = sp["p_order_90d"].to_numpy()
            sup_expected = sp["expected_orders_90d"].to_numpy()
        else:
            LOG.warning("customer predictions: falling back to BG/NBD (%s)", reason)
    if sup_expected is not None:
        out["selected_model"] = "repeat_xgb"
        out["p_order_90d"] = out["supervised_p_order_90d"]
        out["expected_orders_90d"] = sup_expected
    else:
        out["selected_model"] = "bgnbd" if bgnbd is not None else "naive"
        out["p_order_90d"] = out["bgnbd_p_order_90d"].fillna(float((rfm["frequency"] > 0).mean()))
        out["expected_orders_90d"] = bg_expected_90
    out["churn_probability"] = 1.0 - out["p_order_90d"]
    # Next order: median wait while still active; none when beyond two years.
    ok = np.isfinite(wait) & (wait <= 730)
    next_date = as_of + pd.to_timedelta(np.where(ok, np.ceil(wait), 0), unit="D")
    out["expected_next_order_date"] = pd.Series(next_date.date).where(ok, None).to_numpy()
    value = rfm["mean_value"].to_numpy(float)
    # Gamma-Gamma is pulled far by a few absurd baskets (the demo brand has orders of
    # 40,000 units that pass staging): cap mean order values at the 99.5th percentile.
    value = np.minimum(value, np.nanquantile(value, 0.995))
    try:
        gg = GammaGamma(penalizer=0.001).fit(rfm["n_days"], value)
        LOG.info("Gamma-Gamma: %s", {k: round(float(v), 4) for k, v in gg.params_.items()})
        out["expected_order_value"] = gg.conditional_expected_value(rfm["n_days"], value)
    except ValueError as err:
        LOG.warning("Gamma-Gamma not fitted (%s): observed mean order value used", err)
        out["expected_order_value"] = value
    out["predicted_value_365d"] = out["expected_orders_365d"] * out["expected_order_value"]
    out["as_of_date"] = as_of.date()
    return out[columns]


def select_model(evaluation: pd.DataFrame) -> str:
    """repeat_xgb if its 90-day Brier score beats BG/NBD's in the backtest, else bgnbd."""
    ev = evaluation[(evaluation["metric"] == "brier") & (evaluation["k"] == HORIZON)
                    & (evaluation["segment"] == "all")]
    scores = ev.set_index("model_name")["metric_value"]
    if "repeat_xgb" in scores and ("repeat_bgnbd" not in scores
                                   or scores["repeat_xgb"] < scores["repeat_bgnbd"]):
        return "repeat_xgb"
    return "bgnbd"
