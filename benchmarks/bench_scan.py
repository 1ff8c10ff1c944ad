"""Loop vs parallel scan for the linear recurrence h_t = a_t * h_{t-1} + b_t, forward + backward.

Three contenders from ``rnncourse.linear_recurrence``, timed side by side in one run on the same
inputs (batch 8, 64 channels, float32, ``a`` in (0, 1)): ``loop`` (T sequential steps),
``doubling`` (Hillis-Steele, ceil(log2 T) rounds, O(T log T) work) and ``odd_even`` (the
work-efficient scan, O(T) work, O(log T) depth).  Each time is one forward pass and the backward
pass of a weighted sum of all states; repeats are interleaved between contenders and the median
and the best repeat are kept.  Before timing, the three are checked to agree.

Speeds are only worth publishing from a quiet machine: the command refuses to start when the
1-minute load average is at or above ``--max-load`` (2 by default) unless ``--allow-busy`` (or
``--smoke``) is given, and records the load before and after.

    python benchmarks/bench_scan.py --threads 1                 # T = 64 ... 8192; writes runs/bench_scan.json
    python benchmarks/bench_scan.py --device cuda               # the same on a GPU
    python benchmarks/bench_scan.py --out results/bench_scan.json --threads 1   # the committed file (quiet machine)
    python benchmarks/bench_scan.py --smoke                     # tiny sizes, seconds (for the tests)
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

from rnncourse.device import default_device, describe
from rnncourse.experiments import default_output, write_results
from rnncourse.linear_recurrence import linear_recurrence_doubling, linear_recurrence_loop, linear_recurrence_scan

CONTENDERS = {"loop": linear_recurrence_loop, "doubling": linear_recurrence_doubling, "odd_even": linear_recurrence_scan}


def load() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def time_once(fn, a, b, weights, device) -> float:
    """Seconds for one forward and backward pass of fn."""
    a_, b_ = a.detach().requires_grad_(), b.detach().requires_grad_()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    (fn(a_, b_) * weights).sum().backward()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


def measure(lengths, batch: int, channels: int, repeats: int, device: torch.device) -> list[dict]:
    rows = []
    for T in lengths:
        g = torch.Generator().manual_seed(T)
        a = (0.5 + 0.5 * torch.rand(batch, T, channels, generator=g)).to(device)
        b = torch.randn(batch, T, channels, generator=g).to(device)
        weights = torch.randn(batch, T, channels, generator=g).to(device)
        with torch.no_grad():
            loop = linear_recurrence_loop(a, b)
            diff = {name: float((fn(a, b) - loop).abs().max() / loop.abs().max()) for name, fn in CONTENDERS.items()}
        times = {name: [] for name in CONTENDERS}
        for name, fn in CONTENDERS.items():  # one warm-up each
            time_once(fn, a, b, weights, device)
        for _ in range(repeats):
            for name, fn in CONTENDERS.items():
                times[name].append(time_once(fn, a, b, weights, device))
        row = {"T": T}
        for name in CONTENDERS:
            row[name] = {"median_ms": 1e3 * statistics.median(times[name]), "best_ms": 1e3 * min(times[name]),
                         "relative_difference_to_loop": diff[name]}
        row["loop_over_odd_even"] = row["loop"]["median_ms"] / row["odd_even"]["median_ms"]
        row["loop_over_doubling"] = row["loop"]["median_ms"] / row["doubling"]["median_ms"]
        rows.append(row)
        print(f"T = {T:5d}: loop {row['loop']['median_ms']:9.2f} ms   doubling {row['doubling']['median_ms']:8.2f} ms   "
              f"odd-even {row['odd_even']['median_ms']:8.2f} ms   loop/odd-even {row['loop_over_odd_even']:6.1f}",
              flush=True)
    return rows


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", type=int, nargs="+", default=[64, 128, 256, 512, 1024, 2048, 4096, 8192])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:0")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--max-load", type=float, default=2.0, help="refuse to time at or above this load average")
    parser.add_argument("--allow-busy", action="store_true", help="time even on a busy machine (not for publishing)")
    parser.add_argument("--out", type=Path, default=default_output("bench_scan.json"),
                        help="results file (default: $RNNCOURSE_RUNS/bench_scan.json, else runs/bench_scan.json)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (T = 8, 33), one repeat, any load")
    args = parser.parse_args(argv)
    if any(T < 1 for T in args.lengths) or args.repeats < 1:
        parser.error(f"lengths and --repeats must be positive, got {args.lengths} and {args.repeats}")
    if args.smoke:
        args.lengths, args.batch, args.channels, args.repeats = [8, 33], 2, 4, 1
    if args.threads:
        torch.set_num_threads(args.threads)
    device = default_device(args.device)
    before = load()
    if before[0] >= args.max_load and not (args.allow_busy or args.smoke):
        print(f"refused: the 1-minute load average is {before[0]} (limit {args.max_load}); timings on a busy machine "
              "are not worth publishing (use --allow-busy to time anyway)", file=sys.stderr)
        sys.exit(2)
    rows = measure(args.lengths, args.batch, args.channels, args.repeats, device)
    results = {"benchmark": "linear recurrence, forward + backward: loop vs doubling scan vs odd-even scan",
               "command": "python benchmarks/bench_scan.py " + " ".join(argv if argv is not None else sys.argv[1:]),
               "device": describe(device), "threads": torch.get_num_threads(), "torch": torch.__version__,
               "python": platform.python_version(), "cpu_count": os.cpu_count(), "batch": args.batch,
               "channels": args.channels, "dtype": "float32", "repeats": args.repeats, "smoke": args.smoke,
               "load_average_at_start": before, "load_average_at_end": load(),
               "busy": max(before[0], load()[0]) >= args.max_load, "rows": rows}
    write_results(args.out, results)
    return results


if __name__ == "__main__":
    main()
