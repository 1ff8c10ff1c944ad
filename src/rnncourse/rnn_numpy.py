"""A vanilla (Elman) RNN in NumPy, batch-first, with ``torch.nn.RNN``'s weight layout.

One layer keeps three arrays:

    W_xh: (hidden_size, input_size)    input-to-hidden   (torch: weight_ih_l{k})
    W_hh: (hidden_size, hidden_size)   hidden-to-hidden  (torch: weight_hh_l{k})
    b_h:  (hidden_size,)               one bias          (torch: bias_ih_l{k} + bias_hh_l{k})

and computes, for every time step t,

    h_t = f(x_t W_xh^T + h_{t-1} W_hh^T + b_h),   f = tanh or relu.

The same three arrays are used at every time step (parameter sharing); a
stacked RNN has its own set per layer, and layer k+1 reads layer k's states.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NONLINEARITIES = {"tanh": np.tanh, "relu": lambda a: np.maximum(a, 0.0)}


@dataclass
class RNNLayer:
    """Weights of one recurrent layer (shapes in the module docstring)."""

    W_xh: np.ndarray
    W_hh: np.ndarray
    b_h: np.ndarray

    @property
    def input_size(self) -> int:
        return self.W_xh.shape[1]

    @property
    def hidden_size(self) -> int:
        return self.W_hh.shape[0]


def _check(name: str, array, shape: tuple) -> None:
    """Raise a clear error unless ``array`` is a float ndarray of ``shape`` (``None`` matches any size)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(array).__name__}")
    if array.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, array.shape)):
        wanted = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name} must have shape {wanted}, got {array.shape}")


def check_stacked_input(x, layers: list, kind: str) -> tuple[int, int]:
    """Check ``x`` (batch, time, input_size) against a stack of layers; return (batch, time).

    Every layer after the first must read the hidden size of the layer below.
    """
    if not layers:
        raise ValueError(f"layers must hold at least one {kind}")
    _check("x", x, (None, None, layers[0].input_size))
    for k in range(1, len(layers)):
        if layers[k].input_size != layers[k - 1].hidden_size:
            raise ValueError(f"layer {k} expects input_size {layers[k].input_size} but layer {k - 1} "
                             f"has hidden_size {layers[k - 1].hidden_size}")
    return x.shape[0], x.shape[1]


def init_rnn_layer(input_size: int, hidden_size: int, rng: np.random.Generator,
                   dtype=np.float64) -> RNNLayer:
    """PyTorch's default initialization: every entry uniform in [-1/sqrt(H), 1/sqrt(H)]."""
    bound = 1.0 / np.sqrt(hidden_size)
    return RNNLayer(
        W_xh=rng.uniform(-bound, bound, (hidden_size, input_size)).astype(dtype),
        W_hh=rng.uniform(-bound, bound, (hidden_size, hidden_size)).astype(dtype),
        b_h=rng.uniform(-bound, bound, hidden_size).astype(dtype),
    )


def rnn_cell_forward(x_t: np.ndarray, h_prev: np.ndarray, layer: RNNLayer,
                     nonlinearity: str = "tanh") -> np.ndarray:
    """One time step for a batch.

    x_t: (batch, input_size), h_prev: (batch, hidden_size) -> h_t: (batch, hidden_size).
    """
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {sorted(NONLINEARITIES)}, got {nonlinearity!r}")
    _check("x_t", x_t, (None, layer.input_size))
    _check("h_prev", h_prev, (x_t.shape[0], layer.hidden_size))
    return NONLINEARITIES[nonlinearity](x_t @ layer.W_xh.T + h_prev @ layer.W_hh.T + layer.b_h)


def rnn_forward(x: np.ndarray, layers: list[RNNLayer], h0: np.ndarray | None = None,
                nonlinearity: str = "tanh") -> tuple[np.ndarray, np.ndarray]:
    """Run a stacked RNN over a batch of sequences, like ``torch.nn.RNN(batch_first=True)``.

    x:  (batch, time, input_size)
    h0: (num_layers, batch, hidden_size), zeros when None
    returns outputs (batch, time, hidden_size) -- the top layer's state at every step --
    and h_n (num_layers, batch, hidden_size) -- every layer's last state.
    """
    batch, steps = check_stacked_input(x, layers, "RNNLayer")
    hidden = layers[0].hidden_size
    if h0 is None:
        h0 = np.zeros((len(layers), batch, hidden), dtype=x.dtype)
    _check("h0", h0, (len(layers), batch, hidden))

    inputs = x
    last_states = []
    for k, layer in enumerate(layers):
        h = h0[k]
        states = []
        for t in range(steps):
            h = rnn_cell_forward(inputs[:, t], h, layer, nonlinearity)
            states.append(h)
        inputs = np.stack(states, axis=1)
        last_states.append(h)
    return inputs, np.stack(last_states)


def concat_weights(layer: RNNLayer) -> np.ndarray:
    """The single matrix W = [W_xh | W_hh] of shape (hidden, input + hidden).

    ``f(W @ [x; h] + b)`` equals the split form ``f(W_xh x + W_hh h + b)``.
    """
    return np.concatenate([layer.W_xh, layer.W_hh], axis=1)


def count_parameters(input_size: int, hidden_size: int, num_layers: int = 1,
                     output_size: int = 0, torch_biases: bool = True) -> int:
    """Number of trainable numbers in a stacked RNN (plus an optional linear output layer).

    Layer 0 has H*I + H*H weights, later layers H*H + H*H; each layer has two bias
    vectors in torch.nn.RNN (``torch_biases=True``) or one (the course's b_h).
    The output layer adds O*H + O.
    """
    for name, value in [("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)]:
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    biases = 2 if torch_biases else 1
    total = 0
    for k in range(num_layers):
        fan_in = input_size if k == 0 else hidden_size
        total += hidden_size * fan_in + hidden_size * hidden_size + biases * hidden_size
    if output_size:
        total += output_size * hidden_size + output_size
    return int(total)
