"""Chapter 4 answered differently from an obvious reference, as data: grade_id -> answer cell source.

Every answer follows the notebook's instructions; where they leave a choice open this variant
takes another road (row-vector recurrence h @ W.T, Jacobians filled into one preallocated
(T + 1, n, n) array unit by unit, spectral norms from torch.linalg.svdvals, sigma_max from the
singular values, the global norm accumulated in a Python loop, scaling with np.multiply, the
predictions written as fractions and a rounded number, the norms at rest measured with backward
passes from a zero state instead of the matrix powers they equal).
The written answer (``explain``) is graded by a person and has no variant here.
"""

# states as row vectors (h @ W.T is W h); one autograd call per unit fills row i of every Jacobian
# in a (T + 1, n, n) array; spectral norms from the largest singular value (torch.linalg.svdvals)
JACOBIAN_NORMS = '''
def jacobian_norms(W, inputs, h0):
    """Spectral norms of d h_T / d h_{T-d} for d = 0..T in h_t = tanh(W h_{t-1} + u_t).

    W: (n, n), inputs: (T, n), h0: (n,)  ->  norms: (T + 1,) numpy float64 array
    """
    W_t = torch.as_tensor(np.asarray(W, dtype=np.float64))
    u = torch.as_tensor(np.asarray(inputs, dtype=np.float64))
    T, n = u.shape[0], W_t.shape[0]
    states = [torch.tensor(np.asarray(h0, dtype=np.float64), requires_grad=True)]
    for t in range(T):
        states.append(torch.tanh(states[-1] @ W_t.T + u[t]))
    h_T = states[-1]
    jacobians = torch.zeros(T + 1, n, n, dtype=torch.float64)   # jacobians[k] = d h_T / d h_k
    for i in range(n):
        rows = torch.autograd.grad(h_T[i], states, retain_graph=True, allow_unused=True)
        for k, row in enumerate(rows):
            if row is not None:
                jacobians[k, i] = row
    norms = torch.linalg.svdvals(jacobians).max(dim=-1).values   # (T + 1,), indexed by k
    return norms.flip(0).numpy().astype(np.float64)              # index d = T - k
'''

# gamma from an if-chain; sigma_max as the largest singular value from np.linalg.svd
CLASSIFY_REGIME = '''
def classify_regime(W, activation):
    """W: (n, n) numpy array, activation: "tanh" | "sigmoid" | "relu"  ->  str"""
    if activation == "sigmoid":
        gamma = 0.25
    elif activation in ("tanh", "relu"):
        gamma = 1.0
    else:
        raise ValueError(f"unknown activation {activation!r}")
    sigma_max = np.linalg.svd(np.asarray(W, dtype=np.float64), compute_uv=False).max()
    x = gamma * sigma_max
    if x > 1 + 1e-9:
        return "may_explode"
    if x < 1 - 1e-9:
        return "vanishing"
    return "boundary"
'''

# squared norm accumulated array by array in a Python loop; np.multiply into new arrays
CLIP_GLOBAL_NORM = '''
def clip_global_norm(grads, max_norm):
    """grads: list of numpy arrays, max_norm: float >= 0  ->  (list of clipped arrays, float total norm)"""
    squared = 0.0
    for g in grads:
        squared += float(np.vdot(g, g))
    total_norm = float(np.sqrt(squared))
    scale = max_norm / (total_norm + 1e-6)
    if scale > 1.0:
        scale = 1.0
    clipped = [np.multiply(g, scale) for g in grads]
    return clipped, total_norm
'''

# the predictions as a student may write them: fractions, an int where a number is asked for,
# and the norm at d = 12 rounded to four significant digits
TRANSIENT_PREDICTION = '''
# Your predictions: literal values worked out by hand (see the table above). Assign all six names,
# predicted_radius, predicted_sigma_max, predicted_shape, predicted_peak, predicted_peak_norm and
# predicted_norm_at_end, for example: predicted_radius = 0.25
predicted_radius = 9 / 10            # A is nilpotent; B = 0.9 x rotation has |eigenvalues| = 0.9
predicted_sigma_max = 3              # the largest weight of the shift A
predicted_shape = "transient"        # grows while A still acts, then decays like 0.9^d
predicted_peak = 3                   # A^3 multiplies the three weights: 3 * 1 * 2
predicted_peak_norm = 6
predicted_norm_at_end = 0.2824       # 0.9 ** 12 to four digits
'''

# a graph from a zero state that requires grad, one backward pass per unit of h_T through all
# states at once; spectral norms from numpy's singular values
NORMS_AT_REST = '''
def norms_at_rest(W, T):
    """Spectral norms of d h_T / d h_{T-d}, d = 0..T, for h_t = tanh(W h_{t-1}) started at h_0 = 0.

    W: (n, n), T: int >= 1  ->  norms: (T + 1,) numpy float64 array
    """
    weight = torch.tensor(np.array(W, dtype=np.float64))
    n = weight.shape[0]
    start = torch.zeros(n, dtype=torch.float64, requires_grad=True)
    states = [start]
    for _ in range(T):
        states.append(torch.tanh(states[-1] @ weight.T))
    rows = np.zeros((T + 1, n, n))          # rows[k, i] = d h_T[i] / d h_k
    for i in range(n):
        grads = torch.autograd.grad(states[-1][i], states, retain_graph=True, allow_unused=True)
        for k, g in enumerate(grads):
            rows[k, i] = 0.0 if g is None else g.numpy()
    largest = np.linalg.svd(rows, compute_uv=False)[:, 0]   # by k; d = T - k
    return np.ascontiguousarray(largest[::-1], dtype=np.float64)
'''

VARIANT = {
    "jacobian_norms": JACOBIAN_NORMS,
    "classify_regime": CLASSIFY_REGIME,
    "clip_global_norm": CLIP_GLOBAL_NORM,
    "transient_prediction": TRANSIENT_PREDICTION,
    "norms_at_rest": NORMS_AT_REST,
}
