"""An interpolated Kneser-Ney character n-gram model: the baseline a character RNN must beat.

An n-gram model predicts the next character from the previous n - 1 only.  Counts alone give
probability 0 to every continuation not seen in training, so the counts are *discounted* (each
seen n-gram gives up D of its count) and the freed mass goes to the (n-1)-gram estimate, and so
on down to a uniform distribution over the vocabulary (Kneser and Ney 1995, in the interpolated
form recommended by Chen and Goodman 1999):

    P_m(w | h) = max(c_m(h w) - D_m, 0) / c_m(h .)  +  D_m N_m(h .) / c_m(h .) * P_{m-1}(w | h')

h' is h without its oldest character, c_m(h .) = sum_w c_m(h w), and N_m(h .) is the number of
distinct w with c_m(h w) > 0.  At the highest order c_m is the raw count; at every lower order it
is the *continuation count*, the number of distinct characters seen before the m-gram, so that a
character frequent only after one context (``f`` after ``sel``) does not get a high lower-order
probability.  A context never seen (c_m(h .) = 0) passes the lower-order estimate on unchanged.
The discount of order m is D_m = n1 / (n1 + 2 n2), with n1 and n2 the numbers of m-grams whose
count is exactly 1 and 2.  P_0 is uniform over the ``vocab_size`` ids, so no id has probability 0.
"""
from __future__ import annotations

import math

import numpy as np


def _check_ids(ids, vocab_size: int, name: str = "ids") -> np.ndarray:
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"{name} must be a 1-D array of integer ids, got shape {ids.shape}, dtype {ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        raise ValueError(f"{name} must lie in [0, {vocab_size}), got range [{ids.min()}, {ids.max()}]")
    return ids.astype(np.int64)


def _keys(ids: np.ndarray, m: int, base: int) -> np.ndarray:
    """Integer key of every m-gram of ``ids``: (len(ids) - m + 1,), oldest character most significant."""
    keys = np.zeros(len(ids) - m + 1, dtype=np.int64)
    for j in range(m):
        keys = keys * base + ids[j:len(ids) - m + 1 + j]
    return keys


class _Order:
    """The table of one order m: sorted m-gram keys and their counts, per-context sums and type counts."""

    def __init__(self, keys: np.ndarray, counts: np.ndarray, base: int):
        self.keys, self.counts = keys, counts.astype(np.float64)
        n1, n2 = np.sum(counts == 1), np.sum(counts == 2)
        self.discount = float(n1 / (n1 + 2 * n2)) if n1 > 0 else 0.5
        self.contexts, first = np.unique(keys // base, return_index=True)
        self.context_total = np.add.reduceat(self.counts, first)
        self.context_types = np.diff(np.append(first, len(keys))).astype(np.float64)

    def lookup(self, table: np.ndarray, values: np.ndarray, queries: np.ndarray) -> np.ndarray:
        """values[i] where table[i] == query, 0 where the query is absent."""
        at = np.clip(np.searchsorted(table, queries), 0, max(len(table) - 1, 0))
        found = (table[at] == queries) if len(table) else np.zeros(len(queries), bool)
        return np.where(found, values[at] if len(table) else 0.0, 0.0)


class KneserNey:
    """Interpolated Kneser-Ney model of order ``order`` (1 to 6) over ids in [0, vocab_size).

    Fit on a 1-D id stream; ``probs(ids)`` gives P(ids[t] | the up to order-1 ids before it).
    """

    def __init__(self, train_ids, vocab_size: int, order: int = 5):
        if not isinstance(vocab_size, (int, np.integer)) or vocab_size < 2:
            raise ValueError(f"vocab_size must be an integer >= 2, got {vocab_size!r}")
        if not isinstance(order, (int, np.integer)) or not 1 <= order <= 6:
            raise ValueError(f"order must be an integer from 1 to 6, got {order!r}")
        if int(vocab_size) ** order >= 2 ** 62:
            raise ValueError(f"vocab_size {vocab_size} is too large for order {order} (keys overflow int64)")
        ids = _check_ids(train_ids, vocab_size, "train_ids")
        if len(ids) < order:
            raise ValueError(f"train_ids holds {len(ids)} ids; order {order} needs at least {order}")
        self.vocab_size, self.order = int(vocab_size), int(order)
        self.tables = []
        for m in range(1, order + 1):
            keys, counts = np.unique(_keys(ids, m, self.vocab_size), return_counts=True)
            if m < order:                       # continuation counts: distinct left neighbours
                longer = np.unique(_keys(ids, m + 1, self.vocab_size))
                keys, counts = np.unique(longer % self.vocab_size ** m, return_counts=True)
            self.tables.append(_Order(keys, counts, self.vocab_size))

    def _cond(self, context: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """P(target | context) for rows of context (N, order-1), -1 marking ids before the start."""
        K = self.vocab_size
        p = np.full(len(targets), 1.0 / K)
        for m, table in enumerate(self.tables, start=1):
            h = np.zeros(len(targets), dtype=np.int64)
            usable = np.ones(len(targets), dtype=bool)
            for j in range(m - 1):                          # the m - 1 most recent context ids
                c = context[:, context.shape[1] - (m - 1) + j]
                usable &= c >= 0
                h = h * K + np.maximum(c, 0)
            key = h * K + targets
            total = table.lookup(table.contexts, table.context_total, h)
            seen = usable & (total > 0)
            count = table.lookup(table.keys, table.counts, key)
            types = table.lookup(table.contexts, table.context_types, h)
            D = table.discount
            safe = np.where(seen, total, 1.0)
            p = np.where(seen, np.maximum(count - D, 0.0) / safe + D * types / safe * p, p)
        return p

    def probs(self, ids) -> np.ndarray:
        """P(ids[t] | ids[t-order+1 : t]) for every t: (len(ids),); the first ids use shorter contexts."""
        ids = _check_ids(ids, self.vocab_size)
        n = self.order - 1
        padded = np.concatenate([np.full(n, -1, dtype=np.int64), ids])
        context = np.stack([padded[j:j + len(ids)] for j in range(n)], axis=1) if n else np.zeros((len(ids), 0), np.int64)
        return self._cond(context, ids)

    def distribution(self, context) -> np.ndarray:
        """P(w | context) for every id w: (vocab_size,); only the last order-1 ids of ``context`` count."""
        context = _check_ids(context, self.vocab_size, "context")[-(self.order - 1):] if self.order > 1 \
            else np.zeros(0, np.int64)
        row = np.concatenate([np.full(self.order - 1 - len(context), -1, dtype=np.int64), context])
        return self._cond(np.tile(row, (self.vocab_size, 1)), np.arange(self.vocab_size))

    def nats(self, ids) -> float:
        """Mean cross-entropy per id of the stream ``ids``, in nats."""
        return float(-np.mean(np.log(self.probs(ids))))

    def bits_per_char(self, ids) -> float:
        return self.nats(ids) / math.log(2.0)
