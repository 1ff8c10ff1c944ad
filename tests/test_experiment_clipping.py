"""The clipping sweep: clipping caps every step, warm-up shortens only the early steps, probes change
nothing, runs are reproducible, the script writes (and merges into) its file."""
import json

import numpy as np
import pytest

from rnncourse.experiments import clipping


pytestmark = pytest.mark.usefixtures("one_torch_thread")   # tests/conftest.py


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


def test_warmup_scales_the_early_steps_and_probes_leave_the_run_alone():
    kw = dict(seed=1, init="orthogonal_1.5", steps=8, lag=6, hidden=8, batch=8)
    plain = clipping.sgd_run(0.5, None, **kw)
    probed = clipping.sgd_run(0.5, None, probe_every=3, **kw)
    assert probed["loss"] == plain["loss"]  # the probes draw their own data and leave no gradient behind
    assert probed["probe"]["step"] == [0, 3, 6, 8] and len(probed["probe"]["share"]) == 4
    assert all(0 <= a <= 1 for a in probed["probe"]["accuracy"]) and all(s > 0 for s in probed["probe"]["share"])
    warm = clipping.sgd_run(0.5, None, warmup=4, **kw)
    # step 1 is taken at lr/4, so the runs part after the first loss; neither clips
    assert warm["loss"][0] == plain["loss"][0] and warm["loss"][1] != plain["loss"][1]
    assert warm["grad_norm"][0] == plain["grad_norm"][0] and warm["clipped_steps"] == 0
    assert [clipping.arm(r) for r in (plain, warm, clipping.sgd_run(0.5, 1.0, **kw))] == ["none", "warmup", "clip"]
    adam = clipping.sgd_run(1e-2, None, optimizer="adam", **kw)
    assert adam["optimizer"] == "adam" and adam["loss"][1] != plain["loss"][1]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="init must be one of"):
        clipping.sgd_run(0.1, None, 0, init="xavier")
    with pytest.raises(ValueError, match="lr and steps"):
        clipping.sgd_run(-0.1, None, 0)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        clipping.sgd_run(0.1, None, 0, optimizer="rmsprop")
    with pytest.raises(ValueError, match="warmup and probe_every"):
        clipping.sgd_run(0.1, None, 0, warmup=-1)


def test_command_writes_runs_folder_by_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    clipping.main(["--smoke", "--lrs", "0.1", "--seeds", "0", "1"])
    data = json.loads((tmp_path / "runs" / "clipping.json").read_text())
    assert [(r["lr"], clipping.arm(r), r["seed"]) for r in data["runs"]] == [
        (0.1, "none", 0), (0.1, "clip", 0), (0.1, "warmup", 0), (0.1, "none", 1), (0.1, "clip", 1), (0.1, "warmup", 1)]
    assert all(len(r["loss"]) == 3 for r in data["runs"]) and data["settings"]["steps"] == 3
    assert clipping.COMMITTED.parts[-2:] == ("results", "clipping.json")
    assert clipping.COMMITTED_LAG50.parts[-2:] == ("results", "clipping_lag50.json")


def test_command_merges_other_settings_into_an_existing_file(tmp_path):
    out = tmp_path / "lag.json"
    clipping.main(["--smoke", "--lag", "5", "--lrs", "0.1", "--seeds", "0", "--warmup", "0", "--out", str(out)])
    clipping.main(["--smoke", "--lag", "5", "--lrs", "0.01", "--seeds", "0", "--warmup", "0",
                   "--optimizer", "adam", "--merge", "--out", str(out)])
    data = json.loads(out.read_text())
    assert [(r["optimizer"], r["lr"], clipping.arm(r), r["lag"]) for r in data["runs"]] == [
        ("sgd", 0.1, "none", 5), ("sgd", 0.1, "clip", 5), ("adam", 0.01, "none", 5), ("adam", 0.01, "clip", 5)]
    assert len(data["merged"]) == 1 and "--optimizer adam" in data["merged"][0]["command"]
