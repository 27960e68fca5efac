"""Send-time optimisation: each client's best block of the week (day x 3-hour block) to
send an e-mail, from their own sends, opens, clicks and web visits, shrunk toward their
market's pattern when they have few events.

The model is empirical Bayes plus a small logistic regression:

- a client's **reading pattern** over the 8 blocks of the day and the 7 days of the week,
  once for e-mail opens and clicks and once for web visits, is a Dirichlet-smoothed share
  (hours smoothed with their neighbours), the market's pattern weighing
  ``prior_strength`` events: a client with three events reads like the market,
  one with three hundred like themselves;
- a client's **open lift** per block of the day and per weekday (opens over the opens
  the campaign's market-wide rate predicts) is shrunk the same way toward the market's;
- the market's own lift in each of the 56 blocks;
- a logistic regression learns, on sends after a cut whose features stop at that cut, how
  these turn into the chance that a send in a given block is opened (with the campaign's
  open rate as an offset-like feature, so a good newsletter does not pass for a good hour).

The best block is the sendable block with the highest predicted open rate. Everything is
vectorised over clients x blocks; a batch of clients is scored at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

HOURS = 8  # 3-hour blocks of the day
DAYS = 7
BLOCKS = DAYS * HOURS
FIRST_SENDABLE_HOUR_BLOCK = 2  # houses send between 06:00 and midnight
SENDABLE = np.array([d * HOURS + h for d in range(DAYS)
                     for h in range(FIRST_SENDABLE_HOUR_BLOCK, HOURS)])
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: Expected opens a market's block lift is shrunk with toward 1.
MARKET_PRIOR = 20.0
FEATURES = ("mail_hour", "mail_day", "web_hour", "web_day", "lift_hour", "lift_day",
            "market_block", "client_lift", "campaign_logit")
#: A read at 17:50 says 18:00-21:00 suits too: hour counts are smoothed with neighbours.
HOUR_KERNEL = (0.25, 0.5, 0.25)

MAIL_H = [f"mail_h{i}" for i in range(HOURS)]
MAIL_D = [f"mail_d{i}" for i in range(DAYS)]
WEB_H = [f"web_h{i}" for i in range(HOURS)]
WEB_D = [f"web_d{i}" for i in range(DAYS)]
READS = {"mail": (MAIL_H, MAIL_D), "web": (WEB_H, WEB_D)}
OPENS_H = [f"opens_h{i}" for i in range(HOURS)]
EXPECTED_H = [f"expected_h{i}" for i in range(HOURS)]
OPENS_D = [f"opens_d{i}" for i in range(DAYS)]
EXPECTED_D = [f"expected_d{i}" for i in range(DAYS)]
SENDS_H = [f"sends_h{i}" for i in range(HOURS)]
PROFILE_COLUMNS = ["customer_id", "country", *MAIL_H, *MAIL_D, *WEB_H, *WEB_D, *SENDS_H,
                   *OPENS_H, *EXPECTED_H, *OPENS_D, *EXPECTED_D]


#: 'Tue 12-15' for each of the 56 blocks.
BLOCK_LABELS = np.array([f"{DAY_NAMES[b // HOURS]} {(b % HOURS) * 3:02d}-{(b % HOURS) * 3 + 3:02d}"
                         for b in range(BLOCKS)], dtype=object)


def block_label(block: np.ndarray | int) -> np.ndarray:
    """'Tue 12-15' for block indices (day * 8 + 3-hour block)."""
    return BLOCK_LABELS[np.atleast_1d(np.asarray(block, dtype=np.int64))]


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


@dataclass
class MarketPattern:
    """What a market's clients do, per block: the prior every client is shrunk toward.

    ``reads_hour`` and ``reads_day`` map 'mail' and 'web' to a market's shares of those
    reading events over the 8 blocks of the day and the 7 weekdays; ``lift_hour``,
    ``lift_day`` and ``lift_block`` (56) are opens over expected opens (1 = average);
    ``campaign_rate`` is the market's mean campaign open rate (the typical newsletter).
    """

    reads_hour: dict[str, dict[str, np.ndarray]]
    reads_day: dict[str, dict[str, np.ndarray]]
    lift_hour: dict[str, np.ndarray]
    lift_day: dict[str, np.ndarray]
    lift_block: dict[str, np.ndarray]
    campaign_rate: dict[str, float]
    overall: str = "*"  # key of the all-markets pattern, used for unknown markets

    @classmethod
    def from_totals(cls, profile_totals: pd.DataFrame, block_totals: pd.DataFrame
                    ) -> MarketPattern:
        """From per-market sums of the profile columns (``country`` + PROFILE_COLUMNS) and
        per market and send block sums (``country, send_block, opens, expected, sends``)."""
        totals = profile_totals.set_index("country")
        totals.loc["*"] = totals.sum(numeric_only=True)
        reads_hour, reads_day, lift_hour, lift_day, lift_block, rate = {}, {}, {}, {}, {}, {}
        blocks = block_totals.copy()
        overall = blocks.groupby("send_block", as_index=False)[["opens", "expected",
                                                                 "sends"]].sum()
        overall["country"] = "*"
        blocks = pd.concat([blocks, overall], ignore_index=True)
        for market, row in totals.iterrows():
            for kind, (hour_columns, day_columns) in READS.items():
                rh = smooth_hours(row[hour_columns].to_numpy(float)[None, :])[0] + 1.0
                rd = row[day_columns].to_numpy(float) + 1.0
                reads_hour.setdefault(kind, {})[market] = rh / rh.sum()
                reads_day.setdefault(kind, {})[market] = rd / rd.sum()
            lift_hour[market] = (row[OPENS_H].to_numpy(float) + MARKET_PRIOR) / (
                row[EXPECTED_H].to_numpy(float) + MARKET_PRIOR)
            lift_day[market] = (row[OPENS_D].to_numpy(float) + MARKET_PRIOR) / (
                row[EXPECTED_D].to_numpy(float) + MARKET_PRIOR)
            b = blocks[blocks["country"] == market]
            opens = np.zeros(BLOCKS)
            expected = np.zeros(BLOCKS)
            sends = np.zeros(BLOCKS)
            idx = b["send_block"].to_numpy(int)
            opens[idx], expected[idx] = b["opens"].to_numpy(float), b["expected"].to_numpy(float)
            sends[idx] = b["sends"].to_numpy(float)
            lift_block[market] = (opens + MARKET_PRIOR) / (expected + MARKET_PRIOR)
            rate[market] = float(expected.sum() / sends.sum()) if sends.sum() else 0.2
        return cls(reads_hour, reads_day, lift_hour, lift_day, lift_block, rate)

    def key(self, market: object) -> str:
        return market if isinstance(market, str) and market in self.lift_block else self.overall

    def keys(self, markets: pd.Series) -> pd.Series:
        """:meth:`key` of every value of ``markets`` (vectorised)."""
        return markets.where(markets.isin(list(self.lift_block)), self.overall).astype(object)

    def best_block(self, market: object) -> int:
        """The market's best sendable block (highest open lift; ties: earliest block)."""
        lift = self.lift_block[self.key(market)]
        return int(SENDABLE[np.argmax(lift[SENDABLE])])

    def best_blocks(self, markets: pd.Series) -> np.ndarray:
        """:meth:`best_block` of every value of ``markets`` (vectorised)."""
        best = {key: self.best_block(key) for key in self.lift_block}
        return self.keys(markets).map(best).to_numpy(np.int64)


def smooth_hours(counts: np.ndarray) -> np.ndarray:
    """Counts per 3-hour block (rows x 8) spread to the neighbouring blocks (circular)."""
    left, centre, right = HOUR_KERNEL
    return (centre * counts + left * np.roll(counts, 1, axis=1)
            + right * np.roll(counts, -1, axis=1))


def _stack(values: pd.Series, table: dict[str, np.ndarray], width: int) -> np.ndarray:
    keys = values.to_numpy()
    out = np.empty((len(keys), width))
    for market in pd.unique(keys):
        out[keys == market] = table[market]
    return out


@dataclass
class ClientPattern:
    """A set of clients' shrunk reading shares and open lifts (one row per client)."""

    shares: dict[str, tuple[np.ndarray, np.ndarray]]  # kind -> (n x 8, n x 7)
    lift_hour: np.ndarray  # n x 8
    lift_day: np.ndarray  # n x 7
    lift_block: np.ndarray  # n x 56: the market's
    client_lift: np.ndarray  # n
    campaign_rate: np.ndarray  # n: the market's typical newsletter


def client_pattern(profiles: pd.DataFrame, market: MarketPattern, prior_strength: float
                   ) -> ClientPattern:
    """Each client's reading shares and open lifts, shrunk toward the market's with
    ``prior_strength`` events."""
    k = float(prior_strength)
    keys = market.keys(profiles["country"])
    shares = {}
    for kind, (hour_columns, day_columns) in READS.items():
        reads_h = smooth_hours(profiles[hour_columns].to_numpy(float))
        reads_d = profiles[day_columns].to_numpy(float)
        mu_h = _stack(keys, market.reads_hour[kind], HOURS)
        mu_d = _stack(keys, market.reads_day[kind], DAYS)
        shares[kind] = ((reads_h + k * mu_h) / (reads_h.sum(1, keepdims=True) + k),
                        (reads_d + k * mu_d) / (reads_d.sum(1, keepdims=True) + k))
    opens_h = profiles[OPENS_H].to_numpy(float)
    expected_h = profiles[EXPECTED_H].to_numpy(float)
    opens_d = profiles[OPENS_D].to_numpy(float)
    expected_d = profiles[EXPECTED_D].to_numpy(float)
    client_lift = (opens_h.sum(1) + k) / (expected_h.sum(1) + k)
    m_h = _stack(keys, market.lift_hour, HOURS)
    m_d = _stack(keys, market.lift_day, DAYS)
    lift_h = (opens_h + k * m_h * client_lift[:, None]) / (expected_h * client_lift[:, None] + k)
    lift_d = (opens_d + k * m_d * client_lift[:, None]) / (expected_d * client_lift[:, None] + k)
    return ClientPattern(shares=shares, lift_hour=lift_h, lift_day=lift_d,
                         lift_block=_stack(keys, market.lift_block, BLOCKS),
                         client_lift=client_lift,
                         campaign_rate=keys.map(market.campaign_rate).to_numpy(float))


def _gather(pattern: ClientPattern, rows: np.ndarray, blocks: np.ndarray,
            campaign_rate: np.ndarray) -> np.ndarray:
    """Features (..., FEATURES) of a send to client ``rows`` in ``blocks`` (same shape)."""
    hour, day = blocks % HOURS, blocks // HOURS
    out = np.empty((*rows.shape, len(FEATURES)))
    for i, kind in enumerate(READS):
        share_h, share_d = pattern.shares[kind]
        out[..., 2 * i] = np.log(HOURS * share_h[rows, hour])
        out[..., 2 * i + 1] = np.log(DAYS * share_d[rows, day])
    out[..., 4] = np.log(pattern.lift_hour[rows, hour])
    out[..., 5] = np.log(pattern.lift_day[rows, day])
    out[..., 6] = np.log(pattern.lift_block[rows, blocks])
    out[..., 7] = np.log(pattern.client_lift[rows])
    out[..., 8] = _logit(campaign_rate)
    return out


class SendTimeModel:
    """P(open | client history, send block), fitted on labelled sends.

    ``fit(profiles, sends, market)``: ``profiles`` one row per client (PROFILE_COLUMNS,
    history before the cut), ``sends`` one row per send after the cut (``customer_id``,
    ``send_block``, ``campaign_open_rate``, ``is_opened``). ``predict_proba`` gives the
    open rate of a typical newsletter in every sendable block.
    """

    def __init__(self, prior_strength: float = 8.0, C: float = 1.0) -> None:
        self.prior_strength = prior_strength
        self.C = C
        self.regression_: LogisticRegression | None = None
        self.market_: MarketPattern | None = None

    def _send_matrix(self, profiles: pd.DataFrame, sends: pd.DataFrame,
                     market: MarketPattern) -> tuple[np.ndarray, np.ndarray]:
        profiles = profiles.reset_index(drop=True)
        position = pd.Series(np.arange(len(profiles)), index=profiles["customer_id"])
        labels = sends[sends["customer_id"].isin(position.index)]
        pattern = client_pattern(profiles, market, self.prior_strength)
        x = _gather(pattern, position.loc[labels["customer_id"]].to_numpy(),
                    labels["send_block"].to_numpy(int),
                    labels["campaign_open_rate"].to_numpy(float))
        return x, labels["is_opened"].to_numpy(bool)

    def fit(self, profiles: pd.DataFrame, sends: pd.DataFrame, market: MarketPattern
            ) -> SendTimeModel:
        x, y = self._send_matrix(profiles, sends, market)
        if len(np.unique(y)) < 2:
            raise ValueError("send-time model: the training sends are all opened or none")
        self.regression_ = LogisticRegression(C=self.C, max_iter=500).fit(x, y)
        self.market_ = market
        return self

    def log_loss(self, profiles: pd.DataFrame, sends: pd.DataFrame) -> float:
        assert self.regression_ is not None and self.market_ is not None
        x, y = self._send_matrix(profiles, sends, self.market_)
        p = np.clip(self.regression_.predict_proba(x)[:, 1], 1e-6, 1 - 1e-6)
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))

    def predict_proba(self, profiles: pd.DataFrame) -> np.ndarray:
        """Clients x sendable blocks: the open rate of a typical newsletter sent then."""
        assert self.regression_ is not None and self.market_ is not None
        weights = self.regression_.coef_[0]
        intercept = float(self.regression_.intercept_[0])
        return predict_open_rates(profiles, self.market_, self.prior_strength, weights,
                                  intercept)

    @property
    def coefficients(self) -> dict[str, float]:
        assert self.regression_ is not None
        out = dict(zip(FEATURES, self.regression_.coef_[0].tolist(), strict=True))
        out["intercept"] = float(self.regression_.intercept_[0])
        return out


def block_logits(profiles: pd.DataFrame, market: MarketPattern, prior_strength: float,
                 weights: np.ndarray, intercept: float) -> np.ndarray:
    """Clients x 56 blocks: a fitted model's log-odds of an open for a typical newsletter.
    Each feature depends on the block's hour of the day, its weekday, the block alone (the
    market's lift) or on the client only, so the log-odds are a sum of a clients x 8, a
    clients x 7 and a markets x 56 part: the clients x blocks x features array is never
    built."""
    pattern = client_pattern(profiles, market, prior_strength)
    w = dict(zip(FEATURES, np.asarray(weights, dtype=float).tolist(), strict=True))
    (mail_h, mail_d), (web_h, web_d) = pattern.shares["mail"], pattern.shares["web"]
    hour = (w["mail_hour"] * np.log(HOURS * mail_h) + w["web_hour"] * np.log(HOURS * web_h)
            + w["lift_hour"] * np.log(pattern.lift_hour))
    day = (w["mail_day"] * np.log(DAYS * mail_d) + w["web_day"] * np.log(DAYS * web_d)
           + w["lift_day"] * np.log(pattern.lift_day))
    client = (intercept + w["client_lift"] * np.log(pattern.client_lift)
              + w["campaign_logit"] * _logit(pattern.campaign_rate))
    logits = (day[:, :, None] + hour[:, None, :]).reshape(len(profiles), BLOCKS)
    return logits + w["market_block"] * np.log(pattern.lift_block) + client[:, None]


def predict_open_rates(profiles: pd.DataFrame, market: MarketPattern, prior_strength: float,
                       weights: np.ndarray, intercept: float, chunk_rows: int = 50_000
                       ) -> np.ndarray:
    """Clients x sendable blocks open rates of a fitted model (its weights), a chunk of
    clients at a time so the clients x blocks arrays stay small."""
    out = np.empty((len(profiles), len(SENDABLE)))
    for start in range(0, len(profiles), chunk_rows):
        part = profiles.iloc[start:start + chunk_rows]
        logits = block_logits(part, market, prior_strength, weights, intercept)[:, SENDABLE]
        out[start:start + len(part)] = 1.0 / (1.0 + np.exp(-logits))
    return out


def own_history_block(profiles: pd.DataFrame, market: MarketPattern) -> np.ndarray:
    """The baseline without shrinkage: the sendable hour block and weekday in which the
    client read most (ties: earliest), the market's best block without history."""
    reads_h = (profiles[MAIL_H].to_numpy(float) + profiles[WEB_H].to_numpy(float))[
        :, FIRST_SENDABLE_HOUR_BLOCK:]
    reads_d = profiles[MAIL_D].to_numpy(float) + profiles[WEB_D].to_numpy(float)
    best = (np.argmax(reads_d, axis=1) * HOURS + FIRST_SENDABLE_HOUR_BLOCK
            + np.argmax(reads_h, axis=1))
    none = (reads_h.sum(1) == 0) | (reads_d.sum(1) == 0)
    fallback = market.best_blocks(profiles["country"])
    return np.where(none, fallback, best)
