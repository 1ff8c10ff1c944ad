"""Clockwork RNN (Koutník, Greff, Gomez & Schmidhuber, 2014).

The hidden state is split into ``g`` modules of ``module_size`` units; module ``i``
has period ``T_i = 2**i`` (1, 2, 4, ...).  At step ``t`` (counted from 0) module
``i`` is *active* when ``t % T_i == 0``: it updates

    h_i <- tanh(W_hh[i] h + W_ih[i] x_t + b[i])

and otherwise keeps its value.  ``W_hh`` is block upper-triangular: module ``i``
reads only modules ``j >= i`` (itself and the slower ones), so slow modules
are not disturbed by fast ones and carry information over long spans with few
updates, hence few Jacobian factors.

Because the periods are powers of two, the modules active at step ``t`` are
always a prefix ``0 .. k`` of the module list; the forward pass computes only
those rows, which is where the method's saving in computation comes from.
"""
from __future__ import annotations

import math

import torch
from torch import nn


def module_periods(num_modules: int) -> list[int]:
    """Periods ``[1, 2, 4, ..., 2**(num_modules - 1)]``."""
    if isinstance(num_modules, bool) or not isinstance(num_modules, int) or num_modules < 1:
        raise ValueError(f"num_modules must be a positive int, got {num_modules!r}")
    return [2 ** i for i in range(num_modules)]


def block_mask(num_modules: int, module_size: int) -> torch.Tensor:
    """Boolean ``(H, H)`` mask of allowed recurrent weights, ``H = num_modules * module_size``.

    Entry ``[r, c]`` (row: receiving unit, column: sending unit, the ``torch.nn``
    layout ``h_new = W_hh @ h``) is True when the sender's module is at least as slow
    as the receiver's: a block upper-triangular matrix.
    """
    module_periods(num_modules)
    if isinstance(module_size, bool) or not isinstance(module_size, int) or module_size < 1:
        raise ValueError(f"module_size must be a positive int, got {module_size!r}")
    blocks = torch.triu(torch.ones(num_modules, num_modules, dtype=torch.bool))
    return blocks.repeat_interleave(module_size, 0).repeat_interleave(module_size, 1)


def active_modules(t: int, num_modules: int) -> int:
    """How many modules update at step ``t`` (a prefix of the list, since periods are 2**i)."""
    if t < 0:
        raise ValueError(f"t must be non-negative, got {t}")
    if t == 0:
        return num_modules
    trailing_zeros = (t & -t).bit_length() - 1  # largest i with 2**i dividing t
    return min(num_modules, trailing_zeros + 1)


class ClockworkRNN(nn.Module):
    """A single-layer Clockwork RNN with tanh units, batch-first.

    Parameters follow ``torch.nn.RNN``'s layout: ``weight_ih (H, input_size)``,
    ``weight_hh (H, H)`` (only its block upper-triangular part is used), ``bias (H,)``.
    ``forward(x: (batch, time, input_size), h0: (batch, H) | None)`` returns
    ``(outputs: (batch, time, H), h_last: (batch, H))``.
    """

    def __init__(self, input_size: int, module_size: int, num_modules: int):
        super().__init__()
        self.input_size, self.module_size, self.num_modules = input_size, module_size, num_modules
        self.periods = module_periods(num_modules)
        self.hidden_size = hidden = module_size * num_modules
        self.register_buffer("mask", block_mask(num_modules, module_size))
        bound = 1.0 / math.sqrt(hidden)
        self.weight_ih = nn.Parameter(torch.empty(hidden, input_size).uniform_(-bound, bound))
        self.weight_hh = nn.Parameter(torch.empty(hidden, hidden).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.zeros(hidden))

    def recurrent_matrix(self) -> torch.Tensor:
        """The effective ``(H, H)`` recurrent matrix (masked weights)."""
        return self.weight_hh * self.mask

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None):
        if x.ndim != 3 or x.shape[2] != self.input_size:
            raise ValueError(f"x must have shape (batch, time, {self.input_size}), got {tuple(x.shape)}")
        batch, steps, _ = x.shape
        h = x.new_zeros(batch, self.hidden_size) if h0 is None else h0
        if h.shape != (batch, self.hidden_size):
            raise ValueError(f"h0 must have shape ({batch}, {self.hidden_size}), got {tuple(h.shape)}")
        w_hh = self.recurrent_matrix()
        x_proj = x @ self.weight_ih.T + self.bias  # (batch, time, H), all steps at once
        outputs = []
        for t in range(steps):
            rows = active_modules(t, self.num_modules) * self.module_size
            fresh = torch.tanh(x_proj[:, t, :rows] + h @ w_hh[:rows].T)
            h = torch.cat([fresh, h[:, rows:]], dim=1)
            outputs.append(h)
        return torch.stack(outputs, dim=1), h


class ClockworkRegressor(nn.Module):
    """Clockwork RNN plus a linear read-out at every step: ``(batch, time, in) -> (batch, time, out)``."""

    def __init__(self, input_size: int, module_size: int, num_modules: int, output_size: int = 1):
        super().__init__()
        self.rnn = ClockworkRNN(input_size, module_size, num_modules)
        self.head = nn.Linear(self.rnn.hidden_size, output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.rnn(x)[0])


class SimpleRegressor(nn.Module):
    """A tanh ``nn.RNN`` plus a linear read-out at every step, for comparison."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int = 1):
        super().__init__()
        self.rnn = nn.RNN(input_size, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.rnn(x)[0])


def count_parameters(model: nn.Module, clockwork_mask: bool = True) -> int:
    """Number of trainable numbers; masked-out recurrent weights of a Clockwork RNN are not counted."""
    total = 0
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            if clockwork_mask and isinstance(module, ClockworkRNN) and name == "weight_hh":
                total += int(module.mask.sum())
            else:
                total += p.numel()
    return total


def slow_target(length: int, periods=(64, 24), dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A fixed waveform with slow structure, shape ``(length,)``: a sum of sines of the
    given periods (in steps), scaled into [-0.8, 0.8]."""
    t = torch.arange(length, dtype=torch.float64)
    wave = sum(torch.sin(2 * math.pi * t / p) for p in periods)
    wave = 0.8 * wave / wave.abs().max()
    return wave.to(dtype)


def train_generator(model: nn.Module, target: torch.Tensor, steps: int, lr: float = 3e-3) -> list[float]:
    """Train ``model`` to emit ``target: (time,)`` from a single input pulse at step 0.

    The Clockwork paper's first task: the input is 1 at step 0 and 0 afterwards, so the
    whole waveform must come from the network's own dynamics.  Returns the MSE per step.
    """
    x = torch.zeros(1, len(target), 1)
    x[0, 0, 0] = 1.0
    y = target.view(1, -1, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = ((model(x) - y) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
    return losses
