"""State-norm growth, dead units and divergence runs of tanh and ReLU RNNs."""
import math

import pytest
import torch

from rnncourse.relu_tanh import (dead_unit_fraction, divergence_run, free_run, growth_factor, hidden_states,
                                 inactive_fraction, random_rnn, state_norms)


def test_hidden_states_and_norms_match_a_manual_loop():
    g = torch.Generator().manual_seed(0)
    rnn = random_rnn(3, 5, "relu", 1.2, g, dtype=torch.float64)
    x = torch.randn(2, 7, 3, generator=g, dtype=torch.float64)
    states = hidden_states(rnn, x)
    h = torch.zeros(2, 5, dtype=torch.float64)
    for t in range(7):
        h = torch.relu(x[:, t] @ rnn.weight_ih_l0.T + h @ rnn.weight_hh_l0.T)
        torch.testing.assert_close(states[:, t], h, rtol=0, atol=1e-12)
    norms = state_norms(states)
    assert norms.shape == (2, 7)
    torch.testing.assert_close(norms[:, -1], h.norm(dim=1), rtol=0, atol=1e-12)


def test_random_rnn_has_the_requested_spectral_radius():
    rnn = random_rnn(2, 400, "tanh", 1.5, torch.Generator().manual_seed(1), dtype=torch.float64)
    radius = torch.linalg.eigvals(rnn.weight_hh_l0.detach()).abs().max()
    assert float(radius) == pytest.approx(1.5, rel=0.08)
    assert torch.all(rnn.bias_hh_l0 == 0) and torch.all(rnn.bias_ih_l0 == 0)


def test_growth_factor_of_a_geometric_curve():
    norms = 3.0 * 1.1 ** torch.arange(20, dtype=torch.float64)
    assert growth_factor(norms) == pytest.approx(1.1, rel=1e-12)
    assert growth_factor(torch.tensor([1.0, 2.0, 2.0, 4.0]), start=1) == pytest.approx(2 ** 0.5)
    assert growth_factor(torch.tensor([1.0, float("inf")])) == math.inf
    assert growth_factor(torch.tensor([1.0, 0.5, 0.0])) == 0.0
    with pytest.raises(ValueError, match="1-D"):
        growth_factor(torch.ones(2, 3))
    with pytest.raises(ValueError, match="positive"):
        growth_factor(torch.tensor([0.0, 1.0]))


@pytest.mark.parametrize("scale", [1.0, 2.0, 3.0])
def test_relu_state_grows_by_scale_over_sqrt2_per_step_and_tanh_stays_bounded(scale):
    """No input after a random start: E||relu(W h)||^2 = (scale^2 / 2) ||h||^2."""
    g = torch.Generator().manual_seed(2)
    H, T = 1000, 20
    h0 = torch.randn(64, H, generator=g, dtype=torch.float64)
    relu = random_rnn(1, H, "relu", scale, g, dtype=torch.float64)
    norms = state_norms(hidden_states(relu, torch.zeros(64, T, 1, dtype=torch.float64), h0)).mean(0)
    assert growth_factor(norms, start=2) == pytest.approx(scale / math.sqrt(2), rel=0.03)
    tanh = random_rnn(1, H, "tanh", scale, g, dtype=torch.float64)
    states = hidden_states(tanh, torch.zeros(64, T, 1, dtype=torch.float64), 10 * h0)
    assert float(state_norms(states).max()) <= math.sqrt(H)


def test_dead_unit_fraction_counts_units_zero_everywhere():
    states = torch.rand(3, 4, 5) + 0.1
    states[:, :, 1] = 0.0
    states[:, :, 3] = 0.0
    states[0, 2, 3] = 0.5  # unit 3 fires once: alive
    states[:, :, 4] = 0.0
    assert dead_unit_fraction(states) == pytest.approx(2 / 5)
    assert dead_unit_fraction(torch.full((1, 1, 4), 1e-9), tol=1e-6) == 1.0
    torch.testing.assert_close(inactive_fraction(states)[2], torch.tensor(2 / 5 + (1 / 5) * (2 / 3),
                               dtype=torch.float64))
    with pytest.raises(ValueError, match="batch, time, hidden"):
        dead_unit_fraction(torch.zeros(3, 4))


def test_identity_relu_net_on_non_negative_inputs_has_dead_units_from_the_start():
    """A unit whose input weights are all negative never fires: h stays 0, gradient stays 0."""
    g = torch.Generator().manual_seed(3)
    rnn = random_rnn(2, 2000, "relu", 1.0, g)
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(torch.eye(2000))
    never_positive = (rnn.weight_ih_l0 <= 0).all(dim=1).double().mean()
    x = torch.rand(16, 30, 2, generator=g)
    dead = dead_unit_fraction(hidden_states(rnn, x))
    assert float(never_positive) <= dead <= float(never_positive) + 0.01  # plus a few that never got positive here
    assert float(never_positive) == pytest.approx(0.25, abs=0.03)


def test_divergence_runs_separate_blow_up_from_stable_training():
    exploding = divergence_run("relu", "gaussian", 2.0, lr=0.01, steps=20, length=50, hidden_size=32)
    assert exploding["diverged_at"] == 1 and exploding["final_loss"] is None
    stable = divergence_run("tanh", "gaussian", 1.0, lr=0.01, steps=30, length=20, hidden_size=16)
    assert stable["diverged_at"] is None and len(stable["losses"]) == 30
    assert math.isfinite(stable["final_loss"]) and stable["max_state_norm"] <= 4.0  # sqrt(16)
    with pytest.raises(ValueError, match="init"):
        divergence_run("relu", "orthogonal", 1.0, lr=0.01)


def test_divergence_run_can_draw_small_input_weights_as_the_irnn_paper():
    default = divergence_run("relu", "identity", 1.0, lr=1e-9, steps=1, length=50, hidden_size=32)
    small = divergence_run("relu", "identity", 1.0, lr=1e-9, steps=1, length=50, hidden_size=32, input_std=1e-3)
    # the identity adds up 50 inputs; with input weights 700 times smaller the states shrink with them
    assert small["max_state_norm"] < default["max_state_norm"] / 100
    with pytest.raises(ValueError, match="input_std"):
        divergence_run("relu", "identity", 1.0, lr=1e-3, steps=1, input_std=-1.0)


def test_free_run_matches_the_rnn_with_no_input_and_takes_any_activation():
    g = torch.Generator().manual_seed(3)
    rnn = random_rnn(1, 6, "relu", 1.3, g, dtype=torch.float64)
    h0 = torch.randn(4, 6, generator=g, dtype=torch.float64)
    w = rnn.weight_hh_l0.detach()
    torch.testing.assert_close(free_run(w, h0, 5, torch.relu),
                               hidden_states(rnn, torch.zeros(4, 5, 1, dtype=torch.float64), h0), rtol=0, atol=1e-12)
    leaky = free_run(w, h0, 3, lambda a: torch.nn.functional.leaky_relu(a, 0.1))
    h = h0
    for t in range(3):
        a = h @ w.T
        h = torch.where(a > 0, a, 0.1 * a)
        torch.testing.assert_close(leaky[:, t], h, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="square"):
        free_run(torch.zeros(6, 5), h0, 3, torch.relu)
    with pytest.raises(ValueError, match=r"h0 must have shape \(batch, 6\)"):
        free_run(w, torch.zeros(4, 5), 3, torch.relu)
    with pytest.raises(TypeError, match="activation"):
        free_run(w, h0, 3, "relu")


def test_divergence_run_logs_readout_norm_spectral_radius_and_state_norm_per_step():
    r = divergence_run("tanh", "gaussian", 1.0, lr=1.0, steps=10, length=20, hidden_size=16)
    n = len(r["losses"])
    assert len(r["readout_norms"]) == len(r["spectral_radii"]) == len(r["state_norms"]) == n
    torch.manual_seed(0)  # the first entries are those of the untouched net: seed-0 read-out, random_rnn's W_hh
    g = torch.Generator().manual_seed(0)
    w_hh = random_rnn(2, 16, "tanh", 1.0, g).weight_hh_l0.detach().double()
    assert r["spectral_radii"][0] == pytest.approx(float(torch.linalg.eigvals(w_hh).abs().max()), rel=1e-6)
    assert r["diverged_at"] is not None and r["readout_norms"][-1] > 100 * r["readout_norms"][0]
    assert max(r["state_norms"]) <= 4.0  # a tanh state stays inside the cube: sqrt(16)
