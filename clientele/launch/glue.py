"""Frame-level helpers the dbt Python models call: each takes and returns pandas frames.

Kept here (not in the models) so they are importable and unit-tested.
"""

from __future__ import annotations

import logging
import sys

import numpy as np
import pandas as pd

from clientele.launch.appetence import AppetenceScorer, percentile, purchase_matrix
from clientele.launch.gower import GowerSimilarity
from clientele.launch.lookalike import PULookalike, lookalike_matrix
from clientele.seam import EvaluationRows

log = logging.getLogger("clientele.launch")


def get_logger() -> logging.Logger:
    """The area's logger; prints INFO to stdout (dbt shows it) unless logging is set up."""
    if not log.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    return log


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


def product_frame(products: pd.DataFrame) -> pd.DataFrame:
    """Merchandise products with the attributes Gower compares (log price added)."""
    frame = products.loc[products["is_merchandise"].astype(bool), PRODUCT_ATTRIBUTES].copy()
    frame["log_list_price"] = np.log1p(
        pd.to_numeric(frame["list_price"], errors="coerce").clip(lower=0)
    )
    frame["price_band"] = pd.to_numeric(frame["price_band"], errors="coerce")
    # DuckDB does not keep row order: a fixed product order gives the same columns, sums
    # and tie-breaks on every build.
    return frame.sort_values("product_id", kind="stable").reset_index(drop=True)


def new_product_matches(
    products: pd.DataFrame, weights: pd.DataFrame, new_collection_id: str, k: int
) -> pd.DataFrame:
    """For every product outside the new collection, its k most similar new products."""
    catalogue = product_frame(products)
    is_new = (catalogue["collection_id"] == new_collection_id).to_numpy()
    new, old = catalogue[is_new].reset_index(drop=True), catalogue[~is_new].reset_index(drop=True)
    sim = GowerSimilarity.from_seed(weights).fit(catalogue).transform(old, new)
    k = min(k, len(new))
    idx = np.argsort(-sim, axis=1, kind="stable")[:, :k]
    top = np.take_along_axis(sim, idx, axis=1)
    return pd.DataFrame(
        {
            "product_id": np.repeat(old["product_id"].to_numpy(), k),
            "collection_id": np.repeat(old["collection_id"].to_numpy(), k),
            "new_product_id": new["product_id"].to_numpy()[idx.ravel()],
            "new_collection_id": new_collection_id,
            "match_rank": np.tile(np.arange(1, k + 1), len(old)).astype("int32"),
            "similarity": top.ravel().astype(float),
        }
    )


def collection_appetence(
    products: pd.DataFrame, weights: pd.DataFrame, purchases: pd.DataFrame, references: pd.DataFrame
) -> pd.DataFrame:
    """Per reference launch x client: weighted mean Gower similarity of the client's purchases
    to the launch's collection, and its percentile among the launch's clients."""
    catalogue = product_frame(products)
    gower = GowerSimilarity.from_seed(weights).fit(catalogue)
    ref_ids = references["collection_id"].astype(str).tolist()
    new = catalogue[catalogue["collection_id"].isin(ref_ids)].reset_index(drop=True)
    sim = gower.transform(catalogue, new)  # catalogue x products of every reference collection
    pos = pd.Series(np.arange(len(catalogue)), index=catalogue["product_id"])
    scorer = AppetenceScorer()
    out = []
    for ref in ref_ids:  # a loop over launches
        cols = (new["collection_id"] == ref).to_numpy()
        part = purchases[purchases["reference_collection_id"] == ref]
        if not cols.any() or part.empty:
            continue
        pm = purchase_matrix(
            part["customer_id"].to_numpy(object),
            pos.reindex(part["product_id"]).fillna(-1).to_numpy(int),
            part["purchase_weight"].to_numpy(float),
            len(catalogue),
        )
        _, scores = scorer.collection_scores(pm, sim[:, cols], np.zeros(cols.sum(), int))
        raw = scores[:, 0].astype(float)
        out.append(
            pd.DataFrame(
                {
                    "reference_collection_id": ref,
                    "customer_id": pm.customer_ids,
                    "appetence_similarity": raw,
                    "appetence": percentile(raw),
                }
            )
        )
    if not out:
        return pd.DataFrame(
            {
                "reference_collection_id": pd.Series(dtype="string"),
                "customer_id": pd.Series(dtype="string"),
                "appetence_similarity": pd.Series(dtype=float),
                "appetence": pd.Series(dtype=float),
            }
        )
    return pd.concat(out, ignore_index=True)


def product_appetence(
    products: pd.DataFrame,
    weights: pd.DataFrame,
    purchases: pd.DataFrame,
    new_collection_id: str,
    top_n: int,
) -> pd.DataFrame:
    """Per client x new product (the top_n per client): appetence and rank."""
    catalogue = product_frame(products)
    new = catalogue[catalogue["collection_id"] == new_collection_id].reset_index(drop=True)
    sim = GowerSimilarity.from_seed(weights).fit(catalogue).transform(catalogue, new)
    pos = pd.Series(np.arange(len(catalogue)), index=catalogue["product_id"])
    pm = purchase_matrix(
        purchases["customer_id"].to_numpy(object),
        pos.reindex(purchases["product_id"]).fillna(-1).to_numpy(int),
        purchases["purchase_weight"].to_numpy(float),
        len(catalogue),
    )
    rows, cols, vals = AppetenceScorer(top_n=top_n).top_products(pm, sim)
    k = min(top_n, len(new))
    return pd.DataFrame(
        {
            "customer_id": pm.customer_ids[rows],
            "product_id": new["product_id"].to_numpy()[cols],
            "collection_id": new_collection_id,
            "appetence": vals.astype(float),
            "appetence_rank": np.tile(np.arange(1, k + 1), len(pm.customer_ids)).astype("int32"),
        }
    )


def lookalike_scores(
    features: pd.DataFrame, mix: pd.DataFrame, labels: pd.DataFrame, model: PULookalike
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Out-of-fold PU lookalike per reference launch; returns (scores, importances).

    A launch whose pool is too small to learn from is skipped with a log line.
    """
    scores, importances = [], []
    # DuckDB does not keep row order: sort so that folds, and thus scores, are reproducible.
    features = features.sort_values(["reference_collection_id", "customer_id"], kind="stable")
    for ref, feats in features.groupby("reference_collection_id", sort=True):  # loop over launches
        X = lookalike_matrix(feats, mix[mix["reference_collection_id"] == ref])
        y = (
            labels.loc[labels["reference_collection_id"] == ref]
            .set_index("customer_id")["in_pool"]
            .reindex(X.index)
            .fillna(False)
            .to_numpy(bool)
        )
        if y.sum() < max(model.n_folds, 10) or y.all():
            log.info(
                "launch: lookalike skipped for %s: %d pool clients of %d", ref, y.sum(), len(y)
            )
            continue
        fitted = model.fit(X, y)
        log.info(
            "launch: lookalike %s: %d clients, %d in pool, labeled-vs-unlabeled AUC %.3f, c=%.3f",
            ref,
            len(y),
            y.sum(),
            fitted.labeled_auc_,
            fitted.c_,
        )
        scores.append(
            pd.DataFrame(
                {
                    "reference_collection_id": ref,
                    "customer_id": X.index.to_numpy(),
                    "in_pool": y,
                    "lookalike_raw": fitted.raw_oof_,
                    "lookalike_score": fitted.oof_scores_,
                    "lookalike_percentile": percentile(fitted.raw_oof_),
                }
            )
        )
        imp = fitted.feature_importances_
        importances.append(
            pd.DataFrame(
                {
                    "reference_collection_id": ref,
                    "feature": imp.index.to_numpy(),
                    "importance": imp.to_numpy(),
                    "importance_rank": np.arange(1, len(imp) + 1, dtype="int32"),
                }
            )
        )
    empty_scores = pd.DataFrame(
        {
            c: pd.Series(dtype=t)
            for c, t in [
                ("reference_collection_id", "string"),
                ("customer_id", "string"),
                ("in_pool", bool),
                ("lookalike_raw", float),
                ("lookalike_score", float),
                ("lookalike_percentile", float),
            ]
        }
    )
    empty_imp = pd.DataFrame(
        {
            c: pd.Series(dtype=t)
            for c, t in [
                ("reference_collection_id", "string"),
                ("feature", "string"),
                ("importance", float),
                ("importance_rank", "int32"),
            ]
        }
    )
    return (
        pd.concat(scores, ignore_index=True) if scores else empty_scores,
        pd.concat(importances, ignore_index=True) if importances else empty_imp,
    )


EVALUATION_COLUMNS = {
    "area": "string",
    "model_name": "string",
    "is_baseline": "boolean",
    "metric": "string",
    "k": "Int32",
    "segment": "string",
    "metric_value": float,
    "n_evaluated": "Int64",
    "cutoff_date": "datetime64[us]",
    "as_of_date": "datetime64[us]",
    "notes": "string",
}


def evaluation_rows(
    scores: pd.DataFrame,
    policy: pd.DataFrame,
    truth: pd.DataFrame | None,
    as_of: object,
    share: float = 0.1,
) -> pd.DataFrame:
    """model_evaluation rows of the launch area.

    - pool recovery: out-of-fold lookalike vs the rule pool, per launch (AUC, precision and
      lift in the top ``share``), next to a random baseline (AUC 0.5, lift 1);
    - truth (demo brand only): lookalike, rules and their mean vs the latent true early
      adopters, and appetence vs the latent appetence, on the upcoming launch;
    - the audience policy on the held-out launch vs random and rules-only.
    """
    from scipy.stats import spearmanr

    from clientele.launch.lookalike import top_share_metrics

    scores = scores.sort_values(["reference_collection_id", "customer_id"], kind="stable")
    rows: list[dict[str, object]] = []
    k_pct = int(round(share * 100))

    def add(model, baseline, metric, k, segment, value, n, cutoff, notes):
        rows.append(
            {
                "area": "launch",
                "model_name": model,
                "is_baseline": baseline,
                "metric": metric,
                "k": k,
                "segment": segment,
                "metric_value": value,
                "n_evaluated": n,
                "cutoff_date": cutoff,
                "as_of_date": as_of,
                "notes": notes,
            }
        )

    for ref, g in scores.groupby("reference_collection_id", sort=True):
        if g["lookalike_percentile"].isna().all() or g["in_pool"].nunique() < 2:
            continue
        cutoff = g["cutoff_date"].iloc[0]
        m = top_share_metrics(
            g["lookalike_score"].to_numpy(float)
            + 1e-6 * g["lookalike_percentile"].fillna(0).to_numpy(float),
            g["in_pool"].to_numpy(bool),
            share,
        )
        seg = f"launch={ref}"
        note = "out-of-fold PU lookalike vs the rule pool (labeled vs unlabeled)"
        add("lookalike_xgb_pu", False, "auc_pool", None, seg, m["auc"], len(g), cutoff, note)
        add(
            "lookalike_xgb_pu",
            False,
            "precision_pool",
            k_pct,
            seg,
            m["precision"],
            len(g),
            cutoff,
            note,
        )
        add("lookalike_xgb_pu", False, "lift_pool", k_pct, seg, m["lift"], len(g), cutoff, note)
        add("random", True, "auc_pool", None, seg, 0.5, len(g), cutoff, "random ranking")
        add("random", True, "lift_pool", k_pct, seg, 1.0, len(g), cutoff, "random ranking")

    upcoming = scores[scores["is_upcoming"].astype(bool)]
    if truth is not None and len(upcoming):
        t = upcoming.merge(truth, on="customer_id", how="inner")
        cutoff = t["cutoff_date"].iloc[0] if len(t) else None
        if len(t) and t["is_true_early_adopter"].nunique() == 2:
            y = t["is_true_early_adopter"].to_numpy(bool)
            rules = t["early_adopter_score"].to_numpy(float)
            look = t["lookalike_percentile"].fillna(0).to_numpy(float)
            for name, baseline, s, note in (
                (
                    "lookalike_xgb_pu",
                    False,
                    look,
                    "lookalike (out-of-fold) vs latent true early adopters",
                ),
                ("early_adopter_rules", True, rules, "rule score vs latent true early adopters"),
                (
                    "rules_plus_lookalike",
                    False,
                    0.5 * look + 0.5 * pd.Series(rules).rank(pct=True).to_numpy(),
                    "mean percentile of rules and lookalike vs latent true early adopters",
                ),
                ("random", True, np.random.default_rng(0).random(len(y)), "random ranking"),
            ):
                m = top_share_metrics(s, y, share)
                add(name, baseline, "auc_truth", None, "upcoming", m["auc"], len(t), cutoff, note)
                add(
                    name,
                    baseline,
                    "precision_truth",
                    k_pct,
                    "upcoming",
                    m["precision"],
                    len(t),
                    cutoff,
                    note,
                )
                add(
                    name, baseline, "lift_truth", k_pct, "upcoming", m["lift"], len(t), cutoff, note
                )
        if (
            len(t)
            and "upcoming_appetence" in t.columns
            and t["appetence_similarity"].notna().sum() > 2
        ):
            ok = t["appetence_similarity"].notna()
            rho = spearmanr(t.loc[ok, "appetence"], t.loc[ok, "upcoming_appetence"]).statistic
            add(
                "gower_appetence",
                False,
                "spearman_truth",
                None,
                "upcoming",
                float(rho),
                int(ok.sum()),
                cutoff,
                "rank correlation of Gower appetence with the latent appetence (upcoming)",
            )

    hold = policy[policy["item_type"] == "holdout"] if len(policy) else policy
    if len(hold):
        values = hold.set_index("item")["value"]
        ref = str(hold["collection_id"].iloc[0])
        n = int(hold["n_clients"].iloc[0])
        cutoff = scores.loc[scores["reference_collection_id"] == ref, "cutoff_date"].iloc[0]
        seg = f"holdout={ref}"
        for item, model, baseline in (
            ("conversion_policy", "audience_policy", False),
            ("conversion_rules_only", "rules_only", True),
            ("conversion_lookalike_only", "lookalike_only", True),
            ("conversion_appetence_only", "appetence_only", True),
            ("conversion_random", "random", True),
        ):
            if item in values:
                add(
                    model,
                    baseline,
                    "conversion",
                    k_pct,
                    seg,
                    float(values[item]),
                    n,
                    cutoff,
                    f"conversion of the top {k_pct}% contacted on the held-out launch",
                )
                if values.get("conversion_random", 0) > 0:
                    add(
                        model,
                        baseline,
                        "lift_vs_random",
                        k_pct,
                        seg,
                        float(values[item] / values["conversion_random"]),
                        n,
                        cutoff,
                        "conversion / base rate at the same contact volume",
                    )
    rolling = policy[policy["item_type"] == "rolling_holdout"] if len(policy) else policy
    if len(rolling):
        wide = rolling.pivot_table(index="collection_id", columns="item", values="value")
        n_total = int(rolling.groupby("collection_id")["n_clients"].max().sum())
        if "conversion_random" in wide and (wide["conversion_random"] > 0).all():
            for item in [c for c in wide.columns if c != "conversion_random"] + [
                "conversion_random"
            ]:
                model = item.removeprefix("conversion_")
                model = "audience_policy" if model == "policy" else model
                lift = float((wide[item] / wide["conversion_random"]).mean())
                add(
                    model,
                    model != "audience_policy",
                    "mean_lift_vs_random",
                    k_pct,
                    f"rolling={len(wide)} launches",
                    lift,
                    n_total,
                    None,
                    "mean over the last launches, each held out in turn with the policy "
                    "re-tuned on the launches before it",
                )
    evaluation = EvaluationRows("launch")
    evaluation.extend(pd.DataFrame(rows, columns=list(EVALUATION_COLUMNS)))
    return evaluation.to_frame()
