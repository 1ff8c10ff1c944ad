"""The pixel-MNIST command line at a tiny size on scikit-learn's digits: results file, checkpoints, resume,
the time budget, the default results folder, and the --gpu-table command on the CPU."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from rnncourse.experiments import pixel_mnist as exp
from rnncourse.pixel_models import make_model

TINY = ["--dataset", "digits", "--train-limit", "64", "--test-limit", "40", "--batch-size", "16",
        "--device", "cpu", "--threads", "1", "--no-progress"]


def read_runs(path):
    with open(path) as handle:
        return json.load(handle)["runs"]


def test_command_line_writes_a_complete_results_record(tmp_path):
    results = tmp_path / "res.json"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.run(
        [sys.executable, "-m", "rnncourse.experiments.pixel_mnist", "--model", "lstm", "--permuted", "--steps", "6",
         "--eval-every", "3", "--results", str(results), "--checkpoint-dir", str(tmp_path / "ck"),
         *[a for a in TINY if a != "--no-progress"]],
        capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "6/6" in proc.stderr  # the progress bar
    assert "test accuracy" in proc.stdout + proc.stderr and "cpu" in proc.stdout
    (run,) = read_runs(results)
    assert run["model"] == "lstm" and run["task"] == "permuted" and run["dataset"] == "digits"
    assert run["steps"] == 6 and run["stop_reason"] == "steps" and run["sequence_length"] == 64
    assert run["train_size"] == 64 and run["test_size"] == 40
    assert run["device"].startswith("cpu") and run["device_type"] == "cpu"
    assert run["seed"] == 0 and run["perm_seed"] == 0 and run["wall_time_s"] > 0
    assert run["hyperparameters"]["batch_size"] == 16 and run["hyperparameters"]["optimizer"] == "adam"
    assert run["hyperparameters"]["lr"] == exp.DEFAULT_LR["digits"]["lstm"]
    assert [h["step"] for h in run["history"]] == [0, 3, 6]
    assert run["accuracy"] == run["history"][-1]["test_accuracy"]
    assert 0 <= run["accuracy"] <= 1 and run["accuracy"] * 40 == round(run["accuracy"] * 40)
    assert "--permuted" in run["command"]
    assert (tmp_path / "ck" / "digits-permuted-lstm-seed0.pt").is_file()


def test_resume_continues_exactly_where_the_run_stopped(tmp_path):
    straight = exp.main(["--model", "irnn", "--steps", "8", "--eval-every", "4", *TINY,
                         "--results", str(tmp_path / "a.json"), "--checkpoint", str(tmp_path / "a.pt")])[0]
    exp.main(["--model", "irnn", "--steps", "4", "--eval-every", "4", *TINY,
              "--results", str(tmp_path / "b.json"), "--checkpoint", str(tmp_path / "b.pt")])
    half = torch.load(tmp_path / "b.pt", weights_only=False)
    assert half["step"] == 4
    resumed = exp.main(["--model", "irnn", "--steps", "8", "--eval-every", "4", "--resume", *TINY,
                        "--results", str(tmp_path / "b.json"), "--checkpoint", str(tmp_path / "b.pt")])[0]
    assert resumed["steps"] == 8 and resumed["accuracy"] == straight["accuracy"]
    assert [h["step"] for h in resumed["history"]] == [0, 4, 8]
    for h_a, h_b in zip(straight["history"], resumed["history"]):
        assert h_a["test_accuracy"] == h_b["test_accuracy"]
        assert h_a["train_loss"] == pytest.approx(h_b["train_loss"], rel=1e-6) if h_a["train_loss"] else True
    state_a = torch.load(tmp_path / "a.pt", weights_only=False)["model"]
    state_b = torch.load(tmp_path / "b.pt", weights_only=False)["model"]
    for name in state_a:
        torch.testing.assert_close(state_a[name], state_b[name], rtol=0, atol=1e-6)
    assert len(read_runs(tmp_path / "b.json")) == 1  # the resumed run replaced the first record


def test_resume_refuses_a_checkpoint_of_another_run(tmp_path):
    exp.main(["--model", "irnn", "--steps", "2", *TINY, "--results", str(tmp_path / "r.json"),
              "--checkpoint", str(tmp_path / "c.pt")])
    with pytest.raises(ValueError, match="different run"):
        exp.main(["--model", "irnn", "--steps", "4", "--seed", "1", "--resume", *TINY,
                  "--results", str(tmp_path / "r.json"), "--checkpoint", str(tmp_path / "c.pt")])


def test_all_runs_four_models_on_two_tasks(tmp_path):
    results = tmp_path / "all.json"
    runs = exp.main(["--all", "--steps", "2", "--eval-every", "2", *TINY, "--results", str(results),
                     "--checkpoint-dir", str(tmp_path / "ck")])
    assert len(runs) == 8
    saved = read_runs(results)
    assert [(r["task"], r["model"]) for r in saved] == [(t, m) for t in exp.TASKS for m in exp.KINDS]
    assert len(list((tmp_path / "ck").glob("*.pt"))) == 8
    assert all(r["paper_accuracy"] is None for r in saved)  # the paper's numbers are for MNIST only


def test_without_progress_bar_each_evaluation_is_still_logged(tmp_path, capsys):
    exp.main(["--model", "rnn_relu", "--steps", "4", "--eval-every", "2", *TINY,
              "--results", str(tmp_path / "q.json"), "--checkpoint", str(tmp_path / "q.pt")])
    captured = capsys.readouterr()
    lines = [line for line in captured.out.splitlines() if "test accuracy" in line and line.startswith("step")]
    assert [int(line.split()[1]) for line in lines] == [0, 2, 4], captured.out
    assert "it/s" not in captured.err  # no progress bar with --no-progress


def test_time_budget_stops_a_run_and_says_so(tmp_path):
    (run,) = exp.main(["--model", "rnn_tanh", "--steps", "1000", "--max-minutes", "1e-6", *TINY,
                       "--results", str(tmp_path / "t.json"), "--checkpoint", str(tmp_path / "t.pt")])
    assert run["steps"] == 1 and run["stop_reason"].startswith("time budget")
    assert run["history"][-1]["step"] == 1


def test_device_comes_from_the_environment(tmp_path, monkeypatch):
    args = ["--model", "irnn", "--steps", "1", "--dataset", "digits", "--train-limit", "16", "--batch-size", "8",
            "--test-limit", "8", "--no-progress", "--results", str(tmp_path / "d.json"),
            "--checkpoint", str(tmp_path / "d.pt")]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("RNNCOURSE_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="cuda"):
        exp.main(args)
    monkeypatch.setenv("RNNCOURSE_DEVICE", "cpu")
    assert exp.main(args)[0]["device_type"] == "cpu"


def test_auto_dataset_and_defaults_follow_the_device():
    gpu = exp.RunConfig(model="lstm").resolved(torch.device("cuda"))
    assert gpu.dataset == "mnist" and gpu.batch_size == exp.DEFAULT_BATCH["mnist"]
    assert gpu.lr == exp.DEFAULT_LR["mnist"]["lstm"]
    cpu = exp.RunConfig(model="irnn").resolved(torch.device("cpu"))
    assert cpu.dataset == "digits" and cpu.steps == exp.DEFAULT_STEPS["digits"]
    assert exp.default_results_path(torch.device("cuda")).name == "pixel_mnist_gpu.json"
    assert exp.default_results_path(torch.device("cpu")).name == "pixel_mnist_cpu.json"
    with pytest.raises(ValueError, match="model must be one of"):
        exp.RunConfig(model="gru").resolved(torch.device("cpu"))
    with pytest.raises(ValueError, match="steps must be a positive int"):
        exp.RunConfig(steps=0).resolved(torch.device("cpu"))


def test_train_step_clips_and_learns_a_fixed_batch():
    torch.manual_seed(0)
    model = make_model("lstm", hidden_size=16, seed=0)
    x, y = torch.randn(8, 5, 1), torch.arange(8) % 10
    reference = make_model("lstm", hidden_size=16, seed=0)
    reference.load_state_dict(model.state_dict())
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = exp.train_step(model, opt, x, y, clip=1e-3)
    ref_loss = torch.nn.functional.cross_entropy(reference(x), y)
    ref_loss.backward()
    grads = [p.grad for p in reference.parameters()]
    scale = 1e-3 / torch.sqrt(sum((g ** 2).sum() for g in grads))
    with torch.no_grad():
        for p, g in zip(reference.parameters(), grads):
            p -= 0.1 * scale * g
    assert loss == pytest.approx(ref_loss.item())
    for p, q in zip(model.parameters(), reference.parameters()):
        torch.testing.assert_close(p, q)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = [exp.train_step(model, opt, x, y, clip=1.0) for _ in range(60)]
    assert losses[-1] < 0.5 * losses[0]


def test_evaluate_counts_correct_answers_in_any_batch_size():
    model = make_model("rnn_tanh", hidden_size=12, seed=3)
    x = torch.randn(37, 6, 1, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        predictions = model(x).argmax(1)
    y = predictions.clone()
    y[:10] = (y[:10] + 1) % 10  # exactly 10 wrong
    model.train()
    for batch_size in (1, 5, 36, 37, 1000):
        assert exp.evaluate(model, x, y, batch_size) == pytest.approx(27 / 37)
    assert model.training
    with pytest.raises(ValueError):
        exp.evaluate(model, x, y[:5])


def test_batch_order_depends_on_the_step_only():
    n, batch = 50, 8
    epoch = torch.cat([exp.batch_indices(s, n, batch, seed=1) for s in range(n // batch)])
    assert len(set(epoch.tolist())) == len(epoch) == 48
    assert torch.equal(exp.batch_indices(7, n, batch, 1), exp.batch_indices(7, n, batch, 1))
    assert not torch.equal(exp.batch_indices(0, n, batch, 1), exp.batch_indices(6, n, batch, 1))
    with pytest.raises(ValueError, match="larger than the training set"):
        exp.batch_indices(0, 4, 8, 0)


def test_save_result_replaces_the_same_run_and_keeps_others(tmp_path):
    path = tmp_path / "r.json"
    base = {"dataset": "digits", "task": "pixel", "model": "lstm", "accuracy": 0.5}
    exp.save_result(path, base)
    exp.save_result(path, {**base, "model": "irnn"})
    exp.save_result(path, {**base, "accuracy": 0.9})
    runs = read_runs(path)
    assert [(r["model"], r["accuracy"]) for r in runs] == [("irnn", 0.5), ("lstm", 0.9)]
    path.write_text("[]")
    with pytest.raises(ValueError, match="list 'runs'"):
        exp.load_results(path)


def test_markdown_table_shows_accuracy_paper_and_budget():
    run = {"task": "pixel", "model": "irnn", "model_label": "IRNN", "accuracy": 0.9123, "steps": 12000,
           "epochs": 25.6, "wall_time_s": 150.0, "device": "cuda:0 (GPU)", "stop_reason": "steps"}
    table = exp.markdown_table([run, {**run, "model": "rnn_relu", "model_label": "ReLU", "wall_time_s": 9.25}])
    lines = table.splitlines()
    assert len(lines) == 4 and lines[0].count("|") == lines[2].count("|") == 10
    assert "91.2%" in lines[2] and "97.0%" in lines[2] and "12,000" in lines[2] and "2 min 30 s" in lines[2]
    assert "97.0%" in lines[3] and "9.2 s" in lines[3]  # the paper's ReLU RNN row
    assert "paper" not in exp.markdown_table([run], paper=False)


def test_default_results_never_go_to_the_committed_results_folder(monkeypatch, tmp_path):
    monkeypatch.delenv(exp.RUNS_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    for device in ("cpu", "cuda"):
        for table in (False, True):
            path = exp.default_results_path(torch.device(device), table=table)
            assert "results" not in path.parts and path.parent == Path("runs")
    monkeypatch.setenv(exp.RUNS_ENV, str(tmp_path))
    (run,) = exp.main(["--model", "irnn", "--steps", "1", *TINY, "--checkpoint", str(tmp_path / "c.pt")])
    assert read_runs(tmp_path / "pixel_mnist_cpu.json")[0]["steps"] == 1
    assert not (tmp_path / "results").exists()


def test_time_budget_counts_only_this_invocation_across_resume(tmp_path):
    common = ["--model", "irnn", "--eval-every", "2", *TINY, "--results", str(tmp_path / "r.json"),
              "--checkpoint", str(tmp_path / "c.pt")]
    exp.main(["--steps", "2", *common])
    state = torch.load(tmp_path / "c.pt", weights_only=False)
    state["elapsed_s"] = 3600.0  # an earlier invocation trained for an hour
    torch.save(state, tmp_path / "c.pt")
    (run,) = exp.main(["--steps", "6", "--max-minutes", "5", "--resume", *common])
    assert run["steps"] == 6 and run["stop_reason"] == "steps"  # the hour before does not eat this budget
    assert run["wall_time_s"] >= 3600  # but the recorded wall time is the whole run's


TABLE = ["--gpu-table", "--device", "cpu", "--threads", "1", "--dataset", "digits", "--train-limit", "64",
         "--test-limit", "40", "--batch-size", "16", "--no-progress"]


def test_gpu_table_command_on_the_cpu_writes_one_complete_file(tmp_path):
    """The GPU table's code path, at a tiny size: two configurations, a two-value sweep, two seeds."""
    out = tmp_path / "table.json"
    runs = exp.main([*TABLE, "--models", "irnn", "lstm", "--tasks", "permuted", "--lrs", "1e-3", "3e-2",
                     "--select", "train-loss", "--sweep-steps", "3", "--steps", "4", "--eval-every", "2",
                     "--seeds", "0", "1", "--results", str(out), "--checkpoint-dir", str(tmp_path / "ck")])
    data = json.loads(out.read_text())
    assert data["kind"] == "pixel_mnist_table" and "--gpu-table" in data["command"]
    assert data["runs"] == runs and len(runs) == 4  # 2 configurations x 2 seeds
    assert sorted((r["model"], r["seed"]) for r in runs) == [("irnn", 0), ("irnn", 1), ("lstm", 0), ("lstm", 1)]
    sweep = data["sweep"]["runs"]
    assert len(sweep) == 4 and {r["hyperparameters"]["lr"] for r in sweep} == {1e-3, 3e-2}
    for model in ("irnn", "lstm"):  # the sweep's choice is the lr with the lowest final training loss
        candidates = [r for r in sweep if r["model"] == model]
        best = min(candidates, key=lambda r: r["selection_loss"] if r["selection_loss"] is not None else 1e9)
        assert data["sweep"]["chosen_lr"][f"{model}/permuted"] == best["hyperparameters"]["lr"]
        assert all(r["hyperparameters"]["lr"] == best["hyperparameters"]["lr"] for r in runs if r["model"] == model)
        assert all(r["steps"] == 3 for r in candidates)
    for r in runs:  # the same budget for every run, and every field the page reads
        assert r["steps"] == 4 and r["examples_seen"] == 64 and r["stop_reason"] == "steps"
        assert [h["step"] for h in r["history"]] == [0, 2, 4] and r["accuracy"] == r["history"][-1]["test_accuracy"]
        assert r["best_accuracy"] == max(h["test_accuracy"] for h in r["history"][1:])
        assert r["steps_per_second"] > 0 and r["steps_per_second_alone"] > 0 and r["wall_time_s"] > 0
        assert r["device"].startswith("cpu") and r["perm_seed"] == 0 and r["task"] == "permuted"
        assert r["hyperparameters"]["batch_size"] == 16 and r["hyperparameters"]["hidden_size"] == 100
        assert r["paper_accuracy"] is None  # the paper's numbers are for MNIST, not the digits
    assert data["paper"]["accuracy"]["irnn/permuted"] == 0.82 and data["paper"]["accuracy"]["lstm/permuted"] == 0.36
    assert (tmp_path / "ck" / "table-digits.pt").is_file()


def test_gpu_table_budget_stops_every_run_at_the_same_step(tmp_path):
    runs = exp.main([*TABLE, "--models", "irnn", "rnn_tanh", "--tasks", "pixel", "--lrs", "1e-3", "--steps", "100000",
                     "--max-minutes", "0.01", "--eval-every", "1000", "--results", str(tmp_path / "t.json"),
                     "--checkpoint-dir", str(tmp_path / "ck")])
    assert len(runs) == 2 and runs[0]["steps"] == runs[1]["steps"] < 100000
    assert all(r["stop_reason"] == "time budget" and r["history"][-1]["step"] == r["steps"] for r in runs)


def test_gpu_table_resume_continues_exactly(tmp_path):
    common = [*TABLE, "--select", "train-loss", "--models", "rnn_relu", "--tasks", "pixel", "--lrs", "1e-3", "3e-3",
              "--sweep-steps", "2", "--eval-every", "2"]
    straight = exp.main([*common, "--steps", "6", "--results", str(tmp_path / "a.json"),
                         "--checkpoint-dir", str(tmp_path / "a")])
    exp.main([*common, "--steps", "4", "--results", str(tmp_path / "b.json"), "--checkpoint-dir", str(tmp_path / "b")])
    resumed = exp.main([*common, "--steps", "6", "--resume", "--results", str(tmp_path / "b.json"),
                        "--checkpoint-dir", str(tmp_path / "b")])
    assert [h["test_accuracy"] for h in resumed[0]["history"]] == [h["test_accuracy"] for h in straight[0]["history"]]
    assert resumed[0]["steps"] == 6
    with pytest.raises(ValueError, match="other settings"):
        exp.main([*common[:-4], "--lrs", "1e-2", "3e-3", "--sweep-steps", "2", "--eval-every", "2", "--steps", "6",
                  "--resume", "--results", str(tmp_path / "b.json"), "--checkpoint-dir", str(tmp_path / "b")])


def test_gpu_table_chooses_by_median_validation_accuracy_over_seeds(tmp_path):
    """--select validation: every rate with every seed, images held out of training, the table = the chosen runs."""
    out = tmp_path / "table.json"
    runs = exp.main([*TABLE, "--models", "irnn", "--tasks", "pixel", "permuted", "--lrs", "1e-3", "3e-2",
                     "--seeds", "0", "1", "2", "--steps", "4", "--eval-every", "2", "--val-size", "14",
                     "--select-window", "2", "--results", str(out), "--checkpoint-dir", str(tmp_path / "ck")])
    data = json.loads(out.read_text())
    sweep = data["sweep"]["runs"]
    assert data["selection"] == "validation" and data["validation_size"] == 14 and len(sweep) == 12
    assert len(data["load_average_at_start"]) == 3
    for r in sweep:  # 64 images: 14 held out, 50 trained on; accuracy on them recorded at every evaluation
        assert r["train_size"] == 50 and r["steps"] == 4 and [h["step"] for h in r["history"]] == [0, 2, 4]
        assert all(0 <= h["val_accuracy"] <= 1 for h in r["history"])
        if not r["stop_reason"].startswith("diverged"):
            assert r["selection_score"] == pytest.approx(
                (r["history"][1]["val_accuracy"] + r["history"][2]["val_accuracy"]) / 2)
    for task in ("pixel", "permuted"):
        by_lr = {lr: sorted(r["selection_score"] for r in sweep if r["task"] == task and r["hyperparameters"]["lr"] == lr)
                 for lr in (1e-3, 3e-2)}
        medians = {lr: v[1] for lr, v in by_lr.items()}  # three seeds: the middle one
        best = max(sorted(medians), key=lambda lr: medians[lr])
        assert data["sweep"]["chosen_lr"][f"irnn/{task}"] == best
        assert data["sweep"]["scores"][f"irnn/{task}"][f"{best:g}"] == pytest.approx(medians[best])
        chosen = [r for r in runs if r["task"] == task]
        assert sorted(r["seed"] for r in chosen) == [0, 1, 2] and all(r["hyperparameters"]["lr"] == best for r in chosen)
    assert data["runs"] == runs
    from rnncourse.experiments.pixel_table import sweep_markdown

    table = sweep_markdown(sweep, data["sweep"]["chosen_lr"]).splitlines()
    assert len(table) == 2 + 4 and sum("**yes**" in line for line in table) == 2  # 2 tasks x 2 rates, one chosen each


def test_validation_split_and_choice_by_median():
    from rnncourse.experiments.pixel_table import choose_by_validation, split_validation

    x, y = torch.arange(20.0).reshape(20, 1, 1), torch.arange(20)
    x_fit, y_fit, x_val, y_val = split_validation(x, y, 5)
    assert len(x_val) == 5 and len(x_fit) == 15 and sorted(torch.cat([y_fit, y_val]).tolist()) == list(range(20))
    assert torch.equal(split_validation(x, y, 5)[3], y_val)  # fixed by the seed
    with pytest.raises(ValueError, match="validation size"):
        split_validation(x, y, 20)

    def rec(lr, seed, accs, diverged=False):
        return {"model": "irnn", "task": "pixel", "hyperparameters": {"lr": lr}, "seed": seed,
                "stop_reason": "diverged (non-finite loss) by step 4" if diverged else "steps",
                "history": [{"step": 0, "val_accuracy": 0.1}] + [{"step": 2 * (i + 1), "val_accuracy": a}
                                                                for i, a in enumerate(accs)]}

    # lr 1e-2 has one lucky seed (0.9) but a worse median than 1e-3; a diverged run counts as 0
    records = [rec(1e-2, 0, [0.9, 0.9]), rec(1e-2, 1, [0.3, 0.3]), rec(1e-2, 2, [0.9, 0.9], diverged=True),
               rec(1e-3, 0, [0.5, 0.5]), rec(1e-3, 1, [0.4, 0.6]), rec(1e-3, 2, [0.4, 0.4])]
    chosen, scores = choose_by_validation(records, window=2)
    assert chosen == {"irnn/pixel": 1e-3} and scores["irnn/pixel"] == pytest.approx({"0.001": 0.5, "0.01": 0.3})
    assert choose_by_validation(records, window=1)[1]["irnn/pixel"]["0.001"] == pytest.approx(0.5)


def test_dead_units_command_separates_input_scaling_at_initialization(tmp_path):
    from rnncourse.experiments import dead_units

    result = dead_units.main(["--out", str(tmp_path / "d.json"), "--steps", "3", "--lrs", "1e-3", "--seeds", "0"])
    raw, standardised = result["runs"]
    assert raw["inputs"].startswith("raw") and standardised["inputs"] == "standardised"
    # raw pixels are >= 0: every unit with a negative input weight is dead before any training
    assert 0.3 < raw["dead_at_init"] < 0.7 and standardised["dead_at_init"] == 0.0
    assert json.loads((tmp_path / "d.json").read_text())["runs"] == result["runs"]


def test_step_time_benchmark_writes_times_and_a_labelled_estimate(tmp_path):
    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, str(root / "benchmarks" / "bench_pixel_mnist.py"), "--quick",
                           "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    bench = json.loads(out.read_text())
    assert bench["quick"] is True and set(bench["seconds_per_step"]) == set(exp.KINDS)
    assert all(bench["steps_per_second"][k] == pytest.approx(1 / s) for k, s in bench["seconds_per_step"].items())
    assert set(bench["estimate"]["by_ratio"]) == {"10.0", "20.0"} and bench["estimate"]["budget_minutes"] == 7.0
    for modes in bench["estimate"]["by_ratio"].values():
        over, serial = modes["overlapped"], modes["serial"]
        assert over["table_steps"] >= serial["table_steps"] >= 0  # overlapping streams can only help
        assert over["examples_per_configuration"] == over["table_steps"] * bench["batch_size"]


def test_chapter_8_figures_draw_seed_bands_and_dead_unit_curves():
    import matplotlib

    matplotlib.use("Agg")
    from rnncourse import figures
    from rnncourse.experiments.pixel_table import seed_summary

    def record(model, seed, accs):
        return {"task": "pixel", "model": model, "model_label": model.upper(), "seed": seed, "steps": 20,
                "examples_seen": 320, "accuracy": accs[-1], "best_accuracy": max(accs[1:]), "paper_accuracy": None,
                "hyperparameters": {"lr": 1e-3}, "history": [{"step": 10 * i, "test_accuracy": a} for i, a in enumerate(accs)]}

    runs = [record("irnn", 0, [0.1, 0.3, 0.5]), record("irnn", 1, [0.1, 0.5, 0.7]), record("lstm", 0, [0.1, 0.2, 0.9])]
    fig = figures.plot_accuracy_curves(runs, "test")
    (ax,) = fig.axes
    irnn, lstm = ax.get_lines()
    assert list(irnn.get_ydata()) == pytest.approx([0.1, 0.4, 0.6]) and "2 seeds" in irnn.get_label()
    assert list(lstm.get_ydata()) == pytest.approx([0.1, 0.2, 0.9]) and len(ax.collections) == 1  # one band
    (row_irnn, row_lstm) = seed_summary(runs)
    assert row_irnn["mean"] == pytest.approx(0.6) and (row_irnn["min"], row_irnn["max"]) == (0.5, 0.7)
    assert row_irnn["seeds"] == [0, 1] and row_lstm["best_mean"] == 0.9
    dead = [{"inputs": "raw", "lr": lr, "seed": s, "dead_at_init": 0.5, "dead_after": d}
            for lr, s, d in [(1e-4, 0, 0.8), (1e-4, 1, 0.9), (1e-3, 0, 1.0)]]
    ax = figures.plot_dead_units(dead).axes[0]
    assert list(ax.get_lines()[0].get_ydata()) == pytest.approx([0.85, 1.0])



def test_smoke_runs_the_table_at_a_tiny_size_and_writes_only_the_runs_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(exp.RUNS_ENV, str(tmp_path / "runs_here"))
    runs = exp.main(["--gpu-table", "--dataset", "mnist", "--data-dir", "missing", "--max-minutes", "7",
                     "--seeds", "0", "1", "2", "--smoke"])
    assert len(runs) == 2 and {r["steps"] for r in runs} == {2} and {r["dataset"] for r in runs} == {"digits"}
    assert (tmp_path / "runs_here" / "pixel_mnist_table_cpu.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs_here"]
