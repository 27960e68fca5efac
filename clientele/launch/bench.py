"""Timing of the appetence computation on synthetic arrays.

    python -m clientele.launch.bench --clients 1000000 --new-products 200

Builds a synthetic catalogue, a new collection and purchases, then times the
three steps: Gower product x new product, the clients x products matrix, and
the top-N new products per client (sparse x dense, in chunks). The issue's
target is 1M clients x 200 new products in <= 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd

from clientele.launch.appetence import AppetenceScorer, purchase_matrix
from clientele.launch.gower import GowerSimilarity

WEIGHTS = {
    "category": ("categorical", 3.0),
    "family": ("categorical", 2.0),
    "subfamily": ("categorical", 1.0),
    "color": ("categorical", 1.5),
    "material": ("categorical", 1.5),
    "gender_line": ("categorical", 1.0),
    "price_band": ("numeric", 1.5),
    "log_list_price": ("numeric", 1.0),
}


def synthetic_products(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """A catalogue with the attributes of seeds/launch_gower_weights.csv."""
    price = rng.lognormal(6.5, 1.0, n)
    return pd.DataFrame(
        {
            "category": rng.integers(0, 7, n).astype(str),
            "family": rng.integers(0, 40, n).astype(str),
            "subfamily": rng.integers(0, 120, n).astype(str),
            "color": rng.integers(0, 12, n).astype(str),
            "material": rng.integers(0, 10, n).astype(str),
            "gender_line": rng.integers(0, 3, n).astype(str),
            "price_band": pd.qcut(price, 5, labels=False) + 1,
            "log_list_price": np.log1p(price),
        }
    )


def run(
    clients: int, new_products: int, catalog: int, per_client: float, top_n: int, seed: int = 0
) -> dict[str, float]:
    """Seconds per step for one synthetic run."""
    rng = np.random.default_rng(seed)
    products = synthetic_products(catalog, rng)
    new = synthetic_products(new_products, rng)
    n_rows = int(clients * per_client)
    cust = rng.integers(0, clients, n_rows)
    prod = rng.integers(0, catalog, n_rows)
    weight = rng.random(n_rows)
    timings: dict[str, float] = {
        "clients": clients,
        "new_products": new_products,
        "catalog": catalog,
        "purchase_rows": n_rows,
    }
    t0 = time.perf_counter()
    sim = GowerSimilarity(WEIGHTS).fit(pd.concat([products, new])).transform(products, new)
    timings["gower_seconds"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    pm = purchase_matrix(cust, prod, weight, catalog)  # integer ids: factorised, not looped
    timings["matrix_seconds"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    AppetenceScorer(top_n=top_n).top_products(pm, sim)
    timings["top_n_seconds"] = time.perf_counter() - t0
    timings["total_seconds"] = (
        timings["gower_seconds"] + timings["matrix_seconds"] + timings["top_n_seconds"]
    )
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--new-products", type=int, default=200)
    parser.add_argument("--catalog", type=int, default=5_000)
    parser.add_argument("--purchases-per-client", type=float, default=5.0)
    parser.add_argument("--top-n", type=int, default=20)
    args = parser.parse_args(argv)
    print(
        json.dumps(
            run(
                args.clients, args.new_products, args.catalog, args.purchases_per_client, args.top_n
            ),
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
