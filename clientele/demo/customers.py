"""One chunk of customers and everything they do: orders, returns, reviews, browsing, e-mail.

All work is vectorised over the chunk's customers and orders; the only Python
loops run over order ranks (the k-th order of every active customer at once),
over collections and over e-mail campaigns, never over customers or orders.
Times are kept as float days since HISTORY_START until the frames are built.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from clientele.demo import clienteling
from clientele.demo.catalog import (
    ANY_FAMILY,
    BAND_PREF,
    CATEGORIES,
    CATEGORY_PREF,
    COLORS,
    END_T,
    FAMILY_CATEGORY,
    FAMILY_NAMES,
    HISTORY_START,
    LAUNCH_WINDOW_DAYS,
    MARKDOWN_AFTER_DAYS,
    MARKET_CITIES,
    MARKET_WEIGHTS,
    MARKETS,
    MATERIALS,
    P_ONLINE_ONLY,
    PRICE_BANDS,
    REPLENISHABLE,
    RETURN_RATE,
    Catalog,
    appetence,
    raw_appetence,
)
from clientele.demo.sampler import (
    KIND_BAND,
    KIND_COLOR,
    KIND_MATERIAL,
    KIND_NONE,
    group_key,
    sample_rows,
)

START_US = np.datetime64(HISTORY_START.isoformat(), "us")
US_PER_DAY = 86_400_000_000
MAX_ORDER_RANK = 80  # safety bound on the k-th order loop; far above what anyone reaches
P_PROSPECT = 0.075
APPETENCE_NOISE_CLIENT = 0.03
CATEGORY_CUM = np.cumsum(CATEGORY_PREF, axis=1)


def to_ts(t: np.ndarray) -> np.ndarray:
    """Float days since HISTORY_START -> datetime64[us], to the second; NaN -> NaT."""
    t = np.asarray(t, dtype=np.float64)
    out = np.full(len(t), np.datetime64("NaT"), dtype="datetime64[us]")
    ok = np.isfinite(t)
    out[ok] = START_US + (np.round(t[ok] * 86_400.0).astype(np.int64) * 1_000_000).astype(
        "timedelta64[us]")
    return out


def make_ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded string identifiers such as 'C0000001', as an object array."""
    if len(numbers) == 0:
        return np.array([], dtype=object)
    digits = np.char.zfill(np.asarray(numbers, dtype=np.int64).astype(str), width)
    return np.char.add(prefix, digits).astype(object)


@dataclass
class Counters:
    """Running identifiers, carried from one chunk to the next so ids stay unique."""

    order: int = 0
    review: int = 0
    web: int = 0
    email: int = 0


@dataclass
class ChunkResult:
    tables: dict[str, pd.DataFrame]
    truth: pd.DataFrame
    campaign_truth: pd.DataFrame
    stats: dict[str, float]
    revenue_by_product: np.ndarray
    bad_rows: dict[str, int] = field(default_factory=dict)


@dataclass
class _Clients:
    """Observed and latent attributes of a chunk's customers (arrays of length n)."""

    n: int
    country: np.ndarray
    online_only: np.ndarray
    home_store: np.ndarray
    gset: np.ndarray
    email_opt_in: np.ndarray
    phone_opt_in: np.ndarray
    ea: np.ndarray
    engagement: np.ndarray
    sat_z: np.ndarray
    pref_cat: np.ndarray
    pref_mat: np.ndarray
    pref_color: np.ndarray
    pref_band: np.ndarray
    repl_family: np.ndarray  # -1 when the client has no replenishment routine
    repl_cycle: np.ndarray
    routine_product: np.ndarray
    is_prospect: np.ndarray
    first_order_t: np.ndarray
    first_seen_t: np.ndarray
    churn_t: np.ndarray
    basket_trait: np.ndarray


@dataclass
class _Orders:
    """Orders being built: one entry per order, lines kept alongside."""

    cust: list[np.ndarray] = field(default_factory=list)
    t: list[np.ndarray] = field(default_factory=list)
    online: list[np.ndarray] = field(default_factory=list)
    store: list[np.ndarray] = field(default_factory=list)
    canceled: list[np.ndarray] = field(default_factory=list)
    late: list[np.ndarray] = field(default_factory=list)
    delivery: list[np.ndarray] = field(default_factory=list)
    score: list[np.ndarray] = field(default_factory=list)
    launch_col: list[np.ndarray] = field(default_factory=list)
    primary_family: list[np.ndarray] = field(default_factory=list)
    # Lines: order position within this builder, product, quantity.
    line_order: list[np.ndarray] = field(default_factory=list)
    line_product: list[np.ndarray] = field(default_factory=list)
    n: int = 0

    def add(self, **cols: np.ndarray) -> np.ndarray:
        """Append orders; returns their positions."""
        size = len(cols["cust"])
        for name, values in cols.items():
            getattr(self, name).append(values)
        pos = np.arange(self.n, self.n + size)
        self.n += size
        return pos

    def add_lines(self, order_pos: np.ndarray, product: np.ndarray) -> None:
        self.line_order.append(order_pos)
        self.line_product.append(product)

    def cat(self, name: str) -> np.ndarray:
        return np.concatenate(getattr(self, name))


@dataclass
class _Placed:
    """Purchase orders once sorted by time, and their lines: what browsing and e-mail follow."""

    cust: np.ndarray
    t: np.ndarray
    online: np.ndarray
    canceled: np.ndarray
    line_rank: np.ndarray  # position of each line's order in the arrays above
    line_product: np.ndarray


def _clients(cat: Catalog, rng: np.random.Generator, n: int) -> tuple[_Clients, np.ndarray]:
    """Draw who the chunk's customers are and what drives them (and the gender draw).

    Early-adopter propensity is drawn first because, as in real luxury houses, it shows
    (noisily) in who the client is: early adopters are store clients of the flagships,
    lean to the higher price bands and to bags and ready-to-wear, and have been with
    the house longer (see `ea_lean`).
    """
    ea = rng.beta(0.7, 2.8, n)
    lean = ea_lean(ea)
    country = rng.choice(len(MARKETS), n, p=MARKET_WEIGHTS)
    # Early adopters are store clients: the online-only share falls from ~50 % to ~10 %.
    online_only = rng.random(n) < P_ONLINE_ONLY * np.clip(1.0 - 0.75 * lean, 0.25, 1.5)
    # Home store: a store of the client's market, bigger stores attracting more clients;
    # early adopters lean to the flagships (weight size^3 rather than size).
    home_w = []
    for power in (1.0, 3.0):
        w = np.where(cat.store_country[None, :] == np.arange(len(MARKETS))[:, None],
                     cat.store_size[None, :] ** power, 0.0)
        store_cum = np.cumsum(w / w.sum(axis=1, keepdims=True), axis=1)
        store_cum[:, -1] = 1.0
        home_w.append(store_cum)
    flagship = rng.random(n) < np.clip(0.15 + 0.5 * lean, 0.0, 0.9)
    home_store = sample_rows(np.concatenate(home_w), country + len(MARKETS) * flagship,
                             rng.random(n))
    home_store = np.where(online_only, -1, home_store)

    gender_draw = rng.random(n)
    gset = ((gender_draw >= 0.60) & (gender_draw < 0.91)).astype(np.int64)  # M
    engagement = rng.beta(2.0, 4.0, n)
    sat_z = rng.standard_normal(n)
    pref_cat = sample_rows(CATEGORY_CUM, gset, rng.random(n))
    # Early adopters lean to the season's statement pieces: bags and ready-to-wear.
    to_season = rng.random(n) < np.clip(0.35 * lean, 0.0, 0.7)
    season_cat = np.where(rng.random(n) < np.where(gset == 1, 0.3, 0.6),
                          CATEGORIES.index("bags"), CATEGORIES.index("ready-to-wear"))
    pref_cat = np.where(to_season, season_cat, pref_cat)
    # Material taste follows the preferred category most of the time (a bag lover likes leather).
    by_cat = np.argsort(cat.category, kind="stable")
    cat_start = np.searchsorted(cat.category[by_cat], np.arange(len(CATEGORIES)))
    cat_count = np.bincount(cat.category, minlength=len(CATEGORIES))
    some_product = by_cat[cat_start[pref_cat] + (rng.random(n) * cat_count[pref_cat]).astype(int)]
    pref_mat = np.where(rng.random(n) < 0.7, cat.material[some_product],
                        rng.choice(len(MATERIALS), n, p=cat.material_pref))
    pref_color = rng.choice(len(COLORS), n, p=cat.color_pref)
    pref_band = rng.choice(len(PRICE_BANDS), n, p=BAND_PREF)
    # ... and to the higher price bands (one band up, now and then two).
    up = (rng.random(n) < np.clip(0.45 * lean, 0.0, 0.9)).astype(np.int64)
    up += (up > 0) & (rng.random(n) < 0.3 * lean)
    pref_band = np.minimum(pref_band + up, len(PRICE_BANDS) - 1)

    # Replenishment routines: mostly clients whose taste is beauty or fragrance.
    beauty_lover = np.isin(pref_cat, [CATEGORIES.index("beauty"), CATEGORIES.index("fragrance")])
    has_routine = rng.random(n) < np.where(beauty_lover, 0.40, 0.05)
    repl_fams = np.flatnonzero(REPLENISHABLE)
    in_cat = FAMILY_CATEGORY[repl_fams][None, :] == pref_cat[:, None]
    fw = np.where(in_cat, 1.0, 0.05)
    fam_cum = np.cumsum(fw / fw.sum(axis=1, keepdims=True), axis=1)
    fam_cum[:, -1] = 1.0
    repl_family = np.where(has_routine, repl_fams[(rng.random(n)[:, None] >= fam_cum).sum(1)], -1)
    repl_cycle = np.where(has_routine, rng.uniform(45.0, 90.0, n), np.nan)
    routine_product = np.full(n, -1, dtype=np.int64)
    r = np.flatnonzero(has_routine)
    routine_product[r] = cat.sampler.sample(
        group_key(cat.perm_period, repl_family[r], gset[r], KIND_NONE, 0), rng.random(len(r)))

    is_prospect = rng.random(n) < P_PROSPECT
    # Clients arrive over the whole history, a little faster lately (the brand grows);
    # early adopters have been with the house longer.
    first_order_t = np.floor(END_T * rng.random(n) ** (0.9 + 0.8 * lean))
    first_seen_t = np.where(
        online_only, np.floor(np.maximum(0.0, first_order_t - rng.exponential(15, n))),
        first_order_t)
    first_seen_t = np.where(is_prospect, np.floor(END_T * rng.random(n)), first_seen_t)
    first_order_t = np.where(is_prospect, np.nan, first_order_t)
    # ... and stay longer: they are among the house's most loyal clients.
    churn_t = first_order_t + rng.exponential(900.0 * np.exp(0.35 * sat_z + 0.4 * lean))
    email_opt_in = rng.random(n) < np.minimum(0.45 + 0.35 * engagement + 0.1 * lean, 0.97)
    phone_opt_in = rng.random(n) < np.where(online_only, 0.15, 0.55)
    return _Clients(
        n=n, country=country, online_only=online_only, home_store=home_store, gset=gset,
        email_opt_in=email_opt_in, phone_opt_in=phone_opt_in, ea=ea, engagement=engagement,
        sat_z=sat_z, pref_cat=pref_cat, pref_mat=pref_mat, pref_color=pref_color,
        pref_band=pref_band, repl_family=repl_family, repl_cycle=repl_cycle,
        routine_product=routine_product, is_prospect=is_prospect, first_order_t=first_order_t,
        first_seen_t=first_seen_t, churn_t=churn_t, basket_trait=rng.beta(2.0, 5.0, n),
    ), gender_draw


def ea_lean(ea: np.ndarray) -> np.ndarray:
    """How far a client's early-adopter propensity lifts the traits that go with it.

    0 for the typical client (propensity near its mean 0.2), about 1 for true early
    adopters (propensity 0.5 and above), slightly negative for the least inclined;
    plus per-trait noise where it is used, so no single trait gives early adopters away.
    """
    return np.clip((ea - 0.2) / 0.35, -0.6, 1.6)


def _pick_products(
    cat: Catalog, rng: np.random.Generator, period: np.ndarray, family: np.ndarray,
    c: _Clients, cust: np.ndarray,
) -> np.ndarray:
    """A product per draw: on sale in `period`, of `family`, leaning to the client's style."""
    n = len(cust)
    kind = rng.choice(4, n, p=[0.3, 0.3, 0.2, 0.2])
    # Early adopters shop by price band more than others (their band is a higher one).
    kind = np.where(rng.random(n) < 0.25 * np.clip(ea_lean(c.ea[cust]), 0.0, 1.2), KIND_BAND,
                    kind)
    value = np.select(
        [kind == KIND_COLOR, kind == KIND_MATERIAL, kind == KIND_BAND],
        [c.pref_color[cust], c.pref_mat[cust], c.pref_band[cust]], 0,
    )
    gset = c.gset[cust]
    u = rng.random(n)
    out = cat.sampler.sample(group_key(period, family, gset, kind, value), u)
    # Fall back when no product of that style (or family) is on sale: plain family, then any.
    for fam_try, kind_try in ((family, KIND_NONE), (ANY_FAMILY, kind), (ANY_FAMILY, KIND_NONE)):
        miss = out < 0
        if not miss.any():
            break
        f = fam_try[miss] if isinstance(fam_try, np.ndarray) else fam_try
        k = kind_try[miss] if isinstance(kind_try, np.ndarray) else kind_try
        v = value[miss] if isinstance(kind_try, np.ndarray) else 0
        out[miss] = cat.sampler.sample(group_key(period[miss], f, gset[miss], k, v), u[miss])
    return out


def _pref_family(cat: Catalog, rng: np.random.Generator, c: _Clients, cust: np.ndarray
                 ) -> np.ndarray:
    """A family drawn from the client's taste: the preferred category mostly, else anything."""
    n = len(cust)
    own = sample_rows(cat.pref_family_cum, c.gset[cust] * len(CATEGORIES) + c.pref_cat[cust],
                      rng.random(n))
    other = sample_rows(cat.any_family_cum, c.gset[cust], rng.random(n))
    return np.where(rng.random(n) < 0.65, own, other)


def _channel_and_time(
    cat: Catalog, rng: np.random.Generator, c: _Clients, cust: np.ndarray, day: np.ndarray,
    p_online_store_client: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Channel, store and time of day of orders placed on `day` (floored)."""
    n = len(cust)
    # Early adopters buy in store (the launch experience); others drift online.
    p_online = p_online_store_client * np.clip(1.0 - 0.6 * ea_lean(c.ea[cust]), 0.2, 1.4)
    online = c.online_only[cust] | (rng.random(n) < p_online)
    store = c.home_store[cust].copy()
    # Now and then a store client buys in another store of the market, or abroad.
    u = rng.random(n)
    away = u < 0.10
    store[away] = rng.integers(0, len(cat.store_ids), away.sum())
    store = np.where(online, -1, store)
    tod = np.where(online, rng.beta(2.5, 1.6, n) * 0.99, rng.uniform(10.0, 19.0, n) / 24.0)
    return online, store, np.floor(day) + tod


def _order_outcome(
    rng: np.random.Generator, c: _Clients, cust: np.ndarray, online: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cancellation, delivery delay, lateness and the satisfaction score (1-5) of orders."""
    n = len(cust)
    canceled = online & (rng.random(n) < 0.02)
    delivery = np.where(online, rng.gamma(4.0, 0.8, n), 0.0)
    late = online & (delivery > 5.0)
    noise = rng.normal(0.0, 0.75, n)
    score = np.clip(np.round(4.0 + 0.8 * c.sat_z[cust] + noise - 1.5 * late), 1, 5).astype(int)
    return canceled, delivery, late, score


def _regular_orders(cat: Catalog, rng: np.random.Generator, c: _Clients, ob: _Orders) -> None:
    """Every client's own purchase history: first order, then repeat orders until they stop."""
    active = np.flatnonzero(~c.is_prospect)
    t = c.first_order_t[active]
    prev_fam = np.full(len(active), -1)
    base_continue = np.where(
        c.repl_family >= 0, 0.78, 0.18 + 0.45 * c.engagement + 0.10 * c.ea)
    mean_gap = 210.0 / (0.6 + 1.6 * c.engagement)
    for rank in range(MAX_ORDER_RANK):
        if len(active) == 0:
            break
        n = len(active)
        online, store, t = _channel_and_time(cat, rng, c, active, t, 0.2)
        canceled, delivery, late, score = _order_outcome(rng, c, active, online)
        period = cat.regular_period(t)

        # Primary line: the routine product, or a family following the previous purchase.
        routine = (c.routine_product[active] >= 0) & (rng.random(n) < 0.8)
        follow = (prev_fam >= 0) & (rng.random(n) < 0.5)
        fam = np.where(follow, sample_rows(cat.next_cum, np.maximum(prev_fam, 0), rng.random(n)),
                       _pref_family(cat, rng, c, active))
        prod = _pick_products(cat, rng, period, fam, c, active)
        prod = np.where(routine, c.routine_product[active], prod)
        fam = cat.family[prod]
        pos = ob.add(cust=active, t=t, online=online, store=store, canceled=canceled, late=late,
                     delivery=delivery, score=score, launch_col=np.full(n, -1),
                     primary_family=fam)
        ob.add_lines(pos, prod)

        # Further lines: companions of the first item (basket structure) or taste.
        n_more = np.minimum(rng.poisson(0.15 + 1.2 * c.basket_trait[active]), 4)
        extra = np.repeat(np.arange(n), n_more)
        if len(extra):
            companion = rng.random(len(extra)) < 0.55
            efam = np.where(companion,
                            sample_rows(cat.basket_cum, fam[extra], rng.random(len(extra))),
                            _pref_family(cat, rng, c, active[extra]))
            eprod = _pick_products(cat, rng, period[extra], efam, c, active[extra])
            ob.add_lines(pos[extra], eprod)

        # Will they come back? Satisfaction with this order weighs on it.
        # Loyalty builds: a client who came back once is likelier to come back again.
        loyalty = 0.15 if rank >= 1 else 0.0
        p_next = np.clip(base_continue[active] + loyalty + 0.06 * (score - 4), 0.02, 0.95)
        again = rng.random(n) < p_next
        repl = c.repl_family[active] >= 0
        gap = np.where(repl, c.repl_cycle[active] * rng.lognormal(0.0, 0.12, n),
                       rng.lognormal(np.log(mean_gap[active]), 0.7, n))
        t_next = t + np.maximum(gap, 3.0)
        keep = again & (t_next < END_T) & (t_next < c.churn_t[active])
        active, t, prev_fam = active[keep], t_next[keep], fam[keep]


def _conversion_probability(ea: np.ndarray, app: np.ndarray) -> np.ndarray:
    """Chance a client buys a new collection at launch: highest for strong early adopters
    with a MID appetence for it (a too-close collection adds nothing new to their wardrobe)."""
    bump = np.exp(-(((app - 0.5) / 0.17) ** 2))
    return 0.004 + 0.02 * app + 0.55 * ea**1.5 * bump


def _within_capacity(
    store: np.ndarray, score: np.ndarray, candidates: np.ndarray, quota: np.ndarray
) -> np.ndarray:
    """The best-scored candidates of each store, at most quota[store] of them."""
    idx = np.flatnonzero(candidates)
    order = np.lexsort((idx, -score[idx], store[idx]))
    idx = idx[order]
    st = store[idx]
    first = np.searchsorted(st, st)  # position of the store's first candidate
    keep = (np.arange(len(idx)) - first) < quota[st]
    out = np.zeros(len(store), dtype=bool)
    out[idx[keep]] = True
    return out


@dataclass
class _Campaign:
    """One past launch campaign as the base draw made it: who was targeted, the control
    group, the channel, the uniform draw behind each purchase decision, and the launch
    orders (builder positions) of the clients who bought."""

    collection: int
    targeted: np.ndarray  # client positions
    control: np.ndarray  # per targeted client
    channel: np.ndarray  # per targeted client
    contacted: np.ndarray  # per targeted client (NaN for control)
    u: np.ndarray  # per targeted client: the draw deciding the purchase
    p_base: np.ndarray  # per targeted client: launch probability (early adopter x appetence)
    base_buys: np.ndarray  # per targeted client: bought in the base draw
    order_client: np.ndarray  # clients with a launch order in the base draw
    order_pos: np.ndarray  # and its position in the builder


def _launch_orders(cat: Catalog, rng: np.random.Generator, c: _Clients, ob: _Orders,
                   who: np.ndarray, ci: int) -> np.ndarray:
    """The launch orders of clients `who` for collection `ci`; returns builder positions."""
    launch = cat.launch_t[ci]
    delay = np.minimum(rng.exponential(2.0 + 20.0 * (1.0 - c.ea[who])),
                       LAUNCH_WINDOW_DAYS - 1.0)
    online, store, t = _channel_and_time(cat, rng, c, who, launch + delay, 0.25)
    canceled, delivery, late, sc = _order_outcome(rng, c, who, online)
    canceled[:] = False  # a launch purchase that converted the client was not canceled
    n_lines = 1 + np.minimum(rng.poisson(0.4, len(who)), 3)
    line_cust = np.repeat(who, n_lines)
    period = np.full(len(line_cust), cat.launch_period(int(ci)))
    prod = _pick_products(cat, rng, period, _pref_family(cat, rng, c, line_cust), c,
                          line_cust)
    first_line = np.concatenate([[0], np.cumsum(n_lines)[:-1]]).astype(int)
    pos = ob.add(cust=who, t=t, online=online, store=store, canceled=canceled, late=late,
                 delivery=delivery, score=sc, launch_col=np.full(len(who), ci),
                 primary_family=cat.family[prod[first_line]] if len(who) else prod)
    ob.add_lines(np.repeat(pos, n_lines), prod)
    return pos


def _launches(
    cat: Catalog, rng: np.random.Generator, c: _Clients, ob: _Orders, app: np.ndarray,
    quota: np.ndarray,
) -> list[_Campaign]:
    """Launch campaigns of past collections and the launch orders they (and word of mouth) bring.

    Advisors contact the clients they believe most likely to buy, within their capacity
    (`quota`: this chunk's share of each store's advisors x advisor_capacity). This is the
    base draw, where a contact doubles the chance of buying; `_contact_effect` then gives
    each targeted client the heterogeneous effect of the truth, from the same draw.
    """
    campaigns = []
    for ci in cat.past:
        launch = cat.launch_t[ci]
        existing = (c.first_order_t < launch - 7) & (c.churn_t > launch)
        eligible = existing & (c.home_store >= 0)
        score = c.ea + 0.15 * c.engagement + rng.normal(0.0, 0.2, c.n)
        targeted = _within_capacity(c.home_store, score, eligible & (score > 0.45), quota)
        control = targeted & (rng.random(c.n) < 0.2)
        p = _conversion_probability(c.ea, app[ci])
        mult = np.where(targeted & ~control, 1.0, np.where(control, 0.5, 0.35))
        u = rng.random(c.n)
        buys = existing & (u < p * mult)

        who = np.flatnonzero(buys)
        pos = _launch_orders(cat, rng, c, ob, who, int(ci))

        tg = np.flatnonzero(targeted)
        ctrl = control[tg]
        phone = c.phone_opt_in[tg]
        channel = np.where(phone & (rng.random(len(tg)) < 0.7), "phone",
                           np.where(c.email_opt_in[tg], "email", "store"))
        contacted = launch - rng.uniform(1.0, 10.0, len(tg))
        contacted = np.floor(contacted) + rng.uniform(10.0, 19.0, len(tg)) / 24.0
        campaigns.append(_Campaign(
            collection=int(ci), targeted=tg, control=ctrl, channel=channel,
            contacted=np.where(ctrl, np.nan, contacted), u=u[tg], p_base=p[tg],
            base_buys=buys[tg], order_client=who, order_pos=pos))
    return campaigns


def _contact_effect(
    cat: Catalog, rng: np.random.Generator, c: _Clients, traits: clienteling.Traits,
    cust_ids: np.ndarray, campaigns: list[_Campaign], app: np.ndarray, n_base_orders: int,
) -> tuple[np.ndarray, _Orders, pd.DataFrame, pd.DataFrame]:
    """Each targeted client's purchase under the truth's contact effect, from the draw
    the base used (so a client whose chance did not change decides the same way).

    Returns the base orders to keep (mask over the base builder), the launch orders to
    add (a builder of their own, drawn from the clienteling stream), and the campaign
    contacts and their truth.
    """
    keep = np.ones(n_base_orders, dtype=bool)
    extra = _Orders()
    contacts, truths = [], []
    collection_ids = cat.collections["collection_id"].to_numpy()
    for camp in campaigns:
        tg = camp.targeted
        advisor = np.isin(camp.channel, clienteling.ADVISOR_CHANNELS)
        p0, p1 = clienteling.contact_probabilities(
            camp.p_base, c.ea[tg], app[camp.collection][tg], traits.store_sensitivity[tg],
            c.engagement[tg], traits.aversion[tg], advisor)
        p = np.where(camp.control, p0, p1)
        buys = camp.u < p
        dropped = tg[camp.base_buys & ~buys]
        keep[camp.order_pos[np.isin(camp.order_client, dropped)]] = False
        _launch_orders(cat, rng, c, extra, tg[buys & ~camp.base_buys], camp.collection)
        campaign = f"CAMP-{collection_ids[camp.collection]}"
        contacts.append(pd.DataFrame({
            "campaign_id": campaign,
            "customer_id": cust_ids[tg],
            "collection_id": collection_ids[camp.collection],
            "contacted_at": to_ts(camp.contacted),
            "channel": camp.channel,
            "is_control": camp.control,
            "converted": buys,
        }))
        truths.append(pd.DataFrame({
            "campaign_id": campaign,
            "customer_id": cust_ids[tg],
            "collection_id": collection_ids[camp.collection],
            "early_adopter_propensity": c.ea[tg],
            "appetence": app[camp.collection][tg],
            "p_convert": p,
            "is_control": camp.control,
            "converted": buys,
            "channel": camp.channel,
            "store_sensitivity": traits.store_sensitivity[tg],
            "contact_aversion": traits.aversion[tg],
            "p_without_contact": p0,
            "p_with_contact": p1,
            "uplift": p1 - p0,
            "response_type": clienteling.response_type(camp.u, p0, p1),
        }))
    return keep, extra, pd.concat(contacts, ignore_index=True), pd.concat(truths,
                                                                           ignore_index=True)


def generate_chunk(
    cat: Catalog, rng: np.random.Generator, first_number: int, n: int, total: int,
    counters: Counters, lux: dict[str, np.random.Generator],
) -> ChunkResult:
    """Customers first_number..first_number+n-1 (of `total`) and all their activity.

    `rng` draws everything but the clienteling truth, which `lux`
    (`clienteling.streams`) draws, so that it moves no other draw.
    """
    c, gender_draw = _clients(cat, rng, n)
    cust_ids = make_ids("C", np.arange(first_number, first_number + n), 7)
    traits = clienteling.draw_traits(lux["traits"], c.country, c.online_only, ea_lean(c.ea),
                                     c.engagement, c.sat_z)

    # Appetence of each client for each collection (the truth the launch model estimates).
    raw = raw_appetence(cat.share_cat, cat.share_mat, cat.share_color, cat.share_band,
                        c.pref_cat, c.pref_mat, c.pref_color, c.pref_band)
    app = appetence(cat, raw, APPETENCE_NOISE_CLIENT * rng.standard_normal(raw.shape))

    ob = _Orders()
    _regular_orders(cat, rng, c, ob)
    # Each chunk gets its share of every store's contact capacity, so the whole brand
    # respects it whatever the chunking.
    capacity = cat.advisor_count * cat.advisor_capacity
    done = first_number - 1
    quota = capacity * (done + n) // total - capacity * done // total
    campaigns = _launches(cat, rng, c, ob, app, quota)
    base = _assemble(cat, rng, c, ob)
    placed = base.placed
    tables: dict[str, pd.DataFrame] = {}

    # Customers, with what can be observed of them.
    gender = np.select([gender_draw < 0.60, gender_draw < 0.91, gender_draw < 0.93],
                       ["F", "M", "X"], "")
    # Early adopters skew younger (and share their birth date a little more often).
    lean = ea_lean(c.ea)
    shares_birth_year = rng.random(n) < np.clip(0.45 + 0.1 * lean, 0.3, 0.62)
    age = rng.normal(44 - 6 * lean, 12, n)
    birth_year = np.where(shares_birth_year, np.clip(2026 - np.round(age), 1935, 2008), np.nan)
    home_country_store = c.home_store >= 0
    cities = np.array([MARKET_CITIES[m] for m in MARKETS], dtype=object)
    city = cities[c.country, rng.integers(0, 5, n)]
    city = np.where(home_country_store, cat.stores["city"].to_numpy()[c.home_store], city)
    city = np.where(rng.random(n) < 0.06, None, city)
    adv_num = (rng.random(n) * cat.advisor_count[np.maximum(c.home_store, 0)]).astype(int) + 1
    store_id = np.where(home_country_store, cat.store_ids[np.maximum(c.home_store, 0)], None)
    advisor = pd.Series(store_id).str.cat(pd.Series(adv_num).astype(str).str.zfill(3), sep="-")
    tables["customers"] = pd.DataFrame({
        "customer_id": cust_ids,
        # A time of day only when the client was known before the day of the first order.
        "first_seen_at": to_ts(c.first_seen_t + rng.uniform(0.0, 1.0, n) * (
            c.first_seen_t < np.nan_to_num(c.first_order_t, nan=np.inf))),
        "country": np.array(MARKETS, dtype=object)[c.country],
        "city": city,
        "gender": np.where(gender == "", None, gender),
        "birth_year": pd.array(birth_year, dtype="Int32"),
        "home_store_id": store_id,
        "advisor_id": ("ADV-" + advisor).where(home_country_store, None),
        "email_opt_in": c.email_opt_in,
        "phone_opt_in": c.phone_opt_in,
    })

    tables["web_events"] = _web_events(cat, rng, c, cust_ids, placed, counters,
                                       lux["web"], traits)
    tables["email_events"] = _email_events(cat, rng, c, cust_ids, placed, counters,
                                           lux["email"], traits)
    # The contact effect of the truth: some base launch orders go, some come (drawn, and
    # assembled, from the clienteling stream); browsing and e-mail keep following the
    # base draw's orders, so that no other draw moves.
    keep, extra, contacts, campaign_truth = _contact_effect(
        cat, lux["launch"], c, traits, cust_ids, campaigns, app, ob.n)
    parts = [(base, keep[base.ob_pos])]
    if extra.n:
        added = _assemble(cat, lux["launch"], c, extra)
        parts.append((added, np.ones(len(added.t), dtype=bool)))
    for assembled, _ in parts:
        _store_habits(cat, lux["store"], c, traits, assembled)
    order_tables, stats, revenue = _order_frames(cat, c, cust_ids, parts, counters)
    tables.update(order_tables)
    tables["campaign_contacts"] = contacts

    n_orders = stats.pop("_orders_per_customer")
    truth = pd.DataFrame({
        "customer_id": cust_ids,
        "is_prospect": n_orders == 0,
        "is_online_only": c.online_only,
        "early_adopter_propensity": c.ea,
        "is_true_early_adopter": c.ea >= 0.5,
        "engagement": c.engagement,
        "satisfaction": c.sat_z,
        "preferred_category": np.array(CATEGORIES, dtype=object)[c.pref_cat],
        "preferred_material": np.array(MATERIALS, dtype=object)[c.pref_mat],
        "preferred_color": np.array(COLORS, dtype=object)[c.pref_color],
        "preferred_price_band": np.array(PRICE_BANDS, dtype=object)[c.pref_band],
        "replenishment_family": np.where(
            c.repl_family >= 0, np.array(FAMILY_NAMES, dtype=object)[c.repl_family], None),
        "replenishment_cycle_days": c.repl_cycle,
        "routine_product_id": np.where(c.routine_product >= 0,
                                       cat.product_ids[np.maximum(c.routine_product, 0)], None),
        "upcoming_appetence": app[cat.upcoming],
        "churn_date": pd.arrays.ArrowExtensionArray(pa.array(  # a date, not a timestamp
            to_ts(np.where(n_orders > 0, c.churn_t, np.nan)).astype("datetime64[D]"))),
        "is_churned": (n_orders > 0) & (c.churn_t < END_T),
        "n_orders": n_orders,
        **_clienteling_truth(cat, c, traits, app),
    })
    return ChunkResult(tables=tables, truth=truth, campaign_truth=campaign_truth, stats=stats,
                       revenue_by_product=revenue)


def _clienteling_truth(cat: Catalog, c: _Clients, traits: clienteling.Traits,
                       app: np.ndarray) -> dict[str, np.ndarray]:
    """customers_truth's clienteling columns: reading habits and best send block, store
    sensitivity, contact aversion, and the upcoming launch's contact effect."""
    mult = traits.block_multiplier
    sendable = np.zeros(mult.shape[1], dtype=bool)
    sendable.reshape(7, -1)[:, clienteling.FIRST_SENDABLE_BLOCK:] = True
    best = np.flatnonzero(sendable)[np.argmax(mult[:, sendable], axis=1)]
    p_base = _conversion_probability(c.ea, app[cat.upcoming])
    upcoming = app[cat.upcoming]
    p0, p_advisor = clienteling.contact_probabilities(
        p_base, c.ea, upcoming, traits.store_sensitivity, c.engagement, traits.aversion,
        np.ones(c.n, dtype=bool))
    _, p_email = clienteling.contact_probabilities(
        p_base, c.ea, upcoming, traits.store_sensitivity, c.engagement, traits.aversion,
        np.zeros(c.n, dtype=bool))
    return {
        "read_hour": traits.read_hour,
        "read_day": np.array(clienteling.DAY_NAMES, dtype=object)[traits.read_day],
        "timing_responsiveness": traits.responsiveness,
        "best_send_block": clienteling.block_label(best),
        "best_send_multiplier": mult[np.arange(c.n), best],
        "store_sensitivity": traits.store_sensitivity,
        "is_store_sensitive": traits.store_sensitivity >= clienteling.STORE_SENSITIVE_AT,
        "contact_aversion": traits.aversion,
        "upcoming_p_without_contact": p0,
        "upcoming_p_advisor_contact": p_advisor,
        "upcoming_p_email_contact": p_email,
        "upcoming_uplift": p_advisor - p0,
        "upcoming_segment": clienteling.expected_segment(p0, p_advisor),
    }


@dataclass
class _Assembled:
    """Purchase orders sorted by time with everything drawn for them (lines, quantities,
    discounts, returns, reviews), before identifiers are given: several of these (the
    base draw, minus the launch orders the contact effect removes, plus those it adds)
    are merged into one chunk's frames by `_order_frames`."""

    cust: np.ndarray
    t: np.ndarray
    online: np.ndarray
    store: np.ndarray
    canceled: np.ndarray
    delivered_t: np.ndarray
    promised_t: np.ndarray
    score: np.ndarray
    ob_pos: np.ndarray  # position of each order in the builder it came from
    line_rank: np.ndarray
    line_no: np.ndarray
    line_product: np.ndarray
    qty: np.ndarray
    price: np.ndarray
    discount: np.ndarray
    returned: np.ndarray  # per line
    ret_orders: np.ndarray  # purchase rank of each return document
    ret_t: np.ndarray
    review_rank: np.ndarray  # purchase rank of each review
    review_t: np.ndarray

    @property
    def placed(self) -> _Placed:
        return _Placed(cust=self.cust, t=self.t, online=self.online, canceled=self.canceled,
                       line_rank=self.line_rank, line_product=self.line_product)


def _assemble(cat: Catalog, rng: np.random.Generator, c: _Clients, ob: _Orders) -> _Assembled:
    """Sort the builder's orders by time and draw what follows them: quantities,
    discounts, delivery, returns and reviews."""
    cust = ob.cat("cust")
    t = ob.cat("t")
    online = ob.cat("online")
    store = ob.cat("store")
    canceled = ob.cat("canceled")
    delivery = ob.cat("delivery")
    late = ob.cat("late")
    score = ob.cat("score")
    line_order = ob.cat("line_order")
    line_product = ob.cat("line_product")

    order_sort = np.lexsort((cust, t))
    rank_of = np.empty(len(t), dtype=np.int64)
    rank_of[order_sort] = np.arange(len(t))
    n_orders = len(t)

    # Lines: numbered from 1 within each order, in the order they were drawn.
    line_rank = rank_of[line_order]
    ls = np.lexsort((np.arange(len(line_rank)), line_rank))
    line_rank, line_product = line_rank[ls], line_product[ls]
    starts = np.searchsorted(line_rank, np.arange(n_orders))
    line_no = np.arange(len(line_rank)) - starts[line_rank] + 1

    # Orders sorted by time from here on.
    cust, t, online, store = cust[order_sort], t[order_sort], online[order_sort], store[order_sort]
    canceled, delivery = canceled[order_sort], delivery[order_sort]
    late, score = late[order_sort], score[order_sort]

    pcat = cat.category[line_product]
    beauty = np.isin(pcat, [CATEGORIES.index("beauty"), CATEGORIES.index("fragrance")])
    n_lines = len(line_rank)
    qty = 1 + (rng.random(n_lines) < np.where(beauty, 0.25, 0.03)) + (
        beauty & (rng.random(n_lines) < 0.05))
    price = cat.list_price[line_product]
    lt = t[line_rank]
    col = cat.collection[line_product]
    old_season = (col >= 0) & (lt > cat.launch_t[np.maximum(col, 0)] + MARKDOWN_AFTER_DAYS)
    rate = np.where(old_season & (rng.random(n_lines) < 0.85),
                    rng.choice([0.3, 0.4, 0.5], n_lines), 0.0)
    rate = np.where((col < 0) & (rng.random(n_lines) < 0.01), 0.15, rate)  # goodwill gestures
    discount = np.round(price * qty * rate, 2)

    delivered_t = np.where(canceled, np.nan, t + delivery)
    promised_t = np.where(online, np.floor(t) + 5.0 + 18.0 / 24.0, np.nan)

    # Returns: a later document with negative quantities at the net price paid.
    l_online = online[line_rank]
    p_ret = (np.array([RETURN_RATE[x] for x in CATEGORIES])[pcat] + 0.03 * l_online
             + 0.12 * (score[line_rank] <= 2))
    ret_t_order = delivered_t + rng.uniform(3.0, 25.0, n_orders)
    returned = (~canceled[line_rank]) & (rng.random(n_lines) < p_ret) & (
        ret_t_order[line_rank] < END_T)
    ret_orders = np.unique(line_rank[returned])
    ret_t = np.floor(ret_t_order[ret_orders]) + np.where(
        online[ret_orders], 0.5, rng.uniform(10.0, 19.0, len(ret_orders)) / 24.0)

    # Reviews: a share of delivered orders, more often online; the score is the order's.
    reviewed = (~canceled) & (rng.random(n_orders) < np.where(online, 0.45, 0.2))
    review_t = delivered_t + rng.uniform(1.0, 14.0, n_orders)
    reviewed &= review_t < END_T
    rv = np.flatnonzero(reviewed)
    return _Assembled(
        cust=cust, t=t, online=online, store=store, canceled=canceled, delivered_t=delivered_t,
        promised_t=promised_t, score=score, ob_pos=order_sort, line_rank=line_rank,
        line_no=line_no, line_product=line_product, qty=qty, price=price, discount=discount,
        returned=returned, ret_orders=ret_orders, ret_t=ret_t, review_rank=rv,
        review_t=review_t[rv],
    )


def _store_habits(cat: Catalog, rng: np.random.Generator, c: _Clients,
                  traits: clienteling.Traits, a: _Assembled) -> None:
    """Store clients buy in the boutique as much as they value personal accompaniment:
    the sensitive ones move some online orders (never a canceled one) to their home store,
    and buy in another store less often; the indifferent ones order some of their store
    purchases online instead. The same day; opening hours in store (delivered at once,
    returned there), delivery and a promised date online. Done after every draw of the
    chunk's own stream, so nothing else moves."""
    m = len(a.t)
    store_client = c.home_store[a.cust] >= 0
    sensitivity = traits.store_sensitivity[a.cust]
    u = rng.random(m)
    to_store = a.online & ~a.canceled & store_client & (
        u < clienteling.boutique_share(sensitivity))
    to_online = ~a.online & store_client & (u < clienteling.online_share(sensitivity))
    home = ~a.online & ~to_online & store_client & (a.store != c.home_store[a.cust]) & (
        u < clienteling.boutique_share(sensitivity))
    store_hours = np.floor(a.t) + rng.uniform(10.0, 19.0, m) / 24.0
    online_hours = np.floor(a.t) + rng.beta(2.5, 1.6, m) * 0.99
    delivery = rng.gamma(4.0, 0.8, m)
    a.t = np.select([to_store, to_online], [store_hours, online_hours], a.t)
    a.online = (a.online & ~to_store) | to_online
    a.store = np.select([to_store | home, to_online], [c.home_store[a.cust], -1], a.store)
    a.delivered_t = np.select([to_store, to_online], [a.t, a.t + delivery], a.delivered_t)
    a.promised_t = np.select([to_store, to_online],
                             [np.nan, np.floor(a.t) + 5.0 + 18.0 / 24.0], a.promised_t)
    moved = (to_store | to_online)[a.ret_orders]
    day = np.floor(a.ret_t)
    a.ret_t = np.where(moved, np.where(a.online[a.ret_orders], day + 0.5,
                                       day + (store_hours[a.ret_orders] % 1.0)), a.ret_t)
    a.ret_t = np.maximum(a.ret_t, np.nan_to_num(a.delivered_t[a.ret_orders], nan=-np.inf))
    a.review_t = np.maximum(a.review_t, a.delivered_t[a.review_rank])


def _order_frames(
    cat: Catalog, c: _Clients, cust_ids: np.ndarray,
    parts: list[tuple[_Assembled, np.ndarray]], counters: Counters,
) -> tuple[dict[str, pd.DataFrame], dict[str, object], np.ndarray]:
    """Orders, lines, returns and reviews as contract frames from the kept purchase orders
    of each part (``(assembled, keep mask)``), identifiers given in time order (purchases,
    then their returns, as one draw would have given them)."""
    kept = [(a, np.flatnonzero(keep)) for a, keep in parts]
    cust = np.concatenate([a.cust[k] for a, k in kept])
    t = np.concatenate([a.t[k] for a, k in kept])
    order = np.lexsort((np.arange(len(t)), cust, t))
    n_orders = len(t)
    final = np.empty(n_orders, dtype=np.int64)
    final[order] = np.arange(n_orders)
    # Each part's purchase rank -> final rank (-1 when dropped).
    rank_maps, offset = [], 0
    for a, k in kept:
        m = np.full(len(a.t), -1, dtype=np.int64)
        m[k] = final[offset + np.arange(len(k))]
        rank_maps.append(m)
        offset += len(k)

    def per_order(name: str) -> np.ndarray:
        values = np.concatenate([getattr(a, name)[k] for a, k in kept])
        return values[order]

    cust, t = cust[order], t[order]
    online, store, canceled = per_order("online"), per_order("store"), per_order("canceled")
    delivered_t, promised_t = per_order("delivered_t"), per_order("promised_t")
    score = per_order("score")

    def per_line(name: str) -> np.ndarray:
        return np.concatenate([getattr(a, name)[m[a.line_rank] >= 0]
                               for (a, _), m in zip(kept, rank_maps, strict=True)])

    line_rank = np.concatenate([m[a.line_rank][m[a.line_rank] >= 0]
                                for (a, _), m in zip(kept, rank_maps, strict=True)])
    line_no = per_line("line_no")
    ls = np.lexsort((line_no, line_rank))
    line_rank, line_no = line_rank[ls], line_no[ls]
    line_product, qty = per_line("line_product")[ls], per_line("qty")[ls]
    price, discount = per_line("price")[ls], per_line("discount")[ls]
    returned = per_line("returned")[ls]

    order_ids = make_ids("O", counters.order + 1 + np.arange(n_orders), 9)
    counters.order += n_orders
    ret_orders = np.unique(line_rank[returned])
    n_ret = len(ret_orders)
    ret_t_by_rank = np.full(n_orders, np.nan)
    for (a, _), m in zip(kept, rank_maps, strict=True):
        ok = m[a.ret_orders] >= 0
        ret_t_by_rank[m[a.ret_orders][ok]] = a.ret_t[ok]
    ret_t = ret_t_by_rank[ret_orders]
    ret_ids = make_ids("O", counters.order + 1 + np.arange(n_ret), 9)
    counters.order += n_ret
    ret_pos = np.searchsorted(ret_orders, line_rank[returned])
    rl_starts = np.searchsorted(ret_pos, np.arange(n_ret))
    ret_line_no = np.arange(len(ret_pos)) - rl_starts[ret_pos] + 1
    net_unit = np.round((price * qty - discount) / qty, 2)
    status = np.where(canceled, "canceled", "delivered")

    customers_col = cust_ids[cust]
    store_ids = np.where(store >= 0, cat.store_ids[np.maximum(store, 0)], None)
    store_country = np.array(MARKETS, dtype=object)[cat.store_country[np.maximum(store, 0)]]
    country = np.where(store >= 0, store_country, np.array(MARKETS, dtype=object)[c.country[cust]])
    orders = pd.DataFrame({
        "order_id": np.concatenate([order_ids, ret_ids]),
        "customer_id": np.concatenate([customers_col, customers_col[ret_orders]]),
        "ordered_at": to_ts(np.concatenate([t, ret_t])),
        "channel": np.where(np.concatenate([online, online[ret_orders]]), "online", "store"),
        "store_id": np.concatenate([store_ids, store_ids[ret_orders]]),
        "country": np.concatenate([country, country[ret_orders]]),
        "status": np.concatenate([status, np.full(n_ret, "returned")]),
        "delivered_at": to_ts(np.concatenate([delivered_t, ret_t])),
        "promised_delivery_at": to_ts(np.concatenate([promised_t, np.full(n_ret, np.nan)])),
    })
    order_lines = pd.DataFrame({
        "order_id": np.concatenate([order_ids[line_rank], ret_ids[ret_pos]]),
        "line_number": np.concatenate([line_no, ret_line_no]),
        "product_id": cat.product_ids[np.concatenate([line_product, line_product[returned]])],
        "quantity": np.concatenate([qty, -qty[returned]]),
        "unit_price": np.concatenate([price, net_unit[returned]]),
        "discount": np.concatenate([discount, np.zeros(returned.sum())]),
    })

    review_rank = np.concatenate([m[a.review_rank][m[a.review_rank] >= 0]
                                  for (a, _), m in zip(kept, rank_maps, strict=True)])
    review_t = np.concatenate([a.review_t[m[a.review_rank] >= 0]
                               for (a, _), m in zip(kept, rank_maps, strict=True)])
    rs = np.argsort(review_rank, kind="stable")
    review_rank, review_t = review_rank[rs], review_t[rs]
    reviews = pd.DataFrame({
        "review_id": make_ids("R", counters.review + 1 + np.arange(len(review_rank)), 9),
        "order_id": order_ids[review_rank],
        "score": score[review_rank],
        "created_at": to_ts(review_t),
    })
    counters.review += len(review_rank)

    # Figures for the summary: purchases only (no cancellations, no return documents).
    valid = ~canceled
    per_customer = np.bincount(cust[valid], minlength=c.n)
    line_ok = valid[line_rank]
    revenue = np.bincount(line_product[line_ok],
                          weights=(price * qty - discount)[line_ok], minlength=cat.n_products)
    stats: dict[str, object] = {
        "customers": c.n,
        "buyers": int((per_customer > 0).sum()),
        "repeat_buyers": int((per_customer > 1).sum()),
        "purchase_orders": int(valid.sum()),
        "returned_lines": int(returned.sum()),
        "_orders_per_customer": per_customer,
    }
    tables = {"orders": orders, "order_lines": order_lines, "reviews": reviews}
    return tables, stats, revenue


def _web_events(
    cat: Catalog, rng: np.random.Generator, c: _Clients, cust_ids: np.ndarray, placed: _Placed,
    counters: Counters, lux: np.random.Generator, traits: clienteling.Traits,
) -> pd.DataFrame:
    """Browsing: views and carts of what is then bought, of similar products, and idle
    browsing; views mostly at the client's reading hour (`lux`)."""
    cust, t, online = placed.cust, placed.t, placed.online
    line_rank, line_product = placed.line_rank, placed.line_product
    lc = cust[line_rank]
    lt = t[line_rank]
    lonline = online[line_rank]
    n_l = len(line_rank)

    # Intent shows before a purchase: the item is viewed in the days before, often carted.
    browsed = rng.random(n_l) < 0.25 + 0.5 * c.engagement[lc] + 0.15 * lonline
    b = np.flatnonzero(browsed)
    n_views = 1 + np.minimum(rng.poisson(0.3 + 1.5 * c.engagement[lc[b]]), 5)
    vi = np.repeat(b, n_views)
    view_t = lt[vi] - rng.exponential(3.0, len(vi)) - 0.01
    carted = (rng.random(n_l) < np.where(lonline, 0.85, 0.08)) & browsed
    ci = np.flatnonzero(carted)
    cart_t = lt[ci] - np.where(lonline[ci], rng.uniform(0.002, 0.1, len(ci)),
                               rng.uniform(0.5, 5.0, len(ci)))
    # Similar products of the same family compared before choosing.
    n_sim = np.minimum(rng.poisson(0.9, len(b)), 4)
    si = np.repeat(b, n_sim)
    sim_t = lt[si] - rng.exponential(4.0, len(si)) - 0.01
    period = cat.regular_period(np.maximum(sim_t, 0.0))
    sim_prod = _pick_products(cat, rng, period, cat.family[line_product[si]], c, lc[si])

    # Idle browsing over the client's active life, partly drawn to the family they would buy
    # next: the signal a sequence model can use for one-time buyers.
    end = np.minimum(np.where(np.isnan(c.churn_t), END_T, c.churn_t), END_T)
    life = np.maximum(end - c.first_seen_t, 0.0)
    rate = 0.012 * c.engagement * np.where(c.is_prospect, 0.5, 1.0)
    n_idle = rng.poisson(rate * life)
    ii = np.repeat(np.arange(c.n), n_idle)
    idle_t = c.first_seen_t[ii] + rng.random(len(ii)) * life[ii]
    first_fam = np.full(c.n, -1)
    if len(line_rank):
        first_line = np.unique(lc, return_index=True)
        first_fam[first_line[0]] = cat.family[line_product[first_line[1]]]
    after_first = (first_fam[ii] >= 0) & (idle_t > c.first_order_t[ii])
    nxt = sample_rows(cat.next_cum, np.maximum(first_fam[ii], 0), rng.random(len(ii)))
    idle_fam = np.where(after_first & (rng.random(len(ii)) < 0.5), nxt,
                        _pref_family(cat, rng, c, ii))
    idle_prod = _pick_products(cat, rng, cat.regular_period(idle_t), idle_fam, c, ii)

    # Abandoned carts: a cart alone does not mean a purchase.
    ab_sim = np.flatnonzero(rng.random(len(si)) < 0.12)
    ab_idle = np.flatnonzero(rng.random(len(ii)) < 0.04)
    ab_cust = np.concatenate([lc[si][ab_sim], ii[ab_idle]])
    ab_prod = np.concatenate([sim_prod[ab_sim], idle_prod[ab_idle]])
    ab_t = np.concatenate([sim_t[ab_sim], idle_t[ab_idle]]) + rng.uniform(
        0.001, 0.02, len(ab_sim) + len(ab_idle))
    # Browsing at the client's reading hour (days kept; views still before the purchase).
    view_shown = clienteling.browsing_times(lux, traits, lc[vi], view_t, before=lt[vi])
    sim_shown = clienteling.browsing_times(lux, traits, lc[si], sim_t, before=lt[si])
    idle_shown = clienteling.browsing_times(lux, traits, ii, idle_t)
    ab_t += np.concatenate([sim_shown[ab_sim] - sim_t[ab_sim],
                            idle_shown[ab_idle] - idle_t[ab_idle]])
    view_t, sim_t, idle_t = view_shown, sim_shown, idle_shown

    # New-collection browsing: around every launch (previews a week before, then the
    # first days), early adopters look at the new pieces and put some in the cart
    # whether or not they buy; others do so now and then.
    la_c, la_p, la_t, la_type = _launch_browsing(cat, rng, c, end)
    la_view = la_type == 0
    la_t = np.where(la_view, clienteling.browsing_times(lux, traits, la_c, la_t), la_t)

    ev_cust = np.concatenate([lc[vi], lc[ci], lc[si], ii, ab_cust, la_c])
    ev_prod = np.concatenate([line_product[vi], line_product[ci], sim_prod, idle_prod, ab_prod,
                              la_p])
    ev_t = np.concatenate([view_t, cart_t, sim_t, idle_t, ab_t, la_t])
    ev_type = np.concatenate([np.zeros(len(vi), dtype=np.int8), np.ones(len(ci), np.int8),
                              np.zeros(len(si) + len(ii), np.int8),
                              np.ones(len(ab_cust), np.int8), la_type])
    keep = (ev_t >= 0.0) & (ev_t < END_T) & (ev_prod >= 0)
    ev_cust, ev_prod, ev_t, ev_type = ev_cust[keep], ev_prod[keep], ev_t[keep], ev_type[keep]
    order = np.lexsort((ev_type, ev_prod, ev_cust, ev_t))
    n_ev = len(order)
    frame = pd.DataFrame({
        "event_id": make_ids("W", counters.web + 1 + np.arange(n_ev), 10),
        "customer_id": cust_ids[ev_cust[order]],
        "product_id": cat.product_ids[ev_prod[order]],
        "event_type": np.array(["view", "add_to_cart"], dtype=object)[ev_type[order]],
        "occurred_at": to_ts(ev_t[order]),
    })
    counters.web += n_ev
    return frame


def _launch_browsing(
    cat: Catalog, rng: np.random.Generator, c: _Clients, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Views and carts of each launch's pieces from a week before to ten days after it.

    A loop over collections only. Returns client, product, time and event type
    (0 view, 1 add_to_cart); times past the end of the history are dropped by the caller.
    """
    lean = ea_lean(c.ea)
    parts = []
    for ci in [*cat.past, cat.upcoming]:
        launch = cat.launch_t[ci]
        if launch - 7.0 >= END_T:
            continue
        known = (c.first_seen_t < launch - 7.0) & (end > launch - 7.0)
        p = np.clip(0.04 + 0.28 * lean + 0.15 * c.engagement, 0.005, 0.7)
        who = np.flatnonzero(known & (rng.random(c.n) < p))
        n_views = 1 + np.minimum(rng.poisson(0.8 + 1.5 * np.maximum(lean[who], 0.0)), 6)
        vc = np.repeat(who, n_views)
        vt = launch + rng.uniform(-7.0, 10.0, len(vc))
        vp = _pick_products(cat, rng, np.full(len(vc), cat.launch_period(int(ci))),
                            _pref_family(cat, rng, c, vc), c, vc)
        carted = rng.random(len(vc)) < np.clip(0.05 + 0.15 * lean[vc], 0.01, 0.4)
        parts.append((np.concatenate([vc, vc[carted]]), np.concatenate([vp, vp[carted]]),
                      np.concatenate([vt, vt[carted] + rng.uniform(0.001, 0.02, carted.sum())]),
                      np.concatenate([np.zeros(len(vc), np.int8),
                                      np.ones(carted.sum(), np.int8)])))
    if not parts:
        empty = np.array([], dtype=np.int64)
        return empty, empty, np.array([], dtype=np.float64), np.array([], dtype=np.int8)
    return tuple(np.concatenate([p[k] for p in parts]) for k in range(4))  # type: ignore[return-value]


def _email_events(
    cat: Catalog, rng: np.random.Generator, c: _Clients, cust_ids: np.ndarray, placed: _Placed,
    counters: Counters, lux: np.random.Generator, traits: clienteling.Traits,
) -> pd.DataFrame:
    """Newsletters, the Edit and launch e-mails; opens and clicks rise when a purchase is
    near.

    Newsletters and the Edit go out over the week after their date, each client's at a random time
    (`lux`); the block it lands in moves the chance it is opened (the client's block
    multiplier) and it is read at the client's reading hour. Launch e-mails and previews
    go out on the morning of their day and are read whatever the hour: a launch is news.
    """
    cust, t, canceled = placed.cust, placed.t, placed.canceled
    # Orders sorted by client then time, to find each client's next order after a send.
    keys = cust[~canceled] * 4096.0 + t[~canceled]
    keys.sort()
    sends: list[tuple[str, float, float, bool]] = []
    for year, month in [(2023 + (9 + i) // 12, (9 + i) % 12 + 1) for i in range(36)]:
        d = (np.datetime64(f"{year}-{month:02d}-05") - np.datetime64(HISTORY_START)).astype(int)
        sends.append((f"EM-NL-{year}-{month:02d}", float(d), 0.4, False))
    # Each launch is announced twice: a preview a week before (a few looks, to the
    # clients the house knows) and the launch e-mail on the day. The upcoming
    # collection's preview goes out too when it falls before the end of the history.
    for ci in [*cat.past, cat.upcoming]:
        cid = cat.collections["collection_id"].iloc[ci]
        if cat.launch_t[ci] - 7.0 < END_T:
            sends.append((f"EM-PREVIEW-{cid}", float(cat.launch_t[ci]) - 7.0, 0.8, True))
        if ci != cat.upcoming:
            sends.append((f"EM-LAUNCH-{cid}", float(cat.launch_t[ci]), 1.0, True))
    # The Edit: a fortnightly e-mail of the house's stories, spread over the week like the
    # newsletters; drawn entirely from the clienteling stream (after every other send),
    # so the e-mails above keep their draws.
    edits = len(sends)
    for day in np.arange(clienteling.EDIT_FIRST_DAY, END_T, clienteling.EDIT_EVERY_DAYS):
        date = np.datetime64(HISTORY_START) + np.timedelta64(int(day), "D")
        sends.append((f"EM-EDIT-{date}", float(day), clienteling.EDIT_SEND_SHARE, False))
    lean = ea_lean(c.ea)

    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    names = []
    churn = np.where(np.isnan(c.churn_t), np.inf, c.churn_t)
    for k, (name, day, p_send, is_launch) in enumerate(sends):
        names.append(name)
        draw = lux if k >= edits else rng
        sent = np.flatnonzero(c.email_opt_in & (c.first_seen_t <= day) & (draw.random(c.n) < p_send))
        m = len(sent)
        send_t = day + 9.0 / 24.0 + draw.uniform(0.0, 2.0 / 24.0, m)
        if not is_launch:
            send_t = clienteling.newsletter_send_times(lux, day, m)
        q = sent * 4096.0 + day
        idx = np.searchsorted(keys, q, side="right")
        nxt = np.where(idx < len(keys), keys[np.minimum(idx, len(keys) - 1)] - q, np.inf)
        soon = (nxt > 0) & (nxt <= 21.0)
        eng = c.engagement[sent]
        # Early adopters read launch news: they open and click launch e-mails and
        # previews far more than newsletters (a client's own reading noise on top).
        le = lean[sent]
        p_open = (0.05 + 0.45 * eng + 0.2 * soon
                  + (0.3 * le + 0.08 if is_launch else 0.03 * le))
        if not is_launch:
            p_open = p_open * traits.block_multiplier[sent, clienteling.block_of(send_t)]
        p_open = np.clip(p_open, 0.01, 0.97) * np.where(churn[sent] < day, 0.25, 1.0)
        opened = draw.random(m) < p_open
        open_t = send_t + draw.exponential(0.4, m)
        if not is_launch:
            open_t = clienteling.reading_times(lux, traits, sent, send_t)
        p_click = 0.1 + 0.3 * eng + 0.25 * soon + (0.25 * le if is_launch else 0.0)
        clicked = opened & (draw.random(m) < np.clip(p_click, 0.02, 0.95))
        click_t = open_t + draw.exponential(0.01, m)
        ev_c = np.concatenate([sent, sent[opened], sent[clicked]])
        ev_t = np.concatenate([send_t, open_t[opened], click_t[clicked]])
        ev_k = np.full(len(ev_c), k)
        ev_type = np.concatenate([np.zeros(m, np.int8), np.ones(opened.sum(), np.int8),
                                  np.full(clicked.sum(), 2, np.int8)])
        parts.append((ev_c, ev_t, ev_k, ev_type))
    ev_c = np.concatenate([p[0] for p in parts])
    ev_t = np.concatenate([p[1] for p in parts])
    ev_k = np.concatenate([p[2] for p in parts])
    ev_type = np.concatenate([p[3] for p in parts])
    keep = ev_t < END_T
    ev_c, ev_t, ev_k, ev_type = ev_c[keep], ev_t[keep], ev_k[keep], ev_type[keep]
    order = np.lexsort((ev_type, ev_c, ev_t))
    n_ev = len(order)
    frame = pd.DataFrame({
        "event_id": make_ids("M", counters.email + 1 + np.arange(n_ev), 10),
        "customer_id": cust_ids[ev_c[order]],
        "campaign_id": np.array(names, dtype=object)[ev_k[order]],
        "event_type": np.array(["sent", "open", "click"], dtype=object)[ev_type[order]],
        "occurred_at": to_ts(ev_t[order]),
    })
    counters.email += n_ev
    return frame
