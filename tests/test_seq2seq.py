"""Attention, the masked loss, the encoder-decoder and greedy decoding, against torch and by hand (float64)."""
import pytest
import torch
import torch.nn.functional as F

from rnncourse.beam_search import toy_decoder
from rnncourse.digit_tasks import BOS, EOS, PAD, reverse_task
from rnncourse.seq2seq import (AdditiveAttention, Seq2Seq, accuracy_by_length, dot_attention, greedy_decode,
                               masked_sequence_loss, train_reverser)


pytestmark = pytest.mark.usefixtures("one_torch_thread")   # tests/conftest.py


def test_dot_attention_is_a_masked_softmax_and_a_weighted_mean():
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(*s, generator=g, dtype=torch.float64) for s in [(3, 4), (3, 5, 4), (3, 5, 2)])
    lengths = torch.tensor([5, 2, 1])
    w, c = dot_attention(q, k, v, lengths)
    for b, n in enumerate(lengths.tolist()):
        expected = torch.softmax(k[b, :n] @ q[b], dim=0)
        assert torch.allclose(w[b, :n], expected) and torch.all(w[b, n:] == 0)
        assert torch.allclose(c[b], expected @ v[b, :n])
    # whatever sits in the padding changes nothing
    k2, v2 = k.clone(), v.clone()
    k2[1, 2:], v2[1, 2:] = 100.0, -100.0
    w2, c2 = dot_attention(q, k2, v2, lengths)
    assert torch.allclose(w2, w) and torch.allclose(c2, c)


def test_additive_attention_masks_padding_and_bad_shapes_are_named():
    torch.manual_seed(0)
    att = AdditiveAttention(4, 3, 6).double()
    q, k = torch.randn(2, 4, dtype=torch.float64), torch.randn(2, 5, 3, dtype=torch.float64)
    w, c = att(q, k, k, torch.tensor([3, 5]))
    assert torch.all(w[0, 3:] == 0) and torch.allclose(w.sum(1), torch.ones(2, dtype=torch.float64))
    with pytest.raises(ValueError, match="every length must lie"):
        dot_attention(q, torch.randn(2, 5, 4, dtype=torch.float64), k, torch.tensor([0, 5]))
    with pytest.raises(ValueError, match="expected query"):
        dot_attention(q[0], k, k, torch.tensor([1, 1]))


def test_masked_loss_equals_torch_ignore_index_and_its_gradient_checks():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(3, 4, 6, generator=g, dtype=torch.float64, requires_grad=True)
    targets = torch.tensor([[2, 3, 1, PAD], [4, PAD, PAD, PAD], [5, 5, 2, 1]])
    got = masked_sequence_loss(logits, targets)
    expected = F.cross_entropy(logits.reshape(-1, 6), targets.reshape(-1), ignore_index=PAD)
    assert torch.allclose(got, expected)
    assert torch.autograd.gradcheck(lambda x: masked_sequence_loss(x, targets), (logits,))
    with pytest.raises(ValueError, match="every target is padding"):
        masked_sequence_loss(logits, torch.zeros(3, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="expected logits"):
        masked_sequence_loss(logits, targets[:, :2])


@pytest.mark.parametrize("attention", ["none", "dot", "additive"])
def test_teacher_forcing_equals_stepping_and_padding_changes_nothing(attention):
    torch.manual_seed(0)
    model = Seq2Seq(attention=attention, embed=5, hidden=7).double()
    b = reverse_task(4, 1, 5, torch.Generator().manual_seed(2))
    logits, maps = model(b["src"], b["lengths"], b["tgt_in"])
    state = model.start(b["src"], b["lengths"])
    for t in range(b["tgt_in"].shape[1]):
        log_probs, state = model.step(b["tgt_in"][:, t], state)
        assert torch.allclose(log_probs, torch.log_softmax(logits[:, t], -1))
    padded = b["src"].clone()
    padded[b["src"] == PAD] = 7  # digits in the padding
    assert torch.allclose(model(padded, b["lengths"], b["tgt_in"])[0], logits)
    if attention == "none":
        assert maps is None
    else:
        assert maps.shape == (4, 6, 5) and torch.allclose(maps.sum(-1), torch.ones(4, 6, dtype=torch.float64))


def test_greedy_decode_takes_the_argmax_and_pads_after_eos():
    step, start = toy_decoder(4, 5, seed=3)
    state = start.repeat(2, 1)
    state[1] += 0.5
    got = greedy_decode(step, state, bos=0, eos=1, max_len=6, pad=9)
    for row in range(2):
        s, token, expected = state[row:row + 1], torch.tensor([0]), []
        for _ in range(6):
            log_probs, s = step(token, s)
            token = log_probs.argmax(-1)
            expected.append(token.item())
            if token.item() == 1:
                break
        assert got[row].tolist() == expected + [9] * (6 - len(expected))
    with pytest.raises(ValueError, match="max_len must be"):
        greedy_decode(step, state, 0, 1, 0)


def test_training_lowers_the_loss_and_accuracy_is_a_share():
    model, losses = train_reverser("dot", max_len=3, steps=40, seed=0, hidden=16, embed=8)
    assert losses[-1] < 0.8 * losses[0]
    acc = accuracy_by_length(model, [1, 3], 8, torch.Generator().manual_seed(0))
    assert set(acc) == {1, 3} and all(0.0 <= a <= 1.0 for a in acc.values())
    with pytest.raises(ValueError, match="attention must be one of"):
        Seq2Seq(attention="luong")
