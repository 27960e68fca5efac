"""The demo brand: deterministic, on contract, realistic figures, and a truth worth finding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from clientele.contract import TABLES
from clientele.demo import FIGURE_RANGES, generate
from clientele.demo.badrows import BAD_ROW_KINDS

N_CUSTOMERS = 4_000


def _make(root: Path, seed: int, rate: float) -> dict[str, Any]:
    summary = generate(N_CUSTOMERS, seed, root / "raw", root / "truth", bad_row_rate=rate)
    return {"root": root, "summary": summary}


@pytest.fixture(scope="module")
def brands(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Four small brands: one, its twin, another seed, and one without bad rows."""
    base = tmp_path_factory.mktemp("demo")
    return {
        "a": _make(base / "a", 7, 0.01),
        "a2": _make(base / "a2", 7, 0.01),
        "b": _make(base / "b", 8, 0.01),
        "clean": _make(base / "clean", 7, 0.0),
    }


def _files(root: Path) -> list[Path]:
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


def _read(brand: dict[str, Any], table: str) -> pd.DataFrame:
    return pd.read_parquet(brand["root"] / "raw" / f"{table}.parquet")


def _truth(brand: dict[str, Any], table: str) -> pd.DataFrame:
    return pd.read_parquet(brand["root"] / "truth" / f"{table}.parquet")


def test_same_seed_gives_identical_bytes(brands: dict[str, dict[str, Any]]) -> None:
    a, a2 = brands["a"]["root"], brands["a2"]["root"]
    files = _files(a)
    assert files == _files(a2)
    assert any(f.suffix == ".parquet" for f in files)
    for f in files:
        assert (a / f).read_bytes() == (a2 / f).read_bytes(), f


def test_different_seed_differs(brands: dict[str, dict[str, Any]]) -> None:
    a, b = brands["a"]["root"], brands["b"]["root"]
    for name in ("raw/orders.parquet", "raw/customers.parquet", "truth/customers_truth.parquet"):
        assert (a / name).read_bytes() != (b / name).read_bytes(), name


def test_all_tables_on_contract(brands: dict[str, dict[str, Any]]) -> None:
    raw = brands["a"]["root"] / "raw"
    for table in TABLES:
        schema = pq.read_schema(raw / f"{table.name}.parquet").remove_metadata()
        assert schema.equals(table.schema), table.name
        assert pq.read_metadata(raw / f"{table.name}.parquet").num_rows > 0, table.name
    for name in ("customers_truth", "products_truth", "campaign_truth", "collections_truth"):
        assert (brands["a"]["root"] / "truth" / f"{name}.parquet").exists()


@pytest.mark.parametrize("figure", sorted(FIGURE_RANGES))
def test_figures_within_documented_ranges(brands: dict[str, dict[str, Any]], figure: str) -> None:
    lo, hi = FIGURE_RANGES[figure]
    for key in ("a", "b", "clean"):
        assert lo <= brands[key]["summary"][figure] <= hi, (key, figure)


def test_figures_match_the_data(brands: dict[str, dict[str, Any]]) -> None:
    brand = brands["clean"]
    orders = _read(brand, "orders")
    bought = orders[orders["status"] == "delivered"].groupby("customer_id").size()
    summary = brand["summary"]
    assert len(bought) == summary["buyers"]
    assert (bought > 1).sum() / len(bought) == pytest.approx(summary["repeat_rate"], abs=1e-4)
    assert orders["ordered_at"].max() < pd.Timestamp("2026-10-01")
    assert orders["ordered_at"].min() >= pd.Timestamp("2023-10-01")


def test_upcoming_collection_has_products_but_no_sales(brands: dict[str, dict[str, Any]]) -> None:
    brand = brands["a"]
    collections = _read(brand, "collections")
    products = _read(brand, "products")
    lines = _read(brand, "order_lines")
    orders = _read(brand, "orders")
    last_order = orders.loc[orders["ordered_at"] < pd.Timestamp("2027-01-01"), "ordered_at"].max()
    upcoming = collections[pd.to_datetime(collections["launch_date"]) > last_order]
    assert len(upcoming) == 1
    new_products = products.loc[
        products["collection_id"] == upcoming["collection_id"].iloc[0], "product_id"]
    assert len(new_products) >= 50
    assert not lines["product_id"].isin(new_products).any()
    # Every launched collection did sell.
    sold = set(products.loc[products["product_id"].isin(lines["product_id"]), "collection_id"])
    assert set(collections["collection_id"]) - sold == set(upcoming["collection_id"])


def test_campaign_conversion_peaks_at_mid_appetence(brands: dict[str, dict[str, Any]]) -> None:
    truth = pd.concat([_truth(brands[k], "campaign_truth") for k in ("a", "b")])
    early = truth[truth["early_adopter_propensity"] >= 0.5]
    low = early.loc[early["appetence"] < 0.25, "converted"].mean()
    mid = early.loc[early["appetence"].between(0.35, 0.65), "converted"].mean()
    high = early.loc[early["appetence"] > 0.75, "converted"].mean()
    assert mid > 2 * low and mid > 2 * high, (low, mid, high)
    # Advisors' contact works: contacted clients convert more than the control group.
    rate = truth.groupby("is_control")["converted"].mean()
    assert rate[False] > rate[True]


def test_converted_clients_bought_the_collection(brands: dict[str, dict[str, Any]]) -> None:
    # The clean brand: an injected bad line (e.g. 51,143 units) may name a collection item.
    brand = brands["clean"]
    contacts = _read(brand, "campaign_contacts")
    assert contacts.loc[contacts["is_control"], "contacted_at"].isna().all()
    assert contacts.loc[~contacts["is_control"], "contacted_at"].notna().all()
    lines = _read(brand, "order_lines").merge(_read(brand, "orders"), on="order_id")
    lines = lines.merge(_read(brand, "products")[["product_id", "collection_id"]], on="product_id")
    launch = _read(brand, "collections").set_index("collection_id")["launch_date"]
    bought = lines[(lines["quantity"] > 0) & lines["collection_id"].notna()].copy()
    bought["launch"] = pd.to_datetime(bought["collection_id"].map(launch))
    in_window = bought[(bought["ordered_at"] >= bought["launch"])
                       & (bought["ordered_at"] < bought["launch"] + pd.Timedelta(days=45))]
    pairs = set(zip(in_window["customer_id"], in_window["collection_id"], strict=True))
    has = [(c, k) in pairs for c, k in zip(contacts["customer_id"], contacts["collection_id"],
                                             strict=True)]
    assert contacts["converted"].sum() > 0
    assert (np.array(has) == contacts["converted"].to_numpy()).all()


def test_bad_rows_present_and_counted(brands: dict[str, dict[str, Any]]) -> None:
    brand = brands["a"]
    bad = brand["summary"]["bad_rows"]
    assert set(bad) == set(BAD_ROW_KINDS)
    assert all(v > 0 for v in bad.values()), bad
    orders = _read(brand, "orders")
    lines = _read(brand, "order_lines")
    customers = set(_read(brand, "customers")["customer_id"])
    products = set(_read(brand, "products")["product_id"])
    assert orders["customer_id"].isna().sum() == bad["orders_missing_customer"]
    known = orders["customer_id"].isna() | orders["customer_id"].isin(customers)
    assert (~known).sum() == bad["orders_unknown_customer"]
    assert orders["order_id"].duplicated().sum() == bad["orders_duplicate_order_id"]
    assert (orders["ordered_at"] > pd.Timestamp("2090-01-01")).sum() == bad["orders_future_date"]
    assert (~lines["product_id"].isin(products)).sum() == bad["order_lines_unknown_product"]
    assert (lines["unit_price"] <= 0).sum() == bad["order_lines_nonpositive_price"]
    absurd = (lines["quantity"] == 0) | (lines["quantity"] > 1000)
    assert absurd.sum() == bad["order_lines_bad_quantity"]
    assert lines.duplicated(["order_id", "line_number"]).sum() == bad["order_lines_duplicate_key"]
    scores = _read(brand, "reviews")["score"]
    assert (~scores.between(1, 5)).sum() == bad["reviews_score_out_of_range"]


def test_no_bad_rows_when_rate_is_zero(brands: dict[str, dict[str, Any]]) -> None:
    brand = brands["clean"]
    assert brand["summary"]["bad_rows_total"] == 0
    orders = _read(brand, "orders")
    lines = _read(brand, "order_lines")
    products = set(_read(brand, "products")["product_id"])
    customers = set(_read(brand, "customers")["customer_id"])
    assert orders["customer_id"].isin(customers).all()
    assert not orders["order_id"].duplicated().any()
    assert lines["product_id"].isin(products).all()
    assert not lines.duplicated(["order_id", "line_number"]).any()
    assert (lines["unit_price"] > 0).all() and (lines["discount"] >= 0).all()
    assert lines["quantity"].abs().between(1, 1000).all()
    assert _read(brand, "reviews")["score"].between(1, 5).all()
    web = _read(brand, "web_events")
    assert web["product_id"].isin(products).all() and web["customer_id"].isin(customers).all()
    assert _read(brand, "email_events")["customer_id"].isin(customers).all()


def test_returns_are_negative_and_later(brands: dict[str, dict[str, Any]]) -> None:
    brand = brands["clean"]
    orders = _read(brand, "orders")
    lines = _read(brand, "order_lines").merge(orders[["order_id", "status"]], on="order_id")
    returned = lines["status"] == "returned"
    assert returned.any()
    assert (lines.loc[returned, "quantity"] < 0).all()
    assert (lines.loc[~returned, "quantity"] > 0).all()
    assert (lines["line_number"] >= 1).all()
    online = orders[orders["channel"] == "online"]
    assert online["store_id"].isna().all()
    assert orders.loc[orders["channel"] == "store", "store_id"].notna().all()


def test_browsing_precedes_purchases(brands: dict[str, dict[str, Any]]) -> None:
    brand = brands["clean"]
    web = _read(brand, "web_events")
    lines = _read(brand, "order_lines").merge(_read(brand, "orders"), on="order_id")
    bought = lines[lines["quantity"] > 0][["customer_id", "product_id", "ordered_at"]]
    carts = web[web["event_type"] == "add_to_cart"].merge(bought, on=["customer_id", "product_id"])
    before = (carts["occurred_at"] <= carts["ordered_at"]) & (
        carts["occurred_at"] > carts["ordered_at"] - pd.Timedelta(days=7))
    # Most carted items were bought within a week.
    assert before.groupby(carts["customer_id"]).any().mean() > 0.8


def test_customers_and_truth_line_up(brands: dict[str, dict[str, Any]]) -> None:
    brand = brands["a"]
    customers = _read(brand, "customers")
    truth = _truth(brand, "customers_truth")
    assert list(customers["customer_id"]) == list(truth["customer_id"])
    assert customers["customer_id"].is_unique and len(customers) == N_CUSTOMERS
    online = customers["home_store_id"].isna()
    assert customers.loc[online, "advisor_id"].isna().all()
    assert customers.loc[~online, "advisor_id"].str.match(r"^ADV-S\d{2}-\d{3}$").all()
    assert 0.2 < customers["birth_year"].isna().mean() < 0.8
    assert 0.02 < truth["is_true_early_adopter"].mean() < 0.2
    products = _truth(brand, "products_truth")
    assert products["is_best_seller"].any() and products["next_product_id"].notna().mean() > 0.9


def test_one_campaign_per_past_launch_within_capacity(brands: dict[str, dict[str, Any]]) -> None:
    brand = brands["a"]
    contacts = _read(brand, "campaign_contacts")
    collections = _read(brand, "collections")
    past = collections[pd.to_datetime(collections["launch_date"]) < pd.Timestamp("2026-10-01")]
    assert set(contacts["campaign_id"]) == {f"CAMP-{c}" for c in past["collection_id"]}
    assert not contacts.duplicated(["campaign_id", "customer_id"]).any()
    stores = _read(brand, "stores").set_index("store_id")
    capacity = stores["advisor_count"] * stores["advisor_capacity"]
    home = _read(brand, "customers").set_index("customer_id")["home_store_id"]
    per_store = contacts.groupby(["campaign_id", contacts["customer_id"].map(home)]).size()
    assert per_store.notna().all()
    assert (per_store <= capacity.reindex(per_store.index.get_level_values(1)).to_numpy()).all()


def test_bench_measures_a_step_and_reads_dbt_results(tmp_path: Path) -> None:
    import json
    import sys

    from clientele import bench

    # A child that holds ~200 MB: its peak RSS must show, and its exit code be kept.
    step = bench.run_step(
        [sys.executable, "-c", "b = bytearray(200 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])"
         "; raise SystemExit(3)"],
        tmp_path / "step.log",
    )
    assert step["exit_code"] == 3 and not step["ok"]
    assert step["peak_rss_mb"] > 190
    target = tmp_path / "target"
    target.mkdir()
    results = [{"unique_id": f"model.x.m{i}", "status": "success", "execution_time": i / 10}
               for i in range(20)] + [{"unique_id": "test.x.t", "status": "fail",
                                      "execution_time": 0.1}]
    (target / "run_results.json").write_text(json.dumps({"results": results, "elapsed_time": 3}))
    timings = bench.model_timings(target)
    assert timings["statuses"] == {"fail": 1, "success": 20}
    assert len(timings["slowest"]) == bench.TOP_MODELS
    assert timings["slowest"][0] == {"node": "model.x.m19", "status": "success", "seconds": 1.9}
    assert bench.model_timings(tmp_path / "missing") == {"found": False}
    page = bench.to_markdown({
        "started": "now", "seed": 1, "machine": bench.machine_info(),
        "runs": [{"customers": 10, "generate": step, "build": {"ok": True, "dbt": timings}}],
    })
    assert "| 10 |" in page and "model.x.m19" in page


def test_bench_sums_the_process_tree_and_attributes_peaks_to_nodes(tmp_path: Path) -> None:
    import datetime
    import json
    import sys

    from clientele import bench

    # A parent holding ~150 MB waits for a child holding ~200 MB: one process never passes
    # ~200 MB, the tree does (the case of dbt running two Python models in one process
    # beside DuckDB is the same sum).
    hold = "b = bytearray({mb} * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); "
    child = hold.format(mb=200) + "import time; time.sleep(1.5)"
    parent = hold.format(mb=150) + (
        f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}])")
    step = bench.run_step([sys.executable, "-c", parent], tmp_path / "tree.log")
    assert step["ok"]
    # ru_maxrss is not asserted: Linux keeps the forking process's high-water mark across
    # exec, so under a large pytest process it says more about pytest than about the step.
    assert 330 < step["peak_tree_rss_mb"] < 330 + 400

    target = tmp_path / "target"
    target.mkdir()

    def timing(start: float, end: float) -> list[dict[str, str]]:
        iso = [datetime.datetime.fromtimestamp(t, datetime.UTC).isoformat() for t in (start, end)]
        return [{"name": "compile", "started_at": iso[0], "completed_at": iso[0]},
                {"name": "execute", "started_at": iso[0], "completed_at": iso[1]}]

    results = [
        {"unique_id": "model.x.small", "status": "success", "timing": timing(100, 110)},
        {"unique_id": "model.x.big", "status": "success", "timing": timing(105, 130)},
    ]
    (target / "run_results.json").write_text(json.dumps({"results": results}))
    samples = [(100.0, 500.0), (104.0, 700.0), (108.0, 3000.0), (120.0, 5000.0), (129.0, 800.0)]
    nodes = {n["node"]: n for n in bench.node_memory(target, samples)}
    assert nodes["model.x.big"]["peak_tree_rss_mb"] == 5000.0
    assert nodes["model.x.big"]["beside_at_peak"] == []
    assert nodes["model.x.small"]["peak_tree_rss_mb"] == 3000.0
    assert nodes["model.x.small"]["beside_at_peak"] == ["model.x.big"]
    assert nodes["model.x.big"]["rss_at_start_mb"] == 700.0


def test_clienteling_truth_shows_in_the_data(brands: dict[str, dict[str, Any]]) -> None:
    """Send times, store sensitivity and the contact effect are in the truth, within their
    documented ranges, and leave the traces the clienteling models learn from."""
    brand = brands["clean"]
    truth = _truth(brand, "customers_truth")
    assert truth["timing_responsiveness"].between(0, 1).all()
    assert truth["best_send_multiplier"].between(1.0, 4.0).all()
    assert 0.10 <= truth["is_store_sensitive"].mean() <= 0.30
    assert set(truth["upcoming_segment"]) == {"persuadable", "sure_thing", "lost_cause",
                                              "do_not_disturb"}
    # Newsletters and the Edit sent in the client's true best block are opened far more.
    events = _read(brand, "email_events")
    spread = events[events["campaign_id"].str.startswith(("EM-NL", "EM-EDIT"))]
    sends = spread[spread["event_type"] == "sent"].merge(
        truth[["customer_id", "best_send_block"]], on="customer_id")
    hour = sends["occurred_at"].dt.hour // 3 * 3
    block = (sends["occurred_at"].dt.strftime("%a") + " " + hour.map("{:02d}".format) + "-"
             + (hour + 3).map("{:02d}".format))
    opened = set(zip(*spread.loc[spread["event_type"] == "open",
                                 ["customer_id", "campaign_id"]].T.to_numpy(), strict=True))
    sends["opened"] = [(c, k) in opened for c, k in zip(sends["customer_id"],
                                                         sends["campaign_id"], strict=True)]
    in_best = sends.loc[block == sends["best_send_block"], "opened"].mean()
    assert in_best > 1.4 * sends["opened"].mean()
    # Store-sensitive store clients buy in store more.
    orders = _read(brand, "orders")
    share = orders[orders["status"] == "delivered"].groupby("customer_id")["channel"].apply(
        lambda c: (c == "store").mean()).rename("store_share").reset_index()
    share = share.merge(truth, on="customer_id")
    share = share[~share["is_online_only"]]
    by = share.groupby("is_store_sensitive")["store_share"].mean()
    assert by[True] > by[False] + 0.1
    # Each targeted client's outcome is the one its response type implies.
    campaign = _truth(brand, "campaign_truth")
    contacted = ~campaign["is_control"]
    buys = np.where(contacted, campaign["response_type"].isin(["sure_thing", "persuadable"]),
                    campaign["response_type"].isin(["sure_thing", "do_not_disturb"]))
    assert (buys == campaign["converted"]).all()
    rate = campaign.groupby("is_control")["converted"].mean()
    assert rate[False] > rate[True]
