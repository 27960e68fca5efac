"""Sequence recommender: an LSTM over each customer's days of activity.

Design choice (documented in docs/recommendations.md): one time step is one day of a
customer's activity, a *bag* of events (purchases, add-to-carts, views), embedded as the
mean of (product embedding + event-type embedding). The LSTM reads the last
``max_steps`` days and, at every day, predicts the products bought on the next day that
has a purchase (a multi-label softmax over the whole catalogue, products directly rather
than category-then-product: catalogues here are a few thousand products, where a full
softmax is cheap and keeps the ranking at product level). The output layer is tied to the
product embeddings, so that products close to what the customer bought or browsed score
high, repurchase included.

Best-seller penalty: scores are log p(product | history) - penalty * log p(product), the
popularity-debiased score (penalty 0 = raw model, 1 = pointwise mutual information).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

log = logging.getLogger("clientele.recommendations")

EVENT_TYPES = {"purchase": 0, "add_to_cart": 1, "view": 2}


@dataclass
class Sequences:
    """Left-padded day-bags of every customer with activity.

    users: (n,) customer index of each row.
    items: (n, T, B) product index + 1 of each event of each day (0 = padding).
    types: (n, T, B) event type of each event.
    targets: (n, T, B2) product index + 1 bought on the next purchase day (0 = none).
    """

    users: np.ndarray
    items: np.ndarray
    types: np.ndarray
    targets: np.ndarray


def build_sequences(
    user: np.ndarray, item: np.ndarray, event_type: np.ndarray, day: np.ndarray,
    max_steps: int = 20, max_events_per_step: int = 24, max_targets_per_step: int = 16,
    target_horizon_days: int | None = None, targets: bool = True,
) -> Sequences:
    """Vectorised construction of the padded sequences from event arrays.

    Args:
        user, item: integer indices (0..n-1).
        event_type: 0 purchase, 1 add_to_cart, 2 view.
        day: integer day of the event (e.g. days since epoch).
        target_horizon_days: None = the target of a day is the next purchase day; an
            integer H = every product bought in the H days after it (the horizon the lists
            are used for), up to max_targets_per_step.
        targets: False for sequences that are only scored (no training targets: an empty
            last axis).
    """
    T, B, B2 = max_steps, max_events_per_step, max_targets_per_step
    # Events in (user, day, type, item) order, duplicates dropped: numpy sorts and
    # run-lengths (pandas merges and group counts cost about as much as the scoring).
    columns = [np.asarray(a, dtype=np.int64) for a in (user, day, event_type, item)]
    order = np.lexsort(columns[::-1])
    user, day, etype, item = (a[order] for a in columns)
    if len(user):
        fresh = np.r_[True, (np.diff(user) != 0) | (np.diff(day) != 0)
                      | (np.diff(etype) != 0) | (np.diff(item) != 0)]
        user, day, etype, item = user[fresh], day[fresh], etype[fresh], item[fresh]
    if len(user) == 0:
        empty = np.zeros((0, T, B), dtype=np.int32)
        return Sequences(np.zeros(0, dtype=np.int64), empty, empty,
                         np.zeros((0, T, B2), dtype=np.int32))
    # Steps (a user's days), numbered from the user's last day backwards; the last T kept.
    new_user = np.r_[True, np.diff(user) != 0]
    new_step = new_user | np.r_[True, np.diff(day) != 0]
    step = np.cumsum(new_step) - 1
    # Each event's user's last step: carried back from the user's last event.
    last_of_user = np.r_[new_user[1:], True][::-1]
    carried = np.maximum.accumulate(np.where(last_of_user, np.arange(len(step)), 0))
    from_end = step[::-1][carried][::-1] - step
    keep = from_end < T
    user, day, etype, item, step = user[keep], day[keep], etype[keep], item[keep], step[keep]
    pos = T - 1 - from_end[keep]
    first_of_user = np.r_[True, user[1:] != user[:-1]]  # users are sorted
    users, row = user[first_of_user], np.cumsum(first_of_user) - 1

    def slot_in_step(mask: np.ndarray) -> np.ndarray:
        """Rank of each masked event within its step, in event order."""
        index = np.arange(int(mask.sum()))
        first = np.r_[True, np.diff(step[mask]) != 0]
        return index - np.maximum.accumulate(np.where(first, index, 0))

    items = np.zeros((len(users), T, B), dtype=np.int32)
    types = np.zeros((len(users), T, B), dtype=np.int32)
    slot = slot_in_step(np.ones(len(user), dtype=bool))
    kept = slot < B
    items[row[kept], pos[kept], slot[kept]] = item[kept] + 1
    types[row[kept], pos[kept], slot[kept]] = etype[kept]
    if not targets:
        return Sequences(users, items, types, np.zeros((len(users), T, 0), dtype=np.int32))
    bought = etype == 0
    slot = slot_in_step(bought)
    kept = slot < B2
    purchases = np.zeros((len(users), T, B2), dtype=np.int32)
    purchases[row[bought][kept], pos[bought][kept], slot[kept]] = item[bought][kept] + 1
    if target_horizon_days is not None:
        step_day = np.full((len(users), T), np.iinfo(np.int64).min // 2, dtype=np.int64)
        step_day[row, pos] = day
        targets = np.zeros_like(purchases)
        for t in range(T - 1):  # loop over time steps, vectorised over customers
            later = purchases[:, t + 1:, :].copy()
            ahead = step_day[:, t + 1:] - step_day[:, t:t + 1]
            later[(ahead > target_horizon_days) | (ahead <= 0)] = 0
            flat = later.reshape(len(users), -1)
            order = np.argsort(flat == 0, axis=1, kind="stable")[:, :B2]
            targets[:, t, :order.shape[1]] = np.take_along_axis(flat, order, axis=1)
        targets[items[:, :, 0] == 0] = 0
        return Sequences(users, items, types, targets)
    # Target of day t: purchases of the next purchase day after t.
    has_purchase = purchases[:, :, 0] > 0
    targets = np.zeros_like(purchases)
    next_idx = np.full(len(users), -1)
    for t in range(T - 1, -1, -1):  # loop over time steps, vectorised over customers
        ok = next_idx >= 0
        targets[ok, t] = purchases[ok, next_idx[ok]]
        next_idx = np.where(has_purchase[:, t], t, next_idx)
    targets[items[:, :, 0] == 0] = 0  # padding steps predict nothing
    return Sequences(users, items, types, targets)


class _Net(nn.Module):
    def __init__(self, n_items: int, embedding_dim: int, hidden_dim: int, dropout: float):
        super().__init__()
        self.item_emb = nn.Embedding(n_items + 1, embedding_dim, padding_idx=0)
        self.type_emb = nn.Embedding(len(EVENT_TYPES), embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_dim, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden_dim, embedding_dim)
        self.bias = nn.Parameter(torch.zeros(n_items))
        # Copy (repurchase) term: a learned weight on the customer's own decayed history.
        self.copy_scale = nn.Parameter(torch.tensor(8.0))
        self.copy_decay = nn.Parameter(torch.tensor(-3.0))
        self.copy_type = nn.Parameter(torch.zeros(len(EVENT_TYPES)))
        self.n_items = n_items

    def bags(self, items: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
        """(n, T, embedding_dim) LSTM inputs: each day-bag's mean event embedding.

        Day-bags are mostly padding (a few events in max_steps x max_events slots): only
        the real events are embedded and summed into their bag, which made the forward
        and backward passes several times cheaper than embedding the padded tensor."""
        n, T, _ = items.shape
        present = items > 0
        bag_of_event = present.nonzero()[:, :2]
        bag_index = bag_of_event[:, 0] * T + bag_of_event[:, 1]
        e = self.item_emb(items[present].long()) + self.type_emb(types[present].long())
        total = torch.zeros(n * T, e.shape[1]).index_add_(0, bag_index, e)
        size = present.sum(dim=2).reshape(n * T, 1).clamp(min=1).float()
        return (total / size).reshape(n, T, -1)

    def hidden(self, items: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(self.drop(self.bags(items, types)))
        return out

    def last_hidden(self, items: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
        """``hidden(items, types)[:, -1]`` in eval mode, without running the LSTM over
        each row's leading padding (most clients have a few active days of the T read).

        A padded step's input is zero for every row, so the state after p padded steps
        is one and the same for all rows: it is computed once, and each group of rows
        with the same number of real steps (always the last ones: sequences are left
        padded) runs the LSTM from it over its real steps only. Same arithmetic as the
        full run, in a different batching."""
        n, T, _ = items.shape
        real = (items[:, :, 0] > 0).sum(dim=1)
        size = self.lstm.hidden_size
        state = (torch.zeros(1, 1, size), torch.zeros(1, 1, size))
        zero_input = torch.zeros(1, 1, self.lstm.input_size)
        after_padding = [state]
        for _ in range(T):
            _, state = self.lstm(zero_input, state)
            after_padding.append(state)
        last = torch.empty(n, size)
        for steps in torch.unique(real).tolist():
            rows = (real == steps).nonzero().squeeze(1)
            h0, c0 = after_padding[T - steps]
            if steps == 0:
                last[rows] = h0.reshape(1, size)
                continue
            group = (h0.expand(1, len(rows), size).contiguous(),
                     c0.expand(1, len(rows), size).contiguous())
            out, _ = self.lstm(self.bags(items[rows, T - steps:], types[rows, T - steps:]),
                               group)
            last[rows] = out[:, -1]
        return last

    def logits(self, items: torch.Tensor, types: torch.Tensor, h: torch.Tensor,
               rows: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
        """Scores over the catalogue after step `steps` of sequence `rows` of the batch,
        whose hidden states there are ``h`` (one row each)."""
        base = self.out(self.drop(h)) @ self.item_emb.weight[1:].T + self.bias
        # Copy term, added at the customer's own events up to the step only: a bag holds a
        # few events of its max_events slots, and weighing every slot (zeros included)
        # cost more than the rest of the scores.
        hist_items = items[rows]
        n = hist_items.shape[0]
        r, t, b = (hist_items > 0).nonzero(as_tuple=True)
        age = steps[r] - t
        seen = age >= 0
        r, t, b, age = r[seen], t[seen], b[seen], age[seen].float()
        weight = (torch.exp(-age * nn.functional.softplus(self.copy_decay))
                  * nn.functional.softplus(self.copy_type)[types[rows[r], t, b].long()]
                  * self.copy_scale)
        at = r * self.n_items + hist_items[r, t, b].long() - 1
        return base.reshape(-1).scatter_add(0, at, weight).reshape(n, self.n_items)


@contextlib.contextmanager
def _torch_settings(seed: int, threads: int) -> Iterator[None]:
    """Seeded, deterministic, bounded-thread torch; restores the caller's settings."""
    old_threads = torch.get_num_threads()
    old_det = torch.are_deterministic_algorithms_enabled()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        torch.set_num_threads(max(1, threads))
        torch.use_deterministic_algorithms(True)
        try:
            yield
        finally:
            torch.set_num_threads(old_threads)
            torch.use_deterministic_algorithms(old_det)


class LSTMRecommender:
    """Next-product LSTM over day-bags of purchases and browsing.

    Args:
        n_items: catalogue size (product indices 0..n_items-1).
        embedding_dim, hidden_dim, dropout: network size.
        epochs: training epochs. A fixed number rather than a time budget: where a budget
            stopped training depended on the machine's load, and so did the model.
        batch_size, learning_rate: optimisation.
        seed: makes training reproducible (same data + seed = same scores).
        threads: torch CPU threads.
        max_validation_customers: held-out customers scored after each epoch.
    """

    def __init__(self, n_items: int, embedding_dim: int = 32, hidden_dim: int = 64,
                 dropout: float = 0.1, epochs: int = 2, batch_size: int = 256,
                 learning_rate: float = 5e-3, seed: int = 42, threads: int = 1,
                 max_validation_customers: int = 4096) -> None:
        self.n_items = n_items
        self.embedding_dim = embedding_dim
        self.hidden_dim = hidden_dim
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.seed = seed
        self.threads = threads
        self.max_validation_customers = max_validation_customers

    def fit(self, seq: Sequences) -> LSTMRecommender:
        """Train on every (day, next purchase day) pair of every customer.

        The last pair of each customer is held out for validation: the weights kept are
        those of the epoch with the lowest validation loss, epoch 0 (the initial
        "repurchase then popularity" model) included, so training never makes the
        model worse on the most recent pairs.
        """
        self.history_: list[dict[str, float]] = []
        with _torch_settings(self.seed, self.threads):
            self.net_ = _Net(self.n_items, self.embedding_dim, self.hidden_dim, self.dropout)
            has_target = seq.targets[:, :, 0] > 0
            trainable = np.flatnonzero(has_target.any(axis=1))
            if trainable.size == 0:
                log.info("LSTM: no customer has two activity days with a later purchase; "
                         "the model stays untrained")
                return self
            T = has_target.shape[1]
            last = T - 1 - np.argmax(has_target[:, ::-1], axis=1)
            holdout = np.zeros_like(has_target)
            holdout[trainable, last[trainable]] = True
            # Customers with a single pair train on it; the others hold their last one out.
            multi = has_target.sum(axis=1) > 1
            holdout &= multi[:, None]
            train_mask = has_target & ~holdout
            val_rows = np.flatnonzero(holdout.any(axis=1))
            rng = np.random.default_rng(self.seed)
            if len(val_rows) > self.max_validation_customers:  # bounded validation cost
                val_rows = np.sort(rng.choice(val_rows, self.max_validation_customers,
                                              replace=False))
            # Start from "repurchase, then popularity": bias = log share of the targets.
            counts = np.bincount(seq.targets[seq.targets > 0] - 1, minlength=self.n_items)
            with torch.no_grad():
                self.net_.bias.copy_(torch.from_numpy(popularity_log_prior(counts)).float())
            opt = torch.optim.Adam(self.net_.parameters(), lr=self.learning_rate)
            best_loss = self._validation_loss(seq, val_rows, holdout)
            best_state = {k: v.clone() for k, v in self.net_.state_dict().items()}
            self.best_epoch_ = 0
            log.info("LSTM epoch 0 (initial model): validation loss %.4f on %d customers",
                     best_loss, len(val_rows))
            train_rows = np.flatnonzero(train_mask.any(axis=1))
            for epoch in range(self.epochs):
                self.net_.train()
                epoch_start, total, count = time.perf_counter(), 0.0, 0
                order = rng.permutation(train_rows)
                for b in range(0, len(order), self.batch_size):
                    rows = order[b:b + self.batch_size]
                    loss, n = self._batch_loss(seq, rows, train_mask)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    total += float(loss.detach()) * n
                    count += n
                seconds = time.perf_counter() - epoch_start
                val_loss = self._validation_loss(seq, val_rows, holdout)
                # Without validation pairs (every customer has one pair), keep the last epoch.
                if not np.isfinite(best_loss) or val_loss < best_loss:
                    best_loss, self.best_epoch_ = val_loss, epoch + 1
                    best_state = {k: v.clone() for k, v in self.net_.state_dict().items()}
                self.history_.append({"epoch": epoch + 1, "seconds": seconds,
                                      "loss": total / max(count, 1), "val_loss": val_loss,
                                      "targets": count})
                log.info("LSTM epoch %d: %.1fs, loss %.4f over %d targets, validation %.4f",
                         epoch + 1, seconds, total / max(count, 1), count, val_loss)
            self.net_.load_state_dict(best_state)
            log.info("LSTM: kept epoch %d (validation loss %.4f)", self.best_epoch_, best_loss)
        return self

    def _validation_loss(self, seq: Sequences, rows: np.ndarray, mask: np.ndarray) -> float:
        if rows.size == 0:
            return float("nan")
        self.net_.eval()
        total, count = 0.0, 0
        # One held-out pair per row: bound the (rows x catalogue) logits of a batch.
        step = max(64, min(1024, 2**23 // max(self.n_items, 1)))
        with torch.no_grad():
            for b in range(0, len(rows), step):
                loss, n = self._batch_loss(seq, rows[b:b + step], mask)
                total += float(loss) * n
                count += n
        return total / max(count, 1)

    def _batch_loss(self, seq: Sequences, rows: np.ndarray, mask: np.ndarray
                    ) -> tuple[torch.Tensor, int]:
        # int32 day-bags: only their few real events are converted to indices.
        items = torch.from_numpy(seq.items[rows])
        types = torch.from_numpy(seq.types[rows])
        targets = torch.from_numpy(seq.targets[rows]).long()
        h = self.net_.hidden(items, types)
        valid = torch.from_numpy(mask[rows])
        rows_, steps_ = valid.nonzero(as_tuple=True)
        logp = torch.log_softmax(self.net_.logits(items, types, h[rows_, steps_], rows_, steps_),
                                 dim=1)
        tgt = targets[valid]
        present = (tgt > 0).float()
        picked = logp.gather(1, (tgt - 1).clamp(min=0)) * present
        return -(picked.sum(dim=1) / present.sum(dim=1)).mean(), int(tgt.shape[0])

    def log_proba(self, seq: Sequences, rows: np.ndarray) -> np.ndarray:
        """log p(next product | history) for the given sequence rows, (len(rows), n_items)."""
        with _torch_settings(self.seed, self.threads), torch.no_grad():
            self.net_.eval()
            items = torch.from_numpy(seq.items[rows])
            types = torch.from_numpy(seq.types[rows])
            last = torch.full((len(rows),), items.shape[1] - 1, dtype=torch.long)
            logits = self.net_.logits(items, types, self.net_.last_hidden(items, types),
                                      torch.arange(len(rows)), last)
            return torch.log_softmax(logits, dim=1).numpy()

    def history_mask(self, seq: Sequences, rows: np.ndarray) -> np.ndarray:
        """Boolean (len(rows), n_items): the product is in the customer's sequence."""
        mask = np.zeros((len(rows), self.n_items + 1), dtype=bool)
        items = seq.items[rows].reshape(len(rows), -1)
        mask[np.repeat(np.arange(len(rows)), items.shape[1]), items.ravel()] = True
        return mask[:, 1:]

    def item_embeddings(self) -> np.ndarray:
        """(n_items, embedding_dim) learned product embeddings."""
        return self.net_.item_emb.weight[1:].detach().numpy().copy()


def popularity_log_prior(purchase_counts: np.ndarray) -> np.ndarray:
    """log p(product) from training purchase counts, add-one smoothed."""
    counts = np.asarray(purchase_counts, dtype=float) + 1.0
    return np.log(counts / counts.sum())
