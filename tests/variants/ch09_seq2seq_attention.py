"""Answers to chapter 9 written differently from the reference, as data: grade_id -> answer cell source.

Each follows the student notebook's instructions only, with choices of its own: a loop over the
batch and a zero-after-renormalising mask for attention, the loss through ``F.nll_loss`` with a
weight vector, a greedy decoder that stops as soon as every row is done and works on unfinished
rows only, and a beam search that keeps hypotheses as tensors and sorts with ``torch.topk``.
The written answer (``explain``) is graded by a person and has no variant here.
"""

ATTENTION = '''
def attention(query, keys, values, lengths):
    """query (B, D), keys (B, S, D), values (B, S, Dv), lengths (B,) -> weights (B, S), context (B, Dv)."""
    B, S, _ = keys.shape
    weights = keys.new_zeros(B, S)
    for b in range(B):
        n = int(lengths[b])
        scores = (keys[b, :n] * query[b]).sum(dim=-1)
        scores = scores - scores.max()
        e = scores.exp()
        weights[b, :n] = e / e.sum()
    context = (weights.unsqueeze(-1) * values).sum(dim=1)
    return weights, context
'''

MASKED_LOSS = '''
def masked_sequence_loss(logits, targets, pad=0):
    """logits (B, T, V), targets (B, T) int64 -> mean cross-entropy over the non-pad targets (a 0-d tensor)."""
    flat_logits = logits.reshape(-1, logits.shape[-1])
    flat_targets = targets.reshape(-1)
    keep = flat_targets != pad
    return F.cross_entropy(flat_logits[keep], flat_targets[keep], reduction="sum") / keep.sum()
'''

GREEDY = '''
def greedy_decode(step, state, bos, eos, max_len, pad=0):
    """state: B rows -> (B, max_len) int64: the greedy tokens of each row, eos included, then pad."""
    B = state.shape[0]
    out = torch.full((B, max_len), pad, dtype=torch.int64)
    active = torch.arange(B)          # rows still decoding
    last = torch.full((B,), bos, dtype=torch.int64)
    for t in range(max_len):
        if len(active) == 0:
            break
        log_probs, state = step(last, state)
        choice = torch.max(log_probs, dim=1).indices
        out[active, t] = choice
        going = choice != eos
        active, last, state = active[going], choice[going], state[going]
    return out
'''

BEAM = '''
def beam_search(step, state, bos, eos, beam_size, max_len):
    """state: one row -> [(tokens, log_prob), ...]: the beam_size best finished hypotheses, best first."""
    prefixes = torch.zeros(1, 0, dtype=torch.int64)   # live hypotheses, one per row
    totals = torch.zeros(1, dtype=torch.float64)
    last = torch.tensor([bos])
    done = []
    for t in range(1, max_len + 1):
        log_probs, state = step(last, state)
        V = log_probs.shape[-1]
        candidates = (totals.unsqueeze(1) + log_probs).reshape(-1)
        top = torch.topk(candidates, k=min(beam_size, candidates.numel()))
        row, token = top.indices // V, top.indices % V
        grown = torch.cat([prefixes[row], token.unsqueeze(1)], dim=1)
        ends = (token == eos) | (t == max_len)
        done += [(g.tolist(), v.item()) for g, v in zip(grown[ends], top.values[ends])]
        if ends.all():
            break
        going = ~ends
        prefixes, totals, last, state = grown[going], top.values[going], token[going], state[row[going]]
    done.sort(key=lambda h: -h[1])
    return done[:beam_size]
'''

# the honest variant graded with every chapter's adversarial suite
VARIANT = {"attention": ATTENTION, "masked_loss": MASKED_LOSS, "greedy": GREEDY, "beam": BEAM}
