"""A long-lag task, "remember the first symbol", and a small PyTorch training helper.

Each sequence has ``length`` one-hot steps over an alphabet of ``n_symbols`` answer
symbols followed by ``n_noise`` distractor symbols (input size ``n_symbols + n_noise``).
Step 1 holds one answer symbol; every later step holds a random distractor.  The
model reads the whole sequence and names the answer at the last step (many-to-one),
so the only useful information lies ``length - 1`` steps before the loss: the
gradient has to travel back that far.  Chance accuracy is ``1 / n_symbols``.
"""
from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

KINDS = ("rnn", "lstm", "gru")


def first_symbol_batch(batch: int, length: int, n_symbols: int, generator: torch.Generator,
                       n_noise: int = 4, device: torch.device | str = "cpu"):
    """A batch of the task.

    Returns x: (batch, length, n_symbols + n_noise) float32 one-hot and y: (batch,) int64,
    the answer symbol shown at step 1 (channels ``0..n_symbols-1``); later steps light one of
    the distractor channels ``n_symbols..n_symbols+n_noise-1``.
    """
    for name, value, low in [("batch", batch, 1), ("length", length, 1), ("n_symbols", n_symbols, 2),
                             ("n_noise", n_noise, 1)]:
        if not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    y = torch.randint(n_symbols, (batch,), generator=generator)
    symbols = n_symbols + torch.randint(n_noise, (batch, length), generator=generator)
    symbols[:, 0] = y
    x = nn.functional.one_hot(symbols, n_symbols + n_noise).float()
    return x.to(device), y.to(device)


def init_keep_bias(rnn: nn.Module, value: float) -> None:
    """Add ``value`` to the bias of the gate that keeps the state, in place.

    LSTM: the forget gate f (rows H:2H of ``bias_hh_l0``), so f starts near sigma(value)
    instead of 1/2 (Gers et al. 2000; Jozefowicz et al. 2015).  GRU: the update gate z
    (rows H:2H too), since h' = (1 - z) n + z h keeps h when z is near 1.
    """
    if not isinstance(rnn, (nn.LSTM, nn.GRU)):
        raise TypeError(f"keep_bias needs an nn.LSTM or nn.GRU, got {type(rnn).__name__}")
    H = rnn.hidden_size
    with torch.no_grad():
        for k in range(rnn.num_layers):
            getattr(rnn, f"bias_hh_l{k}")[H:2 * H] += value


class SequenceClassifier(nn.Module):
    """``torch.nn.RNN`` / ``LSTM`` / ``GRU`` (batch-first, one layer) and a linear read-out of the last state.

    forward(x: (batch, time, input_size)) -> logits (batch, n_classes).
    """

    def __init__(self, kind: str, input_size: int, hidden_size: int, n_classes: int, keep_bias: float = 0.0):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        self.kind = kind
        self.rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind](input_size, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, n_classes)
        if keep_bias:
            init_keep_bias(self.rnn, keep_bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)
        return self.head(out[:, -1])

    def step_by_step(self, x: torch.Tensor):
        """The same computation one step at a time; returns (logits, [h_1, ..., h_T]).

        Every h_t is a separate tensor in the graph, so ``torch.autograd.grad`` can
        read dL/dh_t for every t (the fused layer keeps them internal).
        """
        state, hs = None, []
        for t in range(x.shape[1]):
            out, state = self.rnn(x[:, t:t + 1], state)
            h = out[:, 0]  # (batch, hidden); feed *this* tensor back, so dL/dh_t includes the recurrent path
            state = (h.unsqueeze(0), state[1]) if self.kind == "lstm" else h.unsqueeze(0)
            hs.append(h)
        return self.head(hs[-1]), hs


def hidden_gradient_norms(model: SequenceClassifier, x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """||dL/dh_t|| for t = 1..T (mean over the batch of each example's norm), L = cross-entropy.

    Shows how much of the loss's gradient reaches the state at step t; the first
    symbol is stored at t = 1, so ``norms[0]`` is the signal that can teach the net to keep it.
    """
    logits, hs = model.step_by_step(x)
    loss = nn.functional.cross_entropy(logits, y, reduction="sum")
    grads = torch.autograd.grad(loss, hs)
    return np.array([g.norm(dim=1).mean().item() for g in grads])


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of sequences whose first symbol the model names correctly."""
    with torch.no_grad():
        return (model(x).argmax(dim=1) == y).float().mean().item()


def solved(acc: float, n_symbols: int, threshold: float = 0.95) -> bool:
    """The success criterion: held-out accuracy at least ``threshold`` (chance is 1/n_symbols)."""
    if not 1.0 / n_symbols < threshold <= 1.0:
        raise ValueError(f"threshold must lie above chance 1/{n_symbols} and at most 1, got {threshold}")
    return bool(acc >= threshold)


def train_first_symbol(kind: str, length: int, *, n_symbols: int = 4, n_noise: int = 4, hidden_size: int = 32,
                       keep_bias: float = 0.0,
                       steps: int = 600, batch: int = 64, lr: float = 1e-2, clip: float = 1.0,
                       eval_every: int = 25, eval_size: int = 512, seed: int = 0, stop_at: float | None = None,
                       device: torch.device | str = "cpu") -> dict:
    """Train a ``SequenceClassifier`` on the task with Adam and global-norm clipping.

    Training stops early once the held-out accuracy reaches ``stop_at`` (if given).
    Returns a dict of plain lists: ``step``, ``loss`` (training loss at that step),
    ``accuracy`` (on a fixed held-out batch), ``grad_norm_init`` and ``grad_norm_final``
    (``hidden_gradient_norms`` before and after training), ``solved`` and ``seconds``.
    """
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = SequenceClassifier(kind, n_symbols + n_noise, hidden_size, n_symbols,
                               keep_bias if kind != "rnn" else 0.0).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    x_eval, y_eval = first_symbol_batch(eval_size, length, n_symbols, torch.Generator().manual_seed(10_000 + seed),
                                        n_noise, device)
    probe = (x_eval[:128], y_eval[:128])
    history = {"kind": kind, "length": length, "step": [], "loss": [], "accuracy": [],
               "grad_norm_init": hidden_gradient_norms(model, *probe).tolist()}
    start = time.perf_counter()
    for step in range(1, steps + 1):
        x, y = first_symbol_batch(batch, length, n_symbols, gen, n_noise, device)
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        if clip:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        if step % eval_every == 0 or step == steps:
            history["step"].append(step)
            history["loss"].append(loss.item())
            history["accuracy"].append(accuracy(model, x_eval, y_eval))
            if stop_at is not None and history["accuracy"][-1] >= stop_at:
                break
    history["seconds"] = time.perf_counter() - start
    history["grad_norm_final"] = hidden_gradient_norms(model, *probe).tolist()
    history["solved"] = solved(history["accuracy"][-1], n_symbols)
    return history
