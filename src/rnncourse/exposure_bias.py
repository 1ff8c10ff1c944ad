"""Teacher forcing, free running and scheduled sampling on a task where errors can be undone.

The task (``resync_task``): a running sum modulo ``symbols``, y_t = (y_{t-1} + x_t) mod S with
y_0 = 0.  The model sees each increment x_t through a noisy channel (replaced by a random symbol
with probability ``increment_noise``) and, at every step, a *hint*: the true y_t, also replaced
by a random symbol with probability ``hint_noise``.  Given the true y_{t-1}, the noisy increment
alone predicts y_t best; a model that feeds back its own, possibly wrong, y_{t-1} can only get
back on track by trusting the hint when it disagrees.  ``bayes_filter`` computes the best any
causal predictor can do (exact filtering over the S possible sums).

The model (``OutputRecurrent``) is the output-to-hidden pattern of Goodfellow et al. (10.2):
the only thing passed from one step to the next is the previous symbol,
h_t = tanh(b + W' onehot(prev) + U [onehot(increment); onehot(hint)]), o_t = c + V h_t.

``unroll`` runs it over a sequence with the previous symbol taken from the truth with
probability ``teacher_prob`` and from the model's own prediction otherwise: 1 is teacher
forcing, 0 is free running, and a probability that decays during training is scheduled
sampling (Bengio et al., 2015).
"""
from __future__ import annotations

import math

import numpy as np
import torch

MODES = ("teacher", "scheduled", "free")


def resync_task(batch: int, steps: int, generator: torch.Generator, symbols: int = 5,
                increment_noise: float = 0.1, hint_noise: float = 0.3):
    """Draw sequences of the task.

    returns (increments, hints, y), each (batch, steps) int64: the increments and hints as the
    model sees them (after the noise), and the true running sums y.
    """
    for name, p in [("increment_noise", increment_noise), ("hint_noise", hint_noise)]:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{name} must be a probability in [0, 1], got {p}")
    if batch < 1 or steps < 1 or symbols < 2:
        raise ValueError(f"need batch >= 1, steps >= 1, symbols >= 2; got {batch}, {steps}, {symbols}")

    def noisy(clean, p):
        replace = torch.rand(clean.shape, generator=generator) < p
        return torch.where(replace, torch.randint(0, symbols, clean.shape, generator=generator), clean)

    x = torch.randint(0, symbols, (batch, steps), generator=generator)
    y = torch.cumsum(x, dim=1) % symbols
    return noisy(x, increment_noise), noisy(y, hint_noise), y


class OutputRecurrent(torch.nn.Module):
    """Output-to-hidden recurrence: forward(prev, increment, hint) -> logits (..., symbols)."""

    def __init__(self, symbols: int = 5, hidden: int = 32):
        super().__init__()
        self.symbols = symbols
        self.inp = torch.nn.Linear(3 * symbols, hidden)
        self.out = torch.nn.Linear(hidden, symbols)

    def forward(self, prev: torch.Tensor, increment: torch.Tensor, hint: torch.Tensor) -> torch.Tensor:
        one_hot = torch.nn.functional.one_hot
        features = torch.cat([one_hot(prev, self.symbols), one_hot(increment, self.symbols),
                              one_hot(hint, self.symbols)], dim=-1).to(self.inp.weight.dtype)
        return self.out(torch.tanh(self.inp(features)))


def unroll(model: OutputRecurrent, increments: torch.Tensor, hints: torch.Tensor, y: torch.Tensor | None = None,
           teacher_prob: float = 0.0, generator: torch.Generator | None = None,
           sample: bool = False) -> torch.Tensor:
    """Logits (batch, steps, symbols) of the model run over a sequence.

    At each step the previous symbol is the true y_{t-1} with probability ``teacher_prob``
    (needs ``y``), otherwise the model's own previous choice: its argmax, or a draw from its
    softmax when ``sample`` is True.  The choice is a discrete symbol, so no gradient flows
    through it.  With ``teacher_prob == 1`` every step is independent and runs at once.
    """
    batch, steps = increments.shape
    if teacher_prob > 0 and y is None:
        raise ValueError("teacher_prob > 0 needs the true targets y")
    start = torch.zeros(batch, 1, dtype=torch.long)
    if teacher_prob >= 1.0:                                   # teacher forcing: all steps in parallel
        return model(torch.cat([start, y[:, :-1]], dim=1), increments, hints)
    prev, logits = start[:, 0], []
    for t in range(steps):
        o = model(prev, increments[:, t], hints[:, t])
        logits.append(o)
        with torch.no_grad():
            own = (torch.multinomial(torch.softmax(o, -1), 1, generator=generator)[:, 0] if sample
                   else o.argmax(-1))
            if teacher_prob > 0:
                use_truth = torch.rand(batch, generator=generator) < teacher_prob
                own = torch.where(use_truth, y[:, t], own)
        prev = own
    return torch.stack(logits, dim=1)


def inverse_sigmoid(step: int, k: float) -> float:
    """Bengio et al.'s decay of the teacher probability: k / (k + exp(step / k))."""
    return k / (k + math.exp(step / k))


def train(mode: str, updates: int = 600, batch: int = 64, steps: int = 40, hidden: int = 32,
          lr: float = 0.01, seed: int = 0, decay_k: float | None = None, **task) -> OutputRecurrent:
    """Train an ``OutputRecurrent`` with the same data, updates and optimizer in every mode.

    mode: "teacher" (true previous symbol), "free" (own argmax), or "scheduled" (truth with
    probability ``inverse_sigmoid(update, decay_k)``, else a draw from the model's softmax).
    ``decay_k`` defaults to updates / 10, which brings the probability to about 0.5 a third of
    the way through and near 0 at the end.  ``task`` goes to ``resync_task``.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    torch.manual_seed(seed)
    model = OutputRecurrent(task.get("symbols", 5), hidden).double()
    data = torch.Generator().manual_seed(seed)
    feed = torch.Generator().manual_seed(seed + 10_000)
    decay_k = updates / 10 if decay_k is None else decay_k
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for i in range(updates):
        increments, hints, y = resync_task(batch, steps, data, **task)
        if mode == "teacher":
            logits = unroll(model, increments, hints, y, teacher_prob=1.0)
        elif mode == "free":
            logits = unroll(model, increments, hints)
        else:
            logits = unroll(model, increments, hints, y, teacher_prob=inverse_sigmoid(i, decay_k),
                            generator=feed, sample=True)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


@torch.no_grad()
def accuracy_per_step(model: OutputRecurrent, increments, hints, y, teacher: bool) -> np.ndarray:
    """Accuracy at every step (steps,): with the true previous symbol, or free running (own argmax)."""
    logits = unroll(model, increments, hints, y, teacher_prob=1.0 if teacher else 0.0)
    return (logits.argmax(-1) == y).double().mean(0).numpy()


def bayes_filter(increments, hints, y, symbols: int = 5, increment_noise: float = 0.1,
                 hint_noise: float = 0.3) -> np.ndarray:
    """Accuracy at every step (steps,) of the best causal predictor: the argmax of the exact
    posterior of y_t given all increments and hints seen up to step t."""
    inc, hin, truth = (np.asarray(a) for a in (increments, hints, y))
    batch, steps = inc.shape
    belief = np.zeros((batch, symbols))
    belief[:, 0] = 1.0                                        # y_0 = 0
    states = np.arange(symbols)
    hits = np.zeros((batch, steps))
    for t in range(steps):
        # P(true increment = d | seen) = (1 - p) [d == seen] + p / S
        p_inc = np.full((batch, symbols), increment_noise / symbols)
        p_inc[np.arange(batch), inc[:, t]] += 1 - increment_noise
        # predicted P(y_t = s) = sum_d P(y_{t-1} = s - d) P(increment = d)
        prior = np.zeros_like(belief)
        for d in range(symbols):
            prior += np.roll(belief, d, axis=1) * p_inc[:, d:d + 1]
        like = np.full((batch, symbols), hint_noise / symbols)
        like[np.arange(batch), hin[:, t]] += 1 - hint_noise
        belief = prior * like
        belief /= belief.sum(axis=1, keepdims=True)
        hits[:, t] = states[belief.argmax(axis=1)] == truth[:, t]
    return hits.mean(axis=0)
