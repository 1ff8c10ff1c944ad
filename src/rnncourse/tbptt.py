"""Truncated backpropagation through time over a long stream.

A stream ``x`` of shape (batch, N) is read in windows.  Every update advances the
stream by ``shift`` new steps, runs the RNN forward over the last ``window`` steps
(starting from the state the model reached earlier, treated as a constant), and
backpropagates through those ``window`` steps only.  Losses are taken on the ``shift``
new steps, so every target is counted once per pass over the stream:

    update j:  window [e - window, e),  loss on [e - shift, e),  e = (j + 1) * shift

``shift == window`` gives the usual back-to-back chunks; ``shift < window`` lets every
target see at least ``window - shift`` steps of history in its gradient.  A dependency
that reaches further back than ``window`` steps sends no gradient at all: the model can
only learn it by accident.
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


def accuracy(params: dict, x: np.ndarray, y: np.ndarray, skip: int = 0) -> float:
    """Fraction of argmax predictions equal to ``y`` over the whole sequence, ignoring the first ``skip`` steps."""
    o, _ = rnn_forward(params, x)
    return float(np.mean(o[:, skip:].argmax(axis=-1) == y[:, skip:]))
