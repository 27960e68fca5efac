"""The launch area's entry points: one per dbt Python model (``python_models/launch/``).

Each takes DuckDB relations (``dbt.ref``; in tests and notebooks frames through
``seam.as_relation``) and :class:`LaunchSettings`, and returns a typed Arrow table, or a
``RecordBatchReader`` for the outputs with a row per client, filled batch by batch. The
memory of each is bounded by the settings (batch size, sample caps), never by the number
of clients: inputs with a row per client are filtered and sampled in DuckDB and read in
batches.

- :func:`lookalike_models`: per reference launch, the PU lookalike's fold models fitted
  on a bounded sample of the pool and of the unlabeled clients (with importances);
- :func:`lookalike_scores`: every client of every launch scored by one fold model;
- :func:`collection_appetence`, :func:`product_appetence`, :func:`new_product_matches`:
  Gower appetence per launch, per new product, and old-to-new product matches;
- :func:`audience_policy`: the contact policy tuned on past launches and its checks;
- :func:`audience_priority`: that policy's priority for every client of the upcoming
  launch (the formula lives in ``policy.Policy.priority`` only);
- :func:`uplift`: the uplift of a contact (X-learner on past campaigns' contacted and
  control clients) and its segment for every client of the upcoming launch;
- :func:`evaluation`: the area's rows of model_evaluation (the uplift's Qini and AUUC on
  held-out campaigns among them).

Percentiles among a launch's clients are taken in SQL (``launch_percentile``), where
ranking every client costs no Python memory. The checks against the demo brand's latent
truth are in :mod:`clientele.launch.truth` (pytest and ``make quality``), not in the DAG.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from clientele import intervals, seam
from clientele.launch.appetence import AppetenceScorer, PurchaseMatrix, purchase_matrix_from_lists
from clientele.launch.gower import GowerSimilarity
from clientele.launch.lookalike import MIX_COLUMN, LookalikeMatrix, PULookalike, top_share_metrics
from clientele.launch.policy import (
    PRIORITY_BANDS,
    AudiencePolicy,
    Policy,
    priority_calibration,
    rolling_holdouts,
)
from clientele.launch.settings import LaunchSettings
from clientele.launch.uplift import (
    UpliftModel,
    auuc,
    frame_matrix,
    qini_coefficient,
    segments,
    slots_at_equal_sales,
)
from clientele.seam import Source, fields, sql_literal

log = seam.get_logger("launch")

LOOKALIKE_MODEL_SCHEMA = fields(
    ("reference_collection_id", pa.string()),
    ("fold", pa.int32()),
    ("booster", pa.binary()),
    ("matrix_spec", pa.string()),
    ("feature_names", pa.list_(pa.string())),
    ("importances", pa.list_(pa.float64())),
    ("held_out_customer_ids", pa.list_(pa.string())),
    ("pu_constant", pa.float64()),
    ("sampling_ratio", pa.float64()),
    ("n_clients", pa.int64()),
    ("n_pool", pa.int64()),
    ("n_train_pool", pa.int64()),
    ("n_train_unlabeled", pa.int64()),
    ("labeled_auc", pa.float64()),
)
LOOKALIKE_SCORE_SCHEMA = fields(
    ("reference_collection_id", pa.string()),
    ("customer_id", pa.string()),
    ("in_pool", pa.bool_()),
    ("lookalike_raw", pa.float64()),
    ("lookalike_score", pa.float64()),
)
COLLECTION_APPETENCE_SCHEMA = fields(
    ("reference_collection_id", pa.string()),
    ("customer_id", pa.string()),
    ("appetence_similarity", pa.float64()),
)
PRODUCT_APPETENCE_SCHEMA = fields(
    ("customer_id", pa.string()),
    ("product_id", pa.string()),
    ("collection_id", pa.string()),
    ("appetence", pa.float64()),
    ("appetence_rank", pa.int32()),
)
NEW_PRODUCT_MATCH_SCHEMA = fields(
    ("product_id", pa.string()),
    ("collection_id", pa.string()),
    ("new_product_id", pa.string()),
    ("new_collection_id", pa.string()),
    ("match_rank", pa.int32()),
    ("similarity", pa.float64()),
)
AUDIENCE_POLICY_SCHEMA = fields(
    ("item", pa.string()),
    ("item_type", pa.string()),
    ("value", pa.float64()),
    ("collection_id", pa.string()),
    ("n_clients", pa.int64()),
    ("notes", pa.string()),
)
AUDIENCE_PRIORITY_SCHEMA = fields(
    ("customer_id", pa.string()),
    ("collection_id", pa.string()),
    ("priority_score", pa.float64()),
)
UPLIFT_SCHEMA = fields(
    ("customer_id", pa.string()),
    ("collection_id", pa.string()),
    ("uplift_score", pa.float64()),
    ("p_buy_if_contacted", pa.float64()),
    ("p_buy_if_not_contacted", pa.float64()),
    ("uplift_segment", pa.string()),
)

# --------------------------------------------------------------------------- helpers

PRODUCT_ATTRIBUTES = [
    "product_id",
    "collection_id",
    "category",
    "family",
    "subfamily",
    "color",
    "material",
    "gender_line",
    "price_band",
    "list_price",
]
#: A spend-mix key, as the lookalike names its column (``mix_category=bags``).
MIX_KEY = "attribute_name || '=' || coalesce(cast(attribute_value as varchar), 'None')"


def _on_launch(reference_collection_id: str, where: str | None = None) -> str:
    condition = f"reference_collection_id = {sql_literal(reference_collection_id)}"
    return f"{condition} and ({where})" if where else condition


def _launch_ids(references: Source, where: str | None = None) -> list[str]:
    frame = seam.read_frame(references, ["collection_id"], where=where, order_by="collection_id")
    return [str(c) for c in frame["collection_id"]]


def product_frame(products: Source) -> pd.DataFrame:
    """Merchandise products with the attributes Gower compares (log price added)."""
    frame = seam.read_frame(products, PRODUCT_ATTRIBUTES, where="is_merchandise",
                            order_by="product_id")
    frame["log_list_price"] = np.log1p(
        pd.to_numeric(frame["list_price"], errors="coerce").clip(lower=0)
    )
    frame["price_band"] = pd.to_numeric(frame["price_band"], errors="coerce")
    return frame.reset_index(drop=True)


def _purchase_batches(purchases: Source, launch: str, catalogue_ids: pa.Array,
                      batch_rows: int) -> Iterator[PurchaseMatrix]:
    """The launch's clients' purchase matrices, ``batch_rows`` clients at a time: each
    client's purchases are aggregated into one list in DuckDB, so a client is never split
    between batches and nothing is sorted in DuckDB."""
    lists = seam.as_relation(purchases).filter(_on_launch(launch)).aggregate(
        "customer_id, list({'product_id': product_id, 'weight': purchase_weight}) as items",
        "customer_id")
    for batch in seam.iter_batches(lists, batch_rows):
        items = batch.column("items")
        offsets = items.offsets.to_numpy()
        offsets = offsets - offsets[0]  # a slice's offsets need not start at 0
        flat = items.flatten()
        positions = pc.index_in(flat.field("product_id"), value_set=catalogue_ids)
        positions = positions.fill_null(-1).to_numpy(zero_copy_only=False)
        weights = flat.field("weight").to_numpy(zero_copy_only=False).astype(float)
        # Each client's purchases in catalogue order, whatever order the list came in:
        # the row sums then add up in one order, and the scores are reproducible.
        rows = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
        order = np.lexsort((positions, rows))
        yield purchase_matrix_from_lists(batch.column("customer_id"), offsets,
                                         positions[order], weights[order],
                                         len(catalogue_ids))


# --------------------------------------------------------------------------- lookalike


def _lookalike_rows(features: Source, mix: Source, population: Source, launch: str,
                    sample: str | None = None):  # noqa: ANN202
    """One launch's clients with their features, pool label and spend-mix list (one
    row per client: the pivot is done on Arrow batches), optionally only the clients a
    filter on the population picks (a sample)."""
    features, mix, population = (seam.as_relation(s) for s in (features, mix, population))
    on_launch = _on_launch(launch)
    labels = population.filter(_on_launch(launch, sample)).project(
        "customer_id, coalesce(in_pool, false) as in_pool")
    mix_rows = mix.filter(on_launch)
    if sample:  # a join, not the filter again: the filter needs the label, the mix has none
        mix_rows = mix_rows.join(labels.project("customer_id"), "customer_id")
    mix_lists = mix_rows.aggregate(
        f"customer_id, list({{'key': {MIX_KEY}, 'share': spend_share}}) as {MIX_COLUMN}",
        "customer_id")
    return features.filter(on_launch).join(
        labels, "customer_id", how="inner" if sample else "left").join(
        mix_lists, "customer_id", how="left")


def _fit_launch(features: Source, mix: Source, population: Source, launch: str,
                settings: LaunchSettings) -> list[dict] | None:
    """The fold models of one launch, fitted on a bounded sample; None when its pool is
    too small to learn from."""
    counts = seam.as_relation(population).filter(_on_launch(launch)).aggregate(
        "count(*) as n, count(*) filter (where in_pool) as n_pool").fetchone()
    n_clients, n_pool = int(counts[0]), int(counts[1])  # type: ignore[index]
    if n_pool < max(settings.lookalike_folds, 10) or n_pool == n_clients:
        log.info("launch: lookalike skipped for %s: %d pool clients of %d", launch, n_pool,
                 n_clients)
        return None
    pool_sample = seam.sample_filter(population, "customer_id",
                                    settings.lookalike_max_pool_clients, settings.seed,
                                    where=_on_launch(launch, "in_pool"))
    other_sample = seam.sample_filter(population, "customer_id",
                                     settings.lookalike_max_unlabeled_clients, settings.seed,
                                     where=_on_launch(launch, "not coalesce(in_pool, false)"))
    sample = None
    if pool_sample or other_sample:
        sample = (f"(in_pool and {pool_sample or 'true'}) or "
                  f"(not coalesce(in_pool, false) and {other_sample or 'true'})")
    # Row order decides the folds: keep it reproducible.
    rows = _lookalike_rows(features, mix, population, launch, sample).order("customer_id").arrow()
    if isinstance(rows, pa.RecordBatchReader):
        rows = rows.read_all()
    labeled = rows.column("in_pool").fill_null(False).to_numpy().astype(bool)
    n_train_pool = int(labeled.sum())
    n_train_other = len(labeled) - n_train_pool
    ratio = 1.0
    if sample:
        ratio = (n_train_pool / n_pool) / (n_train_other / (n_clients - n_pool))
    matrix = LookalikeMatrix().fit(rows)
    model = PULookalike(n_estimators=settings.lookalike_trees, n_folds=settings.lookalike_folds,
                        n_jobs=1, random_state=settings.seed)
    model.fit(matrix.transform(rows), labeled, sampling_ratio=ratio)
    log.info("launch: lookalike %s: %d clients, %d in pool; trained on %d pool + %d other "
             "clients, labeled-vs-unlabeled AUC %.3f, c=%.3f", launch, n_clients, n_pool,
             n_train_pool, n_train_other, model.labeled_auc_, model.c_)
    customers = np.asarray(rows.column("customer_id").to_pylist(), dtype=object)
    return [
        {
            "reference_collection_id": launch,
            "fold": k,
            "booster": booster,
            "matrix_spec": matrix.to_json(),
            "feature_names": model.feature_names_,
            "importances": model.fold_importances_[k].tolist(),
            "held_out_customer_ids": customers[model.fold_of_row_ == k].tolist(),
            "pu_constant": model.c_,
            "sampling_ratio": ratio,
            "n_clients": n_clients,
            "n_pool": n_pool,
            "n_train_pool": n_train_pool,
            "n_train_unlabeled": n_train_other,
            "labeled_auc": model.labeled_auc_,
        }
        for k, booster in enumerate(model.booster_bytes())
    ]


@seam.bounded_threads()
def lookalike_models(features: Source, mix: Source, population: Source,
                     settings: LaunchSettings) -> pa.Table:
    """Per reference launch, the PU lookalike's fold models (one row per fold): trained
    on at most ``lookalike_max_pool_clients`` pool and ``lookalike_max_unlabeled_clients``
    other clients (seeded samples), with the clients each fold held out, the PU constant,
    the sampling ratio and the fold's feature importances."""
    launches = sorted(str(c) for c in seam.read_frame(
        seam.as_relation(population).project("reference_collection_id").distinct()
    )["reference_collection_id"])
    if not launches:
        log.info("launch: lookalike skipped: no collection launches in this dataset")
        return seam.empty_table(LOOKALIKE_MODEL_SCHEMA)
    rows = []
    for launch in launches:  # a loop over launches
        rows.extend(_fit_launch(features, mix, population, launch, settings) or [])
    if not rows:
        return seam.empty_table(LOOKALIKE_MODEL_SCHEMA)
    return pa.Table.from_pylist(rows, schema=LOOKALIKE_MODEL_SCHEMA)


@seam.bounded_threads()
def lookalike_scores(models: Source, features: Source, mix: Source, population: Source,
                     settings: LaunchSettings) -> pa.Table | pa.RecordBatchReader:
    """Every client of every launch the lookalike learned, scored in batches: a sampled
    client by the fold model that held it out (out-of-fold), any other by the fold model
    a hash of its id picks (none saw it)."""
    launches = _launch_ids(seam.as_relation(models).project(
        "reference_collection_id as collection_id").distinct())
    if not launches:
        log.info("launch: lookalike scores skipped: no lookalike was fitted")
        return seam.empty_table(LOOKALIKE_SCORE_SCHEMA)

    def parts() -> Iterator[pa.Table]:
        for launch in launches:  # a loop over launches
            folds = seam.read_frame(models, ["fold", "booster", "matrix_spec", "pu_constant",
                                             "sampling_ratio"],
                                    where=_on_launch(launch), order_by="fold")
            matrix = LookalikeMatrix.from_json(folds["matrix_spec"].iloc[0])
            # Predicting is per row: two threads give the same scores as one.
            model = PULookalike.from_fitted(list(folds["booster"]), folds["pu_constant"].iloc[0],
                                            folds["sampling_ratio"].iloc[0], n_jobs=2)
            held_out = seam.as_relation(models).filter(_on_launch(launch)).project(
                "unnest(held_out_customer_ids) as customer_id, fold as held_out_fold")
            hash_fold = f"hash(customer_id::varchar || '#fold{int(settings.seed)}') % {len(folds)}"
            rows = _lookalike_rows(features, mix, population, launch).join(
                held_out, "customer_id", how="left")
            inputs = ", ".join(f'"{c}"' for c in matrix.inputs_)
            rows = rows.project(f"customer_id, coalesce(in_pool, false) as in_pool, "
                                f"coalesce(held_out_fold, {hash_fold}) as fold, {inputs}")
            for batch in seam.iter_batches(rows, settings.batch_rows):
                raw = model.predict_raw(matrix.transform(batch),
                                        batch.column("fold").to_numpy(zero_copy_only=False))
                n = batch.num_rows
                yield pa.table({
                    "reference_collection_id": pa.array([launch] * n, pa.string()),
                    "customer_id": batch.column("customer_id"),
                    "in_pool": batch.column("in_pool"),
                    "lookalike_raw": raw,
                    "lookalike_score": np.clip(raw / max(model.c_, 1e-9), 0.0, 1.0),
                })
            log.info("launch: lookalike %s scored", launch)

    return seam.stream(LOOKALIKE_SCORE_SCHEMA, parts())


# --------------------------------------------------------------------------- appetence


@seam.bounded_threads()
def collection_appetence(products: Source, gower_weights: Source, purchases: Source,
                         references: Source, settings: LaunchSettings
                         ) -> pa.Table | pa.RecordBatchReader:
    """Per reference launch x client: the recency-weighted mean Gower similarity of the
    client's purchases before the cutoff to the launch's collection, in client batches
    (its percentile among the launch's clients is taken in SQL)."""
    launches = _launch_ids(references)
    if not launches:
        log.info("launch: appetence skipped: no collection launches in this dataset")
        return seam.empty_table(COLLECTION_APPETENCE_SCHEMA)
    catalogue = product_frame(products)
    gower = GowerSimilarity.from_seed(seam.read_frame(gower_weights)).fit(catalogue)
    new = catalogue[catalogue["collection_id"].isin(launches)].reset_index(drop=True)
    similarity = gower.transform(catalogue, new)  # catalogue x every launch's products
    catalogue_ids = pa.array(catalogue["product_id"], pa.string())
    scorer = AppetenceScorer()

    def parts() -> Iterator[pa.Table]:
        for launch in launches:  # a loop over launches
            columns = (new["collection_id"] == launch).to_numpy()
            if not columns.any():
                continue
            for matrix in _purchase_batches(purchases, launch, catalogue_ids,
                                            settings.batch_rows):
                _, scores = scorer.collection_scores(
                    matrix, similarity[:, columns], np.zeros(columns.sum(), int))
                yield pa.table({
                    "reference_collection_id": pa.array([launch] * len(scores), pa.string()),
                    "customer_id": matrix.customer_ids,
                    "appetence_similarity": scores[:, 0].astype(float),
                })
            log.info("launch: appetence for %s computed", launch)

    return seam.stream(COLLECTION_APPETENCE_SCHEMA, parts())


def _upcoming(references: Source) -> str | None:
    upcoming = _launch_ids(references, where="is_upcoming")
    return upcoming[0] if upcoming else None


@seam.bounded_threads()
def product_appetence(products: Source, gower_weights: Source, purchases: Source,
                      references: Source, settings: LaunchSettings
                      ) -> pa.Table | pa.RecordBatchReader:
    """Per client x new product of the upcoming collection (the ``top_new_products``
    closest per client): appetence and rank, in client batches."""
    launch = _upcoming(references)
    if launch is None:
        log.info("launch: product appetence skipped: no upcoming collection "
                 "(none launches after as_of)")
        return seam.empty_table(PRODUCT_APPETENCE_SCHEMA)
    catalogue = product_frame(products)
    new = catalogue[catalogue["collection_id"] == launch].reset_index(drop=True)
    similarity = GowerSimilarity.from_seed(seam.read_frame(gower_weights)).fit(
        catalogue).transform(catalogue, new)
    catalogue_ids = pa.array(catalogue["product_id"], pa.string())
    scorer = AppetenceScorer(top_n=settings.top_new_products)
    k = min(settings.top_new_products, len(new))
    new_ids = pa.array(new["product_id"], pa.string())

    def parts() -> Iterator[pa.Table]:
        for matrix in _purchase_batches(purchases, launch, catalogue_ids, settings.batch_rows):
            rows, cols, values = scorer.top_products(matrix, similarity)
            # k rows per client: ids are taken from Arrow arrays, never repeated as objects.
            yield pa.table({
                "customer_id": matrix.customer_ids.take(rows),
                "product_id": new_ids.take(cols),
                "collection_id": pa.array([launch] * len(rows), pa.string()),
                "appetence": values.astype(float),
                "appetence_rank": np.tile(np.arange(1, k + 1, dtype=np.int32),
                                          len(matrix.customer_ids)),
            })
        log.info("launch: product appetence for %s computed (top %d of %d new products)",
                 launch, k, len(new))

    return seam.stream(PRODUCT_APPETENCE_SCHEMA, parts())


@seam.bounded_threads()
def new_product_matches(products: Source, gower_weights: Source, references: Source,
                        settings: LaunchSettings) -> pa.Table:
    """For every product outside the upcoming collection, its ``match_k`` most similar
    new products (bounded by the catalogue)."""
    launch = _upcoming(references)
    if launch is None:
        log.info("launch: new product matches skipped: no upcoming collection")
        return seam.empty_table(NEW_PRODUCT_MATCH_SCHEMA)
    catalogue = product_frame(products)
    is_new = (catalogue["collection_id"] == launch).to_numpy()
    new, old = catalogue[is_new].reset_index(drop=True), catalogue[~is_new].reset_index(drop=True)
    sim = GowerSimilarity.from_seed(seam.read_frame(gower_weights)).fit(catalogue).transform(
        old, new)
    k = min(settings.match_k, len(new))
    idx = np.argsort(-sim, axis=1, kind="stable")[:, :k]
    return seam.to_table(pd.DataFrame({
        "product_id": np.repeat(old["product_id"].to_numpy(), k),
        "collection_id": np.repeat(old["collection_id"].to_numpy(), k),
        "new_product_id": new["product_id"].to_numpy()[idx.ravel()],
        "new_collection_id": launch,
        "match_rank": np.tile(np.arange(1, k + 1), len(old)),
        "similarity": np.take_along_axis(sim, idx, axis=1).ravel().astype(float),
    }), NEW_PRODUCT_MATCH_SCHEMA)


# --------------------------------------------------------------------------- audience

POLICY_COLUMNS = ["reference_collection_id", "customer_id", "launch_date", "lookalike_score",
                  "early_adopter_score", "appetence", "converted"]


def _past_launches(scores: Source, settings: LaunchSettings) -> pd.DataFrame:
    """Past launches' scores and outcomes of at most ``policy_max_clients`` clients."""
    sample = seam.sample_filter(scores, "customer_id", settings.policy_max_clients,
                               settings.seed, where="not is_upcoming")
    where = "not is_upcoming" + (f" and {sample}" if sample else "")
    return seam.read_frame(scores, POLICY_COLUMNS, where=where)


@seam.bounded_threads()
def audience_policy(scores: Source, settings: LaunchSettings) -> pa.Table:
    """The contact policy tuned on past launches (parameter rows), its training lift,
    its check on the held-out latest launch and the rolling check, at the volume
    ``contact_share``. Empty, with a log line, without two past launches."""
    past = _past_launches(scores, settings)
    share = settings.contact_share
    policy = AudiencePolicy(volume_share=share)
    try:
        policy.fit(past)
    except ValueError as exc:
        log.info("launch: audience policy skipped: %s", exc)
        return seam.empty_table(AUDIENCE_POLICY_SCHEMA)
    chosen, hold = policy.policy_, policy.holdout_
    rows = [
        {"item": name, "item_type": "parameter", "value": getattr(chosen, name)}
        for name in Policy.PARAMETERS
    ]
    rows.append({"item": "contact_share", "item_type": "parameter", "value": share})
    rows.append({"item": "train_mean_lift", "item_type": "train", "value": policy.train_lift_})
    notes = (f"grid of {policy.grid_size_} policies; best mean lift at {share:.0%} on "
             f"{', '.join(policy.train_launches_)}")
    rows = [{**r, "collection_id": None, "n_clients": None, "notes": notes} for r in rows]
    audiences = ("policy", "rules_only", "lookalike_only", "appetence_only", "random")
    rows += [
        {"item": f"conversion_{a}", "item_type": "holdout", "value": hold[a],
         "collection_id": policy.holdout_launch_, "n_clients": int(hold["n_clients"]),
         "notes": f"held-out launch; top {int(hold['volume'])} per ranking; "
                  "random = base rate"}
        for a in audiences
    ]
    log.info("launch: policy %s; holdout %s", chosen, hold)
    calibration = priority_calibration(past, chosen)
    band_width = 100 // PRIORITY_BANDS
    rows += [
        {"item": f"conversion_priority_{int(r.band)}", "item_type": "calibration",
         "value": float(r.conversion), "collection_id": None, "n_clients": int(r.n_clients),
         "notes": f"past launches' conversion of clients at priority {int(r.band)}-"
                  f"{int(r.band) + band_width} (percentile of the tuned policy's score)"}
        for r in calibration.itertuples(index=False)
    ]
    rows.append({"item": "conversion_base", "item_type": "calibration",
                 "value": float(past["converted"].mean()), "collection_id": None,
                 "n_clients": len(past),
                 "notes": "past launches' conversion of all their clients (random contact)"})
    rolling = rolling_holdouts(past, settings.rolling_holdouts, share)
    rows += [
        {"item": f"conversion_{r.audience}", "item_type": "rolling_holdout",
         "value": r.conversion, "collection_id": r.collection_id,
         "n_clients": int(r.n_clients),
         "notes": f"policy re-tuned on the {r.n_train_launches} launches before this one, "
                  "then applied to it"}
        for r in rolling.itertuples(index=False)
    ]
    return pa.Table.from_pylist(rows, schema=AUDIENCE_POLICY_SCHEMA)


@seam.bounded_threads()
def audience_priority(policy: Source, scores: Source, settings: LaunchSettings
                      ) -> pa.RecordBatchReader:
    """The tuned policy's priority score of every client of the upcoming launch (the
    default policy when none could be tuned), in client batches."""
    parameters = seam.read_frame(policy, ["item", "value"], where="item_type = 'parameter'")
    fallback = settings.fallback_policy()
    chosen = Policy.from_parameters(dict(zip(parameters["item"], parameters["value"],
                                             strict=True)), fallback)
    if len(parameters) == 0:
        log.info("launch: no tuned audience policy: priority by the fallback %s", fallback)

    def parts() -> Iterator[pa.Table]:
        for batch in seam.iter_batches(
            scores, settings.batch_rows, where="is_upcoming",
            columns=["reference_collection_id", "customer_id", "lookalike_score",
                     "early_adopter_score", "appetence"],
        ):
            score = [batch.column(c).to_numpy(zero_copy_only=False).astype(float)
                     for c in ("lookalike_score", "early_adopter_score", "appetence")]
            yield pa.table({
                "customer_id": batch.column("customer_id"),
                "collection_id": batch.column("reference_collection_id"),
                "priority_score": chosen.priority(*score),
            })

    return seam.stream(AUDIENCE_PRIORITY_SCHEMA, parts())


# --------------------------------------------------------------------------- uplift

#: What the uplift model sees of a client (int_launch__uplift_inputs), as known before the
#: launch: the launch scores, the early-adopter components, the profile and engagement,
#: and whether the contact is an advisor's (phone or store) rather than an e-mail.
UPLIFT_FEATURES = (
    "advisor_contact", "early_adopter_score", "lookalike_score", "appetence", "adoption_rate",
    "recent_adoption_share", "speed", "new_season_spend_share", "full_price_share", "recency",
    "age", "tenure_days", "days_since_last_purchase", "purchases_per_year", "avg_order_value",
    "store_order_share", "email_open_rate", "email_click_rate", "launch_email_open_rate",
    "web_views_180d", "has_advisor",
)
UPLIFT_TRAIN_COLUMNS = ["reference_collection_id", "customer_id", "launch_date",
                        "is_contacted", "converted", *UPLIFT_FEATURES]


def _past_campaigns(inputs: Source, settings: LaunchSettings) -> pd.DataFrame:
    """Past campaigns' targeted clients (contacted and control) with their outcome, of at
    most ``uplift_max_clients`` clients (a seeded sample, all campaigns of each)."""
    sample = seam.sample_filter(inputs, "customer_id", settings.uplift_max_clients,
                               settings.seed, where="not is_upcoming")
    where = "not is_upcoming" + (f" and {sample}" if sample else "")
    return seam.read_frame(inputs, UPLIFT_TRAIN_COLUMNS, where=where,
                           order_by="reference_collection_id, customer_id")


def _uplift_model(settings: LaunchSettings) -> UpliftModel:
    return UpliftModel(n_trees=settings.uplift_trees, depth=settings.uplift_depth,
                       seed=settings.seed)


def _why_no_uplift(past: pd.DataFrame) -> str | None:
    if past.empty:
        return "no past campaign targeted any client (campaign_contacts is empty)"
    return UpliftModel.can_fit(past["is_contacted"].to_numpy(bool),
                               past["converted"].to_numpy(bool))


@seam.bounded_threads()
def uplift(inputs: Source, settings: LaunchSettings) -> pa.Table | pa.RecordBatchReader:
    """The uplift of an advisor's contact on buying the upcoming collection, for every
    client of its audience: an X-learner (clientele.launch.uplift) fitted on past
    campaigns' contacted and control clients, with P(buy) with and without the contact
    and the segment (persuadable, sure thing, lost cause, do-not-disturb). Empty, with a
    log line, where the data holds no campaign with a control group large enough."""
    past = _past_campaigns(inputs, settings)
    reason = _why_no_uplift(past)
    if reason:
        log.info("launch: uplift skipped: %s", reason)
        return seam.empty_table(UPLIFT_SCHEMA)
    model = _uplift_model(settings).fit(_features(past), past["is_contacted"].to_numpy(bool),
                                        past["converted"].to_numpy(bool))
    log.info("launch: uplift fitted on %d targeted clients of %d past campaigns (%d control)",
             len(past), past["reference_collection_id"].nunique(),
             int((~past["is_contacted"].astype(bool)).sum()))

    def parts() -> Iterator[pd.DataFrame]:
        for frame in seam.iter_frames(inputs, settings.batch_rows, where="is_upcoming",
                                      columns=["customer_id", "reference_collection_id",
                                               *UPLIFT_FEATURES]):
            effect, p_contacted, p_not = model.predict(_features(frame))
            yield pd.DataFrame({
                "customer_id": frame["customer_id"],
                "collection_id": frame["reference_collection_id"],
                "uplift_score": effect.astype(float),
                "p_buy_if_contacted": p_contacted.astype(float),
                "p_buy_if_not_contacted": p_not.astype(float),
                "uplift_segment": segments(effect, p_not, settings.uplift_persuadable_from,
                                           settings.uplift_do_not_disturb_below,
                                           settings.uplift_sure_thing_from),
            })

    return seam.stream(UPLIFT_SCHEMA, parts())


def _features(frame: pd.DataFrame) -> np.ndarray:
    return frame_matrix(frame, UPLIFT_FEATURES)


# --------------------------------------------------------------------------- evaluation


def _pool_rows(rows: seam.EvaluationRows, scores: Source, launch: str, cutoff: object,
               settings: LaunchSettings) -> None:
    """Out-of-fold lookalike vs the rule pool of one launch, next to random; on at most
    ``evaluation_max_clients`` clients."""
    sample = seam.sample_filter(scores, "customer_id", settings.evaluation_max_clients,
                               settings.seed, where=_on_launch(launch))
    g = seam.read_frame(
        scores, ["customer_id", "lookalike_score", "lookalike_percentile", "in_pool"],
        where=_on_launch(launch, sample), order_by="customer_id")
    if g["lookalike_percentile"].isna().all() or g["in_pool"].nunique() < 2:
        return
    share = settings.contact_share
    k_pct = int(round(share * 100))
    pool = g["in_pool"].to_numpy(bool)
    ranking = (g["lookalike_score"].to_numpy(float)
               + 1e-6 * g["lookalike_percentile"].fillna(0).to_numpy(float))
    m = top_share_metrics(ranking, pool, share)
    n = len(g)
    seg = f"launch={launch}"
    note = "out-of-fold PU lookalike vs the rule pool (labeled vs unlabeled)"
    if sample:
        note += f"; a seeded sample of {n} clients"
    _, lo, hi = intervals.auc_ci(pool, ranking)
    _, p_lo, p_hi = intervals.proportion_ci(int(m["hits"]), int(m["n_top"]))
    common = {"segment": seg, "n_evaluated": n, "cutoff_date": cutoff}
    rows.add("lookalike_xgb_pu", "auc_pool", m["auc"], is_baseline=False, notes=note,
             ci=(lo, hi), **common)
    rows.add("lookalike_xgb_pu", "precision_pool", m["precision"], is_baseline=False, k=k_pct,
             notes=note, ci=(p_lo, p_hi), **common)
    rows.add("lookalike_xgb_pu", "lift_pool", m["lift"], is_baseline=False, k=k_pct,
             notes=note, ci=(p_lo / m["base_rate"], p_hi / m["base_rate"]), **common)
    rows.add("random", "auc_pool", 0.5, is_baseline=True, notes="random ranking", **common)
    rows.add("random", "lift_pool", 1.0, is_baseline=True, k=k_pct, notes="random ranking",
             **common)


def _holdout_rows(rows: seam.EvaluationRows, policy: pd.DataFrame, cutoffs: pd.Series,
                  share: float) -> None:
    """The tuned policy and its baselines on the held-out launch, and their mean lift over
    the rolling hold-outs."""
    k_pct = int(round(share * 100))
    hold = policy[policy["item_type"] == "holdout"]
    if len(hold):
        values = hold.set_index("item")["value"]
        launch = str(hold["collection_id"].iloc[0])
        n = int(hold["n_clients"].iloc[0])
        volume = max(int(round(share * n)), 1)
        base = float(values.get("conversion_random", 0.0))
        common = {"segment": f"holdout={launch}", "n_evaluated": n,
                  "cutoff_date": cutoffs.get(launch)}
        for item, model, baseline in (
            ("conversion_policy", "audience_policy", False),
            ("conversion_rules_only", "rules_only", True),
            ("conversion_lookalike_only", "lookalike_only", True),
            ("conversion_appetence_only", "appetence_only", True),
            ("conversion_random", "random", True),
        ):
            if item not in values:
                continue
            value = float(values[item])
            if model == "random":
                _, lo, hi = intervals.proportion_ci(int(round(value * n)), n)
            else:
                _, lo, hi = intervals.proportion_ci(int(round(value * volume)), volume)
            rows.add(model, "conversion", value, is_baseline=baseline, k=k_pct, ci=(lo, hi),
                     notes=f"conversion of the top {k_pct}% contacted on the held-out launch",
                     **common)
            if base > 0:
                ci = (None, None) if model == "random" else (lo / base, hi / base)
                rows.add(model, "lift_vs_random", value / base, is_baseline=baseline, k=k_pct,
                         ci=ci, notes="conversion / base rate at the same contact volume",
                         **common)
    rolling = policy[policy["item_type"] == "rolling_holdout"]
    if len(rolling):
        wide = rolling.pivot_table(index="collection_id", columns="item", values="value")
        n_total = int(rolling.groupby("collection_id")["n_clients"].max().sum())
        if "conversion_random" in wide and (wide["conversion_random"] > 0).all():
            items = [c for c in wide.columns if c != "conversion_random"] + ["conversion_random"]
            for item in items:
                model = item.removeprefix("conversion_")
                model = "audience_policy" if model == "policy" else model
                rows.add(model, "mean_lift_vs_random",
                         float((wide[item] / wide["conversion_random"]).mean()),
                         is_baseline=model != "audience_policy", k=k_pct,
                         segment=f"rolling={len(wide)} launches", n_evaluated=n_total,
                         cutoff_date=None,
                         notes="mean over the last launches, each held out in turn with the "
                               "policy re-tuned on the launches before it")


def _uplift_holdouts(past: pd.DataFrame, settings: LaunchSettings) -> pd.DataFrame:
    """Each of the last ``rolling_holdouts`` past campaigns held out in turn, the uplift
    model fitted on the campaigns before it: its targeted clients with the uplift score,
    the response probability (the contacted clients' outcome model: who buys when
    contacted) and a seeded random score."""
    order = past.groupby("reference_collection_id")["launch_date"].max().sort_values()
    parts = []
    for k in range(max(1, len(order) - settings.rolling_holdouts), len(order)):  # launches
        train = past[past["reference_collection_id"].isin(order.index[:k])]
        held = past[past["reference_collection_id"] == order.index[k]]
        reason = _why_no_uplift(train)
        if reason:
            log.info("launch: uplift not checked on %s: %s", order.index[k], reason)
            continue
        effect, p_contacted, _ = _uplift_model(settings).fit(
            _features(train), train["is_contacted"].to_numpy(bool),
            train["converted"].to_numpy(bool)).predict(_features(held))
        rng = np.random.default_rng(settings.seed + k)
        parts.append(pd.DataFrame({
            "collection_id": str(order.index[k]), "uplift": effect, "response": p_contacted,
            "random": rng.random(len(held)),
            "is_contacted": held["is_contacted"].to_numpy(bool),
            "converted": held["converted"].to_numpy(bool)}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _uplift_rows(rows: seam.EvaluationRows, inputs: Source, cutoffs: pd.Series,
                 settings: LaunchSettings) -> None:
    """The uplift ranking against the response-probability ranking and random on the
    latest past campaign held out, and on the last ``rolling_holdouts`` pooled: Qini
    coefficient and AUUC (incremental conversions per targeted client) with bootstrap
    intervals, the paired Qini gain over response targeting, and the advisor slots saved
    per 100 targeted clients at equal incremental sales."""
    past = _past_campaigns(inputs, settings)
    reason = _why_no_uplift(past)
    checked = _uplift_holdouts(past, settings) if reason is None else pd.DataFrame()
    if checked.empty:
        log.info("launch: uplift evaluation skipped: %s",
                 reason or "no held-out campaign with a trainable history")
        return
    latest = checked["collection_id"].iloc[-1]
    share = settings.uplift_slots_share
    k_pct = int(round(share * 100))
    for segment, frame, cutoff in (
        (f"holdout={latest}", checked[checked["collection_id"] == latest], cutoffs.get(latest)),
        (f"rolling={checked['collection_id'].nunique()} launches", checked, None),
    ):
        t, y = frame["is_contacted"].to_numpy(bool), frame["converted"].to_numpy(bool)
        group = frame["collection_id"].to_numpy()
        common = {"segment": segment, "n_evaluated": len(frame), "cutoff_date": cutoff}
        for name, model, baseline in (("uplift", "uplift_xlearner", False),
                                      ("response", "response_probability", True),
                                      ("random", "random", True)):
            score = frame[name].to_numpy(float)
            for metric, statistic in (("qini", qini_coefficient), ("auuc", auuc)):
                value, lo, hi = intervals.statistic_ci(
                    statistic, (score, t, y, group), seed=settings.seed)
                rows.add(model, metric, value, is_baseline=baseline, ci=(lo, hi),
                         notes="incremental conversions per targeted client, contacted vs "
                               "control, averaged over contact volumes"
                               + (" (Qini: above random)" if metric == "qini" else ""),
                         **common)
        u, r = frame["uplift"].to_numpy(float), frame["response"].to_numpy(float)
        value, lo, hi = intervals.statistic_ci(
            lambda a, b, tt, yy, gg: qini_coefficient(a, tt, yy, gg)
            - qini_coefficient(b, tt, yy, gg), (u, r, t, y, group), seed=settings.seed)
        rows.add("uplift_xlearner", "qini_gain_vs_response", value, is_baseline=False,
                 ci=(lo, hi), notes="Qini of uplift minus Qini of response targeting "
                                    "(paired bootstrap over clients)", **common)
        value, lo, hi = intervals.statistic_ci(
            lambda a, b, tt, yy, gg: slots_at_equal_sales(a, b, tt, yy, gg, share)[1],
            (u, r, t, y, group), seed=settings.seed)
        rows.add("uplift_xlearner", "slots_saved_per_100", value, is_baseline=False, k=k_pct,
                 ci=(lo, hi), notes=f"advisor contacts saved per 100 targeted clients: the "
                                    f"incremental sales of the top {k_pct}% by response "
                                    "reached by fewer clients ranked by uplift", **common)
        log.info("launch: uplift on %s: %d clients checked", segment, len(frame))


@seam.bounded_threads()
def evaluation(scores: Source, references: Source, policy: Source, as_of: Source,
               settings: LaunchSettings, uplift_inputs: Source | None = None) -> pa.Table:
    """The launch rows of model_evaluation, with 95 % intervals: per launch, the
    out-of-fold lookalike against the rule pool it learns from (AUC, precision and lift
    in the top ``contact_share``) next to random; the tuned audience policy on the
    held-out launch and on the rolling hold-outs next to rules-only, lookalike-only,
    appetence-only and random contact; the uplift model on held-out campaigns next to
    response-probability targeting and random (``uplift_inputs``)."""
    as_of_date = seam.read_frame(as_of, ["as_of_date"])["as_of_date"].iloc[0]
    rows = seam.EvaluationRows("launch", as_of_date=as_of_date)
    launches = seam.read_frame(references, ["collection_id", "cutoff_date"],
                               order_by="collection_id")
    if launches.empty:
        log.info("launch: evaluation skipped: no collection launches in this dataset")
        return rows.to_table()
    cutoffs = launches.set_index("collection_id")["cutoff_date"]
    for launch, cutoff in cutoffs.items():  # a loop over launches
        _pool_rows(rows, scores, str(launch), cutoff, settings)
    _holdout_rows(rows, seam.read_frame(policy), cutoffs, settings.contact_share)
    if uplift_inputs is not None:
        _uplift_rows(rows, uplift_inputs, cutoffs, settings)
    return rows.to_table()
