"""Chapter 1 answered differently from an obvious reference, as data: grade_id -> answer cell source.

Every answer follows the notebook's instructions; where they leave a choice open this variant
takes another road (einsum, a preallocated output array, np.array copies, a per-layer loop,
h_n instead of the last output step, torch.cat instead of stack, a one-hot product instead of
the embedding lookup).
"""

# einsum instead of @ with transposes; a dict of nonlinearities; relu as z * (z > 0)
RNN_CELL = '''
def rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h, nonlinearity="tanh"):
    """One RNN step for a batch.

    x_t: (batch, input_size), h_prev: (batch, hidden_size),
    W_xh: (hidden_size, input_size), W_hh: (hidden_size, hidden_size), b_h: (hidden_size,)
    returns h_t: (batch, hidden_size)
    """
    activations = {"tanh": np.tanh, "relu": lambda z: z * (z > 0)}
    if nonlinearity not in activations:
        raise ValueError(f"unknown nonlinearity {nonlinearity!r}")
    pre = np.einsum("hi,bi->bh", W_xh, x_t) + np.einsum("hk,bk->bh", W_hh, h_prev)
    pre = pre + b_h[None, :]
    return activations[nonlinearity](pre)
'''

# preallocated (B, T, H) array filled step by step, instead of a list stacked at the end
RNN_FORWARD = '''
def rnn_forward(x, h0, W_xh, W_hh, b_h, nonlinearity="tanh"):
    """Run a one-layer RNN over a batch of sequences (batch-first).

    x: (batch, time, input_size), h0: (batch, hidden_size)
    returns outputs: (batch, time, hidden_size), h_last: (batch, hidden_size)
    """
    batch, steps, _ = x.shape
    outputs = np.empty((batch, steps, W_hh.shape[0]), dtype=np.float64)
    h = h0
    t = 0
    while t < steps:
        h = rnn_cell_forward(x[:, t, :], h, W_xh, W_hh, b_h, nonlinearity)
        outputs[:, t, :] = h
        t += 1
    return outputs, h
'''

# np.array(..., dtype=float64) copies of the tensors; the two biases added in NumPy
TORCH_WEIGHTS = '''
def weights_from_torch(rnn):
    """rnn: a one-layer torch.nn.RNN -> (W_xh (H, I), W_hh (H, H), b_h (H,)) as float64 numpy arrays."""
    def as_array(parameter):
        return np.array(parameter.detach().cpu().tolist(), dtype=np.float64)

    W_xh = as_array(rnn.weight_ih_l0)
    W_hh = as_array(rnn.weight_hh_l0)
    b_h = as_array(rnn.bias_ih_l0) + as_array(rnn.bias_hh_l0)
    return W_xh, W_hh, b_h
'''

# a loop over layers instead of a closed formula
PARAM_COUNT = '''
def count_rnn_parameters(input_size, hidden_size, num_layers, output_size):
    """Number of parameters of a stacked torch.nn.RNN plus a linear output layer (an int)."""
    total = 0
    layer_input = input_size
    for _ in range(num_layers):
        total += hidden_size * layer_input      # weight_ih
        total += hidden_size * hidden_size      # weight_hh
        total += 2 * hidden_size                # bias_ih and bias_hh
        layer_input = hidden_size
    total += output_size * (hidden_size + 1)    # head weight and bias
    return int(total)
'''

# many_to_one reads h_n[-1]; one_to_many concatenates (B, 1, C) slices, picks the class with torch.max
# and looks its row up as a one-hot product with embed.weight; zeros from new_zeros
SHAPES = '''
def many_to_one(rnn, head, x):
    """x: (B, T, I) -> (B, C)"""
    _, h_n = rnn(x)
    return head(h_n[-1])


def many_to_many(rnn, head, x):
    """x: (B, T, I) -> (B, T, C)"""
    states, _ = rnn(x)
    return head(states)


def one_to_many(rnn, head, embed, x0, steps, h0=None):
    """x0: (B, I), h0: (num_layers, B, H) or None -> logits (B, steps, C); embed: torch.nn.Embedding(C, I)"""
    step_input = x0.unsqueeze(1)
    hidden = h0
    pieces = []
    for _ in range(steps):
        if hidden is None:
            top, hidden = rnn(step_input)
        else:
            top, hidden = rnn(step_input, hidden)
        logits = head(top)                                   # (B, 1, C)
        pieces.append(logits)
        chosen = torch.max(logits, dim=2).indices            # (B, 1)
        one_hot = torch.nn.functional.one_hot(chosen, embed.num_embeddings).to(embed.weight.dtype)
        step_input = one_hot @ embed.weight                  # (B, 1, I): the chosen rows
    return torch.cat(pieces, dim=1)


def encoder_decoder(encoder, decoder, head, embed, x, steps):
    """x: (B, T, I) -> logits (B, steps, C)"""
    _, h_n = encoder(x)
    first = x.new_zeros((x.shape[0], decoder.input_size))
    return one_to_many(decoder, head, embed, first, steps, h0=h_n)
'''

VARIANT = {
    "rnn_cell": RNN_CELL,
    "rnn_forward": RNN_FORWARD,
    "torch_weights": TORCH_WEIGHTS,
    "param_count": PARAM_COUNT,
    "shapes": SHAPES,
}
