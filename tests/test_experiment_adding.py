"""The adding-problem experiment runs end to end at a tiny size and writes a complete results file."""
import json
import math
from pathlib import Path

import pytest
import torch

from rnncourse.adding_problem import BASELINE_MSE
from rnncourse.experiments import adding


def test_command_line_sweeps_the_learning_rate_and_trains_the_other_seeds_with_the_choice(tmp_path):
    out = tmp_path / "adding.json"
    adding.main(["--lengths", "6", "8", "--steps", "12", "--eval-every", "5", "--hidden", "8", "--models", "irnn",
                 "lstm", "--lrs", "1e-3", "3e-2", "--seeds", "3", "4", "--val-size", "30", "--test-size", "40",
                 "--select-window", "2", "--device", "cpu", "--threads", "1", "--out", str(out)])
    data = json.loads(out.read_text())  # strict JSON: no NaN
    assert data["baseline_mse"] == pytest.approx(BASELINE_MSE) and data["complete"] is True
    assert [p.name for p in tmp_path.iterdir()] == ["adding.json"]  # the partial file written after each run is gone
    cfg = data["config"]
    assert cfg["lengths"] == [6, 8] and cfg["steps"] == 12 and cfg["seeds"] == [3, 4] and cfg["lrs"] == [1e-3, 3e-2]
    assert cfg["val_size"] == 30 and cfg["test_size"] == 40 and cfg["select_window"] == 2
    assert data["device"].startswith("cpu") and data["wall_time_s"] >= 0 and len(data["load_average_at_start"]) == 3
    assert data["command"].startswith("python -m rnncourse.experiments.adding --lengths 6 8")
    runs = data["runs"]
    for model in ("irnn", "lstm"):
        for t in (6, 8):
            group = [r for r in runs if (r["model"], r["length"]) == (model, t)]
            sweep = {r["lr"]: r for r in group if r["seed"] == 3}
            assert sorted(sweep) == [1e-3, 3e-2]  # the first seed tries every rate
            scores = {lr: adding.selection_score(r, 2) for lr, r in sweep.items()}
            best = min(scores, key=scores.get)
            assert data["selection"]["chosen_lr"][f"{model}/{t}"] == best
            assert data["selection"]["scores"][f"{model}/{t}"][f"{best:g}"] == pytest.approx(scores[best])
            (other,) = [r for r in group if r["seed"] == 4]  # the other seed: the chosen rate only
            assert other["lr"] == best and other["selected"] and sweep[best]["selected"]
    for r in runs:
        assert r["steps"] == [0, 5, 10, 12]
        assert len(r["val_mse"]) == len(r["train_mse"]) == 4 and r["train_mse"][0] is None
        assert all(math.isfinite(v) and v >= 0 for v in r["val_mse"]) and math.isfinite(r["final_test_mse"])
        assert r["final_val_mse"] == r["val_mse"][-1] and not r["diverged"] and r["wall_time_s"] >= 0


def test_selection_uses_a_window_of_validation_errors_and_never_the_test_set():
    def fake(lr, val, test, diverged=False):
        return {"lr": lr, "val_mse": [0.2, *val], "final_test_mse": test, "diverged": diverged}

    spike_at_end = fake(1e-2, [0.01, 0.01, 0.01, 0.01, 0.15], test=0.001)   # one bad evaluation at the end
    steady = fake(1e-3, [0.05, 0.05, 0.05, 0.05, 0.05], test=0.1)
    assert adding.selection_score(spike_at_end, 5) == pytest.approx(0.038)
    assert adding.choose_lr([steady, spike_at_end], window=5) == 1e-2    # the window forgives one spike
    assert adding.choose_lr([steady, spike_at_end], window=1) == 1e-3    # the last value alone would not
    assert adding.choose_lr([fake(3e-3, [1e-4], test=1.0), fake(1e-3, [1e-3], test=0.0)], 5) == 3e-3  # test unused
    assert adding.selection_score(fake(1e-2, [1e-6], 0.0, diverged=True)) == math.inf
    assert adding.choose_lr([fake(1e-3, [0.1], 0.1), fake(1e-4, [0.1], 0.1)]) == 1e-4   # a tie: the smaller rate
    with pytest.raises(ValueError, match="window"):
        adding.selection_score(steady, 0)
    with pytest.raises(ValueError, match="at least one run"):
        adding.choose_lr([])


def test_validation_and_test_sets_differ_and_are_shared_by_every_run():
    x_val, y_val, x_test, y_test = adding.held_out_sets(12, 50, 60)
    again = adding.held_out_sets(12, 50, 60)
    assert x_val.shape == (50, 12, 2) and x_test.shape == (60, 12, 2)
    assert torch.equal(x_val, again[0]) and torch.equal(y_test, again[3])
    assert not torch.equal(x_val[:50], x_test[:50])


def test_models_start_as_the_paper_describes():
    irnn = adding.make_model("irnn", 6).core
    assert torch.equal(irnn.weight_hh_l0.detach(), torch.eye(6)) and irnn.nonlinearity == "relu"
    assert torch.all(irnn.bias_hh_l0 == 0)
    torch.manual_seed(0)
    relu = adding.make_model("relu", 50).core
    assert relu.nonlinearity == "relu" and float(relu.weight_hh_l0.detach().std()) == pytest.approx(1e-3, rel=0.1)
    lstm = adding.make_model("lstm", 4).core
    assert torch.equal(lstm.bias_ih_l0.detach(), torch.tensor([0.0] * 4 + [1.0] * 4 + [0.0] * 8))
    torch.manual_seed(0)
    default = adding.make_model("tanh_default", 50).core
    assert default.nonlinearity == "tanh" and torch.all(default.bias_hh_l0 == 0)
    assert float(default.weight_hh_l0.abs().max()) <= 50 ** -0.5  # PyTorch's uniform(-1/sqrt(H), 1/sqrt(H))
    assert float(default.weight_hh_l0.detach().std()) == pytest.approx(50 ** -0.5 / 3 ** 0.5, rel=0.1)
    orth = adding.make_model("tanh_orth", 20).core.weight_hh_l0.detach()
    torch.testing.assert_close(orth @ orth.T, torch.eye(20), atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="model must be one of"):
        adding.make_model("gru", 4)


def test_same_seed_gives_the_same_curve():
    a = adding.train_one("irnn", 6, steps=6, seed=1, hidden_size=5, eval_every=3, test_size=20, val_size=20)
    b = adding.train_one("irnn", 6, steps=6, seed=1, hidden_size=5, eval_every=3, test_size=20, val_size=20)
    assert a["val_mse"] == b["val_mse"] and a["train_mse"] == b["train_mse"]
    assert a["final_test_mse"] == b["final_test_mse"] and a["lr"] == 2e-3


def test_irnn_learns_the_short_adding_problem():
    """At length 10 a few hundred Adam steps bring the IRNN well below the baseline."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small recurrent nets run fastest on one thread, and a loaded machine slows more threads
    try:
        r = adding.train_one("irnn", 10, steps=400, seed=0, hidden_size=32, eval_every=400, test_size=500, val_size=100)
    finally:
        torch.set_num_threads(threads)
    assert r["final_test_mse"] < 0.5 * BASELINE_MSE


def test_default_output_goes_to_runs_in_the_current_folder_and_merge_keeps_other_runs(tmp_path, monkeypatch):
    monkeypatch.delenv("RNNCOURSE_RUNS", raising=False)
    monkeypatch.chdir(tmp_path)
    adding.main(["--smoke", "--models", "irnn", "--device", "cpu", "--seed", "0", "--lr", "1e-3"])
    out = tmp_path / "runs" / "adding.json"
    first = json.loads(out.read_text())
    assert [(r["model"], r["length"], r["lr"]) for r in first["runs"]] == [("irnn", 8, 1e-3)]
    assert first["config"]["steps"] == 3 and first["selection"]["chosen_lr"] == {"irnn/8": 1e-3}
    adding.main(["--smoke", "--models", "tanh_orth", "irnn", "--lengths", "5", "8", "--device", "cpu", "--seed", "0",
                 "--lr", "1e-3", "--merge"])
    merged = json.loads(out.read_text())
    assert sorted((r["model"], r["length"]) for r in merged["runs"]) == [  # irnn at T = 8 replaced, not doubled
        ("irnn", 5), ("irnn", 8), ("tanh_orth", 5), ("tanh_orth", 8)]
    assert merged["merged"][0]["command"].endswith("--merge") and merged["command"] == first["command"]
    assert merged["config"]["lengths"] == [5, 8] and merged["config"]["models"] == ["irnn", "tanh_orth"]
    assert set(merged["selection"]["chosen_lr"]) == {"irnn/5", "irnn/8", "tanh_orth/5", "tanh_orth/8"}
    assert len(merged["merged"][0]["load_average_at_start"]) == 3
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["adding.json"]  # --smoke writes no partial file
    assert adding.COMMITTED.parts[-2:] == ("results", "adding.json")


def test_rnncourse_runs_moves_the_default_output_of_every_experiment(tmp_path, monkeypatch):
    from rnncourse.experiments import default_output, dead_units, exposure_bias, tbptt_reach

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RNNCOURSE_RUNS", raising=False)
    assert default_output("x.json") == Path("runs") / "x.json"
    monkeypatch.setenv("RNNCOURSE_RUNS", str(tmp_path / "elsewhere"))
    assert default_output("x.json") == tmp_path / "elsewhere" / "x.json"
    exposure_bias.main(["--smoke"])
    tbptt_reach.main(["--smoke"])
    dead_units.main(["--smoke"])
    written = sorted(p.name for p in (tmp_path / "elsewhere").iterdir())
    assert written == ["exposure_bias.json", "pixel_dead_units.json", "tbptt_reach.json"]
    assert json.loads((tmp_path / "elsewhere" / "exposure_bias.json").read_text())["updates"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere"]
