"""What gradient clipping buys, and what it does not: learning-rate sweeps with and without clipping.

A tanh RNN (32 units) learns "remember the first symbol" at lag ``--lag`` (``rnncourse.long_lag``)
with plain SGD (or ``--optimizer adam``) for ``--steps`` steps, at every learning rate in ``--lrs``,
with W_hh starting at ``1.5 Q`` (Q random orthogonal, where gradients can grow; ``--inits default``
keeps PyTorch's).  Every (learning rate, seed) is trained in up to three *arms*:

- ``none``: no clipping, constant learning rate;
- ``clip``: the global gradient norm clipped at ``--clip``, constant learning rate;
- ``warmup``: no clipping, the learning rate raised linearly from ``lr / W`` to ``lr`` over the
  first ``W = --warmup`` steps (``--warmup 0`` leaves this arm out).  It is the control that
  separates what clipping does on a rare large gradient from what any smaller early step does.

Within one seed every arm starts from the same weights and sees the same batches.  Each run
records its loss curve, the gradient norm before clipping at every step, on how many steps clipping
was active, and every ``--probe-every`` steps the held-out accuracy and the share of the gradient
that reaches the first symbol, ||dL/dh_1|| / ||dL/dh_T|| on a fixed probe batch::

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
from rnncourse.experiments import committed_results, default_out, merge_runs, write_results
from rnncourse.gradient_flow import scaled_orthogonal
from rnncourse.long_lag import SequenceClassifier, accuracy, first_symbol_batch, hidden_gradient_norms

COMMITTED = committed_results("clipping")
COMMITTED_LAG50 = committed_results("clipping_lag50")
INITS = ("default", "orthogonal_1.5")
OPTIMIZERS = ("sgd", "adam")
DIVERGED = 1e3  # a loss above this (or not finite) ends a run
KEY = ("optimizer", "lr", "clip", "warmup", "seed", "init", "lag")  # what names a run when results are merged


def _short(value: float) -> float:
    """Six significant digits: the curves are plotted, not recomputed, and the files stay small."""
    return float(f"{value:.6g}")


def arm(run: dict) -> str:
    """The arm of a run: ``"clip"``, ``"warmup"`` (no clipping, lr warm-up) or ``"none"``."""
    if run.get("clip"):
        return "clip"
    return "warmup" if run.get("warmup") else "none"


def sgd_run(lr: float, clip: float | None, seed: int, init: str = "default", steps: int = 300, lag: int = 20,
            hidden: int = 32, batch: int = 64, warmup: int = 0, optimizer: str = "sgd",
            probe_every: int = 0) -> dict:
    """Train one tanh ``SequenceClassifier``; ``clip=None`` means no clipping.

    ``warmup``: the learning rate at step s is ``lr * min(1, s / warmup)`` (0: constant).
    ``optimizer``: ``"sgd"`` (plain) or ``"adam"``.  ``probe_every`` > 0: every that many steps
    and after the last one, record the held-out accuracy (512 sequences) and
    ``share = ||dL/dh_1|| / ||dL/dh_T||`` on 128 fixed sequences (``long_lag.hidden_gradient_norms``);
    the probes use their own random numbers, so they do not change the training run.

    Returns plain lists: ``loss`` (per step), ``grad_norm`` (global norm before clipping, per step),
    ``probe`` (``step``, ``accuracy``, ``share``), and ``clipped_steps`` (how often the norm
    exceeded ``clip``), ``diverged_at`` (step or None), ``final_loss`` (mean of the last 50 losses,
    None if diverged).
    """
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    if not lr > 0 or steps < 1:
        raise ValueError(f"lr and steps must be positive, got {lr} and {steps}")
    if warmup < 0 or probe_every < 0:
        raise ValueError(f"warmup and probe_every must be >= 0 steps, got {warmup} and {probe_every}")
    torch.manual_seed(seed)
    batches = torch.Generator().manual_seed(seed)
    model = SequenceClassifier("rnn", 8, hidden, 4)
    if init == "orthogonal_1.5":
        with torch.no_grad():
            model.rnn.weight_hh_l0.copy_(torch.from_numpy(scaled_orthogonal(hidden, 1.5, seed)))
    opt = (torch.optim.SGD if optimizer == "sgd" else torch.optim.Adam)(model.parameters(), lr=lr)
    x_eval, y_eval = first_symbol_batch(512, lag, 4, torch.Generator().manual_seed(10_000 + seed))
    probe = {"step": [], "accuracy": [], "share": []}

    def look(step: int) -> None:
        norms = hidden_gradient_norms(model, x_eval[:128], y_eval[:128])
        model.zero_grad()
        probe["step"].append(step)
        probe["accuracy"].append(accuracy(model, x_eval, y_eval))
        probe["share"].append(float(norms[0] / norms[-1]) if norms[-1] > 0 and math.isfinite(norms[0]) else None)

    losses, norms, clipped, diverged_at = [], [], 0, None
    if probe_every:
        look(0)
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
        if warmup:
            opt.param_groups[0]["lr"] = lr * min(1.0, step / warmup)
        opt.step()
        losses.append(_short(loss.item()))
        norms.append(_short(norm) if math.isfinite(norm) else None)
        if probe_every and (step % probe_every == 0 or step == steps):
            look(step)
    tail = losses[-50:]
    return {"lr": lr, "clip": clip, "warmup": warmup, "optimizer": optimizer, "seed": seed, "init": init,
            "lag": lag, "loss": losses, "grad_norm": norms, "probe": probe,
            "clipped_steps": clipped, "diverged_at": diverged_at,
            "final_loss": None if diverged_at else float(np.mean(tail))}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lrs", type=float, nargs="+", default=[0.1, 0.3, 1.0, 3.0])
    parser.add_argument("--clip", type=float, default=1.0)
    parser.add_argument("--warmup", type=int, default=50,
                        help="steps of linear lr warm-up in the unclipped control arm (0: no such arm)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--inits", nargs="+", default=["orthogonal_1.5"], choices=INITS)
    parser.add_argument("--optimizer", default="sgd", choices=OPTIMIZERS)
    parser.add_argument("--lag", type=int, default=20)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--probe-every", type=int, default=25,
                        help="record held-out accuracy and the gradient share reaching step 1 this often (0: never)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=default_out("clipping"),
                        help="results file (default: $RNNCOURSE_RUNS/clipping.json, else runs/clipping.json in the current folder)")
    parser.add_argument("--merge", action="store_true",
                        help="keep the runs already in --out, replacing only those with the same settings and seed")
    parser.add_argument("--smoke", action="store_true", help="a tiny run: 3 steps per run")
    args = parser.parse_args(argv)
    if args.smoke:
        args.steps, args.probe_every = 3, min(args.probe_every, 3)
    if args.clip <= 0 or args.lag < 2:
        parser.error(f"--clip must be positive and --lag at least 2, got {args.clip} and {args.lag}")
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    arms = [(None, 0), (args.clip, 0)] + ([(None, args.warmup)] if args.warmup else [])
    runs = []
    for init in args.inits:
        for lr in args.lrs:
            for seed in args.seeds:
                for clip, warmup in arms:
                    r = sgd_run(lr, clip, seed, init, args.steps, args.lag, warmup=warmup, optimizer=args.optimizer,
                                probe_every=args.probe_every)
                    runs.append(r)
                    acc = r["probe"]["accuracy"][-1] if r["probe"]["accuracy"] else None
                    print(f"{init:15s} lr {lr:6g} {arm(r):6s} seed {seed}: final loss {r['final_loss']}, "
                          f"accuracy {acc}, diverged at {r['diverged_at']}, clipped on {r['clipped_steps']} steps",
                          flush=True)
    results = {
        "task": f"remember the first symbol, lag {args.lag}, 4 answers (chance loss ln 4); tanh RNN, 32 units, "
                f"{args.optimizer}, batch 64",
        "command": "python -m rnncourse.experiments.clipping " + " ".join(argv if argv is not None else sys.argv[1:]),
        "device": describe(torch.device("cpu")),
        "settings": {"lrs": args.lrs, "clip": args.clip, "warmup": args.warmup, "seeds": args.seeds,
                     "inits": args.inits, "optimizer": args.optimizer, "lag": args.lag, "steps": args.steps,
                     "probe_every": args.probe_every, "diverged_if_loss_above": DIVERGED},
        "seconds": time.perf_counter() - start,
        "runs": runs,
    }
    if args.merge:
        results = merge_runs(args.out, results, KEY)
    write_results(args.out, results)
    return results


if __name__ == "__main__":
    main()
