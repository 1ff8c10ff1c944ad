"""Measuring what ReLU and tanh do inside a recurrent net.

Three measurements, each a small function:

* :func:`state_norms` / :func:`growth_factor`: how the hidden-state norm
  ``||h_t||`` grows or shrinks with ``t``.  For ``W_hh`` with N(0, scale**2 / H)
  entries and no input, a ReLU net multiplies the norm by about ``scale / sqrt(2)``
  per step (ReLU zeroes half the coordinates, keeping half the energy), without
  bound; tanh cannot exceed ``sqrt(H)``.
* :func:`dead_unit_fraction`: units that output 0 for every example and step.
* :func:`divergence_run`: a short SGD run on the adding problem that reports
  whether and when the loss blew up.

Weights follow ``torch.nn.RNN``: ``weight_hh (H, H)``, ``weight_ih (H, input)``.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from rnncourse.adding_problem import adding_batch, adding_dataset
from rnncourse.irnn import LastStepRegressor, identity_init_


def random_rnn(input_size: int, hidden_size: int, nonlinearity: str, scale: float,
               generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32) -> nn.RNN:
    """A batch-first ``nn.RNN`` with ``weight_hh ~ N(0, scale**2 / hidden_size)`` and zero biases.

    ``scale`` is the spectral radius the matrix has for large ``hidden_size`` (circular law).
    Input weights are drawn from N(0, 1 / input_size).
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    rnn = nn.RNN(input_size, hidden_size, nonlinearity=nonlinearity, batch_first=True, dtype=dtype)
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(torch.randn(hidden_size, hidden_size, generator=generator, dtype=dtype)
                               * (scale / math.sqrt(hidden_size)))
        rnn.weight_ih_l0.copy_(torch.randn(hidden_size, input_size, generator=generator, dtype=dtype)
                               / math.sqrt(input_size))
        rnn.bias_ih_l0.zero_()
        rnn.bias_hh_l0.zero_()
    return rnn


@torch.no_grad()
def hidden_states(rnn: nn.RNN, x: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
    """All hidden states of a single-layer batch-first ``rnn``: ``x (B, T, I) -> (B, T, H)``."""
    if not isinstance(rnn, nn.RNN) or rnn.num_layers != 1 or not rnn.batch_first:
        raise TypeError("expected a single-layer torch.nn.RNN with batch_first=True")
    if x.ndim != 3 or x.shape[2] != rnn.input_size:
        raise ValueError(f"x must have shape (batch, time, {rnn.input_size}), got {tuple(x.shape)}")
    out, _ = rnn(x, None if h0 is None else h0.unsqueeze(0))
    return out


@torch.no_grad()
def free_run(weight_hh: torch.Tensor, h0: torch.Tensor, steps: int, activation) -> torch.Tensor:
    """Iterate ``h_t = activation(h_{t-1} @ weight_hh.T)`` with no input and no bias, for any activation.

    ``weight_hh: (H, H)``, ``h0: (B, H)``, ``activation``: a function of a tensor (e.g.
    ``torch.tanh`` or ``lambda a: torch.nn.functional.leaky_relu(a, 0.1)``).  Returns the
    states ``(B, steps, H)``, ``h_1`` first, the layout of :func:`hidden_states`.
    """
    if weight_hh.ndim != 2 or weight_hh.shape[0] != weight_hh.shape[1]:
        raise ValueError(f"weight_hh must be a square (H, H) matrix, got shape {tuple(weight_hh.shape)}")
    if h0.ndim != 2 or h0.shape[1] != weight_hh.shape[0]:
        raise ValueError(f"h0 must have shape (batch, {weight_hh.shape[0]}), got {tuple(h0.shape)}")
    if not callable(activation):
        raise TypeError(f"activation must be a function of a tensor, got {type(activation).__name__}")
    if steps < 1:
        raise ValueError(f"steps must be positive, got {steps}")
    states, h = [], h0
    for _ in range(steps):
        h = activation(h @ weight_hh.T)
        states.append(h)
    return torch.stack(states, dim=1)


def state_norms(states: torch.Tensor) -> torch.Tensor:
    """Euclidean norm of every hidden state: ``(B, T, H) -> (B, T)``."""
    if not isinstance(states, torch.Tensor) or states.ndim != 3:
        raise ValueError(f"states must be a (batch, time, hidden) tensor, got {getattr(states, 'shape', type(states))}")
    return states.norm(dim=2)


def growth_factor(norms: torch.Tensor, start: int = 0) -> float:
    """Average factor by which a norm curve ``(T,)`` changes per step from ``start`` to the end.

    The geometric mean ``(norms[-1] / norms[start]) ** (1 / (T - 1 - start))``: above 1
    the state grows exponentially, below 1 it decays.  Returns ``inf`` when the curve
    overflowed and 0 when it reached exactly 0.
    """
    norms = torch.as_tensor(norms, dtype=torch.float64)
    if norms.ndim != 1 or not 0 <= start < len(norms) - 1:
        raise ValueError(f"norms must be 1-D with more than start + 1 = {start + 1} entries, "
                         f"got shape {tuple(norms.shape)}")
    first, last = float(norms[start]), float(norms[-1])
    if first <= 0:
        raise ValueError(f"norms[{start}] must be positive, got {first}")
    if not math.isfinite(last):
        return math.inf
    if last == 0.0:
        return 0.0
    return math.exp((math.log(last) - math.log(first)) / (len(norms) - 1 - start))


def dead_units(states: torch.Tensor, tol: float = 0.0) -> torch.Tensor:
    """Boolean mask (H,) of the units with ``|h| <= tol`` at every step of every sequence of ``states: (B, T, H)``."""
    if not isinstance(states, torch.Tensor) or states.ndim != 3:
        raise ValueError("states must be a (batch, time, hidden) tensor")
    return (states.abs() <= tol).all(dim=1).all(dim=0)


def dead_unit_fraction(states: torch.Tensor, tol: float = 0.0) -> float:
    """Fraction of hidden units whose output is 0 (``|h| <= tol``) for every example and step.

    ``states``: ``(batch, time, hidden)``.  For ReLU units this is the share that passed
    no signal (and, since ReLU'(a) = 0 for a < 0, no gradient) on this data.  A tanh
    unit is practically never dead in this sense; its failure mode is saturation.
    """
    if not isinstance(states, torch.Tensor) or states.ndim != 3:
        raise ValueError(f"states must be a (batch, time, hidden) tensor, got {getattr(states, 'shape', type(states))}")
    dead = (states.abs() <= tol).flatten(0, 1).all(dim=0)
    return float(dead.double().mean())


def inactive_fraction(states: torch.Tensor, tol: float = 0.0) -> torch.Tensor:
    """Share of units with ``|h| <= tol`` at each step, averaged over the batch: ``(B, T, H) -> (T,)``."""
    if not isinstance(states, torch.Tensor) or states.ndim != 3:
        raise ValueError("states must be a (batch, time, hidden) tensor")
    return (states.abs() <= tol).double().mean(dim=(0, 2))


def divergence_run(nonlinearity: str, init: str, scale: float, lr: float, steps: int = 300,
                   length: int = 50, hidden_size: int = 64, batch_size: int = 16, seed: int = 0,
                   blowup: float = 1e6, input_std: float | None = None) -> dict:
    """Train a one-layer RNN on the adding problem with plain SGD (no clipping).

    ``init``: ``"gaussian"`` (``W_hh ~ N(0, scale**2 / H)``) or ``"identity"``
    (``W_hh = scale * I``).  Input weights are N(0, 1/2) (``random_rnn``, two input channels)
    unless ``input_std`` is given (the IRNN paper uses 1e-3).  Stops at the first step whose
    loss is not finite or above
    ``blowup``.  Returns a dict with ``losses`` (per step, up to the stop),
    ``diverged_at`` (step number or None), ``final_loss`` (mean of the last 50 steps
    when it did not diverge), ``max_state_norm`` and ``dead_fraction`` of the
    hidden states on a fixed batch of 256 test sequences after training,
    ``dead_fraction_init`` of the same net on the same batch before training, and the
    number of units that were dead before and are alive after (``revived``) or the reverse
    (``newly_dead``).  Per step, with the weights that produced that step's loss, it also logs
    ``readout_norms`` (Frobenius norm of the read-out weights ``W_out``, shape ``(1, H)``),
    ``spectral_radii`` (largest ``|eigenvalue|`` of ``W_hh``) and ``state_norms`` (the largest
    ``||h_t||`` over the batch and the steps), so that one can see which of them blew up.
    """
    if init not in ("gaussian", "identity"):
        raise ValueError(f"init must be 'gaussian' or 'identity', got {init!r}")
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    rnn = random_rnn(2, hidden_size, nonlinearity, scale, gen)
    if init == "identity":
        identity_init_(rnn, scale)
    if input_std is not None:
        if not input_std >= 0:
            raise ValueError(f"input_std must be non-negative, got {input_std}")
        with torch.no_grad():
            rnn.weight_ih_l0.copy_(input_std * torch.randn(rnn.weight_ih_l0.shape, generator=gen))
    model = LastStepRegressor(rnn, hidden_size)
    x_test, _ = adding_dataset(256, length, seed=10_000 + seed)
    dead_before = dead_units(hidden_states(rnn, x_test))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses, diverged_at = [], None
    readout_norms, spectral_radii, batch_state_norms = [], [], []
    for step in range(1, steps + 1):
        x, y = adding_batch(batch_size, length, gen)
        outputs, _ = rnn(x)
        loss = ((model.head(outputs[:, -1]).squeeze(-1) - y) ** 2).mean()
        value = loss.item()
        losses.append(value)
        with torch.no_grad():
            readout_norms.append(float(model.head.weight.norm()))
            w_hh = rnn.weight_hh_l0.double()
            finite = bool(torch.isfinite(w_hh).all())
            spectral_radii.append(float(torch.linalg.eigvals(w_hh).abs().max()) if finite else math.inf)
            batch_state_norms.append(float(outputs.detach().double().norm(dim=2).max()))
        if not math.isfinite(value) or value > blowup:
            diverged_at = step
            break
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    states = hidden_states(rnn, x_test)
    dead_after = dead_units(states)
    norms = state_norms(states)
    finite = norms[torch.isfinite(norms)]
    return {"losses": losses, "diverged_at": diverged_at,
            "final_loss": None if diverged_at else sum(losses[-50:]) / len(losses[-50:]),
            "max_state_norm": float(finite.max()) if finite.numel() else math.inf,
            "dead_fraction": dead_unit_fraction(states),
            "dead_fraction_init": float(dead_before.double().mean()),
            "revived": int((dead_before & ~dead_after).sum()), "newly_dead": int((dead_after & ~dead_before).sum()),
            "readout_norms": readout_norms, "spectral_radii": spectral_radii, "state_norms": batch_state_norms}
