"""The NumPy RNN equals torch.nn.RNN loaded with the same weights (float64, 1e-10)."""
import numpy as np
import pytest
import torch

from rnncourse.rnn_numpy import (RNNLayer, concat_weights, count_parameters, init_rnn_layer,
                                 rnn_cell_forward, rnn_forward)
from rnncourse.torch_bridge import load_into_torch, rnn_layers_from_torch, torch_rnn_like


def make_layers(rng, input_size, hidden_size, num_layers):
    sizes = [input_size] + [hidden_size] * num_layers
    return [init_rnn_layer(sizes[k], hidden_size, rng) for k in range(num_layers)]


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("seed,batch,steps,input_size,hidden_size", [(0, 3, 7, 4, 5), (1, 1, 1, 2, 3), (2, 5, 12, 6, 8)])
def test_numpy_forward_equals_torch_rnn(nonlinearity, num_layers, seed, batch, steps, input_size, hidden_size):
    rng = np.random.default_rng(seed)
    layers = make_layers(rng, input_size, hidden_size, num_layers)
    x = rng.standard_normal((batch, steps, input_size))
    h0 = rng.standard_normal((num_layers, batch, hidden_size))

    out, h_n = rnn_forward(x, layers, h0, nonlinearity)

    rnn = torch_rnn_like(layers, nonlinearity)
    with torch.no_grad():
        out_t, h_n_t = rnn(torch.from_numpy(x), torch.from_numpy(h0))
    assert out.shape == (batch, steps, hidden_size) and h_n.shape == (num_layers, batch, hidden_size)
    np.testing.assert_allclose(out, out_t.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(h_n, h_n_t.numpy(), rtol=0, atol=1e-10)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_weights_read_from_a_torch_rnn_reproduce_it(nonlinearity):
    torch.manual_seed(3)
    rnn = torch.nn.RNN(3, 4, num_layers=2, nonlinearity=nonlinearity, batch_first=True, dtype=torch.float64)
    x = torch.randn(2, 6, 3, dtype=torch.float64)
    with torch.no_grad():
        expected, expected_h = rnn(x)
    out, h_n = rnn_forward(x.numpy(), rnn_layers_from_torch(rnn), nonlinearity=nonlinearity)
    np.testing.assert_allclose(out, expected.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(h_n, expected_h.numpy(), rtol=0, atol=1e-10)


def test_round_trip_numpy_torch_numpy_keeps_the_summed_bias():
    rng = np.random.default_rng(4)
    layers = make_layers(rng, 2, 3, 2)
    back = rnn_layers_from_torch(torch_rnn_like(layers))
    for a, b in zip(layers, back):
        np.testing.assert_array_equal(a.W_xh, b.W_xh)
        np.testing.assert_array_equal(a.W_hh, b.W_hh)
        np.testing.assert_array_equal(a.b_h, b.b_h)


def test_cell_is_the_equation_and_the_concatenated_form_agrees():
    rng = np.random.default_rng(5)
    layer = init_rnn_layer(3, 4, rng)
    x, h = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    expected = np.tanh(x @ layer.W_xh.T + h @ layer.W_hh.T + layer.b_h)
    np.testing.assert_allclose(rnn_cell_forward(x, h, layer), expected, rtol=0, atol=1e-15)
    concat = np.tanh(np.concatenate([x, h], axis=1) @ concat_weights(layer).T + layer.b_h)
    np.testing.assert_allclose(concat, expected, rtol=0, atol=1e-14)


def test_weights_are_shared_across_time_steps():
    """A sequence of identical inputs from a fixed point stays at that point: same weights every step."""
    rng = np.random.default_rng(6)
    layer = init_rnn_layer(2, 3, rng)
    x = np.repeat(rng.standard_normal((1, 1, 2)), 5, axis=1)
    out, _ = rnn_forward(x, [layer])
    manual = np.zeros((1, 3))
    for t in range(5):
        manual = np.tanh(x[:, t] @ layer.W_xh.T + manual @ layer.W_hh.T + layer.b_h)
        np.testing.assert_allclose(out[:, t], manual, rtol=0, atol=1e-15)


@pytest.mark.parametrize("input_size,hidden_size,num_layers,output_size", [(4, 5, 1, 0), (10, 32, 3, 7), (1, 1, 2, 1)])
def test_parameter_count_matches_torch(input_size, hidden_size, num_layers, output_size):
    modules = [torch.nn.RNN(input_size, hidden_size, num_layers=num_layers)]
    if output_size:
        modules.append(torch.nn.Linear(hidden_size, output_size))
    expected = sum(p.numel() for m in modules for p in m.parameters())
    assert count_parameters(input_size, hidden_size, num_layers, output_size) == expected
    one_bias = expected - num_layers * hidden_size
    assert count_parameters(input_size, hidden_size, num_layers, output_size, torch_biases=False) == one_bias


def test_bad_shapes_name_what_was_expected():
    rng = np.random.default_rng(7)
    layer = init_rnn_layer(3, 4, rng)
    with pytest.raises(ValueError, match=r"x must have shape \(any, any, 3\), got \(2, 5, 4\)"):
        rnn_forward(np.zeros((2, 5, 4)), [layer])
    with pytest.raises(ValueError, match=r"h_prev must have shape \(2, 4\)"):
        rnn_cell_forward(np.zeros((2, 3)), np.zeros((3, 4)), layer)
    with pytest.raises(ValueError, match="nonlinearity must be one of"):
        rnn_cell_forward(np.zeros((2, 3)), np.zeros((2, 4)), layer, "sigmoid")
    with pytest.raises(TypeError, match="x_t must be a numpy array"):
        rnn_cell_forward([[0.0, 0.0, 0.0]], np.zeros((1, 4)), layer)
    with pytest.raises(ValueError, match="layer 1 expects input_size"):
        rnn_forward(np.zeros((1, 2, 3)), [layer, init_rnn_layer(5, 4, rng)])
    with pytest.raises(ValueError, match="rnn has 1 layers but 2 were given"):
        load_into_torch([layer, layer], torch.nn.RNN(3, 4))
    with pytest.raises(ValueError, match="hidden_size must be a positive integer"):
        count_parameters(3, 0)
