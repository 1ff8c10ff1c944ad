"""The clipping sweep: clipping caps every step, runs are reproducible, the script writes its file."""
import json

import numpy as np
import pytest
import torch

from rnncourse.experiments import clipping


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_same_seed_same_run_and_clipping_counts_the_steps_it_caps():
    a = clipping.sgd_run(0.5, None, seed=0, init="orthogonal_1.5", steps=6, lag=6, hidden=8, batch=8)
    b = clipping.sgd_run(0.5, None, seed=0, init="orthogonal_1.5", steps=6, lag=6, hidden=8, batch=8)
    assert a["loss"] == b["loss"] and a["clipped_steps"] == 0 and len(a["grad_norm"]) == 6
    c = clipping.sgd_run(0.5, 1e-3, seed=0, init="orthogonal_1.5", steps=6, lag=6, hidden=8, batch=8)
    # same weights and batch at step 1, so the same norm before clipping; every norm exceeds 1e-3
    assert c["grad_norm"][0] == pytest.approx(a["grad_norm"][0]) and c["clipped_steps"] == 6
    assert c["loss"][1] != a["loss"][1]  # a capped step changes what follows


def test_a_huge_learning_rate_is_reported_as_diverged_or_far_above_chance():
    r = clipping.sgd_run(1e4, None, seed=0, init="orthogonal_1.5", steps=20, lag=6, hidden=8, batch=8)
    assert r["diverged_at"] is not None or r["final_loss"] > np.log(4)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="init must be one of"):
        clipping.sgd_run(0.1, None, 0, init="xavier")
    with pytest.raises(ValueError, match="lr and steps"):
        clipping.sgd_run(-0.1, None, 0)


def test_command_writes_runs_folder_by_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    clipping.main(["--smoke", "--lrs", "0.1", "--seeds", "0", "1"])
    data = json.loads((tmp_path / "runs" / "clipping.json").read_text())
    assert [(r["lr"], r["clip"], r["seed"]) for r in data["runs"]] == [
        (0.1, None, 0), (0.1, 1.0, 0), (0.1, None, 1), (0.1, 1.0, 1)]
    assert all(len(r["loss"]) == 3 for r in data["runs"]) and data["settings"]["steps"] == 3
    assert clipping.COMMITTED.parts[-2:] == ("results", "clipping.json")
