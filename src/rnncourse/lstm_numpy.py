"""An LSTM in NumPy with ``torch.nn.LSTM``'s equations, weight layout and gate order.

One layer keeps four arrays, the four gates stacked in the order i, f, g, o:

    W_ih: (4H, input_size)   rows [0:H] input gate, [H:2H] forget, [2H:3H] candidate g, [3H:4H] output
    W_hh: (4H, H)
    b_ih: (4H,)   b_hh: (4H,)

and for every time step (sigma = logistic sigmoid, * = elementwise)

    [a_i, a_f, a_g, a_o] = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh
    i = sigma(a_i)   f = sigma(a_f)   g = tanh(a_g)   o = sigma(a_o)
    c_t = f * c_{t-1} + i * g          (the additive cell-state path)
    h_t = o * tanh(c_t)

``lstm_cell_backward`` propagates gradients through one step by hand.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .rnn_numpy import _check, check_stacked_input


@dataclass
class GatedLayer:
    """Weights of one gated recurrent layer in PyTorch's layout: ``GATES`` blocks of H rows stacked.

    W_ih: (GATES*H, input_size), W_hh: (GATES*H, H), b_ih and b_hh: (GATES*H,).
    """

    W_ih: np.ndarray
    W_hh: np.ndarray
    b_ih: np.ndarray
    b_hh: np.ndarray
    GATES: ClassVar[int] = 0

    @property
    def hidden_size(self) -> int:
        return self.W_hh.shape[1]

    @property
    def input_size(self) -> int:
        return self.W_ih.shape[1]

    @classmethod
    def from_torch(cls, module, sequence_type, cell_type) -> list["GatedLayer"]:
        """Float64 copies of the layers of ``module``, a ``sequence_type`` (every layer) or a ``cell_type``."""
        if isinstance(module, cell_type):
            names = [("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        elif isinstance(module, sequence_type):
            if module.bidirectional or getattr(module, "proj_size", 0):
                raise ValueError(f"bidirectional {sequence_type.__name__}s and proj_size are not supported")
            names = [(f"weight_ih_l{k}", f"weight_hh_l{k}", f"bias_ih_l{k}", f"bias_hh_l{k}")
                     for k in range(module.num_layers)]
        else:
            raise TypeError(f"expected a torch.nn.{sequence_type.__name__} or torch.nn.{cell_type.__name__}, "
                            f"got {type(module).__name__}")
        get = lambda name: getattr(module, name).detach().cpu().double().numpy().copy()
        layers = []
        for w_ih, w_hh, b_ih, b_hh in names:
            if module.bias:
                layers.append(cls(get(w_ih), get(w_hh), get(b_ih), get(b_hh)))
            else:
                rows = getattr(module, w_hh).shape[0]
                layers.append(cls(get(w_ih), get(w_hh), np.zeros(rows), np.zeros(rows)))
        return layers

    def validate(self) -> None:
        H = self.W_hh.shape[1] if isinstance(self.W_hh, np.ndarray) and self.W_hh.ndim == 2 else None
        G = self.GATES
        _check("W_hh", self.W_hh, (None if H is None else G * H, H))
        _check("W_ih", self.W_ih, (G * H, None))
        _check("b_ih", self.b_ih, (G * H,))
        _check("b_hh", self.b_hh, (G * H,))


@dataclass
class LSTMLayer(GatedLayer):
    """Weights of one LSTM layer: four gate blocks i, f, g, o (shapes in the module docstring)."""

    GATES: ClassVar[int] = 4


def sigmoid(a: np.ndarray) -> np.ndarray:
    """The logistic function, written to avoid overflow in exp for large |a|."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def init_lstm_layer(input_size: int, hidden_size: int, rng: np.random.Generator) -> LSTMLayer:
    """PyTorch's default initialization: every entry uniform in [-1/sqrt(H), 1/sqrt(H)]."""
    k = 1.0 / np.sqrt(hidden_size)
    u = lambda *shape: rng.uniform(-k, k, shape)
    return LSTMLayer(u(4 * hidden_size, input_size), u(4 * hidden_size, hidden_size),
                     u(4 * hidden_size), u(4 * hidden_size))


def lstm_cell_forward(x: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray, layer: LSTMLayer):
    """One step for a batch, like ``torch.nn.LSTMCell``.

    x: (batch, input_size), h_prev and c_prev: (batch, H).
    Returns h: (batch, H), c: (batch, H) and a cache for ``lstm_cell_backward``.
    """
    layer.validate()
    H = layer.hidden_size
    _check("x", x, (None, layer.input_size))
    _check("h_prev", h_prev, (x.shape[0], H))
    _check("c_prev", c_prev, (x.shape[0], H))
    a = x @ layer.W_ih.T + layer.b_ih + h_prev @ layer.W_hh.T + layer.b_hh  # (batch, 4H)
    i, f = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H])
    g, o = np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
    c = f * c_prev + i * g
    tanh_c = np.tanh(c)
    h = o * tanh_c
    cache = (x, h_prev, c_prev, i, f, g, o, tanh_c, layer)
    return h, c, cache


def lstm_cell_backward(dh: np.ndarray, dc: np.ndarray, cache) -> dict:
    """Backpropagate through one ``lstm_cell_forward`` step.

    dh, dc: (batch, H) -- dL/dh_t and the part of dL/dc_t that arrives from later steps.
    Returns a dict with dx (batch, input_size), dh_prev, dc_prev (batch, H) and the
    parameter gradients dW_ih, dW_hh, db_ih, db_hh (shapes of the weights).

        dc_total = dc + dh * o * (1 - tanh(c)^2)
        do = dh * tanh(c)   di = dc_total * g   dg = dc_total * i   df = dc_total * c_prev
        dc_prev = dc_total * f          <- the additive path: only the forget gate scales it
        da = [di i(1-i), df f(1-f), dg (1-g^2), do o(1-o)]
    """
    x, h_prev, c_prev, i, f, g, o, tanh_c, layer = cache
    _check("dh", dh, h_prev.shape)
    _check("dc", dc, c_prev.shape)
    dc_total = dc + dh * o * (1.0 - tanh_c ** 2)
    da = np.concatenate([dc_total * g * i * (1.0 - i),
                         dc_total * c_prev * f * (1.0 - f),
                         dc_total * i * (1.0 - g ** 2),
                         dh * tanh_c * o * (1.0 - o)], axis=1)  # (batch, 4H)
    db = da.sum(axis=0)
    return {
        "dx": da @ layer.W_ih,
        "dh_prev": da @ layer.W_hh,
        "dc_prev": dc_total * f,
        "dW_ih": da.T @ x,
        "dW_hh": da.T @ h_prev,
        "db_ih": db,
        "db_hh": db.copy(),
    }


def lstm_forward(x: np.ndarray, layers: list[LSTMLayer], h0: np.ndarray | None = None,
                 c0: np.ndarray | None = None):
    """Run a stacked LSTM over a batch, like ``torch.nn.LSTM(batch_first=True)``.

    x: (batch, time, input_size); h0, c0: (num_layers, batch, H), zeros when None.
    Returns output (batch, time, H) -- the top layer's h_t at every step -- and
    (h_n, c_n), each (num_layers, batch, H).
    """
    return stacked_forward(x, layers, lstm_cell_forward, "LSTMLayer", h0, c0)


def stacked_forward(x: np.ndarray, layers: list, cell, layer_name: str, h0: np.ndarray | None = None,
                    c0: np.ndarray | None = None):
    """Run ``cell(x_t, h, c, layer) -> (h, c, cache)`` over time and up a stack of ``layers``.

    x: (batch, time, input_size); h0, c0: (num_layers, batch, H), zeros when None. Returns the top
    layer's h_t at every step (batch, time, H) and (h_n, c_n), each (num_layers, batch, H).
    """
    batch, steps = check_stacked_input(x, layers, layer_name)
    H, L = layers[0].hidden_size, len(layers)
    h0 = np.zeros((L, batch, H), dtype=x.dtype) if h0 is None else h0
    c0 = np.zeros((L, batch, H), dtype=x.dtype) if c0 is None else c0
    _check("h0", h0, (L, batch, H))
    _check("c0", c0, (L, batch, H))
    inputs, h_n, c_n = x, [], []
    for k, layer in enumerate(layers):
        h, c, outputs = h0[k], c0[k], []
        for t in range(steps):
            h, c, _ = cell(inputs[:, t], h, c, layer)
            outputs.append(h)
        inputs = np.stack(outputs, axis=1)
        h_n.append(h)
        c_n.append(c)
    return inputs, (np.stack(h_n), np.stack(c_n))


def lstm_layers_from_torch(module) -> list[LSTMLayer]:
    """Read a ``torch.nn.LSTM`` (every layer) or ``torch.nn.LSTMCell`` into float64 NumPy layers."""
    import torch

    return LSTMLayer.from_torch(module, torch.nn.LSTM, torch.nn.LSTMCell)
