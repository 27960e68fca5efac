"""The retention area's entry points, one per dbt Python model:

- :func:`backtest` (``int_retention__backtest``): every model next to its baselines on a
  cut ``holdout_days`` before as_of, as model_evaluation rows with confidence intervals;
- :func:`score_second_purchase` (``int_retention__second_purchase_scores``): when each
  one-time buyer is likely to buy again;
- :func:`score_customers` (``int_retention__customer_scores``): p_alive, expected orders,
  churn and value for every buyer, from the model the backtest selected.

Memory is bounded by the settings (``RetentionSettings``), not by the number of clients:
the models learn from seeded samples of clients (``max_training_clients``,
``max_fit_clients``) and the hazard model from at most about ``max_hazard_rows``
client-periods; the backtest scores a sample of ``max_evaluation_clients``; every client
is scored in batches of ``batch_clients`` and the scores are streamed to dbt. Aggregates
over every client (family rebuy rates, naive rates, repeat share) are computed in DuckDB.
Below the caps (the demo brands, Online Retail II) every client is used.

Datasets with too few repeat buyers (Olist) never fail: the supervised models are
skipped with a logged reason, the baselines still score, and the evaluation rows say why.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from clientele import seam
from clientele.intervals import auc_ci, mean_ci, proportion_ci
from clientele.retention import metrics
from clientele.retention.bgnbd import BetaGeoNBD, GammaGamma
from clientele.retention.inputs import (
    RetentionInputs,
    activity_rates,
    as_datetime,
    batches,
    bought_by,
    events_by,
    first_bought_by,
    one_time_at,
    read,
    read_table,
    repeat_day_share,
    repeat_share,
    sample,
)
from clientele.retention.repeat import (
    RepeatPurchaseModel,
    bgnbd_predictions,
    customer_features,
    engagement_counts,
    fit_bgnbd,
    orders_between,
    rfm_at,
)
from clientele.retention.settings import RetentionSettings
from clientele.retention.timing import (
    WINDOWS,
    BGNBDTiming,
    HazardTimingModel,
    KaplanMeierTiming,
    SecondPurchaseData,
    TimingModel,
    family_rebuy_stats,
    prepare_second_purchase_data,
)

__all__ = ["RetentionInputs", "RetentionSettings", "backtest", "score_customers",
           "score_second_purchase", "select_model"]

LOG = seam.get_logger("retention")
HORIZON = 90
AREA = "retention"
#: Markets with fewer evaluated clients get no row of their own.
MIN_MARKET = 50
#: Bootstrap resamples of the Brier and MAE intervals (AUC's is closed form).
RESAMPLES = 200
#: Evaluation names: the timing models and the customer-level models are distinct rows.
TIMING_NAMES = {"hazard_xgb": "second_purchase_hazard_xgb", "bgnbd": "second_purchase_bgnbd",
                "naive": "second_purchase_naive"}
CUSTOMER_NAMES = {"repeat_xgb": "repeat_xgb", "bgnbd": "repeat_bgnbd", "naive": "repeat_naive"}
SUPERVISED = ("second_purchase_hazard_xgb", "repeat_xgb")
FREQUENCY_BINS = ((0, 0, "0"), (1, 1, "1"), (2, 2, "2"), (3, 3, "3"), (4, 6, "4-6"),
                  (7, 10**9, "7+"))

#: int_retention__second_purchase_scores (read through the second_purchase_timing mart).
TIMING_SCHEMA = seam.fields(
    ("customer_id", pa.string()), ("market", pa.string()), ("first_order_date", pa.date32()),
    ("days_since_first_order", pa.int32()),
    *[(f"p_window_{lo}_{hi}", pa.float64()) for lo, hi in WINDOWS],
    ("p_later_or_never", pa.float64()), ("p_second_within_365d", pa.float64()),
    (f"p_second_next_{HORIZON}d", pa.float64()), ("best_window", pa.string()),
    ("best_window_start_date", pa.date32()), ("best_window_end_date", pa.date32()),
    ("best_window_probability", pa.float64()), ("model_name", pa.string()),
    ("notes", pa.string()), ("as_of_date", pa.date32()),
)
#: int_retention__customer_scores (read through the customer_predictions mart).
CUSTOMER_SCHEMA = seam.fields(
    ("customer_id", pa.string()), ("market", pa.string()), ("purchase_days", pa.int32()),
    ("frequency", pa.int32()), ("recency_days", pa.int32()), ("tenure_days", pa.int32()),
    ("days_since_last_order", pa.int32()), ("p_alive", pa.float64()),
    ("p_order_90d", pa.float64()), ("expected_orders_90d", pa.float64()),
    ("expected_orders_365d", pa.float64()), ("expected_next_order_date", pa.date32()),
    ("churn_probability", pa.float64()), ("expected_order_value", pa.float64()),
    ("predicted_value_365d", pa.float64()), ("bgnbd_p_order_90d", pa.float64()),
    ("supervised_p_order_90d", pa.float64()), ("selected_model", pa.string()),
    ("as_of_date", pa.date32()),
)


# --------------------------------------------------------------------------- training


@dataclass
class _TimingFit:
    """The timing models fitted at a date, and what scoring a batch at that date needs."""

    naive: KaplanMeierTiming
    hazard: HazardTimingModel | None
    reason: str
    family_stats: pd.DataFrame
    n_clients: int
    n_events: int

    @property
    def model(self) -> TimingModel:
        return self.hazard if self.hazard is not None else self.naive


def _timing_data(inputs: RetentionInputs, clients: str | None, buyers: str, date: pd.Timestamp,
                 family_stats: pd.DataFrame, training: bool, s: RetentionSettings
                 ) -> SecondPurchaseData:
    """Second-purchase data as of ``date`` of the ``buyers`` among ``clients``."""
    return prepare_second_purchase_data(
        read(inputs.first_purchases, clients, buyers),
        read(inputs.families, clients, "purchase_number = 1", bought_by(date)),
        read_table(inputs.engagement, clients, events_by(date),
                   columns=["customer_id", "event_date", "event_kind"]),
        date, seed=s.seed, family_stats=family_stats, training=training)


def _fit_timing(inputs: RetentionInputs, date: pd.Timestamp, s: RetentionSettings
                ) -> _TimingFit:
    """Hazard model on a sample of clients when there are enough second purchases, else
    the naive distribution (Kaplan-Meier, on the same clients)."""
    stats = family_rebuy_stats(inputs.families, date)
    clients = sample(inputs.first_purchases, s.max_training_clients, s.seed,
                     first_bought_by(date))
    data = _timing_data(inputs, clients, first_bought_by(date), date, stats, True, s)
    naive = KaplanMeierTiming().fit(data)
    n_clients, n_events = len(data.frame), naive.n_events_
    if clients is not None:
        LOG.info("second purchase timing: learning from a sample of %d clients", n_clients)
    if n_events < s.min_events:
        reason = (f"only {n_events} observed second purchases (< {s.min_events}): "
                  "hazard model not trained, naive distribution used")
        LOG.warning("second purchase timing: %s", reason)
        return _TimingFit(naive, None, reason, stats, n_clients, n_events)
    hazard = HazardTimingModel(n_estimators=s.trees, max_depth=s.tree_depth,
                               random_state=s.seed, max_rows=s.max_hazard_rows).fit(data)
    LOG.info("second purchase timing: hazard model on %d rows, %d events (periods without "
             "a second purchase kept at rate %.3f)", hazard.n_rows_, hazard.n_events_,
             hazard.negative_rate_)
    return _TimingFit(naive, hazard, "", stats, n_clients, n_events)


def _safe_bgnbd(rfm: pd.DataFrame) -> BetaGeoNBD | None:
    if rfm.empty:
        return None
    try:
        model = fit_bgnbd(rfm)
        LOG.info("BG/NBD on %d customers: %s", len(rfm),
                 {k: round(float(v), 4) for k, v in model.params_.items()})
        return model
    except (ValueError, RuntimeError) as err:
        LOG.warning("BG/NBD not fitted: %s", err)
        return None


def _rfm_sample(inputs: RetentionInputs, date: pd.Timestamp, s: RetentionSettings
                ) -> pd.DataFrame:
    """RFM at ``date`` of a sample of ``max_fit_clients`` buyers: what BG/NBD and
    Gamma-Gamma are fitted on."""
    clients = sample(inputs.purchases, s.max_fit_clients, s.seed, bought_by(date))
    rfm = rfm_at(read(inputs.purchases, clients, bought_by(date)), date)
    if clients is not None:
        LOG.info("BG/NBD and Gamma-Gamma: fitted on a sample of %d buyers", len(rfm))
    return rfm


def _fit_supervised(inputs: RetentionInputs, date: pd.Timestamp, s: RetentionSettings
                    ) -> tuple[RepeatPurchaseModel | None, str]:
    """Train on snapshots before ``date``: features at start, orders in (start, start + HORIZON].

    Snapshots start HORIZON days before ``date`` and step back ``snapshot_step_days``
    (``training_snapshots`` of them, while customers exist): more examples and more than
    one season, and every label window ends on or before ``date``. The clients are a
    seeded sample of ``max_training_clients``, so there are at most
    ``training_snapshots x max_training_clients`` customer-snapshots.
    """
    latest = date - pd.Timedelta(days=HORIZON)
    clients = sample(inputs.purchases, s.max_training_clients, s.seed, bought_by(latest))
    purchases = read(inputs.purchases, clients, bought_by(date))
    first_purchases = read(inputs.first_purchases, clients)
    events = read(inputs.engagement, clients, events_by(latest),
                  columns=["customer_id", "event_date", "event_kind"])
    frames, labels = [], []
    for k in range(s.training_snapshots):
        start = latest - pd.Timedelta(days=k * s.snapshot_step_days)
        rfm_start = rfm_at(purchases, start)
        if len(rfm_start) < 2:
            break
        y = orders_between(purchases, start, start + pd.Timedelta(days=HORIZON))
        feats = customer_features(rfm_start, first_purchases, engagement_counts(events, start),
                                  HORIZON, _safe_bgnbd(rfm_start))
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
    model = RepeatPurchaseModel(horizon=HORIZON, n_estimators=s.trees, max_depth=s.tree_depth,
                                random_state=s.seed).fit(pd.concat(frames, ignore_index=True),
                                                         y_all)
    LOG.info("supervised repeat model: %d customer-snapshots (%d snapshots%s), %d positives",
             model.n_train_, len(frames), ", sampled clients" if clients else "",
             model.n_positive_)
    return model, ""


# --------------------------------------------------------------------------- backtest


def _score_rows(rows: seam.EvaluationRows, name: str, y: np.ndarray, p: np.ndarray, k: int,
                segment: str, notes: str, seed: int, time: np.ndarray | None = None,
                event: np.ndarray | None = None, headline: bool = True) -> None:
    """AUC (DeLong interval) and Brier (bootstrap interval) of ``p`` against ``y``; for a
    headline segment also calibration in the large and concordance."""
    y = np.asarray(y, dtype=bool)
    p = np.asarray(p, dtype=float)
    common = dict(is_baseline=name not in SUPERVISED, k=k, segment=segment,
                  n_evaluated=len(y), notes=notes)
    value = metrics.auc(y, p)
    if np.isfinite(value):
        _, lower, upper = auc_ci(y, p)
        rows.add(name, "auc", value, ci=(lower, upper), **common)
    if not len(y):
        return
    brier, lower, upper = mean_ci((p - y) ** 2, n_resamples=RESAMPLES, seed=seed)
    rows.add(name, "brier", brier, ci=(lower, upper), **common)
    if not headline:
        return
    rows.add(name, "mean_predicted", float(np.mean(p)), **common)
    rate, lower, upper = proportion_ci(int(y.sum()), len(y))
    rows.add(name, "observed_rate", rate, ci=(lower, upper), **common)
    if time is not None and event is not None and event.any():
        c = metrics.concordance_index(time, event, p)
        if np.isfinite(c):
            rows.add(name, "concordance", c, **common)


def _markets(rows: seam.EvaluationRows, name: str, markets: np.ndarray, y: np.ndarray,
             p: np.ndarray, notes: str, seed: int) -> None:
    for market in pd.unique(markets):
        m = markets == market
        if m.sum() >= MIN_MARKET:
            _score_rows(rows, name, y[m], p[m], HORIZON, f"market={market}", notes, seed,
                        headline=False)


def _timing_backtest(rows: seam.EvaluationRows, inputs: RetentionInputs, cutoff: pd.Timestamp,
                     as_of: pd.Timestamp, bgnbd: BetaGeoNBD | None, s: RetentionSettings
                     ) -> None:
    fit = _fit_timing(inputs, cutoff, s)
    models: dict[str, TimingModel] = {"naive": fit.naive}
    note = {"naive": "overall distribution of time to second purchase (Kaplan-Meier per "
                     "period), conditional on days since the first order"}
    if fit.hazard is not None:
        models["hazard_xgb"] = fit.hazard
        note["hazard_xgb"] = ("discrete-time hazard, XGBoost; features: first basket, market, "
                              "profile, engagement")
    rows.add(TIMING_NAMES["hazard_xgb"], "n_training_events", float(fit.n_events),
             is_baseline=False, n_evaluated=fit.n_clients,
             notes=fit.reason or "second purchases observed in training periods")
    if bgnbd is not None:
        models["bgnbd"] = BGNBDTiming(bgnbd=bgnbd)
        note["bgnbd"] = "BG/NBD for one-time buyers (x = 0), fitted on every kind of customer at cutoff"
    one_time = one_time_at(cutoff)
    evaluated = sample(inputs.first_purchases, s.max_evaluation_clients, s.seed, one_time)
    windows = [*WINDOWS, (0, 90)]
    days = sorted({lo - 1 for lo, _ in windows} | {hi for _, hi in windows})
    got: dict[object, list[np.ndarray]] = defaultdict(list)
    for clients in batches(inputs.first_purchases, s.batch_clients, one_time, evaluated):
        data = _timing_data(inputs, clients, one_time, cutoff, fit.family_stats, False, s)
        f = data.frame
        got["elapsed"].append(f["elapsed"].to_numpy(float))
        got["true_day"].append((as_datetime(f["second_order_date"]) - f["first_order_date"])
                               .dt.days.to_numpy(float))
        got["market"].append(f["market"].astype(str).to_numpy())
        for name, model in models.items():
            got[name, "next"].append(model.probability_next(data, HORIZON))
            probs = model.window_probabilities(data)
            surv = {d: model.survival(data, d) for d in days}
            for lo, hi in windows:
                got[name, lo, hi].append(probs[f"p_{lo}_{hi}"].to_numpy() if (lo, hi) in WINDOWS
                                         else surv[lo - 1] - surv[hi])
    if not got:
        return
    col = {key: np.concatenate(parts) for key, parts in got.items()}
    e, true_day, markets = col["elapsed"], col["true_day"], col["market"]
    horizon_end = (as_of - cutoff).days
    # Headline: a second order in the HORIZON days after the cutoff, all one-time buyers.
    y = (true_day > e) & (true_day <= e + HORIZON)
    time = np.where(np.isnan(true_day), horizon_end, np.minimum(true_day - e, horizon_end))
    event = ~np.isnan(true_day) & (true_day - e <= horizon_end)
    scope = "" if evaluated is None else " (seeded sample)"
    for key in models:
        name = TIMING_NAMES[key]
        p = col[key, "next"]
        _score_rows(rows, name, y, p, HORIZON, "all",
                    note[key] + f"; one-time buyers at cutoff{scope}, second order in the "
                    f"next {HORIZON} days", s.seed, time, event)
        _markets(rows, name, markets, y, p, note[key], s.seed)
        # Time-dependent AUC per window since the first order, on the customers whose
        # window is still open at the cutoff and fully covered by the holdout.
        for lo, hi in windows:
            keep = (e < hi) & (e >= hi - horizon_end)
            if not keep.any():
                continue
            yw = (true_day >= lo) & (true_day <= hi)
            _score_rows(rows, name, yw[keep], col[key, lo, hi][keep], hi, f"window={lo}-{hi}",
                        note[key] + "; window still open at cutoff and covered by the "
                        "holdout", s.seed)


def _customer_backtest(rows: seam.EvaluationRows, inputs: RetentionInputs,
                       cutoff: pd.Timestamp, bgnbd: BetaGeoNBD | None, s: RetentionSettings
                       ) -> None:
    at_cutoff = bought_by(cutoff)
    end = cutoff + pd.Timedelta(days=HORIZON)
    naive_rate, naive_mean, n_before = activity_rates(
        inputs.purchases, cutoff - pd.Timedelta(days=HORIZON), cutoff)
    supervised, reason = _fit_supervised(inputs, cutoff, s)
    rows.add("repeat_xgb", "n_training_events",
             float(supervised.n_positive_) if supervised else 0.0, is_baseline=False,
             n_evaluated=supervised.n_train_ if supervised else 0,
             notes=reason or "customers who ordered in the training horizon")
    note = {
        "naive": "everyone gets the rate and mean orders of the previous horizon",
        "bgnbd": "BG/NBD fitted at cutoff (orders = purchase days)",
        "repeat_xgb": ("XGBoost trained on the previous horizon; features RFM, recent "
                       "orders, first basket, market, engagement, BG/NBD outputs"),
    }
    evaluated = sample(inputs.purchases, s.max_evaluation_clients, s.seed, at_cutoff)
    got: dict[object, list[np.ndarray]] = defaultdict(list)
    for clients in batches(inputs.purchases, s.batch_clients, at_cutoff, evaluated):
        purchases = read(inputs.purchases, clients, bought_by(end))
        rfm = rfm_at(purchases, cutoff)
        ids = rfm["customer_id"]
        first_purchases = read(inputs.first_purchases, clients)
        actual = orders_between(purchases, cutoff, end).reindex(ids).fillna(0).to_numpy(float)
        got["actual"].append(actual)
        got["frequency"].append(rfm["frequency"].to_numpy())
        after = purchases[as_datetime(purchases["order_date"]) > cutoff]
        first_after = as_datetime(after.groupby("customer_id")["order_date"].min())
        first_after = first_after.reindex(ids)
        got["time"].append(np.where(first_after.isna(), HORIZON + 1,
                                    (first_after - cutoff).dt.days))
        got["market"].append(rfm.merge(first_purchases[["customer_id", "market"]],
                                       on="customer_id", how="left")["market"]
                             .astype(str).to_numpy())
        if n_before:
            got["naive", "p"].append(np.full(len(rfm), naive_rate))
            got["naive", "expected"].append(np.full(len(rfm), naive_mean))
        if bgnbd is not None:
            bg = bgnbd_predictions(bgnbd, rfm, (HORIZON,))
            got["bgnbd", "p"].append(bg[f"p_order_{HORIZON}d"].to_numpy())
            got["bgnbd", "expected"].append(bg[f"expected_orders_{HORIZON}d"].to_numpy())
        if supervised is not None:
            feats = customer_features(rfm, first_purchases,
                                      engagement_counts(inputs.engagement, cutoff, clients),
                                      HORIZON, bgnbd)
            sp = supervised.predict(feats).set_index("customer_id").reindex(ids)
            got["repeat_xgb", "p"].append(sp[f"p_order_{HORIZON}d"].to_numpy())
            got["repeat_xgb", "expected"].append(sp[f"expected_orders_{HORIZON}d"].to_numpy())
    if not got:
        return
    col = {key: np.concatenate(parts) for key, parts in got.items()}
    actual, freq, markets = col["actual"], col["frequency"], col["market"]
    y = actual > 0
    scope = "" if evaluated is None else " (seeded sample)"
    for key in ("naive", "bgnbd", "repeat_xgb"):
        if (key, "p") not in col:
            continue
        name, p, expected = CUSTOMER_NAMES[key], col[key, "p"], col[key, "expected"]
        suffix = (f"; all customers with a purchase at cutoff{scope}, any order in the next "
                  f"{HORIZON} days")
        _score_rows(rows, name, y, p, HORIZON, "all", note[key] + suffix, s.seed, col["time"], y)
        mae, lower, upper = mean_ci(np.abs(expected - actual), n_resamples=RESAMPLES,
                                    seed=s.seed)
        rows.add(name, "mae_orders", mae, is_baseline=key != "repeat_xgb", k=HORIZON,
                 n_evaluated=len(actual), notes=note[key], ci=(lower, upper))
        for label, mask in (("one_time_buyers", freq == 0), ("repeat_buyers", freq > 0)):
            _score_rows(rows, name, y[mask], p[mask], HORIZON, f"customers={label}", note[key],
                        s.seed, headline=False)
        _markets(rows, name, markets, y, p, note[key], s.seed)
        cal = "calibration: mean orders in the holdout, customers binned by frequency"
        for lo, hi, label in FREQUENCY_BINS:
            m = (freq >= lo) & (freq <= hi)
            if m.any():
                for metric, values in (("calibration_predicted_orders", expected),
                                       ("calibration_actual_orders", actual)):
                    rows.add(name, metric, float(values[m].mean()),
                             is_baseline=key != "repeat_xgb", k=HORIZON,
                             segment=f"frequency={label}", n_evaluated=int(m.sum()), notes=cal)


def backtest(inputs: RetentionInputs, settings: RetentionSettings | None = None) -> pa.Table:
    """Cut the history ``holdout_days`` before as_of, fit on before, score after: the
    supervised models next to BG/NBD and the naive baselines, as model_evaluation rows."""
    s = settings or RetentionSettings()
    inputs = inputs.relations()
    as_of = inputs.as_of_date()
    cutoff = as_of - pd.Timedelta(days=max(s.holdout_days, HORIZON))
    LOG.info("retention backtest: cutoff %s, as_of %s", cutoff.date(), as_of.date())
    rows = seam.EvaluationRows(AREA, as_of_date=as_of, cutoff_date=cutoff)
    share, n_buyers = repeat_share(inputs.first_purchases)
    rows.add("repeat_naive", "repeat_buyer_share", share, is_baseline=True,
             n_evaluated=n_buyers, notes="share of buyers with a second purchase by as_of")
    bgnbd = _safe_bgnbd(_rfm_sample(inputs, cutoff, s))
    if bgnbd is not None:
        for k, v in bgnbd.params_.items():
            rows.add("repeat_bgnbd", f"param_{k}", v, is_baseline=True,
                     n_evaluated=bgnbd.n_customers_,
                     notes="BG/NBD parameter at cutoff, time in weeks")
    _timing_backtest(rows, inputs, cutoff, as_of, bgnbd, s)
    _customer_backtest(rows, inputs, cutoff, bgnbd, s)
    if share < 0.05:
        for row in rows.rows:
            row["notes"] = (row["notes"] or "") + (
                f" [only {share:.1%} of buyers bought twice: figures are weak]")
    LOG.info("retention backtest: %d evaluation rows", len(rows))
    return rows.to_table()


def select_model(evaluation: pd.DataFrame) -> str:
    """repeat_xgb if its 90-day Brier score beats BG/NBD's in the backtest, else bgnbd."""
    ev = evaluation[(evaluation["metric"] == "brier") & (evaluation["k"] == HORIZON)
                    & (evaluation["segment"] == "all")]
    scores = ev.set_index("model_name")["metric_value"]
    if "repeat_xgb" in scores and ("repeat_bgnbd" not in scores
                                   or scores["repeat_xgb"] < scores["repeat_bgnbd"]):
        return "repeat_xgb"
    return "bgnbd"


# --------------------------------------------------------------------------- scoring


def _timing_scores(model: TimingModel, data: SecondPurchaseData, as_of: pd.Timestamp,
                   reason: str) -> pd.DataFrame:
    """Window probabilities and the best contact window of a batch of one-time buyers."""
    f = data.frame
    out = pd.DataFrame({
        "customer_id": f["customer_id"].to_numpy(),
        "market": f["market"].astype(str).to_numpy(),
        "first_order_date": f["first_order_date"].dt.date.to_numpy(),
        "days_since_first_order": f["elapsed"].astype(int).to_numpy(),
    })
    probs = model.window_probabilities(data).reset_index(drop=True)
    e = f["elapsed"].to_numpy(float)
    intensity = np.zeros((len(f), len(WINDOWS)))
    for j, (lo, hi) in enumerate(WINDOWS):
        out[f"p_window_{lo}_{hi}"] = probs[f"p_{lo}_{hi}"].to_numpy()
        remaining = hi - np.maximum(lo, e + 1) + 1
        intensity[:, j] = np.where(remaining > 0, probs[f"p_{lo}_{hi}"] / np.maximum(remaining, 1),
                                   -1.0)
    out["p_later_or_never"] = probs["p_later_or_never"].to_numpy()
    out["p_second_within_365d"] = 1.0 - out["p_later_or_never"]
    out[f"p_second_next_{HORIZON}d"] = model.probability_next(data, HORIZON)
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


def score_second_purchase(inputs: RetentionInputs, settings: RetentionSettings | None = None
                          ) -> pa.RecordBatchReader:
    """Window probabilities and best contact window for every client with exactly one
    purchase at as_of, in batches of ``batch_clients`` (TIMING_SCHEMA)."""
    s = settings or RetentionSettings()
    inputs = inputs.relations()
    as_of = inputs.as_of_date()
    fit = _fit_timing(inputs, as_of, s)
    one_time = one_time_at(as_of)

    def parts():
        scored = 0
        for clients in batches(inputs.first_purchases, s.batch_clients, one_time):
            data = _timing_data(inputs, clients, one_time, as_of, fit.family_stats, False, s)
            scored += len(data.frame)
            yield _timing_scores(fit.model, data, as_of, fit.reason)
            LOG.info("second purchase timing: %d one-time buyers scored", scored)

    return seam.stream(TIMING_SCHEMA, parts())


@dataclass
class _CustomerModels:
    """What scoring a batch of buyers at as_of needs: the models fitted once."""

    as_of: pd.Timestamp
    bgnbd: BetaGeoNBD | None
    gamma_gamma: GammaGamma | None
    value_cap: float
    repeat_rate: float
    supervised: RepeatPurchaseModel | None


def _customer_scores(m: _CustomerModels, purchases: pd.DataFrame,
                     first_purchases: pd.DataFrame, engagement: pd.DataFrame | None
                     ) -> pd.DataFrame:
    """p_alive, expected orders, next order date, churn and value of a batch of buyers
    (``engagement``: their ``engagement_counts``, needed by the supervised model)."""
    as_of = m.as_of
    rfm = rfm_at(purchases, as_of)
    out = pd.DataFrame({
        "customer_id": rfm["customer_id"], "purchase_days": rfm["n_days"].astype(int),
        "frequency": rfm["frequency"].astype(int), "recency_days": rfm["recency"].astype(int),
        "tenure_days": rfm["T"].astype(int),
        "days_since_last_order": rfm["days_since_last"].astype(int),
    })
    out = out.merge(first_purchases[["customer_id", "market"]], on="customer_id", how="left")
    out["market"] = out["market"].fillna("unknown")
    if m.bgnbd is not None:
        bg = bgnbd_predictions(m.bgnbd, rfm, (90, 365))
        out["p_alive"] = bg["p_alive"].to_numpy()
        out["bgnbd_p_order_90d"] = bg["p_order_90d"].to_numpy()
        bg_expected_90 = bg["expected_orders_90d"].to_numpy()
        out["expected_orders_365d"] = bg["expected_orders_365d"].to_numpy()
        wait = bg["median_days_to_next"].to_numpy()
    else:
        # No BG/NBD (e.g. nobody bought twice): the overall repeat rate for everyone.
        out["p_alive"] = np.nan
        out["bgnbd_p_order_90d"] = np.nan
        bg_expected_90 = np.full(len(rfm), m.repeat_rate)
        out["expected_orders_365d"] = m.repeat_rate
        wait = np.full(len(rfm), np.nan)
    out["supervised_p_order_90d"] = np.nan
    if m.supervised is not None and engagement is not None:
        feats = customer_features(rfm, first_purchases, engagement, HORIZON, m.bgnbd)
        sp = m.supervised.predict(feats).set_index("customer_id").reindex(out["customer_id"])
        out["supervised_p_order_90d"] = sp["p_order_90d"].to_numpy()
        out["selected_model"] = "repeat_xgb"
        out["p_order_90d"] = out["supervised_p_order_90d"]
        out["expected_orders_90d"] = sp["expected_orders_90d"].to_numpy()
    else:
        out["selected_model"] = "bgnbd" if m.bgnbd is not None else "naive"
        out["p_order_90d"] = out["bgnbd_p_order_90d"].fillna(m.repeat_rate)
        out["expected_orders_90d"] = bg_expected_90
    out["churn_probability"] = 1.0 - out["p_order_90d"]
    # Next order: median wait while still active; none when beyond two years.
    ok = np.isfinite(wait) & (wait <= 730)
    next_date = as_of + pd.to_timedelta(np.where(ok, np.ceil(wait), 0), unit="D")
    out["expected_next_order_date"] = pd.Series(next_date.date).where(ok, None).to_numpy()
    value = np.minimum(rfm["mean_value"].to_numpy(float), m.value_cap)
    if m.gamma_gamma is not None:
        out["expected_order_value"] = m.gamma_gamma.conditional_expected_value(rfm["n_days"],
                                                                               value)
    else:
        out["expected_order_value"] = value
    out["predicted_value_365d"] = out["expected_orders_365d"] * out["expected_order_value"]
    out["as_of_date"] = as_of.date()
    return out


def _fit_customer_models(inputs: RetentionInputs, as_of: pd.Timestamp, selected: str,
                         s: RetentionSettings) -> _CustomerModels:
    rfm = _rfm_sample(inputs, as_of, s)
    bgnbd = _safe_bgnbd(rfm)
    repeat_rate = repeat_day_share(inputs.purchases, as_of)
    value = rfm["mean_value"].to_numpy(float)
    # Gamma-Gamma is pulled far by a few absurd baskets (the demo brand has orders of
    # 40,000 units that pass staging): cap mean order values at the 99.5th percentile.
    cap = float(np.nanquantile(value, 0.995)) if len(value) else np.inf
    try:
        gamma_gamma: GammaGamma | None = GammaGamma(penalizer=0.001).fit(
            rfm["n_days"], np.minimum(value, cap))
        LOG.info("Gamma-Gamma: %s", {k: round(float(v), 4)
                                     for k, v in gamma_gamma.params_.items()})
    except ValueError as err:
        LOG.warning("Gamma-Gamma not fitted (%s): observed mean order value used", err)
        gamma_gamma = None
    supervised = None
    if selected == "repeat_xgb":
        supervised, reason = _fit_supervised(inputs, as_of, s)
        if supervised is None:
            LOG.warning("customer predictions: falling back to BG/NBD (%s)", reason)
    return _CustomerModels(as_of, bgnbd, gamma_gamma, cap, repeat_rate, supervised)


def score_customers(inputs: RetentionInputs, evaluation: seam.Source,
                    settings: RetentionSettings | None = None) -> pa.RecordBatchReader:
    """p_alive, expected orders, next order date, churn and 365-day value for every buyer,
    in batches of ``batch_clients`` (CUSTOMER_SCHEMA).

    ``evaluation`` is the backtest's output: the model with the lower 90-day Brier score
    (``select_model``) drives the 90-day probability, expected orders and churn; expected
    orders over 365 days and the value come from BG/NBD + Gamma-Gamma, the only model
    that reaches a year ahead.
    """
    s = settings or RetentionSettings()
    inputs = inputs.relations()
    as_of = inputs.as_of_date()
    selected = select_model(seam.read_frame(evaluation))
    models = _fit_customer_models(inputs, as_of, selected, s)
    buyers = bought_by(as_of)

    def parts():
        scored = 0
        for clients in batches(inputs.purchases, s.batch_clients, buyers):
            engagement = (engagement_counts(inputs.engagement, as_of, clients)
                          if models.supervised is not None else None)
            out = _customer_scores(models, read(inputs.purchases, clients, buyers),
                                   read(inputs.first_purchases, clients), engagement)
            scored += len(out)
            yield out
            LOG.info("customer predictions: %d buyers scored", scored)

    return seam.stream(CUSTOMER_SCHEMA, parts())
