"""A one-unit latch: storing a bit robustly forces the gradient to vanish (Bengio et al. 1994).

The unit runs ``h_t = tanh(w h_{t-1} + u_t + noise_t)``.  Step 1 writes a bit ``b = +-1`` with the
input ``u_1 = write * b``; afterwards there is no input, only noise ``noise_t ~ N(0, sigma^2)``
(t >= 2).  The bit is read at step T as ``sign(h_T)``.

For ``w > 1`` the map ``h -> tanh(w h)`` has two stable fixed points ``+-h*`` and an unstable one
at 0, and the slope at the attractors is ``lambda = w (1 - h*^2) < 1``.  Near an attractor the map
is a contraction, which is what makes the stored bit robust to noise, and it is the same factor
that multiplies the gradient: ``dh_T/dh_1 = prod_{s=2}^T w (1 - h_s^2)``, about ``lambda^(T-1)``.
"""
from __future__ import annotations

import numpy as np


def _check_weight(w: float) -> float:
    if not isinstance(w, (int, float, np.floating, np.integer)) or not np.isfinite(w) or w <= 0:
        raise ValueError(f"w must be a positive finite number, got {w!r}")
    return float(w)


def latch_fixed_point(w: float, iterations: int = 10_000) -> float:
    """The positive stable fixed point h* = tanh(w h*) of the latch without input (0.0 when w <= 1)."""
    w = _check_weight(w)
    if w <= 1.0:
        return 0.0
    h = 1.0
    for _ in range(iterations):  # from h = 1 the iteration decreases monotonically to h*
        h_next = np.tanh(w * h)
        if h_next == h:
            break
        h = h_next
    return float(h)


def attractor_slope(w: float) -> float:
    """lambda = w (1 - h*^2): the derivative of h -> tanh(w h) at the attractor (w itself when w <= 1)."""
    h = latch_fixed_point(w)
    return _check_weight(w) * (1.0 - h * h)


def latch_run(w: float, bits: np.ndarray, steps: int, noise: float, rng: np.random.Generator,
              write: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Store ``bits`` (shape (n,), entries +-1) for ``steps`` steps under noise.

    Returns ``states`` (steps, n), h_1 .. h_T, and ``grad`` (n,), dh_T/dh_1 of each sequence,
    the product of the one-step derivatives ``w (1 - h_s^2)`` for s = 2 .. T along its own path.
    """
    w = _check_weight(w)
    bits = np.asarray(bits, dtype=np.float64)
    if bits.ndim != 1 or not np.all(np.abs(bits) == 1.0):
        raise ValueError(f"bits must be a 1-d array of +1 and -1, got shape {bits.shape}")
    if not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    if not noise >= 0:
        raise ValueError(f"noise must be a standard deviation >= 0, got {noise!r}")
    h = np.tanh(write * bits)
    states, grad = [h], np.ones_like(h)
    for _ in range(steps - 1):
        h = np.tanh(w * h + noise * rng.standard_normal(h.shape))
        grad = grad * w * (1.0 - h * h)
        states.append(h)
    return np.stack(states), grad


def latch_sweep(weights, steps: int = 50, noise: float = 0.1, n: int = 2000, seed: int = 0) -> dict:
    """For every w: the fraction of bits still readable at step ``steps`` and the gradient that reaches step 1.

    Returns arrays over ``weights``: ``kept`` (fraction with sign(h_T) = b), ``grad`` (median of
    |dh_T/dh_1|) and ``slope`` (``attractor_slope(w)``, whose power ``steps - 1`` the gradient follows
    once the state sits at an attractor).  Each w gets its own generator seeded ``seed``.
    """
    kept, grad, slope = [], [], []
    for w in weights:
        rng = np.random.default_rng(seed)
        bits = rng.choice([-1.0, 1.0], size=n)
        states, g = latch_run(w, bits, steps, noise, rng)
        kept.append(float(np.mean(np.sign(states[-1]) == bits)))
        grad.append(float(np.median(np.abs(g))))
        slope.append(attractor_slope(w))
    return {"w": np.asarray(weights, dtype=float), "kept": np.array(kept), "grad": np.array(grad),
            "slope": np.array(slope)}
