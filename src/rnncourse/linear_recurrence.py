"""The diagonal linear recurrence h_t = a_t * h_{t-1} + b_t, by a loop and by parallel scans.

All three functions take ``a, b: (batch, time, hidden)`` tensors (real or complex; ``a`` may
also be ``(hidden,)`` or ``(1, 1, hidden)`` and is then broadcast over batch and time) and an
optional start state ``h0: (batch, hidden)`` (zeros when omitted), and return every state
``h: (batch, time, hidden)``.  They agree up to rounding:

* :func:`linear_recurrence_loop`: one step after another, ``T`` sequential steps (depth ``O(T)``).
* :func:`linear_recurrence_scan`: the scan by odd-even reduction (Blelloch's work-efficient
  scheme written recursively): pair neighbours, solve the half-length recurrence, fill in
  the others.  ``O(T)`` work, ``O(log T)`` depth.
* :func:`linear_recurrence_doubling`: the doubling scan of Hillis & Steele: ``ceil(log2 T)``
  rounds, each combining every element with the one ``d`` steps back.  ``O(T log T)`` work,
  ``O(log T)`` depth.

The scans rest on one fact: a step ``h -> a h + b`` is an affine map, and composing two of
them gives another, ``(a2, b2) o (a1, b1) = (a2 a1, a2 b1 + b2)``, an associative operation.
"""
from __future__ import annotations

import torch


def _prepare(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Check shapes; return ``a`` broadcast to ``b``'s shape and ``b`` with ``a_0 h0`` folded in."""
    for name, value in (("a", a), ("b", b)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if b.dim() != 3 or b.shape[1] < 1:
        raise ValueError(f"b must have shape (batch, time, hidden) with time >= 1, got {tuple(b.shape)}")
    try:
        a = torch.broadcast_to(a, b.shape)
    except RuntimeError:
        raise ValueError(f"a must have shape (batch, time, hidden) = {tuple(b.shape)} or broadcast to it "
                         f"(e.g. (hidden,)), got {tuple(a.shape)}") from None
    if h0 is not None:
        if not isinstance(h0, torch.Tensor) or tuple(h0.shape) != (b.shape[0], b.shape[2]):
            got = tuple(h0.shape) if isinstance(h0, torch.Tensor) else type(h0).__name__
            raise ValueError(f"h0 must have shape (batch, hidden) = {(b.shape[0], b.shape[2])}, got {got}")
        b = torch.cat([b[:, :1] + a[:, :1] * h0[:, None], b[:, 1:]], dim=1)
    return a, b


def linear_recurrence_loop(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
    """h_t = a_t * h_{t-1} + b_t step by step.  a, b: (batch, time, hidden) -> h: (batch, time, hidden)."""
    a, b = _prepare(a, b, h0)
    h = torch.zeros_like(b[:, 0])
    states = []
    # unbind, not a[:, t]: the backward of T separate slices would build T full-size gradients (O(T^2))
    for a_t, b_t in zip(a.unbind(1), b.unbind(1)):
        h = a_t * h + b_t
        states.append(h)
    return torch.stack(states, dim=1)


def _odd_even(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """States of the recurrence started from zero (so h_0 = b_0), by odd-even reduction."""
    T = b.shape[1]
    if T == 1:
        return b
    n = T // 2  # pairs (0, 1), (2, 3), ...: the pair's combined map takes h_{2k-1} to h_{2k+1}
    a_even, a_odd = a[:, 0:2 * n:2], a[:, 1:2 * n:2]
    b_even, b_odd = b[:, 0:2 * n:2], b[:, 1:2 * n:2]
    h_odd = _odd_even(a_odd * a_even, a_odd * b_even + b_odd)  # h_1, h_3, ..., h_{2n-1}
    # the even steps follow from their odd neighbour: h_{2k} = a_{2k} h_{2k-1} + b_{2k}
    h_even = torch.cat([b[:, :1], a[:, 2::2] * h_odd[:, :(T - 1) // 2] + b[:, 2::2]], dim=1)
    paired = torch.stack([h_even[:, :n], h_odd], dim=2).reshape(b.shape[0], 2 * n, b.shape[2])
    return paired if T % 2 == 0 else torch.cat([paired, h_even[:, n:]], dim=1)


def linear_recurrence_scan(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
    """The same states as :func:`linear_recurrence_loop` by a work-efficient parallel scan
    (O(T) work, O(log T) depth).  a, b: (batch, time, hidden) -> h: (batch, time, hidden)."""
    a, b = _prepare(a, b, h0)
    return _odd_even(a, b)


def linear_recurrence_doubling(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
    """The same states by the Hillis-Steele doubling scan (O(T log T) work, O(log T) depth).
    a, b: (batch, time, hidden) -> h: (batch, time, hidden)."""
    a, b = _prepare(a, b, h0)
    T, d = b.shape[1], 1
    while d < T:  # after the round with offset d, element t is the composition of steps max(0, t-2d+1) .. t
        b = torch.cat([b[:, :d], a[:, d:] * b[:, :-d] + b[:, d:]], dim=1)
        a = torch.cat([a[:, :d], a[:, d:] * a[:, :-d]], dim=1)
        d *= 2
    return b
