"""rnncourse.bptt: forward against torch.nn.RNN, gradients against torch.autograd and finite differences."""
import numpy as np
import pytest
import torch

from rnncourse import bptt
from rnncourse.gradcheck import check_gradients


def make_problem(batch=3, steps=4, inputs=5, hidden=6, outputs=7, seed=0, ids=False):
    rng = np.random.default_rng(seed)
    params = bptt.init_params(inputs, hidden, outputs, rng, scale=0.5)
    params["b"] = rng.standard_normal(hidden) * 0.3
    params["c"] = rng.standard_normal(outputs) * 0.3
    x = rng.integers(0, inputs, (batch, steps)) if ids else rng.standard_normal((batch, steps, inputs))
    y = rng.integers(0, outputs, (batch, steps))
    h0 = rng.standard_normal((batch, hidden)) * 0.5
    return params, x, y, h0


def torch_grads(params, x, y, h0):
    t = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    th0 = torch.tensor(h0, requires_grad=True)
    if np.issubdtype(x.dtype, np.integer):
        tx = torch.nn.functional.one_hot(torch.tensor(x), params["U"].shape[1]).double()
    else:
        tx = torch.tensor(x)
    h, outs = th0, []
    for s in range(tx.shape[1]):
        h = torch.tanh(t["b"] + h @ t["W"].T + tx[:, s] @ t["U"].T)
        outs.append(t["c"] + h @ t["V"].T)
    o = torch.stack(outs, 1)
    loss = torch.nn.functional.cross_entropy(o.reshape(-1, o.shape[-1]), torch.tensor(y).reshape(-1),
                                             reduction="sum")
    loss.backward()
    grads = {k: v.grad.numpy() for k, v in t.items()}
    grads["h0"] = th0.grad.numpy()
    return loss.item(), o.detach().numpy(), grads


@pytest.mark.parametrize("ids", [False, True])
@pytest.mark.parametrize("shape", [(3, 4, 5, 6, 7), (1, 1, 2, 3, 2), (5, 9, 4, 8, 4)])
def test_gradients_match_torch_autograd(shape, ids):
    params, x, y, h0 = make_problem(*shape, seed=sum(shape), ids=ids)
    loss, grads, h_last = bptt.loss_and_grads(params, x, y, h0)
    tloss, to, tgrads = torch_grads(params, x, y, h0)
    assert loss == pytest.approx(tloss, rel=1e-12)
    assert set(grads) == {"U", "W", "V", "b", "c", "h0"}
    for k in grads:
        assert grads[k].shape == tgrads[k].shape, k
        np.testing.assert_allclose(grads[k], tgrads[k], rtol=1e-10, atol=1e-12, err_msg=k)
    o, cache = bptt.rnn_forward(params, x, h0)
    np.testing.assert_allclose(o, to, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(h_last, cache["h"][:, -1])


def test_gradients_match_finite_differences():
    params, x, y, h0 = make_problem(2, 5, 3, 4, 3, seed=7)
    _, grads, _ = bptt.loss_and_grads(params, x, y, h0)
    arrays = dict(params, h0=h0)
    f = lambda: bptt.loss_and_grads(params, x, y, h0)[0]
    errors = check_gradients(f, arrays, grads)
    assert max(errors.values()) < 1e-7, errors


def test_forward_equals_torch_rnn_with_loaded_weights():
    params, x, _, h0 = make_problem(2, 6, 3, 5, 4, seed=3)
    rnn = torch.nn.RNN(3, 5, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.tensor(params["U"]))
        rnn.weight_hh_l0.copy_(torch.tensor(params["W"]))
        rnn.bias_ih_l0.copy_(torch.tensor(params["b"]))
        rnn.bias_hh_l0.zero_()
    out, _ = rnn(torch.tensor(x), torch.tensor(h0)[None])
    _, cache = bptt.rnn_forward(params, x, h0)
    np.testing.assert_allclose(cache["h"], out.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_ids_equal_one_hot_inputs():
    params, ids, y, h0 = make_problem(3, 5, 6, 4, 6, seed=11, ids=True)
    dense = np.eye(6)[ids]
    lo, go, _ = bptt.loss_and_grads(params, ids, y, h0)
    ld, gd, _ = bptt.loss_and_grads(params, dense, y, h0)
    assert lo == pytest.approx(ld, rel=1e-13)
    for k in go:
        np.testing.assert_allclose(go[k], gd[k], rtol=1e-11, atol=1e-13, err_msg=k)


def test_sum_rows_by_id_matches_add_at():
    rng = np.random.default_rng(0)
    rows, ids = rng.standard_normal((50, 3)), rng.integers(0, 9, 50)
    expected = np.zeros((10, 3))
    np.add.at(expected, ids, rows)
    np.testing.assert_allclose(bptt._sum_rows_by_id(rows, ids, 10), expected, rtol=1e-13, atol=1e-13)


def test_softmax_cross_entropy_is_stable_and_matches_torch():
    o = np.array([[[1000.0, 0.0, -1000.0], [3.0, 1.0, 2.0]]])
    y = np.array([[1, 2]])
    loss, do = bptt.softmax_cross_entropy(o, y)
    tor = torch.tensor(o, requires_grad=True)
    tl = torch.nn.functional.cross_entropy(tor.reshape(-1, 3), torch.tensor(y).reshape(-1), reduction="sum")
    tl.backward()
    assert np.isfinite(loss) and loss == pytest.approx(tl.item(), rel=1e-12)
    np.testing.assert_allclose(do, tor.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(bptt.log_softmax(o), torch.log_softmax(torch.tensor(o), -1).numpy(), atol=1e-12)


def test_zero_h0_default_and_zero_upstream_gives_zero_gradients():
    params, x, _, _ = make_problem(2, 3, 3, 4, 5, seed=5)
    o, cache = bptt.rnn_forward(params, x)
    np.testing.assert_array_equal(cache["h_all"][0], 0.0)
    grads = bptt.rnn_backward(np.zeros_like(o), cache)
    assert all(np.all(g == 0) for g in grads.values())


def test_bad_inputs_raise_clear_errors():
    params, x, y, h0 = make_problem()
    with pytest.raises(ValueError, match="x must have shape"):
        bptt.rnn_forward(params, x[..., :2], h0)
    with pytest.raises(ValueError, match="h0 must be"):
        bptt.rnn_forward(params, x, h0[:, :2])
    with pytest.raises(ValueError, match="token ids"):
        bptt.rnn_forward(params, np.full((3, 4), 99), h0)
    with pytest.raises(ValueError, match="missing"):
        bptt.rnn_forward({"U": params["U"]}, x, h0)
    with pytest.raises(ValueError, match="inconsistent shapes"):
        bptt.rnn_forward(dict(params, W=params["W"][:2]), x, h0)
    with pytest.raises(TypeError, match="integer"):
        bptt.softmax_cross_entropy(np.zeros((2, 3)), np.zeros(2))
    with pytest.raises(ValueError, match="do must have shape"):
        _, cache = bptt.rnn_forward(params, x, h0)
        bptt.rnn_backward(np.zeros((1, 1, 1)), cache)
