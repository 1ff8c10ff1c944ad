"""Dead ReLU units in the IRNN on pixel sequences: input scaling against learning rate.

A hidden unit is *dead* on a data set when its state is zero at every step of every
sequence: it then passes no gradient, and only the changing states of other units that
feed it can bring it back (chapter 6).  For each input scaling
(raw pixels in [0, 1], or standardised) and each learning rate, the IRNN is trained
for a few hundred Adam steps on the 64-step digits, and the command records the
fraction of dead units at initialization and after training, and the test accuracy,
for several seeds::

    python -m rnncourse.experiments.dead_units          # writes runs/pixel_dead_units.json (or $RNNCOURSE_RUNS/...)
    python -m rnncourse.experiments.dead_units --smoke  # a tiny run, seconds
    python -m rnncourse.experiments.dead_units --out FILE --steps 20 --lrs 1e-3 --seeds 0
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import torch

from rnncourse.experiments import default_output
from rnncourse.experiments.pixel_mnist import batch_indices, evaluate, train_step
from rnncourse.pixel_data import load_pixel_task
from rnncourse.pixel_models import make_model


@torch.inference_mode()
def dead_fraction(model, x: torch.Tensor) -> float:
    """Fraction of hidden units whose state is 0 at every step of every sequence of ``x: (n, time, 1)``."""
    return (model.states(x).amax(dim=(0, 1)) == 0).float().mean().item()


def one_run(task, lr: float, seed: int, steps: int, batch_size: int = 64, clip: float = 1.0) -> dict:
    """Train the IRNN on ``task`` and return its dead fractions (init, end) and test accuracy."""
    model = make_model("irnn", seed=seed)
    dead_init = dead_fraction(model, task.x_test)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for step in range(steps):
        idx = batch_indices(step, len(task.x_train), batch_size, seed=seed)
        train_step(model, optimizer, task.x_train[idx], task.y_train[idx], clip=clip)
    return {"lr": lr, "seed": seed, "dead_at_init": dead_init, "dead_after": dead_fraction(model, task.x_test),
            "test_accuracy": evaluate(model, task.x_test, task.y_test)}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(prog="python -m rnncourse.experiments.dead_units", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=None, help="results JSON (default $RNNCOURSE_RUNS/pixel_dead_units.json, "
                                               "else runs/pixel_dead_units.json in the current folder)")
    p.add_argument("--lrs", nargs="+", type=float, default=[1e-4, 1e-3, 3e-3])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--smoke", action="store_true", help="a tiny run: 2 steps, the first learning rate and seed")
    args = p.parse_args(argv)
    if args.smoke:
        args.steps, args.lrs, args.seeds = 2, args.lrs[:1], args.seeds[:1]
    torch.set_num_threads(args.threads)
    out = Path(args.out) if args.out else default_output("pixel_dead_units.json")
    started = time.perf_counter()
    runs = []
    for standardize in (False, True):
        task = load_pixel_task("digits", standardize=standardize)
        for lr in args.lrs:
            for seed in args.seeds:
                record = {"inputs": "standardised" if standardize else "raw [0, 1]", **one_run(task, lr, seed, args.steps)}
                runs.append(record)
                print(f"{record['inputs']:13s} lr {lr:g} seed {seed}: dead {record['dead_at_init']:.2f} -> "
                      f"{record['dead_after']:.2f}, test accuracy {record['test_accuracy']:.3f}", flush=True)
    result = {"command": "python -m rnncourse.experiments.dead_units " + " ".join(
                  shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv)),
              "model": "irnn", "dataset": "digits", "steps": args.steps, "batch_size": 64, "optimizer": "adam",
              "clip_grad_norm": 1.0, "hidden_size": 100, "torch_version": torch.__version__,
              "wall_time_s": round(time.perf_counter() - started, 1), "runs": runs}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {out}")
    return result


if __name__ == "__main__":
    main()
