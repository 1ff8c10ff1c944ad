"""rnncourse.charlm: vocabulary, one-hot, cross-entropy, Adagrad, training and sampling."""
import math

import numpy as np
import pytest
import torch

from rnncourse import charlm
from rnncourse.bptt import init_params, rnn_forward


def test_vocabulary_round_trip_and_errors():
    vocab = charlm.Vocabulary.from_text("hello")
    assert vocab.chars == ["e", "h", "l", "o"] and len(vocab) == 4
    ids = vocab.encode("hello")
    assert ids.dtype == np.int64 and ids.tolist() == [1, 0, 2, 2, 3]
    assert vocab.decode(ids) == "hello"
    with pytest.raises(ValueError, match="'z' is not in the vocabulary"):
        vocab.encode("hez")
    with pytest.raises(ValueError, match="non-empty"):
        charlm.Vocabulary.from_text("")


def test_one_hot_matches_torch():
    ids = np.array([[0, 3, 1], [2, 2, 0]])
    got = charlm.one_hot(ids, 4)
    expected = torch.nn.functional.one_hot(torch.tensor(ids), 4).double().numpy()
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == np.float64
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        charlm.one_hot(np.array([4]), 4)
    with pytest.raises(TypeError, match="integers"):
        charlm.one_hot(np.array([0.5]), 4)


def test_cross_entropy_matches_torch_and_survives_huge_logits():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((3, 5, 7)) * 4
    targets = rng.integers(0, 7, (3, 5))
    expected = torch.nn.functional.cross_entropy(torch.tensor(logits).reshape(-1, 7),
                                                 torch.tensor(targets).reshape(-1)).item()
    assert charlm.cross_entropy(logits, targets) == pytest.approx(expected, rel=1e-12)
    huge = np.array([[1000.0, 0.0, -1000.0]])
    assert charlm.cross_entropy(huge, np.array([0])) == pytest.approx(0.0, abs=1e-12)
    assert charlm.cross_entropy(huge, np.array([2])) == pytest.approx(2000.0, rel=1e-12)
    assert charlm.bits_per_char(math.log(2.0) * 3) == pytest.approx(3.0)
    assert charlm.perplexity(math.log(5.0)) == pytest.approx(5.0)


def test_adagrad_matches_torch_and_clip_limits_entries():
    rng = np.random.default_rng(1)
    p = {"w": rng.standard_normal((3, 2))}
    tw = torch.tensor(p["w"].copy(), requires_grad=True)
    ours, theirs = charlm.Adagrad(lr=0.3, eps=0.0), torch.optim.Adagrad([tw], lr=0.3, eps=0.0)
    for _ in range(3):
        g = rng.standard_normal((3, 2))
        ours.step(p, {"w": g.copy()})
        tw.grad = torch.tensor(g)
        theirs.step()
    np.testing.assert_allclose(p["w"], tw.detach().numpy(), rtol=1e-12)
    grads = charlm.clip_({"a": np.array([-9.0, 0.5, 7.0])}, 5.0)
    np.testing.assert_array_equal(grads["a"], [-5.0, 0.5, 5.0])


def hello_model(seed=0, steps=200):
    vocab = charlm.Vocabulary.from_text("hello")
    ids = vocab.encode("hello")
    x, y = ids[None, :-1], ids[None, 1:]
    params = init_params(4, 8, 4, np.random.default_rng(seed), scale=0.1)
    opt = charlm.Adagrad(0.1)
    losses = [charlm.train_step(params, x, y, np.zeros((1, 8)), opt)[0] for _ in range(steps)]
    return vocab, params, x, y, losses


def test_hello_is_learned_and_regenerated_from_h():
    vocab, params, x, y, losses = hello_model()
    o, _ = rnn_forward(params, x)
    assert np.all(o.argmax(-1) == y)                   # 100% next-character accuracy
    assert losses[-1] < 0.1 * losses[0]
    assert vocab.decode(charlm.sample(params, vocab.encode("h"), 4)) == "ello"


def test_sampling_is_reproducible_and_follows_softmax():
    vocab, params, *_ = hello_model(steps=3)
    prime = vocab.encode("he")
    a = charlm.sample(params, prime, 30, np.random.default_rng(5), temperature=1.5)
    b = charlm.sample(params, prime, 30, np.random.default_rng(5), temperature=1.5)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.int64 and a.shape == (30,)
    # first draw after a prime: frequencies match softmax(o / T)
    o, _ = rnn_forward(params, prime[None])
    p = np.exp(o[0, -1] / 1.5)
    p /= p.sum()
    rng = np.random.default_rng(0)
    counts = np.bincount([charlm.sample(params, prime, 1, rng, 1.5)[0] for _ in range(4000)], minlength=4)
    np.testing.assert_allclose(counts / 4000, p, atol=0.03)
    greedy = charlm.sample(params, prime, 5, np.random.default_rng(0), temperature=0.0)
    np.testing.assert_array_equal(greedy, charlm.sample(params, prime, 5))


def test_train_reduces_loss_on_text_and_evaluate_matches_manual():
    text = "the cat sat on the mat. " * 60
    vocab = charlm.Vocabulary.from_text(text)
    ids = vocab.encode(text)
    params = charlm.init_char_rnn(len(vocab), 16, seed=0)
    seen = []
    losses = charlm.train(params, ids, steps=120, batch=4, seq_len=10, lr=0.1,
                          callback=lambda step, p: seen.append(step), every=50)
    assert seen == [50, 100, 120] and len(losses) == 120
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:10])
    # evaluate with one lane equals the loss of a single full-length forward pass
    o, _ = rnn_forward(params, ids[None, :-1])
    manual = charlm.cross_entropy(o, ids[None, 1:])
    assert charlm.evaluate(params, ids, batch=1, seq_len=37) == pytest.approx(manual, rel=1e-10)
    assert charlm.hidden_states(params, ids[:20]).shape == (20, 16)


def test_train_rejects_too_short_text():
    params = charlm.init_char_rnn(3, 4)
    with pytest.raises(ValueError, match="too few"):
        charlm.train(params, np.array([0, 1, 2]), steps=1, batch=4)
    with pytest.raises(ValueError, match="seq_len"):
        charlm.train(params, np.arange(30) % 3, steps=1, batch=2, seq_len=20)
