"""Contact policy (score weights, appetence shape, lookalike floor) tuned on past launches,
checked on the latest past launch at the same contact volume as random and rules-only."""

import pandas as pd

from clientele.launch.glue import get_logger
from clientele.launch.policy import AudiencePolicy, rolling_holdouts


def model(dbt, session):
    dbt.config(materialized="table")
    log = get_logger()
    columns = {
        "item": "string",
        "item_type": "string",
        "value": float,
        "collection_id": "string",
        "n_clients": "Int64",
        "notes": "string",
    }
    scores = dbt.ref("int_launch__scores").filter("not is_upcoming").df()
    volume_share = float(dbt.config.get("contact_share"))
    policy = AudiencePolicy(volume_share=volume_share)
    try:
        policy.fit(scores)
    except ValueError as exc:
        log.info("launch: audience policy skipped: %s", exc)
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})
    p = policy.policy_
    train = ", ".join(policy.train_launches_)
    rows = [
        ("w_lookalike", "parameter", p.w_lookalike),
        ("w_early_adopter", "parameter", p.w_early_adopter),
        ("w_appetence", "parameter", p.w_appetence),
        ("appetence_center", "parameter", p.appetence_center),
        ("appetence_width", "parameter", p.appetence_width),
        ("lookalike_floor", "parameter", p.lookalike_floor),
        ("contact_share", "parameter", volume_share),
        ("train_mean_lift", "train", policy.train_lift_),
    ]
    frame = pd.DataFrame(rows, columns=["item", "item_type", "value"])
    frame["collection_id"] = None
    frame["n_clients"] = None
    frame["notes"] = (
        f"grid of {policy.grid_size_} policies; best mean lift at {volume_share:.0%} on {train}"
    )
    hold = policy.holdout_
    holdout = pd.DataFrame(
        {
            "item": [
                f"conversion_{k}"
                for k in ("policy", "rules_only", "lookalike_only", "appetence_only", "random")
            ],
            "item_type": "holdout",
            "value": [
                hold[k]
                for k in ("policy", "rules_only", "lookalike_only", "appetence_only", "random")
            ],
            "collection_id": policy.holdout_launch_,
            "n_clients": int(hold["n_clients"]),
            "notes": f"held-out launch; top {int(hold['volume'])} per ranking; random = base rate",
        }
    )
    log.info("launch: policy %s; holdout %s", p, hold)
    rolling = rolling_holdouts(scores, int(dbt.config.get("rolling_holdouts")), volume_share)
    rolling = pd.DataFrame(
        {
            "item": "conversion_" + rolling["audience"],
            "item_type": "rolling_holdout",
            "value": rolling["conversion"],
            "collection_id": rolling["collection_id"],
            "n_clients": rolling["n_clients"],
            "notes": "policy re-tuned on the "
            + rolling["n_train_launches"].astype(str)
            + " launches before this one, then applied to it",
        }
    )
    out = pd.concat([frame, holdout, rolling], ignore_index=True)
    return out.astype(columns)
