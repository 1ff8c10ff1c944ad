"""benchmarks/bench_bptt.py runs end to end at a tiny size and writes every field the book reads.

Timings are not asserted: they depend on the machine and its load.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_bench_bptt_quick_writes_complete_results(tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_bptt.py"), "--quick", "--out", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ratio numpy/torch" in result.stdout and "chars/s" in result.stdout
    bench = json.loads(out.read_text())
    assert bench["quick"] is True and bench["command"] == f"python benchmarks/bench_bptt.py --quick --out {out}"
    a, t = bench["bptt_step"], bench["training"]
    assert a["inputs"] == "one-hot" and bench["bptt_step_ids"]["inputs"] == "ids"
    assert bench["bptt_step_ids"]["flops_per_step"] < a["flops_per_step"]
    assert bench["bptt_step_ids"]["max_grad_difference"] < 1e-9
    for key in ["numpy_s", "torch_s", "numpy_over_torch", "flops_per_step", "numpy_fraction_of_peak",
                "torch_fraction_of_peak", "max_grad_difference"]:
        assert a[key] > 0 or key == "max_grad_difference", key
    assert a["numpy_over_torch"] == a["numpy_s"] / a["torch_s"]
    assert a["max_grad_difference"] < 1e-9                       # both computed the same gradients
    rates = t["best_chars_per_s"]
    assert set(rates) == {"loop_batch1", "trainer_batch1", "trainer_batch64"} and min(rates.values()) > 0
    assert t["implementation_speedup_batch1"] == rates["trainer_batch1"] / rates["loop_batch1"]
    assert t["batching_speedup"] == rates["trainer_batch64"] / rates["trainer_batch1"]
    assert t["total_speedup"] == pytest.approx(t["implementation_speedup_batch1"] * t["batching_speedup"])
    learn = bench["learning"]
    for name in rates:
        assert len(learn["train_nats"][name]) == len(learn["val_bpc"][name]) == 2     # two seeds
        assert len(learn["train_nats"][name][0]) == len(learn["chars_at_point"]) == 4
    assert learn["max_param_difference_loop_vs_trainer_batch1"] < 1e-9                # same updates
    assert learn["lr"]["loop_batch1"] == learn["lr"]["trainer_batch1"] and learn["lr_grid"] == [0.05, 0.1]
    for name in ("trainer_batch1", "trainer_batch64"):
        assert learn["lr"][name] in learn["lr_grid"]
        assert all(len(v) == 2 for v in learn["grid_select_bpc"][name].values())       # every rate, every seed
        best = min(learn["grid_select_bpc"][name].items(), key=lambda kv: sorted(kv[1])[0] + sorted(kv[1])[1])
        assert repr(learn["lr"][name]) == best[0]                                      # median of two seeds
    assert set(bench["peak_float64_flops_per_s"]) == {"1_threads", "2_threads"}
    assert len(bench["machine"]["load_average_before"]) == 3
    status = bench["speed_status"]
    assert status["max_load"] == 2.0 and len(status["load_samples"]) >= 2
    assert status["busy"] == (max(status["load_samples"]) >= 2.0)


def test_speed_part_refuses_a_busy_machine_and_learning_alone_keeps_the_speeds(tmp_path):
    out = tmp_path / "bench.json"
    refused = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_bptt.py"), "--max-load", "0",
                              "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "refused" in refused.stderr and "load average" in refused.stderr
    assert not out.exists()
    bench = _bench()
    first = bench.main(["--quick", "--max-load", "0", "--out", str(out)])      # --quick is never refused ...
    assert first["speed_status"]["busy"] is True                                  # ... but flagged
    again = bench.main(["--quick", "--parts", "learning", "--out", str(out)])
    assert again["training"] == first["training"] and again["speed_status"] == first["speed_status"]
    assert again["learning"]["command"].endswith("--parts learning --out " + str(out))


def _bench():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import bench_bptt
    finally:
        sys.path.pop(0)
    return bench_bptt


def test_loop_baseline_agrees_with_the_reference_gradients():
    import numpy as np

    from rnncourse import bptt, charlm
    bench = _bench()
    params = bptt.init_params(5, 6, 5, np.random.default_rng(3), scale=0.5)
    params["b"], params["c"] = np.linspace(-0.2, 0.2, 6), np.linspace(0.1, -0.1, 5)
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 5, 11)
    h = rng.standard_normal((6, 1)) * 0.3
    loss, grads, last = bench.loop_loss_and_grads(params, ids[:-1], ids[1:], h)
    ref_loss, ref, cache = bptt.loss_and_grads(params, ids[None, :-1], ids[None, 1:], h.T.copy())
    assert abs(loss - ref_loss) < 1e-10
    for name in ["U", "W", "V", "b", "c"]:
        np.testing.assert_allclose(grads[name], ref[name], rtol=1e-9, atol=1e-12)
    # the loop at batch 1 and charlm.train with one lane make the same updates
    text = np.tile(np.arange(5), 60)
    a, b = charlm.init_char_rnn(5, 8, seed=1), charlm.init_char_rnn(5, 8, seed=1)
    loop_losses = bench.loop_train(a, text, 20, seq_len=7)
    trainer_losses = charlm.train(b, text, 20, batch=1, seq_len=7, lr=0.1)
    np.testing.assert_allclose(loop_losses, trainer_losses, rtol=1e-9)
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-9, atol=1e-12)
    assert loop_losses[-1] < 0.5 * loop_losses[0]


def test_smoke_writes_to_the_runs_folder_never_the_committed_results(tmp_path):
    runs = tmp_path / "elsewhere"
    env = {**os.environ, "RNNCOURSE_RUNS": str(runs), "HOME": str(tmp_path / "home")}
    for script, name in (("bench_bptt.py", "bench_bptt.json"), ("bench_pixel_mnist.py", "bench_pixel_mnist.json")):
        result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--smoke"], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
        assert json.loads((runs / name).read_text())["quick"] is True
    assert sorted(p.name for p in runs.iterdir()) == ["bench_bptt.json", "bench_pixel_mnist.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere"]     # nothing else, no runs/, no home
