"""Check analytic gradients against centred finite differences.

    df/dx_i ~= (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)        error O(eps^2)

The comparison uses one number for a whole array, the relative error

    ||g_analytic - g_numeric|| / (||g_analytic|| + ||g_numeric||)

which is 0 for equal gradients, 1 for opposite ones, and does not blow up where single
entries are zero.  In float64 with eps = 1e-5 a correct gradient of a smooth function
gives about 1e-9 or less; a wrong one gives 1e-2 or more.
"""
from __future__ import annotations

from typing import Callable

import numpy as np


def relative_error(a, b) -> float:
    """||a - b|| / (||a|| + ||b||) for two arrays of the same shape (0.0 when both are zero)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"arrays must have the same shape, got {a.shape} and {b.shape}")
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    if denom == 0.0:
        return 0.0
    return float(np.linalg.norm(a - b) / denom)


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Centred-difference gradient of the scalar ``f()`` with respect to the array ``x``.

    ``x`` is changed in place one entry at a time and restored afterwards, so ``f`` must
    read ``x`` (for example a closure over a parameter dict).  Returns an array shaped like x.
    """
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"x must be a float numpy array, got {getattr(x, 'dtype', type(x).__name__)}")
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps}")
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat, x):
        raise ValueError("x must be contiguous so that it can be perturbed in place")
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = float(f())
        flat[i] = old - eps
        down = float(f())
        flat[i] = old
        gflat[i] = (up - down) / (2.0 * eps)
    return grad


def check_gradients(f: Callable[[], float], arrays: dict, grads: dict,
                    eps: float = 1e-5) -> dict:
    """Relative error of ``grads[name]`` against the numerical gradient, for every name in ``arrays``.

    arrays: name -> the array that ``f`` reads (perturbed in place);
    grads:  name -> the analytic gradient of ``f`` with respect to it.
    """
    errors = {}
    for name, x in arrays.items():
        if name not in grads:
            raise ValueError(f"no analytic gradient for {name!r}; have {sorted(grads)}")
        if np.shape(grads[name]) != x.shape:
            raise ValueError(f"gradient of {name!r} has shape {np.shape(grads[name])}, expected {x.shape}")
        errors[name] = relative_error(grads[name], numerical_gradient(f, x, eps))
    return errors
