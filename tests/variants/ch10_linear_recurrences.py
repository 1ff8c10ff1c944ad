"""Answers to chapter 10 written differently from the reference, as data: grade_id -> answer cell source.

Each is correct within the instructions: a loop that preallocates, the work-efficient odd-even scan
(recursive) instead of doubling, eigenvalues drawn phase first through the inverse of the ring's
area, and a minGRU that computes its gate in log space and loops on its own.
"""

RECURRENCE = '''
def linear_recurrence(a, b, h0=None):
    """a, b: (batch, time, hidden); h0: (batch, hidden) or None -> h: (batch, time, hidden)."""
    previous = 0 if h0 is None else h0
    rows = []
    for a_t, b_t in zip(a.unbind(1), b.unbind(1)):
        previous = b_t + a_t * previous
        rows.append(previous)
    return torch.stack(rows, 1).to(b.dtype)
'''

# odd-even reduction: O(T) work, recursion depth log2 T
SCAN = '''
def parallel_scan(a, b, h0=None):
    """a, b: (batch, time, hidden); h0: (batch, hidden) or None -> h: (batch, time, hidden), in O(log T) rounds."""
    if h0 is not None:
        first = b[:, :1] + a[:, :1] * h0.unsqueeze(1)
        b = torch.cat((first, b[:, 1:]), 1)
    T = b.shape[1]
    if T == 1:
        return b
    pairs = T // 2
    a_left, a_right = a[:, 0:2 * pairs:2], a[:, 1:2 * pairs:2]
    right = parallel_scan(a_right * a_left, a_right * b[:, 0:2 * pairs:2] + b[:, 1:2 * pairs:2])
    left = torch.cat((b[:, :1], a[:, 2::2] * right[:, :(T - 1) // 2] + b[:, 2::2]), 1)
    out = torch.stack((left[:, :pairs], right), 2).flatten(1, 2)
    return torch.cat((out, left[:, pairs:]), 1)
'''

LRU_INIT = '''
def lru_init(n, r_min, r_max, max_phase, rng):
    """-> nu_log, theta_log, gamma_log: (n,) float64 each; |lambda| = exp(-exp(nu_log)), arg lambda = exp(theta_log)."""
    phase = rng.random(n) * max_phase
    radius = np.sqrt(rng.uniform(r_min ** 2, r_max ** 2, size=n))
    return np.log(-np.log(radius)), np.log(phase), np.log(np.sqrt(1 - radius * radius))
'''

MINGRU = '''
class MinGRU(torch.nn.Module):
    """x: (batch, time, input_size) -> h: (batch, time, hidden_size)."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.linear_h = torch.nn.Linear(input_size, hidden_size)
        self.linear_z = torch.nn.Linear(input_size, hidden_size)

    def coefficients(self, x):
        """a = 1 - z and b = z * h~, each (batch, time, hidden_size)."""
        k = self.linear_z(x)
        keep = torch.exp(-torch.nn.functional.softplus(k))  # 1 - sigmoid(k)
        return keep, (1 - keep) * self.linear_h(x)

    def forward(self, x, h0=None):
        keep, new = self.coefficients(x)
        return parallel_scan(keep, new, h0)

    def forward_loop(self, x, h0=None):
        keep, new = self.coefficients(x)
        h = torch.zeros_like(new[:, 0]) if h0 is None else h0
        out = []
        for t in range(x.shape[1]):
            h = keep[:, t] * h + new[:, t]
            out.append(h)
        return torch.stack(out, dim=1)
'''

# the honest variant graded with every chapter's adversarial suite
VARIANT = {"recurrence": RECURRENCE, "scan": SCAN, "lru_init": LRU_INIT, "mingru": MINGRU}
