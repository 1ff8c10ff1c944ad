"""Teacher forcing vs scheduled sampling vs free-running training (``rnncourse.exposure_bias``).

Every mode trains the same output-recurrent model with the same data, number of updates and
optimizer, once per seed; each model is then evaluated twice on the same fresh sequences,
with the true previous symbol (teacher forced) and with its own (free running).  The exact
Bayes filter on the same sequences gives the best any causal predictor can do::

    python -m rnncourse.experiments.exposure_bias            # writes runs/exposure_bias.json (or $RNNCOURSE_RUNS/...)
    python -m rnncourse.experiments.exposure_bias --smoke    # a tiny run, seconds
    python -m rnncourse.experiments.exposure_bias --out results/exposure_bias.json   # remakes the committed results
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path

import torch

from rnncourse.experiments import default_out
from rnncourse.exposure_bias import MODES, accuracy_per_step, bayes_filter, resync_task, train


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--updates", type=int, default=600, help="Adam updates of 64 sequences each")
    parser.add_argument("--steps", type=int, default=40, help="sequence length")
    parser.add_argument("--test", type=int, default=2000, help="test sequences")
    parser.add_argument("--out", type=Path, default=default_out("exposure_bias"),
                        help="results file (default: $RNNCOURSE_RUNS/exposure_bias.json, else "
                             "runs/exposure_bias.json in the current folder)")
    parser.add_argument("--smoke", action="store_true",
                        help="a tiny run: seed 0, 3 updates, sequences of 6 steps, 20 test sequences")
    args = parser.parse_args(argv)
    if args.smoke:
        args.seeds, args.updates, args.steps, args.test = args.seeds[:1], min(args.updates, 3), min(args.steps, 6), min(args.test, 20)
    torch.set_num_threads(1)
    started = time.perf_counter()
    test = resync_task(args.test, args.steps, torch.Generator().manual_seed(12345))
    result = {
        "task": "running sum mod 5; increments seen with 10% noise, the true sum as a hint with 30% noise",
        "command": ("python -m rnncourse.experiments.exposure_bias " + " ".join(
            shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))).strip(),
        "seeds": args.seeds, "updates": args.updates, "batch": 64, "steps": args.steps, "hidden": 32,
        "optimizer": "Adam, lr 0.01", "test_sequences": args.test,
        "bayes_filter": bayes_filter(*test).tolist(),
        "runs": {mode: [] for mode in MODES},
    }
    for mode in MODES:
        for seed in args.seeds:
            t0 = time.perf_counter()
            model = train(mode, updates=args.updates, steps=args.steps, seed=seed)
            run = {"seed": seed, "train_s": time.perf_counter() - t0,
                   "teacher_forced": accuracy_per_step(model, *test, teacher=True).tolist(),
                   "free_running": accuracy_per_step(model, *test, teacher=False).tolist()}
            result["runs"][mode].append(run)
            mean = lambda v: sum(v) / len(v)
            print(f"{mode:9s} seed {seed}: teacher forced {mean(run['teacher_forced']):.3f}, "
                  f"free running {mean(run['free_running']):.3f} ({run['train_s']:.0f} s)", flush=True)
    result["wall_s"] = time.perf_counter() - started
    result["load_average_after"] = list(os.getloadavg())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()
