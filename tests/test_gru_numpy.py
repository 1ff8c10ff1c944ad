"""The NumPy GRU equals torch.nn.GRU / GRUCell (float64, 1e-10), reset gate applied to W_hn h + b_hn."""
import numpy as np
import pytest
import torch

from rnncourse.gru_numpy import GRULayer, gru_cell_forward, gru_forward, gru_layers_from_torch, init_gru_layer


@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("seed,batch,steps,input_size,hidden_size", [(0, 3, 7, 4, 5), (1, 1, 1, 2, 3), (2, 4, 15, 6, 8)])
def test_sequence_forward_equals_torch_gru(num_layers, seed, batch, steps, input_size, hidden_size):
    torch.manual_seed(seed)
    gru = torch.nn.GRU(input_size, hidden_size, num_layers=num_layers, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        for p in gru.parameters():
            p.mul_(3.0)
    x = torch.randn(batch, steps, input_size, dtype=torch.float64)
    h0 = torch.randn(num_layers, batch, hidden_size, dtype=torch.float64)
    with torch.no_grad():
        out_t, h_t = gru(x, h0)
    out, h_n = gru_forward(x.numpy(), gru_layers_from_torch(gru), h0.numpy())
    assert out.shape == (batch, steps, hidden_size) and h_n.shape == (num_layers, batch, hidden_size)
    np.testing.assert_allclose(out, out_t.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(h_n, h_t.numpy(), rtol=0, atol=1e-10)


def test_zero_initial_state_is_the_default_like_torch():
    torch.manual_seed(3)
    gru = torch.nn.GRU(3, 4, num_layers=2, batch_first=True, dtype=torch.float64)
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    with torch.no_grad():
        out_t, h_t = gru(x)
    out, h_n = gru_forward(x.numpy(), gru_layers_from_torch(gru))
    np.testing.assert_allclose(out, out_t.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(h_n, h_t.numpy(), rtol=0, atol=1e-10)


@pytest.mark.parametrize("bias", [True, False])
def test_cell_equals_torch_gru_cell(bias):
    torch.manual_seed(4)
    cell = torch.nn.GRUCell(5, 6, bias=bias, dtype=torch.float64)
    x, h = torch.randn(3, 5, dtype=torch.float64), torch.randn(3, 6, dtype=torch.float64)
    with torch.no_grad():
        expected = cell(x, h)
    (layer,) = gru_layers_from_torch(cell)
    np.testing.assert_allclose(gru_cell_forward(x.numpy(), h.numpy(), layer), expected.numpy(), rtol=0, atol=1e-10)


def test_reset_gate_multiplies_the_hidden_bias_too():
    # Moving b_hn into b_in changes the result (r sits between them), unlike the LSTM's biases.
    rng = np.random.default_rng(5)
    layer = init_gru_layer(3, 4, rng)
    layer.b_hh[8:] = 2.0
    moved = GRULayer(layer.W_ih, layer.W_hh, layer.b_ih.copy(), layer.b_hh.copy())
    moved.b_ih[8:] += moved.b_hh[8:]
    moved.b_hh[8:] = 0.0
    x, h = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    assert np.max(np.abs(gru_cell_forward(x, h, layer) - gru_cell_forward(x, h, moved))) > 1e-2

    cell = torch.nn.GRUCell(3, 4, dtype=torch.float64)
    with torch.no_grad():
        for name, value in [("weight_ih", layer.W_ih), ("weight_hh", layer.W_hh), ("bias_ih", layer.b_ih), ("bias_hh", layer.b_hh)]:
            getattr(cell, name).copy_(torch.from_numpy(value))
        expected = cell(torch.from_numpy(x), torch.from_numpy(h)).numpy()
    np.testing.assert_allclose(gru_cell_forward(x, h, layer), expected, rtol=0, atol=1e-12)


def test_update_gate_one_copies_the_state():
    H = 3
    layer = GRULayer(np.zeros((3 * H, 2)), np.zeros((3 * H, H)), np.zeros(3 * H), np.zeros(3 * H))
    layer.b_ih[H:2 * H] = 50.0  # z = 1: keep h
    h = np.array([[0.4, -0.7, 0.1]])
    np.testing.assert_allclose(gru_cell_forward(np.ones((1, 2)), h, layer), h, rtol=1e-15)
    layer.b_ih[H:2 * H] = -50.0  # z = 0: take the candidate n = tanh(0) = 0
    np.testing.assert_allclose(gru_cell_forward(np.ones((1, 2)), h, layer), 0.0, atol=1e-20)


def test_bad_inputs_raise_clear_errors():
    rng = np.random.default_rng(6)
    layer = init_gru_layer(3, 4, rng)
    with pytest.raises(ValueError, match="h_prev"):
        gru_cell_forward(np.ones((2, 3)), np.zeros((2, 5)), layer)
    with pytest.raises(ValueError, match="W_ih must have shape"):
        gru_cell_forward(np.ones((2, 3)), np.zeros((2, 4)), GRULayer(layer.W_ih[:8], layer.W_hh, layer.b_ih, layer.b_hh))
    with pytest.raises(TypeError, match="numpy array"):
        gru_cell_forward([[1.0, 2.0, 3.0]], np.zeros((1, 4)), layer)
    with pytest.raises(ValueError, match="at least one"):
        gru_forward(np.ones((1, 2, 3)), [])
    with pytest.raises(TypeError, match="GRU"):
        gru_layers_from_torch(torch.nn.LSTM(2, 3))
