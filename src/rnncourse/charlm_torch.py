"""A character language model in PyTorch, trained the way practitioners train one.

The NumPy model of ``rnncourse.charlm`` spells out every step.  This module writes the same
kind of model with ``torch.nn`` and the habits of everyday practice:

* ``nn.Embedding`` instead of one-hot inputs: a learned vector per character, looked up by id
  (for an embedding as wide as the vocabulary this is the one-hot product U x_t, see the tests);
* ``nn.RNN`` (tanh) or ``nn.LSTM``, batch-first, and an ``nn.Linear`` output layer;
* the hidden state carried from one chunk to the next and **detached** there, so the forward
  pass runs over the whole text while gradients stop at the chunk boundary (truncated BPTT);
* ``torch.nn.utils.clip_grad_norm_``: the whole gradient is rescaled when its norm exceeds the
  limit, which keeps its direction (entry-wise clipping does not);
* Adam, and a **random offset** at every pass over the text, so that chunk boundaries fall in
  different places each time.

Shapes: ids (batch, time) int64 -> logits (batch, time, vocab).
"""
from __future__ import annotations

import math
from typing import Iterator

import numpy as np
import torch
from torch import nn


class CharModel(nn.Module):
    """Embedding -> RNN or LSTM -> Linear.

    vocab_size: K; hidden_size: H; cell: "rnn" (tanh) or "lstm"; embedding_dim: E (default K).
    forward(ids (B, T), state) -> (logits (B, T, K), state); state is (1, B, H) for the RNN and a
    pair of those for the LSTM, or None for zeros.
    """

    def __init__(self, vocab_size: int, hidden_size: int = 100, cell: str = "lstm",
                 embedding_dim: int | None = None):
        super().__init__()
        if cell not in ("rnn", "lstm"):
            raise ValueError(f"cell must be 'rnn' or 'lstm', got {cell!r}")
        for name, value in [("vocab_size", vocab_size), ("hidden_size", hidden_size)]:
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        embedding_dim = vocab_size if embedding_dim is None else embedding_dim
        self.cell = cell
        self.embed = nn.Embedding(vocab_size, embedding_dim)
        recurrent = nn.LSTM if cell == "lstm" else nn.RNN
        self.rnn = recurrent(embedding_dim, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids: torch.Tensor, state=None):
        if ids.dtype != torch.int64 or ids.dim() != 2:
            raise ValueError(f"ids must be a (batch, time) int64 tensor, got {tuple(ids.shape)} {ids.dtype}")
        h, state = self.rnn(self.embed(ids), state)
        return self.out(h), state


def detach(state):
    """The state as a constant for the next chunk: same values, no history (None stays None)."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def chunks(ids: np.ndarray, batch: int, seq_len: int, rng: np.random.Generator | None = None
           ) -> Iterator[tuple[bool, np.ndarray, np.ndarray]]:
    """Endless (new_pass, x, y) chunks of shape (batch, seq_len), y = x shifted by one character.

    Each pass over the text drops a random number of leading characters (0 to seq_len - 1; none
    when rng is None), cuts the rest into ``batch`` contiguous lanes and walks them ``seq_len``
    characters at a time; ``new_pass`` is True on the first chunk of every pass (reset the state).
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"ids must be a 1-D array of integer ids, got shape {ids.shape}, dtype {ids.dtype}")
    width = (len(ids) - seq_len) // batch
    if width < seq_len + 1:
        raise ValueError(f"{len(ids)} ids are too few for {batch} lanes of more than {seq_len} characters")
    while True:
        offset = 0 if rng is None else int(rng.integers(seq_len))
        data = ids[offset:offset + batch * width].reshape(batch, width)
        for j, pos in enumerate(range(0, width - seq_len, seq_len)):
            yield j == 0, data[:, pos:pos + seq_len], data[:, pos + 1:pos + seq_len + 1]


def train_step(model: CharModel, optimizer, x: torch.Tensor, y: torch.Tensor, state, clip: float = 1.0):
    """One update on a chunk: mean cross-entropy, backward, clip_grad_norm_, step.

    x, y: (batch, seq_len) int64.  returns (loss in nats per character, gradient norm before
    clipping, the detached state to carry into the next chunk).
    """
    logits, state = model(x, state)
    loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    norm = nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    return float(loss.detach()), float(norm), detach(state)


def train(model: CharModel, ids: np.ndarray, steps: int, batch: int = 64, seq_len: int = 25,
          lr: float = 3e-3, clip: float = 1.0, seed: int = 0, callback=None, every: int = 100) -> list[float]:
    """Train ``model`` with Adam for ``steps`` chunks of the id stream; returns the loss (nats) of every update.

    ``callback(step, model)`` runs every ``every`` updates and after the last one.
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    source = chunks(ids, batch, seq_len, np.random.default_rng(seed))
    state, losses = None, []
    model.train()
    for step in range(1, steps + 1):
        new_pass, x, y = next(source)
        if new_pass:
            state = None
        loss, _, state = train_step(model, optimizer, torch.from_numpy(x), torch.from_numpy(y), state, clip)
        losses.append(loss)
        if callback is not None and (step % every == 0 or step == steps):
            callback(step, model)
    return losses


@torch.no_grad()
def evaluate(model: CharModel, ids: np.ndarray, batch: int = 16, seq_len: int = 200) -> float:
    """Mean cross-entropy (nats per character) of ids[t+1] given ids[..t], states carried: as ``charlm.evaluate``."""
    ids = np.asarray(ids)
    width = len(ids) // batch
    if width < 2:
        raise ValueError(f"{len(ids)} ids are too few for {batch} lanes")
    data = torch.from_numpy(ids[:batch * width].reshape(batch, width).astype(np.int64))
    model.eval()
    state, total, count = None, 0.0, 0
    for pos in range(0, width - 1, seq_len):
        x = data[:, pos:min(pos + seq_len, width - 1)]
        y = data[:, pos + 1:pos + 1 + x.shape[1]]
        logits, state = model(x, state)
        total += float(nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1),
                                                   reduction="sum"))
        count += y.numel()
    model.train()
    return total / count


@torch.no_grad()
def sample(model: CharModel, prime: np.ndarray, n: int, seed: int = 0, temperature: float = 1.0) -> np.ndarray:
    """``n`` ids drawn from softmax(logits / temperature), each fed back in, after reading ``prime``."""
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    generator = torch.Generator().manual_seed(seed)
    model.eval()
    logits, state = model(torch.as_tensor(np.asarray(prime, dtype=np.int64))[None], None)
    out = []
    for _ in range(n):
        probs = torch.softmax(logits[0, -1].double() / temperature, dim=-1)
        nxt = int(torch.multinomial(probs, 1, generator=generator))
        out.append(nxt)
        logits, state = model(torch.tensor([[nxt]]), state)
    model.train()
    return np.array(out, dtype=np.int64)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def bits(nats: float) -> float:
    return nats / math.log(2.0)
