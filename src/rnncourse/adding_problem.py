"""The adding problem of Le, Jaitly & Hinton (2015), a long-range regression task.

Every example is a sequence of ``length`` steps with two input channels:

* channel 0 holds numbers drawn independently and uniformly from ``[0, 1]``;
* channel 1 is a marker: exactly two entries are 1, all others 0.  The first
  marked step is uniform over the first half of the sequence (steps
  ``0 .. length // 2 - 1``), the second uniform over the second half
  (steps ``length // 2 .. length - 1``).

The target is the sum of the two marked numbers.  Predicting the constant 1
(the mean of the target) scores a mean squared error equal to the variance of
a sum of two independent U[0, 1] numbers, ``2 / 12 = 1/6 ≈ 0.167``: the
baseline a model must beat.

This is the paper's version.  Hochreiter & Schmidhuber's original (1997)
differs: values in [-1, 1], the first mark within the first ten steps, and a
rescaled target ``0.5 + (a + b) / 4``.
"""
from __future__ import annotations

import torch

BASELINE_MSE = 1.0 / 6.0
"""Expected squared error of always predicting 1: Var(a + b) for a, b ~ U[0, 1] independent."""


def _check(batch_size: int, length: int) -> None:
    for name, value, low in (("batch_size", batch_size, 1), ("length", length, 2)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if value < low:
            raise ValueError(f"{name} must be at least {low}, got {value}")


def marker_positions(batch_size: int, length: int,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """Return the two marked steps of every example, shape ``(batch_size, 2)`` (int64).

    Column 0 is uniform over ``[0, length // 2)``, column 1 over ``[length // 2, length)``.
    """
    _check(batch_size, length)
    half = length // 2
    first = torch.randint(0, half, (batch_size,), generator=generator)
    second = torch.randint(half, length, (batch_size,), generator=generator)
    return torch.stack([first, second], dim=1)


def adding_batch(batch_size: int, length: int, generator: torch.Generator | None = None,
                 dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw a batch of the adding problem.

    Returns ``x`` of shape ``(batch_size, length, 2)`` (channel 0: values, channel 1:
    markers) and ``y`` of shape ``(batch_size,)``, the sum of the two marked values.
    Pass a seeded ``torch.Generator`` for reproducible batches.
    """
    _check(batch_size, length)
    values = torch.rand(batch_size, length, generator=generator, dtype=dtype)
    marks = torch.zeros(batch_size, length, dtype=dtype)
    pos = marker_positions(batch_size, length, generator)
    marks.scatter_(1, pos, 1.0)
    x = torch.stack([values, marks], dim=2)
    y = (values * marks).sum(dim=1)
    return x, y


def adding_dataset(size: int, length: int, seed: int,
                   dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed set of ``size`` examples drawn from a generator seeded with ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    return adding_batch(size, length, generator, dtype)


def constant_mse(y: torch.Tensor, constant: float = 1.0) -> float:
    """Mean squared error of predicting ``constant`` for every target in ``y`` (shape ``(n,)``)."""
    if not isinstance(y, torch.Tensor) or y.ndim != 1:
        raise ValueError(f"y must be a 1-D tensor of targets, got {type(y).__name__} "
                         f"with shape {getattr(y, 'shape', None)}")
    return float(((y - constant) ** 2).mean())
