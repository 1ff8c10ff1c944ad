"""rnncourse.experiments.long_memory at a tiny size: every model trains, the file holds what the page reads."""
import json

import pytest
import torch

from rnncourse.experiments import long_memory


def test_smoke_run_writes_every_field_the_page_reads(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNCOURSE_RUNS", str(tmp_path / "runs"))
    results = long_memory.main(["--smoke", "--threads", "1", "--device", "cpu"])
    written = json.loads((tmp_path / "runs" / "long_memory.json").read_text())
    assert written["config"]["models"] == list(long_memory.MODELS) and written["config"]["lengths"] == [8]
    assert len(written["runs"]) == 4 * 3  # per model: two learning rates with seed 0, then seed 1 with the choice
    for kind in long_memory.MODELS:
        runs = [r for r in written["runs"] if r["model"] == kind]
        chosen = written["selection"]["chosen_lr"][f"{kind}/8"]
        assert chosen in written["config"]["lrs"] and [r["seed"] for r in runs] == [0, 0, 1]
        assert runs[2]["lr"] == chosen and all(r["selected"] == (r["lr"] == chosen) for r in runs)
        assert all(len(r["steps"]) == len(r["val_mse"]) == 4 for r in runs)
    assert results["command"].startswith("python -m rnncourse.experiments.long_memory --smoke")
    assert len(written["load_average_at_start"]) == 3 and written["cpu_time_s"] >= 0


def test_combine_joins_commands_run_side_by_side(tmp_path):
    parts = []
    for kind in ("mingru", "lstm"):
        out = tmp_path / f"{kind}.json"
        long_memory.main(["--smoke", "--models", kind, "--seeds", "0", "--lrs", "1e-3", "--out", str(out)])
        parts.append(str(out))
    both = long_memory.main(["--combine", *parts, "--out", str(tmp_path / "both.json")])
    assert both["config"]["models"] == ["mingru", "lstm"] and len(both["runs"]) == 2
    assert set(both["selection"]["chosen_lr"]) == {"mingru/8", "lstm/8"} and len(both["commands"]) == 2
    different = json.loads((tmp_path / "lstm.json").read_text())
    different["config"]["steps"] = 99
    (tmp_path / "other.json").write_text(json.dumps(different))
    with pytest.raises(ValueError, match="differ in steps"):
        long_memory.main(["--combine", parts[0], str(tmp_path / "other.json"), "--out", str(tmp_path / "x.json")])


def test_scan_models_map_sequences_to_one_number_and_reject_bad_input():
    torch.manual_seed(0)
    for kind in long_memory.MODELS:
        model = long_memory.build(kind, 6)
        assert model(torch.rand(3, 11, 2)).shape == (3,)
    with pytest.raises(ValueError, match="model must be one of"):
        long_memory.build("gru", 6)
    with pytest.raises(ValueError, match=r"x must have shape \(batch, time, 2\)"):
        long_memory.build("lru", 6)(torch.rand(3, 11, 3))
    with pytest.raises(ValueError, match="lr must be a positive"):
        long_memory.train_one("mingru", 8, 2, 0, lr=0.0)
