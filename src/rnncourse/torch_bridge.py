"""Copy weights between the NumPy RNN (``rnncourse.rnn_numpy``) and ``torch.nn.RNN``.

torch.nn.RNN keeps two bias vectors per layer, ``bias_ih_l{k}`` and ``bias_hh_l{k}``,
that are always added together; the NumPy form keeps their sum ``b_h``.
"""
from __future__ import annotations

import numpy as np
import torch

from .rnn_numpy import RNNLayer


def rnn_layers_from_torch(rnn: torch.nn.RNN) -> list[RNNLayer]:
    """Read every layer of a ``torch.nn.RNN`` into NumPy (float64 copies)."""
    if not isinstance(rnn, torch.nn.RNN):
        raise TypeError(f"expected a torch.nn.RNN, got {type(rnn).__name__}")
    if rnn.bidirectional:
        raise ValueError("bidirectional RNNs are not supported")
    layers = []
    for k in range(rnn.num_layers):
        get = lambda name: getattr(rnn, f"{name}_l{k}").detach().cpu().double().numpy().copy()
        b_h = get("bias_ih") + get("bias_hh") if rnn.bias else np.zeros(rnn.hidden_size)
        layers.append(RNNLayer(W_xh=get("weight_ih"), W_hh=get("weight_hh"), b_h=b_h))
    return layers


def load_into_torch(layers: list[RNNLayer], rnn: torch.nn.RNN) -> torch.nn.RNN:
    """Write NumPy layers into ``rnn`` in place (``bias_ih`` gets b_h, ``bias_hh`` zeros) and return it."""
    if len(layers) != rnn.num_layers:
        raise ValueError(f"rnn has {rnn.num_layers} layers but {len(layers)} were given")
    with torch.no_grad():
        for k, layer in enumerate(layers):
            for name, value in [("weight_ih", layer.W_xh), ("weight_hh", layer.W_hh)]:
                param = getattr(rnn, f"{name}_l{k}")
                if tuple(param.shape) != value.shape:
                    raise ValueError(f"{name}_l{k} has shape {tuple(param.shape)}, got {value.shape}")
                param.copy_(torch.from_numpy(value))
            if rnn.bias:
                getattr(rnn, f"bias_ih_l{k}").copy_(torch.from_numpy(layer.b_h))
                getattr(rnn, f"bias_hh_l{k}").zero_()
            elif np.any(layer.b_h != 0):
                raise ValueError("rnn was built with bias=False but b_h is not zero")
    return rnn


def torch_rnn_like(layers: list[RNNLayer], nonlinearity: str = "tanh") -> torch.nn.RNN:
    """A float64 ``torch.nn.RNN(batch_first=True)`` holding the same weights as ``layers``."""
    rnn = torch.nn.RNN(layers[0].input_size, layers[0].hidden_size, num_layers=len(layers),
                       nonlinearity=nonlinearity, batch_first=True, dtype=torch.float64)
    return load_into_torch(layers, rnn)
