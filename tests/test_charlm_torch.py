"""rnncourse.charlm_torch: the PyTorch character model and its practitioner's training loop."""
import numpy as np
import pytest
import torch

from rnncourse import bptt, charlm_torch
from rnncourse.charlm_torch import CharModel, chunks, detach, train_step


pytestmark = pytest.mark.usefixtures("one_torch_thread")   # tests/conftest.py


def test_embedding_rnn_is_the_numpy_model_with_a_one_hot_embedding():
    K, H, B, T = 5, 7, 3, 6
    rng = np.random.default_rng(0)
    params = bptt.init_params(K, H, K, rng, scale=0.5)
    params["b"], params["c"] = rng.standard_normal(H) * 0.3, rng.standard_normal(K) * 0.3
    model = CharModel(K, H, cell="rnn").double()
    with torch.no_grad():
        model.embed.weight.copy_(torch.eye(K, dtype=torch.float64))   # E = I: embedding lookup = one-hot
        model.rnn.weight_ih_l0.copy_(torch.from_numpy(params["U"]))
        model.rnn.weight_hh_l0.copy_(torch.from_numpy(params["W"]))
        model.rnn.bias_ih_l0.copy_(torch.from_numpy(params["b"]))
        model.rnn.bias_hh_l0.zero_()
        model.out.weight.copy_(torch.from_numpy(params["V"]))
        model.out.bias.copy_(torch.from_numpy(params["c"]))
    ids = rng.integers(0, K, (B, T))
    h0 = rng.standard_normal((B, H)) * 0.5
    expected, _ = bptt.rnn_forward(params, ids, h0)
    got, state = model(torch.from_numpy(ids), torch.from_numpy(h0)[None])
    np.testing.assert_allclose(got.detach().numpy(), expected, rtol=1e-12, atol=1e-12)
    assert state.shape == (1, B, H)


def test_gradients_agree_with_finite_differences_in_float64():
    torch.manual_seed(0)
    model = CharModel(4, 3, cell="lstm", embedding_dim=2).double()
    x, y = torch.randint(0, 4, (2, 5)), torch.randint(0, 4, (2, 5))

    def loss():
        logits, _ = model(x)
        return torch.nn.functional.cross_entropy(logits.reshape(-1, 4), y.reshape(-1))

    loss().backward()
    w = model.rnn.weight_hh_l0
    for index in [(0, 0), (5, 2), (11, 1)]:
        with torch.no_grad():
            old = w[index].item()
            w[index] = old + 1e-6
            up = loss().item()
            w[index] = old - 1e-6
            down = loss().item()
            w[index] = old
        assert (up - down) / 2e-6 == pytest.approx(w.grad[index].item(), rel=1e-6, abs=1e-10)


def test_train_step_detaches_the_state_and_clips_the_norm():
    torch.manual_seed(1)
    model = CharModel(6, 8, cell="lstm")
    opt = torch.optim.SGD(model.parameters(), lr=0.0)              # lr 0: look at the gradients only
    x, y = torch.randint(0, 6, (4, 9)), torch.randint(0, 6, (4, 9))
    _, norm, state = train_step(model, opt, x, y, None, clip=1e-3)
    assert isinstance(state, tuple) and all(s.grad_fn is None and not s.requires_grad for s in state)
    total = torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters()))
    assert norm > 1e-3 and float(total) == pytest.approx(1e-3, rel=1e-4)     # rescaled to the limit
    # the carried state changes the next chunk's output, but its history is gone
    _, _, state2 = train_step(model, opt, x, y, state, clip=1e-3)
    assert state2[0].grad_fn is None
    assert detach(None) is None


def test_chunks_move_their_boundaries_and_keep_lanes_contiguous():
    ids = np.arange(1000)
    source = chunks(ids, batch=4, seq_len=10, rng=np.random.default_rng(0))
    offsets, previous = [], None
    for _ in range(200):
        new_pass, x, y = next(source)
        assert x.shape == y.shape == (4, 10)
        np.testing.assert_array_equal(y, x + 1)                       # targets are the next characters
        if new_pass:
            offsets.append(int(x[0, 0]))
        else:
            np.testing.assert_array_equal(x[:, 0], previous[:, -1] + 1)   # the lane continues
        previous = x
    assert len(offsets) >= 5 and len(set(offsets)) > 1 and all(0 <= o < 10 for o in offsets)
    fixed = chunks(ids, batch=4, seq_len=10)
    assert next(fixed)[1][0, 0] == 0
    with pytest.raises(ValueError, match="too few"):
        next(chunks(np.arange(30), batch=4, seq_len=10))
    with pytest.raises(ValueError, match="integer ids"):
        next(chunks(np.zeros(100), batch=4, seq_len=10))


def test_learns_a_repeating_text_and_samples_it():
    torch.manual_seed(0)
    text = np.tile(np.array([0, 1, 2, 3, 2, 1]), 200)
    for cell in ("rnn", "lstm"):
        model = CharModel(4, 16, cell=cell)
        losses = charlm_torch.train(model, text, 80, batch=8, seq_len=12, lr=2e-2, seed=0)
        assert losses[-1] < 0.1 * losses[0]
        assert charlm_torch.bits(charlm_torch.evaluate(model, text, batch=4, seq_len=50)) < 0.2
        out = charlm_torch.sample(model, np.array([0, 1, 2]), 6, seed=0, temperature=0.5)
        assert out.tolist() == [3, 2, 1, 0, 1, 2]


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="'rnn' or 'lstm'"):
        CharModel(5, 4, cell="gru")
    with pytest.raises(ValueError, match="hidden_size"):
        CharModel(5, 0)
    with pytest.raises(ValueError, match=r"\(batch, time\) int64"):
        CharModel(5, 4)(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="temperature"):
        charlm_torch.sample(CharModel(5, 4), np.array([1]), 3, temperature=0)
