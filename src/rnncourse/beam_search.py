"""Beam search with length normalisation, and the exhaustive search it approximates (chapter 9).

Both work on one source at a time through a *step function*, the decoder's interface::

    step(tokens (n,), state) -> (log_probs (n, V), new_state)

where ``state`` is a tensor whose first axis holds the ``n`` hypotheses (or a tuple of such
tensors, as ``rnncourse.seq2seq.Seq2Seq.step`` uses).  A hypothesis is finished when it emits
``eos`` or when it holds ``max_len`` tokens.

Beam search: start from the empty hypothesis (log-probability 0) after ``bos``.  At every step
extend each live hypothesis by every token, adding the token's log-probability, and keep the
``beam_size`` best extensions of all of them; the kept ones that end in ``eos`` are finished, the
others are the next step's live hypotheses.  At the end rank the finished hypotheses by their
score, the log-probability divided by the length penalty of Wu et al. (2016),
``((5 + length) / 6) ** alpha`` (``alpha = 0``: the plain log-probability, which favours short
outputs), and return the ``beam_size`` best.
"""
from __future__ import annotations

from typing import NamedTuple

import torch

from rnncourse.seq2seq import select_rows


class Hypothesis(NamedTuple):
    tokens: list[int]   # the chosen tokens after bos, eos included when it was chosen
    log_prob: float     # sum of the tokens' log-probabilities
    score: float        # log_prob / length_penalty(len(tokens), alpha)


def length_penalty(length: int, alpha: float) -> float:
    """Wu et al. (2016): ((5 + length) / 6) ** alpha; 1 for alpha = 0."""
    return ((5.0 + length) / 6.0) ** alpha


def _check(state, beam_size, max_len, alpha):
    first = state if isinstance(state, torch.Tensor) else state[0]
    if first.shape[0] != 1:
        raise ValueError(f"the state must hold one source (first axis of size 1), got shape {tuple(first.shape)}")
    for name, value in [("beam_size", beam_size), ("max_len", max_len)]:
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0, got {alpha}")


def beam_search(step, state, bos: int, eos: int, beam_size: int, max_len: int, alpha: float = 0.0) -> list[Hypothesis]:
    """The ``beam_size`` best finished hypotheses found by beam search, best score first (see the module)."""
    _check(state, beam_size, max_len, alpha)
    device = (state if isinstance(state, torch.Tensor) else state[0]).device
    prefixes, scores, last = [[]], torch.zeros(1, dtype=torch.float64), [bos]
    finished: list[Hypothesis] = []
    for t in range(max_len):
        log_probs, state = step(torch.tensor(last, device=device), state)
        total = scores[:, None] + log_probs.detach().double().cpu()          # (live, V)
        best, flat = total.flatten().topk(min(beam_size, total.numel()))
        rows, tokens = flat // total.shape[1], flat % total.shape[1]
        keep = []
        for value, row, token in zip(best.tolist(), rows.tolist(), tokens.tolist()):
            tokens_ = prefixes[row] + [token]
            if token == eos or t == max_len - 1:
                finished.append(Hypothesis(tokens_, value, value / length_penalty(len(tokens_), alpha)))
            else:
                keep.append((row, tokens_, value))
        if not keep:
            break
        state = select_rows(state, torch.tensor([k[0] for k in keep], device=device))
        prefixes, last = [k[1] for k in keep], [k[1][-1] for k in keep]
        scores = torch.tensor([k[2] for k in keep], dtype=torch.float64)
    return sorted(finished, key=lambda h: -h.score)[:beam_size]


def exhaustive_search(step, state, bos: int, eos: int, max_len: int, alpha: float = 0.0) -> list[Hypothesis]:
    """Every finished hypothesis (ended by eos, or max_len tokens long), best score first.

    V ** max_len of them at most: only for tiny vocabularies and lengths (the tests' yardstick).
    """
    _check(state, 1, max_len, alpha)
    device = (state if isinstance(state, torch.Tensor) else state[0]).device
    found: list[Hypothesis] = []

    def grow(prefix, log_prob, last, state):
        log_probs, state = step(torch.tensor([last], device=device), state)
        for token, lp in enumerate(log_probs[0].detach().double().cpu().tolist()):
            tokens, total = prefix + [token], log_prob + lp
            if token == eos or len(tokens) == max_len:
                found.append(Hypothesis(tokens, total, total / length_penalty(len(tokens), alpha)))
            else:
                grow(tokens, total, token, state)

    grow([], 0.0, bos, state)
    return sorted(found, key=lambda h: -h.score)


def toy_decoder(vocab: int, size: int, seed: int, sharpness: float = 2.0):
    """A small random recurrent decoder for tests and demos: (step, start_state), float64.

    step(tokens (n,), state (n, size)) -> (log_probs (n, vocab), new state), with
    state' = tanh(state A + E[tokens]) and log_probs = log_softmax(sharpness * state' W):
    the next token's distribution depends on the whole prefix.
    """
    g = torch.Generator().manual_seed(seed)
    E = torch.randn(vocab, size, generator=g, dtype=torch.float64)
    A = torch.randn(size, size, generator=g, dtype=torch.float64) / size ** 0.5
    W = torch.randn(size, vocab, generator=g, dtype=torch.float64) / size ** 0.5
    start = torch.randn(1, size, generator=g, dtype=torch.float64)

    def step(tokens, state):
        if tokens.dim() != 1 or tokens.shape[0] != state.shape[0]:
            raise ValueError(f"tokens must have shape (n,) with n = {state.shape[0]} rows of state, got "
                             f"{tuple(tokens.shape)}")
        h = torch.tanh(state @ A + E[tokens])
        return torch.log_softmax(sharpness * h @ W, dim=-1), h

    return step, start
