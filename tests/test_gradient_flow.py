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


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_per_step_gradient_terms_sum_to_the_gradient_and_equal_the_outer_product_formula(activation):
    from rnncourse.gradient_flow import gradient_contributions

    rng = np.random.default_rng(5)
    n, steps = 5, 9
    W, inputs, h0, v = (rng.standard_normal((n, n)) / np.sqrt(n), rng.standard_normal((steps, n)),
                        rng.standard_normal(n), rng.standard_normal(n))
    terms, total = gradient_contributions(W, inputs, h0, activation, readout=v)
    assert terms.shape == (steps, n, n) and total.shape == (n, n)
    np.testing.assert_allclose(terms.sum(0), total, rtol=0, atol=1e-12)
    # finite differences of the loss agree with the total
    f = {"tanh": np.tanh, "relu": lambda a: np.maximum(a, 0)}[activation]
    def loss(M):
        h = h0
        for u in inputs:
            h = f(M @ h + u)
        return v @ h
    E = np.zeros((n, n)); E[1, 2] = 1e-6
    assert (loss(W + E) - loss(W - E)) / 2e-6 == pytest.approx(total[1, 2], abs=1e-7)
    # term at distance d: diag(f'(a_k)) (dh_T/dh_k)^T v h_{k-1}^T with k = T - d
    states = run_recurrence(W, inputs, h0, activation)
    J = state_jacobians(states)
    h = np.stack([s.detach().numpy() for s in states])
    slope = (1 - h ** 2) if activation == "tanh" else (h > 0).astype(float)
    for d in [0, 3, steps - 1]:
        k = steps - d
        expected = np.outer(slope[k] * (J[k].T @ v), h[k - 1])
        np.testing.assert_allclose(terms[d], expected, rtol=0, atol=1e-12)


def test_per_step_gradient_terms_reject_bad_shapes():
    from rnncourse.gradient_flow import gradient_contributions

    with pytest.raises(ValueError, match="readout must have shape"):
        gradient_contributions(np.eye(3), steps=4, readout=np.ones(2))
    with pytest.raises(ValueError, match="inputs must have shape"):
        gradient_contributions(np.eye(3), inputs=np.ones((4, 2)))


def test_scalar_loss_landscape_matches_a_loop_and_finite_differences():
    from rnncourse.gradient_flow import scalar_loss_landscape

    w = np.array([0.5, 1.9, 2.1, 3.0])
    loss, grad = scalar_loss_landscape(w, steps=20, h0=0.6, bias=-0.5, target=0.5)
    def f(v):
        h = 0.6
        for _ in range(20):
            h = np.tanh(v * h - 0.5)
        return (h - 0.5) ** 2
    np.testing.assert_allclose(loss, [f(v) for v in w], rtol=1e-12)
    np.testing.assert_allclose(grad, [(f(v + 1e-6) - f(v - 1e-6)) / 2e-6 for v in w], rtol=1e-5, atol=1e-9)
    # the cliff: h_T ends near -1 left of it and near +1 right of it
    assert loss[1] > 1.5 and loss[2] < 0.5
    with pytest.raises(ValueError, match="steps"):
        scalar_loss_landscape(w, steps=0, h0=0.6, bias=-0.5, target=0.5)
