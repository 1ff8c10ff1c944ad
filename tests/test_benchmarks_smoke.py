"""benchmarks/bench_bptt.py runs end to end at a tiny size and writes every field the book reads.

Timings are not asserted: they depend on the machine and its load.
"""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_bptt_quick_writes_complete_results(tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_bptt.py"), "--quick", "--out", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ratio numpy/torch" in result.stdout and "chars/s" in result.stdout
    bench = json.loads(out.read_text())
    assert bench["quick"] is True and bench["command"].endswith("--quick")
    a, t = bench["bptt_step"], bench["training"]
    assert a["inputs"] == "one-hot" and bench["bptt_step_ids"]["inputs"] == "ids"
    assert bench["bptt_step_ids"]["flops_per_step"] < a["flops_per_step"]
    assert bench["bptt_step_ids"]["max_grad_difference"] < 1e-9
    for key in ["numpy_s", "torch_s", "numpy_over_torch", "flops_per_step", "numpy_fraction_of_peak",
                "torch_fraction_of_peak", "max_grad_difference"]:
        assert a[key] > 0 or key == "max_grad_difference", key
    assert a["numpy_over_torch"] == a["numpy_s"] / a["torch_s"]
    assert a["max_grad_difference"] < 1e-9                       # both computed the same gradients
    for key in ["trainer_chars_per_s", "baseline_chars_per_s", "trainer_over_baseline",
                "trainer_fraction_of_peak", "baseline_fraction_of_peak", "trainer_chars_per_s_at_peak"]:
        assert t[key] > 0, key
    assert t["trainer_over_baseline"] == t["trainer_chars_per_s"] / t["baseline_chars_per_s"]
    assert set(bench["peak_float64_flops_per_s"]) == {"1_threads", "2_threads"}
    assert len(bench["machine"]["load_average_before"]) == 3


def test_baseline_learns_and_agrees_with_the_reference_gradients():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import numpy as np
        from bench_bptt import MinimalCharRNN

        from rnncourse import bptt
    finally:
        sys.path.pop(0)
    model = MinimalCharRNN(vocab=5, hidden=6, seed=3)
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 5, 11)
    h = rng.standard_normal((6, 1)) * 0.3
    loss, grads, _ = model.loss_and_grads(ids[:-1], ids[1:], h)
    params = {"U": model.Wxh, "W": model.Whh, "V": model.Why, "b": model.bh[:, 0], "c": model.by[:, 0]}
    ref_loss, ref, _ = bptt.loss_and_grads(params, ids[None, :-1], ids[None, 1:], h.T.copy())
    assert abs(loss - ref_loss) < 1e-10
    for ours, name in zip(grads, ["U", "W", "V", "b", "c"]):
        np.testing.assert_allclose(ours.reshape(ref[name].shape), np.clip(ref[name], -5, 5), rtol=1e-9, atol=1e-12)
    text = np.tile(np.arange(5), 200)
    first = MinimalCharRNN(5, 16).train(text, 1)
    assert MinimalCharRNN(5, 16).train(text, 300) < 0.5 * first
