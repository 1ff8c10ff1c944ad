"""How fast is the course's NumPy BPTT?  Two measurements, one run, one machine, float64.

(a) forward + backward of ``rnncourse.bptt`` against the same computation differentiated
    by ``torch.autograd`` (batch 32, T 25, hidden 100, vocabulary 65, one-hot inputs);
(b) training throughput, in characters per second, of the batched trainer
    ``rnncourse.charlm.train`` against a single-sequence NumPy char-RNN written in the
    classic minimal style (column vectors, one time step at a time, hidden 100,
    sequence length 25, Adagrad, gradients clipped to [-5, 5]) on the same text.

Each contender is timed with 1 and with 2 BLAS/OpenMP threads and the faster setting
counts (small matrices often run faster on one thread, and torch's OpenMP pool can be
very slow on a busy machine).  Repeats are interleaved and the best repeat is kept,
which is the usual way to time on a shared machine.  The script also times a large
matrix product to estimate the machine's float64 peak and reports every contender's
FLOP rate as a fraction of it.

    python benchmarks/bench_bptt.py            # full run (about a minute), writes results/bench_bptt.json
    python benchmarks/bench_bptt.py --quick    # tiny sizes, for the tests
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from rnncourse import bptt, charlm
from rnncourse.text_data import python_source_corpus

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- timing helpers
def best_time(fn, repeats: int, number: int) -> float:
    """Best, over ``repeats``, of the mean time of ``number`` calls of ``fn`` (seconds)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def timed_in(threads: int, fn, repeats: int, number: int) -> float:
    torch.set_num_threads(threads)
    with threadpool_limits(threads):
        fn()                                            # warm-up
        return best_time(fn, repeats, number)


def peak_flops(size: int, threads: int, repeats: int) -> float:
    """float64 FLOP/s of a (size x size) @ (size x size) NumPy product with ``threads`` threads."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((size, size)), rng.standard_normal((size, size))
    with threadpool_limits(threads):
        a @ b
        return 2.0 * size ** 3 / best_time(lambda: a @ b, repeats, 1)


# ---------------------------------------------------------------- (a) BPTT step
def bptt_flops(batch: int, steps: int, inputs: int, hidden: int, outputs: int) -> float:
    """Matrix-product FLOPs of one forward + backward (2 per multiply-add).

    forward: x U^T, h W^T, h V^T; backward: dV, do V, da W, dW, dU.
    """
    n = batch * steps
    return 2.0 * n * (2 * inputs * hidden + 3 * hidden * hidden + 3 * hidden * outputs)


def torch_loss_and_grads(params: dict, x: torch.Tensor, y: torch.Tensor, h0: torch.Tensor):
    """The same RNN and summed cross-entropy, differentiated by torch.autograd.

    x is one-hot (B, T, K) floats or integer ids (B, T); ids select columns of U (an embedding).
    """
    for p in list(params.values()) + [h0]:
        p.grad = None
    if x.dtype == torch.int64:
        a = params["U"].T[x] + params["b"]              # same as one-hot @ U^T, without the product
    else:
        a = x @ params["U"].T + params["b"]             # all input projections at once
    h, states = h0, []
    for t in range(x.shape[1]):
        h = torch.tanh(a[:, t] + h @ params["W"].T)
        states.append(h)
    o = torch.stack(states, dim=1) @ params["V"].T + params["c"]
    loss = torch.nn.functional.cross_entropy(o.reshape(-1, o.shape[-1]), y.reshape(-1), reduction="sum")
    loss.backward()
    return loss


def measure_bptt(batch: int, steps: int, hidden: int, vocab: int, repeats: int, number: int,
                 inputs: str = "one-hot") -> dict:
    """Time both contenders; ``inputs`` is "one-hot" (dense (B, T, K) arrays) or "ids" (B, T)."""
    rng = np.random.default_rng(0)
    params = bptt.init_params(vocab, hidden, vocab, rng, scale=0.1)
    params["b"] = rng.standard_normal(hidden) * 0.1
    params["c"] = rng.standard_normal(vocab) * 0.1
    ids = rng.integers(0, vocab, (batch, steps))
    x = charlm.one_hot(ids, vocab) if inputs == "one-hot" else ids
    y = rng.integers(0, vocab, (batch, steps))
    h0 = rng.standard_normal((batch, hidden)) * 0.1
    tparams = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    tx, ty = torch.tensor(x), torch.tensor(y)
    th0 = torch.tensor(h0, requires_grad=True)

    # Same numbers first: the comparison is only meaningful if both compute the same thing.
    loss, grads, _ = bptt.loss_and_grads(params, x, y, h0)
    tloss = torch_loss_and_grads(tparams, tx, ty, th0)
    worst = max(float(np.max(np.abs(grads[k] - (th0 if k == "h0" else tparams[k]).grad.numpy())))
                for k in grads)
    if abs(loss - tloss.item()) > 1e-9 * abs(loss) or worst > 1e-9:
        raise RuntimeError(f"NumPy and torch disagree: loss {loss} vs {tloss.item()}, max grad diff {worst}")

    numpy_fn = lambda: bptt.loss_and_grads(params, x, y, h0)
    torch_fn = lambda: torch_loss_and_grads(tparams, tx, ty, th0)
    times = {"numpy": {1: float("inf"), 2: float("inf")}, "torch": {1: float("inf"), 2: float("inf")}}
    for _ in range(repeats):                            # interleave contenders
        for threads in (1, 2):
            times["numpy"][threads] = min(times["numpy"][threads], timed_in(threads, numpy_fn, 1, number))
        times["torch"][1] = min(times["torch"][1], timed_in(1, torch_fn, 1, number))
    # torch's 2-thread OpenMP pool keeps spinning afterwards: time it last.
    times["torch"][2] = timed_in(2, torch_fn, max(1, repeats // 2), max(1, number // 4))
    torch.set_num_threads(1)
    best = {k: min(v.values()) for k, v in times.items()}
    flops = bptt_flops(batch, steps, vocab, hidden, vocab)
    if inputs == "ids":                                 # no x U^T and no dU product: lookups and sums
        flops -= 2.0 * 2 * batch * steps * vocab * hidden
    return {
        "inputs": inputs,
        "sizes": {"batch": batch, "time": steps, "hidden": hidden, "vocab": vocab, "dtype": "float64"},
        "seconds": {k: {f"{t}_threads": s for t, s in v.items()} for k, v in times.items()},
        "numpy_s": best["numpy"], "torch_s": best["torch"],
        "numpy_over_torch": best["numpy"] / best["torch"],
        "flops_per_step": flops,
        "max_grad_difference": worst,
    }


# ---------------------------------------------------------------- (b) training throughput
class MinimalCharRNN:
    """The single-sequence baseline: one sequence, column vectors, a Python loop over time."""

    def __init__(self, vocab: int, hidden: int, lr: float = 0.1, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.Wxh = rng.standard_normal((hidden, vocab)) * 0.01
        self.Whh = rng.standard_normal((hidden, hidden)) * 0.01
        self.Why = rng.standard_normal((vocab, hidden)) * 0.01
        self.bh = np.zeros((hidden, 1))
        self.by = np.zeros((vocab, 1))
        self.mem = [np.zeros_like(p) for p in self.weights()]
        self.vocab, self.lr = vocab, lr

    def weights(self):
        return [self.Wxh, self.Whh, self.Why, self.bh, self.by]

    def loss_and_grads(self, inputs, targets, hprev):
        xs, hs, ps = {}, {-1: hprev}, {}
        loss = 0.0
        for t, (i, j) in enumerate(zip(inputs, targets)):
            xs[t] = np.zeros((self.vocab, 1))
            xs[t][i] = 1.0
            hs[t] = np.tanh(self.Wxh @ xs[t] + self.Whh @ hs[t - 1] + self.bh)
            scores = self.Why @ hs[t] + self.by
            e = np.exp(scores - scores.max())
            ps[t] = e / e.sum()
            loss -= np.log(ps[t][j, 0])
        grads = [np.zeros_like(p) for p in self.weights()]
        dWxh, dWhh, dWhy, dbh, dby = grads
        dh_next = np.zeros_like(hprev)
        for t in reversed(range(len(inputs))):
            dy = ps[t].copy()
            dy[targets[t]] -= 1.0
            dWhy += dy @ hs[t].T
            dby += dy
            dh = self.Why.T @ dy + dh_next
            da = (1.0 - hs[t] * hs[t]) * dh
            dbh += da
            dWxh += da @ xs[t].T
            dWhh += da @ hs[t - 1].T
            dh_next = self.Whh.T @ da
        for g in grads:
            np.clip(g, -5.0, 5.0, out=g)
        return loss, grads, hs[len(inputs) - 1]

    def train(self, ids: np.ndarray, iterations: int, seq_len: int = 25) -> float:
        """Run ``iterations`` updates over ``ids``; returns the last loss per character."""
        pos, h = 0, np.zeros((self.Whh.shape[0], 1))
        for _ in range(iterations):
            if pos + seq_len + 1 > len(ids):
                pos, h = 0, np.zeros_like(h)
            loss, grads, h = self.loss_and_grads(ids[pos:pos + seq_len], ids[pos + 1:pos + seq_len + 1], h)
            for p, g, m in zip(self.weights(), grads, self.mem):
                m += g * g
                p -= self.lr * g / np.sqrt(m + 1e-8)
            pos += seq_len
        return loss / seq_len


def trainer_flops_per_char(vocab: int, hidden: int) -> float:
    """Matrix-product FLOPs per character of the batched trainer (input lookup is free)."""
    return 2.0 * (3 * hidden * hidden + 3 * hidden * vocab)


def baseline_flops_per_char(vocab: int, hidden: int) -> float:
    """Matrix-product FLOPs per character of the baseline (it multiplies the one-hot vectors)."""
    return 2.0 * (2 * vocab * hidden + 3 * hidden * hidden + 3 * hidden * vocab)


def measure_training(ids: np.ndarray, vocab: int, hidden: int, seq_len: int, batch: int,
                     trainer_steps: int, baseline_iters: int, repeats: int) -> dict:
    def run_trainer():
        params = charlm.init_char_rnn(vocab, hidden, seed=0)
        charlm.train(params, ids, trainer_steps, batch=batch, seq_len=seq_len)

    def run_baseline():
        MinimalCharRNN(vocab, hidden).train(ids, baseline_iters, seq_len)

    best = {"trainer": {1: float("inf"), 2: float("inf")}, "baseline": {1: float("inf"), 2: float("inf")}}
    torch.set_num_threads(1)
    for _ in range(repeats):
        for threads in (1, 2):
            best["trainer"][threads] = min(best["trainer"][threads], timed_in(threads, run_trainer, 1, 1))
            best["baseline"][threads] = min(best["baseline"][threads], timed_in(threads, run_baseline, 1, 1))
    chars = {"trainer": trainer_steps * batch * seq_len, "baseline": baseline_iters * seq_len}
    rate = {k: {f"{t}_threads": chars[k] / s for t, s in v.items()} for k, v in best.items()}
    top = {k: max(v.values()) for k, v in rate.items()}
    return {
        "sizes": {"hidden": hidden, "seq_len": seq_len, "vocab": vocab, "trainer_batch": batch,
                  "trainer_chars": chars["trainer"], "baseline_chars": chars["baseline"],
                  "dtype": "float64"},
        "chars_per_s": rate,
        "trainer_chars_per_s": top["trainer"], "baseline_chars_per_s": top["baseline"],
        "trainer_over_baseline": top["trainer"] / top["baseline"],
        "trainer_flops_per_char": trainer_flops_per_char(vocab, hidden),
        "baseline_flops_per_char": baseline_flops_per_char(vocab, hidden),
    }


# ---------------------------------------------------------------- main
def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes and repeats (for tests)")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench_bptt.json")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    load_before = os.getloadavg()

    if args.quick:
        sizes = dict(batch=4, steps=5, hidden=8, vocab=6)
        repeats, number, peak_size = 2, 2, 200
        train_cfg = dict(hidden=8, seq_len=5, batch=4, trainer_steps=5, baseline_iters=5, repeats=1)
    else:
        sizes = dict(batch=32, steps=25, hidden=100, vocab=65)
        repeats, number, peak_size = 7, 40, 2000
        train_cfg = dict(hidden=100, seq_len=25, batch=64, trainer_steps=120, baseline_iters=400, repeats=3)

    peak = {f"{t}_threads": peak_flops(peak_size, t, repeats=5) for t in (1, 2)}
    bench_a = measure_bptt(sizes["batch"], sizes["steps"], sizes["hidden"], sizes["vocab"], repeats, number)
    bench_ids = measure_bptt(sizes["batch"], sizes["steps"], sizes["hidden"], sizes["vocab"], repeats, number,
                             inputs="ids")

    train_text, _ = python_source_corpus()
    vocab = charlm.Vocabulary.from_text(train_text)
    ids = vocab.encode(train_text)
    if args.quick:
        ids = ids[:5000] % 6
        vocab_size = 6
    else:
        vocab_size = len(vocab)
    bench_b = measure_training(ids, vocab_size, **train_cfg)

    peak_best = max(peak.values())
    for bench in (bench_a, bench_ids):
        bench["numpy_flops_per_s"] = bench["flops_per_step"] / bench["numpy_s"]
        bench["torch_flops_per_s"] = bench["flops_per_step"] / bench["torch_s"]
        bench["numpy_fraction_of_peak"] = bench["numpy_flops_per_s"] / peak_best
        bench["torch_fraction_of_peak"] = bench["torch_flops_per_s"] / peak_best
    bench_b["trainer_flops_per_s"] = bench_b["trainer_chars_per_s"] * bench_b["trainer_flops_per_char"]
    bench_b["baseline_flops_per_s"] = bench_b["baseline_chars_per_s"] * bench_b["baseline_flops_per_char"]
    bench_b["trainer_fraction_of_peak"] = bench_b["trainer_flops_per_s"] / peak_best
    bench_b["baseline_fraction_of_peak"] = bench_b["baseline_flops_per_s"] / peak_best
    bench_b["trainer_chars_per_s_at_peak"] = peak_best / bench_b["trainer_flops_per_char"]

    result = {
        "command": "python benchmarks/bench_bptt.py" + (" --quick" if args.quick else ""),
        "quick": args.quick,
        "machine": {"cpu": _cpu_name(), "logical_cpus": os.cpu_count(), "python": platform.python_version(),
                    "numpy": np.__version__, "torch": torch.__version__,
                    "load_average_before": list(load_before), "load_average_after": list(os.getloadavg())},
        "peak_float64_flops_per_s": peak, "peak_matmul_size": peak_size,
        "bptt_step": bench_a, "bptt_step_ids": bench_ids, "training": bench_b,
        "wall_s": time.perf_counter() - started,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    _report(result)
    return result


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _report(r: dict) -> None:
    a, b = r["bptt_step"], r["training"]
    peak = max(r["peak_float64_flops_per_s"].values())
    print(f"machine: {r['machine']['cpu']}, {r['machine']['logical_cpus']} CPUs, "
          f"load before/after {r['machine']['load_average_before'][0]:.2f}/{r['machine']['load_average_after'][0]:.2f}")
    print(f"float64 peak (matmul {r['peak_matmul_size']}): {peak / 1e9:.1f} GFLOP/s")
    print(f"(a) BPTT forward+backward {a['sizes']}")
    for step in (a, r["bptt_step_ids"]):
        print(f"    inputs as {step['inputs']:7s}: numpy {step['numpy_s'] * 1e3:.3f} ms  torch.autograd "
              f"{step['torch_s'] * 1e3:.3f} ms  ratio numpy/torch = {step['numpy_over_torch']:.3f}")
        print(f"    {'':19s} numpy {step['numpy_flops_per_s'] / 1e9:.2f} GFLOP/s "
              f"({100 * step['numpy_fraction_of_peak']:.1f}% of peak), torch {step['torch_flops_per_s'] / 1e9:.2f} "
              f"GFLOP/s ({100 * step['torch_fraction_of_peak']:.1f}% of peak)")
    print(f"(b) training throughput {b['sizes']}")
    print(f"    trainer {b['trainer_chars_per_s']:,.0f} chars/s  baseline {b['baseline_chars_per_s']:,.0f} chars/s  "
          f"ratio = {b['trainer_over_baseline']:.1f}x")
    print(f"    trainer {b['trainer_flops_per_s'] / 1e9:.2f} GFLOP/s ({100 * b['trainer_fraction_of_peak']:.1f}% of peak), "
          f"baseline {b['baseline_flops_per_s'] / 1e9:.2f} GFLOP/s ({100 * b['baseline_fraction_of_peak']:.1f}% of peak)")
    print(f"wall time {r['wall_s']:.1f} s")


if __name__ == "__main__":
    main()
