"""The one-unit latch: fixed points, dh_T/dh_1 equal to torch.autograd (float64), the latching dilemma."""
import numpy as np
import pytest
import torch

from rnncourse.latch import attractor_slope, latch_fixed_point, latch_run, latch_sweep


@pytest.mark.parametrize("w", [1.2, 2.0, 3.0])
def test_fixed_point_is_a_stable_fixed_point(w):
    h = latch_fixed_point(w)
    assert h > 0 and np.tanh(w * h) == pytest.approx(h, abs=1e-12)
    assert 0 < attractor_slope(w) < 1  # a contraction around the attractor
    assert attractor_slope(w) == pytest.approx(w * (1 - np.tanh(w * h) ** 2), rel=1e-9)


def test_no_attractor_away_from_zero_below_one():
    assert latch_fixed_point(0.9) == 0.0 and latch_fixed_point(1.0) == 0.0
    assert attractor_slope(0.9) == pytest.approx(0.9)


@pytest.mark.parametrize("w,noise", [(0.8, 0.3), (1.5, 0.2), (3.0, 0.0)])
def test_gradient_equals_autograd(w, noise):
    steps, n = 12, 5
    bits = np.array([1.0, -1.0, 1.0, 1.0, -1.0])
    states, grad = latch_run(w, bits, steps, noise, np.random.default_rng(7))
    rng = np.random.default_rng(7)  # the same noise, drawn in the same order
    h1 = torch.tanh(2.0 * torch.from_numpy(bits)).requires_grad_(True)
    h = h1
    for _ in range(steps - 1):
        h = torch.tanh(w * h + noise * torch.from_numpy(rng.standard_normal(n)))
    (dh1,) = torch.autograd.grad(h.sum(), h1)  # sequences are independent: d(sum h_T)/dh_1 is per sequence
    np.testing.assert_allclose(states[-1], h.detach().numpy(), rtol=0, atol=1e-14)
    np.testing.assert_allclose(grad, dh1.numpy(), rtol=1e-10, atol=1e-300)


def test_without_noise_a_strong_latch_keeps_every_bit_and_the_gradient_follows_the_slope():
    w, steps = 3.0, 40
    bits = np.array([1.0, -1.0] * 10)
    states, grad = latch_run(w, bits, steps, 0.0, np.random.default_rng(0))
    assert np.all(np.sign(states[-1]) == bits)
    # after a few steps the state sits at +-h*, and each step multiplies the gradient by the slope
    ratio = grad / attractor_slope(w) ** (steps - 1)
    assert np.all((ratio > 0.1) & (ratio < 10))


def test_the_dilemma_no_weight_both_keeps_the_bit_and_passes_the_gradient():
    sweep = latch_sweep(np.linspace(0.6, 4.0, 18), steps=50, noise=0.1, n=400, seed=1)
    robust = sweep["kept"] > 0.95
    assert robust.any() and (~robust).any()
    assert np.all(sweep["grad"][robust] < 1e-6)  # where the bit survives, the gradient has vanished
    assert sweep["grad"][~robust].max() > 1e4 * sweep["grad"][robust].max()


def test_bad_input_is_named():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="w must be a positive"):
        latch_fixed_point(-1.0)
    with pytest.raises(ValueError, match=r"bits must be .* \+1 and -1"):
        latch_run(2.0, np.array([0.5, 1.0]), 5, 0.1, rng)
    with pytest.raises(ValueError, match="steps must be an integer"):
        latch_run(2.0, np.array([1.0]), 0, 0.1, rng)
    with pytest.raises(ValueError, match="noise must be"):
        latch_run(2.0, np.array([1.0]), 5, -0.1, rng)
