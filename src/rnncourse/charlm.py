"""A character-level language model: vocabulary, one-hot, cross-entropy, a batched trainer, sampling.

The model is the RNN of ``rnncourse.bptt`` with input and output size equal to the
vocabulary size: it reads one character id per step and its logits o_t score every
possible next character.  Training minimises the cross-entropy of the next character,

    L = -sum_t log softmax(o_t)[x_{t+1}],

and generation feeds each sampled character back in as the next input.

Training reads the text as ``batch`` contiguous lanes (lane i is the i-th slice of the
text), ``seq_len`` characters at a time, carrying every lane's hidden state from one
chunk to the next (truncated BPTT with window = shift = seq_len).  Gradients are
clipped entry-wise to [-clip, clip] and applied with Adagrad.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from .bptt import check_params, init_params, log_softmax, rnn_backward, rnn_forward, \
    softmax_cross_entropy


class Vocabulary:
    """The sorted set of characters of a text; ids are positions in that list."""

    def __init__(self, chars):
        chars = sorted(set(chars))
        if not chars or not all(isinstance(ch, str) and len(ch) == 1 for ch in chars):
            raise ValueError("a vocabulary needs at least one single-character string")
        self.chars = chars
        self.index = {ch: i for i, ch in enumerate(chars)}

    @classmethod
    def from_text(cls, text: str) -> "Vocabulary":
        if not isinstance(text, str) or not text:
            raise ValueError("text must be a non-empty string")
        return cls(text)

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """Character ids of ``text``, shape (len(text),), dtype int64."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        try:
            return np.fromiter((self.index[ch] for ch in text), dtype=np.int64, count=len(text))
        except KeyError as err:
            raise ValueError(f"character {err.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)


def one_hot(ids, size: int, dtype=np.float64) -> np.ndarray:
    """One-hot rows: ids (...) integers in [0, size) -> (..., size) with a single 1 per row."""
    ids = np.asarray(ids)
    if not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"ids must be integers, got dtype {ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() >= size):
        raise ValueError(f"ids must lie in [0, {size}), got range [{ids.min()}, {ids.max()}]")
    out = np.zeros(ids.shape + (size,), dtype=dtype)
    np.put_along_axis(out, ids[..., None], 1.0, axis=-1)
    return out


def cross_entropy(logits: np.ndarray, targets: np.ndarray) -> float:
    """Mean of -log softmax(logits)[target] over all positions, in nats; stable for huge logits.

    logits: (..., K) floats, targets: (...) integer ids.
    """
    logits = np.asarray(logits, dtype=np.float64)
    targets = np.asarray(targets)
    if logits.shape[:-1] != targets.shape:
        raise ValueError(f"targets must have shape {logits.shape[:-1]}, got {targets.shape}")
    logp = log_softmax(logits)
    return float(-np.take_along_axis(logp, targets[..., None], axis=-1).mean())


def bits_per_char(nats: float) -> float:
    """Cross-entropy in bits: nats / ln 2."""
    return nats / math.log(2.0)


def perplexity(nats: float) -> float:
    """exp(cross-entropy): the number of equally likely characters the model hesitates between."""
    return math.exp(nats)


class Adagrad:
    """Adagrad: m += g^2;  p -= lr * g / sqrt(m + eps).  One accumulator per parameter name."""

    def __init__(self, lr: float = 0.1, eps: float = 1e-8):
        if not lr > 0:
            raise ValueError(f"lr must be positive, got {lr}")
        self.lr, self.eps, self.memory = lr, eps, {}

    def step(self, params: dict, grads: dict) -> None:
        for name, g in grads.items():
            if name not in params:
                continue
            m = self.memory.setdefault(name, np.zeros_like(params[name]))
            m += g * g
            params[name] -= self.lr * g / np.sqrt(m + self.eps)


def clip_(grads: dict, limit: float) -> dict:
    """Clip every gradient entry to [-limit, limit], in place; returns ``grads``."""
    for g in grads.values():
        np.clip(g, -limit, limit, out=g)
    return grads


def init_char_rnn(vocab_size: int, hidden_size: int, seed: int = 0) -> dict:
    """Parameters of a char-RNN (input = output = vocab_size), std 0.01 weights, zero biases."""
    return init_params(vocab_size, hidden_size, vocab_size, np.random.default_rng(seed))


def train_step(params: dict, x: np.ndarray, y: np.ndarray, h: np.ndarray, optimizer,
               clip: float = 5.0) -> tuple[float, np.ndarray]:
    """One update on a chunk.

    x, y: (batch, seq_len) input and target ids;  h: (batch, hidden) state carried in
    The loss is summed over time and averaged over the batch (per-sequence scale).
    returns (mean cross-entropy per character in nats, the last state (batch, hidden)).
    """
    batch, steps = y.shape
    o, cache = rnn_forward(params, x, h)
    loss, do = softmax_cross_entropy(o, y)
    do /= batch
    grads = rnn_backward(do, cache)
    del grads["h0"]
    optimizer.step(params, clip_(grads, clip))
    return loss / (batch * steps), cache["h_all"][-1].copy()


def lanes(ids: np.ndarray, batch: int) -> np.ndarray:
    """Cut a 1-D id stream into ``batch`` contiguous lanes: (batch, len(ids) // batch)."""
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ValueError(f"ids must be 1-D, got shape {ids.shape}")
    width = len(ids) // batch
    if width < 2:
        raise ValueError(f"{len(ids)} ids are too few for {batch} lanes")
    return ids[: batch * width].reshape(batch, width)


def train(params: dict, ids: np.ndarray, steps: int, batch: int = 64, seq_len: int = 25,
          lr: float = 0.05, clip: float = 5.0, optimizer=None, progress: bool = False,
          callback: Callable[[int, dict], None] | None = None, every: int = 100) -> list[float]:
    """Train ``params`` in place for ``steps`` updates on the 1-D id stream ``ids``.

    Lanes wrap around at the end of the text (states reset to zero there).
    ``callback(step, params)`` runs every ``every`` updates and after the last one.
    ``progress=True`` shows a text progress bar (on stdout) with the current bits per character.
    returns the mean training cross-entropy (nats per character) of every update.
    """
    _, hidden, vocab = check_params(params)
    data = lanes(ids, batch)
    if data.shape[1] <= seq_len:
        raise ValueError(f"each lane holds {data.shape[1]} characters; need more than seq_len={seq_len}")
    optimizer = Adagrad(lr) if optimizer is None else optimizer
    h = np.zeros((batch, hidden))
    pos, losses = 0, []
    bar = None
    if progress:
        import sys

        from tqdm import tqdm
        bar = tqdm(total=steps, unit="step", file=sys.stdout, ascii=True, ncols=90, mininterval=10.0)
    for step in range(1, steps + 1):
        if pos + seq_len + 1 > data.shape[1]:
            pos, h = 0, np.zeros((batch, hidden))
        x, y = data[:, pos:pos + seq_len], data[:, pos + 1:pos + seq_len + 1]
        loss, h = train_step(params, x, y, h, optimizer, clip)
        losses.append(loss)
        pos += seq_len
        if bar is not None:
            bar.update(1)
            if step % 50 == 0:
                bar.set_postfix(bpc=f"{bits_per_char(loss):.3f}", refresh=False)
        if callback is not None and (step % every == 0 or step == steps):
            callback(step, params)
    if bar is not None:
        bar.close()
    return losses


def evaluate(params: dict, ids: np.ndarray, batch: int = 16, seq_len: int = 200) -> float:
    """Mean cross-entropy (nats per character) of predicting ids[t+1] from ids[..t], states carried."""
    _, hidden, _ = check_params(params)
    data = lanes(ids, batch)
    h = np.zeros((batch, hidden))
    total, count = 0.0, 0
    for pos in range(0, data.shape[1] - 1, seq_len):
        x = data[:, pos:min(pos + seq_len, data.shape[1] - 1)]
        y = data[:, pos + 1:pos + 1 + x.shape[1]]
        o, cache = rnn_forward(params, x, h)
        total += softmax_cross_entropy(o, y)[0]
        count += y.size
        h = cache["h_all"][-1]
    return total / count


def sample(params: dict, prime: np.ndarray, n: int, rng: np.random.Generator | None = None,
           temperature: float = 1.0, h: np.ndarray | None = None) -> np.ndarray:
    """Generate ``n`` ids after reading the ids in ``prime`` (at least one).

    Each step computes p = softmax(o_t / temperature) and draws the next id as the first k
    with cumsum(p)[k] > u, u = rng.random() (reproducible for a seeded generator);
    ``temperature=0`` (or rng=None) takes the argmax instead (greedy).
    The drawn id is fed back in as the next input.  returns (n,) int64 ids.
    """
    _, hidden, vocab = check_params(params)
    prime = np.asarray(prime)
    if prime.ndim != 1 or prime.size < 1 or not np.issubdtype(prime.dtype, np.integer):
        raise ValueError(f"prime must be a non-empty 1-D array of ids, got {prime!r}")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    U, W, V, b, c = (params[k] for k in ("U", "W", "V", "b", "c"))
    h = np.zeros(hidden) if h is None else np.asarray(h, dtype=np.float64).reshape(hidden)
    for i in prime[:-1]:
        h = np.tanh(b + W @ h + U[:, i])
    current, out = int(prime[-1]), np.empty(n, dtype=np.int64)
    for k in range(n):
        h = np.tanh(b + W @ h + U[:, current])
        o = c + V @ h
        if temperature == 0 or rng is None:
            current = int(np.argmax(o))
        else:
            p = np.exp(log_softmax(o / temperature))
            current = min(int(np.searchsorted(np.cumsum(p), rng.random(), side="right")), vocab - 1)
        out[k] = current
    return out


def hidden_states(params: dict, ids: np.ndarray) -> np.ndarray:
    """The hidden state after every character of a 1-D id sequence: (len(ids), hidden)."""
    _, cache = rnn_forward(params, np.asarray(ids)[None, :])
    return cache["h"][0]
