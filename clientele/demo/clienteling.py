"""The luxury house's clienteling truth: when each client reads e-mail, how much an
advisor's personal accompaniment moves them, and what a launch contact really changes.

Everything here is drawn from streams of its own (one per chunk and purpose, apart from
the stream the rest of the generator uses), so the tables the other traits drive keep
their values: only newsletter send and open times, which newsletters are opened, the
time of day of idle browsing, and the launch orders the contact effect adds or removes
move (docs/demo_brand.md, *Clienteling*).

Hours and days are the client's local time (each market's data is in local time).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clientele.demo.catalog import HISTORY_START, MARKETS

# --- Send time. ---
BLOCK_HOURS = 3  # a send block is a day of the week x a 3-hour block of the day
BLOCKS_PER_DAY = 24 // BLOCK_HOURS
FIRST_SENDABLE_BLOCK = 2  # the house sends between 06:00 and midnight
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# HISTORY_START as a weekday (Monday 0): the generator's day t is weekday (t + this) % 7.
FIRST_WEEKDAY = HISTORY_START.weekday()
# Moments at which people read their e-mail (hour of day): morning commute, lunch,
# evening, late evening; each market has its habits (share of clients per moment).
READING_MOMENTS = np.array([7.5, 12.5, 19.5, 22.5])
MARKET_READING = {
    "FR": (0.20, 0.35, 0.30, 0.15),
    "IT": (0.15, 0.20, 0.35, 0.30),
    "DE": (0.45, 0.20, 0.25, 0.10),
    "UK": (0.30, 0.30, 0.30, 0.10),
    "US": (0.20, 0.20, 0.40, 0.20),
    "JP": (0.50, 0.20, 0.15, 0.15),
}
# Each client has a favourite day to read; markets lean to weekdays or to the weekend.
MARKET_DAYS = {
    "FR": (0.12, 0.13, 0.12, 0.12, 0.11, 0.15, 0.25),
    "IT": (0.12, 0.12, 0.12, 0.12, 0.12, 0.20, 0.20),
    "DE": (0.17, 0.17, 0.16, 0.16, 0.14, 0.10, 0.10),
    "UK": (0.13, 0.15, 0.15, 0.15, 0.12, 0.15, 0.15),
    "US": (0.12, 0.16, 0.16, 0.16, 0.12, 0.14, 0.14),
    "JP": (0.16, 0.16, 0.16, 0.16, 0.16, 0.10, 0.10),
}
READ_HOUR_SD = 0.75  # a client's own reading hour around the market's moment
HOUR_WIDTH = 2.0  # how fast the pull of a send fades with hours away from the reading hour
DAY_WIDTH = 0.8  # ... and with days away from the favourite day
HOUR_FLOOR = 0.25  # a send far from the reading hour still gets read, less often
DAY_FLOOR = 0.6
PULL_POWER = 0.8  # how sharply the open rate follows the pull of the block
# Timing responsiveness: how much the send block matters to the client (0: not at all).
RESPONSIVENESS_BETA = (2.5, 1.5)
# The Edit: a fortnightly e-mail (from 2023-10-12) to half the opted-in clients, spread
# over the week: most of what a model learns a client's timing from.
EDIT_FIRST_DAY, EDIT_EVERY_DAYS, EDIT_SEND_SHARE = 11.0, 14.0, 0.5
QUICK_READ_HOURS = 1.0  # a send in the client's reading window is read within about an hour
BROWSING_AT_READING_HOUR = 0.6  # share of browsing (views) at the client's reading hour

# --- Store sensitivity and contact effect. ---
# Logit of store sensitivity: store clients, clients who rarely read e-mail and (a
# little) early adopters value personal accompaniment most.
STORE_LOGIT = {"intercept": -1.7, "store_client": 0.9, "disengaged": 0.9, "lean": 0.5,
               "noise": 0.4}
# Store clients buy in the boutique as much as they value accompaniment: a share of a
# sensitive client's online orders (slope x sensitivity above BOUTIQUE_FROM) moves to the
# home store; a share of an indifferent one's store orders (slope x sensitivity below
# ONLINE_BELOW) is placed online instead.
BOUTIQUE_FROM, BOUTIQUE_SLOPE = 0.2, 1.4
ONLINE_BELOW, ONLINE_SLOPE = 0.35, 2.0
STORE_SENSITIVE_AT = 0.5  # is_store_sensitive: store_sensitivity >= this
# Logit of contact aversion: unhappy clients are put off by being solicited.
AVERSION_LOGIT = {"intercept": -0.8, "satisfaction": -1.2, "noise": 0.6}
SURE_FROM, SURE_SPAN = 0.45, 0.25  # strong early adopters buy a launch whether called or not
INTEREST_FROM, INTEREST_SPAN = 0.10, 0.20  # no call sells a launch to a client it bores
FIT_WIDTH = 0.30  # an advisor sells a collection that fits the client's taste best
PERSUASION_MAX = 0.7  # the most an advisor's call adds to the chance of buying
EMAIL_PERSUASION = 0.5  # an e-mail persuades a reader half as much as an advisor a sensitive client
AVERSION_ADVISOR, AVERSION_EMAIL = 0.7, 0.6  # share of the sale a put-off client withdraws
ADVISOR_CHANNELS = ("phone", "store")
# Truth segments for the upcoming launch (from the true probabilities, advisor contact).
PERSUADABLE_FROM = 0.03  # uplift at or above: persuadable
DO_NOT_DISTURB_BELOW = -0.02  # uplift at or below: do-not-disturb
SURE_THING_FROM = 0.10  # otherwise, chance of buying without contact at or above: sure thing


def streams(seed: int, chunk: int) -> dict[str, np.random.Generator]:
    """The clienteling streams of one chunk, one per purpose, apart from the chunk's own."""
    purposes = ("traits", "web", "email", "launch", "store")
    return {name: np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2, chunk, j)))
            for j, name in enumerate(purposes)}


@dataclass
class Traits:
    """A chunk's clienteling traits (arrays of length n)."""

    read_hour: np.ndarray  # hour of day (0-24) the client reads e-mail
    read_day: np.ndarray  # favourite day to read, Monday 0
    responsiveness: np.ndarray  # 0-1, how much the send block matters
    store_sensitivity: np.ndarray  # 0-1
    aversion: np.ndarray  # 0-1, contact aversion
    block_multiplier: np.ndarray  # n x 56: open-rate multiplier of a send in each block


def _circular(a: np.ndarray, b: np.ndarray, period: float) -> np.ndarray:
    d = np.abs(a - b) % period
    return np.minimum(d, period - d)


def block_multiplier(read_hour: np.ndarray, read_day: np.ndarray,
                     responsiveness: np.ndarray) -> np.ndarray:
    """n x 56 open-rate multipliers, one per block (day x 3-hour block, block index
    day * 8 + hour block): the pull of the block on the client, relative to the client's
    average over the blocks the house sends in, mixed with 1 by the responsiveness.
    Its mean over the sendable blocks is 1, so timing moves opens, not the open rate."""
    centres = np.arange(BLOCKS_PER_DAY) * BLOCK_HOURS + BLOCK_HOURS / 2
    hour_pull = HOUR_FLOOR + np.exp(
        -_circular(centres[None, :], read_hour[:, None], 24.0) ** 2 / (2 * HOUR_WIDTH**2))
    day_pull = DAY_FLOOR + 0.8 * np.exp(
        -_circular(np.arange(7)[None, :], read_day[:, None], 7.0) ** 2 / (2 * DAY_WIDTH**2))
    pull = (day_pull[:, :, None] * hour_pull[:, None, :]) ** PULL_POWER
    pull = pull.reshape(len(read_hour), -1)
    sendable = np.zeros(7 * BLOCKS_PER_DAY, dtype=bool)
    sendable.reshape(7, BLOCKS_PER_DAY)[:, FIRST_SENDABLE_BLOCK:] = True
    relative = pull / pull[:, sendable].mean(axis=1, keepdims=True)
    return (1.0 - responsiveness[:, None]) + responsiveness[:, None] * relative


def draw_traits(rng: np.random.Generator, country: np.ndarray, online_only: np.ndarray,
                lean: np.ndarray, engagement: np.ndarray, satisfaction: np.ndarray) -> Traits:
    """Each client's reading habits, store sensitivity and contact aversion."""
    n = len(country)
    moment_cum = np.cumsum([MARKET_READING[m] for m in MARKETS], axis=1)
    day_cum = np.cumsum([MARKET_DAYS[m] for m in MARKETS], axis=1)
    moment = np.minimum((rng.random(n)[:, None] >= moment_cum[country]).sum(1), 3)
    read_hour = (READING_MOMENTS[moment] + rng.normal(0.0, READ_HOUR_SD, n)) % 24.0
    read_day = np.minimum((rng.random(n)[:, None] >= day_cum[country]).sum(1), 6)
    responsiveness = rng.beta(*RESPONSIVENESS_BETA, n)
    s = STORE_LOGIT
    logit = (s["intercept"] + s["store_client"] * (~online_only)
             + s["disengaged"] * (0.33 - engagement) / 0.17 + s["lean"] * lean
             + rng.normal(0.0, s["noise"], n))
    a = AVERSION_LOGIT
    aversion_logit = (a["intercept"] + a["satisfaction"] * satisfaction
                      + rng.normal(0.0, a["noise"], n))
    return Traits(
        read_hour=read_hour, read_day=read_day, responsiveness=responsiveness,
        store_sensitivity=1.0 / (1.0 + np.exp(-logit)),
        aversion=1.0 / (1.0 + np.exp(-aversion_logit)),
        block_multiplier=block_multiplier(read_hour, read_day, responsiveness),
    )


def boutique_share(store_sensitivity: np.ndarray) -> np.ndarray:
    """Share of a store client's online orders placed in the home store instead."""
    return np.clip(BOUTIQUE_SLOPE * (store_sensitivity - BOUTIQUE_FROM), 0.0, 0.95)


def online_share(store_sensitivity: np.ndarray) -> np.ndarray:
    """Share of a store client's store orders placed online instead."""
    return np.clip(ONLINE_SLOPE * (ONLINE_BELOW - store_sensitivity), 0.0, 0.7)


def weekday(t: np.ndarray) -> np.ndarray:
    """Day of the week (Monday 0) of generator times (days since HISTORY_START)."""
    return ((np.floor(t).astype(np.int64) + FIRST_WEEKDAY) % 7).astype(np.int64)


def block_of(t: np.ndarray) -> np.ndarray:
    """Send block (day * 8 + 3-hour block) of generator times."""
    hour = (t - np.floor(t)) * 24.0
    return weekday(t) * BLOCKS_PER_DAY + np.minimum(hour // BLOCK_HOURS, BLOCKS_PER_DAY - 1
                                                    ).astype(np.int64)


def block_label(block: np.ndarray) -> np.ndarray:
    """'Tue 12-15' for a block index."""
    day = np.array(DAY_NAMES, dtype=object)[block // BLOCKS_PER_DAY]
    start = (block % BLOCKS_PER_DAY) * BLOCK_HOURS
    return np.array([f"{d} {s:02d}-{s + BLOCK_HOURS:02d}" for d, s in zip(day, start,
                                                                          strict=True)],
                    dtype=object)


def newsletter_send_times(rng: np.random.Generator, day: float, m: int) -> np.ndarray:
    """When each of a newsletter's m sends goes out: the house spreads a newsletter over
    the week after its date and over the hours it sends in (06:00-24:00), each client's
    send drawn at random, which is what lets a model learn each client's best time."""
    offset = rng.integers(0, 7, m)
    hour = rng.uniform(FIRST_SENDABLE_BLOCK * BLOCK_HOURS, 24.0, m)
    return day + offset + hour / 24.0


def reading_times(rng: np.random.Generator, traits: Traits, who: np.ndarray,
                  send_t: np.ndarray) -> np.ndarray:
    """When each send is opened, if it is: soon when it lands near the client's reading
    hour, otherwise at the client's next reading hour (sometimes a day later)."""
    m = len(who)
    hour = (send_t - np.floor(send_t)) * 24.0
    near = _circular(hour, traits.read_hour[who], 24.0) <= HOUR_WIDTH
    quick = send_t + rng.exponential(QUICK_READ_HOURS / 24.0, m)
    read_at = (traits.read_hour[who] + rng.normal(0.0, 0.5, m)) % 24.0
    next_read = np.floor(send_t) + read_at / 24.0
    next_read = np.where(next_read <= send_t, next_read + 1.0, next_read)
    next_read += rng.random(m) < 0.25
    return np.where(near, quick, next_read)


def browsing_times(rng: np.random.Generator, traits: Traits, who: np.ndarray,
                   t: np.ndarray, before: np.ndarray | None = None) -> np.ndarray:
    """Browsing keeps its day; most of it moves to the client's reading hour (unless that
    would put a view after the purchase it precedes, ``before``)."""
    m = len(who)
    at_reading = rng.random(m) < BROWSING_AT_READING_HOUR
    hour = (traits.read_hour[who] + rng.normal(0.0, 1.25, m)) % 24.0
    moved = np.floor(t) + hour / 24.0
    if before is not None:
        at_reading &= moved < before
    return np.where(at_reading, moved, t)


def sure_share(ea: np.ndarray) -> np.ndarray:
    """How far a client buys a launch whatever the contact: 0 below early-adopter
    propensity 0.45, 1 from 0.70."""
    return np.clip((ea - SURE_FROM) / SURE_SPAN, 0.0, 1.0)


def contact_probabilities(p_base: np.ndarray, ea: np.ndarray, appetence: np.ndarray,
                          store_sensitivity: np.ndarray, engagement: np.ndarray,
                          aversion: np.ndarray, advisor: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray]:
    """(p without contact, p with the contact) of buying a launch's collection.

    Without contact a client buys with half the launch probability, up to all of it for
    strong early adopters (sure things). A contact persuades clients who are not sure
    things but have some interest in new collections, the more so when the collection
    fits their taste: an advisor's call or invitation as far as the client values
    personal accompaniment (store sensitivity), an e-mail as far as the client reads
    e-mail (engagement, and less); and it puts off averse clients, who withdraw part of
    the purchase they would have made.
    """
    sure = sure_share(ea)
    p0 = p_base * (0.5 + 0.5 * sure)
    interest = np.clip((ea - INTEREST_FROM) / INTEREST_SPAN, 0.0, 1.0)
    fit = 0.4 + 0.6 * np.exp(-(((appetence - 0.5) / FIT_WIDTH) ** 2))
    receptiveness = np.where(advisor, store_sensitivity, EMAIL_PERSUASION * engagement)
    persuasion = PERSUASION_MAX * receptiveness * (1.0 - sure) * interest * fit
    put_off = aversion * np.where(advisor, AVERSION_ADVISOR, AVERSION_EMAIL)
    p1 = p0 * (1.0 - put_off) + (1.0 - p0) * persuasion
    return p0, p1


def response_type(u: np.ndarray, p0: np.ndarray, p1: np.ndarray) -> np.ndarray:
    """The client's type for one launch, given the one uniform draw both outcomes share:
    sure thing (buys either way), persuadable (only if contacted), do-not-disturb (only
    if not contacted), lost cause (neither)."""
    y0, y1 = u < p0, u < p1
    return np.select([y0 & y1, y1, y0], ["sure_thing", "persuadable", "do_not_disturb"],
                     "lost_cause").astype(object)


def expected_segment(p0: np.ndarray, p1: np.ndarray) -> np.ndarray:
    """The truth's segment from the probabilities (thresholds documented above)."""
    uplift = p1 - p0
    return np.select(
        [uplift >= PERSUADABLE_FROM, uplift <= DO_NOT_DISTURB_BELOW, p0 >= SURE_THING_FROM],
        ["persuadable", "do_not_disturb", "sure_thing"], "lost_cause").astype(object)
