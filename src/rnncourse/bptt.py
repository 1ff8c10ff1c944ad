"""Backpropagation through time for a vanilla RNN, in the notation of Goodfellow et al. (ch. 10).

For a batch of sequences, every time step t = 1..T computes (row vectors, batch-first)

    a_t = b + h_{t-1} W^T + x_t U^T        (batch, hidden)
    h_t = tanh(a_t)                         (batch, hidden)
    o_t = c + h_t V^T                       (batch, output)
    yhat_t = softmax(o_t),   L = sum over batch and time of -log yhat_t[y_t]

with the parameters (``torch.nn`` layouts: ``U`` is ``weight_ih``, ``W`` is ``weight_hh``)

    U: (hidden, input)   W: (hidden, hidden)   V: (output, hidden)   b: (hidden,)   c: (output,)

Inputs ``x`` are either a float array ``(batch, time, input)`` or integer token ids
``(batch, time)``; ids stand for one-hot rows, so ``x_t U^T`` is the column ``U[:, id]``.

The backward pass is the textbook recursion

    dL/do_t = yhat_t - onehot(y_t)
    dL/dh_T = dL/do_T V
    dL/dh_t = dL/do_t V + (dL/dh_{t+1} * (1 - h_{t+1}^2)) W
    dL/da_t = dL/dh_t * (1 - h_t^2)

followed by sums over time: db = sum_t dL/da_t, dW = sum_t dL/da_t^T h_{t-1},
dU = sum_t dL/da_t^T x_t, dc = sum_t dL/do_t, dV = sum_t dL/do_t^T h_t, and
dL/dh_0 = dL/da_1 W.  Only the two recursions run step by step; every sum over time is
one matrix product over all (batch * time) rows at once.
"""
from __future__ import annotations

import numpy as np

PARAM_NAMES = ("U", "W", "V", "b", "c")


def init_params(input_size: int, hidden_size: int, output_size: int,
                rng: np.random.Generator, scale: float = 0.01, dtype=np.float64) -> dict:
    """Small Gaussian weights (std ``scale``) and zero biases; shapes as in the module docstring."""
    for name, value in [("input_size", input_size), ("hidden_size", hidden_size),
                        ("output_size", output_size)]:
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return {
        "U": (rng.standard_normal((hidden_size, input_size)) * scale).astype(dtype),
        "W": (rng.standard_normal((hidden_size, hidden_size)) * scale).astype(dtype),
        "V": (rng.standard_normal((output_size, hidden_size)) * scale).astype(dtype),
        "b": np.zeros(hidden_size, dtype=dtype),
        "c": np.zeros(output_size, dtype=dtype),
    }


def check_params(params: dict) -> tuple[int, int, int]:
    """Validate ``params`` and return (input_size, hidden_size, output_size)."""
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict with keys {PARAM_NAMES}, got {type(params).__name__}")
    missing = [k for k in PARAM_NAMES if k not in params]
    if missing:
        raise ValueError(f"params is missing {missing}; expected keys {PARAM_NAMES}")
    for k in PARAM_NAMES:
        if not isinstance(params[k], np.ndarray):
            raise TypeError(f"params[{k!r}] must be a numpy array, got {type(params[k]).__name__}")
    U, W, V, b, c = (params[k] for k in PARAM_NAMES)
    hidden, inputs = U.shape if U.ndim == 2 else (None, None)
    if U.ndim != 2 or W.shape != (hidden, hidden) or b.shape != (hidden,) or V.ndim != 2 \
            or V.shape[1] != hidden or c.shape != (V.shape[0],):
        raise ValueError("inconsistent shapes: expected U (H, D), W (H, H), V (K, H), b (H,), c (K,); "
                         f"got U {U.shape}, W {W.shape}, V {V.shape}, b {b.shape}, c {c.shape}")
    return inputs, hidden, V.shape[0]


def _check_inputs(x, h0, input_size: int, hidden_size: int) -> tuple[int, int]:
    if not isinstance(x, np.ndarray):
        raise TypeError(f"x must be a numpy array, got {type(x).__name__}")
    if np.issubdtype(x.dtype, np.integer):
        if x.ndim != 2:
            raise ValueError(f"integer x must hold token ids of shape (batch, time), got {x.shape}")
        if x.size and (x.min() < 0 or x.max() >= input_size):
            raise ValueError(f"token ids must lie in [0, {input_size}), got range [{x.min()}, {x.max()}]")
    elif x.ndim != 3 or x.shape[2] != input_size:
        raise ValueError(f"x must have shape (batch, time, {input_size}) or be integer ids "
                         f"(batch, time), got {x.shape}")
    batch, steps = x.shape[:2]
    if steps < 1:
        raise ValueError("x must have at least one time step")
    if not isinstance(h0, np.ndarray) or h0.shape != (batch, hidden_size):
        got = h0.shape if isinstance(h0, np.ndarray) else type(h0).__name__
        raise ValueError(f"h0 must be a numpy array of shape ({batch}, {hidden_size}), got {got}")
    return batch, steps


def rnn_forward(params: dict, x: np.ndarray, h0: np.ndarray | None = None) -> tuple[np.ndarray, dict]:
    """Run the RNN over ``x``.

    x:  (batch, time, input) floats, or (batch, time) integer ids
    h0: (batch, hidden), zeros when None
    returns o: (batch, time, output) logits, and a cache for ``rnn_backward``
    (``cache["h"]`` holds every state h_1..h_T, shape (batch, time, hidden)).
    """
    inputs, hidden, outputs = check_params(params)
    U, W, V, b, c = (params[k] for k in PARAM_NAMES)
    if h0 is None and isinstance(x, np.ndarray) and x.ndim >= 2:
        h0 = np.zeros((x.shape[0], hidden), dtype=U.dtype)
    batch, steps = _check_inputs(x, h0, inputs, hidden)
    # Time-major buffers keep every step's rows contiguous for the matrix products.
    if x.ndim == 2:
        a = np.take(np.ascontiguousarray(U.T), x.T, axis=0)   # (T, B, H): one-hot @ U^T is a row lookup
    else:
        a = (x.transpose(1, 0, 2).reshape(steps * batch, inputs) @ U.T).reshape(steps, batch, hidden)
    a += b
    WT = W.T
    h = np.empty((steps + 1, batch, hidden), dtype=a.dtype)
    h[0] = h0
    for t in range(steps):
        at = a[t]
        at += h[t] @ WT
        np.tanh(at, out=h[t + 1])
    o = (h[1:].reshape(steps * batch, hidden) @ V.T).reshape(steps, batch, outputs)
    o += c
    cache = {"x": x, "h_all": h, "params": params, "o_time_major": o}
    cache["h"] = h[1:].transpose(1, 0, 2)
    return o.transpose(1, 0, 2), cache


def log_softmax(o: np.ndarray) -> np.ndarray:
    """Numerically stable log-softmax over the last axis (subtracts the row maximum first)."""
    shifted = o - o.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax_cross_entropy(o: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Summed cross-entropy of logits ``o`` (..., K) against integer targets ``y`` (...).

    returns (L, dL/do) with L = sum of -log softmax(o)[y] and dL/do = softmax(o) - onehot(y).
    """
    if not isinstance(y, np.ndarray) or not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"y must be an integer numpy array, got {getattr(y, 'dtype', type(y).__name__)}")
    if o.shape[:-1] != y.shape:
        raise ValueError(f"y must have shape {o.shape[:-1]} to match o {o.shape}, got {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= o.shape[-1]):
        raise ValueError(f"targets must lie in [0, {o.shape[-1]}), got range [{y.min()}, {y.max()}]")
    K = o.shape[-1]
    flat = o.reshape(-1, K)
    rows = np.arange(flat.shape[0])
    yf = y.reshape(-1)
    shifted = flat - flat.max(axis=1, keepdims=True)
    picked = shifted[rows, yf]                          # log-softmax of the target = picked - log(total)
    probs = np.exp(shifted, out=shifted)
    total = probs.sum(axis=1, keepdims=True)
    loss = float(np.sum(np.log(total[:, 0]) - picked))
    probs /= total
    probs[rows, yf] -= 1.0
    return loss, probs.reshape(o.shape)


def rnn_backward(do: np.ndarray, cache: dict) -> dict:
    """Gradients of L given dL/do.

    do: (batch, time, output) -- dL/do_t for every step (``softmax_cross_entropy`` gives it)
    returns a dict with dL/dU, dL/dW, dL/dV, dL/db, dL/dc (shapes of the parameters) and
    dL/dh0 (batch, hidden), under the keys "U", "W", "V", "b", "c", "h0".
    """
    h = cache["h_all"]
    steps, batch, outputs = h.shape[0] - 1, h.shape[1], cache["params"]["V"].shape[0]
    if not isinstance(do, np.ndarray) or do.shape != (batch, steps, outputs):
        raise ValueError(f"do must have shape ({batch}, {steps}, {outputs}), got {getattr(do, 'shape', do)}")
    return _backward_time_major(np.ascontiguousarray(do.transpose(1, 0, 2)), cache)


def _backward_time_major(do_tm: np.ndarray, cache: dict) -> dict:
    """``rnn_backward`` with dL/do given time-major and contiguous, (time, batch, output)."""
    params, x, h = cache["params"], cache["x"], cache["h_all"]
    U, W, V = params["U"], params["W"], params["V"]
    steps, batch, hidden = h.shape[0] - 1, h.shape[1], h.shape[2]
    outputs = V.shape[0]
    do_tm = do_tm.reshape(steps * batch, outputs)
    states = h[1:].reshape(steps * batch, hidden)
    grads = {"c": do_tm.sum(axis=0), "V": do_tm.T @ states}
    # dL/dh_t from the output at step t, for all t at once; then the recursion adds the future.
    da = (do_tm @ V).reshape(steps, batch, hidden)
    deriv = 1.0 - h[1:] * h[1:]                     # tanh'(a_t) = 1 - h_t^2
    for t in range(steps - 1, -1, -1):
        dat = da[t]
        if t < steps - 1:
            dat += da[t + 1] @ W                        # dL/dh_t += dL/da_{t+1} W
        dat *= deriv[t]                                 # dL/da_t = dL/dh_t * (1 - h_t^2)
    da_flat = da.reshape(steps * batch, hidden)
    grads["b"] = da_flat.sum(axis=0)
    grads["W"] = da_flat.T @ h[:-1].reshape(steps * batch, hidden)
    if x.ndim == 2:
        grads["U"] = _sum_rows_by_id(da_flat, x.T.reshape(-1), U.shape[1]).T
    else:
        grads["U"] = da_flat.T @ x.transpose(1, 0, 2).reshape(steps * batch, U.shape[1])
    grads["h0"] = da[0] @ W
    return grads


def _sum_rows_by_id(rows: np.ndarray, ids: np.ndarray, size: int) -> np.ndarray:
    """out[k] = sum of rows[n] over n with ids[n] == k, shape (size, columns).

    Equal to onehot(ids)^T @ rows; sorting by id and summing runs is faster than both
    that product and ``np.add.at``.
    """
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
    out = np.zeros((size, rows.shape[1]), dtype=rows.dtype)
    out[sorted_ids[starts]] = np.add.reduceat(rows[order], starts, axis=0)
    return out


def loss_and_grads(params: dict, x: np.ndarray, y: np.ndarray,
                   h0: np.ndarray | None = None) -> tuple[float, dict, np.ndarray]:
    """Forward, summed cross-entropy and backward in one call.

    returns (L, grads, h_T) where h_T (batch, hidden) is the last state (to carry forward).
    """
    o, cache = rnn_forward(params, x, h0)
    if not isinstance(y, np.ndarray) or y.shape != o.shape[:2]:
        raise ValueError(f"y must be an array of shape {o.shape[:2]}, got {getattr(y, 'shape', type(y).__name__)}")
    # Work time-major, as the forward pass stored it: no transposed copies of o and dL/do.
    loss, do_tm = softmax_cross_entropy(cache["o_time_major"], y.T)
    return loss, _backward_time_major(do_tm, cache), cache["h_all"][-1].copy()
