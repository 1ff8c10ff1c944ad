"""Jacobian products measured by backward passes equal the formula and obey the singular-value bound."""
import numpy as np
import pytest
import torch

from rnncourse.gradient_flow import (classify_regime, derivative_bound, jacobian_norms, jacobian_product,
                                     largest_singular_value, run_recurrence, scaled_orthogonal,
                                     shifted_diagonal, spectral_radius, state_jacobians)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "linear"])
@pytest.mark.parametrize("seed,n,steps", [(0, 4, 6), (1, 7, 12)])
def test_backward_pass_jacobians_equal_the_product_formula(activation, seed, n, steps):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((n, n)) / np.sqrt(n)
    inputs, h0 = rng.standard_normal((steps, n)), rng.standard_normal(n)
    states = run_recurrence(W, inputs, h0, activation)
    measured = state_jacobians(states)
    assert measured.shape == (steps + 1, n, n)
    np.testing.assert_allclose(measured, jacobian_product(W, states, activation), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(measured[-1], np.eye(n))


def test_jacobians_equal_torch_autograd_functional_jacobian():
    rng = np.random.default_rng(2)
    n, steps, k = 5, 8, 3
    W, inputs, h0 = rng.standard_normal((n, n)), rng.standard_normal((steps, n)), rng.standard_normal(n)
    states = run_recurrence(W, inputs, h0, "tanh")
    Wt, ut = torch.from_numpy(W), torch.from_numpy(inputs)

    def from_k(h):  # h_T as a function of h_k
        for t in range(k, steps):
            h = torch.tanh(Wt @ h + ut[t])
        return h

    expected = torch.autograd.functional.jacobian(from_k, states[k].detach()).numpy()
    np.testing.assert_allclose(state_jacobians(states)[k], expected, rtol=0, atol=1e-12)


def test_jacobians_agree_with_finite_differences():
    rng = np.random.default_rng(3)
    n, steps = 3, 5
    W, inputs, h0 = rng.standard_normal((n, n)), rng.standard_normal((steps, n)), rng.standard_normal(n)
    J0 = state_jacobians(run_recurrence(W, inputs, h0, "tanh"))[0]
    eps = 1e-6
    for j in range(n):
        e = np.zeros(n)
        e[j] = eps
        plus = run_recurrence(W, inputs, h0 + e, "tanh")[-1].detach().numpy()
        minus = run_recurrence(W, inputs, h0 - e, "tanh")[-1].detach().numpy()
        np.testing.assert_allclose(J0[:, j], (plus - minus) / (2 * eps), rtol=0, atol=1e-8)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_norms_obey_the_bound_gamma_sigma_to_the_distance(activation):
    rng = np.random.default_rng(4)
    n, steps = 6, 15
    W = 1.3 * rng.standard_normal((n, n)) / np.sqrt(n)
    d, norms = jacobian_norms(W, rng.standard_normal((steps, n)), activation=activation)
    bound = (derivative_bound(activation) * largest_singular_value(W)) ** d
    assert np.all(norms <= bound * (1 + 1e-10))
    np.testing.assert_array_equal(d, np.arange(steps + 1))
    assert norms[0] == pytest.approx(1.0)


def test_linear_orthogonal_recurrence_keeps_norms_at_radius_to_the_distance():
    W = scaled_orthogonal(5, 1.1, seed=0)
    d, norms = jacobian_norms(W, steps=12, activation="linear")
    np.testing.assert_allclose(norms, 1.1 ** d, rtol=1e-10)
    np.testing.assert_allclose(np.linalg.svd(W, compute_uv=False), 1.1, rtol=1e-12)


def test_nilpotent_matrix_zero_eigenvalues_but_transient_growth():
    W = shifted_diagonal(6, 0.0, 3.0)
    assert spectral_radius(W) == 0.0 and largest_singular_value(W) == pytest.approx(3.0)
    assert classify_regime(W, "tanh") == "may_explode"
    d, norms = jacobian_norms(W, steps=9, activation="linear")
    np.testing.assert_allclose(norms[:6], 3.0 ** d[:6], rtol=1e-12)
    np.testing.assert_array_equal(norms[6:], 0.0)


def test_saturated_tanh_vanishes_although_w_is_three():
    # h = tanh(3 h) has a stable fixed point near 0.995 where tanh' is about 0.01
    d, norms = jacobian_norms(np.array([[3.0]]), steps=20, h0=np.array([0.5]), activation="tanh")
    assert norms[-1] < 1e-20
    d, norms = jacobian_norms(np.array([[3.0]]), steps=20, h0=np.array([0.0]), activation="tanh")
    np.testing.assert_allclose(norms, 3.0 ** d, rtol=1e-12)  # h stays at 0, tanh'(0) = 1


@pytest.mark.parametrize("W,activation,expected", [
    (0.9 * np.eye(3), "tanh", "vanishing"),
    (1.1 * np.eye(3), "tanh", "may_explode"),
    (np.eye(3), "tanh", "boundary"),
    (3.9 * np.eye(2), "sigmoid", "vanishing"),
    (4.0 * np.eye(2), "sigmoid", "boundary"),
    (4.5 * np.eye(2), "sigmoid", "may_explode"),
    (shifted_diagonal(4, 0.5, 1.0), "tanh", "may_explode"),  # eigenvalues 0.5, sigma > 1
    (np.diag([0.5, -1.5]), "relu", "may_explode"),
])
def test_classify_regime_uses_sigma_max_and_gamma(W, activation, expected):
    assert classify_regime(W, activation) == expected


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="square"):
        classify_regime(np.ones((2, 3)))
    with pytest.raises(ValueError, match="activation"):
        derivative_bound("softplus")
    with pytest.raises(TypeError, match="numpy array"):
        largest_singular_value([[1.0]])
    with pytest.raises(ValueError, match=r"shape \(T, 2\)"):
        run_recurrence(np.eye(2), np.ones((3, 4)))
    with pytest.raises(ValueError, match="steps"):
        run_recurrence(np.eye(2))
