"""Implicit-feedback ALS (Hu, Koren & Volinsky 2008) in numpy, solved by batched
conjugate gradient: every customer's (and every product's) system is solved at once,
without a Python loop over customers.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import scipy.sparse as sp

from clientele.recommendations.topk import chunked_top_k

log = logging.getLogger("clientele.recommendations")


def _solve_side(
    R: sp.csr_matrix, fixed: np.ndarray, current: np.ndarray, alpha: float,
    regularization: float, cg_steps: int,
) -> np.ndarray:
    """New factors for the rows of R given the other side's factors (batched CG)."""
    # The weighted matrix keeps R's CSR structure and only its values change at each
    # conjugate-gradient step: building a new sparse matrix from COO each time (a sort)
    # took about half of the fit (8.4 s -> 4.5 s on the 20k demo, same factors).
    rows = np.repeat(np.arange(R.shape[0]), np.diff(R.indptr))
    cols = R.indices
    extra_conf = (alpha * np.log1p(R.data)).astype(fixed.dtype)  # c_ui - 1
    YtY = fixed.T @ fixed + regularization * np.eye(fixed.shape[1], dtype=fixed.dtype)
    weighted = sp.csr_matrix((extra_conf, R.indices, R.indptr), shape=R.shape)

    def apply_lhs(X: np.ndarray) -> np.ndarray:
        weighted.data = np.einsum("nk,nk->n", X[rows], fixed[cols]) * extra_conf
        return X @ YtY + weighted @ fixed

    b = sp.csr_matrix((1.0 + extra_conf, R.indices, R.indptr), shape=R.shape) @ fixed
    X = current.copy()
    r = b - apply_lhs(X)
    p = r.copy()
    rs_old = np.einsum("nk,nk->n", r, r)
    for _ in range(cg_steps):
        Ap = apply_lhs(p)
        denom = np.einsum("nk,nk->n", p, Ap)
        step = np.divide(rs_old, denom, out=np.zeros_like(rs_old), where=denom > 1e-20)
        X += step[:, None] * p
        r -= step[:, None] * Ap
        rs_new = np.einsum("nk,nk->n", r, r)
        beta = np.divide(rs_new, rs_old, out=np.zeros_like(rs_new), where=rs_old > 1e-20)
        p = r + beta[:, None] * p
        rs_old = rs_new
    return X


class ImplicitALS:
    """Matrix factorisation of a customers x products count matrix.

    Confidence c_ui = 1 + alpha * log(1 + count_ui); preference p_ui = 1 if bought.

    Args:
        factors: latent dimension.
        regularization: L2 penalty lambda.
        alpha: confidence scale.
        iterations: alternating sweeps.
        cg_steps: conjugate-gradient steps per sweep and side.
        seed: initialisation seed.
    """

    def __init__(self, factors: int = 32, regularization: float = 0.05, alpha: float = 10.0,
                 iterations: int = 10, cg_steps: int = 3, seed: int = 42) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.cg_steps = cg_steps
        self.seed = seed

    def fit(self, counts: sp.spmatrix) -> ImplicitALS:
        """Learn user_factors_ (n_users, f) and item_factors_ (n_items, f)."""
        R = sp.csr_matrix(counts, dtype=np.float32)
        R.eliminate_zeros()
        rng = np.random.default_rng(self.seed)
        n_users, n_items = R.shape
        X = (rng.standard_normal((n_users, self.factors)) * 0.01).astype(np.float32)
        Y = (rng.standard_normal((n_items, self.factors)) * 0.01).astype(np.float32)
        Rt = R.T.tocsr()
        start = time.perf_counter()
        for _ in range(self.iterations):
            X = _solve_side(R, Y, X, self.alpha, self.regularization, self.cg_steps)
            Y = _solve_side(Rt, X, Y, self.alpha, self.regularization, self.cg_steps)
        log.info("ALS: %d users x %d items, %d nonzeros, %d iterations in %.1fs",
                 n_users, n_items, R.nnz, self.iterations, time.perf_counter() - start)
        self.user_factors_, self.item_factors_ = X, Y
        return self

    def score(self, users: np.ndarray) -> np.ndarray:
        """Scores (len(users), n_items)."""
        return self.user_factors_[users] @ self.item_factors_.T

    def recommend(self, k: int, item_mask: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k item indices and scores for every user, full ranking over the catalogue."""
        return chunked_top_k(self.score, self.user_factors_.shape[0], k, item_mask)
