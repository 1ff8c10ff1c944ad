"""rnncourse.gradcheck: centred differences and the relative error."""
import numpy as np
import pytest
import torch

from rnncourse.gradcheck import check_gradients, numerical_gradient, relative_error


def test_numerical_gradient_of_a_known_function():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4))
    x = rng.standard_normal((4, 1))
    saved = x.copy()
    f = lambda: float((x.T @ A @ x).item() + np.sin(x).sum())
    g = numerical_gradient(f, x)
    np.testing.assert_array_equal(x, saved)             # restored
    np.testing.assert_allclose(g, (A + A.T) @ x + np.cos(x), rtol=1e-8, atol=1e-9)


def test_centred_differences_are_second_order():
    x = np.array([0.7])
    f = lambda: float(np.exp(x[0]))
    errs = [abs(numerical_gradient(f, x, eps)[0] - np.exp(0.7)) for eps in (1e-2, 1e-3)]
    assert 50 < errs[0] / errs[1] < 200                 # error shrinks like eps^2


def test_relative_error_values():
    a = np.array([1.0, -2.0, 3.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(a, -a) == pytest.approx(1.0)
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(a, a * (1 + 1e-6)) == pytest.approx(0.5e-6, rel=1e-3)
    with pytest.raises(ValueError, match="same shape"):
        relative_error(a, a[:2])


def test_check_gradients_accepts_right_and_flags_wrong_gradients():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((3, 2))
    v = rng.standard_normal(2)
    tw, tv = torch.tensor(w, requires_grad=True), torch.tensor(v, requires_grad=True)
    loss = torch.tanh(tw @ tv).pow(2).sum()
    loss.backward()
    f = lambda: float(np.sum(np.tanh(w @ v) ** 2))
    good = check_gradients(f, {"w": w, "v": v}, {"w": tw.grad.numpy(), "v": tv.grad.numpy()})
    assert max(good.values()) < 1e-8
    bad = check_gradients(f, {"w": w, "v": v}, {"w": tw.grad.numpy().T.copy().T * 1.01, "v": -tv.grad.numpy()})
    assert bad["w"] > 1e-3 and bad["v"] == pytest.approx(1.0, abs=1e-6)


def test_bad_inputs():
    with pytest.raises(TypeError, match="float numpy array"):
        numerical_gradient(lambda: 0.0, np.arange(3))
    with pytest.raises(ValueError, match="eps"):
        numerical_gradient(lambda: 0.0, np.zeros(3), eps=0.0)
    with pytest.raises(ValueError, match="no analytic gradient"):
        check_gradients(lambda: 0.0, {"a": np.zeros(2)}, {})
    with pytest.raises(ValueError, match="shape"):
        check_gradients(lambda: 0.0, {"a": np.zeros(2)}, {"a": np.zeros(3)})
