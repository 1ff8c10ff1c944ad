import pytest
import torch

from rnncourse.four_shapes import encoder_decoder, many_to_many, many_to_one, one_to_many


@pytest.fixture
def parts():
    torch.manual_seed(0)
    rnn = torch.nn.RNN(3, 5, num_layers=2, batch_first=True, dtype=torch.float64)
    return rnn, torch.nn.Linear(5, 3, dtype=torch.float64)


def test_many_to_one_uses_the_last_state(parts):
    rnn, head = parts
    x = torch.randn(4, 6, 3, dtype=torch.float64)
    y = many_to_one(rnn, head, x)
    assert y.shape == (4, 3)
    _, h_n = rnn(x)
    torch.testing.assert_close(y, head(h_n[-1]))


def test_many_to_many_gives_one_output_per_step_and_is_causal(parts):
    rnn, head = parts
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    y = many_to_many(rnn, head, x)
    assert y.shape == (2, 5, 3)
    x2 = x.clone()
    x2[:, 3:] += 1.0  # changing the future must not change the past
    torch.testing.assert_close(many_to_many(rnn, head, x2)[:, :3], y[:, :3])


def test_one_to_many_feeds_back_the_embedding_of_its_choice(parts):
    rnn, head = parts
    embed = torch.nn.Embedding(3, 3, dtype=torch.float64)
    x0 = torch.randn(2, 3, dtype=torch.float64)
    y = one_to_many(rnn, head, embed, x0, steps=4)
    assert y.shape == (2, 4, 3)
    # replay by hand: the input of step t is the embedding of the argmax of output t-1
    out, h = rnn(x0.unsqueeze(1))
    torch.testing.assert_close(y[:, 0], head(out[:, -1]))
    out, h = rnn(embed(y[:, 0].argmax(dim=-1)).unsqueeze(1), h)
    torch.testing.assert_close(y[:, 1], head(out[:, -1]))
    # not the raw logits: feeding those back gives another second output
    out_raw, _ = rnn(y[:, 0:1], rnn(x0.unsqueeze(1))[1])
    assert not torch.allclose(head(out_raw[:, -1]), y[:, 1])


def test_encoder_decoder_reads_everything_before_writing(parts):
    rnn, head = parts
    torch.manual_seed(1)
    decoder = torch.nn.RNN(3, 5, num_layers=2, batch_first=True, dtype=torch.float64)
    embed = torch.nn.Embedding(3, 3, dtype=torch.float64)
    x = torch.randn(2, 7, 3, dtype=torch.float64)
    y = encoder_decoder(rnn, decoder, head, embed, x, steps=3)
    assert y.shape == (2, 3, 3)
    x2 = x.clone()
    x2[:, -1] += 1.0  # the last input word changes the first output word
    assert not torch.allclose(encoder_decoder(rnn, decoder, head, embed, x2, steps=3)[:, 0], y[:, 0])


def test_one_to_many_rejects_an_embedding_of_the_wrong_size(parts):
    rnn, head = parts
    with pytest.raises(ValueError, match=r"nn.Embedding\(head.out_features, rnn.input_size\)"):
        one_to_many(rnn, head, torch.nn.Embedding(3, 5, dtype=torch.float64), torch.zeros(1, 3, dtype=torch.float64), 2)
