"""Bounded training samples drawn in DuckDB (clientele.seam): sample_rows takes the rows of
sample_keys' keys; sample_rows_per gives, in one pass, what sample_rows gives per group;
neither depends on row order, and below the cap they return every row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clientele import seam


def monthly_rows(seed: int = 0) -> pd.DataFrame:
    """Customers per month end: months of 40 to 3,000 customers, one row each."""
    rng = np.random.default_rng(seed)
    frames = []
    for month, size in zip(pd.date_range("2024-01-31", periods=6, freq="ME"),
                           [40, 3000, 700, 1500, 120, 2500], strict=True):
        ids = rng.choice(10_000, size, replace=False)
        frames.append(pd.DataFrame({
            "snapshot_date": month.date(), "customer_id": [f"c{i:05d}" for i in ids],
            "spend": rng.gamma(2.0, 50.0, size), "is_buyer": rng.random(size) < 0.9,
        }))
    return pd.concat(frames, ignore_index=True).sample(frac=1.0, random_state=seed,
                                                       ignore_index=True)


@pytest.mark.parametrize("margin", [1.1, 0.05])
def test_sample_rows_are_the_rows_of_the_sampled_keys(margin: float) -> None:
    """margin 0.05 keeps too few candidates at first: the redraw must still be exact."""
    rows = monthly_rows()
    one_month = rows.iloc[:0]
    month = rows[rows["snapshot_date"] == pd.Timestamp("2024-02-29").date()]
    sample = seam.sample_rows(month, "customer_id", 500, seed=7, columns=["customer_id", "spend"],
                              margin=margin)
    keys = seam.sample_keys(month, "customer_id", 500, seed=7)
    assert list(sample["customer_id"]) == list(keys["customer_id"])
    assert list(sample.columns) == ["customer_id", "spend"]
    spend = month.set_index("customer_id").loc[sample["customer_id"], "spend"].to_numpy()
    assert np.array_equal(sample["spend"].to_numpy(), spend)
    assert seam.sample_rows(one_month, "customer_id", 10, seed=7).empty


def test_below_the_cap_every_row_comes_back_in_key_order() -> None:
    rows = monthly_rows()
    everything = seam.sample_rows(rows, "customer_id", 10**6, seed=1,
                                  where="snapshot_date = date '2024-01-31'")
    first = rows[rows["snapshot_date"] == pd.Timestamp("2024-01-31").date()]
    assert list(everything["customer_id"]) == sorted(first["customer_id"])


@pytest.mark.parametrize(("n", "margin"), [(50, 1.1), (1000, 1.1), (5000, 1.1), (1000, 0.05)])
def test_sample_rows_per_group_equals_sample_rows_of_each_group(n: int, margin: float) -> None:
    """margin 0.05 keeps too few candidates at first: the redraw must still be exact."""
    rows = monthly_rows(seed=3)
    per = seam.sample_rows_per(rows, "customer_id", "snapshot_date", n, seed=11,
                               columns=["snapshot_date", "customer_id", "spend"],
                               where="is_buyer", margin=margin)
    assert list(per.columns) == ["snapshot_date", "customer_id", "spend"]
    months = sorted(rows["snapshot_date"].unique())
    got_months = [pd.Timestamp(m).date() for m in per["snapshot_date"].unique()]
    assert got_months == months
    for month, sample in per.groupby("snapshot_date", sort=True):
        date = pd.Timestamp(month).date()
        alone = seam.sample_rows(rows, "customer_id", n, seed=11,
                                 columns=["customer_id", "spend"],
                                 where=f"is_buyer and snapshot_date = date '{date}'")
        assert list(sample["customer_id"]) == list(alone["customer_id"])
        assert np.allclose(sample["spend"].to_numpy(), alone["spend"].to_numpy())


def test_samples_do_not_depend_on_row_order() -> None:
    rows = monthly_rows(seed=5)
    shuffled = rows.sample(frac=1.0, random_state=99, ignore_index=True)
    first = seam.sample_rows_per(rows, "customer_id", "snapshot_date", 300, seed=2)
    second = seam.sample_rows_per(shuffled, "customer_id", "snapshot_date", 300, seed=2)
    pd.testing.assert_frame_equal(first, second)
    other_seed = seam.sample_rows_per(rows, "customer_id", "snapshot_date", 300, seed=3)
    assert not first["customer_id"].equals(other_seed["customer_id"])


def test_sample_rows_per_samples_a_null_group_and_an_empty_input() -> None:
    rows = monthly_rows(seed=4)
    rows = rows[rows["snapshot_date"] == rows["snapshot_date"].max()].copy()  # one row a key
    rows["segment"] = np.where(rows["spend"] > 100, "high", None)
    assert rows["segment"].isna().sum() > 200 and rows["segment"].notna().sum() > 200
    per = seam.sample_rows_per(rows, "customer_id", "segment", 200, seed=5, margin=0.05)
    assert per["segment"].isna().sum() == 200 and (per["segment"] == "high").sum() == 200
    alone = seam.sample_rows(rows, "customer_id", 200, seed=5, where="segment is null")
    assert list(per.loc[per["segment"].isna(), "customer_id"]) == list(alone["customer_id"])
    assert seam.sample_rows_per(rows.iloc[:0], "customer_id", "segment", 10, seed=5).empty
