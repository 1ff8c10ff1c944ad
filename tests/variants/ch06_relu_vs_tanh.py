"""Answers to chapter 6 written differently from the reference, as data: grade_id -> answer cell source.

Written from the student notebook only.  Each answer follows the instructions (the recurrence,
the (batch, time) norms after each step, the ValueErrors, a Python float where one is asked for)
but makes its own choices wherever they leave one open: the recurrence run in torch and handed
back as NumPy, the growth factor through logarithms, the dead units by their largest magnitude.
The written answer (``explain``) is graded by a person and has no variant here.
"""

# the nonlinearity looked up in a dict (KeyError turned into ValueError), the recurrence run in
# torch float64 and the norms returned as a NumPy array, the norm written as sqrt(sum of squares)
STATE_NORMS = '''
def state_norms(x, h0, W_xh, W_hh, b_h, nonlinearity="relu"):
    """Euclidean norm of every hidden state of a one-layer RNN.

    x: (batch, time, input_size), h0: (batch, hidden_size),
    W_xh: (hidden_size, input_size), W_hh: (hidden_size, hidden_size), b_h: (hidden_size,)
    returns norms: (batch, time), norms[b, t] = ||h_{t+1}|| of sequence b
    """
    activations = {"tanh": torch.tanh, "relu": torch.relu}
    try:
        f = activations[nonlinearity]
    except (KeyError, TypeError):
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', not {nonlinearity!r}") from None
    xs = torch.as_tensor(np.asarray(x, dtype=np.float64))
    h = torch.as_tensor(np.asarray(h0, dtype=np.float64))
    A = torch.as_tensor(np.asarray(W_xh, dtype=np.float64))
    R = torch.as_tensor(np.asarray(W_hh, dtype=np.float64))
    b = torch.as_tensor(np.asarray(b_h, dtype=np.float64))
    columns = []
    for t in range(xs.shape[1]):
        h = f(xs[:, t] @ A.T + h @ R.T + b)
        columns.append(torch.sqrt((h * h).sum(dim=1)))
    if not columns:
        return np.zeros((xs.shape[0], 0))
    return torch.stack(columns, dim=1).numpy()
'''

# the factor as exp of the mean log-ratio per step, with math, after explicit validation
GROWTH_FACTOR = '''
import math


def growth_factor(norms, start=0):
    """norms: (T,) positive numbers -> average factor per step from index start to T-1 (float)."""
    values = np.asarray(norms, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"norms must be 1-D, got shape {values.shape}")
    steps = values.shape[0] - 1 - start
    if steps < 1:
        raise ValueError(f"no entry after start={start} in a curve of length {values.shape[0]}")
    log_ratio = math.log(values[-1]) - math.log(values[start])
    return float(math.exp(log_ratio / steps))
'''

# every unit's largest magnitude over all sequences and steps, compared with tol, units counted in a loop
DEAD_UNITS = '''
def dead_unit_fraction(states, tol=0.0):
    """states: (batch, time, hidden) -> fraction of units with |h| <= tol everywhere (float)."""
    states = np.asarray(states)
    hidden = states.shape[-1]
    peak = np.abs(states.reshape(-1, hidden)).max(axis=0)
    dead = 0
    for unit in range(hidden):
        if peak[unit] <= tol:
            dead += 1
    return dead / hidden
'''

VARIANT = {
    "state_norms": STATE_NORMS,
    "growth_factor": GROWTH_FACTOR,
    "dead_units": DEAD_UNITS,
}
