"""The teacher-forcing task, model unrolling, the Bayes filter and the experiment's command line."""
import json

import numpy as np
import pytest
import torch

from rnncourse.experiments import exposure_bias as experiment
from rnncourse.exposure_bias import (OutputRecurrent, accuracy_per_step, bayes_filter, inverse_sigmoid,
                                     resync_task, train, unroll)


def test_task_is_a_running_sum_and_noise_free_inputs_are_exact():
    inc, hint, y = resync_task(7, 12, torch.Generator().manual_seed(0), increment_noise=0.0, hint_noise=0.0)
    assert inc.shape == hint.shape == y.shape == (7, 12)
    assert torch.equal(torch.cumsum(inc, 1) % 5, y) and torch.equal(hint, y)
    inc, hint, y = resync_task(400, 50, torch.Generator().manual_seed(1))
    assert 0.22 < (hint != y).double().mean() < 0.26            # 30% replaced, a fifth of them by the same symbol
    with pytest.raises(ValueError, match="hint_noise"):
        resync_task(2, 3, torch.Generator(), hint_noise=1.5)


def test_bayes_filter_is_perfect_when_one_channel_is_clean_and_beats_trusting_either_channel():
    g = torch.Generator().manual_seed(2)
    assert bayes_filter(*resync_task(50, 30, g, hint_noise=0.0), hint_noise=0.0).min() == 1.0
    assert bayes_filter(*resync_task(50, 30, g, increment_noise=0.0), increment_noise=0.0).min() == 1.0
    inc, hint, y = resync_task(2000, 30, g)
    best = bayes_filter(inc, hint, y)
    assert best.mean() > (hint == y).double().mean().item() + 0.05          # better than the hint alone
    assert best.mean() > ((torch.cumsum(inc, 1) % 5) == y).double().mean().item() + 0.05   # or the sum alone


def test_unroll_feeds_the_truth_or_the_models_own_argmax():
    torch.manual_seed(0)
    model = OutputRecurrent(5, 8).double()
    inc, hint, y = resync_task(4, 6, torch.Generator().manual_seed(3))
    forced = unroll(model, inc, hint, y, teacher_prob=1.0)
    prev = torch.zeros(4, dtype=torch.long)
    for t in range(6):
        torch.testing.assert_close(forced[:, t], model(prev, inc[:, t], hint[:, t]))
        prev = y[:, t]
    free = unroll(model, inc, hint)
    prev = torch.zeros(4, dtype=torch.long)
    for t in range(6):
        step = model(prev, inc[:, t], hint[:, t])
        torch.testing.assert_close(free[:, t], step)
        prev = step.argmax(-1)
    with pytest.raises(ValueError, match="true targets"):
        unroll(model, inc, hint, None, teacher_prob=0.5)


def test_scheduled_decay_and_modes():
    values = [inverse_sigmoid(i, 60) for i in range(0, 601, 100)]
    assert values[0] == pytest.approx(60 / 61) and all(a > b for a, b in zip(values, values[1:])) and values[-1] < 0.01
    with pytest.raises(ValueError, match="mode"):
        train("professor", updates=1)


def test_teacher_forcing_learns_the_sum_quickly():
    model = train("teacher", updates=150, seed=0)
    inc, hint, y = resync_task(500, 20, torch.Generator().manual_seed(9))
    assert accuracy_per_step(model, inc, hint, y, teacher=True).mean() > 0.85     # optimum 0.92


def test_command_line_writes_every_mode_and_seed(tmp_path):
    out = tmp_path / "eb.json"
    experiment.main(["--updates", "3", "--seeds", "0", "1", "--steps", "6", "--test", "20", "--out", str(out)])
    data = json.loads(out.read_text())
    assert data["command"].endswith("--out " + str(out)) and len(data["bayes_filter"]) == 6
    for mode in ("teacher", "scheduled", "free"):
        assert [r["seed"] for r in data["runs"][mode]] == [0, 1]
        for r in data["runs"][mode]:
            assert len(r["teacher_forced"]) == len(r["free_running"]) == 6
            assert all(0 <= a <= 1 for a in r["free_running"])
