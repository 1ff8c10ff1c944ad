"""How far back can truncated BPTT learn?  Window k and shift s varied separately, several seeds.

Task: y_t = x_{t-d} for random bits (``rnncourse.tbptt.delay_task``).  Every run trains a
16-unit tanh RNN with ``rnncourse.tbptt.train_tbptt`` (Adagrad, lr 0.1) on the same number of
passes over the same amount of data, then measures the accuracy of an untruncated forward pass
on fresh sequences.  Two sweeps share the delays and seeds:

* fixed window k = 8, shifts s in {2, 4, 8};
* fixed shift s = 2, windows k in {3, 5, 8}.

    python -m rnncourse.experiments.tbptt_reach            # writes runs/tbptt_reach.json (or $RNNCOURSE_RUNS/...)
    python -m rnncourse.experiments.tbptt_reach --smoke    # a tiny run, seconds
    python -m rnncourse.experiments.tbptt_reach --out results/tbptt_reach.json   # remakes the committed results
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from rnncourse import bptt
from rnncourse.charlm import Adagrad
from rnncourse.experiments import default_out
from rnncourse.tbptt import accuracy, delay_task, train_tbptt

FIXED_WINDOW = [(8, 2), (8, 4), (8, 8)]
FIXED_SHIFT = [(3, 2), (5, 2), (8, 2)]


def learn(delay: int, window: int, shift: int, seed: int, passes: int = 12, batch: int = 16,
          length: int = 400, hidden: int = 16) -> tuple[float, int]:
    """Train one model; returns (test accuracy, number of time steps backpropagated)."""
    rng = np.random.default_rng(seed)
    model = bptt.init_params(2, hidden, 2, rng, scale=0.3)
    opt = Adagrad(0.1)
    for _ in range(passes):
        xs, ys = delay_task(batch, length, delay, rng)
        train_tbptt(model, xs, ys, window, shift, optimizer=opt)
    xs, ys = delay_task(64, 300, delay, np.random.default_rng(seed + 1000))
    backpropagated = passes * sum(min(window, end) for end in range(shift, length + 1, shift))
    return accuracy(model, xs, ys, skip=delay), backpropagated


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delays", type=int, nargs="+", default=list(range(2, 10)))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--passes", type=int, default=12, help="passes over a fresh (16 x 400) stream")
    parser.add_argument("--out", type=Path, default=default_out("tbptt_reach"),
                        help="results file (default: $RNNCOURSE_RUNS/tbptt_reach.json, else "
                             "runs/tbptt_reach.json in the current folder)")
    parser.add_argument("--smoke", action="store_true", help="a tiny run: delays 1 and 2, seed 0, 1 pass")
    args = parser.parse_args(argv)
    if args.smoke:
        args.delays, args.seeds, args.passes = [1, 2], args.seeds[:1], 1
    threadpool_limits(1)
    started = time.perf_counter()
    runs = []
    for window, shift in FIXED_WINDOW + [c for c in FIXED_SHIFT if c not in FIXED_WINDOW]:
        for delay in args.delays:
            accs, cost = [], 0
            for seed in args.seeds:
                acc, cost = learn(delay, window, shift, seed, passes=args.passes)
                accs.append(acc)
            runs.append({"window": window, "shift": shift, "delay": delay, "accuracy": accs,
                         "steps_backpropagated": cost})
            print(f"k={window} s={shift} d={delay}: " + " ".join(f"{a:.3f}" for a in accs), flush=True)
    result = {
        "task": "y_t = x_{t-d}, random bits; 16-unit tanh RNN, Adagrad 0.1, truncated BPTT; "
                "accuracy of an untruncated forward pass on 64 fresh sequences of 300 steps",
        "command": ("python -m rnncourse.experiments.tbptt_reach " + " ".join(
            shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))).strip(),
        "seeds": args.seeds, "delays": args.delays, "passes": args.passes,
        "fixed_window": [list(c) for c in FIXED_WINDOW], "fixed_shift": [list(c) for c in FIXED_SHIFT],
        "runs": runs, "wall_s": time.perf_counter() - started, "threads": 1,
        "load_average_after": list(os.getloadavg()),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()
