"""The truncated-BPTT reach experiment runs at a tiny size and records every (window, shift, delay, seed)."""
import json

from rnncourse.experiments import tbptt_reach


def test_command_line_writes_every_configuration(tmp_path):
    out = tmp_path / "reach.json"
    tbptt_reach.main(["--delays", "1", "3", "--seeds", "0", "1", "--passes", "1", "--sweeps", "reach",
                      "--out", str(out)])
    data = json.loads(out.read_text())
    configs = {(r["window"], r["shift"]) for r in data["runs"]}
    assert configs == {tuple(c) for c in data["fixed_window"] + data["fixed_shift"]}
    assert len(data["runs"]) == len(configs) * 2
    for r in data["runs"]:
        assert len(r["accuracy"]) == 2 and all(0 <= a <= 1 for a in r["accuracy"])
    cost = {(r["window"], r["shift"]): r["steps_backpropagated"] for r in data["runs"]}
    assert cost[(8, 2)] > cost[(8, 4)] > cost[(8, 8)] and cost[(8, 2)] > cost[(5, 2)]            # smaller shift, more work per character


def test_a_window_longer_than_the_delay_learns_it():
    acc, _ = tbptt_reach.learn(delay=2, window=4, shift=4, seed=0, passes=6)
    assert acc > 0.95


def test_correlated_sweep_is_added_to_an_existing_file_and_keeps_the_reach_sweep(tmp_path):
    out = tmp_path / "reach.json"
    tbptt_reach.main(["--delays", "2", "--seeds", "0", "--passes", "1", "--sweeps", "reach", "--out", str(out)])
    reach = json.loads(out.read_text())
    tbptt_reach.main(["--corr-delays", "3", "6", "--seeds", "0", "--passes", "1", "--sweeps", "correlated",
                      "--out", str(out)])
    data = json.loads(out.read_text())
    assert data["runs"] == reach["runs"] and data["command"] == reach["command"]
    corr = data["correlated"]
    assert {(r["stay"], r["delay"]) for r in corr["runs"]} == {(0.5, 3), (0.5, 6), (0.9, 3), (0.9, 6)}
    bound = {(r["stay"], r["delay"]): r["best_from_window"] for r in corr["runs"]}
    assert bound[(0.5, 3)] == bound[(0.9, 3)] == 1.0 and bound[(0.5, 6)] == 0.5 and 0.5 < bound[(0.9, 6)] < 1
    for r in corr["runs"]:
        assert all(0 <= a <= 1 for a in r["accuracy"] + r["distant_replaced"])
    assert "--sweeps correlated" in corr["command"]


def test_correlated_far_bit_is_used_beyond_the_window():
    # k = s = 5, delay 6: no gradient reaches the far bit, yet the model beats every predictor that
    # sees only the last 5 inputs, and replacing the older inputs costs it that advantage.
    acc, _, extra = tbptt_reach.learn(delay=6, window=5, shift=5, seed=0, passes=8, stay=0.9, details=True)
    assert acc > extra["best_from_window"] + 0.03 and extra["distant_replaced"] < extra["best_from_window"]
