"""The brand's fixed world: markets, stores, collections, products and their latent truth.

Everything here is small (a few thousand products) and built once per seed,
before any customer exists. Customers and orders are generated in chunks
against this catalog (see `clientele.demo.customers`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from clientele.demo.sampler import (
    KIND_BAND,
    KIND_COLOR,
    KIND_MATERIAL,
    KIND_NONE,
    GroupSampler,
    group_key,
)

# --- Time: fixed, never today's date, so that the same seed gives the same brand. ---
HISTORY_START = dt.date(2023, 10, 1)
HISTORY_END = dt.date(2026, 9, 30)  # last day with orders; everything happens before it ends
END_T = float((HISTORY_END - HISTORY_START).days + 1)  # in days since HISTORY_START
LAUNCH_WINDOW_DAYS = 45  # launch campaigns' window; regular sales of a collection start after it
SALE_LIFE_DAYS = 365  # a collection sells for a year after its launch window, then is withdrawn
MARKDOWN_AFTER_DAYS = 150  # end-of-season sales on collection items after ~5 months


def day_of(d: dt.date) -> float:
    """Days since HISTORY_START, the generator's internal clock."""
    return float((d - HISTORY_START).days)


# --- Markets and stores. ---
MARKETS: tuple[str, ...] = ("FR", "IT", "DE", "UK", "US", "JP")
MARKET_WEIGHTS = np.array([0.20, 0.12, 0.11, 0.14, 0.27, 0.16])
MARKET_CITIES: dict[str, tuple[str, ...]] = {
    "FR": ("Paris", "Lyon", "Nice", "Bordeaux", "Lille"),
    "IT": ("Milan", "Rome", "Florence", "Naples", "Turin"),
    "DE": ("Berlin", "Munich", "Hamburg", "Frankfurt", "Cologne"),
    "UK": ("London", "Manchester", "Edinburgh", "Birmingham", "Leeds"),
    "US": ("New York", "Los Angeles", "Miami", "Chicago", "San Francisco"),
    "JP": ("Tokyo", "Osaka", "Kyoto", "Nagoya", "Fukuoka"),
}
# (country, city, street, size): size scales advisors, traffic and stock.
STORES: tuple[tuple[str, str, str, float], ...] = (
    ("FR", "Paris", "Saint-Honore", 2.0),
    ("FR", "Paris", "Avenue Montaigne", 1.6),
    ("FR", "Lyon", "Rue du President Carnot", 0.7),
    ("FR", "Nice", "Avenue de Verdun", 0.6),
    ("IT", "Milan", "Via Montenapoleone", 1.5),
    ("IT", "Rome", "Via Condotti", 1.2),
    ("IT", "Florence", "Via de' Tornabuoni", 0.6),
    ("DE", "Berlin", "Kurfuerstendamm", 1.0),
    ("DE", "Munich", "Maximilianstrasse", 1.0),
    ("UK", "London", "New Bond Street", 1.8),
    ("UK", "London", "Sloane Street", 1.1),
    ("UK", "Manchester", "King Street", 0.6),
    ("US", "New York", "Fifth Avenue", 2.0),
    ("US", "New York", "Madison Avenue", 1.2),
    ("US", "Los Angeles", "Rodeo Drive", 1.4),
    ("US", "Miami", "Design District", 0.8),
    ("US", "Chicago", "Michigan Avenue", 0.7),
    ("JP", "Tokyo", "Ginza", 1.8),
    ("JP", "Tokyo", "Omotesando", 1.1),
    ("JP", "Osaka", "Shinsaibashi", 0.8),
)

P_ONLINE_ONLY = 0.35  # clients with no home store nor advisor
CLIENTS_PER_ADVISOR = 450  # portfolio of one sales advisor

# --- Merchandise hierarchy. ---
CATEGORIES: tuple[str, ...] = (
    "bags", "ready-to-wear", "shoes", "accessories", "jewellery", "beauty", "fragrance",
)
# Cost of goods as a share of the list price: beauty and fragrance carry the best margins.
COST_RATIO = {
    "bags": 0.28, "ready-to-wear": 0.38, "shoes": 0.34, "accessories": 0.30,
    "jewellery": 0.42, "beauty": 0.18, "fragrance": 0.20,
}
RETURN_RATE = {
    "bags": 0.02, "ready-to-wear": 0.07, "shoes": 0.06, "accessories": 0.02,
    "jewellery": 0.03, "beauty": 0.01, "fragrance": 0.01,
}
COLORS: tuple[str, ...] = (
    "black", "white", "beige", "brown", "navy", "red", "green", "pink", "grey", "gold", "clear",
)
MATERIALS: tuple[str, ...] = (
    "leather", "canvas", "exotic leather", "nylon", "suede", "cotton", "silk", "wool",
    "cashmere", "denim", "acetate", "metal", "gold", "silver", "cosmetic", "glass",
)
PRICE_BANDS: tuple[str, ...] = ("entry", "core", "premium", "high")
BAND_EDGES = np.array([500.0, 1500.0, 4000.0])  # list_price thresholds between bands


@dataclass(frozen=True)
class Family:
    name: str
    category: str
    subfamilies: tuple[str, ...]
    base_price: float
    materials: tuple[str, ...]
    gender: tuple[float, float, float]  # shares of women, men, unisex lines
    replenishable: bool = False
    permanent: int = 20  # products in the permanent line


FAMILIES: tuple[Family, ...] = (
    Family("handbags", "bags", ("tote", "shoulder bag", "crossbody", "top handle"), 2900,
           ("leather", "canvas", "exotic leather"), (0.9, 0.02, 0.08), permanent=45),
    Family("small leather goods", "bags", ("wallet", "card holder", "key pouch"), 520,
           ("leather", "canvas"), (0.45, 0.3, 0.25), permanent=40),
    Family("travel", "bags", ("duffle", "backpack", "suitcase"), 2400,
           ("canvas", "leather", "nylon"), (0.2, 0.4, 0.4), permanent=15),
    Family("tops", "ready-to-wear", ("t-shirt", "shirt", "jersey", "polo"), 620,
           ("cotton", "silk", "wool", "cashmere"), (0.5, 0.45, 0.05), permanent=30),
    Family("bottoms", "ready-to-wear", ("trousers", "shorts", "skirt", "jeans"), 780,
           ("cotton", "wool", "denim", "silk"), (0.55, 0.45, 0.0), permanent=25),
    Family("outerwear", "ready-to-wear", ("coat", "jacket", "trench", "down jacket"), 2800,
           ("wool", "cashmere", "leather", "nylon", "cotton"), (0.5, 0.45, 0.05), permanent=15),
    Family("dresses", "ready-to-wear", ("day dress", "evening dress"), 2100,
           ("silk", "cotton", "wool"), (1.0, 0.0, 0.0), permanent=10),
    Family("sneakers", "shoes", ("low-top", "high-top", "runner"), 820,
           ("leather", "canvas", "suede", "nylon"), (0.45, 0.45, 0.1), permanent=20),
    Family("boots", "shoes", ("ankle boot", "knee boot", "chelsea boot"), 1350,
           ("leather", "suede"), (0.65, 0.35, 0.0), permanent=10),
    Family("formal shoes", "shoes", ("loafer", "pump", "derby"), 920,
           ("leather", "suede"), (0.55, 0.45, 0.0), permanent=15),
    Family("sandals", "shoes", ("slide", "sandal", "espadrille"), 690,
           ("leather", "canvas"), (0.6, 0.3, 0.1), permanent=10),
    Family("scarves", "accessories", ("silk square", "stole", "twilly"), 430,
           ("silk", "cashmere", "wool"), (0.6, 0.1, 0.3), permanent=25),
    Family("belts", "accessories", ("reversible belt", "leather belt"), 560,
           ("leather",), (0.3, 0.5, 0.2), permanent=15),
    Family("eyewear", "accessories", ("sunglasses", "optical frame"), 470,
           ("acetate", "metal"), (0.4, 0.3, 0.3), permanent=15),
    Family("hats", "accessories", ("cap", "bucket hat", "beanie"), 390,
           ("cotton", "wool", "cashmere"), (0.3, 0.3, 0.4), permanent=10),
    Family("rings", "jewellery", ("band ring", "signet ring", "cocktail ring"), 1600,
           ("gold", "silver", "metal"), (0.6, 0.15, 0.25), permanent=20),
    Family("necklaces", "jewellery", ("pendant", "chain", "choker"), 1900,
           ("gold", "silver", "metal"), (0.8, 0.05, 0.15), permanent=20),
    Family("bracelets", "jewellery", ("bangle", "cuff", "chain bracelet"), 1500,
           ("gold", "silver", "metal", "leather"), (0.55, 0.15, 0.3), permanent=20),
    Family("earrings", "jewellery", ("studs", "hoops", "drops"), 1200,
           ("gold", "silver", "metal"), (1.0, 0.0, 0.0), permanent=15),
    Family("skincare", "beauty", ("cream", "serum", "cleanser", "eye contour"), 130,
           ("cosmetic",), (0.6, 0.1, 0.3), replenishable=True, permanent=50),
    Family("makeup", "beauty", ("lipstick", "foundation", "mascara", "powder"), 58,
           ("cosmetic",), (0.95, 0.0, 0.05), replenishable=True, permanent=70),
    Family("perfume", "fragrance", ("eau de parfum", "eau de toilette", "extrait"), 185,
           ("glass",), (0.45, 0.35, 0.2), replenishable=True, permanent=50),
    Family("home fragrance", "fragrance", ("candle", "diffuser", "refill"), 110,
           ("glass",), (0.0, 0.0, 1.0), replenishable=True, permanent=20),
    Family("bath and body", "fragrance", ("body lotion", "shower gel", "hand cream"), 72,
           ("cosmetic",), (0.5, 0.2, 0.3), replenishable=True, permanent=20),
)
FAMILY_NAMES = tuple(f.name for f in FAMILIES)
FAM = {name: i for i, name in enumerate(FAMILY_NAMES)}
N_FAMILIES = len(FAMILIES)
ANY_FAMILY = 63  # group-key value meaning "every family"
REPLENISHABLE = np.array([f.replenishable for f in FAMILIES])
FAMILY_CATEGORY = np.array([CATEGORIES.index(f.category) for f in FAMILIES])

# What a client buys next, given what they bought last (the sequence structure the
# recommendation models should recover): a jersey leads to shorts, then to shoes.
NEXT_FAMILY: dict[str, tuple[tuple[str, float], ...]] = {
    "handbags": (("small leather goods", 0.35), ("scarves", 0.2), ("formal shoes", 0.15)),
    "small leather goods": (("handbags", 0.35), ("belts", 0.2), ("travel", 0.1)),
    "travel": (("small leather goods", 0.3), ("sneakers", 0.2), ("outerwear", 0.15)),
    "tops": (("bottoms", 0.45), ("sneakers", 0.15), ("outerwear", 0.1)),
    "bottoms": (("sneakers", 0.35), ("formal shoes", 0.15), ("tops", 0.15)),
    "outerwear": (("scarves", 0.3), ("boots", 0.25), ("hats", 0.1)),
    "dresses": (("formal shoes", 0.3), ("earrings", 0.2), ("handbags", 0.15)),
    "sneakers": (("tops", 0.3), ("hats", 0.15), ("bottoms", 0.15)),
    "boots": (("outerwear", 0.3), ("bottoms", 0.2), ("belts", 0.1)),
    "formal shoes": (("handbags", 0.25), ("belts", 0.2), ("dresses", 0.15)),
    "sandals": (("dresses", 0.25), ("eyewear", 0.25), ("hats", 0.1)),
    "scarves": (("handbags", 0.25), ("outerwear", 0.2), ("rings", 0.1)),
    "belts": (("bottoms", 0.3), ("small leather goods", 0.2), ("formal shoes", 0.15)),
    "eyewear": (("sandals", 0.25), ("hats", 0.2), ("perfume", 0.1)),
    "hats": (("scarves", 0.25), ("sneakers", 0.2), ("eyewear", 0.15)),
    "rings": (("bracelets", 0.35), ("earrings", 0.2), ("necklaces", 0.15)),
    "necklaces": (("earrings", 0.35), ("rings", 0.2), ("dresses", 0.1)),
    "bracelets": (("rings", 0.3), ("necklaces", 0.25), ("small leather goods", 0.1)),
    "earrings": (("necklaces", 0.35), ("rings", 0.2), ("perfume", 0.1)),
    "skincare": (("makeup", 0.35), ("skincare", 0.3), ("perfume", 0.1)),
    "makeup": (("skincare", 0.35), ("makeup", 0.3), ("perfume", 0.1)),
    "perfume": (("bath and body", 0.3), ("home fragrance", 0.2), ("perfume", 0.2)),
    "home fragrance": (("perfume", 0.3), ("home fragrance", 0.3), ("bath and body", 0.1)),
    "bath and body": (("perfume", 0.3), ("skincare", 0.25), ("bath and body", 0.2)),
}
# What goes in the same basket as a family (market-basket structure).
BASKET_FAMILY: dict[str, tuple[tuple[str, float], ...]] = {
    "handbags": (("small leather goods", 0.5), ("scarves", 0.3)),
    "small leather goods": (("belts", 0.4), ("handbags", 0.3)),
    "travel": (("small leather goods", 0.6),),
    "tops": (("bottoms", 0.6), ("belts", 0.15)),
    "bottoms": (("tops", 0.6), ("belts", 0.2)),
    "outerwear": (("scarves", 0.5), ("hats", 0.2)),
    "dresses": (("formal shoes", 0.4), ("earrings", 0.3)),
    "sneakers": (("tops", 0.3), ("hats", 0.3)),
    "boots": (("bottoms", 0.4),),
    "formal shoes": (("belts", 0.4), ("dresses", 0.2)),
    "sandals": (("eyewear", 0.5),),
    "scarves": (("handbags", 0.3), ("hats", 0.2)),
    "belts": (("bottoms", 0.4), ("small leather goods", 0.3)),
    "eyewear": (("hats", 0.4), ("sandals", 0.2)),
    "hats": (("scarves", 0.4), ("eyewear", 0.3)),
    "rings": (("bracelets", 0.4), ("earrings", 0.2)),
    "necklaces": (("earrings", 0.5),),
    "bracelets": (("rings", 0.5),),
    "earrings": (("necklaces", 0.5),),
    "skincare": (("makeup", 0.4), ("skincare", 0.3)),
    "makeup": (("makeup", 0.4), ("skincare", 0.3)),
    "perfume": (("bath and body", 0.5), ("home fragrance", 0.2)),
    "home fragrance": (("home fragrance", 0.5), ("perfume", 0.3)),
    "bath and body": (("perfume", 0.4), ("bath and body", 0.3)),
}

# Which categories clients prefer, by gender set (0: women/unknown, 1: men).
CATEGORY_PREF = np.array([
    [0.24, 0.18, 0.12, 0.10, 0.11, 0.15, 0.10],
    [0.13, 0.28, 0.20, 0.12, 0.05, 0.07, 0.15],
])
ZIPF_EXPONENT = 0.75  # best-seller skew of product popularity


@dataclass(frozen=True)
class CollectionSpec:
    collection_id: str
    name: str
    launch: dt.date
    capsule: bool


def collection_calendar() -> list[CollectionSpec]:
    """Two main and two capsule collections a year; the last one is still to launch."""
    specs = []
    for year in range(2023, 2027):
        for code, name, month, day, capsule in (
            ("SS", "Spring-Summer", 2, 20, False),
            ("CR", "Cruise", 5, 20, True),
            ("FW", "Fall-Winter", 10, 10, False),
            ("HO", "Holiday", 12, 1, True),
        ):
            launch = dt.date(year, month, day)
            # A launch needs clients to target: skip those in the history's first weeks.
            if launch < HISTORY_START + dt.timedelta(days=45):
                continue
            specs.append(CollectionSpec(f"COL-{year}-{code}", f"{name} {year}", launch, capsule))
            if launch > HISTORY_END:
                return specs  # exactly one upcoming collection
    return specs


@dataclass
class Catalog:
    """The fixed world every chunk of customers buys from."""

    stores: pd.DataFrame
    collections: pd.DataFrame
    collections_truth: pd.DataFrame
    products: pd.DataFrame
    products_truth: pd.DataFrame
    stock: pd.DataFrame
    # Arrays indexed by product position.
    product_ids: np.ndarray
    family: np.ndarray
    category: np.ndarray
    collection: np.ndarray  # collection position, -1 for permanent lines
    color: np.ndarray
    material: np.ndarray
    band: np.ndarray
    list_price: np.ndarray
    popularity: np.ndarray
    # Collections.
    launch_t: np.ndarray  # launch day of each collection
    past: np.ndarray  # positions of launched collections
    upcoming: int
    # Time periods between which the assortment is constant.
    boundaries: np.ndarray
    perm_period: int  # pseudo-period: active permanent products (replenishment routines)
    sampler: GroupSampler
    next_cum: np.ndarray  # cumulative family transition matrix
    basket_cum: np.ndarray
    pref_family_cum: np.ndarray  # [gset * n_categories + category] -> family
    any_family_cum: np.ndarray  # [gset] -> family
    appetence_ref: np.ndarray  # sorted reference raw appetence per collection
    share_cat: np.ndarray
    share_mat: np.ndarray
    share_color: np.ndarray
    share_band: np.ndarray
    store_country: np.ndarray
    store_size: np.ndarray
    store_ids: np.ndarray
    advisor_count: np.ndarray
    advisor_capacity: np.ndarray
    material_pref: np.ndarray  # share of products per material: how tastes are spread
    color_pref: np.ndarray

    @property
    def n_products(self) -> int:
        return len(self.product_ids)

    def regular_period(self, t: np.ndarray) -> np.ndarray:
        """Index of the assortment period containing day t."""
        return np.searchsorted(self.boundaries, t, side="right") - 1

    def launch_period(self, c: np.ndarray | int) -> np.ndarray:
        """Pseudo-period holding only collection c's products, for launch orders."""
        return len(self.boundaries) + 1 + np.asarray(c)


def _price_band(price: np.ndarray) -> np.ndarray:
    return np.searchsorted(BAND_EDGES, price, side="right")


def _round_price(p: np.ndarray) -> np.ndarray:
    """Prices as a luxury house sets them: round figures."""
    step = np.where(p >= 1000, 50.0, np.where(p >= 200, 10.0, 5.0))
    return np.maximum(np.round(p / step) * step, 5.0)


def _cum_rows(m: np.ndarray) -> np.ndarray:
    m = m / m.sum(axis=1, keepdims=True)
    cum = np.cumsum(m, axis=1)
    cum[:, -1] = 1.0
    return cum


def _transition(spec: dict[str, tuple[tuple[str, float], ...]], base: np.ndarray) -> np.ndarray:
    """Row-stochastic matrix: listed transitions plus a floor spread by family popularity."""
    m = np.zeros((N_FAMILIES, N_FAMILIES))
    for src, targets in spec.items():
        listed = 0.0
        for dst, p in targets:
            m[FAM[src], FAM[dst]] += p
            listed += p
        m[FAM[src]] += (1.0 - listed) * base / base.sum()
    return m


def build_catalog(rng: np.random.Generator, customers: int) -> Catalog:
    """Stores, collections, products, stock and the sampling tables, from one generator.

    Only the stores' advisor counts depend on `customers`: a house staffs its stores
    for its client base, so each advisor keeps a portfolio of a few hundred clients.
    """
    # Stores.
    n_stores = len(STORES)
    store_ids = np.array([f"S{i + 1:02d}" for i in range(n_stores)], dtype=object)
    size = np.array([s[3] for s in STORES])
    country = np.array([MARKETS.index(s[0]) for s in STORES])
    size_in_market = size / np.bincount(country, weights=size)[country]
    store_clients = customers * (1.0 - P_ONLINE_ONLY) * MARKET_WEIGHTS[country] * size_in_market
    advisor_count = np.maximum(
        2, np.round(store_clients / CLIENTS_PER_ADVISOR * rng.uniform(0.8, 1.2, n_stores))
    ).astype(int)
    stores = pd.DataFrame({
        "store_id": store_ids,
        "name": [f"Maison {s[1]} {s[2]}" for s in STORES],
        "country": [s[0] for s in STORES],
        "city": [s[1] for s in STORES],
        "advisor_count": advisor_count,
        "advisor_capacity": rng.choice([40, 50, 60, 80], n_stores),
    })

    # Collections, each with a style profile that its products lean towards.
    specs = collection_calendar()
    n_col = len(specs)
    launch_t = np.array([day_of(s.launch) for s in specs])
    past = np.flatnonzero(launch_t < END_T)
    upcoming = int(np.flatnonzero(launch_t >= END_T)[0])
    focus_cat = np.array([
        rng.choice([0, 1, 2, 3, 4], p=[0.2, 0.2, 0.2, 0.2, 0.2]) if s.capsule
        else rng.choice([0, 1, 2], p=[0.35, 0.45, 0.2]) for s in specs
    ])
    fashion_materials = [m for m in MATERIALS if m not in ("cosmetic", "glass")]
    focus_mat = rng.choice(len(fashion_materials), n_col)
    focus_color = rng.choice(len(COLORS) - 1, n_col)  # never "clear"
    price_level = rng.uniform(0.85, 1.3, n_col)
    collections = pd.DataFrame({
        "collection_id": [s.collection_id for s in specs],
        "name": [s.name for s in specs],
        "launch_date": [s.launch for s in specs],
    })

    # Products: the permanent lines first, then each collection's.
    cat_weight = np.array([0.2, 0.35, 0.18, 0.12, 0.1, 0.025, 0.025])
    rows: list[dict[str, object]] = []
    for fi, fam in enumerate(FAMILIES):
        for _ in range(fam.permanent):
            rows.append({"fam": fi, "col": -1})
    for ci, spec in enumerate(specs):
        n = 70 if spec.capsule else 180
        w = cat_weight.copy()
        w[focus_cat[ci]] *= 6.0 if spec.capsule else 2.0
        w /= w.sum()
        cats = rng.choice(len(CATEGORIES), n, p=w)
        for cat in cats:
            fams = [i for i, f in enumerate(FAMILIES) if f.category == CATEGORIES[cat]]
            rows.append({"fam": int(rng.choice(fams)), "col": ci})
    fam_idx = np.array([r["fam"] for r in rows])
    col_idx = np.array([r["col"] for r in rows])
    n_prod = len(rows)

    color = np.empty(n_prod, dtype=np.int64)
    material = np.empty(n_prod, dtype=np.int64)
    gender_line = np.empty(n_prod, dtype=object)
    subfamily = np.empty(n_prod, dtype=object)
    price = np.empty(n_prod)
    for j in range(n_prod):
        fam = FAMILIES[fam_idx[j]]
        ci = col_idx[j]
        mats = [MATERIALS.index(m) for m in fam.materials]
        fm = MATERIALS.index(fashion_materials[focus_mat[ci]]) if ci >= 0 else -1
        material[j] = fm if (fm in mats and rng.random() < 0.5) else rng.choice(mats)
        if fam.category in ("beauty", "fragrance"):
            color[j] = rng.choice([COLORS.index(c) for c in ("clear", "gold", "pink", "red")])
        elif ci >= 0 and rng.random() < 0.45:
            color[j] = focus_color[ci]
        else:
            color[j] = rng.integers(0, len(COLORS) - 1)
        gender_line[j] = ("women", "men", "unisex")[rng.choice(3, p=fam.gender)]
        subfamily[j] = fam.subfamilies[rng.integers(0, len(fam.subfamilies))]
        p = fam.base_price * rng.lognormal(0.0, 0.35)
        mat = MATERIALS[material[j]]
        p *= {"exotic leather": 3.0, "gold": 2.2, "metal": 0.3, "cashmere": 1.6}.get(mat, 1.0)
        if ci >= 0:
            p *= price_level[ci]
        price[j] = p
    price = _round_price(price)
    category = FAMILY_CATEGORY[fam_idx]
    band = _price_band(price)
    cost_ratio = np.array([COST_RATIO[CATEGORIES[c]] for c in category])
    unit_cost = np.round(price * cost_ratio * rng.uniform(0.85, 1.15, n_prod), 2)

    # Popularity: Zipf over a random ranking, permanent icons favoured.
    score = rng.gumbel(size=n_prod) + 0.8 * (col_idx < 0)
    rank = np.empty(n_prod, dtype=np.int64)
    rank[np.argsort(-score, kind="stable")] = np.arange(1, n_prod + 1)
    popularity = 1.0 / rank.astype(float) ** ZIPF_EXPONENT
    is_best_seller = rank <= max(1, int(0.02 * n_prod))

    # Periods: the assortment changes only when a collection enters or leaves regular sale.
    enters = launch_t[past] + LAUNCH_WINDOW_DAYS
    leaves = enters + SALE_LIFE_DAYS
    boundaries = np.unique(np.concatenate([[0.0], enters, leaves[leaves < END_T]]))
    boundaries = boundaries[boundaries < END_T]
    n_periods = len(boundaries)
    # Some permanent products are discontinued, at one of the period boundaries.
    perm = col_idx < 0
    perm_disc = perm & (rng.random(n_prod) < 0.08)
    disc_at = np.full(n_prod, np.inf)
    disc_at[perm_disc] = rng.choice(boundaries[2:], perm_disc.sum())
    col_enter = np.where(col_idx >= 0, launch_t[col_idx] + LAUNCH_WINDOW_DAYS, -np.inf)
    col_leave = col_enter + SALE_LIFE_DAYS
    is_discontinued = perm_disc | ((col_idx >= 0) & (col_leave <= END_T))

    product_ids = np.array([f"P{j + 1:05d}" for j in range(n_prod)], dtype=object)
    collection_ids = np.array([s.collection_id for s in specs], dtype=object)
    names = [
        f"{sub.title()} {MATERIALS[m].title()} {COLORS[c].title()}"
        for sub, m, c in zip(subfamily, material, color, strict=True)
    ]
    products = pd.DataFrame({
        "product_id": product_ids,
        "name": names,
        "category": [CATEGORIES[c] for c in category],
        "family": [FAMILY_NAMES[f] for f in fam_idx],
        "subfamily": subfamily,
        "collection_id": np.where(col_idx >= 0, collection_ids[np.maximum(col_idx, 0)], None),
        "color": [COLORS[c] for c in color],
        "material": [MATERIALS[m] for m in material],
        "gender_line": gender_line,
        "list_price": price,
        "unit_cost": unit_cost,
        "is_merchandise": True,
        "is_discontinued": is_discontinued,
    })

    # Sampling tables: which products are on sale in each period, by family and style.
    gset_of = {"women": (0,), "men": (1,), "unisex": (0, 1)}
    keys, items, weights = [], [], []

    def add(period: int, mask: np.ndarray) -> None:
        js = np.flatnonzero(mask)
        for g in (0, 1):
            jg = js[[g in gset_of[gender_line[j]] for j in js]]
            if len(jg) == 0:
                continue
            for fam_value in (fam_idx[jg], np.full(len(jg), ANY_FAMILY)):
                for kind, val in (
                    (KIND_NONE, np.zeros(len(jg), dtype=np.int64)),
                    (KIND_COLOR, color[jg]),
                    (KIND_MATERIAL, material[jg]),
                    (KIND_BAND, band[jg]),
                ):
                    keys.append(group_key(period, fam_value, g, kind, val))
                    items.append(jg)
                    weights.append(popularity[jg])

    for p in range(n_periods):
        start = boundaries[p]
        on_sale = (perm & (disc_at > start)) | ((col_enter <= start) & (col_leave > start))
        add(p, on_sale)
    perm_period = n_periods
    add(perm_period, perm & ~perm_disc)
    for ci in past:
        add(n_periods + 1 + int(ci), col_idx == ci)
    sampler = GroupSampler(np.concatenate(keys), np.concatenate(items), np.concatenate(weights))

    # Family choice matrices.
    fam_base = np.bincount(fam_idx, minlength=N_FAMILIES).astype(float)
    next_cum = _cum_rows(_transition(NEXT_FAMILY, fam_base))
    basket_cum = _cum_rows(_transition(BASKET_FAMILY, fam_base))
    gender_share = np.array([[f.gender[0] + f.gender[2], f.gender[1] + f.gender[2]]
                             for f in FAMILIES])
    pref_rows = np.zeros((2 * len(CATEGORIES), N_FAMILIES))
    any_rows = np.zeros((2, N_FAMILIES))
    for g in (0, 1):
        w = fam_base * gender_share[:, g] + 1e-9
        any_rows[g] = w * CATEGORY_PREF[g][FAMILY_CATEGORY] / np.bincount(
            FAMILY_CATEGORY, weights=w, minlength=len(CATEGORIES))[FAMILY_CATEGORY]
        for c in range(len(CATEGORIES)):
            pref_rows[g * len(CATEGORIES) + c] = np.where(FAMILY_CATEGORY == c, w, 0.0)
    pref_family_cum = _cum_rows(pref_rows)
    any_family_cum = _cum_rows(any_rows)

    # Appetence: how much of a collection matches a client's tastes, as a percentile
    # against a fixed reference population so every chunk scores on the same scale.
    share_cat = np.zeros((n_col, len(CATEGORIES)))
    share_mat = np.zeros((n_col, len(MATERIALS)))
    share_color = np.zeros((n_col, len(COLORS)))
    share_band = np.zeros((n_col, len(PRICE_BANDS)))
    for ci in range(n_col):
        m = col_idx == ci
        share_cat[ci] = np.bincount(category[m], minlength=len(CATEGORIES)) / m.sum()
        share_mat[ci] = np.bincount(material[m], minlength=len(MATERIALS)) / m.sum()
        share_color[ci] = np.bincount(color[m], minlength=len(COLORS)) / m.sum()
        share_band[ci] = np.bincount(band[m], minlength=len(PRICE_BANDS)) / m.sum()
    material_pref = np.bincount(material, minlength=len(MATERIALS)).astype(float)
    material_pref /= material_pref.sum()
    color_pref = np.bincount(color, minlength=len(COLORS)).astype(float)
    color_pref /= color_pref.sum()
    n_ref = 20_000
    ref_g = (rng.random(n_ref) < 0.33).astype(int)
    ref_cat = np.where(ref_g == 0, rng.choice(len(CATEGORIES), n_ref, p=CATEGORY_PREF[0]),
                       rng.choice(len(CATEGORIES), n_ref, p=CATEGORY_PREF[1]))
    ref_mat = rng.choice(len(MATERIALS), n_ref, p=material_pref)
    ref_color = rng.choice(len(COLORS), n_ref, p=color_pref)
    ref_band = rng.choice(len(PRICE_BANDS), n_ref, p=BAND_PREF)
    appetence_ref = np.sort(
        raw_appetence(share_cat, share_mat, share_color, share_band,
                      ref_cat, ref_mat, ref_color, ref_band)
        + APPETENCE_NOISE * rng.standard_normal((n_col, n_ref)),
        axis=1,
    )
    collections_truth = pd.DataFrame({
        "collection_id": collections["collection_id"],
        "is_capsule": [s.capsule for s in specs],
        "is_upcoming": np.arange(n_col) == upcoming,
        "focus_category": [CATEGORIES[c] for c in focus_cat],
        "focus_material": [fashion_materials[m] for m in focus_mat],
        "focus_color": [COLORS[c] for c in focus_color],
        "price_level": price_level,
        "n_products": np.bincount(col_idx[col_idx >= 0], minlength=n_col),
    })

    # Next-in-sequence links: the most popular product of the likeliest next family
    # sharing the product's colour (or, failing that, any product of that family).
    next_matrix = _transition(NEXT_FAMILY, fam_base)
    np.fill_diagonal(next_matrix, 0.0)  # a link to another family is the informative one
    next_fam = next_matrix.argmax(axis=1)
    basket_matrix = _transition(BASKET_FAMILY, fam_base)
    basket_fam = basket_matrix.argmax(axis=1)
    available_now = ~is_discontinued & (col_idx != upcoming)
    next_product = np.empty(n_prod, dtype=object)
    for j in range(n_prod):
        cand = np.flatnonzero((fam_idx == next_fam[fam_idx[j]]) & available_now)
        same = cand[color[cand] == color[j]]
        pool = same if len(same) else cand
        next_product[j] = product_ids[pool[np.argmax(popularity[pool])]] if len(pool) else None
    products_truth = pd.DataFrame({
        "product_id": product_ids,
        "popularity_weight": popularity / popularity.sum(),
        "popularity_rank": rank,
        "is_best_seller": is_best_seller,
        "price_band": [PRICE_BANDS[b] for b in band],
        "is_replenishable": REPLENISHABLE[fam_idx],
        "on_sale_from": [
            HISTORY_START + dt.timedelta(days=float(x)) if np.isfinite(x) else None
            for x in col_enter
        ],
        "next_family": [FAMILY_NAMES[f] for f in next_fam[fam_idx]],
        "next_product_id": next_product,
        "basket_family": [FAMILY_NAMES[f] for f in basket_fam[fam_idx]],
    })

    # Stock at the last date: what is on sale, plus the upcoming collection delivered
    # ahead of its launch; some references are sold out in some stores.
    stocked = np.flatnonzero(available_now | (col_idx == upcoming))
    st, pr = np.meshgrid(np.arange(n_stores), stocked, indexing="ij")
    st, pr = st.ravel(), pr.ravel()
    mean = 1.0 + size[st] * (2.0 + 30.0 * np.sqrt(popularity[pr] / popularity.max()))
    qty = rng.poisson(mean)
    qty[rng.random(len(qty)) < 0.10] = 0
    stock = pd.DataFrame({
        "store_id": store_ids[st],
        "product_id": product_ids[pr],
        "quantity": qty,
        "as_of": HISTORY_END,
    })

    return Catalog(
        stores=stores, collections=collections, collections_truth=collections_truth,
        products=products, products_truth=products_truth, stock=stock,
        product_ids=product_ids, family=fam_idx, category=category, collection=col_idx,
        color=color, material=material, band=band, list_price=price, popularity=popularity,
        launch_t=launch_t, past=past, upcoming=upcoming, boundaries=boundaries,
        perm_period=perm_period, sampler=sampler, next_cum=next_cum, basket_cum=basket_cum,
        pref_family_cum=pref_family_cum, any_family_cum=any_family_cum,
        appetence_ref=appetence_ref, share_cat=share_cat, share_mat=share_mat,
        share_color=share_color, share_band=share_band,
        store_country=country, store_size=size,
        store_ids=store_ids, advisor_count=advisor_count,
        advisor_capacity=stores["advisor_capacity"].to_numpy(),
        material_pref=material_pref, color_pref=color_pref,
    )


BAND_PREF = np.array([0.35, 0.35, 0.2, 0.1])
APPETENCE_NOISE = 0.04


def raw_appetence(
    share_cat: np.ndarray, share_mat: np.ndarray, share_color: np.ndarray,
    share_band: np.ndarray, cat: np.ndarray, mat: np.ndarray, color: np.ndarray,
    band: np.ndarray,
) -> np.ndarray:
    """[collection, client] share of a collection matching a client's tastes, weighted."""
    return (0.4 * share_cat[:, cat] + 0.2 * share_mat[:, mat]
            + 0.2 * share_color[:, color] + 0.2 * share_band[:, band])


def appetence(cat_: Catalog, raw: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Percentile of a client's raw appetence against the reference population, per collection."""
    out = np.empty_like(raw)
    for ci in range(raw.shape[0]):
        out[ci] = np.searchsorted(cat_.appetence_ref[ci], raw[ci] + noise[ci]) / (
            cat_.appetence_ref.shape[1])
    return out
