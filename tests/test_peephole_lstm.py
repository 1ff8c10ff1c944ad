"""The peephole LSTM: zero peepholes is torch.nn.LSTM; the hand-written backward equals torch.autograd
and central finite differences (float64); the torch module and the NumPy layer agree."""
import numpy as np
import pytest
import torch

from rnncourse.lstm_numpy import lstm_layers_from_torch
from rnncourse.peephole_lstm import (PeepholeLayer, PeepholeLSTM, init_peephole_layer, peephole_cell_backward,
                                     peephole_cell_forward, peephole_forward)


def big_layer(seed, input_size, hidden_size):
    """Weights three times PyTorch's default, so that gates and cells leave their linear range."""
    rng = np.random.default_rng(seed)
    layer = init_peephole_layer(input_size, hidden_size, rng)
    for name in ("W_ih", "W_hh", "b_hh", "peep"):
        setattr(layer, name, 3.0 * getattr(layer, name))
    return layer, rng


def test_zero_peepholes_is_torch_lstm():
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(3, 4, batch_first=True, dtype=torch.float64)
    (plain,) = lstm_layers_from_torch(lstm)
    layer = PeepholeLayer(plain.W_ih, plain.W_hh, plain.b_ih, plain.b_hh, np.zeros((3, 4)))
    x = torch.randn(2, 9, 3, dtype=torch.float64)
    h0, c0 = torch.randn(1, 2, 4, dtype=torch.float64), torch.randn(1, 2, 4, dtype=torch.float64)
    with torch.no_grad():
        out_t, (h_t, c_t) = lstm(x, (h0, c0))
    out, (h_n, c_n) = peephole_forward(x.numpy(), [layer], h0.numpy(), c0.numpy())
    np.testing.assert_allclose(out, out_t.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(c_n, c_t.numpy(), rtol=0, atol=1e-12)


def torch_step(x, h, c, W_ih, W_hh, b_ih, b_hh, peep):
    """The peephole equations written once more, directly in torch, for autograd."""
    H = h.shape[1]
    a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i = torch.sigmoid(a[:, :H] + peep[0] * c)
    f = torch.sigmoid(a[:, H:2 * H] + peep[1] * c)
    c_new = f * c + i * torch.tanh(a[:, 2 * H:3 * H])
    o = torch.sigmoid(a[:, 3 * H:] + peep[2] * c_new)
    return o * torch.tanh(c_new), c_new


@pytest.mark.parametrize("seed,batch,input_size,hidden_size", [(0, 3, 4, 5), (1, 1, 2, 1), (2, 4, 3, 6)])
def test_cell_backward_equals_autograd(seed, batch, input_size, hidden_size):
    layer, rng = big_layer(seed, input_size, hidden_size)
    x, h, c = (rng.standard_normal((batch, n)) for n in (input_size, hidden_size, hidden_size))
    dh, dc = rng.standard_normal((batch, hidden_size)), rng.standard_normal((batch, hidden_size))
    h_np, c_np, cache = peephole_cell_forward(x, h, c, layer)
    ours = peephole_cell_backward(dh, dc, cache)
    leaves = {k: torch.tensor(v, requires_grad=True) for k, v in
              dict(x=x, h=h, c=c, W_ih=layer.W_ih, W_hh=layer.W_hh, b_ih=layer.b_ih, b_hh=layer.b_hh,
                   peep=layer.peep).items()}
    h_t, c_t = torch_step(*leaves.values())
    np.testing.assert_allclose(h_np, h_t.detach().numpy(), rtol=0, atol=1e-13)
    np.testing.assert_allclose(c_np, c_t.detach().numpy(), rtol=0, atol=1e-13)
    ((h_t * torch.from_numpy(dh)).sum() + (c_t * torch.from_numpy(dc)).sum()).backward()
    for ours_name, leaf in [("dx", "x"), ("dh_prev", "h"), ("dc_prev", "c"), ("dW_ih", "W_ih"), ("dW_hh", "W_hh"),
                            ("db_ih", "b_ih"), ("db_hh", "b_hh"), ("dpeep", "peep")]:
        np.testing.assert_allclose(ours[ours_name], leaves[leaf].grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=ours_name)


def sequence_loss_and_grads(layer, xs, h0, c0, w_out):
    """L = sum_t w_out . h_t over a sequence, and dL/dpeep, dL/dc0 by chaining the cell backward."""
    h, c, caches, loss = h0, c0, [], 0.0
    for t in range(xs.shape[1]):
        h, c, cache = peephole_cell_forward(xs[:, t], h, c, layer)
        caches.append(cache)
        loss += float((h * w_out).sum())
    dpeep, dh_next, dc_next = np.zeros_like(layer.peep), np.zeros_like(h0), np.zeros_like(c0)
    for cache in reversed(caches):
        g = peephole_cell_backward(w_out + dh_next, dc_next, cache)
        dpeep += g["dpeep"]
        dh_next, dc_next = g["dh_prev"], g["dc_prev"]
    return loss, dpeep, dc_next


def test_sequence_gradient_equals_central_differences():
    layer, rng = big_layer(3, 2, 3)
    xs, h0, c0 = rng.standard_normal((2, 6, 2)), rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    w_out = rng.standard_normal(3)
    _, dpeep, dc0 = sequence_loss_and_grads(layer, xs, h0, c0, w_out)
    eps = 1e-6
    for idx in np.ndindex(layer.peep.shape):
        plus, minus = (PeepholeLayer(layer.W_ih, layer.W_hh, layer.b_ih, layer.b_hh, layer.peep.copy()) for _ in "pm")
        plus.peep[idx] += eps
        minus.peep[idx] -= eps
        numeric = (sequence_loss_and_grads(plus, xs, h0, c0, w_out)[0]
                   - sequence_loss_and_grads(minus, xs, h0, c0, w_out)[0]) / (2 * eps)
        assert dpeep[idx] == pytest.approx(numeric, rel=1e-6, abs=1e-8), idx
    for idx in np.ndindex(c0.shape):  # the gradient along the cell path, peepholes included
        cp, cm = c0.copy(), c0.copy()
        cp[idx] += eps
        cm[idx] -= eps
        numeric = (sequence_loss_and_grads(layer, xs, h0, cp, w_out)[0]
                   - sequence_loss_and_grads(layer, xs, h0, cm, w_out)[0]) / (2 * eps)
        assert dc0[idx] == pytest.approx(numeric, rel=1e-6, abs=1e-8), idx


@pytest.mark.parametrize("peepholes", [True, False])
def test_torch_module_equals_numpy_and_plain_module_equals_torch_lstm(peepholes):
    torch.manual_seed(4)
    module = PeepholeLSTM(3, 5, peepholes=peepholes).double()
    x = torch.randn(2, 7, 3, dtype=torch.float64)
    with torch.no_grad():
        out, (h_n, c_n) = module(x)
    ref, (h_ref, c_ref) = peephole_forward(x.numpy(), [module.to_numpy()])
    np.testing.assert_allclose(out.numpy(), ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(c_n.numpy(), c_ref, rtol=0, atol=1e-12)
    if not peepholes:
        lstm = torch.nn.LSTM(3, 5, batch_first=True, dtype=torch.float64)
        lstm.load_state_dict({k: v for k, v in module.state_dict().items()})
        with torch.no_grad():
            np.testing.assert_allclose(lstm(x)[0].numpy(), out.numpy(), rtol=0, atol=1e-12)


def test_bad_input_is_named():
    layer, rng = big_layer(0, 2, 3)
    x, h = rng.standard_normal((1, 2)), rng.standard_normal((1, 3))
    with pytest.raises(TypeError, match="PeepholeLayer"):
        peephole_cell_forward(x, h, h, lstm_layers_from_torch(torch.nn.LSTMCell(2, 3))[0])
    layer.peep = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"peep must have shape \(3, 3\)"):
        peephole_cell_forward(x, h, h, layer)
    with pytest.raises(ValueError, match="batch, time, input_size"):
        PeepholeLSTM(2, 3)(torch.zeros(4, 2))
