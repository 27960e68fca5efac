"""Uplift for launches: who buys the collection *because* an advisor contacted them.

Every launch campaign holds a control group (``campaign_contacts.is_control``): targeted
clients drawn at random and not contacted. Comparing contacted and control clients who
look alike estimates the incremental effect of a contact (the conditional average
treatment effect), which a response model (who is likely to buy) does not: it ranks
first the clients who would buy anyway.

- :class:`UpliftModel` is an X-learner (Kunzel et al., 2019) with XGBoost: outcome models
  for the contacted and the control clients, then effect models fitted on the imputed
  effects of each group, mixed by the share of contacted clients. It suits campaigns
  whose control group is small (20 %): the imputed effects of the control clients rest
  on the outcome model of the contacted, who are many, and carry most of the weight.
- :func:`uplift_curve`, :func:`qini_coefficient` and :func:`slots_at_equal_sales` measure a
  ranking on a held-out launch (contacted vs control clients among the targeted).
- :func:`segments` names each client: persuadable, sure thing, lost cause, do-not-disturb.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xgboost as xgb

#: Cutoffs (shares of a launch's targeted clients) the curves are computed at.
CURVE_POINTS = 20
#: Fewest contacted and control clients (and converters in each) to fit the model.
MIN_GROUP_ROWS, MIN_GROUP_CONVERTERS = 100, 5
SEGMENTS = ("persuadable", "sure_thing", "lost_cause", "do_not_disturb")


class UpliftModel:
    """X-learner of the effect of a contact on buying (scikit-learn manner).

    ``fit(x, treated, converted)``; ``predict(x)`` gives (uplift, p_if_contacted,
    p_if_not_contacted); ``uplift`` is the X-learner's effect estimate.
    """

    def __init__(self, n_trees: int = 150, depth: int = 2, learning_rate: float = 0.05,
                 seed: int = 0) -> None:
        self.n_trees = n_trees
        self.depth = depth
        self.learning_rate = learning_rate
        self.seed = seed

    def _classifier(self) -> xgb.XGBClassifier:
        return xgb.XGBClassifier(
            n_estimators=self.n_trees, max_depth=self.depth, learning_rate=self.learning_rate,
            subsample=0.8, colsample_bytree=0.8, min_child_weight=5, random_state=self.seed,
            n_jobs=1, tree_method="hist")

    def _regressor(self) -> xgb.XGBRegressor:
        return xgb.XGBRegressor(
            n_estimators=self.n_trees, max_depth=self.depth, learning_rate=self.learning_rate,
            subsample=0.8, colsample_bytree=0.8, min_child_weight=10, random_state=self.seed,
            n_jobs=1, tree_method="hist")

    @staticmethod
    def can_fit(treated: np.ndarray, converted: np.ndarray) -> str | None:
        """Why the model cannot be fitted, or None when it can."""
        treated, converted = np.asarray(treated, bool), np.asarray(converted, bool)
        for name, group in (("contacted", treated), ("control", ~treated)):
            if group.sum() < MIN_GROUP_ROWS or converted[group].sum() < MIN_GROUP_CONVERTERS:
                return (f"{int(group.sum())} {name} clients with {int(converted[group].sum())} "
                        f"converters (need {MIN_GROUP_ROWS} and {MIN_GROUP_CONVERTERS})")
        return None

    def fit(self, x: np.ndarray, treated: np.ndarray, converted: np.ndarray) -> UpliftModel:
        treated = np.asarray(treated, bool)
        y = np.asarray(converted, bool).astype(int)
        reason = self.can_fit(treated, y.astype(bool))
        if reason:
            raise ValueError(f"uplift: {reason}")
        self.contacted_ = self._classifier().fit(x[treated], y[treated])
        self.control_ = self._classifier().fit(x[~treated], y[~treated])
        # Imputed effects: what contact changed for each client, against the other
        # group's model.
        d_contacted = y[treated] - self.control_.predict_proba(x[treated])[:, 1]
        d_control = self.contacted_.predict_proba(x[~treated])[:, 1] - y[~treated]
        self.effect_contacted_ = self._regressor().fit(x[treated], d_contacted)
        self.effect_control_ = self._regressor().fit(x[~treated], d_control)
        self.treated_share_ = float(treated.mean())
        return self

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        g = self.treated_share_
        # Kunzel's weights for a constant propensity g: g on the control clients' effect
        # model, whose imputed effects rest on the contacted outcome model (fitted on
        # many clients), 1 - g on the contacted clients' one (imputed with the control
        # outcome model, fitted on few).
        uplift = ((1.0 - g) * self.effect_contacted_.predict(x)
                  + g * self.effect_control_.predict(x))
        return (uplift, self.contacted_.predict_proba(x)[:, 1],
                self.control_.predict_proba(x)[:, 1])


def segments(uplift: np.ndarray, p_without_contact: np.ndarray, persuadable_from: float,
             do_not_disturb_below: float, sure_thing_from: float) -> np.ndarray:
    """Persuadable (uplift >= persuadable_from), do-not-disturb (uplift <=
    do_not_disturb_below), sure thing (else, likely to buy without contact), lost cause."""
    uplift = np.asarray(uplift, float)
    return np.select(
        [uplift >= persuadable_from, uplift <= do_not_disturb_below,
         np.asarray(p_without_contact, float) >= sure_thing_from],
        ["persuadable", "do_not_disturb", "sure_thing"], "lost_cause").astype(object)


def uplift_curve(score: np.ndarray, treated: np.ndarray, converted: np.ndarray,
                 group: np.ndarray | None = None, points: int = CURVE_POINTS) -> np.ndarray:
    """Incremental conversions per targeted client when the top share of each launch
    (``group``) by ``score`` is contacted, at shares 1/points .. 1: at each share, the
    conversion of the contacted minus the control clients in the top, times the share.
    Launches are pooled in proportion to their size."""
    score = np.asarray(score, float)
    treated, converted = np.asarray(treated, bool), np.asarray(converted, float)
    # Launch names as integer codes (in name order): sorting the names on every bootstrap
    # draw cost more than the curve itself.
    group = (np.zeros(len(score), dtype=np.int64) if group is None
             else pd.factorize(np.asarray(group), sort=True)[0])
    shares = np.arange(1, points + 1) / points
    total = np.zeros(points)
    n_all = 0
    for g in np.unique(group):
        at = np.flatnonzero(group == g)
        order = at[np.lexsort((at, -score[at]))]
        t, y = treated[order], converted[order]
        n = len(order)
        cut = np.maximum(1, np.round(shares * n).astype(int))
        nt, nc = np.cumsum(t)[cut - 1], np.cumsum(~t)[cut - 1]
        yt, yc = np.cumsum(y * t)[cut - 1], np.cumsum(y * ~t)[cut - 1]
        rate_t = np.divide(yt, nt, out=np.zeros(points), where=nt > 0)
        rate_c = np.divide(yc, nc, out=np.zeros(points), where=nc > 0)
        total += (rate_t - rate_c) * shares * n
        n_all += n
    return total / max(n_all, 1)


def qini_coefficient(score: np.ndarray, treated: np.ndarray, converted: np.ndarray,
                     group: np.ndarray | None = None) -> float:
    """Mean gap between the uplift curve and the random ranking's straight line (same
    total effect when everyone is contacted): incremental conversions per targeted client
    gained, on average over the contact volumes, by ranking on ``score``."""
    curve = uplift_curve(score, treated, converted, group)
    shares = np.arange(1, len(curve) + 1) / len(curve)
    return float(np.mean(curve - shares * curve[-1]))


def auuc(score: np.ndarray, treated: np.ndarray, converted: np.ndarray,
         group: np.ndarray | None = None) -> float:
    """Area under the uplift curve (mean over the contact volumes)."""
    return float(np.mean(uplift_curve(score, treated, converted, group)))


def slots_at_equal_sales(uplift_score: np.ndarray, response_score: np.ndarray,
                         treated: np.ndarray, converted: np.ndarray, group: np.ndarray,
                         share: float) -> tuple[float, float]:
    """Contacting the top ``share`` by response brings some incremental sales; the
    smallest share by uplift that brings as many (on the uplift curve, interpolated).
    Returns (that uplift share, advisor slots saved per 100 targeted clients)."""
    points = CURVE_POINTS
    shares = np.arange(1, points + 1) / points
    target = float(np.interp(share, shares,
                             uplift_curve(response_score, treated, converted, group, points)))
    curve = uplift_curve(uplift_score, treated, converted, group, points)
    reached = np.flatnonzero(curve >= target)
    if len(reached) == 0:
        return float("nan"), float("nan")
    i = int(reached[0])
    if i == 0:
        needed = shares[0] * target / curve[0] if curve[0] > 0 else shares[0]
    else:
        lo, hi = curve[i - 1], curve[i]
        needed = shares[i - 1] + (target - lo) / (hi - lo) * (shares[i] - shares[i - 1])
    return float(needed), float(100.0 * (share - needed))


def frame_matrix(frame: pd.DataFrame, columns: tuple[str, ...]) -> np.ndarray:
    """The columns as a float matrix (missing values stay NaN: XGBoost handles them)."""
    return np.column_stack([pd.to_numeric(frame[c], errors="coerce").to_numpy(float)
                            for c in columns]) if len(columns) else np.empty((len(frame), 0))
