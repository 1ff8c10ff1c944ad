"""Identity and Gaussian initialisers of torch.nn.RNN, and the last-step regressor."""
import pytest
import torch
from torch import nn

from rnncourse.irnn import LastStepRegressor, gaussian_init_, identity_init_, make_irnn


@pytest.mark.parametrize("scale", [1.0, 0.5])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_identity_init_sets_scaled_identity_and_zero_biases(scale, num_layers):
    torch.manual_seed(0)
    rnn = nn.RNN(3, 5, num_layers=num_layers, nonlinearity="relu", batch_first=True)
    before = rnn.weight_ih_l0.detach().clone()
    assert identity_init_(rnn, scale) is rnn
    for k in range(num_layers):
        assert torch.equal(getattr(rnn, f"weight_hh_l{k}").detach(), scale * torch.eye(5))
        assert torch.all(getattr(rnn, f"bias_ih_l{k}") == 0) and torch.all(getattr(rnn, f"bias_hh_l{k}") == 0)
    assert torch.equal(rnn.weight_ih_l0.detach(), before)  # input weights kept unless asked


def test_identity_init_can_redraw_input_weights():
    rnn = nn.RNN(4, 300, nonlinearity="relu")
    identity_init_(rnn, input_std=0.01, generator=torch.Generator().manual_seed(1))
    assert float(rnn.weight_ih_l0.detach().std()) == pytest.approx(0.01, rel=0.05)


def test_irnn_copies_its_state_forward_when_the_input_is_zero():
    """With W_hh = I, zero bias and ReLU, a non-negative state is carried unchanged."""
    rnn = make_irnn(2, 6)
    h0 = torch.rand(1, 3, 6)
    with torch.no_grad():
        out, h_n = rnn(torch.zeros(3, 25, 2), h0)
    assert torch.allclose(out, h0[0].unsqueeze(1).expand(3, 25, 6))
    # scaled identity forgets geometrically, like a forget gate held at s
    rnn = make_irnn(2, 6, scale=0.9)
    with torch.no_grad():
        out, _ = rnn(torch.zeros(3, 10, 2), h0)
    assert torch.allclose(out[:, -1], 0.9 ** 10 * h0[0], rtol=1e-5)


def test_irnn_jacobian_is_the_identity_on_active_units():
    rnn = make_irnn(2, 4).double()
    h = torch.tensor([0.3, 0.0, 1.2, 0.7], dtype=torch.float64)
    x = torch.zeros(2, dtype=torch.float64)

    def step(h_prev):
        return rnn(x.view(1, 1, 2), h_prev.view(1, 1, 4))[0].view(4)

    jac = torch.autograd.functional.jacobian(step, h + torch.tensor([0.0, 1e-3, 0.0, 0.0], dtype=torch.float64))
    assert torch.allclose(jac, torch.eye(4, dtype=torch.float64))


def test_gaussian_init_draws_recurrent_weights_with_the_given_std():
    rnn = nn.RNN(2, 200, nonlinearity="tanh")
    gaussian_init_(rnn, 0.05, generator=torch.Generator().manual_seed(2))
    w = rnn.weight_hh_l0.detach()
    assert float(w.std()) == pytest.approx(0.05, rel=0.03) and abs(float(w.mean())) < 0.002
    assert torch.all(rnn.bias_hh_l0 == 0) and torch.all(rnn.bias_ih_l0 == 0)


def test_initialisers_reject_other_modules():
    with pytest.raises(TypeError, match="torch.nn.RNN"):
        identity_init_(nn.LSTM(2, 3))
    with pytest.raises(ValueError, match="unidirectional"):
        identity_init_(nn.RNN(2, 3, bidirectional=True))
    with pytest.raises(ValueError, match="std"):
        gaussian_init_(nn.RNN(2, 3), -1.0)


def test_last_step_regressor_reads_the_last_state():
    torch.manual_seed(3)
    core = nn.LSTM(2, 5, batch_first=True)
    model = LastStepRegressor(core, 5)
    x = torch.randn(4, 7, 2)
    with torch.no_grad():
        out, _ = core(x)
        expected = model.head(out[:, -1]).squeeze(-1)
        got = model(x)
    assert got.shape == (4,) and torch.allclose(got, expected)
    with pytest.raises(ValueError, match="batch, time, input"):
        model(torch.randn(7, 2))
