"""The adding-problem experiment runs end to end at a tiny size and writes a complete results file."""
import json
import math
from pathlib import Path

import pytest
import torch

from rnncourse.adding_problem import BASELINE_MSE
from rnncourse.experiments import adding


def test_command_line_writes_curves_for_every_model_and_length(tmp_path):
    out = tmp_path / "adding.json"
    adding.main(["--lengths", "6", "8", "--steps", "12", "--eval-every", "5", "--hidden", "8",
                 "--test-size", "40", "--seed", "3", "--device", "cpu", "--out", str(out)])
    data = json.loads(out.read_text())  # strict JSON: no NaN
    assert data["baseline_mse"] == pytest.approx(BASELINE_MSE)
    cfg = data["config"]
    assert cfg["lengths"] == [6, 8] and cfg["steps"] == 12 and cfg["seed"] == 3
    assert data["device"].startswith("cpu") and data["wall_time_s"] >= 0
    assert data["command"].startswith("python -m rnncourse.experiments.adding --lengths 6 8")
    runs = data["runs"]
    assert sorted((r["model"], r["length"]) for r in runs) == sorted(
        (m, t) for m in adding.PAPER_MODELS for t in (6, 8))
    for r in runs:
        assert r["steps"] == [0, 5, 10, 12] and r["seed"] == 3
        assert len(r["test_mse"]) == len(r["train_mse"]) == 4 and r["train_mse"][0] is None
        assert all(math.isfinite(v) and v >= 0 for v in r["test_mse"])
        assert r["final_test_mse"] == r["test_mse"][-1] and not r["diverged"] and r["wall_time_s"] >= 0


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
    a = adding.train_one("irnn", 6, steps=6, seed=1, hidden_size=5, eval_every=3, test_size=20)
    b = adding.train_one("irnn", 6, steps=6, seed=1, hidden_size=5, eval_every=3, test_size=20)
    assert a["test_mse"] == b["test_mse"] and a["train_mse"] == b["train_mse"]


def test_irnn_learns_the_short_adding_problem():
    """At length 10 a few hundred Adam steps bring the IRNN well below the baseline."""
    r = adding.train_one("irnn", 10, steps=400, seed=0, hidden_size=32, eval_every=400, test_size=500)
    assert r["final_test_mse"] < 0.5 * BASELINE_MSE


def test_default_output_goes_to_runs_in_the_current_folder_and_merge_keeps_other_runs(tmp_path, monkeypatch):
    monkeypatch.delenv("RNNCOURSE_RUNS", raising=False)
    monkeypatch.chdir(tmp_path)
    adding.main(["--smoke", "--models", "irnn", "--device", "cpu"])
    out = tmp_path / "runs" / "adding.json"
    first = json.loads(out.read_text())
    assert [(r["model"], r["length"]) for r in first["runs"]] == [("irnn", 8)] and first["config"]["steps"] == 3
    adding.main(["--smoke", "--models", "tanh_orth", "irnn", "--device", "cpu", "--merge"])
    merged = json.loads(out.read_text())
    assert sorted(r["model"] for r in merged["runs"]) == ["irnn", "tanh_orth"]  # irnn replaced, not doubled
    assert merged["merged"][0]["command"].endswith("--merge") and merged["command"] == first["command"]
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
