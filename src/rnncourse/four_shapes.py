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


def one_to_many(rnn: torch.nn.RNN, head: torch.nn.Linear, embed: torch.nn.Embedding, x0: torch.Tensor,
                steps: int, h0: torch.Tensor | None = None) -> torch.Tensor:
    """One input, a sequence out (e.g. an image feature to a caption): each step's choice is fed back.

    Step 1 reads x0; every later step reads ``embed`` of the class the previous step chose
    greedily (the argmax of its logits), as a captioning model feeds back the word it wrote.
    x0: (batch, input_size); embed: ``nn.Embedding(num_outputs, input_size)``;
    h0: (num_layers, batch, hidden) or None. Returns the logits (batch, steps, num_outputs).
    """
    if embed.num_embeddings != head.out_features or embed.embedding_dim != rnn.input_size:
        raise ValueError(f"feeding choices back needs embed = nn.Embedding(head.out_features, rnn.input_size) = "
                         f"({head.out_features}, {rnn.input_size}), got ({embed.num_embeddings}, "
                         f"{embed.embedding_dim})")
    x, h, ys = x0.unsqueeze(1), h0, []
    for _ in range(steps):
        out, h = rnn(x, h)
        y = head(out[:, -1])
        ys.append(y)
        x = embed(y.argmax(dim=-1)).unsqueeze(1)
    return torch.stack(ys, dim=1)


def encoder_decoder(encoder: torch.nn.RNN, decoder: torch.nn.RNN, head: torch.nn.Linear,
                    embed: torch.nn.Embedding, x: torch.Tensor, steps: int) -> torch.Tensor:
    """Many-to-many with delay (e.g. translation): read all of x, then write ``steps`` outputs.

    The decoder starts from the encoder's last states and a zero input, then feeds back the
    embedding of each class it chose.  x: (batch, time_in, input_size) -> (batch, steps, num_outputs).
    """
    _, h = encoder(x)
    start = torch.zeros(x.shape[0], decoder.input_size, dtype=x.dtype, device=x.device)
    return one_to_many(decoder, head, embed, start, steps, h0=h)
