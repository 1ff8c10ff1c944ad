"""How far back can truncated BPTT learn?  Window k and shift s varied separately, several seeds.

Task: y_t = x_{t-d} for random bits (``rnncourse.tbptt.delay_task``).  Every run trains a
16-unit tanh RNN with ``rnncourse.tbptt.train_tbptt`` (Adagrad, lr 0.1) on the same number of
passes over the same amount of data, then measures the accuracy of an untruncated forward pass
on fresh sequences.  Two sweeps share the delays and seeds:

* fixed window k = 8, shifts s in {2, 4, 8};
* fixed shift s = 2, windows k in {3, 5, 8}.

A third sweep, ``correlated``, asks whether truncation also limits what a model can *use*.  At
k = s = 5 it trains on the same delay task with independent bits and with bits that repeat the
previous one with probability 0.9 (``tbptt.markov_delay_task``), so that the far bit x_{t-d}
correlates with the near ones.  For each model it reports the accuracy of an untruncated forward
pass, the accuracy when every input older than k steps is replaced by an unrelated sequence
(``tbptt.distant_context_accuracy``), and the best accuracy any predictor that sees only the
last k inputs can reach (``tbptt.best_accuracy_from_recent``).

    python -m rnncourse.experiments.tbptt_reach            # writes runs/tbptt_reach.json (or $RNNCOURSE_RUNS/...)
    python -m rnncourse.experiments.tbptt_reach --smoke    # a tiny run, seconds
    python -m rnncourse.experiments.tbptt_reach --out results/tbptt_reach.json   # remakes the committed results
    python -m rnncourse.experiments.tbptt_reach --sweeps correlated --out FILE   # one sweep; the file's other sweeps are kept
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
from rnncourse.tbptt import (accuracy, best_accuracy_from_recent, delay_task, distant_context_accuracy,
                             markov_delay_task, train_tbptt)

FIXED_WINDOW = [(8, 2), (8, 4), (8, 8)]
FIXED_SHIFT = [(3, 2), (5, 2), (8, 2)]
CORRELATED = {"window": 5, "shift": 5, "stays": [0.5, 0.9], "delays": list(range(2, 13))}
SWEEPS = ("reach", "correlated")


def learn(delay: int, window: int, shift: int, seed: int, passes: int = 12, batch: int = 16,
          length: int = 400, hidden: int = 16, stay: float | None = None, details: bool = False):
    """Train one model; returns (test accuracy, number of time steps backpropagated).

    stay=None: independent bits (``delay_task``); a number: ``markov_delay_task`` with that ``stay``.
    details=True adds a third item: a dict with the accuracy when inputs older than ``window``
    steps are replaced, and the best accuracy possible from the last ``window`` inputs alone.
    """
    def task(b, n, r):
        return delay_task(b, n, delay, r) if stay is None else markov_delay_task(b, n, delay, r, stay)

    rng = np.random.default_rng(seed)
    model = bptt.init_params(2, hidden, 2, rng, scale=0.3)
    opt = Adagrad(0.1)
    for _ in range(passes):
        xs, ys = task(batch, length, rng)
        train_tbptt(model, xs, ys, window, shift, optimizer=opt)
    xs, ys = task(64, 300, np.random.default_rng(seed + 1000))
    backpropagated = passes * sum(min(window, end) for end in range(shift, length + 1, shift))
    acc = accuracy(model, xs, ys, skip=delay)
    if not details:
        return acc, backpropagated
    extra = {"distant_replaced": distant_context_accuracy(model, xs, ys, window, range(60, 300, 20)),
             "best_from_window": best_accuracy_from_recent(delay, window, 0.5 if stay is None else stay)}
    return acc, backpropagated, extra


def correlated_sweep(delays, seeds, passes, window=CORRELATED["window"], shift=CORRELATED["shift"],
                     stays=CORRELATED["stays"]) -> list[dict]:
    """Independent (stay 0.5) and correlated bits at one window: accuracy, distant inputs replaced, bound."""
    runs = []
    for stay in stays:
        for delay in delays:
            accs, replaced, bound = [], [], None
            for seed in seeds:
                acc, _, extra = learn(delay, window, shift, seed, passes=passes, stay=stay, details=True)
                accs.append(acc)
                replaced.append(extra["distant_replaced"])
                bound = extra["best_from_window"]
            runs.append({"stay": stay, "delay": delay, "accuracy": accs, "distant_replaced": replaced,
                         "best_from_window": bound})
            print(f"stay={stay} k={window} s={shift} d={delay}: " + " ".join(f"{a:.3f}" for a in accs)
                  + "  replaced: " + " ".join(f"{a:.3f}" for a in replaced) + f"  bound {bound:.3f}", flush=True)
    return runs


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delays", type=int, nargs="+", default=list(range(2, 10)))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--passes", type=int, default=12, help="passes over a fresh (16 x 400) stream")
    parser.add_argument("--out", type=Path, default=default_out("tbptt_reach"),
                        help="results file (default: $RNNCOURSE_RUNS/tbptt_reach.json, else "
                             "runs/tbptt_reach.json in the current folder)")
    parser.add_argument("--corr-delays", type=int, nargs="+", default=CORRELATED["delays"],
                        help="delays of the correlated sweep")
    parser.add_argument("--sweeps", nargs="+", choices=SWEEPS, default=list(SWEEPS),
                        help="which sweeps to run; with an existing --out file, the others are kept from it")
    parser.add_argument("--smoke", action="store_true", help="a tiny run: delays 1 and 2, seed 0, 1 pass")
    args = parser.parse_args(argv)
    if args.smoke:
        args.delays, args.seeds, args.passes = [1, 2], args.seeds[:1], 1
        args.corr_delays = [4, 6]
    threadpool_limits(1)
    command = ("python -m rnncourse.experiments.tbptt_reach " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))).strip()
    started = time.perf_counter()
    previous = json.loads(args.out.read_text()) if args.out.exists() else {}
    correlated = previous.get("correlated")
    if "correlated" in args.sweeps:
        runs = correlated_sweep(args.corr_delays, args.seeds, args.passes)
        correlated = {"window": CORRELATED["window"], "shift": CORRELATED["shift"], "stays": CORRELATED["stays"],
                      "delays": args.corr_delays, "seeds": args.seeds, "passes": args.passes,
                      "replaced_positions": list(range(60, 300, 20)), "runs": runs, "command": command,
                      "wall_s": time.perf_counter() - started, "load_average_after": list(os.getloadavg())}
    if "reach" not in args.sweeps:
        if not previous.get("runs"):
            parser.error(f"--sweeps without 'reach' needs an existing --out file that holds the reach sweep")
        result = dict(previous, correlated=correlated)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n")
        return result
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
        "command": command,
        "seeds": args.seeds, "delays": args.delays, "passes": args.passes,
        "fixed_window": [list(c) for c in FIXED_WINDOW], "fixed_shift": [list(c) for c in FIXED_SHIFT],
        "runs": runs, "wall_s": time.perf_counter() - started, "threads": 1,
        "load_average_after": list(os.getloadavg()),
    }
    if correlated is not None:
        result["correlated"] = correlated
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()
