"""How gradients travel back through a recurrent net: Jacobian products and their norms.

The recurrence studied here is the vanilla RNN with the input already projected,

    a_t = W h_{t-1} + u_t,      h_t = f(a_t),      t = 1..T,

with W: (n, n) (``weight_hh`` of ``torch.nn.RNN``), u_t: (n,) and h_t: (n,).  By
the chain rule

    dh_T/dh_k = J_T J_{T-1} ... J_{k+1},      J_s = dh_s/dh_{s-1} = diag(f'(a_s)) W,

so ``||dh_T/dh_k|| <= (gamma * sigma_max(W)) ** (T - k)`` with gamma = sup |f'|.
``jacobian_norms`` *measures* the left side with real backward passes of
``torch.autograd``; ``jacobian_product`` builds the same matrices from the formula;
``classify_regime`` reads the bound.
"""
from __future__ import annotations

import numpy as np
import torch

# activation name -> (function on tensors, gamma = sup |f'|)
ACTIVATIONS = {
    "tanh": (torch.tanh, 1.0),
    "sigmoid": (torch.sigmoid, 0.25),
    "relu": (torch.relu, 1.0),
    "linear": (lambda a: a, 1.0),
}
REGIMES = ("vanishing", "boundary", "may_explode")


def _activation(name: str):
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]


def _square(W) -> np.ndarray:
    if isinstance(W, torch.Tensor):
        W = W.detach().cpu().numpy()
    if not isinstance(W, np.ndarray):
        raise TypeError(f"W must be a numpy array or torch tensor, got {type(W).__name__}")
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be a square matrix of shape (n, n), got shape {W.shape}")
    return W.astype(np.float64)


def derivative_bound(activation: str) -> float:
    """gamma = sup_a |f'(a)|: 1 for tanh, relu and linear, 1/4 for the logistic sigmoid."""
    return _activation(activation)[1]


def largest_singular_value(W) -> float:
    """sigma_max(W) = ||W||_2, the most W can stretch any vector."""
    return float(np.linalg.norm(_square(W), 2))


def spectral_radius(W) -> float:
    """rho(W) = max |eigenvalue|; governs ||W^k|| only as k -> infinity."""
    return float(np.max(np.abs(np.linalg.eigvals(_square(W)))))


def classify_regime(W, activation: str = "tanh", tol: float = 1e-9) -> str:
    """Read the regime from x = gamma * sigma_max(W).

    ``"vanishing"``   x < 1: sufficient for vanishing, ||dh_T/dh_k|| <= x^(T-k) -> 0.
    ``"boundary"``    x = 1 (within ``tol``): the bound neither shrinks nor grows.
    ``"may_explode"`` x > 1: the necessary condition for exploding holds; whether
                      gradients do explode depends on the states (saturation).
    """
    x = derivative_bound(activation) * largest_singular_value(W)
    if x < 1.0 - tol:
        return "vanishing"
    if x > 1.0 + tol:
        return "may_explode"
    return "boundary"


def run_recurrence(W, inputs=None, h0=None, activation: str = "tanh", steps: int | None = None):
    """Run ``h_t = f(W h_{t-1} + u_t)`` in float64 torch with autograd on.

    W: (n, n); inputs: (T, n) or None (zeros, then ``steps`` gives T); h0: (n,) or None (zeros).
    Returns the list [h_0, h_1, ..., h_T] of (n,) tensors; h_0 is a leaf that requires grad,
    so every state is part of one graph.
    """
    f, _ = _activation(activation)
    W = torch.as_tensor(_square(W))
    n = W.shape[0]
    if inputs is None:
        if steps is None or steps < 1:
            raise ValueError("give inputs of shape (T, n) or a positive number of steps")
        inputs = np.zeros((steps, n))
    inputs = torch.as_tensor(np.asarray(inputs, dtype=np.float64))
    if inputs.ndim != 2 or inputs.shape[1] != n:
        raise ValueError(f"inputs must have shape (T, {n}), got {tuple(inputs.shape)}")
    h0 = torch.zeros(n, dtype=torch.float64) if h0 is None else torch.as_tensor(np.asarray(h0, dtype=np.float64))
    if h0.shape != (n,):
        raise ValueError(f"h0 must have shape ({n},), got {tuple(h0.shape)}")
    h = h0.clone().requires_grad_(True)
    states = [h]
    for u in inputs:
        h = f(W @ h + u)
        states.append(h)
    return states


def state_jacobians(states: list[torch.Tensor]) -> np.ndarray:
    """All Jacobians dh_T/dh_k, k = 0..T, from n backward passes through the graph.

    states: [h_0, ..., h_T] from ``run_recurrence``.  Returns J of shape (T + 1, n, n) with
    J[k, i, j] = d h_T[i] / d h_k[j]; J[T] is the identity.  Backward pass i sends the
    unit vector e_i back from h_T and reads the gradient that arrives at every h_k.
    """
    h_T = states[-1]
    n = h_T.shape[0]
    J = np.zeros((len(states), n, n))
    for i in range(n):
        grads = torch.autograd.grad(h_T[i], states, retain_graph=True, allow_unused=True)
        for k, g in enumerate(grads):
            if g is not None:
                J[k, i] = g.numpy()
    return J


def jacobian_norms(W, inputs=None, h0=None, activation: str = "tanh", steps: int | None = None,
                   ord=2) -> tuple[np.ndarray, np.ndarray]:
    """Measure ||dh_T/dh_k|| against the distance d = T - k with real backward passes.

    Arguments as in ``run_recurrence``; ``ord`` is 2 (largest singular value) or "fro".
    Returns (distances, norms), both of shape (T + 1,), distances = 0, 1, ..., T
    (norms[0] = ||I|| is 1 for ord=2).
    """
    if ord not in (2, "fro"):
        raise ValueError(f"ord must be 2 or 'fro', got {ord!r}")
    J = state_jacobians(run_recurrence(W, inputs, h0, activation, steps))
    T = J.shape[0] - 1
    norms = np.array([np.linalg.norm(J[T - d], ord) for d in range(T + 1)])
    return np.arange(T + 1), norms


def jacobian_product(W, states: list[torch.Tensor], activation: str = "tanh") -> np.ndarray:
    """The same Jacobians from the formula: J[k] = prod_{s=T}^{k+1} diag(f'(a_s)) W.

    f' is read from the states: 1 - h^2 for tanh, h (1 - h) for sigmoid, [h > 0] for relu,
    1 for linear.  Returns an array of shape (T + 1, n, n) like ``state_jacobians``.
    """
    _activation(activation)
    W = _square(W)
    h = np.stack([s.detach().numpy() for s in states])
    slope = {"tanh": lambda v: 1.0 - v ** 2, "sigmoid": lambda v: v * (1.0 - v),
             "relu": lambda v: (v > 0).astype(np.float64), "linear": np.ones_like}[activation]
    T, n = h.shape[0] - 1, W.shape[0]
    J = np.zeros((T + 1, n, n))
    J[T] = np.eye(n)
    for k in range(T - 1, -1, -1):
        J[k] = J[k + 1] @ (slope(h[k + 1])[:, None] * W)
    return J


def scaled_orthogonal(n: int, radius: float, seed: int = 0) -> np.ndarray:
    """A random orthogonal matrix times ``radius``: every eigenvalue and singular value has size ``radius``."""
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    return radius * q * np.sign(np.diag(r))


def shifted_diagonal(n: int, diagonal: float, shift: float) -> np.ndarray:
    """``diagonal * I + shift * S`` with S the superdiagonal shift: eigenvalues all equal ``diagonal``,
    but sigma_max close to ``|diagonal| + |shift|`` -- a non-normal matrix."""
    return diagonal * np.eye(n) + shift * np.eye(n, k=1)


def gradient_contributions(W, inputs=None, h0=None, activation: str = "tanh", steps: int | None = None,
                           readout=None) -> tuple[np.ndarray, np.ndarray]:
    """Split dL/dW into one term per time step (Pascanu, Mikolov & Bengio 2013, eq. 3-5).

    The loss is read at the last step, L = v . h_T with ``readout`` v: (n,) (default: all ones).
    Unrolled over T steps, the recurrence uses the same W at every step; give step k its own
    copy W_k and the chain rule splits the gradient into

        dL/dW = sum_k dL/dW_k,    dL/dW_k = (dL/dh_T)(dh_T/dh_k) (d+h_k/dW)
                                          = diag(f'(a_k)) (dh_T/dh_k)^T v  h_{k-1}^T,

    the contribution of the step at distance d = T - k: short-range terms (small d) and
    long-range terms (large d), whose size carries the Jacobian product dh_T/dh_k.

    Arguments as in ``run_recurrence``.  Returns (terms, total): terms of shape (T, n, n),
    ordered by distance, terms[d] = dL/dW_k with k = T - d for d = 0, ..., T - 1; and
    total = dL/dW of shape (n, n), measured with one shared W; ``terms.sum(0)`` equals it.
    """
    f, _ = _activation(activation)
    W0 = _square(W)
    n = W0.shape[0]
    if inputs is None:
        if steps is None or steps < 1:
            raise ValueError("give inputs of shape (T, n) or a positive number of steps")
        inputs = np.zeros((steps, n))
    inputs = np.asarray(inputs, dtype=np.float64)
    if inputs.ndim != 2 or inputs.shape[1] != n:
        raise ValueError(f"inputs must have shape (T, {n}), got {inputs.shape}")
    v = np.ones(n) if readout is None else np.asarray(readout, dtype=np.float64)
    if v.shape != (n,):
        raise ValueError(f"readout must have shape ({n},), got {v.shape}")
    h0 = np.zeros(n) if h0 is None else np.asarray(h0, dtype=np.float64)
    if h0.shape != (n,):
        raise ValueError(f"h0 must have shape ({n},), got {h0.shape}")

    def loss(weights):
        h = torch.as_tensor(h0)
        for W_k, u in zip(weights, torch.as_tensor(inputs)):
            h = f(W_k @ h + u)
        return torch.as_tensor(v) @ h

    copies = [torch.tensor(W0, requires_grad=True) for _ in range(len(inputs))]
    per_step = torch.autograd.grad(loss(copies), copies)
    shared = torch.tensor(W0, requires_grad=True)
    (total,) = torch.autograd.grad(loss([shared] * len(inputs)), shared)
    terms = np.stack([g.numpy() for g in per_step[::-1]])  # distance 0 first
    return terms, total.numpy()


def scalar_loss_landscape(w, steps: int, h0: float, bias: float, target: float) -> tuple[np.ndarray, np.ndarray]:
    """Loss and gradient of the one-unit net h_t = tanh(w h_{t-1} + bias), L(w) = (h_T - target)^2.

    w: array of weights (any shape), evaluated independently, float64.  Returns (L, dL/dw), both
    shaped like w; dL/dw comes from a backward pass.  Where a small change of w sends h_T to a
    different fixed point, L jumps and dL/dw is huge: the "cliff" of Pascanu et al. (2013).
    """
    if not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    w = torch.tensor(np.asarray(w, dtype=np.float64), requires_grad=True)
    h = torch.full_like(w, float(h0))
    for _ in range(steps):
        h = torch.tanh(w * h + bias)
    loss = (h - target) ** 2
    (grad,) = torch.autograd.grad(loss.sum(), w)
    return loss.detach().numpy(), grad.numpy()
