"""How fast is the course's NumPy BPTT?  One run, one machine, float64.

(a) forward + backward of ``rnncourse.bptt`` against the same computation differentiated
    by ``torch.autograd`` (batch 32, T 25, hidden 100, vocabulary 65), inputs as one-hot
    arrays and as integer ids;
(b) training throughput, in characters per second, of three contenders that separate the
    two effects behind the speed of ``rnncourse.charlm.train``:
      loop_batch1      a single-sequence char-RNN written as a Python loop over time with
                       column vectors (the algorithm of Karpathy's min-char-rnn: hidden 100,
                       sequences of 25, Adagrad, gradients clipped to [-5, 5]);
      trainer_batch1   ``charlm.train`` with one lane: the same updates in exact arithmetic
                       (the tests check 20 updates to 1e-9), another implementation;
      trainer_batch64  ``charlm.train`` with 64 lanes: same implementation, batched;
(c) learning: training loss against characters seen and validation bits per character of
    the three contenders on the same character budget, from the same initial weights, for
    several seeds (batching buys characters per second, not progress per character).  The
    Adagrad learning rate is tuned per batch size on a small grid (every rate, every seed):
    the rate with the lowest median bpc on one half of the validation slice is chosen, and the
    other half reports it; the loop runs at batch 1's rate (it makes the same updates).

Each contender's speed is timed with 1 and with 2 BLAS/OpenMP threads and the faster
setting counts (small matrices often run faster on one thread).  Repeats are interleaved
and the best repeat is kept, the usual way to time on a shared machine.  The script also
times a large matrix product to estimate the machine's float64 peak.

Speeds are only worth publishing from a quiet machine.  The speed part (a, b) refuses to start
when the 1-minute load average is at or above ``--max-load`` (2 by default: the machine has
two cores), unless ``--allow-busy`` is given; the load is sampled before, during and after the
run, and ``speed_status.busy`` records whether any sample reached the limit.  The learning part
(c) measures bits per character, which do not depend on the load, and runs at any load.
``--parts`` runs one part and keeps the other from an existing ``--out`` file.

    python benchmarks/bench_bptt.py                                  # writes runs/bench_bptt.json
                                                                     # (or $RNNCOURSE_RUNS/bench_bptt.json)
    python benchmarks/bench_bptt.py --out results/bench_bptt.json    # the committed results (quiet machine)
    python benchmarks/bench_bptt.py --parts learning --out FILE      # only (c); (a, b) kept from FILE
    python benchmarks/bench_bptt.py --quick --out /tmp/bench.json    # tiny sizes (= --smoke), for the tests
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from rnncourse import bptt, charlm
from rnncourse.experiments import default_output
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
# The single-sequence baseline follows the algorithm of Karpathy's min-char-rnn (one sequence
# of 25 characters at a time, column vectors, a Python loop over time for both passes, one-hot
# inputs multiplied by U, entry-wise clipping to [-5, 5], Adagrad).  It works on the course's
# parameter dict, so the same weights run in both implementations.
def loop_loss_and_grads(params: dict, inputs: np.ndarray, targets: np.ndarray, h: np.ndarray):
    """One sequence, one step at a time, column vectors.

    inputs, targets: (T,) ids;  h: (hidden, 1) state carried in.
    returns (loss summed over the T steps, gradients with the shapes of ``params``,
    the last state (hidden, 1)).
    """
    U, W, V = params["U"], params["W"], params["V"]
    b, c = params["b"][:, None], params["c"][:, None]
    steps, hidden, vocab = len(inputs), W.shape[0], V.shape[0]
    x = np.zeros((steps, U.shape[1], 1))
    states = np.zeros((steps + 1, hidden, 1))
    states[0] = h
    probs = np.zeros((steps, vocab, 1))
    loss = 0.0
    for t in range(steps):
        x[t, inputs[t]] = 1.0
        states[t + 1] = np.tanh(U @ x[t] + W @ states[t] + b)
        o = V @ states[t + 1] + c
        e = np.exp(o - o.max())
        probs[t] = e / e.sum()
        loss -= math.log(probs[t, targets[t], 0])
    g = {"U": np.zeros_like(U), "W": np.zeros_like(W), "V": np.zeros_like(V),
         "b": np.zeros((hidden, 1)), "c": np.zeros((vocab, 1))}
    from_future = np.zeros((hidden, 1))
    for t in reversed(range(steps)):
        do = probs[t].copy()
        do[targets[t]] -= 1.0
        g["V"] += do @ states[t + 1].T
        g["c"] += do
        da = (1.0 - states[t + 1] ** 2) * (V.T @ do + from_future)
        g["b"] += da
        g["U"] += da @ x[t].T
        g["W"] += da @ states[t].T
        from_future = W.T @ da
    g["b"], g["c"] = g["b"][:, 0], g["c"][:, 0]
    return loss, g, states[steps]


def loop_train(params: dict, ids: np.ndarray, updates: int, seq_len: int = 25, lr: float = 0.1,
               clip: float = 5.0, optimizer=None) -> list[float]:
    """Train ``params`` in place with the single-sequence baseline; returns the loss per character of every update.

    Reads ``ids`` from the start, ``seq_len`` characters per update, carrying the state and
    resetting it where the text ends (as ``charlm.train`` does with one lane).
    """
    optimizer = charlm.Adagrad(lr) if optimizer is None else optimizer
    hidden = params["W"].shape[0]
    pos, h, losses = 0, np.zeros((hidden, 1)), []
    for _ in range(updates):
        if pos + seq_len + 1 > len(ids):
            pos, h = 0, np.zeros((hidden, 1))
        loss, grads, h = loop_loss_and_grads(params, ids[pos:pos + seq_len], ids[pos + 1:pos + seq_len + 1], h)
        optimizer.step(params, charlm.clip_(grads, clip))
        losses.append(loss / seq_len)
        pos += seq_len
    return losses


CONTENDERS = ("loop_batch1", "trainer_batch1", "trainer_batch64")


def run_contender(name: str, params: dict, ids: np.ndarray, chars: int, seq_len: int, lr: float) -> list[float]:
    """Train ``params`` on ``chars`` characters with one contender; returns per-update losses."""
    if name == "loop_batch1":
        return loop_train(params, ids, chars // seq_len, seq_len, lr)
    batch = 1 if name == "trainer_batch1" else 64
    return charlm.train(params, ids, chars // (batch * seq_len), batch=batch, seq_len=seq_len, lr=lr)


def trainer_flops_per_char(vocab: int, hidden: int) -> float:
    """Matrix-product FLOPs per character of the batched trainer (input lookup is free)."""
    return 2.0 * (3 * hidden * hidden + 3 * hidden * vocab)


def baseline_flops_per_char(vocab: int, hidden: int) -> float:
    """Matrix-product FLOPs per character of the baseline (it multiplies the one-hot vectors)."""
    return 2.0 * (2 * vocab * hidden + 3 * hidden * hidden + 3 * hidden * vocab)


def measure_training(ids: np.ndarray, vocab: int, hidden: int, seq_len: int, timing_chars: int,
                     repeats: int, lr: float) -> dict:
    """Characters per second of the three contenders, each timed on ``timing_chars`` characters."""
    def runner(name):
        return lambda: run_contender(name, charlm.init_char_rnn(vocab, hidden, seed=0), ids, timing_chars, seq_len, lr)

    best = {name: {1: float("inf"), 2: float("inf")} for name in CONTENDERS}
    torch.set_num_threads(1)
    for _ in range(repeats):                            # interleave contenders and thread settings
        for threads in (1, 2):
            for name in CONTENDERS:
                best[name][threads] = min(best[name][threads], timed_in(threads, runner(name), 1, 1))
    rate = {k: {f"{t}_threads": timing_chars / s for t, s in v.items()} for k, v in best.items()}
    top = {k: max(v.values()) for k, v in rate.items()}
    return {
        "sizes": {"hidden": hidden, "seq_len": seq_len, "vocab": vocab, "timing_chars": timing_chars,
                  "dtype": "float64"},
        "chars_per_s": rate,
        "best_chars_per_s": top,
        "implementation_speedup_batch1": top["trainer_batch1"] / top["loop_batch1"],
        "batching_speedup": top["trainer_batch64"] / top["trainer_batch1"],
        "total_speedup": top["trainer_batch64"] / top["loop_batch1"],
        "trainer_flops_per_char": trainer_flops_per_char(vocab, hidden),
        "baseline_flops_per_char": baseline_flops_per_char(vocab, hidden),
    }


def measure_learning(ids: np.ndarray, val_ids: np.ndarray, vocab: int, hidden: int, seq_len: int,
                     chars: int, seeds: list[int], lr_grid: list[float], points: int = 20) -> dict:
    """Training loss against characters seen, and validation bits per character, for every contender and seed.

    Every contender sees the same ``chars`` characters from the same initial weights (seed).
    ``charlm.train`` at batch 1 and at batch 64 is run at every rate of ``lr_grid``; the rate
    with the lowest median bpc on the first half of ``val_ids`` is chosen per batch size, and
    the second half reports the chosen runs.  The loop runs at batch 1's chosen rate.
    The training loss is averaged over ``points`` equal slices of the character budget.
    """
    half = len(val_ids) // 2
    select_ids, report_ids = val_ids[:half], val_ids[half:]

    def one(name, seed, lr):
        params = charlm.init_char_rnn(vocab, hidden, seed=seed)
        losses = np.array(run_contender(name, params, ids, chars, seq_len, lr))
        bpc = lambda part: charlm.bits_per_char(charlm.evaluate(params, part)) if np.isfinite(losses).all() \
            else float("inf")
        return params, [float(s.mean()) for s in np.array_split(losses, points)], bpc(select_ids), bpc(report_ids)

    grid = {name: {} for name in ("trainer_batch1", "trainer_batch64")}
    chosen, runs = {}, {}
    with threadpool_limits(1):
        torch.set_num_threads(1)
        for name in grid:
            for lr in lr_grid:
                results = [one(name, seed, lr) for seed in seeds]
                grid[name][repr(lr)] = [r[2] for r in results]
                runs[name, lr] = results
            chosen[name] = min(lr_grid, key=lambda lr: (np.median(grid[name][repr(lr)]), lr))
        chosen["loop_batch1"] = chosen["trainer_batch1"]
        runs["loop_batch1", chosen["loop_batch1"]] = [one("loop_batch1", seed, chosen["loop_batch1"]) for seed in seeds]
    picked = {name: runs[name, chosen[name]] for name in CONTENDERS}
    same_updates = max(float(np.max(np.abs(a[0][k] - b[0][k]))) for a, b in
                       zip(picked["loop_batch1"], picked["trainer_batch1"]) for k in a[0])
    edges = np.linspace(0, chars, points + 1)
    return {
        "chars": chars, "seeds": seeds, "lr_grid": list(lr_grid), "lr": chosen,
        "grid_select_bpc": grid, "select_chars": int(len(select_ids)), "val_chars": int(len(report_ids)),
        "chars_at_point": ((edges[:-1] + edges[1:]) / 2).tolist(),
        "train_nats": {name: [r[1] for r in picked[name]] for name in CONTENDERS},
        "val_bpc": {name: [r[3] for r in picked[name]] for name in CONTENDERS},
        "max_param_difference_loop_vs_trainer_batch1": same_updates,
    }


# ---------------------------------------------------------------- main
DEFAULT_NAME = "bench_bptt.json"   # default_output(DEFAULT_NAME): $RNNCOURSE_RUNS/ or ./runs/


PARTS = ("speed", "learning")
SPEED_KEYS = ("peak_float64_flops_per_s", "peak_matmul_size", "bptt_step", "bptt_step_ids", "training",
              "speed_status")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", "--smoke", dest="quick", action="store_true",
                        help="tiny sizes and repeats, seconds (for tests; --smoke is the same); never refused")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"results file (default $RNNCOURSE_RUNS/{DEFAULT_NAME}, else runs/{DEFAULT_NAME} in the "
                             f"current folder; the committed one is results/{DEFAULT_NAME})")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS),
                        help="speed = (a) and (b), learning = (c); a part not run is kept from an existing --out file")
    parser.add_argument("--max-load", type=float, default=2.0,
                        help="refuse the speed part when the 1-minute load average is at or above this (default 2)")
    parser.add_argument("--allow-busy", action="store_true",
                        help="measure speeds at any load; the results are then flagged busy")
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = default_output(DEFAULT_NAME)
    started = time.perf_counter()
    load_before = os.getloadavg()
    loads = [load_before[0]]
    if "speed" in args.parts and load_before[0] >= args.max_load and not (args.allow_busy or args.quick):
        parser.exit(2, f"bench_bptt: refused: the 1-minute load average is {load_before[0]:.2f}, at or above "
                       f"--max-load {args.max_load:g}; speeds measured now would not be the machine's. Run it on a "
                       f"quiet machine, or pass --allow-busy to record flagged figures (or --parts learning).\n")

    if args.quick:
        sizes = dict(batch=4, steps=5, hidden=8, vocab=6)
        repeats, number, peak_size = 2, 2, 200
        train_cfg = dict(hidden=8, seq_len=5, timing_chars=64 * 5 * 2, repeats=1, lr=0.1)
        learn_cfg = dict(hidden=8, seq_len=5, chars=64 * 5 * 4, seeds=[0, 1], lr_grid=[0.05, 0.1], points=4)
    else:
        sizes = dict(batch=32, steps=25, hidden=100, vocab=65)
        repeats, number, peak_size = 7, 40, 2000
        train_cfg = dict(hidden=100, seq_len=25, timing_chars=64 * 25 * 8, repeats=3, lr=0.1)
        learn_cfg = dict(hidden=100, seq_len=25, chars=64 * 25 * 300, seeds=[0, 1, 2],
                         lr_grid=[0.025, 0.05, 0.1, 0.2], points=20)

    train_text, val_text = python_source_corpus()
    vocab = charlm.Vocabulary.from_text(train_text + val_text)
    ids, val_ids = vocab.encode(train_text), vocab.encode(val_text)[:40000]
    vocab_size = len(vocab)
    if args.quick:
        ids, val_ids, vocab_size = ids[:5000] % 6, val_ids[:2000] % 6, 6

    given = sys.argv[1:] if argv is None else list(argv)
    command = " ".join(["python benchmarks/bench_bptt.py"] + [shlex.quote(str(a)) for a in given])
    previous = json.loads(args.out.read_text()) if args.out.exists() and set(args.parts) != set(PARTS) else {}
    result = {key: previous[key] for key in SPEED_KEYS + ("learning",) if key in previous}
    if "speed_status" not in result and "training" in result:       # a file from before the load check
        m = previous.get("machine", {})
        worst = max(m.get("load_average_before", [float("inf")])[0], m.get("load_average_after", [float("inf")])[0])
        result["speed_status"] = {"busy": worst >= 2.0, "max_load": 2.0, "load_samples": [worst],
                                  "command": previous.get("command"), "note": "recorded before the load check"}

    if "speed" in args.parts:
        peak = {f"{t}_threads": peak_flops(peak_size, t, repeats=5) for t in (1, 2)}
        loads.append(os.getloadavg()[0])
        bench_a = measure_bptt(sizes["batch"], sizes["steps"], sizes["hidden"], sizes["vocab"], repeats, number)
        loads.append(os.getloadavg()[0])
        bench_ids = measure_bptt(sizes["batch"], sizes["steps"], sizes["hidden"], sizes["vocab"], repeats, number,
                                 inputs="ids")
        loads.append(os.getloadavg()[0])
        bench_b = measure_training(ids, vocab_size, **train_cfg)
        loads.append(os.getloadavg()[0])
        peak_best = max(peak.values())
        for bench in (bench_a, bench_ids):
            bench["numpy_flops_per_s"] = bench["flops_per_step"] / bench["numpy_s"]
            bench["torch_flops_per_s"] = bench["flops_per_step"] / bench["torch_s"]
            bench["numpy_fraction_of_peak"] = bench["numpy_flops_per_s"] / peak_best
            bench["torch_fraction_of_peak"] = bench["torch_flops_per_s"] / peak_best
        rates = bench_b["best_chars_per_s"]
        bench_b["fraction_of_peak"] = {
            name: rates[name] * (bench_b["baseline_flops_per_char"] if name == "loop_batch1"
                                 else bench_b["trainer_flops_per_char"]) / peak_best for name in CONTENDERS}
        bench_b["trainer_chars_per_s_at_peak"] = peak_best / bench_b["trainer_flops_per_char"]
        result.update({"peak_float64_flops_per_s": peak, "peak_matmul_size": peak_size,
                       "bptt_step": bench_a, "bptt_step_ids": bench_ids, "training": bench_b,
                       "speed_status": {"busy": max(loads) >= args.max_load, "max_load": args.max_load,
                                        "load_samples": loads, "command": command}})
    if "learning" in args.parts:
        result["learning"] = measure_learning(ids, val_ids, vocab_size, **learn_cfg)
        result["learning"]["command"] = command
        result["learning"]["load_average_after"] = list(os.getloadavg())

    result.update({
        "command": command,
        "quick": args.quick,
        "machine": {"cpu": _cpu_name(), "logical_cpus": os.cpu_count(), "python": platform.python_version(),
                    "numpy": np.__version__, "torch": torch.__version__,
                    "load_average_before": list(load_before), "load_average_after": list(os.getloadavg())},
        "wall_s": time.perf_counter() - started,
    })
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    _report(result)
    print(f"wrote {args.out}")
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
    print(f"machine: {r['machine']['cpu']}, {r['machine']['logical_cpus']} CPUs, "
          f"load before/after {r['machine']['load_average_before'][0]:.2f}/{r['machine']['load_average_after'][0]:.2f}")
    if "training" in r:
        a, b, status = r["bptt_step"], r["training"], r["speed_status"]
        peak = max(r["peak_float64_flops_per_s"].values())
        if status["busy"]:
            print(f"SPEEDS FLAGGED BUSY: load reached {max(status['load_samples']):.2f} (limit {status['max_load']:g}); "
                  f"not the machine's figures")
        print(f"float64 peak (matmul {r['peak_matmul_size']}): {peak / 1e9:.1f} GFLOP/s")
        print(f"(a) BPTT forward+backward {a['sizes']}")
        for step in (a, r["bptt_step_ids"]):
            print(f"    inputs as {step['inputs']:7s}: numpy {step['numpy_s'] * 1e3:.3f} ms  torch.autograd "
                  f"{step['torch_s'] * 1e3:.3f} ms  ratio numpy/torch = {step['numpy_over_torch']:.3f}")
            print(f"    {'':19s} numpy {step['numpy_flops_per_s'] / 1e9:.2f} GFLOP/s "
                  f"({100 * step['numpy_fraction_of_peak']:.1f}% of peak), torch {step['torch_flops_per_s'] / 1e9:.2f} "
                  f"GFLOP/s ({100 * step['torch_fraction_of_peak']:.1f}% of peak)")
        print(f"(b) training throughput {b['sizes']}")
        for name in CONTENDERS:
            print(f"    {name:16s} {b['best_chars_per_s'][name]:12,.0f} chars/s "
                  f"({100 * b['fraction_of_peak'][name]:.1f}% of peak)")
        print(f"    implementation (batch 1) {b['implementation_speedup_batch1']:.1f}x, batching "
              f"{b['batching_speedup']:.1f}x, together {b['total_speedup']:.1f}x")
    if "learning" in r:
        c = r["learning"]
        print(f"(c) learning on {c['chars']:,} characters, seeds {c['seeds']}, learning rates chosen {c['lr']}")
        for name, grid in c["grid_select_bpc"].items():
            print(f"    {name:16s} grid (selection half): " + "; ".join(
                f"lr {lr}: " + " ".join(f"{v:.3f}" for v in bpcs) for lr, bpcs in grid.items()))
        for name in CONTENDERS:
            print(f"    {name:16s} validation bpc " + " ".join(f"{v:.3f}" for v in c["val_bpc"][name]))
        print(f"    loop vs trainer at batch 1: largest parameter difference "
              f"{c['max_param_difference_loop_vs_trainer_batch1']:.1e}")
    print(f"wall time {r['wall_s']:.1f} s")


if __name__ == "__main__":
    main()
