"""What gradient clipping buys: a learning-rate sweep with and without clipping, several seeds.

A tanh RNN (32 units) learns "remember the first symbol" at lag 20 (``rnncourse.long_lag``)
with plain SGD for ``--steps`` steps, at every learning rate in ``--lrs``, once without
clipping and once clipping the global gradient norm at ``--clip``, with W_hh starting at
``1.5 Q`` (Q random orthogonal, where gradients can grow; ``--inits default`` keeps PyTorch's).
Within one seed both runs of a pair start from the same weights and see the same batches.
Each run records its loss curve, the gradient norm before clipping at every step, and on how
many steps clipping was active::

    python -m rnncourse.experiments.clipping                   # writes runs/clipping.json (or $RNNCOURSE_RUNS/...)
    python -m rnncourse.experiments.clipping --out results/clipping.json   # the file chapter 4 renders
    python -m rnncourse.experiments.clipping --smoke           # a tiny run, seconds
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from rnncourse.device import describe
from rnncourse.experiments import committed_results, default_out, write_results
from rnncourse.gradient_flow import scaled_orthogonal
from rnncourse.long_lag import SequenceClassifier, first_symbol_batch

COMMITTED = committed_results("clipping")
INITS = ("default", "orthogonal_1.5")
DIVERGED = 1e3  # a loss above this (or not finite) ends a run


def sgd_run(lr: float, clip: float | None, seed: int, init: str = "default", steps: int = 300, lag: int = 20,
            hidden: int = 32, batch: int = 64) -> dict:
    """Train one tanh ``SequenceClassifier`` with SGD; ``clip=None`` means no clipping.

    Returns plain lists: ``loss`` (per step), ``grad_norm`` (global norm before clipping, per step),
    and ``clipped_steps`` (how often the norm exceeded ``clip``), ``diverged_at`` (step or None),
    ``final_loss`` (mean of the last 50 losses, None if diverged).
    """
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    if not lr > 0 or steps < 1:
        raise ValueError(f"lr and steps must be positive, got {lr} and {steps}")
    torch.manual_seed(seed)
    batches = torch.Generator().manual_seed(seed)
    model = SequenceClassifier("rnn", 8, hidden, 4)
    if init == "orthogonal_1.5":
        with torch.no_grad():
            model.rnn.weight_hh_l0.copy_(torch.from_numpy(scaled_orthogonal(hidden, 1.5, seed)))
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    losses, norms, clipped, diverged_at = [], [], 0, None
    for step in range(1, steps + 1):
        x, y = first_symbol_batch(batch, lag, 4, batches)
        loss = nn.functional.cross_entropy(model(x), y)
        if not math.isfinite(loss.item()) or loss.item() > DIVERGED:
            diverged_at = step
            break
        opt.zero_grad()
        loss.backward()
        norm = nn.utils.clip_grad_norm_(model.parameters(), clip if clip else float("inf")).item()
        clipped += bool(clip and norm > clip)
        opt.step()
        losses.append(loss.item())
        norms.append(norm if math.isfinite(norm) else None)
    tail = losses[-50:]
    return {"lr": lr, "clip": clip, "seed": seed, "init": init, "loss": losses, "grad_norm": norms,
            "clipped_steps": clipped, "diverged_at": diverged_at,
            "final_loss": None if diverged_at else float(np.mean(tail))}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lrs", type=float, nargs="+", default=[0.1, 0.3, 1.0, 3.0])
    parser.add_argument("--clip", type=float, default=1.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--inits", nargs="+", default=["orthogonal_1.5"], choices=INITS)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=default_out("clipping"),
                        help="results file (default: $RNNCOURSE_RUNS/clipping.json, else runs/clipping.json in the current folder)")
    parser.add_argument("--smoke", action="store_true", help="a tiny run: 3 steps per run")
    args = parser.parse_args(argv)
    if args.smoke:
        args.steps = 3
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    runs = []
    for init in args.inits:
        for lr in args.lrs:
            for seed in args.seeds:
                for clip in (None, args.clip):
                    r = sgd_run(lr, clip, seed, init, args.steps)
                    runs.append(r)
                    print(f"{init:15s} lr {lr:6g} clip {str(clip):5s} seed {seed}: final loss {r['final_loss']}, "
                          f"diverged at {r['diverged_at']}, clipped on {r['clipped_steps']} steps", flush=True)
    results = {
        "task": "remember the first symbol, lag 20, 4 answers (chance loss ln 4); tanh RNN, 32 units, SGD, batch 64",
        "command": "python -m rnncourse.experiments.clipping " + " ".join(argv if argv is not None else sys.argv[1:]),
        "device": describe(torch.device("cpu")),
        "settings": {"lrs": args.lrs, "clip": args.clip, "seeds": args.seeds, "inits": args.inits,
                     "steps": args.steps, "diverged_if_loss_above": DIVERGED},
        "seconds": time.perf_counter() - start,
        "runs": runs,
    }
    write_results(args.out, results)
    return results


if __name__ == "__main__":
    main()
