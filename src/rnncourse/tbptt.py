"""Truncated backpropagation through time over a long stream.

A stream ``x`` of shape (batch, N) is read in windows.  Every update advances the
stream by ``shift`` new steps, runs the RNN forward over the last ``window`` steps
(starting from the state the model reached earlier, treated as a constant), and
backpropagates through those ``window`` steps only.  Losses are taken on the ``shift``
new steps, so every target is counted once per pass over the stream:

    update j:  window [e - window, e),  loss on [e - shift, e),  e = (j + 1) * shift

``shift == window`` gives the usual back-to-back chunks; ``shift < window`` lets every
target see at least ``window - shift`` steps of history in its gradient.  What truncation
removes is the gradient *signal* of a dependency that reaches further back than the window:
no update ever asks the weights to carry an input for ``window`` steps or more.  It does not
cut the forward pass, so a model can still *use* older inputs when what it learned for
shorter dependencies happens to carry them (``markov_delay_task`` is a task where it does,
``distant_context_accuracy`` measures it).
"""
from __future__ import annotations

import numpy as np

from .bptt import check_params, rnn_backward, rnn_forward, softmax_cross_entropy
from .charlm import Adagrad


def windows(length: int, window: int, shift: int):
    """Yield (start, loss_start, end) for every update over a stream of ``length`` steps."""
    for name, value in [("length", length), ("window", window), ("shift", shift)]:
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if shift > window:
        raise ValueError(f"shift ({shift}) must not exceed window ({window}): steps would get no gradient")
    for end in range(shift, length + 1, shift):
        yield max(0, end - window), end - shift, end


def train_tbptt(params: dict, x: np.ndarray, y: np.ndarray, window: int, shift: int | None = None,
                optimizer=None, h0: np.ndarray | None = None) -> list[float]:
    """One pass of truncated BPTT over the stream; updates ``params`` in place.

    x: (batch, N) integer ids or (batch, N, input) floats;  y: (batch, N) integer targets
    window: steps backpropagated per update;  shift: new steps per update (default: window)
    optimizer: anything with ``step(params, grads)`` (default ``Adagrad(lr=0.1)``)
    h0: (batch, hidden) state before the first step (zeros when None)
    returns the mean cross-entropy per character of every update, in order.
    """
    shift = window if shift is None else shift
    _, hidden, _ = check_params(params)
    if not isinstance(x, np.ndarray) or not isinstance(y, np.ndarray) or x.shape[:2] != y.shape:
        raise ValueError(f"x (batch, N[, input]) and y (batch, N) must agree, got "
                         f"{getattr(x, 'shape', x)} and {getattr(y, 'shape', y)}")
    batch, length = y.shape
    optimizer = Adagrad(lr=0.1) if optimizer is None else optimizer
    states = np.zeros((length + 1, batch, hidden), dtype=params["U"].dtype)
    if h0 is not None:
        states[0] = h0
    losses = []
    for start, loss_start, end in windows(length, window, shift):
        o, cache = rnn_forward(params, x[:, start:end], states[start])
        first = loss_start - start                      # outputs before this get no loss
        loss, do = softmax_cross_entropy(o[:, first:], y[:, loss_start:end])
        do_full = np.zeros_like(o)
        do_full[:, first:] = do / (batch * (end - loss_start))
        grads = rnn_backward(do_full, cache)
        grads.pop("h0")                                 # the carried state is a constant
        states[loss_start + 1:end + 1] = cache["h_all"][first + 1:]
        optimizer.step(params, grads)
        losses.append(loss / (batch * (end - loss_start)))
    return losses


def delay_task(batch: int, length: int, delay: int, rng: np.random.Generator,
               symbols: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Random symbols x (batch, length) and targets y with y_t = x_{t - delay}.

    For t < delay the target is a symbol the model never saw (chance level).
    """
    if not isinstance(delay, (int, np.integer)) or delay < 0:
        raise ValueError(f"delay must be a non-negative integer, got {delay!r}")
    stream = rng.integers(0, symbols, size=(batch, length + delay))
    return stream[:, delay:], stream[:, :length]


def markov_delay_task(batch: int, length: int, delay: int, rng: np.random.Generator,
                      stay: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """Bits that repeat the previous bit with probability ``stay``, and targets y_t = x_{t - delay}.

    x, y: (batch, length) int64.  Neighbouring bits agree with probability ``stay``, bits j steps
    apart with probability (1 + (2 stay - 1)^j) / 2, so the far bit x_{t-d} is correlated with the
    nearer ones; ``stay = 0.5`` gives independent bits.
    """
    if not isinstance(delay, (int, np.integer)) or delay < 0:
        raise ValueError(f"delay must be a non-negative integer, got {delay!r}")
    if not 0 <= stay <= 1:
        raise ValueError(f"stay must be a probability in [0, 1], got {stay!r}")
    flips = (rng.random((batch, length + delay)) >= stay).astype(np.int64)
    flips[:, 0] = rng.integers(0, 2, batch)                     # the first bit is a fair coin
    stream = np.cumsum(flips, axis=1) % 2
    return stream[:, delay:], stream[:, :length]


def best_accuracy_from_recent(delay: int, recent: int, stay: float) -> float:
    """Best possible accuracy of predicting x_{t-delay} of ``markov_delay_task`` from x_{t-recent+1..t} alone.

    For delay < recent the bit is among them (1.0); otherwise the best guess is the oldest of them,
    x_{t-recent+1}, right with probability (1 + (2 stay - 1)^(delay - recent + 1)) / 2.
    """
    if delay < recent:
        return 1.0
    return float((1 + (2 * stay - 1) ** (delay - recent + 1)) / 2)


def distant_context_accuracy(params: dict, x: np.ndarray, y: np.ndarray, keep: int, positions,
                             donor: np.ndarray | None = None) -> float:
    """Accuracy at ``positions`` when every input older than the last ``keep`` is replaced.

    For each position p the model reads a sequence of p + 1 steps whose last ``keep`` inputs are
    x[:, p-keep+1 : p+1] and whose earlier inputs come from ``donor`` (default: x of the next batch
    row, an unrelated sequence with the same statistics).  If accuracy drops against an
    untruncated run, the model uses context older than ``keep`` steps.
    x, y: (batch, N) ids;  positions: indices p with keep - 1 <= p < N.
    """
    donor = np.roll(x, -1, axis=0) if donor is None else donor
    if donor.shape != x.shape:
        raise ValueError(f"donor must have the shape of x {x.shape}, got {donor.shape}")
    hits = []
    for p in positions:
        if not keep - 1 <= p < x.shape[1]:
            raise ValueError(f"position {p} must lie in [{keep - 1}, {x.shape[1]})")
        seq = donor[:, :p + 1].copy()
        seq[:, p + 1 - keep:] = x[:, p + 1 - keep:p + 1]
        o, _ = rnn_forward(params, seq)
        hits.append(o[:, -1].argmax(axis=-1) == y[:, p])
    return float(np.mean(hits))


def accuracy(params: dict, x: np.ndarray, y: np.ndarray, skip: int = 0) -> float:
    """Fraction of argmax predictions equal to ``y`` over the whole sequence, ignoring the first ``skip`` steps."""
    o, _ = rnn_forward(params, x)
    return float(np.mean(o[:, skip:].argmax(axis=-1) == y[:, skip:]))
