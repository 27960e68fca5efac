"""Drive to store: how much more likely a client is to buy after an advisor-led contact
(a call, an invitation to the boutique) than after an e-mail.

A two-model (T-) learner: one XGBoost classifier learns P(buy | features) on past launch
campaigns' clients contacted by an advisor (phone or store), another on those contacted by
e-mail; a client's store gain is the difference. Features are what was known before the
campaign: store vs online purchases, home store and advisor, past campaigns' channels and
outcomes, e-mail reading, reviews and returns, tenure, age when given. The channel an
advisor used depended on the client's consents (phone, e-mail), which are features too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xgboost as xgb

FEATURES = (
    "has_home_store", "has_advisor", "phone_opt_in", "email_opt_in", "age", "purchases",
    "store_share", "home_store_share", "stores_visited", "log_spend", "mean_review_score",
    "low_reviews", "return_rate", "tenure_days", "days_since_last_purchase",
    "email_open_rate", "emails_sent", "advisor_contacts", "advisor_conversions",
    "email_contacts", "email_conversions", "times_in_control", "control_conversions",
)
ARMS = ("advisor", "email")
#: Fewest contacts (and converters) an arm needs for its model to be fitted.
MIN_ARM_ROWS, MIN_ARM_CONVERTERS = 200, 10


def feature_matrix(frame: pd.DataFrame) -> np.ndarray:
    """The model matrix of store features (int_clienteling__store_features columns)."""
    out = pd.DataFrame(index=frame.index)
    for name in FEATURES:
        if name == "log_spend":
            out[name] = np.log1p(pd.to_numeric(frame["spend"], errors="coerce").clip(lower=0))
        else:
            out[name] = pd.to_numeric(frame[name], errors="coerce")
    return out.to_numpy(dtype=float)


class StoreSensitivityModel:
    """P(buy after an advisor-led contact) and P(buy after an e-mail), per client.

    ``fit(frame)``: contacted (not control) clients of past campaigns with ``contact_arm``
    ('advisor' or 'email') and ``converted``. ``predict(frame)``: (p_advisor, p_email).
    """

    def __init__(self, n_trees: int = 200, depth: int = 3, learning_rate: float = 0.05,
                 seed: int = 0) -> None:
        self.n_trees = n_trees
        self.depth = depth
        self.learning_rate = learning_rate
        self.seed = seed
        self.models_: dict[str, xgb.XGBClassifier] = {}

    @staticmethod
    def can_fit(frame: pd.DataFrame) -> str | None:
        """Why the arms cannot be fitted on ``frame``, or None when they can."""
        for arm in ARMS:
            rows = frame[frame["contact_arm"] == arm]
            if len(rows) < MIN_ARM_ROWS or rows["converted"].sum() < MIN_ARM_CONVERTERS:
                return (f"{len(rows)} {arm} contacts with {int(rows['converted'].sum())} "
                        f"converters (need {MIN_ARM_ROWS} and {MIN_ARM_CONVERTERS})")
        return None

    def fit(self, frame: pd.DataFrame) -> StoreSensitivityModel:
        reason = self.can_fit(frame)
        if reason:
            raise ValueError(f"store sensitivity: {reason}")
        for arm in ARMS:
            rows = frame[frame["contact_arm"] == arm]
            model = xgb.XGBClassifier(
                n_estimators=self.n_trees, max_depth=self.depth,
                learning_rate=self.learning_rate, subsample=0.8, colsample_bytree=0.8,
                min_child_weight=5, random_state=self.seed, n_jobs=1, tree_method="hist")
            model.fit(feature_matrix(rows), rows["converted"].astype(int).to_numpy())
            self.models_[arm] = model
        return self

    def predict(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        x = feature_matrix(frame)
        return (self.models_["advisor"].predict_proba(x)[:, 1],
                self.models_["email"].predict_proba(x)[:, 1])

    def importances(self) -> dict[str, float]:
        """Mean gain importance of each feature over the two arms (normalised)."""
        total = np.zeros(len(FEATURES))
        for model in self.models_.values():
            total += model.feature_importances_
        total = total / total.sum() if total.sum() else total
        return dict(zip(FEATURES, total.round(4).tolist(), strict=True))
