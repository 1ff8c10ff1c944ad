"""The linear recurrent unit (LRU) of Orvieto et al. (2023): a diagonal complex linear recurrence.

    h_t = lambda * h_{t-1} + gamma * (B x_t),     y_t = Re(C h_t) + D x_t

with ``lambda = exp(-exp(nu_log) + i exp(theta_log))``: the exponential parameterisation keeps
``|lambda| = exp(-exp(nu_log)) < 1`` for every value of ``nu_log``, so training cannot make the
recurrence unstable, and lets the magnitudes sit close to 1 with a well-scaled parameter.
``gamma = sqrt(1 - |lambda|^2)`` normalises the input so that a state fed white noise keeps
unit variance however close ``|lambda|`` is to 1.  The states are computed by the parallel
scan of :mod:`rnncourse.linear_recurrence`.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from rnncourse.linear_recurrence import linear_recurrence_scan


def lru_init(n: int, r_min: float = 0.9, r_max: float = 0.999, max_phase: float = 2 * math.pi,
             generator: torch.Generator | None = None, dtype=torch.float64) -> tuple[torch.Tensor, ...]:
    """Draw ``n`` eigenvalues uniformly on the ring ``r_min <= |lambda| <= r_max`` (uniform in area,
    so ``|lambda|^2`` is uniform on ``[r_min^2, r_max^2]``) with phases uniform on ``[0, max_phase]``.

    Returns ``(nu_log, theta_log, gamma_log)``, each of shape ``(n,)``:
    ``|lambda| = exp(-exp(nu_log))``, ``arg lambda = exp(theta_log)``, ``gamma = exp(gamma_log) = sqrt(1 - |lambda|^2)``.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if not 0 <= r_min < r_max < 1:
        raise ValueError(f"need 0 <= r_min < r_max < 1, got r_min={r_min}, r_max={r_max}")
    if not 0 < max_phase <= 2 * math.pi:
        raise ValueError(f"max_phase must be in (0, 2 pi], got {max_phase}")
    u1 = torch.rand(n, generator=generator, dtype=dtype)
    u2 = torch.rand(n, generator=generator, dtype=dtype)
    nu_log = torch.log(-0.5 * torch.log(u1 * (r_max ** 2 - r_min ** 2) + r_min ** 2))
    theta_log = torch.log(max_phase * u2.clamp_min(torch.finfo(dtype).tiny))
    gamma_log = 0.5 * torch.log(1 - torch.exp(-2 * torch.exp(nu_log)))
    return nu_log, theta_log, gamma_log


class LRU(nn.Module):
    """One LRU layer.  x: (batch, time, input_size) -> y: (batch, time, output_size).

    Parameters: ``nu_log, theta_log, gamma_log: (state_size,)``, ``B_re, B_im: (state_size, input_size)``,
    ``C_re, C_im: (output_size, state_size)``, ``D: (output_size, input_size)``.
    """

    def __init__(self, input_size: int, state_size: int, output_size: int, r_min: float = 0.9,
                 r_max: float = 0.999, max_phase: float = 2 * math.pi):
        super().__init__()
        nu_log, theta_log, gamma_log = lru_init(state_size, r_min, r_max, max_phase, dtype=torch.float32)
        self.nu_log, self.theta_log, self.gamma_log = (nn.Parameter(p) for p in (nu_log, theta_log, gamma_log))
        self.B_re = nn.Parameter(torch.randn(state_size, input_size) / math.sqrt(2 * input_size))
        self.B_im = nn.Parameter(torch.randn(state_size, input_size) / math.sqrt(2 * input_size))
        self.C_re = nn.Parameter(torch.randn(output_size, state_size) / math.sqrt(state_size))
        self.C_im = nn.Parameter(torch.randn(output_size, state_size) / math.sqrt(state_size))
        self.D = nn.Parameter(torch.randn(output_size, input_size) / math.sqrt(input_size))

    def eigenvalues(self) -> torch.Tensor:
        """lambda: (state_size,) complex."""
        return torch.polar(torch.exp(-torch.exp(self.nu_log)), torch.exp(self.theta_log))

    def states(self, x: torch.Tensor) -> torch.Tensor:
        """x: (batch, time, input_size) -> h: (batch, time, state_size) complex."""
        if x.dim() != 3 or x.shape[2] != self.B_re.shape[1]:
            raise ValueError(f"x must have shape (batch, time, {self.B_re.shape[1]}), got {tuple(x.shape)}")
        B = torch.complex(self.B_re, self.B_im) * torch.exp(self.gamma_log)[:, None]
        bx = x.to(B.dtype) @ B.T
        return linear_recurrence_scan(self.eigenvalues(), bx)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        C = torch.complex(self.C_re, self.C_im)
        return (self.states(x) @ C.T).real + x @ self.D.T
