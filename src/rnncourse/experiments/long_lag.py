"""Long-lag experiment: a tanh RNN, an LSTM and a GRU on "remember the first symbol".

Every model is trained at every lag with the same budget (Adam, global-norm clipping
at 1, at most ``--steps`` steps, stopping early once held-out accuracy reaches
``--stop-at``) and the results are written to one JSON file that chapters 4 and 5 render::

    python -m rnncourse.experiments.long_lag                      # the committed results
    python -m rnncourse.experiments.long_lag --lags 5 --steps 20 --out /tmp/tiny.json

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
from rnncourse.long_lag import train_first_symbol

MODELS = {  # name -> (kind, keep_bias)
    "rnn": ("rnn", 0.0),
    "lstm": ("lstm", 0.0),
    "lstm_keep": ("lstm", 3.0),
    "gru": ("gru", 0.0),
    "gru_keep": ("gru", 3.0),
}
DEFAULT_RESULTS = Path(__file__).resolve().parents[3] / "results" / "long_lag.json"


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
    parser.add_argument("--out", type=Path, default=DEFAULT_RESULTS)
    args = parser.parse_args(argv)

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
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    return results


if __name__ == "__main__":
    main()
