"""The four input/output shapes of a recurrent network, built on ``torch.nn.RNN``.

All tensors are batch-first.  ``rnn`` is a ``torch.nn.RNN(batch_first=True)`` and
``head`` a ``torch.nn.Linear(hidden_size, num_outputs)`` applied to hidden states.
"""
from __future__ import annotations

import torch


def many_to_one(rnn: torch.nn.RNN, head: torch.nn.Linear, x: torch.Tensor) -> torch.Tensor:
    """Read a whole sequence, answer once (e.g. sentiment of a sentence).

    x: (batch, time, input_size) -> (batch, num_outputs), from the top layer's last state.
    """
    outputs, _ = rnn(x)
    return head(outputs[:, -1])


def many_to_many(rnn: torch.nn.RNN, head: torch.nn.Linear, x: torch.Tensor) -> torch.Tensor:
    """Synchronized: one answer per input step (e.g. a tag per word, a label per video frame).

    x: (batch, time, input_size) -> (batch, time, num_outputs).
    """
    outputs, _ = rnn(x)
    return head(outputs)


def one_to_many(rnn: torch.nn.RNN, head: torch.nn.Linear, x0: torch.Tensor, steps: int,
                h0: torch.Tensor | None = None) -> torch.Tensor:
    """One input, a sequence out (e.g. an image feature to a caption): each output is fed back as the next input.

    x0: (batch, input_size) with input_size == num_outputs; h0: (num_layers, batch, hidden) or None.
    Returns (batch, steps, num_outputs).
    """
    if head.out_features != rnn.input_size:
        raise ValueError(f"feeding outputs back needs head.out_features == rnn.input_size, "
                         f"got {head.out_features} and {rnn.input_size}")
    x, h, ys = x0.unsqueeze(1), h0, []
    for _ in range(steps):
        out, h = rnn(x, h)
        y = head(out[:, -1])
        ys.append(y)
        x = y.unsqueeze(1)
    return torch.stack(ys, dim=1)


def encoder_decoder(encoder: torch.nn.RNN, decoder: torch.nn.RNN, head: torch.nn.Linear,
                    x: torch.Tensor, steps: int) -> torch.Tensor:
    """Many-to-many with delay (e.g. translation): read all of x, then write ``steps`` outputs.

    The decoder starts from the encoder's last states and a zero input, then feeds its
    own outputs back.  x: (batch, time_in, input_size) -> (batch, steps, num_outputs).
    """
    _, h = encoder(x)
    start = torch.zeros(x.shape[0], decoder.input_size, dtype=x.dtype, device=x.device)
    return one_to_many(decoder, head, start, steps, h0=h)
