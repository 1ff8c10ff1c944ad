"""The four models: the initializations the paper describes, the head on the last state, gradients."""
import pytest
import torch

from rnncourse.pixel_models import KINDS, PixelClassifier, count_parameters, make_model, set_forget_bias_


def test_irnn_starts_at_identity_with_zero_bias_and_small_input_weights():
    model = make_model("irnn", hidden_size=100, seed=0)
    core = model.core
    assert isinstance(core, torch.nn.RNN) and core.nonlinearity == "relu" and core.batch_first
    torch.testing.assert_close(core.weight_hh_l0, torch.eye(100), rtol=0, atol=0)
    assert torch.all(core.bias_ih_l0 == 0) and torch.all(core.bias_hh_l0 == 0)
    assert 0 < core.weight_ih_l0.std().item() < 3e-3


def test_irnn_with_zero_input_keeps_a_nonnegative_state_unchanged():
    """h_t = relu(I h_{t-1} + 0) = h_{t-1} for h >= 0: the state is copied forward."""
    core = make_model("irnn", hidden_size=6, seed=1).core
    h0 = torch.rand(1, 2, 6)
    with torch.no_grad():
        out, h_n = core(torch.zeros(2, 50, 1), h0)
    torch.testing.assert_close(h_n[0], h0[0])
    torch.testing.assert_close(out[:, -1], h0[0])


def test_relu_gaussian_and_tanh_initializations():
    relu = make_model("rnn_relu", hidden_size=200, seed=0, gaussian_std=1e-2).core
    assert relu.nonlinearity == "relu" and torch.all(relu.bias_hh_l0 == 0)
    assert abs(relu.weight_hh_l0.std().item() - 1e-2) < 1e-3 and abs(relu.weight_hh_l0.mean().item()) < 1e-3
    tanh = make_model("rnn_tanh", hidden_size=100, seed=0).core
    assert tanh.nonlinearity == "tanh"
    bound = 1 / 100 ** 0.5
    assert tanh.weight_hh_l0.abs().max().item() <= bound and tanh.weight_hh_l0.abs().max().item() > 0.9 * bound


def test_lstm_forget_gate_bias():
    lstm = make_model("lstm", hidden_size=5, seed=0, forget_bias=1.0).core
    total = lstm.bias_ih_l0 + lstm.bias_hh_l0
    torch.testing.assert_close(total[5:10], torch.ones(5))
    assert not torch.allclose(total[:5], torch.ones(5))
    # the forget gate really is rows H..2H: with zero weights and a huge forget bias, c_t = c_{t-1}
    cell = torch.nn.LSTM(1, 3, batch_first=True)
    with torch.no_grad():
        for p in cell.parameters():
            p.zero_()
    set_forget_bias_(cell, 50.0)
    with torch.no_grad():
        _, (h, c) = cell(torch.randn(1, 7, 1), (torch.zeros(1, 1, 3), torch.full((1, 1, 3), 0.7)))
    torch.testing.assert_close(c, torch.full((1, 1, 3), 0.7))


@pytest.mark.parametrize("kind", KINDS)
def test_forward_shapes_head_on_last_state_and_parameter_count(kind):
    model = make_model(kind, hidden_size=100, seed=0)
    x = torch.randn(4, 9, 1)
    logits = model(x)
    assert logits.shape == (4, 10)
    torch.testing.assert_close(logits, model.head(model.states(x)[:, -1]))
    gates = 4 if kind == "lstm" else 1
    assert count_parameters(model) == gates * (100 * 1 + 100 * 100 + 2 * 100) + 100 * 10 + 10


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_weights_and_global_rng_untouched(kind):
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    a = make_model(kind, hidden_size=8, seed=5)
    after = torch.rand(3)
    torch.testing.assert_close(before, after)
    b = make_model(kind, hidden_size=8, seed=5)
    c = make_model(kind, hidden_size=8, seed=6)
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters()):
        torch.testing.assert_close(pa, pb, rtol=0, atol=0)
    assert not torch.equal(a.core.weight_ih_l0, c.core.weight_ih_l0)


@pytest.mark.parametrize("kind", KINDS)
def test_gradients_match_finite_differences_in_float64(kind):
    model = make_model(kind, hidden_size=4, seed=0, input_std=0.5, gaussian_std=0.5).double()
    x = torch.randn(2, 5, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) + 1.0
    y = torch.tensor([3, 7])

    def loss_fn():
        return torch.nn.functional.cross_entropy(model(x), y)

    loss_fn().backward()
    weight = model.core.weight_hh_l0
    analytic = weight.grad.clone()
    eps = 1e-6
    numeric = torch.zeros_like(weight)
    with torch.no_grad():
        for idx in [(0, 0), (1, 2), (3, 1)]:
            saved = weight[idx].item()
            weight[idx] = saved + eps
            plus = loss_fn().item()
            weight[idx] = saved - eps
            minus = loss_fn().item()
            weight[idx] = saved
            numeric[idx] = (plus - minus) / (2 * eps)
            assert analytic[idx].item() == pytest.approx(numeric[idx].item(), rel=1e-5, abs=1e-9)


def test_bad_arguments():
    with pytest.raises(ValueError, match="kind must be one of"):
        make_model("gru")
    with pytest.raises(ValueError, match="hidden_size"):
        make_model("irnn", hidden_size=0)
    with pytest.raises(TypeError, match="batch-first"):
        PixelClassifier(torch.nn.RNN(1, 3))
    with pytest.raises(ValueError, match=r"\(batch, time, 1\)"):
        make_model("lstm", hidden_size=3)(torch.randn(2, 5))
