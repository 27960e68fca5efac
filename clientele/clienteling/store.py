"""Drive to store: how much more likely a client is to buy after an advisor-led contact
(a call, an invitation to the boutique) than after an e-mail.

Campaign data is small (a launch reaches a few hundred clients per store) and the
channel effect is a second-order signal under the client's propensity to buy, so the
model has two parts, in the manner of an uplift model with an offset:

1. a **propensity** model (XGBoost) of buying a launch after any contact, from what was
   known before the campaign: store vs online purchases, home store, advisor history,
   e-mail reading, reviews and returns, tenure, age when given, consents; its logit is
   cross-fitted (two halves of the clients) so the second part does not learn its noise;
2. a penalised **logistic regression** of buying on that logit, the channel (advisor-led
   or e-mail) and the channel times six standardised behaviour features, the ones a
   house reads store affinity from: share of purchases in store and in the home store,
   e-mail reading, and how the client answered advisors and e-mails before. The channel
   terms are the client's *store sensitivity*: the log-odds an advisor adds over an
   e-mail, in a form whose coefficients say why (the reasons of an invitation).

A client's chance after an advisor and after an e-mail follow, and the store gain is
their difference.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.linear_model import LogisticRegression

PROPENSITY_FEATURES = (
    "has_home_store", "has_advisor", "phone_opt_in", "email_opt_in", "age", "purchases",
    "store_share", "home_store_share", "stores_visited", "log_spend", "mean_review_score",
    "low_reviews", "return_rate", "tenure_days", "days_since_last_purchase",
    "email_open_rate", "emails_sent", "advisor_contacts", "advisor_conversions",
    "email_contacts", "email_conversions", "times_in_control", "control_conversions",
)
#: The behaviour whose interaction with the channel is store sensitivity, with the value
#: a client without that history gets (the typical client's).
SENSITIVITY_FEATURES = {
    "store_share": 0.5, "home_store_share": 0.5, "email_open_rate": 0.15,
    "never_emailed": 0.0, "advisor_success": 0.1, "email_success": 0.1,
}
ARMS = ("advisor", "email")
#: Fewest contacts (and converters) an arm needs for the model to be fitted.
MIN_ARM_ROWS, MIN_ARM_CONVERTERS = 200, 10


def propensity_matrix(frame: pd.DataFrame) -> np.ndarray:
    """The propensity model's matrix (int_clienteling__store_features columns)."""
    out = pd.DataFrame(index=frame.index)
    for name in PROPENSITY_FEATURES:
        if name == "log_spend":
            out[name] = np.log1p(pd.to_numeric(frame["spend"], errors="coerce").clip(lower=0))
        else:
            out[name] = pd.to_numeric(frame[name], errors="coerce")
    return out.to_numpy(dtype=float)


def sensitivity_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The behaviour features of store sensitivity, missing values filled (see above)."""
    num = {c: pd.to_numeric(frame[c], errors="coerce") for c in (
        "store_share", "home_store_share", "email_open_rate", "emails_sent",
        "advisor_contacts", "advisor_conversions", "email_contacts", "email_conversions")}
    out = pd.DataFrame({
        "store_share": num["store_share"],
        "home_store_share": num["home_store_share"],
        "email_open_rate": num["email_open_rate"],
        "never_emailed": (num["emails_sent"].fillna(0) == 0).astype(float),
        "advisor_success": (num["advisor_conversions"].fillna(0) + 0.1)
        / (num["advisor_contacts"].fillna(0) + 1.0),
        "email_success": (num["email_conversions"].fillna(0) + 0.1)
        / (num["email_contacts"].fillna(0) + 1.0),
    }, index=frame.index)
    return out.fillna(SENSITIVITY_FEATURES).astype(float)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class StoreSensitivityModel:
    """P(buy after an advisor-led contact) and P(buy after an e-mail), per client.

    ``fit(frame)``: contacted (not control) clients of past campaigns with ``contact_arm``
    ('advisor' or 'email') and ``converted``. ``predict(frame)``: (p_advisor, p_email,
    sensitivity), sensitivity being the log-odds an advisor adds over an e-mail.
    """

    def __init__(self, n_trees: int = 200, depth: int = 3, learning_rate: float = 0.05,
                 regularization: float = 0.1, seed: int = 0) -> None:
        self.n_trees = n_trees
        self.depth = depth
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.seed = seed

    @staticmethod
    def can_fit(frame: pd.DataFrame) -> str | None:
        """Why the model cannot be fitted on ``frame``, or None when it can."""
        for arm in ARMS:
            rows = frame[frame["contact_arm"] == arm] if len(frame) else frame
            converters = int(rows["converted"].sum()) if len(rows) else 0
            if len(rows) < MIN_ARM_ROWS or converters < MIN_ARM_CONVERTERS:
                return (f"{len(rows)} {arm} contacts with {converters} converters "
                        f"(need {MIN_ARM_ROWS} and {MIN_ARM_CONVERTERS})")
        return None

    def _propensity(self) -> xgb.XGBClassifier:
        return xgb.XGBClassifier(
            n_estimators=self.n_trees, max_depth=self.depth, learning_rate=self.learning_rate,
            subsample=0.8, colsample_bytree=0.8, min_child_weight=5, random_state=self.seed,
            n_jobs=1, tree_method="hist")

    def fit(self, frame: pd.DataFrame) -> StoreSensitivityModel:
        reason = self.can_fit(frame)
        if reason:
            raise ValueError(f"store sensitivity: {reason}")
        frame = frame.reset_index(drop=True)
        x = propensity_matrix(frame)
        y = frame["converted"].astype(int).to_numpy()
        # Cross-fitted propensity: each half of the clients scored by a model of the other.
        half = (pd.util.hash_pandas_object(frame["customer_id"].astype(str) + f"#{self.seed}",
                                           index=False).to_numpy() % 2).astype(bool)
        offset = np.zeros(len(frame))
        for part in (False, True):
            model = self._propensity().fit(x[half != part], y[half != part])
            offset[half == part] = _logit(model.predict_proba(x[half == part])[:, 1])
        self.propensity_ = self._propensity().fit(x, y)
        z = sensitivity_frame(frame)
        self.mean_ = z.mean()
        self.scale_ = z.std().replace(0, 1.0).fillna(1.0)
        zs = ((z - self.mean_) / self.scale_).to_numpy()
        advisor = (frame["contact_arm"] == "advisor").to_numpy(float)
        design = np.column_stack([offset, advisor, zs * advisor[:, None]])
        self.regression_ = LogisticRegression(C=self.regularization, max_iter=2000).fit(
            design, y)
        return self

    def _terms(self, frame: pd.DataFrame) -> np.ndarray:
        zs = ((sensitivity_frame(frame) - self.mean_) / self.scale_).to_numpy()
        return zs * self.regression_.coef_[0][2:]

    def predict(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        coef = self.regression_.coef_[0]
        base = (self.regression_.intercept_[0]
                + coef[0] * _logit(self.propensity_.predict_proba(propensity_matrix(frame))[:, 1]))
        sensitivity = coef[1] + self._terms(frame).sum(axis=1)
        return _sigmoid(base + sensitivity), _sigmoid(base), sensitivity

    def main_reason(self, frame: pd.DataFrame) -> np.ndarray:
        """The behaviour feature that adds most to each client's store sensitivity."""
        names = np.array(list(SENSITIVITY_FEATURES), dtype=object)
        return names[np.argmax(self._terms(frame), axis=1)]

    def coefficients(self) -> dict[str, float]:
        """Log-odds an advisor adds per standard deviation of each behaviour feature."""
        coef = self.regression_.coef_[0]
        out = {"advisor": float(coef[1])}
        out.update(zip(SENSITIVITY_FEATURES, coef[2:].round(4).tolist(), strict=True))
        return out
