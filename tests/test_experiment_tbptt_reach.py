"""The truncated-BPTT reach experiment runs at a tiny size and records every (window, shift, delay, seed)."""
import json

from rnncourse.experiments import tbptt_reach


def test_command_line_writes_every_configuration(tmp_path):
    out = tmp_path / "reach.json"
    tbptt_reach.main(["--delays", "1", "3", "--seeds", "0", "1", "--passes", "1", "--out", str(out)])
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
