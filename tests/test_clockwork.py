"""Clockwork RNN: periods, block structure, update schedule, gradients."""
import pytest
import torch

from rnncourse.clockwork import (ClockworkRNN, ClockworkRegressor, active_modules, block_mask,
                                 count_parameters, module_periods, slow_target, train_generator)


def test_periods_are_powers_of_two():
    assert module_periods(4) == [1, 2, 4, 8]
    with pytest.raises(ValueError, match="num_modules"):
        module_periods(0)


def test_block_mask_is_block_upper_triangular():
    mask = block_mask(3, 2)
    expected = torch.tensor([[1, 1, 1, 1, 1, 1],
                             [1, 1, 1, 1, 1, 1],
                             [0, 0, 1, 1, 1, 1],
                             [0, 0, 1, 1, 1, 1],
                             [0, 0, 0, 0, 1, 1],
                             [0, 0, 0, 0, 1, 1]], dtype=torch.bool)
    assert torch.equal(mask, expected)
    with pytest.raises(ValueError, match="module_size"):
        block_mask(2, 0)


@pytest.mark.parametrize("t,expected", [(0, 4), (1, 1), (2, 2), (3, 1), (4, 3), (6, 2), (8, 4), (16, 4), (24, 4)])
def test_active_modules_follow_the_periods(t, expected):
    assert active_modules(t, 4) == expected
    assert expected == sum(t % p == 0 for p in module_periods(4))


def reference_forward(cell, x):
    """Straight from the definition: every module computed, then kept or replaced."""
    h = torch.zeros(x.shape[0], cell.hidden_size, dtype=x.dtype)
    w = cell.weight_hh * cell.mask
    outs = []
    for t in range(x.shape[1]):
        candidate = torch.tanh(x[:, t] @ cell.weight_ih.T + h @ w.T + cell.bias)
        active = torch.tensor([t % p == 0 for p in cell.periods]).repeat_interleave(cell.module_size)
        h = torch.where(active, candidate, h)
        outs.append(h)
    return torch.stack(outs, 1)


def test_forward_equals_the_definition_and_slow_modules_hold_their_value():
    torch.manual_seed(0)
    cell = ClockworkRNN(3, 2, 3).double()
    x = torch.randn(4, 13, 3, dtype=torch.float64)
    out, h = cell(x)
    assert out.shape == (4, 13, 6) and torch.equal(h, out[:, -1])
    torch.testing.assert_close(out, reference_forward(cell, x), rtol=0, atol=1e-12)
    slowest = out[:, :, 4:]  # period 4: changes only at t = 0, 4, 8, 12
    for t in range(1, 13):
        if t % 4:
            assert torch.equal(slowest[:, t], slowest[:, t - 1])
        else:
            assert not torch.equal(slowest[:, t], slowest[:, t - 1])


def test_fast_modules_do_not_influence_slow_ones():
    torch.manual_seed(1)
    cell = ClockworkRNN(1, 3, 3).double()
    x = torch.randn(2, 9, 1, dtype=torch.float64)
    h0 = torch.randn(2, 9, dtype=torch.float64)
    h0_changed = h0.clone()
    h0_changed[:, :3] += 5.0  # perturb only the fastest module
    a, _ = cell(x, h0)
    b, _ = cell(x, h0_changed)
    assert torch.equal(a[:, :, 3:], b[:, :, 3:])
    assert not torch.equal(a[:, :, :3], b[:, :, :3])


def test_gradients_match_finite_differences_and_masked_weights_get_none():
    torch.manual_seed(2)
    cell = ClockworkRNN(2, 2, 2).double()
    x = torch.randn(3, 6, 2, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda w: cell.forward.__func__(
        _with_weight(cell, w), x)[0].sum(), (cell.weight_hh.detach().clone().requires_grad_(),))
    cell(x)[0].sum().backward()
    assert torch.all(cell.weight_hh.grad[~cell.mask] == 0)


def _with_weight(cell, w):
    clone = ClockworkRNN(cell.input_size, cell.module_size, cell.num_modules).double()
    clone.load_state_dict(cell.state_dict())
    del clone.weight_hh
    clone.weight_hh = w
    return clone


def test_bad_inputs_are_rejected():
    cell = ClockworkRNN(2, 2, 2)
    with pytest.raises(ValueError, match="x must have shape"):
        cell(torch.randn(3, 4))
    with pytest.raises(ValueError, match="h0 must have shape"):
        cell(torch.randn(3, 4, 2), torch.zeros(3, 5))


def test_parameter_count_leaves_out_masked_weights():
    model = ClockworkRegressor(1, 4, 3)
    H = 12
    assert count_parameters(model) == H * 1 + int(block_mask(3, 4).sum()) + H + H + 1
    assert count_parameters(model, clockwork_mask=False) == sum(p.numel() for p in model.parameters())


def test_clockwork_learns_a_slow_waveform_from_a_single_pulse():
    torch.manual_seed(0)
    target = slow_target(64, periods=(32, 12))
    losses = train_generator(ClockworkRegressor(1, 4, 5), target, steps=150, lr=1e-2)
    assert losses[-1] < 0.2 * losses[0]
