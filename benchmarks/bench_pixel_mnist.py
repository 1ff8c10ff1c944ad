"""How fast is one training step of each pixel-MNIST model on this CPU, and what would the GPU table get?

Times one Adam step (forward, backward, clipping, update) of each of the four models
on a batch shaped like the ``--gpu-table`` command's: ``(128, 784, 1)``, 100 hidden
units.  The values of the pixels do not change the cost of a step, so the batch is
random numbers of the right shape and no MNIST files are needed; pixel order and
permuted order cost the same.  Repeats are interleaved across models and the best
repeat counts (the usual way to time on a shared machine).

From these times it estimates, for an assumed GPU-to-CPU speed ratio, how many steps
and examples each configuration of the table would see within a budget: an
**estimate**, with its assumptions written into the results file, not a measurement.

    python benchmarks/bench_pixel_mnist.py              # about a minute; writes runs/bench_pixel_mnist.json
                                                        # (or $RNNCOURSE_RUNS/bench_pixel_mnist.json)
    python benchmarks/bench_pixel_mnist.py --quick --out /tmp/b.json         # tiny sizes (= --smoke), for the tests
    python benchmarks/bench_pixel_mnist.py --times-from B.json --out C.json  # a new estimate, same times
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

from rnncourse.experiments import REPOSITORY, default_output
from rnncourse.experiments.pixel_table import _step
from rnncourse.pixel_models import KINDS, make_model

MNIST_TRAIN = 60_000


def time_steps(kinds, batch: int, seq_len: int, hidden: int, repeats: int, threads: int) -> dict:
    """Best seconds per training step of each kind, repeats interleaved across kinds."""
    torch.set_num_threads(threads)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, seq_len, 1, generator=gen)
    y = torch.randint(0, 10, (batch,), generator=gen)
    nets = {k: make_model(k, hidden_size=hidden, seed=0) for k in kinds}
    opts = {k: torch.optim.Adam(n.parameters(), lr=1e-4) for k, n in nets.items()}
    for k in kinds:  # warm-up
        _step(nets[k], opts[k], x, y, 1.0)
    best = {k: float("inf") for k in kinds}
    for _ in range(repeats):
        for k in kinds:
            began = time.perf_counter()
            _step(nets[k], opts[k], x, y, 1.0).item()
            best[k] = min(best[k], time.perf_counter() - began)
    return best


def _find(path: str) -> Path:
    """``path`` as given, else (a relative path such as ``results/pixel_mnist_cpu.json``) in the repository."""
    given = Path(path).expanduser()
    if given.is_file():
        return given
    if not given.is_absolute() and (REPOSITORY / given).is_file():
        return REPOSITORY / given
    raise FileNotFoundError(f"--runs {path}: expected a results file of pixel-MNIST runs, found no file "
                            f"there nor at {REPOSITORY / given}")


def times_from_runs(path: str) -> dict:
    """Seconds per training step of each model in a results file of full-MNIST runs (batch 128, T 784).

    From each run's history: wall time between its first and last evaluation over the
    steps in between (evaluations on the test set included, a few per cent).
    """
    runs = [r for r in json.loads(_find(path).read_text())["runs"] if r["dataset"] == "mnist"]
    out = {}
    for kind in KINDS:
        per_step = [(r["history"][-1]["elapsed_s"] - r["history"][0]["elapsed_s"]) /
                    (r["history"][-1]["step"] - r["history"][0]["step"]) for r in runs if r["model"] == kind]
        if per_step:
            out[kind] = min(per_step)
    if set(out) != set(KINDS):
        raise ValueError(f"{path}: expected full-MNIST runs of every model {KINDS}, found {sorted(out)}")
    return out


def estimate(seconds: dict, ratio: float, budget_min: float, sweep_lrs: int, sweep_steps: int,
             tasks: int, batch: int, sweep_fraction: float = 0.25, seeds: int = 1) -> dict:
    """Steps and examples per configuration of the table within ``budget_min``, for a GPU ``ratio`` x faster.

    Two bounds for the eight CUDA streams: *overlapped* (a lockstep round takes as
    long as the slowest model's step) and *serial* (a round takes the sum of all
    configurations' steps).  The table trains ``seeds`` copies of every configuration;
    the sweep runs ``sweep_lrs`` copies of every configuration for ``sweep_steps`` steps first, or for ``sweep_fraction`` of the
    budget if that comes first (as the command does); evaluation time is ignored.
    """
    gpu = {k: s / ratio for k, s in seconds.items()}
    out = {}
    for mode in ("overlapped", "serial"):
        def round_time(copies: int) -> float:
            if mode == "overlapped":
                return max(gpu.values())
            return copies * tasks * sum(gpu.values())
        sweep_s = min(sweep_steps * round_time(sweep_lrs), sweep_fraction * 60 * budget_min)
        steps = int(max(0.0, 60 * budget_min - sweep_s) / round_time(seeds))
        out[mode] = {"round_s": round(round_time(seeds), 5), "sweep_s": round(sweep_s, 1), "table_steps": steps,
                     "examples_per_configuration": steps * batch, "epochs": round(steps * batch / MNIST_TRAIN, 2)}
    return out


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=None,
                   help="results JSON to write (default $RNNCOURSE_RUNS/bench_pixel_mnist.json, "
                        "else runs/bench_pixel_mnist.json in the current folder)")
    p.add_argument("--quick", "--smoke", dest="quick", action="store_true",
                   help="tiny sizes, seconds (for the tests; --smoke is the same)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--ratios", nargs="+", type=float, default=[10.0, 20.0],
                   help="assumed GPU speed-ups of one configuration's step over one CPU thread")
    p.add_argument("--budget-minutes", type=float, default=7.0)
    p.add_argument("--seeds", type=int, default=3, help="seeds per configuration in the table")
    p.add_argument("--repeats", type=int, default=None, help="timed repeats per model (default 5; --quick 2)")
    p.add_argument("--times-from", default=None, help="reuse the step times of an earlier results file")
    p.add_argument("--runs", default=None,
                   help="also read step times from a file of full-MNIST training runs (results/pixel_mnist_cpu.json) "
                        "and base the estimate on the faster of the two")
    args = p.parse_args(argv)
    if args.out is None:
        args.out = default_output("bench_pixel_mnist.json")
    batch, seq_len, hidden, repeats = (8, 20, 16, 2) if args.quick else (128, 784, 100, 5)
    repeats = args.repeats or repeats
    load_before = os.getloadavg()
    if args.times_from:
        earlier = json.loads(Path(args.times_from).read_text())
        seconds, load_before = earlier["seconds_per_step"], earlier["machine"]["load_average_before"]
    else:
        seconds = time_steps(KINDS, batch, seq_len, hidden, repeats, args.threads)
    basis, basis_name = seconds, "timed here"
    from_runs = None
    if args.runs:
        from_runs = times_from_runs(args.runs)
        if sum(from_runs.values()) < sum(seconds.values()):
            basis, basis_name = from_runs, f"the training runs in {args.runs}"
    result = {
        "command": "python benchmarks/bench_pixel_mnist.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "quick": args.quick, "batch_size": batch, "sequence_length": seq_len, "hidden_size": hidden,
        "threads": args.threads, "repeats": repeats, "torch_version": torch.__version__,
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(), "load_average_before": load_before,
                    "load_average_after": os.getloadavg()},
        "seconds_per_step": seconds, "steps_per_second": {k: 1 / s for k, s in seconds.items()},
        "seconds_per_step_in_runs": from_runs, "runs_file": args.runs,
        "estimate": {"budget_minutes": args.budget_minutes, "sweep": {"lrs": 3, "steps": 300, "fraction": 0.25},
                     "tasks": 2, "seeds": args.seeds,
                     "step_times_from": basis_name, "seconds_per_step": basis,
                     "assumption": "a GPU runs one configuration's step `ratio` times faster than one CPU thread; "
                                   "evaluation time ignored; bounds for perfectly overlapped and fully serial streams",
                     "by_ratio": {str(r): estimate(basis, r, args.budget_minutes, 3, 300, 2, batch, seeds=args.seeds)
                                  for r in args.ratios}},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    for k in KINDS:
        print(f"{k:9s} {seconds[k] * 1000:8.1f} ms/step  {1 / seconds[k]:7.2f} steps/s (batch {batch}, T {seq_len})"
              + (f"   in the runs: {from_runs[k] * 1000:8.1f} ms/step" if from_runs else ""))
    print(f"estimate based on the step times {basis_name}")
    for r, e in result["estimate"]["by_ratio"].items():
        for mode, v in e.items():
            print(f"ratio {r:>5s} {mode:10s}: {v['table_steps']:,} steps = {v['examples_per_configuration']:,} "
                  f"examples ({v['epochs']} epochs) per configuration in {args.budget_minutes} min")
    return result


if __name__ == "__main__":
    main()
