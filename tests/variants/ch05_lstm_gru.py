"""Answers to chapter 5 written differently from the reference, as data: grade_id -> answer cell source.

Written from the student notebook only.  Each answer follows the instructions (PyTorch's
equations, the i, f, g, o and r, z, n block orders, one matrix product per input in Part 1,
Part 3 built on ``lstm_cell_forward``, Part 4 recomputing the gates) but makes its own choices
wherever they leave one open: einsum instead of ``@``, a sigmoid of its own written with tanh,
per-gate products in the GRU, time-major loops in the stacked LSTM, and so on.
"""

# one einsum per input (still one matrix product each), np.split for the columns, and a
# sigmoid of its own written with tanh (the instructions allow, not require, the setup's sigmoid)
LSTM_CELL = '''
def lstm_cell_forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    """x: (batch, I), h_prev, c_prev: (batch, H), W_ih: (4H, I), W_hh: (4H, H), b_ih, b_hh: (4H,)
    returns h, c: (batch, H)"""
    def logistic(v):
        return 0.5 * (1.0 + np.tanh(0.5 * v))

    pre = np.einsum("gi,bi->bg", W_ih, x) + np.einsum("gj,bj->bg", W_hh, h_prev)
    pre = pre + (b_ih + b_hh)[None, :]
    a_i, a_f, a_g, a_o = np.split(pre, 4, axis=1)
    input_gate, forget_gate, output_gate = logistic(a_i), logistic(a_f), logistic(a_o)
    candidate = np.tanh(a_g)
    c_new = forget_gate * c_prev + input_gate * candidate
    h_new = output_gate * np.tanh(c_new)
    return h_new, c_new
'''

# one small product per gate (a loop over the three row blocks) instead of one (batch, 3H) product,
# and the interpolation written as n + z * (h - n)
GRU_CELL = '''
def gru_cell_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    """x: (batch, I), h_prev: (batch, H), W_ih: (3H, I), W_hh: (3H, H), b_ih, b_hh: (3H,)
    returns h: (batch, H)"""
    H = h_prev.shape[1]
    from_x, from_h = [], []
    for k in range(3):
        rows = slice(k * H, (k + 1) * H)
        from_x.append(x @ W_ih[rows].T + b_ih[rows])
        from_h.append(h_prev @ W_hh[rows].T + b_hh[rows])
    r = sigmoid(from_x[0] + from_h[0])
    z = sigmoid(from_x[1] + from_h[1])
    n = np.tanh(from_x[2] + r * from_h[2])
    return n + z * (h_prev - n)
'''

# time in the outer loop and layers in the inner one (the reference order is free), states kept
# in Python lists, output filled into a preallocated array
LSTM_FORWARD = '''
def lstm_forward(x, h0, c0, layers):
    """x: (batch, time, I), h0, c0: (L, batch, H), layers: list of L tuples (W_ih, W_hh, b_ih, b_hh)
    returns output: (batch, time, H), (h_n, c_n): each (L, batch, H)"""
    batch, steps = x.shape[0], x.shape[1]
    hs = [h0[k].copy() for k in range(len(layers))]
    cs = [c0[k].copy() for k in range(len(layers))]
    output = np.empty((batch, steps, h0.shape[2]))
    for t in range(steps):
        below = x[:, t, :]
        for k, (W_ih, W_hh, b_ih, b_hh) in enumerate(layers):
            hs[k], cs[k] = lstm_cell_forward(below, hs[k], cs[k], W_ih, W_hh, b_ih, b_hh)
            below = hs[k]
        output[:, t, :] = below
    return output, (np.array(hs), np.array(cs))
'''

# gates recomputed block by block in a loop, the weight gradients with einsum, the pre-activation
# gradients assembled with np.hstack, and the dict built from a list of pairs
LSTM_BACKWARD = '''
def lstm_cell_backward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh, dh, dc):
    """Shapes as in lstm_cell_forward; dh, dc: (batch, H). Returns a dict of gradients (see above)."""
    H = h_prev.shape[1]
    blocks = []
    for k in range(4):
        rows = slice(k * H, (k + 1) * H)
        blocks.append(x @ W_ih[rows].T + h_prev @ W_hh[rows].T + b_ih[rows] + b_hh[rows])
    i = 1.0 / (1.0 + np.exp(-blocks[0]))
    f = 1.0 / (1.0 + np.exp(-blocks[1]))
    g = np.tanh(blocks[2])
    o = 1.0 / (1.0 + np.exp(-blocks[3]))
    c_new = f * c_prev + i * g
    tanh_c = np.tanh(c_new)

    delta_c = dc + dh * o * (1.0 - tanh_c ** 2)
    da = np.hstack([
        delta_c * g * i * (1.0 - i),
        delta_c * c_prev * f * (1.0 - f),
        delta_c * i * (1.0 - g ** 2),
        dh * tanh_c * o * (1.0 - o),
    ])
    db = np.einsum("bg->g", da)
    pairs = [
        ("dx", np.einsum("bg,gi->bi", da, W_ih)),
        ("dh_prev", np.einsum("bg,gj->bj", da, W_hh)),
        ("dc_prev", delta_c * f),
        ("dW_ih", np.einsum("bg,bi->gi", da, x)),
        ("dW_hh", np.einsum("bg,bj->gj", da, h_prev)),
        ("db_ih", db),
        ("db_hh", db.copy()),
    ]
    return dict(pairs)
'''

VARIANT = {
    "lstm_cell": LSTM_CELL,
    "gru_cell": GRU_CELL,
    "lstm_forward": LSTM_FORWARD,
    "lstm_backward": LSTM_BACKWARD,
}
