"""The four recurrent classifiers of the IRNN paper's pixel-by-pixel MNIST experiment.

All four read a pixel sequence ``x: (batch, time, 1)`` with a one-layer,
batch-first ``torch.nn.RNN`` or ``torch.nn.LSTM`` of 100 hidden units (cuDNN
kernels on a GPU), and classify from the last hidden state with a linear layer:

    logits = W_out h_T + b_out,   logits: (batch, num_classes)

They differ only in non-linearity and initialization:

==========  ===========  ==========================================================
kind        cell         initialization
==========  ===========  ==========================================================
irnn        ReLU RNN     W_hh = I, biases 0, W_ih ~ N(0, input_std^2)
rnn_relu    ReLU RNN     W_hh ~ N(0, gaussian_std^2), biases 0, W_ih ~ N(0, input_std^2)
rnn_tanh    tanh RNN     PyTorch's default: every entry U(-1/sqrt(H), 1/sqrt(H))
lstm        LSTM         PyTorch's default, forget-gate bias set to ``forget_bias``
==========  ===========  ==========================================================
"""
from __future__ import annotations

import torch
from torch import nn

from rnncourse.irnn import gaussian_init_, identity_init_

KINDS = ("irnn", "rnn_tanh", "rnn_relu", "lstm")
LABELS = {"irnn": "IRNN", "rnn_tanh": "RNN + tanh", "rnn_relu": "RNN + ReLU (Gaussian init)", "lstm": "LSTM"}


class PixelClassifier(nn.Module):
    """A recurrent core over the pixels and a linear head on its last hidden state.

    forward(x): x (batch, time, input_size) -> logits (batch, num_classes).
    states(x):  x (batch, time, input_size) -> hidden states (batch, time, hidden_size).
    """

    def __init__(self, core: nn.RNN | nn.LSTM, num_classes: int = 10, kind: str = "custom"):
        super().__init__()
        if not isinstance(core, (nn.RNN, nn.LSTM)) or not core.batch_first:
            raise TypeError("core must be a batch-first torch.nn.RNN or torch.nn.LSTM")
        self.kind = kind
        self.core = core
        self.head = nn.Linear(core.hidden_size, num_classes)

    def states(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.ndim != 3 or x.shape[2] != self.core.input_size:
            raise ValueError(f"x must be a tensor of shape (batch, time, {self.core.input_size}), "
                             f"got {getattr(x, 'shape', type(x).__name__)}")
        outputs, _ = self.core(x)
        return outputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.states(x)[:, -1])


@torch.no_grad()
def set_forget_bias_(lstm: nn.LSTM, value: float) -> nn.LSTM:
    """Make every layer's forget-gate bias (``bias_ih + bias_hh``, rows H..2H, gate order i, f, g, o) equal ``value``."""
    hidden = lstm.hidden_size
    for k in range(lstm.num_layers):
        getattr(lstm, f"bias_ih_l{k}")[hidden:2 * hidden].fill_(value)
        getattr(lstm, f"bias_hh_l{k}")[hidden:2 * hidden].zero_()
    return lstm


def make_model(kind: str, hidden_size: int = 100, num_classes: int = 10, input_size: int = 1,
               seed: int = 0, input_std: float = 1e-3, gaussian_std: float = 1e-3,
               forget_bias: float = 1.0) -> PixelClassifier:
    """Build one of :data:`KINDS` on the CPU with weights drawn from ``seed``.

    The global random state is left untouched, so the same ``seed`` gives the
    same weights wherever it is called.  Move the model with ``.to(device)``.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if isinstance(hidden_size, bool) or not isinstance(hidden_size, int) or hidden_size < 1:
        raise ValueError(f"hidden_size must be a positive int, got {hidden_size!r}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed + 1)
        if kind == "lstm":
            core = set_forget_bias_(nn.LSTM(input_size, hidden_size, batch_first=True), forget_bias)
        elif kind == "rnn_tanh":
            core = nn.RNN(input_size, hidden_size, nonlinearity="tanh", batch_first=True)
        else:
            core = nn.RNN(input_size, hidden_size, nonlinearity="relu", batch_first=True)
            if kind == "irnn":
                identity_init_(core, 1.0, input_std=input_std, generator=generator)
            else:
                gaussian_init_(core, gaussian_std, input_std=input_std, generator=generator)
        return PixelClassifier(core, num_classes, kind=kind)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable numbers in ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
