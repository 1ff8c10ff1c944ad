"""The linear recurrence (loop, scans), the LRU and minGRU: float64, against the loop,
odd lengths, T = 1, complex values, autograd against finite differences."""
import math

import pytest
import torch

from rnncourse.linear_recurrence import linear_recurrence_doubling, linear_recurrence_loop, linear_recurrence_scan
from rnncourse.lru import LRU, lru_init
from rnncourse.mingru import MinGRU

SCANS = [linear_recurrence_scan, linear_recurrence_doubling]


def inputs(batch, T, H, seed, complex_=False):
    g = torch.Generator().manual_seed(seed)
    a = torch.rand(batch, T, H, generator=g, dtype=torch.float64) * 1.2 - 0.1
    b = torch.randn(batch, T, H, generator=g, dtype=torch.float64)
    h0 = torch.randn(batch, H, generator=g, dtype=torch.float64)
    if complex_:
        a = torch.polar(a.abs(), torch.rand(a.shape, generator=g, dtype=torch.float64) * 6)
        b = torch.complex(b, torch.randn(b.shape, generator=g, dtype=torch.float64))
        h0 = torch.complex(h0, torch.zeros_like(h0))
    return a, b, h0


def test_loop_follows_the_definition():
    a, b, h0 = inputs(2, 4, 3, seed=0)
    h = linear_recurrence_loop(a, b, h0)
    assert torch.equal(h[:, 0], a[:, 0] * h0 + b[:, 0])
    for t in range(1, 4):
        assert torch.allclose(h[:, t], a[:, t] * h[:, t - 1] + b[:, t], rtol=0, atol=1e-15)
    assert torch.equal(linear_recurrence_loop(a, b)[:, 0], b[:, 0])  # h0 defaults to zeros


@pytest.mark.parametrize("scan", SCANS)
@pytest.mark.parametrize("T", [1, 2, 3, 7, 16, 33, 100])
def test_scans_equal_the_loop(scan, T):
    for complex_ in (False, True):
        a, b, h0 = inputs(3, T, 5, seed=T, complex_=complex_)
        torch.testing.assert_close(scan(a, b, h0), linear_recurrence_loop(a, b, h0), rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(scan(a, b), linear_recurrence_loop(a, b), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("scan", SCANS)
def test_broadcast_eigenvalues(scan):
    _, b, _ = inputs(2, 9, 4, seed=1)
    lam = torch.tensor([0.5, -0.9, 1.0, 0.0], dtype=torch.float64)
    torch.testing.assert_close(scan(lam, b), linear_recurrence_loop(lam.expand_as(b), b))


@pytest.mark.parametrize("scan", SCANS)
def test_scan_gradients_match_the_loop_and_finite_differences(scan):
    a, b, h0 = inputs(2, 11, 3, seed=2)
    a, b, h0 = (t.requires_grad_() for t in (a, b, h0))
    weights = torch.randn(2, 11, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    grads_scan = torch.autograd.grad((scan(a, b, h0) * weights).sum(), (a, b, h0))
    grads_loop = torch.autograd.grad((linear_recurrence_loop(a, b, h0) * weights).sum(), (a, b, h0))
    for gs, gl in zip(grads_scan, grads_loop):
        torch.testing.assert_close(gs, gl, rtol=1e-10, atol=1e-12)
    assert torch.autograd.gradcheck(lambda a_, b_: scan(a_, b_), (a[:1, :5].detach().requires_grad_(),
                                                                  b[:1, :5].detach().requires_grad_()))


@pytest.mark.parametrize("fn", [linear_recurrence_loop] + SCANS)
def test_bad_input_is_named(fn):
    a, b, h0 = inputs(2, 5, 3, seed=4)
    with pytest.raises(ValueError, match="b must have shape"):
        fn(a, b[0])
    with pytest.raises(ValueError, match="a must have shape"):
        fn(a[:, :, :2], b)
    with pytest.raises(ValueError, match="h0 must have shape"):
        fn(a, b, h0[:1])
    with pytest.raises(TypeError, match="a must be a torch.Tensor"):
        fn(a.numpy(), b)


def test_lru_init_ring_phases_and_normalisation():
    g = torch.Generator().manual_seed(0)
    nu_log, theta_log, gamma_log = lru_init(20_000, 0.4, 0.99, math.pi / 10, generator=g)
    r, theta = torch.exp(-torch.exp(nu_log)), torch.exp(theta_log)
    assert r.min() >= 0.4 and r.max() <= 0.99
    assert theta.min() >= 0 and theta.max() <= math.pi / 10
    torch.testing.assert_close(torch.exp(gamma_log), torch.sqrt(1 - r ** 2))
    u = (r ** 2 - 0.4 ** 2) / (0.99 ** 2 - 0.4 ** 2)  # uniform on the ring's area: r^2 uniform
    assert abs(u.mean().item() - 0.5) < 0.01 and abs(u.var().item() - 1 / 12) < 0.005
    assert abs(theta.mean().item() - math.pi / 20) < 0.01 * math.pi
    with pytest.raises(ValueError, match="r_min < r_max < 1"):
        lru_init(4, 0.9, 1.0)
    with pytest.raises(ValueError, match="max_phase"):
        lru_init(4, max_phase=0.0)
    with pytest.raises(ValueError, match="positive int"):
        lru_init(0)


def test_lru_layer_equals_its_definition():
    torch.manual_seed(0)
    layer = LRU(3, 6, 2, r_min=0.5, r_max=0.95).double()
    x = torch.randn(2, 7, 3, dtype=torch.float64)
    lam, gamma = layer.eigenvalues(), torch.exp(layer.gamma_log)
    B, C = torch.complex(layer.B_re, layer.B_im), torch.complex(layer.C_re, layer.C_im)
    h = torch.zeros(2, 6, dtype=torch.complex128)
    for t in range(7):
        h = lam * h + gamma * (x[:, t].to(h.dtype) @ B.T)
        torch.testing.assert_close(layer(x)[:, t], (h @ C.T).real + x[:, t] @ layer.D.T)
    assert (lam.abs() < 1).all()
    layer(x).sum().backward()  # gradients reach the eigenvalue parameters through the complex scan
    assert layer.nu_log.grad.abs().sum() > 0 and layer.theta_log.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="x must have shape"):
        layer(x[:, :, :2])


def test_mingru_scan_equals_loop_and_definition():
    torch.manual_seed(1)
    cell = MinGRU(3, 4).double()
    x = torch.randn(2, 9, 3, dtype=torch.float64)
    h0 = torch.randn(2, 4, dtype=torch.float64)
    h = h0
    for t in range(9):
        z = torch.sigmoid(cell.linear_z(x[:, t]))
        h = (1 - z) * h + z * cell.linear_h(x[:, t])
    torch.testing.assert_close(cell(x, h0)[:, -1], h)
    torch.testing.assert_close(cell(x, h0), cell.forward_loop(x, h0))
    g_scan = torch.autograd.grad(cell(x).square().sum(), list(cell.parameters()))
    g_loop = torch.autograd.grad(cell.forward_loop(x).square().sum(), list(cell.parameters()))
    for gs, gl in zip(g_scan, g_loop):
        torch.testing.assert_close(gs, gl)
    with pytest.raises(ValueError, match=r"x must be a tensor of shape \(batch, time, 3\)"):
        cell(x[0])
