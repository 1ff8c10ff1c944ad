"""minGRU (Feng et al., 2024): a GRU whose gate and candidate depend only on the input.

    z_t = sigmoid(W_z x_t + b_z),    h~_t = W_h x_t + b_h,    h_t = (1 - z_t) * h_{t-1} + z_t * h~_t

Because nothing on the right but ``h_{t-1}`` depends on the past, the states are the linear
recurrence ``h_t = a_t h_{t-1} + b_t`` with ``a_t = 1 - z_t`` and ``b_t = z_t h~_t``, all known
before the first step: training runs as a parallel scan instead of a loop.
"""
from __future__ import annotations

import torch
from torch import nn

from rnncourse.linear_recurrence import linear_recurrence_loop, linear_recurrence_scan


class MinGRU(nn.Module):
    """x: (batch, time, input_size) -> h: (batch, time, hidden_size).

    ``linear_z`` and ``linear_h`` are ``nn.Linear(input_size, hidden_size)`` (weights ``(hidden, input)``).
    """

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.linear_z = nn.Linear(input_size, hidden_size)
        self.linear_h = nn.Linear(input_size, hidden_size)

    def coefficients(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """a = 1 - z and b = z * h~, each (batch, time, hidden_size)."""
        if not isinstance(x, torch.Tensor) or x.dim() != 3 or x.shape[2] != self.linear_z.in_features:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x must be a tensor of shape (batch, time, {self.linear_z.in_features}), got {shape}")
        z = torch.sigmoid(self.linear_z(x))
        return 1 - z, z * self.linear_h(x)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
        """All states by the parallel scan."""
        return linear_recurrence_scan(*self.coefficients(x), h0)

    def forward_loop(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
        """All states by the step-by-step loop (the same values)."""
        return linear_recurrence_loop(*self.coefficients(x), h0)
