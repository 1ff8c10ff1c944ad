"""IRNN: a ReLU recurrent net whose recurrent matrix starts as the (scaled) identity.

Le, Jaitly & Hinton (2015): with ``W_hh = s I``, zero biases and ReLU,

    h_t = relu(s h_{t-1} + W_ih x_t)

copies the previous state forward unchanged (for ``s = 1`` and non-negative
states) until the input says otherwise, and the Jacobian ``dh_t/dh_{t-1}`` is
``s I`` on the active units: gradients neither vanish nor explode at the start
of training.  ``s < 1`` forgets geometrically, like an LSTM forget gate held
at ``s``.

The initialisers work in place on a ``torch.nn.RNN`` of any number of layers
(weights ``weight_ih_l{k}`` of shape ``(hidden, input)``, ``weight_hh_l{k}`` of
shape ``(hidden, hidden)``).
"""
from __future__ import annotations

import torch
from torch import nn


def _rnn_layers(rnn: nn.RNN):
    if not isinstance(rnn, nn.RNN):
        raise TypeError(f"expected a torch.nn.RNN, got {type(rnn).__name__}")
    if rnn.bidirectional:
        raise ValueError("expected a unidirectional torch.nn.RNN (bidirectional=False)")
    return range(rnn.num_layers)


def _reinit(rnn: nn.RNN, layers, recurrent, input_std: float | None, generator) -> nn.RNN:
    """Per layer: ``weight_hh = recurrent(weight_hh)``, zero biases, optionally redraw ``weight_ih``."""
    for k in layers:
        w_hh = getattr(rnn, f"weight_hh_l{k}")
        w_hh.copy_(recurrent(w_hh))
        if rnn.bias:
            getattr(rnn, f"bias_ih_l{k}").zero_()
            getattr(rnn, f"bias_hh_l{k}").zero_()
        if input_std is not None:
            w_ih = getattr(rnn, f"weight_ih_l{k}")
            w_ih.copy_(input_std * torch.randn(w_ih.shape, generator=generator, dtype=w_ih.dtype))
    return rnn


@torch.no_grad()
def identity_init_(rnn: nn.RNN, scale: float = 1.0, input_std: float | None = None,
                   generator: torch.Generator | None = None) -> nn.RNN:
    """Set every layer's ``weight_hh`` to ``scale * I`` and all biases to zero, in place.

    ``input_std``: when given, ``weight_ih`` is redrawn from N(0, input_std**2);
    otherwise PyTorch's default input weights are kept.  Returns ``rnn``.
    """
    layers = _rnn_layers(rnn)
    if not isinstance(scale, (int, float)) or isinstance(scale, bool):
        raise TypeError(f"scale must be a number, got {type(scale).__name__}")
    return _reinit(rnn, layers, lambda w: scale * torch.eye(rnn.hidden_size, dtype=w.dtype), input_std, generator)


@torch.no_grad()
def gaussian_init_(rnn: nn.RNN, std: float, input_std: float | None = None,
                   generator: torch.Generator | None = None) -> nn.RNN:
    """Draw every layer's ``weight_hh`` from N(0, std**2) and zero the biases, in place.

    The "RNN + Gaussian initialisation" baseline of the IRNN paper.  Note that the
    spectral radius of an ``n x n`` matrix with N(0, std**2) entries is about
    ``std * sqrt(n)``.  Returns ``rnn``.
    """
    layers = _rnn_layers(rnn)
    if not std >= 0:
        raise ValueError(f"std must be non-negative, got {std}")
    return _reinit(rnn, layers, lambda w: std * torch.randn(w.shape, generator=generator, dtype=w.dtype),
                   input_std, generator)


def make_irnn(input_size: int, hidden_size: int, scale: float = 1.0, num_layers: int = 1,
              input_std: float | None = None, generator: torch.Generator | None = None) -> nn.RNN:
    """A batch-first ReLU ``torch.nn.RNN`` initialised by :func:`identity_init_`."""
    rnn = nn.RNN(input_size, hidden_size, num_layers=num_layers, nonlinearity="relu",
                 batch_first=True)
    return identity_init_(rnn, scale, input_std, generator)


class LastStepRegressor(nn.Module):
    """A recurrent core followed by a linear read-out of its last hidden state.

    ``core`` is a batch-first ``nn.RNN``, ``nn.LSTM`` or ``nn.GRU`` (or anything that
    returns ``(outputs, state)`` with ``outputs`` of shape ``(batch, time, hidden)``).
    ``forward(x)`` maps ``x: (batch, time, input)`` to ``(batch,)``.
    """

    def __init__(self, core: nn.Module, hidden_size: int):
        super().__init__()
        self.core = core
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3:
            raise ValueError(f"x must have shape (batch, time, input), got {tuple(x.shape)}")
        outputs, _ = self.core(x)
        return self.head(outputs[:, -1]).squeeze(-1)
