"""The adding problem: IRNN vs tanh RNN vs ReLU RNN (Gaussian init) vs LSTM.

    python -m rnncourse.experiments.adding                      # writes runs/adding.json (or $RNNCOURSE_RUNS/...)
    python -m rnncourse.experiments.adding --lengths 100 --out results/adding.json --merge   # add to the book's file
    python -m rnncourse.experiments.adding --smoke              # a tiny run, seconds

Besides the paper's four models (``irnn``, ``tanh``, ``relu`` with W_hh ~ N(0, 0.001^2),
``lstm``), two tanh baselines that are not handicapped by a tiny W_hh: ``tanh_default``
(PyTorch's default weights, uniform on +-1/sqrt(H)) and ``tanh_orth`` (orthogonal W_hh).

Learning rates: for every model and length, each Adam learning rate of ``--lrs`` is tried
with the first seed of ``--seeds``; the rate whose run has the lowest mean *validation*
MSE over its last ``--select-window`` evaluations is kept, and the other seeds are
trained with it.  Runs with the same seed read the same stream of training batches;
every run of one length is scored on the same validation set (the learning curve) and,
once after its last step, on the same test set (``--test-size`` sequences, 10,000 as in
the paper), which plays no part in the choice.  Weights are drawn after
``torch.manual_seed(seed)``.  The results file holds every run (the sweep's included),
the choice and its scores, the full configuration and the machine's load.
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

from rnncourse.adding_problem import BASELINE_MSE, adding_batch, adding_dataset
from rnncourse.device import default_device, describe
from rnncourse.experiments import committed_results, default_out, merge_runs, write_results
from rnncourse.irnn import LastStepRegressor, gaussian_init_, identity_init_

MODELS = ("irnn", "tanh", "relu", "lstm", "tanh_default", "tanh_orth")
PAPER_MODELS = MODELS[:4]
COMMITTED = committed_results("adding")  # what the book renders; written only with --out results/adding.json


def make_model(kind: str, hidden_size: int, gaussian_std: float = 1e-3,
               forget_bias: float = 1.0) -> LastStepRegressor:
    """Build one of the four models compared in the paper (input size 2).

    ``irnn``: ReLU, ``W_hh = I``, zero biases.  ``tanh`` / ``relu``: ``W_hh`` drawn from
    N(0, gaussian_std**2), zero biases.  ``lstm``: PyTorch's default weights, zero biases
    except the forget gate's, set to ``forget_bias``.  ``tanh_default``: PyTorch's default
    W_hh (uniform on +-1/sqrt(H)), zero biases.  ``tanh_orth``: a random orthogonal W_hh
    (spectral radius 1), zero biases.  Input weights keep PyTorch's default.
    """
    if kind == "irnn":
        core = identity_init_(nn.RNN(2, hidden_size, nonlinearity="relu", batch_first=True))
    elif kind in ("tanh", "relu"):
        core = gaussian_init_(nn.RNN(2, hidden_size, nonlinearity=kind, batch_first=True),
                              gaussian_std)
    elif kind in ("tanh_default", "tanh_orth"):
        core = nn.RNN(2, hidden_size, nonlinearity="tanh", batch_first=True)
        with torch.no_grad():
            core.bias_ih_l0.zero_()
            core.bias_hh_l0.zero_()
            if kind == "tanh_orth":
                nn.init.orthogonal_(core.weight_hh_l0)
    elif kind == "lstm":
        core = nn.LSTM(2, hidden_size, batch_first=True)
        with torch.no_grad():
            core.bias_ih_l0.zero_()
            core.bias_hh_l0.zero_()
            core.bias_ih_l0[hidden_size:2 * hidden_size].fill_(forget_bias)  # gate order i, f, g, o
    else:
        raise ValueError(f"model must be one of {MODELS}, got {kind!r}")
    return LastStepRegressor(core, hidden_size)


@torch.no_grad()
def test_mse(model: nn.Module, x: torch.Tensor, y: torch.Tensor, chunk: int = 1000) -> float:
    """Mean squared error of ``model`` on ``x: (n, time, 2)``, ``y: (n,)``."""
    total = 0.0
    for i in range(0, len(y), chunk):
        total += float(((model(x[i:i + chunk]) - y[i:i + chunk]) ** 2).sum())
    return total / len(y)


def held_out_sets(length: int, val_size: int, test_size: int) -> tuple:
    """The validation and test sets of one length, ``(x_val, y_val, x_test, y_test)``.

    Both are fixed by the length alone, so every model, learning rate and seed is scored on the
    same sequences; they are drawn from other seeds than any training stream.
    """
    x_val, y_val = adding_dataset(val_size, length, seed=20_000 + length)
    x_test, y_test = adding_dataset(test_size, length, seed=30_000 + length)
    return x_val, y_val, x_test, y_test


def train_one(kind: str, length: int, steps: int, seed: int, hidden_size: int = 100,
              batch_size: int = 16, lr: float = 2e-3, clip: float = 1.0, eval_every: int = 100,
              test_size: int = 10_000, val_size: int = 1000, device: torch.device | None = None) -> dict:
    """Train one model on one sequence length; return its learning curve and final MSEs.

    The curve (``val_mse``) is measured on the validation set every ``eval_every`` steps;
    the test set is used once, after the last step (``final_test_mse``).
    """
    if steps < 1 or eval_every < 1:
        raise ValueError(f"steps and eval_every must be positive, got {steps} and {eval_every}")
    if not lr > 0:
        raise ValueError(f"lr must be a positive learning rate, got {lr}")
    device = device or default_device()
    torch.manual_seed(seed)
    model = make_model(kind, hidden_size).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    batches = torch.Generator().manual_seed(seed + 1)
    x_val, y_val, x_test, y_test = (t.to(device) for t in held_out_sets(length, val_size, test_size))

    curve_steps, curve_val, curve_train = [0], [test_mse(model, x_val, y_val)], [None]
    window, diverged = [], False
    start, cpu_start = time.perf_counter(), time.process_time()
    for step in range(1, steps + 1):
        x, y = adding_batch(batch_size, length, batches)
        loss = ((model(x.to(device)) - y.to(device)) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        window.append(loss.item())
        if not math.isfinite(window[-1]):
            diverged = True
            break
        if step % eval_every == 0 or step == steps:
            val = test_mse(model, x_val, y_val)
            if not math.isfinite(val):
                diverged = True
                break
            curve_steps.append(step)
            curve_train.append(sum(window) / len(window))
            curve_val.append(val)
            window = []
    wall = time.perf_counter() - start
    final = None if diverged else test_mse(model, x_test, y_test)
    if final is not None and not math.isfinite(final):
        final, diverged = None, True
    return {"model": kind, "length": length, "seed": seed, "lr": lr, "steps": curve_steps,
            "val_mse": curve_val, "train_mse": curve_train, "final_val_mse": None if diverged else curve_val[-1],
            "final_test_mse": final, "diverged": diverged, "wall_time_s": round(wall, 2),
            "cpu_time_s": round(time.process_time() - cpu_start, 2)}


def selection_score(run: dict, window: int = 5) -> float:
    """The sweep's criterion: mean validation MSE over the run's last ``window`` evaluations.

    A window rather than the last value, so that one spike (or one lucky dip) at the end of a
    curve does not decide; ``inf`` for a run that diverged.
    """
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    if run["diverged"]:
        return math.inf
    tail = run["val_mse"][1:][-window:] or run["val_mse"][-1:]
    return sum(tail) / len(tail)


def choose_lr(runs: list[dict], window: int = 5) -> float:
    """The learning rate of the run with the lowest :func:`selection_score` (ties: the smaller rate)."""
    if not runs:
        raise ValueError("choose_lr needs at least one run")
    return min(runs, key=lambda r: (selection_score(r, window), r["lr"]))["lr"]


def run(lengths=(50, 100), steps: int = 3000, seeds=(0, 1, 2), models=MODELS, lrs=(1e-3, 3e-3, 1e-2),
        hidden_size: int = 100, batch_size: int = 16, clip: float = 1.0, eval_every: int = 100,
        test_size: int = 10_000, val_size: int = 1000, select_window: int = 5,
        device: torch.device | None = None, log=None, partial=None) -> dict:
    """For every length and model: sweep ``lrs`` with the first seed, keep the learning rate whose
    validation MSE over the last ``select_window`` evaluations is lowest, and train the other seeds
    with it.  Returns the results as a JSON-ready dict (every run, the sweep's included).
    ``partial(results)``, if given, is called after every run with the results so far
    (``"complete": False``), so that a long run that is stopped keeps what it finished."""
    device = device or default_device()
    load = [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None
    for kind in models:
        if kind not in MODELS:
            raise ValueError(f"model must be one of {MODELS}, got {kind!r}")
    if not seeds or not lrs:
        raise ValueError(f"seeds and lrs need at least one value each, got {list(seeds)} and {list(lrs)}")
    start = time.perf_counter()
    runs, chosen, scores = [], {}, {}

    def train(kind, length, seed, lr):
        result = train_one(kind, length, steps, seed, hidden_size, batch_size, lr, clip, eval_every,
                           test_size, val_size, device)
        runs.append(result)
        if partial:
            partial(summary(complete=False))
        if log:
            log(f"T={length:4d} {kind:12s} lr {lr:g} seed {seed}: final validation MSE {result['final_val_mse']}, "
                f"test MSE {result['final_test_mse']} ({result['wall_time_s']:.1f} s)")
        return result

    def summary(complete: bool) -> dict:
        for r in runs:
            key = f"{r['model']}/{r['length']}"
            r["selected"] = key in chosen and r["lr"] == chosen[key]
        return {
            "task": "adding problem of Le, Jaitly & Hinton (2015): two channels, values U[0,1], "
                    "one mark in each half, target = sum of the two marked values",
            "baseline_mse": BASELINE_MSE,
            "config": {"lengths": list(lengths), "steps": steps, "seeds": list(seeds), "models": list(models),
                       "lrs": list(lrs), "hidden_size": hidden_size, "batch_size": batch_size, "optimizer": "Adam",
                       "clip_grad_norm": clip, "eval_every": eval_every, "val_size": val_size,
                       "test_size": test_size, "select_window": select_window,
                       "gaussian_std": 1e-3, "lstm_forget_bias": 1.0},
            "selection": {"criterion": f"per model and length, the learning rate whose run with seed {seeds[0]} has "
                                       f"the lowest mean validation MSE over its last {select_window} evaluations; "
                                       "the other seeds are trained with that rate; the test set plays no part",
                          "chosen_lr": chosen, "scores": scores},
            "device": describe(device),
            "torch": torch.__version__,
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
            "load_average_at_start": load,
            "load_average_at_end": [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None,
            "wall_time_s": round(time.perf_counter() - start, 1),
            "complete": complete,
            "runs": runs,
        }

    for length in lengths:
        for kind in models:
            key = f"{kind}/{length}"
            sweep = []
            for lr in lrs:
                sweep.append(train(kind, length, seeds[0], lr))
            chosen[key] = choose_lr(sweep, select_window)
            scores[key] = {f"{r['lr']:g}": (None if math.isinf(selection_score(r, select_window))
                                            else selection_score(r, select_window)) for r in sweep}
            for seed in seeds[1:]:
                train(kind, length, seed, chosen[key])
    return summary(complete=True)


def _write_quietly(out: Path, results: dict) -> None:
    """Write the results so far (a file marked ``"complete": false``), replaced when the run ends."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    tmp.write_text(json.dumps(results, indent=1, allow_nan=False) + "\n")
    os.replace(tmp, _partial_path(out))


def _partial_path(out: Path) -> Path:
    return Path(out).with_name(Path(out).stem + ".partial.json")


def merge_into(out: Path, new: dict) -> dict:
    """Merge ``new`` into the results file ``out`` (see ``rnncourse.experiments.merge_runs``).

    Runs with the same model, length, seed and learning rate are replaced; the learning rates
    chosen, the lengths and the models of both are kept, and the new command's load is recorded.
    """
    merged = merge_runs(out, new, ("model", "length", "seed", "lr"))
    if merged is new:
        return new
    for part in ("chosen_lr", "scores"):
        merged["selection"][part].update(new["selection"][part])
    cfg = merged["config"]
    cfg["lengths"] = sorted(set(cfg["lengths"]) | set(new["config"]["lengths"]))
    cfg["models"] = [m for m in MODELS if m in cfg["models"] or m in new["config"]["models"]]
    merged["merged"][-1]["load_average_at_start"] = new["load_average_at_start"]
    merged["merged"][-1]["load_average_at_end"] = new["load_average_at_end"]
    return merged


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", type=int, nargs="+", default=[50, 100])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="the first seed runs the learning-rate sweep, the others train with its choice")
    parser.add_argument("--seed", type=int, default=None, help="one seed only (same as --seeds N)")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--hidden", type=int, default=100)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lrs", type=float, nargs="+", default=[1e-3, 3e-3, 1e-2],
                        help="the Adam learning rates of the sweep, the same for every model")
    parser.add_argument("--lr", type=float, default=None, help="one learning rate, no sweep (same as --lrs X)")
    parser.add_argument("--select-window", type=int, default=5,
                        help="the sweep compares mean validation MSE over this many last evaluations")
    parser.add_argument("--eval-every", type=int, default=100)
    parser.add_argument("--val-size", type=int, default=1000)
    parser.add_argument("--test-size", type=int, default=10_000)
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:0 (default: automatic)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--out", type=Path, default=default_out("adding"),
                        help="results file (default: $RNNCOURSE_RUNS/adding.json, else runs/adding.json in the current folder)")
    parser.add_argument("--merge", action="store_true",
                        help="keep the runs already in --out, replacing those with the same model, length, seed and lr")
    parser.add_argument("--smoke", action="store_true",
                        help="a tiny run: length at most 8, 3 steps, 8 units, two learning rates, two seeds")
    args = parser.parse_args(argv)
    seeds = [args.seed] if args.seed is not None else args.seeds
    lrs = [args.lr] if args.lr is not None else args.lrs
    if any(not lr > 0 for lr in lrs):
        parser.error(f"learning rates must be positive, got {lrs}")
    if args.select_window < 1:
        parser.error(f"--select-window must be at least 1, got {args.select_window}")
    if args.smoke:
        args.lengths = sorted({min(t, 8) for t in args.lengths})
        args.steps, args.hidden, args.eval_every, args.test_size, args.val_size = 3, 8, 1, 20, 20
        seeds, lrs = seeds[:2], lrs[:2]
    if args.threads:
        torch.set_num_threads(args.threads)
    results = run(args.lengths, args.steps, seeds, args.models, lrs, args.hidden, args.batch, 1.0,
                  args.eval_every, args.test_size, args.val_size, args.select_window,
                  default_device(args.device), log=lambda line: print(line, flush=True),
                  partial=None if args.smoke else lambda so_far: _write_quietly(args.out, so_far))
    results["command"] = "python -m rnncourse.experiments.adding " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.merge:
        results = merge_into(args.out, results)
    write_results(args.out, results)
    _partial_path(args.out).unlink(missing_ok=True)  # the complete file replaces the partial one
    return results


if __name__ == "__main__":
    main()
