"""What the demo-quality tests share: where the built demo warehouse and its latent truth
are, and how a missing one is reported. `make quality` names the warehouse
(CLIENTELE_DEMO_DB), and then a missing or unusable one is a failure; otherwise (a plain
`pytest` run) the quality tests are skipped. Defaults: warehouse/ci_demo.duckdb, written by
`make dbt-demo-ci`, and data/ci/demo/truth (CLIENTELE_DEMO_TRUTH)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

DB = Path(os.environ.get("CLIENTELE_DEMO_DB", "warehouse/ci_demo.duckdb"))
TRUTH = Path(os.environ.get("CLIENTELE_DEMO_TRUTH", "data/ci/demo/truth"))
REQUIRED = "CLIENTELE_DEMO_DB" in os.environ


def skip(reason: str) -> None:
    """Skip the test, or fail it when the warehouse was named explicitly."""
    if REQUIRED:
        pytest.fail(reason)
    pytest.skip(reason)


def area_evaluation(area: str) -> pd.DataFrame:
    """The area's model_evaluation rows of the demo warehouse (skip or fail without one)."""
    if not DB.exists():
        skip(f"no demo warehouse at {DB}")
    import duckdb

    with duckdb.connect(str(DB), read_only=True) as con:
        try:
            return con.sql(f"select * from model_evaluation where area = '{area}'").df()
        except duckdb.CatalogException:
            skip(f"{DB} has no model_evaluation")
    raise AssertionError("unreachable")


def require_truth() -> None:
    """Skip or fail when the demo brand's latent truth is not there."""
    if not (TRUTH / "customers_truth.parquet").exists():
        skip(f"no latent truth at {TRUTH} (not a demo brand, or set CLIENTELE_DEMO_TRUTH)")
