"""Padding, masking, packing and bidirectional RNNs agree with running every sequence on its own."""
import pytest
import torch

from rnncourse.sequences import (bidirectional_by_hand, last_states, many_to_one_packed, many_to_one_padded,
                                 mask, masked_mean, packed_outputs, pad)


@pytest.fixture
def batch():
    g = torch.Generator().manual_seed(0)
    seqs = [torch.randn(n, 3, generator=g, dtype=torch.float64) for n in (6, 2, 4, 1)]
    return seqs, *pad(seqs)


def test_pad_and_mask(batch):
    seqs, x, lengths = batch
    assert x.shape == (4, 6, 3) and lengths.tolist() == [6, 2, 4, 1]
    assert torch.all(x[1, 2:] == 0) and torch.equal(x[2, :4], seqs[2])
    assert mask(lengths, 6).sum(1).tolist() == [6, 2, 4, 1]


@pytest.mark.parametrize("layers", [1, 2])
def test_padded_and_packed_many_to_one_equal_each_sequence_alone(batch, layers):
    seqs, x, lengths = batch
    torch.manual_seed(layers)
    rnn = torch.nn.RNN(3, 5, num_layers=layers, batch_first=True, dtype=torch.float64)
    head = torch.nn.Linear(5, 2, dtype=torch.float64)
    alone = torch.cat([head(rnn(s[None])[0][:, -1]) for s in seqs])
    torch.testing.assert_close(many_to_one_padded(rnn, head, x, lengths), alone)
    torch.testing.assert_close(many_to_one_packed(rnn, head, x, lengths), alone)
    naive = head(rnn(x)[0][:, -1])                           # reads the padded last step
    assert not torch.allclose(naive[1], alone[1]) and torch.allclose(naive[0], alone[0])


def test_masked_loss_equals_the_loss_of_the_real_steps(batch):
    seqs, x, lengths = batch
    values = torch.randn(4, 6, dtype=torch.float64)
    real = torch.cat([values[b, :n] for b, n in enumerate(lengths.tolist())])
    torch.testing.assert_close(masked_mean(values, lengths), real.mean())
    with pytest.raises(ValueError, match="lengths"):
        masked_mean(values, torch.tensor([7, 1, 1, 1]))
    with pytest.raises(ValueError, match="shape"):
        last_states(x, torch.tensor([1, 2]))


def test_bidirectional_equals_two_runs_and_packed_backward_starts_at_the_real_end(batch):
    seqs, x, lengths = batch
    torch.manual_seed(3)
    bi = torch.nn.RNN(3, 4, batch_first=True, bidirectional=True, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(bidirectional_by_hand(bi, x), bi(x)[0])
        out = packed_outputs(bi, x, lengths)
        for b, s in enumerate(seqs):                          # each sequence alone, no padding at all
            torch.testing.assert_close(out[b, :len(s)], bi(s[None])[0][0])
            assert torch.all(out[b, len(s):] == 0)
        head = torch.nn.Linear(8, 2, dtype=torch.float64)
        alone = torch.cat([head(torch.cat([bi(s[None])[1][0], bi(s[None])[1][1]], -1)) for s in seqs])
        torch.testing.assert_close(many_to_one_packed(bi, head, x, lengths), alone)
    with pytest.raises(ValueError, match="bidirectional"):
        bidirectional_by_hand(torch.nn.RNN(3, 4, batch_first=True), x)
