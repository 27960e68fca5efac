"""Second-purchase timing: censoring, probabilities that add up, learning from the basket."""

import numpy as np
import pandas as pd
import pytest

from clientele.retention import metrics
from clientele.retention.pipeline import (
    RetentionInputs,
    backtest,
    score_customers,
    score_second_purchase,
)
from clientele.retention.settings import RetentionSettings
from clientele.retention.timing import (
    BINS,
    HazardTimingModel,
    KaplanMeierTiming,
    family_rebuy_features,
    person_period,
    prepare_second_purchase_data,
)

START = pd.Timestamp("2022-01-01")
AS_OF = pd.Timestamp("2024-06-30")


def _brand(n: int = 3000, seed: int = 0, with_engagement: bool = True) -> RetentionInputs:
    """A synthetic brand where routine buyers (skincare) come back after ~45 days
    and engaged clients come back sooner; everybody else rarely does."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"C{i:05d}" for i in range(n)])
    first = START + pd.to_timedelta(rng.integers(0, (AS_OF - START).days, n), unit="D")
    routine = rng.random(n) < 0.4
    engaged = rng.random(n) < 0.3
    # Days to the second purchase: routine ~ N(45, 8), others exponential(400), engaged x0.5.
    gap = np.where(routine, rng.normal(45, 8, n), rng.exponential(400, n))
    gap = np.where(engaged, gap * 0.5, gap)
    gap = np.maximum(gap, 1).round()
    returns = rng.random(n) < np.where(routine, 0.9, 0.25)
    second = pd.Series(first + pd.to_timedelta(gap, unit="D")).where(returns)
    second = second.where(second <= AS_OF)
    family = np.where(routine, "skincare", np.where(rng.random(n) < 0.5, "bags", "shoes"))
    fp = pd.DataFrame({
        "customer_id": ids, "market": np.where(rng.random(n) < 0.5, "FR", "US"),
        "first_order_date": first, "second_order_date": second,
        "first_order_channel": "online", "first_order_value": rng.gamma(2, 100, n),
        "first_order_units": 1, "first_order_lines": 1, "first_order_discount_share": 0.0,
        "first_order_categories": 1, "first_order_price_band": 3.0,
        "first_order_top_category": np.where(routine, "beauty", "leather"),
        "first_order_lead_family": family,
        "first_order_review_score": np.nan, "first_order_late": np.nan, "age": np.nan,
        "gender": "F", "email_opt_in": True, "phone_opt_in": False, "has_home_store": False,
        "days_known_before_first_order": 0,
    })
    purchases = pd.concat([
        pd.DataFrame({"customer_id": ids, "order_id": [f"{i}-1" for i in ids],
                      "order_date": first, "purchase_number": 1, "order_value": 100.0}),
        pd.DataFrame({"customer_id": ids, "order_id": [f"{i}-2" for i in ids],
                      "order_date": second, "purchase_number": 2,
                      "order_value": 120.0}).dropna(subset=["order_date"]),
    ], ignore_index=True)
    families = purchases.assign(
        family=pd.Series(family, index=ids).reindex(purchases["customer_id"]).to_numpy())
    if with_engagement:
        idx = np.flatnonzero(engaged)
        engagement = pd.DataFrame({
            "customer_id": ids[idx],
            "event_date": first[idx] + pd.to_timedelta(rng.integers(1, 10, len(idx)), unit="D"),
            "event_kind": "email_click",
        })
    else:
        engagement = pd.DataFrame({"customer_id": pd.Series(dtype=str),
                                   "event_date": pd.Series(dtype="datetime64[ns]"),
                                   "event_kind": pd.Series(dtype=str)})
    return RetentionInputs(purchases, fp, families, engagement, AS_OF)


def test_person_period_only_counts_periods_the_follow_up_covers():
    inputs = _brand(400)
    data = prepare_second_purchase_data(inputs.first_purchases, inputs.families,
                                        inputs.engagement, pd.Timestamp("2023-01-01"))
    X, y, period, weight = person_period(data)
    fp = data.frame
    hi = np.array([BINS[j][1] for j in period])
    lo = np.array([BINS[j][0] for j in period])
    # Re-identify each row's customer through its period count: every row's period
    # must end on or before the customer's elapsed time, and start at or before the event.
    rows_per_customer = []
    for b_lo, b_hi in BINS:
        at_risk = fp["event_day"].isna() | (fp["event_day"] >= b_lo)
        rows_per_customer.append(int((at_risk & (fp["elapsed"] >= b_hi)).sum()))
    assert np.bincount(period, minlength=len(BINS)).tolist() == rows_per_customer
    assert (hi >= lo).all()
    # A client who bought 40 days ago never contributes to days 61-90.
    young = fp["elapsed"] < 60
    assert young.any()
    assert len(y) == len(X) and y.sum() > 0
    assert (weight == 1.0).all()


def test_lead_family_features_describe_the_line_the_client_came_for():
    day = pd.Timestamp("2023-01-01")
    families = pd.DataFrame({
        "customer_id": ["A", "A", "A", "B", "B", "C"],
        "order_date": [day, day, day + pd.Timedelta(days=50), day, day, day],
        "purchase_number": [1, 1, 2, 1, 1, 1],
        "family": ["skincare", "bags", "skincare", "skincare", "bags", "bags"],
    })
    lead = pd.DataFrame({"customer_id": ["A", "B", "C"],
                         "first_order_lead_family": ["skincare", "bags", None]})
    out = family_rebuy_features(families, lead, day + pd.Timedelta(days=60)).set_index("customer_id")
    # Both baskets hold skincare (rebought by A) and bags: same basket maximum, but
    # only A's lead line is the routine family; C has no lead line.
    assert out.loc["A", "basket_family_rebuy_rate"] == out.loc["B", "basket_family_rebuy_rate"]
    assert out.loc["A", "lead_family_rebuy_rate"] > out.loc["B", "lead_family_rebuy_rate"]
    assert out.loc["A", "lead_family_rebuy_days"] == 50
    assert np.isnan(out.loc["C", "lead_family_rebuy_rate"])
    # Purchases after the cutoff are not known: nobody has rebought yet.
    early = family_rebuy_features(families, lead, day).set_index("customer_id")
    assert early.loc["A", "lead_family_rebuy_rate"] == early.loc["B", "lead_family_rebuy_rate"]


def test_window_probabilities_add_up_and_respect_elapsed_time():
    inputs = _brand(1500)
    data = prepare_second_purchase_data(inputs.first_purchases, inputs.families,
                                        inputs.engagement, AS_OF)
    model = HazardTimingModel(n_estimators=60).fit(data)
    probs = model.window_probabilities(data)
    assert np.allclose(probs.sum(axis=1), 1.0)
    e = data.frame["elapsed"].to_numpy()
    assert (probs.loc[e >= 30, "p_0_30"] == 0).all()
    assert (probs.loc[e >= 365].drop(columns="p_later_or_never").to_numpy() == 0).all()


def test_hazard_model_beats_the_overall_distribution_on_a_backtest():
    inputs = _brand(3000)
    cutoff = AS_OF - pd.Timedelta(days=120)
    data = prepare_second_purchase_data(inputs.first_purchases, inputs.families,
                                        inputs.engagement, cutoff)
    hazard = HazardTimingModel(n_estimators=80).fit(data)
    naive = KaplanMeierTiming().fit(data)
    one_time = data.frame["event_day"].isna().to_numpy()
    sub = prepare_second_purchase_data(
        inputs.first_purchases[inputs.first_purchases["customer_id"].isin(
            data.frame.loc[one_time, "customer_id"])],
        inputs.families, inputs.engagement, cutoff)
    sub.frame["event_day"] = np.nan
    second = pd.to_datetime(sub.frame["second_order_date"])
    y = ((second > cutoff) & (second <= cutoff + pd.Timedelta(days=90))).to_numpy()
    p_h, p_n = hazard.probability_next(sub, 90), naive.probability_next(sub, 90)
    # Days since the first order already rank well; knowing the basket is routine
    # sharpens the probabilities: a better ranking and a much lower Brier score.
    assert metrics.auc(y, p_h) > metrics.auc(y, p_n)
    assert metrics.brier(y, p_h) < 0.75 * metrics.brier(y, p_n)


def test_pipeline_runs_without_engagement_and_with_few_repeat_buyers():
    inputs = _brand(600, with_engagement=False)
    # Keep only a handful of second purchases: the supervised models must step aside.
    fp = inputs.first_purchases.copy()
    keep = fp["second_order_date"].notna().cumsum() <= 20
    fp["second_order_date"] = fp["second_order_date"].where(keep)
    purchases = inputs.purchases[(inputs.purchases["purchase_number"] == 1)
                                 | inputs.purchases["customer_id"].isin(
                                     fp.loc[fp["second_order_date"].notna(), "customer_id"])]
    few = RetentionInputs(purchases, fp, inputs.families, inputs.engagement, AS_OF)
    settings = RetentionSettings(min_events=100, trees=20)
    timing = score_second_purchase(few, settings).read_all().to_pandas()
    assert (timing["model_name"] == "naive").all()
    assert timing["notes"].str.contains("naive distribution").all()
    evaluation = backtest(few, settings).to_pandas()
    assert not evaluation.empty
    assert "second_purchase_hazard_xgb" not in set(
        evaluation.loc[evaluation["metric"] == "auc", "model_name"])
    # The backtest said repeat_xgb wins; it cannot be trained, so MBG/NBD stands in.
    said = pd.DataFrame({"model_name": ["repeat_xgb", "repeat_bgnbd"], "metric": "brier",
                         "k": 90, "segment": "all", "metric_value": [0.1, 0.2]})
    customers = score_customers(few, said, settings).read_all().to_pandas()
    assert (customers["selected_model"] == "mbgnbd").all()
    assert (customers["lifetime_model"] == "mbgnbd").all()
    assert len(customers) == fp["customer_id"].nunique()
    assert customers["p_order_90d"].between(0, 1).all()


def test_concordance_index_matches_pairwise_definition():
    rng = np.random.default_rng(0)
    t = rng.integers(0, 20, 200).astype(float)
    e = rng.random(200) < 0.6
    r = rng.random(200)
    num = den = 0.0
    for i in range(200):
        if not e[i]:
            continue
        for j in range(200):
            if t[j] > t[i]:
                den += 1
                num += 1.0 if r[i] > r[j] else 0.5 if r[i] == r[j] else 0.0
    assert metrics.concordance_index(t, e, r) == pytest.approx(num / den)


def test_contact_decision_has_real_probabilities_and_no_sentinel_dates():
    inputs = _brand(3000, seed=4)
    settings = RetentionSettings(trees=40, min_window_probability=0.05)
    timing = score_second_purchase(inputs, settings).read_all().to_pandas()
    windows = [c for c in timing.columns if c.startswith("p_window_")]
    assert np.allclose(timing[windows].sum(axis=1) + timing["p_later_or_never"], 1.0)
    assert (timing["contact_score"] == timing["p_second_next_90d"]).all()
    assert (timing["p_second_next_365d"] >= timing["p_second_next_90d"] - 1e-12).all()
    not_now = timing["contact_decision"] == "not worth contacting now"
    # Not worth contacting: no window, no dates, no probability standing in for one.
    assert timing.loc[not_now, ["best_window", "best_window_start_date",
                                "best_window_end_date"]].isna().all().all()
    assert timing.loc[not_now, "best_window_probability"].isna().all()
    assert (timing.loc[not_now, "windows_worth_contacting"] == 0).all()
    # Worth contacting: a window still ahead or open, that reaches the threshold.
    worth = timing[~not_now]
    assert len(worth) and not_now.any()
    assert (worth["best_window_probability"] >= 0.05).all()
    start = pd.to_datetime(worth["best_window_start_date"])
    end = pd.to_datetime(worth["best_window_end_date"])
    assert (start > AS_OF).all() and (start <= end).all()
    now = worth["contact_decision"] == "contact now"
    assert (start[now] == AS_OF + pd.Timedelta(days=1)).all()
    assert (start[~now] > AS_OF + pd.Timedelta(days=1)).all()
    # Past the last window (365 days) the only candidate is the next 90 days, with the
    # real chance of a second order in them (not a "later" window of probability 1).
    old = timing["days_since_first_order"] >= 365
    assert old.any()
    assert (timing.loc[old & ~not_now, "best_window"] == "366+").all()
    assert (timing.loc[old & ~not_now, "best_window_probability"]
            == timing.loc[old & ~not_now, "contact_score"]).all()
    assert (not_now[old] == (timing.loc[old, "contact_score"] < 0.05)).all()
    assert timing.loc[old, "p_later_or_never"].eq(1).all()
    second = inputs.first_purchases.set_index("customer_id")["second_order_date"]
    assert second.reindex(timing["customer_id"]).isna().all()  # one-time buyers only
    # A stricter threshold leaves fewer clients to contact, never more.
    strict = score_second_purchase(inputs, RetentionSettings(
        trees=40, min_window_probability=0.3)).read_all().to_pandas()
    assert (strict["contact_decision"] != "not worth contacting now").sum() < len(worth)


def test_customer_predictions_let_one_time_buyers_lapse_and_date_the_next_order():
    inputs = _brand(3000, seed=5)
    settings = RetentionSettings(trees=40)
    evaluation = backtest(inputs, settings)
    customers = score_customers(inputs, evaluation, settings).read_all().to_pandas()
    assert (customers["lifetime_model"] == "mbgnbd").all()
    one_time = customers[customers["frequency"] == 0]
    # MBG/NBD: one-time buyers silent for long are less likely alive; BG/NBD says 1.
    assert (one_time["bgnbd_p_alive"] == 1).all()
    assert one_time["p_alive"].max() < 1
    rho = one_time[["p_alive", "tenure_days"]].corr(method="spearman").iloc[0, 1]
    assert rho < -0.9
    assert np.allclose(customers["churn_probability"], 1 - customers["p_order_365d"])
    # A next-order date exactly outside the high churn band, within the year.
    dated = customers["expected_next_order_date"].notna()
    assert dated.any() and (~dated).any()
    assert (dated == (customers["churn_probability"] <= settings.churn_high_above)).all()
    assert (customers.loc[dated, "next_order_outlook"] == "expected by date").all()
    assert (customers.loc[~dated, "next_order_outlook"] == "unlikely within a year").all()
    days = (pd.to_datetime(customers.loc[dated, "expected_next_order_date"]) - AS_OF).dt.days
    assert days.between(1, 365).all()
    # The value comes from Gamma-Gamma on repeat buyers: one-time buyers get its mean.
    assert one_time["expected_order_value"].nunique() == 1
