"""The uplift wired into the launch pipeline, against known synthetic truth: scores and
segments for the upcoming launch, Qini/AUUC on held-out campaigns next to response
targeting and random, a clean empty output without campaigns; the priority's
calibration on past launches."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from clientele import seam
from clientele.launch import pipeline
from clientele.launch.policy import Policy, launch_percentile, priority_calibration
from clientele.launch.settings import LaunchSettings

SETTINGS = LaunchSettings(uplift_trees=80, rolling_holdouts=2)


def _uplift_inputs(n_per_launch: int = 2500, n_launches: int = 5, seed: int = 0
                   ) -> tuple[pd.DataFrame, np.ndarray]:
    """Past campaigns (80 % contacted) and an upcoming audience. Strong early adopters buy
    anyway (sure things); store-minded clients called by an advisor are persuaded; clients
    who never open e-mails are put off. Returns the inputs and the upcoming true uplift."""
    rng = np.random.default_rng(seed)
    frames, truth = [], None
    for k in range(n_launches + 1):
        n = n_per_launch
        x = {name: rng.random(n) for name in pipeline.UPLIFT_FEATURES}
        x["advisor_contact"] = (rng.random(n) < 0.6).astype(float)
        p0 = 0.03 + 0.6 * (x["early_adopter_score"] > 0.8)
        effect = (0.3 * x["advisor_contact"] * (x["store_order_share"] > 0.5)
                  * (x["early_adopter_score"] <= 0.8)
                  - 0.5 * p0 * (x["email_open_rate"] < 0.15))
        upcoming = k == n_launches
        contacted = np.ones(n, bool) if upcoming else rng.random(n) < 0.8
        y = rng.random(n) < np.where(contacted, p0 + effect, p0)
        frames.append(pd.DataFrame({
            "reference_collection_id": f"L{k}", "customer_id": [f"C{k}-{i:05d}" for i in range(n)],
            "launch_date": pd.Timestamp("2024-01-01") + pd.Timedelta(days=90 * k),
            "is_upcoming": upcoming, "is_contacted": contacted, "converted": y & ~upcoming, **x}))
        truth = effect
    return pd.concat(frames, ignore_index=True), truth


@pytest.fixture(scope="module")
def inputs() -> tuple[pd.DataFrame, np.ndarray]:
    return _uplift_inputs()


def _read(output: pa.Table | pa.RecordBatchReader) -> pd.DataFrame:
    table = output.read_all() if isinstance(output, pa.RecordBatchReader) else output
    return table.to_pandas()


def test_uplift_scores_every_upcoming_client_and_tracks_the_true_effect(inputs):
    frame, effect = inputs
    scores = _read(pipeline.uplift(frame, SETTINGS))
    upcoming = frame[frame["is_upcoming"]]
    assert list(scores["customer_id"]) == list(upcoming["customer_id"])
    assert np.corrcoef(scores["uplift_score"], effect)[0, 1] > 0.6
    assert set(scores["uplift_segment"]) <= {"persuadable", "sure_thing", "lost_cause",
                                             "do_not_disturb"}
    persuadable = scores["uplift_segment"].to_numpy() == "persuadable"
    assert effect[persuadable].mean() > effect[~persuadable].mean() + 0.1
    # Scored in batches of any size, the same scores.
    small = _read(pipeline.uplift(frame, LaunchSettings(uplift_trees=80, batch_rows=333)))
    pd.testing.assert_frame_equal(scores, small)


def test_uplift_beats_response_targeting_on_held_out_campaigns(inputs):
    frame, _ = inputs
    rows = seam.EvaluationRows("launch")
    pipeline._uplift_rows(rows, frame, pd.Series(dtype=object), SETTINGS)
    out = rows.to_frame()
    pooled = out[out["segment"].str.startswith("rolling=")].set_index(["model_name", "metric"])
    qini = pooled["metric_value"]
    assert qini[("uplift_xlearner", "qini")] > qini[("response_probability", "qini")]
    assert abs(qini[("random", "qini")]) < qini[("uplift_xlearner", "qini")]
    gain = pooled.loc[("uplift_xlearner", "qini_gain_vs_response")]
    assert gain["ci_lower"] > 0 and gain["ci_lower"] <= gain["metric_value"] <= gain["ci_upper"]
    assert pooled.loc[("uplift_xlearner", "slots_saved_per_100"), "metric_value"] > 0
    assert out["segment"].str.startswith("holdout=L4").any()


def test_without_campaigns_the_uplift_is_empty_and_typed(inputs, caplog):
    frame, _ = inputs
    upcoming_only = frame[frame["is_upcoming"]]
    out = pipeline.uplift(upcoming_only, SETTINGS)
    assert isinstance(out, pa.Table) and out.num_rows == 0
    assert out.schema == pipeline.UPLIFT_SCHEMA
    rows = seam.EvaluationRows("launch")
    pipeline._uplift_rows(rows, upcoming_only, pd.Series(dtype=object), SETTINGS)
    assert len(rows) == 0
    # A control group too small to learn from is refused with its reason.
    tiny = frame[frame["is_upcoming"] | frame["is_contacted"]
                 | (frame["customer_id"].str[-2:] == "00")]
    assert pipeline._why_no_uplift(tiny[~tiny["is_upcoming"]]) is not None
    assert _read(pipeline.uplift(tiny, SETTINGS)).empty


def test_launch_percentile_is_the_sql_macro_and_calibration_orders_conversion():
    values = np.array([3.0, 1.0, 1.0, 2.0, 5.0, 4.0])
    launch = np.array(["a", "a", "a", "a", "b", "b"])
    # (average rank - 0.5) / n: ties share their mid-rank.
    np.testing.assert_allclose(launch_percentile(values, launch),
                               [3.5 / 4, 1.0 / 4, 1.0 / 4, 2.5 / 4, 1.5 / 2, 0.5 / 2])
    rng = np.random.default_rng(3)
    n = 20_000
    frame = pd.DataFrame({"reference_collection_id": rng.choice(["x", "y"], n),
                          "lookalike_score": rng.random(n), "early_adopter_score": rng.random(n),
                          "appetence": rng.random(n)})
    frame["converted"] = rng.random(n) < 0.02 + 0.2 * frame["lookalike_score"] ** 2
    policy = Policy(1.0, 0.0, 0.0, -1.0, 0.0, 0.0)
    calibration = priority_calibration(frame, policy)
    assert list(calibration["band"]) == list(range(0, 100, 10))
    assert calibration["n_clients"].sum() == n
    assert calibration["conversion"].is_monotonic_increasing
    assert calibration["conversion"].iloc[0] < frame["converted"].mean() < \
        calibration["conversion"].iloc[-1]
