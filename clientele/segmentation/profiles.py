"""Plain-language labels and suggested actions for clusters.

A cluster is described by where its centre sits, in standard deviations of the
scaled features, relative to all buyers (|z| >= `threshold` counts as notably high
or low), and by its mean order count (one-time vs repeat buyers). The words and
actions are rules a marketer can read and change here; the thresholds are
parameters.
"""

from __future__ import annotations

import pandas as pd

#: How to say that a cluster is higher / lower than a same-named one on a feature.
_CONTRASTS: dict[str, tuple[str, str]] = {
    "recency_days": ("longer since last purchase", "more recent"),
    "frequency": ("more orders", "fewer orders"),
    "monetary": ("higher net spend", "lower net spend"),
    "avg_basket": ("larger baskets", "smaller baskets"),
    "avg_review_score": ("better reviews", "worse reviews"),
    "low_review_share": ("more 1-2 star reviews", "fewer 1-2 star reviews"),
    "late_delivery_share": ("more late deliveries", "fewer late deliveries"),
}


def _disambiguate(labels: pd.Series, centers: pd.DataFrame) -> pd.Series:
    """Make labels unique: a cluster sharing its label with others gets the feature on
    which it differs most from them ("..., lower net spend")."""
    labels = labels.copy()
    for _, ids in labels.groupby(labels).groups.items():
        if len(ids) < 2:
            continue
        for cid in ids:
            others = centers.loc[[i for i in ids if i != cid]].mean()
            diff = (centers.loc[cid] - others).reindex(list(_CONTRASTS)).dropna()
            if diff.empty:
                continue
            feature = diff.abs().idxmax()
            higher, lower = _CONTRASTS[feature]
            labels[cid] = f"{labels[cid]}, {higher if diff[feature] > 0 else lower}"
    return labels


def _z(centers: pd.DataFrame, column: str) -> pd.Series:
    if column in centers.columns:
        return centers[column]
    return pd.Series(0.0, index=centers.index)


def describe_clusters(
    centers: pd.DataFrame,
    repeat_share: pd.Series,
    mean_frequency: pd.Series,
    threshold: float = 0.5,
) -> pd.DataFrame:
    """One row per cluster id: cluster_label, cluster_description and suggested_action.

    Parameters
    ----------
    centers:
        Cluster centres in scaled (z-score) space, indexed by cluster id, columns
        named like the features (missing features count as average).
    repeat_share:
        Share of customers with two orders or more, indexed by cluster id: at least
        0.8 reads "repeat buyers", at most 0.2 "one-time buyers", else "occasional
        buyers"; the actions treat a cluster as repeat buyers from 0.5.
    mean_frequency:
        Mean number of orders per customer of each cluster, indexed by cluster id.
    threshold:
        |z| above which a feature is called high or low.
    """
    recency = _z(centers, "recency_days")
    spend = _z(centers, "monetary")
    basket = _z(centers, "avg_basket")
    review = _z(centers, "avg_review_score")
    low_review = _z(centers, "low_review_share")
    late = _z(centers, "late_delivery_share")
    freq = mean_frequency.reindex(centers.index).astype(float)
    share = repeat_share.reindex(centers.index).astype(float)

    recent = recency <= -threshold
    lapsed = recency >= threshold
    repeat = share >= 0.5
    high_spend = spend >= threshold
    low_spend = spend <= -threshold
    unhappy = (review <= -threshold) | (low_review >= threshold)
    late_hit = late >= threshold

    rows = []
    for cid in centers.index:
        when = "recent" if recent[cid] else ("lapsed" if lapsed[cid] else "mid-recency")
        if share[cid] >= 0.8:
            who = "repeat buyers"
        elif share[cid] <= 0.2:
            who = "one-time buyers"
        else:
            who = "occasional buyers"
        if high_spend[cid]:
            spend_word = "high-spend"
        elif low_spend[cid]:
            spend_word = "low-spend"
        else:
            spend_word = "mid-spend"
        label = f"{'' if when == 'mid-recency' else when + ' '}{spend_word} {who}"
        label = label[0].upper() + label[1:]
        extras = []
        if unhappy[cid]:
            extras.append("unhappy with their orders")
        if late_hit[cid]:
            extras.append("hit by late deliveries")
        if basket[cid] >= threshold and not high_spend[cid]:
            extras.append("large baskets")
        if extras:
            label += ", " + " and ".join(extras)
        description = (
            f"{who.capitalize()} (avg {freq[cid]:.1f} orders, {share[cid]:.0%} repeat), "
            "last purchase "
            f"{'about average' if when == 'mid-recency' else when}, "
            f"spend {spend_word.replace('-spend', '')} vs all buyers"
            + (f"; {'; '.join(extras)}" if extras else "")
        )
        rows.append({
            "cluster_id": int(cid),
            "cluster_label": label,
            "cluster_description": description,
            "suggested_action": _action(
                recent=bool(recent[cid]), lapsed=bool(lapsed[cid]), repeat=bool(repeat[cid]),
                high_spend=bool(high_spend[cid]), low_spend=bool(low_spend[cid]),
                unhappy=bool(unhappy[cid] or late_hit[cid]),
                large_baskets=bool(basket[cid] >= threshold),
            ),
        })
    out = pd.DataFrame(rows)
    out["cluster_label"] = _disambiguate(
        out.set_index("cluster_id")["cluster_label"], centers
    ).to_numpy()
    return out


def _action(
    *, recent: bool, lapsed: bool, repeat: bool, high_spend: bool, low_spend: bool, unhappy: bool,
    large_baskets: bool = False,
) -> str:
    if unhappy and (high_spend or repeat):
        return ("Priority service recovery: personal follow-up on the bad experience and a "
                "goodwill gesture before any promotion")
    if unhappy:
        return ("Service recovery first: acknowledge the bad review or late delivery, offer a "
                "voucher; no upsell until resolved")
    if repeat and recent and high_spend:
        return "VIP care: early access, loyalty rewards, personal service; no discounts needed"
    if repeat and lapsed:
        return "Win back: personalised offer on their past favourites, ask why they stopped"
    if repeat:
        return "Grow the relationship: loyalty programme, cross-sell complementary categories"
    if large_baskets or high_spend:
        return ("Turn big first baskets into a relationship: personal follow-up with premium "
                "recommendations matched to what they bought")
    if recent:
        return ("Second-purchase nudge within the next weeks: cross-sell from the first order, "
                "timed incentive")
    if lapsed and high_spend:
        return "Reactivate with a premium, personalised recommendation; worth a paid channel"
    if lapsed or low_spend:
        return "Low-cost reactivation e-mail only; exclude from paid media if no response"
    return "Regular newsletter; test an upsell or bundle offer"
