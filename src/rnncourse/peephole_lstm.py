"""The LSTM with peephole connections (Gers & Schmidhuber 2000), in NumPy and in PyTorch.

In the plain LSTM (``rnncourse.lstm_numpy``) the gates see only x_t and h_{t-1}; when the output
gate is closed, h_{t-1} says nothing about the cell, so no gate can know what the memory holds.
Peepholes let the gates read the cell state directly, through one weight per unit (a diagonal
matrix, stored as a vector):

    [a_i, a_f, a_g, a_o] = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh     (PyTorch's layout, order i f g o)
    i = sigma(a_i + p_i * c_{t-1})       f = sigma(a_f + p_f * c_{t-1})       g = tanh(a_g)
    c_t = f * c_{t-1} + i * g
    o = sigma(a_o + p_o * c_t)           (the output gate reads the *new* cell)
    h_t = o * tanh(c_t)

``peep`` is a (3, H) array with rows p_i, p_f, p_o.  With ``peep = 0`` this is exactly
``torch.nn.LSTM``.  ``peephole_cell_backward`` propagates gradients through one step by hand;
``PeepholeLSTM`` is the same layer as a ``torch.nn.Module`` (a Python loop over time) for training.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .lstm_numpy import LSTMLayer, init_lstm_layer, sigmoid, stacked_forward
from .rnn_numpy import _check


@dataclass
class PeepholeLayer(LSTMLayer):
    """An ``LSTMLayer`` (i, f, g, o blocks) plus ``peep``: (3, H), the peephole weights p_i, p_f, p_o."""

    peep: np.ndarray = None

    def validate(self) -> None:
        super().validate()
        _check("peep", self.peep, (3, self.hidden_size))


def init_peephole_layer(input_size: int, hidden_size: int, rng: np.random.Generator) -> PeepholeLayer:
    """PyTorch's LSTM initialisation (uniform in [-1/sqrt(H), 1/sqrt(H)]) for every weight, peepholes included."""
    base = init_lstm_layer(input_size, hidden_size, rng)
    k = 1.0 / np.sqrt(hidden_size)
    return PeepholeLayer(base.W_ih, base.W_hh, base.b_ih, base.b_hh, rng.uniform(-k, k, (3, hidden_size)))


def peephole_cell_forward(x: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray, layer: PeepholeLayer):
    """One step for a batch.  x: (batch, input_size); h_prev, c_prev: (batch, H).

    Returns h: (batch, H), c: (batch, H) and a cache for ``peephole_cell_backward``.
    """
    if not isinstance(layer, PeepholeLayer):
        raise TypeError(f"layer must be a PeepholeLayer, got {type(layer).__name__}")
    layer.validate()
    H = layer.hidden_size
    _check("x", x, (None, layer.input_size))
    _check("h_prev", h_prev, (x.shape[0], H))
    _check("c_prev", c_prev, (x.shape[0], H))
    p_i, p_f, p_o = layer.peep
    a = x @ layer.W_ih.T + layer.b_ih + h_prev @ layer.W_hh.T + layer.b_hh  # (batch, 4H)
    i = sigmoid(a[:, :H] + p_i * c_prev)
    f = sigmoid(a[:, H:2 * H] + p_f * c_prev)
    g = np.tanh(a[:, 2 * H:3 * H])
    c = f * c_prev + i * g
    o = sigmoid(a[:, 3 * H:] + p_o * c)
    tanh_c = np.tanh(c)
    h = o * tanh_c
    return h, c, (x, h_prev, c_prev, i, f, g, o, c, tanh_c, layer)


def peephole_cell_backward(dh: np.ndarray, dc: np.ndarray, cache) -> dict:
    """Backpropagate through one ``peephole_cell_forward`` step.

    dh, dc: (batch, H) -- dL/dh_t and the part of dL/dc_t that arrives from later steps.
    Returns dx, dh_prev, dc_prev, dW_ih, dW_hh, db_ih, db_hh and dpeep (3, H).

        dz_o = dh * tanh(c) * o(1-o)
        dc_total = dc + dh * o * (1 - tanh(c)^2) + dz_o * p_o        <- the output gate reads c_t
        dz_i = dc_total * g * i(1-i)   dz_f = dc_total * c_prev * f(1-f)   da_g = dc_total * i * (1-g^2)
        dc_prev = dc_total * f + dz_i * p_i + dz_f * p_f             <- cell path plus two peepholes
    """
    x, h_prev, c_prev, i, f, g, o, c, tanh_c, layer = cache
    _check("dh", dh, h_prev.shape)
    _check("dc", dc, c_prev.shape)
    p_i, p_f, p_o = layer.peep
    dz_o = dh * tanh_c * o * (1.0 - o)
    dc_total = dc + dh * o * (1.0 - tanh_c ** 2) + dz_o * p_o
    dz_i = dc_total * g * i * (1.0 - i)
    dz_f = dc_total * c_prev * f * (1.0 - f)
    da = np.concatenate([dz_i, dz_f, dc_total * i * (1.0 - g ** 2), dz_o], axis=1)  # (batch, 4H)
    db = da.sum(axis=0)
    return {
        "dx": da @ layer.W_ih,
        "dh_prev": da @ layer.W_hh,
        "dc_prev": dc_total * f + dz_i * p_i + dz_f * p_f,
        "dW_ih": da.T @ x,
        "dW_hh": da.T @ h_prev,
        "db_ih": db,
        "db_hh": db.copy(),
        "dpeep": np.stack([(dz_i * c_prev).sum(0), (dz_f * c_prev).sum(0), (dz_o * c).sum(0)]),
    }


def peephole_forward(x: np.ndarray, layers: list[PeepholeLayer], h0: np.ndarray | None = None,
                     c0: np.ndarray | None = None):
    """A stacked peephole LSTM over a batch.  x: (batch, time, input_size); h0, c0: (layers, batch, H).

    Returns output (batch, time, H) and (h_n, c_n), each (layers, batch, H), like ``lstm_forward``.
    """
    return stacked_forward(x, layers, peephole_cell_forward, "PeepholeLayer", h0, c0)


class PeepholeLSTM(nn.Module):
    """One batch-first LSTM layer with ``torch.nn.LSTM``'s parameters and, if ``peepholes``, ``peep`` (3, H).

    forward(x: (batch, time, input_size), state=None) -> (output (batch, time, H), (h_n, c_n) each (1, batch, H)).
    With ``peepholes=False`` it computes what ``torch.nn.LSTM`` computes (in a Python loop), so that
    a comparison of the two variants differs in the peepholes only.
    """

    def __init__(self, input_size: int, hidden_size: int, peepholes: bool = True):
        super().__init__()
        k = 1.0 / hidden_size ** 0.5
        uniform = lambda *shape: nn.Parameter(torch.empty(*shape).uniform_(-k, k))
        self.hidden_size = hidden_size
        self.weight_ih_l0 = uniform(4 * hidden_size, input_size)
        self.weight_hh_l0 = uniform(4 * hidden_size, hidden_size)
        self.bias_ih_l0 = uniform(4 * hidden_size)
        self.bias_hh_l0 = uniform(4 * hidden_size)
        self.peep = uniform(3, hidden_size) if peepholes else None

    def forward(self, x: torch.Tensor, state=None):
        if x.dim() != 3:
            raise ValueError(f"x must be (batch, time, input_size), got shape {tuple(x.shape)}")
        H = self.hidden_size
        zeros = x.new_zeros(x.shape[0], H)
        h, c = (zeros, zeros) if state is None else (state[0][0], state[1][0])
        gates_x = x @ self.weight_ih_l0.T + self.bias_ih_l0 + self.bias_hh_l0  # (batch, time, 4H), all steps at once
        outputs = []
        for t in range(x.shape[1]):
            a = gates_x[:, t] + h @ self.weight_hh_l0.T
            a_i, a_f, a_g, a_o = a.split(H, dim=1)
            if self.peep is not None:
                a_i, a_f = a_i + self.peep[0] * c, a_f + self.peep[1] * c
            c = torch.sigmoid(a_f) * c + torch.sigmoid(a_i) * torch.tanh(a_g)
            if self.peep is not None:
                a_o = a_o + self.peep[2] * c
            h = torch.sigmoid(a_o) * torch.tanh(c)
            outputs.append(h)
        return torch.stack(outputs, dim=1), (h.unsqueeze(0), c.unsqueeze(0))

    def to_numpy(self) -> PeepholeLayer:
        """Float64 NumPy copy of the weights (zero peepholes when the layer has none)."""
        get = lambda p: p.detach().cpu().double().numpy().copy()
        peep = get(self.peep) if self.peep is not None else np.zeros((3, self.hidden_size))
        return PeepholeLayer(get(self.weight_ih_l0), get(self.weight_hh_l0), get(self.bias_ih_l0),
                             get(self.bias_hh_l0), peep)
