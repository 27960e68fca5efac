"""The clienteling area's entry points, one per dbt Python model
(``python_models/clienteling/``): send-time optimisation and drive to store.

- :func:`send_time_model`: the send-time model fitted twice, on bounded samples of sends:
  at the 'fit' cut for the evaluation, at the 'evaluation' cut for the recommendations;
- :func:`send_times`: every client's best send block, scored in batches at the 'current'
  cut;
- :func:`send_time_evaluation`: the model against the market's best block, the client's
  own most-read block and any block, on the held-out year of sends;
- :func:`store_models`, :func:`store_sensitivity`, :func:`store_evaluation`: the same for
  drive to store (:mod:`clientele.clienteling.store`).

Memory is bounded by :class:`ClientelingSettings` (sample caps, batch size), never by the
number of clients: training sends and contacts are seeded samples drawn in DuckDB, inputs
with a row per client are read in Arrow batches, and the outputs with a row per client are
streamed. A dataset without e-mail sends or campaign contacts (Olist, Online Retail)
builds every table empty with a logged reason.
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from clientele import intervals, seam
from clientele.clienteling import send_time as st
from clientele.clienteling import store
from clientele.clienteling.settings import ClientelingSettings
from clientele.seam import Source, fields

LOG = seam.get_logger("clienteling")
AREA = "clienteling"

SEND_TIME_MODEL_SCHEMA = fields(
    ("purpose", pa.string()),
    ("feature_cut", pa.string()),
    ("feature_cut_date", pa.date32()),
    ("prior_strength", pa.float64()),
    ("feature_names", pa.list_(pa.string())),
    ("weights", pa.list_(pa.float64())),
    ("intercept", pa.float64()),
    ("n_training_sends", pa.int64()),
    ("n_training_clients", pa.int64()),
    ("validation_log_loss", pa.float64()),
    ("notes", pa.string()),
)
SEND_TIME_SCHEMA = fields(
    ("customer_id", pa.string()),
    ("country", pa.string()),
    ("best_send_block", pa.int32()),
    ("best_send_label", pa.string()),
    ("best_send_weekday", pa.string()),
    ("best_send_hour_start", pa.int32()),
    ("expected_open_rate", pa.float64()),
    ("market_best_label", pa.string()),
    ("market_best_open_rate", pa.float64()),
    ("average_open_rate", pa.float64()),
    ("reading_events", pa.int64()),
    ("sends_seen", pa.int64()),
    ("opens_seen", pa.int64()),
    ("own_history_weight", pa.float64()),
)


# --------------------------------------------------------------------------- helpers


def _quote(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _cuts(cuts: Source) -> pd.DataFrame:
    return seam.read_frame(cuts).set_index("cut_name")


def _as_of(cut_frame: pd.DataFrame) -> pd.Timestamp:
    return pd.Timestamp(cut_frame.loc["current", "cut_date"]) - pd.Timedelta(days=1)


def _window(cut_frame: pd.DataFrame, cut_name: str) -> str:
    row = cut_frame.loc[cut_name]
    return (f"is_timing_varied "
            f"and send_date >= cast({_quote(pd.Timestamp(row['cut_date']).date())} as date) "
            f"and send_date < cast({_quote(pd.Timestamp(row['labels_until']).date())} as date)")


def _sample_relation(source: Source, where: str, n: int, seed: int, key: str
                     ) -> duckdb.DuckDBPyRelation:
    """At most ``n`` rows drawn by a hash of ``key`` (a SQL expression) and the seed, as a
    lazy relation: the same input gives the same sample whatever the row order."""
    rel = seam.as_relation(source).filter(where)
    drawn = rel.project(f"*, hash(({key}) || '#{int(seed)}') as _draw")
    return drawn.order(f"_draw, {key}").limit(int(n))


def _sample_rows(source: Source, where: str, n: int, seed: int, key: str) -> pd.DataFrame:
    """:func:`_sample_relation`, read."""
    return _sample_relation(source, where, n, seed, key).df().drop(columns="_draw")


def _and(where: str, predicate: str | None) -> str:
    return where if predicate is None else f"({where}) and ({predicate})"


def _profiles_of(profiles: Source, cut_name: str, predicate: str | None,
                 batch_rows: int) -> Iterator[pd.DataFrame]:
    """The cut's client profiles, in batches; only the clients ``predicate`` keeps."""
    where = _and(f"cut_name = {_quote(cut_name)}", predicate)
    for frame in seam.iter_frames(profiles, batch_rows, st.PROFILE_COLUMNS, where=where):
        if len(frame):
            yield frame


def market_pattern(profiles: Source, sends: Source, cut_name: str,
                   cut_date: object) -> st.MarketPattern:
    """The markets' reading pattern and block lifts before a cut, summed in DuckDB: exact
    sums (counts, and fractions fixed to 6 decimals) in a fixed order of markets, so that
    two builds give the same pattern to the bit (the all-markets row adds the markets up
    in pandas)."""
    sums = ", ".join(f"{seam.exact_sum(c)} as {c}" if c.startswith("expected_")
                     else f"cast(sum({c}) as bigint) as {c}" for c in st.PROFILE_COLUMNS[2:])
    totals = seam.as_relation(profiles).filter(f"cut_name = {_quote(cut_name)}").aggregate(
        f"country, {sums}", "country").order("country").df()
    before = (f"is_timing_varied "
              f"and send_date < cast({_quote(pd.Timestamp(cut_date).date())} as date)")
    blocks = seam.as_relation(sends).filter(before).aggregate(
        "country, send_block, sum(case when is_opened then 1 else 0 end) as opens, "
        f"{seam.exact_sum('campaign_open_rate')} as expected, count(*) as sends",
        "country, send_block").order("country, send_block").df()
    totals["country"] = totals["country"].fillna("*unknown")
    blocks["country"] = blocks["country"].fillna("*unknown")
    return st.MarketPattern.from_totals(totals, blocks)


def _client_split(ids: pd.Series, share: float, seed: int, salt: str = "") -> np.ndarray:
    """True for a seeded share of the clients (a hash of the id; ``salt`` draws another
    split with the same seed)."""
    hashed = pd.util.hash_pandas_object(ids.astype(str) + f"#{seed}{salt}", index=False)
    return (hashed.to_numpy() % 10_000) < share * 10_000


# --------------------------------------------------------------------------- send time


@seam.bounded_threads()
def send_time_model(cuts: Source, profiles: Source, sends: Source,
                    settings: ClientelingSettings | None = None) -> pa.Table:
    """The send-time model fitted for the evaluation (features at the 'fit' cut, labels the
    sends of the next ``holdout_days``) and for the recommendations (features at the
    'evaluation' cut, labels the last ``holdout_days`` of sends). The prior strength is
    chosen on clients kept aside (``validation_share``) of the same training window."""
    settings = settings or ClientelingSettings()
    if seam.count_rows(sends) == 0:
        LOG.warning("send-time model: no e-mail sends in this dataset; nothing to learn (empty)")
        return seam.empty_table(SEND_TIME_MODEL_SCHEMA)
    cut_frame = _cuts(cuts)
    rows = []
    for purpose, feature_cut in (("evaluation", "fit"), ("current", "evaluation")):
        cut_date = cut_frame.loc[feature_cut, "cut_date"]
        sample = _sample_relation(sends, _window(cut_frame, feature_cut),
                                  settings.max_training_sends, settings.seed,
                                  "customer_id || '#' || campaign_id")
        training = sample.df().drop(columns="_draw")
        clients = set(training["customer_id"])
        # Only the sampled clients' histories are read: joined in DuckDB.
        history = seam.as_relation(profiles).filter(f"cut_name = {_quote(feature_cut)}").join(
            sample.project("customer_id").distinct(), "customer_id").project(
            ", ".join(f'"{c}"' for c in st.PROFILE_COLUMNS)).order("customer_id").df()
        training = training[training["customer_id"].isin(set(history["customer_id"]))]
        if len(training) == 0 or training["is_opened"].nunique() < 2:
            LOG.warning("send-time model (%s): no usable sends after the %s cut; skipped",
                     purpose, feature_cut)
            continue
        market = market_pattern(profiles, sends, feature_cut, cut_date)
        # The grid picks one number: a seeded sample of the training clients is enough.
        grid = training
        if len(training) > settings.max_grid_sends:
            grid = training[_client_split(training["customer_id"],
                                          settings.max_grid_sends / len(training),
                                          settings.seed, salt="#grid")]
        aside = _client_split(grid["customer_id"], settings.validation_share, settings.seed)
        losses = {}
        for strength in settings.prior_strengths:
            model = st.SendTimeModel(prior_strength=strength)
            model.fit(history, grid[~aside], market)
            losses[strength] = model.log_loss(history, grid[aside])
        best = min(losses, key=lambda k: (losses[k], k))
        model = st.SendTimeModel(prior_strength=best).fit(history, training, market)
        LOG.info("send-time model (%s): %d sends of %d clients, prior strength %s "
                 "(validation log-loss %s)", purpose, len(training), len(clients), best,
                 {k: round(v, 5) for k, v in losses.items()})
        coefficients = model.coefficients
        rows.append({
            "purpose": purpose, "feature_cut": feature_cut,
            "feature_cut_date": pd.Timestamp(cut_date).date(), "prior_strength": best,
            "feature_names": list(st.FEATURES),
            "weights": [coefficients[f] for f in st.FEATURES],
            "intercept": coefficients["intercept"], "n_training_sends": len(training),
            "n_training_clients": int(training["customer_id"].nunique()),
            "validation_log_loss": losses[best],
            "notes": "validation log-loss by prior strength: " + ", ".join(
                f"{k:g}={v:.5f}" for k, v in losses.items()),
        })
    if not rows:
        return seam.empty_table(SEND_TIME_MODEL_SCHEMA)
    return seam.to_table(pd.DataFrame(rows), SEND_TIME_MODEL_SCHEMA)


def _fitted(model: Source, purpose: str) -> pd.Series | None:
    frame = seam.read_frame(model, where=f"purpose = {_quote(purpose)}")
    return None if frame.empty else frame.iloc[0]


def _predict(row: pd.Series, history: pd.DataFrame, market: st.MarketPattern) -> np.ndarray:
    return st.predict_open_rates(history, market, float(row["prior_strength"]),
                                 np.asarray(row["weights"], dtype=float),
                                 float(row["intercept"]))


@seam.bounded_threads()
def send_times(model: Source, cuts: Source, profiles: Source, sends: Source,
               settings: ClientelingSettings | None = None) -> pa.RecordBatchReader | pa.Table:
    """Every client's best send block at the 'current' cut, with the expected open rate
    there, at the market's best block and on average over the blocks; streamed in
    batches of ``batch_rows`` clients."""
    settings = settings or ClientelingSettings()
    row = _fitted(model, "current")
    if row is None:
        LOG.warning("send times: no fitted send-time model (no e-mail sends); empty")
        return seam.empty_table(SEND_TIME_SCHEMA)
    cut_date = _cuts(cuts).loc["current", "cut_date"]
    market = market_pattern(profiles, sends, "current", cut_date)
    strength = float(row["prior_strength"])

    def parts() -> Iterator[pd.DataFrame]:
        progress = seam.ClientProgress(LOG, "send times")
        for history in _profiles_of(profiles, "current", None, settings.batch_rows):
            rates = _predict(row, history, market)
            best = np.argmax(rates, axis=1)
            block = st.SENDABLE[best]
            market_block = market.best_blocks(history["country"])
            market_column = np.searchsorted(st.SENDABLE, market_block)
            reads = (history[st.MAIL_H].to_numpy(float).sum(1)
                     + history[st.WEB_H].to_numpy(float).sum(1))
            progress.add(len(history))
            yield pd.DataFrame({
                "customer_id": history["customer_id"],
                "country": history["country"],
                "best_send_block": block,
                "best_send_label": st.block_label(block),
                "best_send_weekday": np.array(st.DAY_NAMES, dtype=object)[block // st.HOURS],
                "best_send_hour_start": (block % st.HOURS) * 3,
                "expected_open_rate": rates[np.arange(len(best)), best],
                "market_best_label": st.block_label(market_block),
                "market_best_open_rate": rates[np.arange(len(best)), market_column],
                "average_open_rate": rates.mean(axis=1),
                "reading_events": reads.astype(np.int64),
                "sends_seen": history[st.SENDS_H].to_numpy(float).sum(1).astype(np.int64),
                "opens_seen": history[st.OPENS_H].to_numpy(float).sum(1).astype(np.int64),
                "own_history_weight": reads / (reads + strength),
            })

    return seam.stream(SEND_TIME_SCHEMA, parts())


def _ratio(opens: np.ndarray, sends: np.ndarray) -> float:
    total = sends.sum()
    return float(opens.sum() / total) if total else float("nan")


@seam.bounded_threads()
def send_time_evaluation(model: Source, cuts: Source, profiles: Source, sends: Source,
                         settings: ClientelingSettings | None = None) -> pa.Table:
    """On the held-out year of sends: the open rate of the sends that fell in the
    client's recommended block (model fitted before the 'evaluation' cut), against those
    that fell in the market's best block, in the client's own most-read block, and any
    block; with 95 % intervals from a bootstrap over clients. The send blocks were drawn
    at random by the house, which is what makes this comparison fair."""
    settings = settings or ClientelingSettings()
    cut_frame = _cuts(cuts)
    rows = seam.EvaluationRows(AREA, as_of_date=_as_of(cut_frame),
                               cutoff_date=cut_frame.loc["evaluation", "cut_date"])
    row = _fitted(model, "evaluation")
    if row is None:
        LOG.warning("send-time evaluation: no model fitted at the fit cut; no rows")
        return rows.to_table()
    cut_date = cut_frame.loc["evaluation", "cut_date"]
    market = market_pattern(profiles, sends, "evaluation", cut_date)
    # The sampled clients' histories and held-out sends are both read filtered in DuckDB.
    _, predicate = seam.draw_sample(profiles, "customer_id", settings.evaluation_max_clients,
                                    settings.seed, "cut_name = 'evaluation'")
    picks = []
    for history in _profiles_of(profiles, "evaluation", predicate, settings.batch_rows):
        rates = _predict(row, history, market)
        picks.append(pd.DataFrame({
            "customer_id": history["customer_id"],
            "model": st.SENDABLE[np.argmax(rates, axis=1)],
            "market": market.best_blocks(history["country"]),
            "own": st.own_history_block(history, market)}))
    if not picks:
        return rows.to_table()
    # Held-out sends per client and block: one aggregate instead of a row per send.
    held_out = seam.as_relation(sends).filter(_and(_window(cut_frame, "evaluation"), predicate))
    per_block = held_out.aggregate(
        "customer_id, send_block, count(*) as sends, "
        "sum(case when is_opened then 1 else 0 end) as opens",
        "customer_id, send_block").df()
    merged = per_block.merge(pd.concat(picks, ignore_index=True), on="customer_id")
    if merged.empty:
        LOG.warning("send-time evaluation: no held-out sends to the sampled clients")
        return rows.to_table()
    block = merged["send_block"].to_numpy(np.int64)
    columns = {"customer_id": merged["customer_id"], "sends": merged["sends"],
               "opens": merged["opens"]}
    for name in ("model", "market", "own"):
        hit = block == merged[name].to_numpy(np.int64)
        columns[f"sends_{name}"] = np.where(hit, merged["sends"], 0)
        columns[f"opens_{name}"] = np.where(hit, merged["opens"], 0)
    totals = pd.DataFrame(columns).groupby("customer_id").sum().sort_index()
    seed = settings.seed
    names = {"model": ("send_time_model", False, "recommended block (shrunk to the market)"),
             "market": ("market_best_block", True, "the market's best block"),
             "own": ("own_history_block", True,
                     "the client's own most-read block (no shrinkage)")}
    for key, (name, baseline, what) in names.items():
        o, s = totals[f"opens_{key}"].to_numpy(float), totals[f"sends_{key}"].to_numpy(float)
        value, lo, hi = intervals.statistic_ci(_ratio, (o, s), seed=seed)
        rows.add(name, "open_rate", value, is_baseline=baseline, segment="held_out_sends",
                 n_evaluated=int(s.sum()), ci=(lo, hi),
                 notes=f"open rate of held-out sends that fell in {what}")
    o, s = totals["opens"].to_numpy(float), totals["sends"].to_numpy(float)
    value, lo, hi = intervals.statistic_ci(_ratio, (o, s), seed=seed)
    rows.add("any_block", "open_rate", value, is_baseline=True, segment="held_out_sends",
             n_evaluated=int(s.sum()), ci=(lo, hi),
             notes="open rate of every held-out send (blocks drawn at random by the house)")
    for key, other in (("market", "market_best_block"), ("own", "own_history_block"),
                       (None, "any_block")):
        arrays = (totals["opens_model"].to_numpy(float), totals["sends_model"].to_numpy(float),
                  totals[f"opens_{key}" if key else "opens"].to_numpy(float),
                  totals[f"sends_{key}" if key else "sends"].to_numpy(float))
        value, lo, hi = intervals.statistic_ci(
            lambda a, b, c, d: _ratio(a, b) - _ratio(c, d), arrays, seed=seed)
        rows.add("send_time_model", f"open_rate_gain_vs_{other}", value, is_baseline=False,
                 segment="held_out_sends", n_evaluated=len(totals), ci=(lo, hi),
                 notes=f"open rate in the recommended block minus {other.replace('_', ' ')}; "
                       "95 % bootstrap over clients")
    LOG.info("send-time evaluation: %d held-out sends of %d clients", int(s.sum()),
             len(totals))
    return rows.to_table()


# --------------------------------------------------------------------------- drive to store

STORE_SCHEMA = fields(
    ("customer_id", pa.string()),
    ("p_buy_after_advisor", pa.float64()),
    ("p_buy_after_email", pa.float64()),
    ("store_gain", pa.float64()),
    ("store_sensitivity", pa.float64()),
    ("main_reason", pa.string()),
)
#: Share of the randomised stratum the store backtest gives the advisor's slots to.
INVITED_SHARE = 0.3
CONTACTED = "reference_id <> 'current' and not is_control and contact_arm is not null"


def _training_contacts(features: Source, where: str, settings: ClientelingSettings
                       ) -> pd.DataFrame:
    return _sample_rows(features, f"{CONTACTED} and ({where})", settings.max_training_contacts,
                        settings.seed, "reference_id || '#' || customer_id")


def _store_model(settings: ClientelingSettings) -> store.StoreSensitivityModel:
    return store.StoreSensitivityModel(n_trees=settings.store_trees, depth=settings.store_depth,
                                       regularization=settings.store_regularization,
                                       seed=settings.seed)


@seam.bounded_threads()
def store_sensitivity(features: Source, settings: ClientelingSettings | None = None
                      ) -> pa.RecordBatchReader | pa.Table:
    """Every client's chance of buying after an advisor-led contact and after an e-mail,
    the store sensitivity (log-odds an advisor adds) and its main reason (model fitted on
    every past campaign's contacted clients, a seeded sample of at most
    ``max_training_contacts``), scored in batches at the current reference."""
    settings = settings or ClientelingSettings()
    training = _training_contacts(features, "true", settings)
    reason = store.StoreSensitivityModel.can_fit(training)
    if reason:
        LOG.warning("store sensitivity: not enough past campaign contacts (%s); empty", reason)
        return seam.empty_table(STORE_SCHEMA)
    model = _store_model(settings).fit(training)
    LOG.info("store sensitivity: fitted on %d contacts; log-odds an advisor adds per sd: %s",
             len(training), model.coefficients())

    def parts() -> Iterator[pd.DataFrame]:
        progress = seam.ClientProgress(LOG, "store sensitivity")
        for frame in seam.iter_frames(features, settings.batch_rows,
                                      where="reference_id = 'current'"):
            p_advisor, p_email, sensitivity = model.predict(frame)
            progress.add(len(frame))
            yield pd.DataFrame({"customer_id": frame["customer_id"],
                                "p_buy_after_advisor": p_advisor, "p_buy_after_email": p_email,
                                "store_gain": p_advisor - p_email,
                                "store_sensitivity": sensitivity,
                                "main_reason": model.main_reason(frame)})

    return seam.stream(STORE_SCHEMA, parts())


def _top(score: np.ndarray, share: float) -> np.ndarray:
    """The top ``share`` of units by score (ties broken by position)."""
    order = np.lexsort((np.arange(len(score)), -score))
    top = np.zeros(len(score), dtype=bool)
    top[order[:max(1, int(round(share * len(score))))]] = True
    return top


def _arm_gain(in_group: np.ndarray, advisor: np.ndarray, converted: np.ndarray) -> float:
    """Conversion after an advisor minus after an e-mail, within a group of contacts."""
    a, e = in_group & advisor, in_group & ~advisor
    if not a.any() or not e.any():
        return float("nan")
    return float(converted[a].mean() - converted[e].mean())


@seam.bounded_threads()
def store_evaluation(features: Source, settings: ClientelingSettings | None = None
                     ) -> pa.Table:
    """Backtest of drive to store on the last ``store_holdout_launches`` campaigns (models
    fitted on the campaigns before them): among the held-out contacts who had consented to
    both channels (where the advisor's channel was the toss of a coin), how much more an
    advisor converted than an e-mail in the top 30 % by predicted store gain, against the
    top 30 % by share of store purchases and against everyone (random invitations); the
    model ranks by store sensitivity."""
    settings = settings or ClientelingSettings()
    campaigns = seam.read_frame(features, ["reference_id", "reference_date"],
                                where="reference_id <> 'current'").drop_duplicates()
    campaigns = campaigns.sort_values(["reference_date", "reference_id"])
    rows = seam.EvaluationRows(AREA)
    if len(campaigns) <= settings.store_holdout_launches:
        LOG.warning("store evaluation: %d past campaigns, need more than %d to hold some out; "
                 "no rows", len(campaigns), settings.store_holdout_launches)
        return rows.to_table()
    held = campaigns.tail(settings.store_holdout_launches)
    first_held = pd.Timestamp(held["reference_date"].min()).date()
    rows.cutoff_date = first_held
    rows.as_of_date = pd.Timestamp(held["reference_date"].max()).date()
    training = _training_contacts(features, f"reference_date < cast('{first_held}' as date)",
                                  settings)
    reason = store.StoreSensitivityModel.can_fit(training)
    if reason:
        LOG.warning("store evaluation: not enough contacts before the held-out campaigns (%s)",
                 reason)
        return rows.to_table()
    model = _store_model(settings).fit(training)
    held_ids = ", ".join(_quote(c) for c in held["reference_id"])
    test = _sample_rows(features, f"{CONTACTED} and reference_id in ({held_ids})",
                        settings.evaluation_max_clients, settings.seed,
                        "reference_id || '#' || customer_id")
    p_advisor, p_email, sensitivity = model.predict(test)
    advisor = (test["contact_arm"] == "advisor").to_numpy()
    converted = test["converted"].astype(bool).to_numpy()
    own = np.where(advisor, p_advisor, p_email)
    value, lo, hi = intervals.auc_ci(converted, own)
    notes = (f"held-out campaigns {', '.join(held['reference_id'])}; models fitted on "
             f"{len(training)} earlier contacts")
    rows.add("store_sensitivity_model", "conversion_auc", value, is_baseline=False,
             segment="held_out_contacts", n_evaluated=len(test), ci=(lo, hi),
             notes="AUC of the contacted channel's predicted chance of buying; " + notes)
    both = (test["phone_opt_in"].astype(bool) & test["email_opt_in"].astype(bool)).to_numpy()
    if both.sum() < 50 or advisor[both].all() or not advisor[both].any():
        LOG.warning("store evaluation: too few held-out contacts with both consents (%d)",
                 int(both.sum()))
        return rows.to_table()
    a, y = advisor[both], converted[both]
    rankings = {
        "store_sensitivity_model": (False, sensitivity[both]),
        "store_share": (True, pd.to_numeric(test.loc[both, "store_share"]).fillna(0).to_numpy()),
        "random": (True, None),
    }
    k = int(INVITED_SHARE * 100)
    for name, (baseline, score) in rankings.items():
        if score is None:
            stat = lambda adv, conv: _arm_gain(np.ones(len(adv), dtype=bool), adv, conv)  # noqa: E731
            arrays: tuple[np.ndarray, ...] = (a, y)
        else:
            stat = lambda s, adv, conv: _arm_gain(_top(s, INVITED_SHARE), adv, conv)  # noqa: E731
            arrays = (score, a, y)
        value, lo, hi = intervals.statistic_ci(stat, arrays, seed=settings.seed)
        rows.add(name, "advisor_vs_email_conversion_gain", value, is_baseline=baseline, k=k,
                 segment="held_out_contacts_both_consents", n_evaluated=int(both.sum()),
                 ci=(lo, hi),
                 notes=("conversion after an advisor minus after an e-mail among the "
                        + ("contacts" if score is None else f"top {k} % by {name}")
                        + " of held-out clients who had consented to both; " + notes))
    return rows.to_table()
