"""Batches of sequences of different lengths, and bidirectional RNNs, on ``torch.nn.RNN``.

A batch of sequences of lengths (T_1, ..., T_B) is stored as one padded tensor
x: (batch, T_max, input_size), where the steps t >= T_b of sequence b are padding, and a
tensor ``lengths``: (batch,).  Three rules make padding harmless:

* many-to-one reads each sequence's state at its own last step, T_b - 1 (``last_states``),
  not at T_max - 1, where a short sequence has already read padding;
* per-step losses are averaged over the real steps only (``masked_mean``);
* or the RNN is given a ``PackedSequence`` (``many_to_one_packed``), and never sees padding.

A bidirectional layer runs one RNN forward in time and a second one backward and concatenates
their states: h_t = [h_t(forward); h_t(backward)], (batch, T, 2 * hidden).
"""
from __future__ import annotations

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


def _check_lengths(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    lengths = torch.as_tensor(lengths)
    if x.dim() < 2 or lengths.shape != (x.shape[0],):
        raise ValueError(f"lengths must have shape (batch,) = ({x.shape[0]},), got {tuple(lengths.shape)}")
    if lengths.min() < 1 or lengths.max() > x.shape[1]:
        raise ValueError(f"lengths must lie in [1, {x.shape[1]}] (the padded length), got {lengths.tolist()}")
    return lengths


def pad(sequences: list[torch.Tensor], value: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack sequences (T_b, input_size) into x: (batch, T_max, input_size) and lengths: (batch,)."""
    if not sequences:
        raise ValueError("need at least one sequence")
    lengths = torch.tensor([len(s) for s in sequences])
    return torch.nn.utils.rnn.pad_sequence(sequences, batch_first=True, padding_value=value), lengths


def mask(lengths: torch.Tensor, steps: int) -> torch.Tensor:
    """(batch, steps) booleans: True at the real steps t < lengths[b]."""
    return torch.arange(steps)[None, :] < torch.as_tensor(lengths)[:, None]


def last_states(outputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """outputs (batch, T_max, hidden) -> the state at each sequence's last real step (batch, hidden)."""
    lengths = _check_lengths(outputs, lengths)
    index = (lengths - 1).to(outputs.device).view(-1, 1, 1).expand(-1, 1, outputs.shape[-1])
    return outputs.gather(1, index)[:, 0]


def masked_mean(values: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Mean of per-step values (batch, T_max) over the real steps only (a scalar)."""
    lengths = _check_lengths(values, lengths)
    m = mask(lengths, values.shape[1]).to(values.device)
    return (values * m).sum() / m.sum()


def many_to_one_padded(rnn: torch.nn.RNN, head: torch.nn.Linear, x: torch.Tensor, lengths) -> torch.Tensor:
    """Many-to-one on a padded batch: run over the padding, read each sequence's own last state.

    x: (batch, T_max, input_size) -> (batch, num_outputs).  Right for a one-directional RNN only.
    """
    outputs, _ = rnn(x)
    return head(last_states(outputs, lengths))


def many_to_one_packed(rnn: torch.nn.RNN, head: torch.nn.Linear, x: torch.Tensor, lengths) -> torch.Tensor:
    """Many-to-one with a ``PackedSequence``: the RNN stops at each sequence's end, h_n is its last state.

    x: (batch, T_max, input_size) -> (batch, num_outputs), from the top layer's last state
    (for a bidirectional RNN, the concatenated last states of both directions).
    """
    lengths = _check_lengths(x, lengths)
    packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    _, h_n = rnn(packed)
    if rnn.bidirectional:
        return head(torch.cat([h_n[-2], h_n[-1]], dim=-1))
    return head(h_n[-1])


def packed_outputs(rnn: torch.nn.RNN, x: torch.Tensor, lengths) -> torch.Tensor:
    """All states of a packed run, padded back to (batch, T_max, hidden * directions) with zeros."""
    lengths = _check_lengths(x, lengths)
    packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    out, _ = pad_packed_sequence(rnn(packed)[0], batch_first=True, total_length=x.shape[1])
    return out


def bidirectional_by_hand(rnn: torch.nn.RNN, x: torch.Tensor) -> torch.Tensor:
    """The outputs of a one-layer ``torch.nn.RNN(bidirectional=True)``, from two one-directional runs.

    The backward direction is an ordinary RNN, with the ``*_reverse`` weights, run on the
    time-reversed input; its states are reversed back before concatenating.
    x: (batch, T, input_size) -> (batch, T, 2 * hidden).
    """
    if not rnn.bidirectional or rnn.num_layers != 1 or not rnn.batch_first:
        raise ValueError("expected a one-layer torch.nn.RNN(bidirectional=True, batch_first=True)")
    outputs = []
    for suffix in ("", "_reverse"):
        one = torch.nn.RNN(rnn.input_size, rnn.hidden_size, nonlinearity=rnn.nonlinearity, batch_first=True,
                           dtype=rnn.weight_ih_l0.dtype, device=rnn.weight_ih_l0.device)
        with torch.no_grad():
            for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
                getattr(one, name).copy_(getattr(rnn, name + suffix))
        if suffix:
            outputs.append(one(x.flip(1))[0].flip(1))
        else:
            outputs.append(one(x)[0])
    return torch.cat(outputs, dim=-1)
