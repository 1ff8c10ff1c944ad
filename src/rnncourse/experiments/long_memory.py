"""Long memory: LRU and minGRU (trained by a parallel scan) vs IRNN and LSTM on the adding problem.

    python -m rnncourse.experiments.long_memory                 # writes runs/long_memory.json (or $RNNCOURSE_RUNS/...)
    python -m rnncourse.experiments.long_memory --smoke         # a tiny run, seconds
    python -m rnncourse.experiments.long_memory --models lru --lengths 200 --out runs/lru200.json   # one share
    python -m rnncourse.experiments.long_memory --combine runs/lru200.json runs/lstm200.json --out runs/both.json

The task is chapter 7's adding problem at long lengths (default T = 200 and 500).  Every model
has the same budget: the same number of Adam steps on the same stream of training batches
(batches with the same seed are the same), the same hidden width, gradient clipping at norm 1.

* ``lru``: a per-step encoder ``Linear(2, H) + GELU``, one LRU layer (``H`` complex states,
  eigenvalue magnitudes on the ring ``[r_min, r_max]``, phases in ``[0, max_phase]``), GELU, a
  linear read-out of the last step.  The encoder is needed: a linear recurrence of the raw
  inputs cannot form the product of a value and its mark.
* ``mingru``: the same encoder, one minGRU layer of ``H`` units, the same read-out.
* ``irnn``, ``lstm``: chapter 7's models (``rnncourse.experiments.adding.make_model``).

Learning rates: each of ``--lrs`` is tried with the first seed; the rate with the lowest mean
validation MSE over the last evaluations is kept and the other seeds train with it (as in
``rnncourse.experiments.adding``).  The test set (fixed by the length) is used once per run.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import torch
from torch import nn

from rnncourse.adding_problem import BASELINE_MSE, adding_batch
from rnncourse.device import default_device, describe
from rnncourse.experiments import default_out, write_results
from rnncourse.experiments.adding import choose_lr, held_out_sets, make_model, test_mse
from rnncourse.lru import LRU
from rnncourse.mingru import MinGRU

MODELS = ("lru", "mingru", "irnn", "lstm")


class ScanRegressor(nn.Module):
    """Per-step encoder, one linear-recurrent layer (LRU or minGRU), read-out of the last step.
    x: (batch, time, 2) -> (batch,)."""

    def __init__(self, kind: str, hidden_size: int, r_min: float = 0.9, r_max: float = 0.999,
                 max_phase: float = math.pi / 10):
        super().__init__()
        self.encoder = nn.Linear(2, hidden_size)
        if kind == "lru":
            self.core = LRU(hidden_size, hidden_size, hidden_size, r_min, r_max, max_phase)
        elif kind == "mingru":
            self.core = MinGRU(hidden_size, hidden_size)
        else:
            raise ValueError(f"kind must be 'lru' or 'mingru', got {kind!r}")
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3 or x.shape[2] != 2:
            raise ValueError(f"x must have shape (batch, time, 2), got {tuple(x.shape)}")
        h = self.core(nn.functional.gelu(self.encoder(x)))
        return self.head(nn.functional.gelu(h[:, -1])).squeeze(-1)


def build(kind: str, hidden_size: int) -> nn.Module:
    """One of ``MODELS`` with ``hidden_size`` units (states) and input size 2."""
    if kind in ("lru", "mingru"):
        return ScanRegressor(kind, hidden_size)
    if kind in ("irnn", "lstm"):
        return make_model(kind, hidden_size)
    raise ValueError(f"model must be one of {MODELS}, got {kind!r}")


def train_one(kind: str, length: int, steps: int, seed: int, lr: float, hidden_size: int = 32,
              batch_size: int = 32, eval_every: int = 50, val_size: int = 500, test_size: int = 2000,
              device: torch.device | None = None) -> dict:
    """Train one model; return its validation curve, final validation and test MSE, times."""
    if steps < 1 or eval_every < 1:
        raise ValueError(f"steps and eval_every must be positive, got {steps} and {eval_every}")
    if not lr > 0:
        raise ValueError(f"lr must be a positive learning rate, got {lr}")
    device = device or default_device()
    torch.manual_seed(seed)
    model = build(kind, hidden_size).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    batches = torch.Generator().manual_seed(seed + 1)
    x_val, y_val, x_test, y_test = (t.to(device) for t in held_out_sets(length, val_size, test_size))
    steps_seen, val, diverged = [0], [test_mse(model, x_val, y_val)], False
    start, cpu = time.perf_counter(), time.process_time()
    for step in range(1, steps + 1):
        x, y = adding_batch(batch_size, length, batches)
        loss = ((model(x.to(device)) - y.to(device)) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if not math.isfinite(loss.item()):
            diverged = True
            break
        if step % eval_every == 0 or step == steps:
            steps_seen.append(step)
            val.append(test_mse(model, x_val, y_val))
            if not math.isfinite(val[-1]):
                diverged = True
                break
    final = None if diverged else test_mse(model, x_test, y_test)
    return {"model": kind, "length": length, "seed": seed, "lr": lr, "steps": steps_seen, "val_mse": val,
            "final_val_mse": None if diverged else val[-1], "final_test_mse": final, "diverged": diverged,
            "parameters": sum(p.numel() for p in model.parameters()),
            "wall_time_s": round(time.perf_counter() - start, 2), "cpu_time_s": round(time.process_time() - cpu, 2)}


def run(lengths=(200, 500), steps: int = 400, seeds=(0, 1, 2), models=MODELS, lrs=(1e-3, 3e-3),
        hidden_size: int = 32, batch_size: int = 32, eval_every: int = 50, val_size: int = 500,
        test_size: int = 2000, device: torch.device | None = None, log=None) -> dict:
    """Sweep ``lrs`` with the first seed, train the other seeds with the chosen rate; every model,
    every length.  Returns the JSON-ready results (every run, the sweep's included)."""
    for kind in models:
        if kind not in MODELS:
            raise ValueError(f"model must be one of {MODELS}, got {kind!r}")
    if not seeds or not lrs:
        raise ValueError(f"seeds and lrs need at least one value each, got {list(seeds)} and {list(lrs)}")
    device = device or default_device()
    load = [round(v, 2) for v in os.getloadavg()]
    start, runs, chosen = time.perf_counter(), [], {}
    window = 3

    def train(kind, length, seed, lr):
        r = train_one(kind, length, steps, seed, lr, hidden_size, batch_size, eval_every, val_size, test_size, device)
        runs.append(r)
        if log:
            log(f"T={length} {kind:6s} lr {lr:g} seed {seed}: val {r['final_val_mse']}, test {r['final_test_mse']} "
                f"({r['cpu_time_s']:.0f} s cpu)")
        return r

    for length in lengths:
        for kind in models:
            sweep = [train(kind, length, seeds[0], lr) for lr in lrs]
            chosen[f"{kind}/{length}"] = choose_lr(sweep, window)
            for seed in seeds[1:]:
                train(kind, length, seed, chosen[f"{kind}/{length}"])
    for r in runs:
        r["selected"] = r["lr"] == chosen[f"{r['model']}/{r['length']}"]
    return {"task": "adding problem (Le, Jaitly & Hinton 2015)", "baseline_mse": BASELINE_MSE,
            "config": {"lengths": list(lengths), "steps": steps, "seeds": list(seeds), "models": list(models),
                       "lrs": list(lrs), "hidden_size": hidden_size, "batch_size": batch_size,
                       "eval_every": eval_every, "val_size": val_size, "test_size": test_size,
                       "optimizer": "Adam", "clip_grad_norm": 1.0,
                       "lru": {"r_min": 0.9, "r_max": 0.999, "max_phase": "pi/10"}},
            "selection": {"criterion": f"lowest mean validation MSE over the last {window} evaluations of the "
                                       f"run with seed {seeds[0]}", "chosen_lr": chosen},
            "device": describe(device), "torch": torch.__version__, "python": platform.python_version(),
            "threads": torch.get_num_threads(), "load_average_at_start": load,
            "load_average_at_end": [round(v, 2) for v in os.getloadavg()],
            "wall_time_s": round(time.perf_counter() - start, 1),
            "cpu_time_s": round(sum(r["cpu_time_s"] for r in runs), 1), "runs": runs}


def combine(parts: list[dict]) -> dict:
    """One results file from several commands run side by side (each a share of the models and lengths):
    the runs and chosen learning rates of all, the commands, loads and times of each."""
    if not parts:
        raise ValueError("combine needs at least one results dict")
    for part in parts[1:]:
        for field in ("steps", "seeds", "lrs", "hidden_size", "batch_size", "eval_every", "val_size", "test_size"):
            if part["config"][field] != parts[0]["config"][field]:
                raise ValueError(f"the parts differ in {field}: {parts[0]['config'][field]} vs {part['config'][field]}")
    out = {k: v for k, v in parts[0].items() if k not in ("runs", "command")}
    out["config"] = dict(parts[0]["config"])
    out["config"]["lengths"] = sorted({t for p in parts for t in p["config"]["lengths"]})
    out["config"]["models"] = [m for m in MODELS if any(m in p["config"]["models"] for p in parts)]
    out["selection"] = {**parts[0]["selection"], "chosen_lr": {k: v for p in parts for k, v in p["selection"]["chosen_lr"].items()}}
    out["runs"] = [r for p in parts for r in p["runs"]]
    out["commands"] = [{"command": p.get("command"), "wall_time_s": p["wall_time_s"], "cpu_time_s": p["cpu_time_s"],
                        "load_average_at_start": p["load_average_at_start"],
                        "load_average_at_end": p["load_average_at_end"]} for p in parts]
    out["wall_time_s"] = max(p["wall_time_s"] for p in parts)
    out["cpu_time_s"] = round(sum(p["cpu_time_s"] for p in parts), 1)
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", type=int, nargs="+", default=[200, 500])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--lrs", type=float, nargs="+", default=[1e-3, 3e-3])
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--eval-every", type=int, default=50)
    parser.add_argument("--val-size", type=int, default=500)
    parser.add_argument("--test-size", type=int, default=2000)
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:0 (default: automatic)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--out", type=Path, default=default_out("long_memory"),
                        help="results file (default: $RNNCOURSE_RUNS/long_memory.json, else runs/long_memory.json)")
    parser.add_argument("--smoke", action="store_true", help="a tiny run: length 8, 3 steps, 4 units, two seeds")
    parser.add_argument("--combine", type=Path, nargs="+", default=None, metavar="JSON",
                        help="train nothing: write the results files of commands run side by side as one file to --out")
    args = parser.parse_args(argv)
    if args.combine:
        results = combine([json.loads(Path(f).read_text()) for f in args.combine])
        results["command"] = "python -m rnncourse.experiments.long_memory " + " ".join(
            argv if argv is not None else sys.argv[1:])
        write_results(args.out, results)
        return results
    if any(not lr > 0 for lr in args.lrs):
        parser.error(f"learning rates must be positive, got {args.lrs}")
    seeds, lrs = args.seeds, args.lrs
    if args.smoke:
        args.lengths, args.steps, args.hidden, args.eval_every = [8], 3, 4, 1
        args.val_size, args.test_size, seeds, lrs = 16, 16, seeds[:2], lrs[:2]
    if args.threads:
        torch.set_num_threads(args.threads)
    results = run(args.lengths, args.steps, seeds, args.models, lrs, args.hidden, args.batch, args.eval_every,
                  args.val_size, args.test_size, default_device(args.device), log=lambda s: print(s, flush=True))
    results["command"] = "python -m rnncourse.experiments.long_memory " + " ".join(
        argv if argv is not None else sys.argv[1:])
    write_results(args.out, results)
    return results


if __name__ == "__main__":
    main()
