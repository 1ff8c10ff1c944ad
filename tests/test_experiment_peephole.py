"""The peephole timing experiment: the task's targets sit where the input says, runs are reproducible
and differ only in the peepholes, the command writes its file."""
import json

import pytest
import torch

from rnncourse.experiments import peephole


pytestmark = pytest.mark.usefixtures("one_torch_thread")   # tests/conftest.py


def test_the_target_spike_sits_delay_steps_after_the_cue():
    x, y, t = peephole.timed_spike_batch(32, torch.Generator().manual_seed(0), delays=(2, 5), length=7)
    assert x.shape == (32, 7, 2) and y.shape == (32, 7)
    assert torch.all(x[:, 1:] == 0) and torch.all(x[:, 0].sum(1) == 1) and torch.all(y.sum(1) == 1)
    delay = torch.tensor([2, 5])[x[:, 0].argmax(1)]
    assert torch.equal(t, delay) and torch.equal(y.argmax(1), delay) and set(t.tolist()) == {2, 5}


def test_runs_are_reproducible_and_the_variants_share_all_other_weights():
    a = peephole.train_timer(True, seed=3, steps=4, eval_every=2, length=8, delays=(2, 4))
    b = peephole.train_timer(True, seed=3, steps=4, eval_every=2, length=8, delays=(2, 4))
    assert a["loss"] == b["loss"] and a["step"] == [2, 4] and a["steps_run"] == 4
    torch.manual_seed(5)
    with_p = peephole.Timer(3, 4, peepholes=True)
    torch.manual_seed(5)
    without = peephole.Timer(3, 4, peepholes=False)
    assert torch.equal(with_p.rnn.weight_hh_l0, without.rnn.weight_hh_l0) and without.rnn.peep is None
    assert torch.allclose(with_p.rnn.bias_hh_l0[4:8] - without.rnn.bias_hh_l0[4:8], torch.zeros(4))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="every delay must lie"):
        peephole.timed_spike_batch(4, torch.Generator(), delays=(3, 9), length=9)
    with pytest.raises(ValueError, match="batch must be"):
        peephole.timed_spike_batch(0, torch.Generator())
    with pytest.raises(ValueError, match="steps and eval_every"):
        peephole.train_timer(False, 0, steps=0)


def test_command_writes_runs_folder_by_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    peephole.main(["--smoke", "--seeds", "0"])
    data = json.loads((tmp_path / "runs" / "peephole.json").read_text())
    assert [(r["peepholes"], r["seed"]) for r in data["runs"]] == [(False, 0), (True, 0)]
    assert all(r["steps_run"] == 4 for r in data["runs"]) and peephole.COMMITTED.parts[-2:] == ("results", "peephole.json")
    peephole.main(["--smoke", "--seeds", "1", "--merge"])  # more seeds join the file
    data = json.loads((tmp_path / "runs" / "peephole.json").read_text())
    assert [(r["peepholes"], r["seed"]) for r in data["runs"]] == [(False, 0), (True, 0), (False, 1), (True, 1)]
