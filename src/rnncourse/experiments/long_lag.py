"""Long-lag experiment: a tanh RNN, an LSTM and a GRU on "remember the first symbol".

Every model is trained at every lag with the same budget (Adam, global-norm clipping
at 1, at most ``--steps`` steps, stopping early once held-out accuracy reaches
``--stop-at``) and the results are written to one JSON file; chapters 4 and 5 render the
committed copy, ``results/long_lag.json``::

    python -m rnncourse.experiments.long_lag                      # writes runs/long_lag.json (or $RNNCOURSE_RUNS/...)
    python -m rnncourse.experiments.long_lag --out results/long_lag.json   # remake the committed file
    python -m rnncourse.experiments.long_lag --models gru --out results/long_lag.json --merge
    python -m rnncourse.experiments.long_lag --smoke               # a tiny run, seconds

Models (``--models``): ``rnn`` (tanh), ``lstm`` and ``gru`` with PyTorch's default
initialisation, and ``lstm_keep`` / ``gru_keep`` whose forget gate (LSTM) or update
gate (GRU) bias starts at +3, so that the gate keeps the state by default.  Every
(model, lag) pair is trained once per seed in ``--seeds``.
Each run records the learning curve and ||dL/dh_t|| over t before and after training.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import torch

from rnncourse.device import default_device, describe
from rnncourse.experiments import committed_results, default_out, merge_runs
from rnncourse.long_lag import train_first_symbol

MODELS = {  # name -> (kind, keep_bias)
    "rnn": ("rnn", 0.0),
    "lstm": ("lstm", 0.0),
    "lstm_keep": ("lstm", 3.0),
    "gru": ("gru", 0.0),
    "gru_keep": ("gru", 3.0),
}
COMMITTED = committed_results("long_lag")  # what the book renders; written only with --out results/long_lag.json


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lags", type=int, nargs="+", default=[10, 20, 40, 80], help="sequence lengths")
    parser.add_argument("--models", nargs="+", default=["rnn", "lstm", "lstm_keep", "gru_keep"], choices=list(MODELS))
    parser.add_argument("--steps", type=int, default=2000, help="largest number of Adam steps per run")
    parser.add_argument("--stop-at", type=float, default=0.99, help="stop a run once held-out accuracy reaches this")
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="one run per seed")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--device", default=None, help="cpu, cuda, ... (default: rnncourse.device.default_device)")
    parser.add_argument("--out", type=Path, default=default_out("long_lag"),
                        help="results file (default: $RNNCOURSE_RUNS/long_lag.json, else runs/long_lag.json in the current folder)")
    parser.add_argument("--merge", action="store_true",
                        help="keep the runs already in --out, replacing those with the same model, lag and seed")
    parser.add_argument("--smoke", action="store_true", help="a tiny run: lags of at most 5, 3 steps, 8 units")
    args = parser.parse_args(argv)
    if args.smoke:
        args.lags = sorted({min(lag, 5) for lag in args.lags})
        args.steps, args.hidden = 3, 8

    torch.set_num_threads(args.threads)
    device = default_device(args.device)
    results = {
        "task": "remember the first symbol: 4 answer symbols at step 1, then random symbols from 4 distractors",
        "command": ("python -m rnncourse.experiments.long_lag " + " ".join(
            shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))).strip(),
        "device": describe(device),
        "settings": {"steps": args.steps, "hidden": args.hidden, "lr": args.lr, "batch": 64, "clip": 1.0,
                     "seeds": args.seeds, "stop_at": args.stop_at,
                     "success": "held-out accuracy >= 0.95"},
        "runs": [],
    }
    start = time.perf_counter()
    for name in args.models:
        kind, keep_bias = MODELS[name]
        for lag in args.lags:
            for seed in args.seeds:
                run = train_first_symbol(kind, lag, hidden_size=args.hidden, keep_bias=keep_bias, steps=args.steps,
                                         lr=args.lr, seed=seed, device=device,
                                         eval_every=max(1, args.steps // 40), stop_at=args.stop_at)
                run.update(model=name, seed=seed)
                results["runs"].append(run)
                print(f"{name:10s} lag {lag:4d} seed {seed}: accuracy {run['accuracy'][-1]:.3f} "
                      f"after {run['step'][-1]} steps, solved={run['solved']} ({run['seconds']:.1f} s)", flush=True)
    results["seconds"] = time.perf_counter() - start
    if args.merge:
        results = merge_runs(args.out, results, ("model", "length", "seed"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.out}")
    return results


if __name__ == "__main__":
    main()
