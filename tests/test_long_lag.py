"""The long-lag task, the training helper, and the experiment script at a tiny size."""
import json

import numpy as np
import pytest
import torch
from torch import nn

from rnncourse.experiments import long_lag as experiment
from rnncourse.long_lag import (SequenceClassifier, accuracy, first_symbol_batch, hidden_gradient_norms,
                                init_keep_bias, solved, train_first_symbol)


pytestmark = pytest.mark.usefixtures("one_torch_thread")   # tests/conftest.py


def test_batch_shows_the_answer_first_and_distractors_after():
    x, y = first_symbol_batch(16, 7, 3, torch.Generator().manual_seed(0), n_noise=2)
    assert x.shape == (16, 7, 5) and y.shape == (16,) and y.dtype == torch.int64
    np.testing.assert_array_equal(x.sum(dim=2).numpy(), 1.0)  # one-hot
    np.testing.assert_array_equal(x[:, 0].argmax(dim=1).numpy(), y.numpy())
    assert x[:, 1:, :3].sum() == 0 and x[:, 1:, 3:].sum() == 16 * 6
    again, _ = first_symbol_batch(16, 7, 3, torch.Generator().manual_seed(0), n_noise=2)
    assert torch.equal(x, again)


def test_batch_rejects_bad_sizes():
    with pytest.raises(ValueError, match="n_symbols"):
        first_symbol_batch(4, 5, 1, torch.Generator())
    with pytest.raises(ValueError, match="length"):
        first_symbol_batch(4, 0, 3, torch.Generator())


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_step_by_step_equals_the_fused_layer_and_its_gradients_are_real(kind):
    torch.manual_seed(0)
    model = SequenceClassifier(kind, 5, 6, 3).double()
    x = torch.randn(4, 9, 5, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 1])
    logits, hs = model.step_by_step(x)
    torch.testing.assert_close(logits, model(x), rtol=0, atol=1e-12)
    norms = hidden_gradient_norms(model, x, y)
    assert norms.shape == (9,) and np.all(norms > 0)
    # dL/dh_1 must include the path through the recurrence: compare with a finite difference
    eps, b = 1e-6, 0
    direction = torch.randn(6, dtype=torch.float64)
    def loss_with_h1_shift(s):
        state, h = None, None
        for t in range(9):
            out, state = model.rnn(x[:, t:t + 1], state)
            h = out[:, 0] + (s * direction if t == 0 else 0)
            state = (h.unsqueeze(0), state[1]) if kind == "lstm" else h.unsqueeze(0)
        return nn.functional.cross_entropy(model.head(h), y, reduction="sum")
    logits, hs = model.step_by_step(x)
    g = torch.autograd.grad(nn.functional.cross_entropy(logits, y, reduction="sum"), hs[0])[0]
    with torch.no_grad():
        numeric = (loss_with_h1_shift(eps) - loss_with_h1_shift(-eps)) / (2 * eps)
    assert float((g * direction).sum()) == pytest.approx(float(numeric), rel=1e-6, abs=1e-9)


def test_keep_bias_moves_the_forget_and_update_gates_only():
    torch.manual_seed(1)
    lstm = nn.LSTM(3, 4)
    before = lstm.bias_hh_l0.detach().clone()
    init_keep_bias(lstm, 2.0)
    diff = (lstm.bias_hh_l0 - before).detach()
    np.testing.assert_allclose(diff.numpy(), np.r_[np.zeros(4), 2 * np.ones(4), np.zeros(8)], atol=1e-6)
    gru = nn.GRU(3, 4)
    before = gru.bias_hh_l0.detach().clone()
    init_keep_bias(gru, 1.5)
    np.testing.assert_allclose((gru.bias_hh_l0 - before).detach().numpy(), np.r_[np.zeros(4), 1.5 * np.ones(4), np.zeros(4)], atol=1e-6)
    with pytest.raises(TypeError, match="LSTM or nn.GRU"):
        init_keep_bias(nn.RNN(3, 4), 1.0)


def test_solved_is_a_threshold_above_chance():
    assert solved(0.96, 4) and not solved(0.94, 4) and solved(0.5, 4, threshold=0.5)
    with pytest.raises(ValueError, match="chance"):
        solved(0.9, 4, threshold=0.2)


def test_short_lag_is_learned_by_every_model():
    for kind in ["rnn", "lstm", "gru"]:
        run = train_first_symbol(kind, 3, steps=150, lr=1e-2, eval_every=50, eval_size=256, seed=0)
        assert run["solved"], (kind, run["accuracy"])
        assert run["step"] == [50, 100, 150] and len(run["grad_norm_init"]) == 3


def test_accuracy_counts_correct_answers():
    model = SequenceClassifier("rnn", 8, 4, 4)
    x, y = first_symbol_batch(32, 4, 4, torch.Generator().manual_seed(2))
    with torch.no_grad():
        pred = model(x).argmax(dim=1)
    assert accuracy(model, x, y) == pytest.approx((pred == y).float().mean().item())


def test_experiment_runs_at_a_tiny_size_and_writes_its_results(tmp_path):
    out = tmp_path / "tiny.json"
    experiment.main(["--lags", "3", "5", "--steps", "4", "--seeds", "0", "--models", "rnn", "gru_keep",
                     "--out", str(out), "--device", "cpu"])
    data = json.loads(out.read_text())
    assert data["device"].startswith("cpu") and "--steps 4" in data["command"]
    assert [(r["model"], r["length"]) for r in data["runs"]] == [("rnn", 3), ("rnn", 5), ("gru_keep", 3), ("gru_keep", 5)]
    for r in data["runs"]:
        assert r["step"][-1] == 4 and len(r["grad_norm_final"]) == r["length"] and isinstance(r["solved"], bool)


def test_experiment_writes_to_runs_by_default_and_merges_on_request(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    experiment.main(["--smoke", "--models", "rnn", "--lags", "40", "--seeds", "0", "--device", "cpu"])
    out = tmp_path / "runs" / "long_lag.json"
    data = json.loads(out.read_text())
    assert [(r["model"], r["length"], r["step"][-1]) for r in data["runs"]] == [("rnn", 5, 3)]
    experiment.main(["--smoke", "--models", "gru", "--lags", "40", "--seeds", "0", "--device", "cpu", "--merge"])
    merged = json.loads(out.read_text())
    assert [r["model"] for r in merged["runs"]] == ["rnn", "gru"] and "--merge" in merged["merged"][0]["command"]
    assert experiment.COMMITTED.parts[-2:] == ("results", "long_lag.json")
