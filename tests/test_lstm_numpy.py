"""The NumPy LSTM equals torch.nn.LSTM / LSTMCell (float64, 1e-10); its backward equals torch.autograd."""
import numpy as np
import pytest
import torch

from rnncourse.lstm_numpy import (LSTMLayer, init_lstm_layer, lstm_cell_backward, lstm_cell_forward,
                                  lstm_forward, lstm_layers_from_torch, sigmoid)


@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("seed,batch,steps,input_size,hidden_size", [(0, 3, 7, 4, 5), (1, 1, 1, 2, 3), (2, 4, 15, 6, 8)])
def test_sequence_forward_equals_torch_lstm(num_layers, seed, batch, steps, input_size, hidden_size):
    torch.manual_seed(seed)
    lstm = torch.nn.LSTM(input_size, hidden_size, num_layers=num_layers, batch_first=True, dtype=torch.float64)
    with torch.no_grad():  # larger weights than the default, so the gates leave their linear range
        for p in lstm.parameters():
            p.mul_(3.0)
    x = torch.randn(batch, steps, input_size, dtype=torch.float64)
    h0 = torch.randn(num_layers, batch, hidden_size, dtype=torch.float64)
    c0 = torch.randn(num_layers, batch, hidden_size, dtype=torch.float64)
    with torch.no_grad():
        out_t, (h_t, c_t) = lstm(x, (h0, c0))
    out, (h_n, c_n) = lstm_forward(x.numpy(), lstm_layers_from_torch(lstm), h0.numpy(), c0.numpy())
    assert out.shape == (batch, steps, hidden_size) and h_n.shape == c_n.shape == (num_layers, batch, hidden_size)
    np.testing.assert_allclose(out, out_t.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(h_n, h_t.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(c_n, c_t.numpy(), rtol=0, atol=1e-10)


def test_zero_initial_state_is_the_default_like_torch():
    torch.manual_seed(3)
    lstm = torch.nn.LSTM(3, 4, num_layers=2, batch_first=True, dtype=torch.float64)
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    with torch.no_grad():
        out_t, (h_t, c_t) = lstm(x)
    out, (h_n, c_n) = lstm_forward(x.numpy(), lstm_layers_from_torch(lstm))
    np.testing.assert_allclose(out, out_t.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(c_n, c_t.numpy(), rtol=0, atol=1e-10)


@pytest.mark.parametrize("bias", [True, False])
def test_cell_equals_torch_lstm_cell(bias):
    torch.manual_seed(4)
    cell = torch.nn.LSTMCell(5, 6, bias=bias, dtype=torch.float64)
    x, h, c = (torch.randn(3, n, dtype=torch.float64) for n in (5, 6, 6))
    with torch.no_grad():
        h_t, c_t = cell(x, (h, c))
    (layer,) = lstm_layers_from_torch(cell)
    h_np, c_np, _ = lstm_cell_forward(x.numpy(), h.numpy(), c.numpy(), layer)
    np.testing.assert_allclose(h_np, h_t.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(c_np, c_t.numpy(), rtol=0, atol=1e-10)


def test_gate_order_is_i_f_g_o():
    # a huge forget-gate bias (rows H:2H) with everything else zero keeps c exactly; the input gate
    # and candidate are sigma(0) = 1/2 and tanh(0) = 0, so nothing is written
    H = 3
    layer = LSTMLayer(np.zeros((4 * H, 2)), np.zeros((4 * H, H)), np.zeros(4 * H), np.zeros(4 * H))
    layer.b_ih[H:2 * H] = 50.0
    c_prev = np.array([[0.3, -1.2, 2.0]])
    h, c, _ = lstm_cell_forward(np.ones((1, 2)), np.zeros((1, H)), c_prev, layer)
    np.testing.assert_allclose(c, c_prev, rtol=1e-15)
    np.testing.assert_allclose(h, 0.5 * np.tanh(c_prev), rtol=1e-15)  # output gate sigma(0) = 1/2
    layer.b_ih[2 * H:3 * H] = 50.0  # candidate g = 1, written with input gate 1/2
    _, c, _ = lstm_cell_forward(np.ones((1, 2)), np.zeros((1, H)), c_prev, layer)
    np.testing.assert_allclose(c, c_prev + 0.5, rtol=1e-14)


@pytest.mark.parametrize("seed,batch,input_size,hidden_size", [(0, 3, 4, 5), (1, 1, 2, 1), (2, 6, 3, 7)])
def test_cell_backward_equals_torch_autograd(seed, batch, input_size, hidden_size):
    rng = np.random.default_rng(seed)
    layer = init_lstm_layer(input_size, hidden_size, rng)
    layer.W_ih *= 3.0
    layer.b_hh *= 3.0
    x, h, c = rng.standard_normal((batch, input_size)), rng.standard_normal((batch, hidden_size)), rng.standard_normal((batch, hidden_size))
    dh, dc = rng.standard_normal((batch, hidden_size)), rng.standard_normal((batch, hidden_size))
    _, _, cache = lstm_cell_forward(x, h, c, layer)
    grads = lstm_cell_backward(dh, dc, cache)

    cell = torch.nn.LSTMCell(input_size, hidden_size, dtype=torch.float64)
    with torch.no_grad():
        for name, value in [("weight_ih", layer.W_ih), ("weight_hh", layer.W_hh), ("bias_ih", layer.b_ih), ("bias_hh", layer.b_hh)]:
            getattr(cell, name).copy_(torch.from_numpy(value))
    xt, ht, ct = (torch.tensor(a, requires_grad=True) for a in (x, h, c))
    h_new, c_new = cell(xt, (ht, ct))
    (h_new * torch.from_numpy(dh)).sum().add((c_new * torch.from_numpy(dc)).sum()).backward()
    expected = {"dx": xt.grad, "dh_prev": ht.grad, "dc_prev": ct.grad, "dW_ih": cell.weight_ih.grad,
                "dW_hh": cell.weight_hh.grad, "db_ih": cell.bias_ih.grad, "db_hh": cell.bias_hh.grad}
    assert set(grads) == set(expected)
    for name, value in expected.items():
        np.testing.assert_allclose(grads[name], value.numpy(), rtol=0, atol=1e-10, err_msg=name)


def test_cell_backward_agrees_with_finite_differences():
    rng = np.random.default_rng(5)
    layer = init_lstm_layer(3, 2, rng)
    x, h, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 2)), rng.standard_normal((2, 2))
    dh, dc = rng.standard_normal((2, 2)), rng.standard_normal((2, 2))

    def loss():
        h_new, c_new, _ = lstm_cell_forward(x, h, c, layer)
        return np.sum(h_new * dh) + np.sum(c_new * dc)

    grads = lstm_cell_backward(dh, dc, lstm_cell_forward(x, h, c, layer)[2])
    eps = 1e-6
    for name, array in [("dW_hh", layer.W_hh), ("dx", x), ("dc_prev", c), ("db_ih", layer.b_ih)]:
        numeric = np.zeros_like(array)
        for idx in np.ndindex(array.shape):
            old = array[idx]
            array[idx] = old + eps
            up = loss()
            array[idx] = old - eps
            down = loss()
            array[idx] = old
            numeric[idx] = (up - down) / (2 * eps)
        np.testing.assert_allclose(grads[name], numeric, rtol=0, atol=1e-8, err_msg=name)


def test_forget_gate_alone_scales_the_cell_path():
    rng = np.random.default_rng(6)
    layer = init_lstm_layer(2, 3, rng)
    x, h, c = rng.standard_normal((1, 2)), rng.standard_normal((1, 3)), rng.standard_normal((1, 3))
    _, _, cache = lstm_cell_forward(x, h, c, layer)
    f = cache[4]
    grads = lstm_cell_backward(np.zeros((1, 3)), np.ones((1, 3)), cache)
    np.testing.assert_allclose(grads["dc_prev"], f, rtol=1e-15)  # dc_t/dc_{t-1} = diag(f) when dh = 0


def test_sigmoid_is_stable_and_exact():
    a = np.array([-800.0, -30.0, 0.0, 2.5, 800.0])
    np.testing.assert_allclose(sigmoid(a), torch.sigmoid(torch.from_numpy(a)).numpy(), rtol=1e-15, atol=0)


def test_bad_inputs_raise_clear_errors():
    rng = np.random.default_rng(7)
    layer = init_lstm_layer(3, 4, rng)
    with pytest.raises(ValueError, match="x must have shape"):
        lstm_cell_forward(np.ones((2, 5)), np.zeros((2, 4)), np.zeros((2, 4)), layer)
    with pytest.raises(ValueError, match="c_prev"):
        lstm_cell_forward(np.ones((2, 3)), np.zeros((2, 4)), np.zeros((1, 4)), layer)
    bad = LSTMLayer(layer.W_ih, layer.W_hh[:12 - 4], layer.b_ih, layer.b_hh)
    with pytest.raises(ValueError, match="W_hh must have shape"):
        lstm_cell_forward(np.ones((2, 3)), np.zeros((2, 4)), np.zeros((2, 4)), bad)
    with pytest.raises(ValueError, match="h0"):
        lstm_forward(np.ones((2, 5, 3)), [layer], h0=np.zeros((2, 2, 4)))
    with pytest.raises(ValueError, match="layer 1 expects"):
        lstm_forward(np.ones((2, 5, 3)), [layer, init_lstm_layer(3, 4, rng)])
    with pytest.raises(TypeError, match="LSTM"):
        lstm_layers_from_torch(torch.nn.GRU(2, 3))
