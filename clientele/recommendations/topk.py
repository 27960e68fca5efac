"""Top-k selection over a (customers x products) score matrix, in memory-bounded chunks."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch


def top_k_indices(
    scores: np.ndarray,
    k: int,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Indices and scores of the k highest scores of each row, best first.

    Args:
        scores: (n_rows, n_items) float array.
        k: how many to keep (capped at n_items).
        mask: optional boolean (n_items,) or (n_rows, n_items); False items are never chosen.

    Returns:
        (indices, values), both (n_rows, k); rows with fewer than k allowed items are
        padded with index -1 and value -inf.
    """
    # float32 scores (torch's) stay float32: a float64 copy of every chunk cost as much as
    # the selection itself.
    scores = np.asarray(scores)
    if scores.dtype not in (np.float32, np.float64):
        scores = scores.astype(np.float64)
    n_rows, n_items = scores.shape
    k = int(min(k, n_items))
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    if k == 0 or n_rows == 0:
        return np.full((n_rows, k), -1, dtype=np.int64), np.full((n_rows, k), -np.inf)
    # torch.topk is several times faster than numpy's argpartition on wide catalogues.
    with torch.no_grad():
        part_t = torch.topk(torch.from_numpy(np.ascontiguousarray(scores)), k, dim=1).indices
    part = part_t.numpy().astype(np.int64)
    part_scores = np.take_along_axis(scores, part, axis=1)
    # Best first; ties broken by item index so that results are deterministic.
    order = np.lexsort((part, -part_scores), axis=1)
    idx = np.take_along_axis(part, order, axis=1)
    val = np.take_along_axis(part_scores, order, axis=1).astype(np.float64)
    idx = np.where(np.isfinite(val), idx, -1)
    return idx, val


def chunked_top_k(
    score_fn: Callable[[np.ndarray], np.ndarray],
    n_rows: int,
    k: int,
    mask: np.ndarray | None = None,
    chunk_size: int = 1024,
) -> tuple[np.ndarray, np.ndarray]:
    """top_k_indices over rows scored chunk by chunk: score_fn(row_indices) -> scores."""
    idx_parts, val_parts = [], []
    for start in range(0, n_rows, chunk_size):
        rows = np.arange(start, min(start + chunk_size, n_rows))
        chunk_mask = mask[rows] if (mask is not None and mask.ndim == 2) else mask
        idx, val = top_k_indices(score_fn(rows), k, chunk_mask)
        idx_parts.append(idx)
        val_parts.append(val)
    if not idx_parts:
        return np.empty((0, k), dtype=np.int64), np.empty((0, k))
    return np.vstack(idx_parts), np.vstack(val_parts)
