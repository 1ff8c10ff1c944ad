"""A GRU in NumPy with ``torch.nn.GRU``'s equations, weight layout and gate order.

One layer keeps four arrays, the three blocks stacked in the order r, z, n:

    W_ih: (3H, input_size)   rows [0:H] reset gate r, [H:2H] update gate z, [2H:3H] candidate n
    W_hh: (3H, H)
    b_ih: (3H,)   b_hh: (3H,)

and for every time step

    r = sigma(W_ir x + b_ir + W_hr h + b_hr)
    z = sigma(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn))     <- r multiplies the *whole* hidden term,
                                                          bias b_hn included
    h' = (1 - z) * n + z * h

Because r sits between W_hn h + b_hn and the sum, b_in and b_hn are *not*
interchangeable (unlike the LSTM's two biases), so both are kept.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .lstm_numpy import GatedLayer, sigmoid
from .rnn_numpy import _check, check_stacked_input


@dataclass
class GRULayer(GatedLayer):
    """Weights of one GRU layer: three gate blocks r, z, n (shapes in the module docstring)."""

    GATES: ClassVar[int] = 3


def init_gru_layer(input_size: int, hidden_size: int, rng: np.random.Generator) -> GRULayer:
    """PyTorch's default initialization: every entry uniform in [-1/sqrt(H), 1/sqrt(H)]."""
    k = 1.0 / np.sqrt(hidden_size)
    u = lambda *shape: rng.uniform(-k, k, shape)
    return GRULayer(u(3 * hidden_size, input_size), u(3 * hidden_size, hidden_size),
                    u(3 * hidden_size), u(3 * hidden_size))


def gru_cell_forward(x: np.ndarray, h_prev: np.ndarray, layer: GRULayer) -> np.ndarray:
    """One step for a batch, like ``torch.nn.GRUCell``.

    x: (batch, input_size), h_prev: (batch, H) -> h: (batch, H).
    """
    layer.validate()
    H = layer.hidden_size
    _check("x", x, (None, layer.input_size))
    _check("h_prev", h_prev, (x.shape[0], H))
    gx = x @ layer.W_ih.T + layer.b_ih        # (batch, 3H): input parts of r, z, n
    gh = h_prev @ layer.W_hh.T + layer.b_hh   # (batch, 3H): hidden parts of r, z, n
    r = sigmoid(gx[:, :H] + gh[:, :H])
    z = sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
    n = np.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
    return (1.0 - z) * n + z * h_prev


def gru_forward(x: np.ndarray, layers: list[GRULayer], h0: np.ndarray | None = None):
    """Run a stacked GRU over a batch, like ``torch.nn.GRU(batch_first=True)``.

    x: (batch, time, input_size); h0: (num_layers, batch, H), zeros when None.
    Returns output (batch, time, H) and h_n (num_layers, batch, H).
    """
    batch, steps = check_stacked_input(x, layers, "GRULayer")
    H, L = layers[0].hidden_size, len(layers)
    h0 = np.zeros((L, batch, H), dtype=x.dtype) if h0 is None else h0
    _check("h0", h0, (L, batch, H))
    inputs, h_n = x, []
    for k, layer in enumerate(layers):
        h, outputs = h0[k], []
        for t in range(steps):
            h = gru_cell_forward(inputs[:, t], h, layer)
            outputs.append(h)
        inputs = np.stack(outputs, axis=1)
        h_n.append(h)
    return inputs, np.stack(h_n)


def gru_layers_from_torch(module) -> list[GRULayer]:
    """Read a ``torch.nn.GRU`` (every layer) or ``torch.nn.GRUCell`` into float64 NumPy layers."""
    import torch

    return GRULayer.from_torch(module, torch.nn.GRU, torch.nn.GRUCell)
