"""Encoder-decoder RNNs, with and without attention (chapter 9).

An encoder GRU reads the source; a decoder GRU writes the target one token at a time, reading at
every step the previous token and a *context* vector (Cho et al., 2014; Sutskever et al., 2014).
Without attention the context is the encoder's final state, the same at every step: the whole
source must fit in one vector.  With attention (Bahdanau et al., 2015; Luong et al., 2015) the
context is a weighted mean of all encoder states, with weights recomputed at every output step
from the decoder's state, so the decoder can look back at the source position it needs.

Shapes are batch-first: ``src`` (batch, S) token ids with ``lengths`` (batch,), encoder states
``memory`` (batch, S, hidden); positions at or after a sequence's length are padding, and the
attention gives them weight exactly 0.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from rnncourse.digit_tasks import BOS, EOS, PAD, VOCAB, reverse_task

ATTENTIONS = ("none", "dot", "additive")


def padding_mask(lengths: torch.Tensor, width: int) -> torch.Tensor:
    """lengths: (batch,) -> (batch, width) bool, True at the real positions t < lengths[b]."""
    if lengths.dim() != 1:
        raise ValueError(f"lengths must have shape (batch,), got {tuple(lengths.shape)}")
    if (lengths < 1).any() or (lengths > width).any():
        raise ValueError(f"every length must lie in 1..{width}, got {lengths.tolist()}")
    return torch.arange(width, device=lengths.device)[None, :] < lengths[:, None]


def masked_softmax(scores: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Softmax over the last axis of scores (batch, S) with the padded positions given weight 0."""
    mask = padding_mask(lengths, scores.shape[-1])
    return torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)


def dot_attention(query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, lengths: torch.Tensor):
    """Dot-product attention (Luong et al., 2015).

    query (batch, D), keys (batch, S, D), values (batch, S, Dv), lengths (batch,)
    -> weights (batch, S) = masked softmax of the scores keys[b, j] . query[b],
       context (batch, Dv) = sum_j weights[b, j] values[b, j].
    """
    if query.dim() != 2 or keys.dim() != 3 or values.dim() != 3:
        raise ValueError(f"expected query (batch, D), keys (batch, S, D), values (batch, S, Dv); got "
                         f"{tuple(query.shape)}, {tuple(keys.shape)}, {tuple(values.shape)}")
    if keys.shape[:2] != values.shape[:2] or keys.shape[0] != query.shape[0] or keys.shape[2] != query.shape[1]:
        raise ValueError(f"shapes do not match: query {tuple(query.shape)}, keys {tuple(keys.shape)}, "
                         f"values {tuple(values.shape)}")
    scores = torch.einsum("bsd,bd->bs", keys, query)
    weights = masked_softmax(scores, lengths)
    return weights, torch.einsum("bs,bsv->bv", weights, values)


class AdditiveAttention(torch.nn.Module):
    """Additive attention (Bahdanau et al., 2015): score_j = v . tanh(W_q query + W_k key_j).

    forward(query (batch, Dq), keys (batch, S, Dk), values (batch, S, Dv), lengths (batch,))
    -> weights (batch, S), context (batch, Dv).
    """

    def __init__(self, query_size: int, key_size: int, size: int):
        super().__init__()
        self.w_q = torch.nn.Linear(query_size, size, bias=False)
        self.w_k = torch.nn.Linear(key_size, size, bias=True)
        self.v = torch.nn.Linear(size, 1, bias=False)

    def forward(self, query, keys, values, lengths):
        scores = self.v(torch.tanh(self.w_q(query)[:, None, :] + self.w_k(keys))).squeeze(-1)
        weights = masked_softmax(scores, lengths)
        return weights, torch.einsum("bs,bsv->bv", weights, values)


def masked_sequence_loss(logits: torch.Tensor, targets: torch.Tensor, pad: int = PAD) -> torch.Tensor:
    """Mean cross-entropy over the target tokens that are not padding.

    logits (batch, T, V), targets (batch, T) int64 -> a scalar: the sum over real tokens of
    -log softmax(logits)[target], divided by the number of real tokens (not by batch * T).
    """
    if logits.dim() != 3 or targets.shape != logits.shape[:2]:
        raise ValueError(f"expected logits (batch, T, V) and targets (batch, T), got "
                         f"{tuple(logits.shape)} and {tuple(targets.shape)}")
    real = targets != pad
    if not real.any():
        raise ValueError("every target is padding: there is no token to score")
    nll = -torch.log_softmax(logits, dim=-1).gather(-1, targets.clamp(min=0)[..., None]).squeeze(-1)
    return (nll * real).sum() / real.sum()


class Seq2Seq(torch.nn.Module):
    """GRU encoder-decoder over a token vocabulary; ``attention`` is "none", "dot" or "additive".

    The decoder reads [embedding of the previous token; context] at every step and predicts from
    [its state; context].  Without attention the context is the encoder's final state.
    """

    def __init__(self, vocab: int = VOCAB, embed: int = 32, hidden: int = 64, attention: str = "dot"):
        super().__init__()
        if attention not in ATTENTIONS:
            raise ValueError(f"attention must be one of {ATTENTIONS}, got {attention!r}")
        self.attention, self.hidden = attention, hidden
        self.embed = torch.nn.Embedding(vocab, embed, padding_idx=PAD)
        self.encoder = torch.nn.GRU(embed, hidden, batch_first=True)
        self.cell = torch.nn.GRUCell(embed + hidden, hidden)
        self.out = torch.nn.Linear(2 * hidden, vocab)
        self.additive = AdditiveAttention(hidden, hidden, hidden) if attention == "additive" else None

    def encode(self, src: torch.Tensor, lengths: torch.Tensor):
        """src (batch, S), lengths (batch,) -> memory (batch, S, hidden), final state (batch, hidden).

        The final state is the encoder's output at each sequence's last real position, so padding
        after the end changes nothing.
        """
        padding_mask(lengths, src.shape[1])  # checks the lengths
        memory, _ = self.encoder(self.embed(src))
        final = memory[torch.arange(src.shape[0], device=src.device), lengths - 1]
        return memory, final

    def start(self, src: torch.Tensor, lengths: torch.Tensor):
        """The decoder's initial state: a tuple (h (batch, hidden), memory, lengths, final)."""
        memory, final = self.encode(src, lengths)
        return final, memory, lengths, final

    def context(self, h: torch.Tensor, memory, lengths, final):
        """(weights (batch, S) or None, context (batch, hidden)) for the decoder state h."""
        if self.attention == "none":
            return None, final
        if self.attention == "dot":
            return dot_attention(h, memory, memory, lengths)
        return self.additive(h, memory, memory, lengths)

    def step(self, tokens: torch.Tensor, state):
        """One decoder step: tokens (batch,), state -> (log_probs (batch, V), new state)."""
        h, memory, lengths, final = state
        weights, ctx = self.context(h, memory, lengths, final)
        h = self.cell(torch.cat([self.embed(tokens), ctx], dim=-1), h)
        logits = self.out(torch.cat([h, ctx], dim=-1))
        return torch.log_softmax(logits, dim=-1), (h, memory, lengths, final)

    def forward(self, src, lengths, tgt_in):
        """Teacher forcing: tgt_in (batch, T) -> logits (batch, T, V), attention (batch, T, S) or None."""
        h, memory, lengths, final = self.start(src, lengths)
        logits, maps = [], []
        for t in range(tgt_in.shape[1]):
            weights, ctx = self.context(h, memory, lengths, final)
            h = self.cell(torch.cat([self.embed(tgt_in[:, t]), ctx], dim=-1), h)
            logits.append(self.out(torch.cat([h, ctx], dim=-1)))
            maps.append(weights)
        attention = None if self.attention == "none" else torch.stack(maps, dim=1)
        return torch.stack(logits, dim=1), attention


def select_rows(state, rows: torch.Tensor):
    """Rows of a decoder state: a tensor (batch, ...) or a tuple of them, indexed on the first axis."""
    if isinstance(state, torch.Tensor):
        return state[rows]
    return tuple(select_rows(s, rows) for s in state)


def greedy_decode(step, state, bos: int, eos: int, max_len: int, pad: int = PAD) -> torch.Tensor:
    """Greedy decoding of a batch: at every step feed back the most likely token.

    step(tokens (batch,), state) -> (log_probs (batch, V), state); ``state`` holds ``batch`` rows.
    Returns (batch, max_len) int64: each row's chosen tokens, its EOS included, then ``pad``.
    """
    if not isinstance(max_len, int) or max_len < 1:
        raise ValueError(f"max_len must be a positive integer, got {max_len!r}")
    batch = (state if isinstance(state, torch.Tensor) else state[0]).shape[0]
    tokens = torch.full((batch,), bos, dtype=torch.long)
    out = torch.full((batch, max_len), pad, dtype=torch.long)
    done = torch.zeros(batch, dtype=torch.bool)
    for t in range(max_len):
        log_probs, state = step(tokens.to(_device(state)), state)
        tokens = log_probs.argmax(dim=-1).cpu()
        out[:, t] = torch.where(done, torch.full_like(tokens, pad), tokens)
        done |= tokens == eos
        if done.all():
            break
    return out


def _device(state) -> torch.device:
    return (state if isinstance(state, torch.Tensor) else state[0]).device


def exact_match(predicted: torch.Tensor, tgt_out: torch.Tensor) -> torch.Tensor:
    """predicted (batch, L) and tgt_out (batch, T) padded with PAD -> (batch,) bool: same tokens up to EOS."""
    width = max(predicted.shape[1], tgt_out.shape[1])
    a = F.pad(predicted.cpu(), (0, width - predicted.shape[1]), value=PAD)
    b = F.pad(tgt_out.cpu(), (0, width - tgt_out.shape[1]), value=PAD)
    return (a == b).all(dim=1)


@torch.no_grad()
def accuracy_by_length(model: Seq2Seq, lengths, per_length: int, generator: torch.Generator,
                       device: torch.device | str = "cpu") -> dict[int, float]:
    """Share of exactly reversed strings (greedy decoding) for every source length in ``lengths``."""
    model.eval()
    result = {}
    for length in lengths:
        b = reverse_task(per_length, length, length, generator)
        state = model.start(b["src"].to(device), b["lengths"].to(device))
        predicted = greedy_decode(model.step, state, BOS, EOS, length + 1)
        result[int(length)] = exact_match(predicted, b["tgt_out"]).float().mean().item()
    model.train()
    return result


def train_reverser(attention: str, max_len: int, steps: int, seed: int, min_len: int = 1, batch: int = 64,
                   embed: int = 32, hidden: int = 64, lr: float = 3e-3, clip: float = 1.0,
                   device: torch.device | str = "cpu", log_every: int = 0):
    """Train a Seq2Seq to reverse digit strings of lengths min_len..max_len (teacher forcing, Adam,
    global-norm clipping).  Returns (model, losses): the loss of every ``log_every``-th step (all
    steps when 0)."""
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = Seq2Seq(VOCAB, embed, hidden, attention).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for i in range(steps):
        b = {k: v.to(device) for k, v in reverse_task(batch, min_len, max_len, generator).items()}
        logits, _ = model(b["src"], b["lengths"], b["tgt_in"])
        loss = masked_sequence_loss(logits, b["tgt_out"])
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        if log_every == 0 or i % log_every == 0 or i == steps - 1:
            losses.append(loss.item())
    return model, losses
