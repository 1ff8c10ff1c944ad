"""NumPy clipping equals torch.nn.utils.clip_grad_norm_ / clip_grad_value_ on the same gradients."""
import math

import numpy as np
import pytest
import torch

from rnncourse.clipping import clip_by_global_norm, clip_by_value, global_norm


def torch_params(grads):
    params = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
    for p, g in zip(params, grads):
        p.grad = torch.from_numpy(g.copy())
    return params


def random_grads(seed, scale):
    rng = np.random.default_rng(seed)
    return [scale * rng.standard_normal(s) for s in [(4, 3), (4,), (2, 5, 2)]]


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("seed,scale,max_norm", [(0, 1.0, 1.0), (1, 10.0, 5.0), (2, 0.01, 1.0), (3, 3.0, 0.0)])
def test_clip_by_global_norm_equals_torch(norm_type, seed, scale, max_norm):
    grads = random_grads(seed, scale)
    params = torch_params(grads)
    total_t = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
    clipped, total = clip_by_global_norm(grads, max_norm, norm_type)
    assert total == pytest.approx(float(total_t), rel=1e-13)
    for c, p in zip(clipped, params):
        np.testing.assert_allclose(c, p.grad.numpy(), rtol=1e-13, atol=0)


def test_clipping_keeps_direction_and_caps_length():
    grads = random_grads(4, 100.0)
    clipped, total = clip_by_global_norm(grads, 2.0)
    assert total > 2.0
    assert global_norm(clipped) == pytest.approx(2.0, rel=1e-6)
    flat = np.concatenate([g.ravel() for g in grads])
    flat_c = np.concatenate([g.ravel() for g in clipped])
    np.testing.assert_allclose(flat_c / np.linalg.norm(flat_c), flat / np.linalg.norm(flat), rtol=1e-12)


def test_small_gradients_are_left_alone_and_inputs_not_modified():
    grads = random_grads(5, 0.01)
    before = [g.copy() for g in grads]
    clipped, total = clip_by_global_norm(grads, 10.0)
    for c, g, b in zip(clipped, grads, before):
        np.testing.assert_array_equal(c, b)
        np.testing.assert_array_equal(g, b)


def test_global_norm_is_the_norm_of_the_concatenation():
    grads = random_grads(6, 1.0)
    flat = np.concatenate([g.ravel() for g in grads])
    assert global_norm(grads) == pytest.approx(np.linalg.norm(flat), rel=1e-13)
    assert global_norm(grads, math.inf) == pytest.approx(np.abs(flat).max(), rel=0)


@pytest.mark.parametrize("clip_value", [0.0, 0.3, 1.0, 50.0])
def test_clip_by_value_equals_torch(clip_value):
    grads = random_grads(7, 2.0)
    params = torch_params(grads)
    torch.nn.utils.clip_grad_value_(params, clip_value)
    for c, p in zip(clip_by_value(grads, clip_value), params):
        np.testing.assert_array_equal(c, p.grad.numpy())


def test_clip_by_value_can_turn_the_direction():
    g = np.array([10.0, 1.0])
    (c,) = clip_by_value([g], 1.0)
    np.testing.assert_array_equal(c, [1.0, 1.0])
    cos = c @ g / np.linalg.norm(c) / np.linalg.norm(g)
    assert cos < 0.8  # the direction turned by about 40 degrees; global-norm clipping keeps cos = 1


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(TypeError, match="list of numpy arrays"):
        clip_by_global_norm({"w": np.ones(2)}, 1.0)
    with pytest.raises(TypeError, match=r"grads\[1\]"):
        clip_by_value([np.ones(2), [1.0]], 1.0)
    with pytest.raises(ValueError, match="max_norm"):
        clip_by_global_norm([np.ones(2)], -1.0)
    with pytest.raises(ValueError, match="clip_value"):
        clip_by_value([np.ones(2)], -0.5)
    with pytest.raises(ValueError, match="norm_type"):
        global_norm([np.ones(2)], 0)
