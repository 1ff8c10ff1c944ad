"""Gradient clipping on lists of NumPy gradients, equal to ``torch.nn.utils``'s versions.

Clip by global norm (``torch.nn.utils.clip_grad_norm_``): treat all gradients as one
long vector g, compute its norm ||g||, and if it exceeds ``max_norm`` scale *every*
gradient by the same factor

    coef = min(1, max_norm / (||g|| + eps)),      eps = 1e-6,

so the direction of the update is kept and only its length is capped.

Clip by value (``torch.nn.utils.clip_grad_value_``): clamp each entry to
[-clip_value, clip_value], which can change the direction.
"""
from __future__ import annotations

import math

import numpy as np

EPS = 1e-6  # the constant torch adds to the norm before dividing


def _grads(grads) -> list[np.ndarray]:
    if isinstance(grads, np.ndarray):
        grads = [grads]
    if not isinstance(grads, (list, tuple)):
        raise TypeError(f"grads must be a numpy array or a list of numpy arrays, got {type(grads).__name__}")
    for i, g in enumerate(grads):
        if not isinstance(g, np.ndarray):
            raise TypeError(f"grads[{i}] must be a numpy array, got {type(g).__name__}")
    return list(grads)


def global_norm(grads, norm_type: float = 2.0) -> float:
    """The norm of all gradients stacked into one vector (``norm_type`` 2, 1, any p > 0, or inf)."""
    grads = _grads(grads)
    norm_type = float(norm_type)
    if not norm_type > 0:
        raise ValueError(f"norm_type must be positive (or inf), got {norm_type}")
    if not grads:
        return 0.0
    if math.isinf(norm_type):
        return float(max(np.max(np.abs(g)) if g.size else 0.0 for g in grads))
    per_tensor = np.array([np.sum(np.abs(g) ** norm_type) ** (1.0 / norm_type) for g in grads])
    return float(np.sum(per_tensor ** norm_type) ** (1.0 / norm_type))


def clip_by_global_norm(grads, max_norm: float, norm_type: float = 2.0) -> tuple[list[np.ndarray], float]:
    """Scale every gradient by min(1, max_norm / (||g|| + 1e-6)).

    grads: list of arrays of any shapes.  Returns (clipped copies, total norm before clipping),
    the same numbers ``torch.nn.utils.clip_grad_norm_`` writes into ``.grad`` and returns.
    """
    grads = _grads(grads)
    if not max_norm >= 0:
        raise ValueError(f"max_norm must be a non-negative number, got {max_norm!r}")
    total = global_norm(grads, norm_type)
    coef = min(1.0, max_norm / (total + EPS))
    return [g * coef for g in grads], total


def clip_by_value(grads, clip_value: float) -> list[np.ndarray]:
    """Clamp every entry to [-clip_value, clip_value] (``torch.nn.utils.clip_grad_value_``)."""
    grads = _grads(grads)
    if not clip_value >= 0:
        raise ValueError(f"clip_value must be a non-negative number, got {clip_value!r}")
    return [np.clip(g, -clip_value, clip_value) for g in grads]
