"""The adding problem: IRNN vs tanh RNN vs ReLU RNN (Gaussian init) vs LSTM.

    python -m rnncourse.experiments.adding                      # writes runs/adding.json (or $RNNCOURSE_RUNS/...)
    python -m rnncourse.experiments.adding --out results/adding.json   # remake the file the book shows
    python -m rnncourse.experiments.adding --models tanh_default tanh_orth --out results/adding.json --merge
    python -m rnncourse.experiments.adding --smoke              # a tiny run, seconds

Besides the paper's four models (``irnn``, ``tanh``, ``relu`` with W_hh ~ N(0, 0.001^2),
``lstm``), two tanh baselines that are not handicapped by a tiny W_hh: ``tanh_default``
(PyTorch's default weights, uniform on +-1/sqrt(H)) and ``tanh_orth`` (orthogonal W_hh).

Every model reads the same stream of training batches (one generator seeded
with ``--seed``) and is scored on the same fixed test set; its weights are drawn
after ``torch.manual_seed(seed)``.  The results file holds, per (model, length),
the learning curve (test MSE and mean training MSE at every evaluation), the
final test MSE and the wall time, plus the full configuration.
"""
from __future__ import annotations

import argparse
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


def train_one(kind: str, length: int, steps: int, seed: int, hidden_size: int = 100,
              batch_size: int = 16, lr: float = 2e-3, clip: float = 1.0, eval_every: int = 100,
              test_size: int = 1000, device: torch.device | None = None) -> dict:
    """Train one model on one sequence length; return its learning curve and final test MSE."""
    if steps < 1 or eval_every < 1:
        raise ValueError(f"steps and eval_every must be positive, got {steps} and {eval_every}")
    device = device or default_device()
    torch.manual_seed(seed)
    model = make_model(kind, hidden_size).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    batches = torch.Generator().manual_seed(seed + 1)
    x_test, y_test = adding_dataset(test_size, length, seed=10_000 + seed)
    x_test, y_test = x_test.to(device), y_test.to(device)

    curve_steps, curve_test, curve_train = [0], [test_mse(model, x_test, y_test)], [None]
    window, diverged = [], False
    start = time.perf_counter()
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
            curve_steps.append(step)
            curve_train.append(sum(window) / len(window))
            curve_test.append(test_mse(model, x_test, y_test))
            window = []
    wall = time.perf_counter() - start
    final = curve_test[-1] if not diverged else None
    return {"model": kind, "length": length, "seed": seed, "steps": curve_steps,
            "test_mse": curve_test, "train_mse": curve_train, "final_test_mse": final,
            "diverged": diverged, "wall_time_s": round(wall, 2)}


def run(lengths=(50, 100), steps: int = 3000, seed: int = 0, models=PAPER_MODELS, hidden_size: int = 100,
        batch_size: int = 16, lr: float = 2e-3, clip: float = 1.0, eval_every: int = 100,
        test_size: int = 1000, device: torch.device | None = None, log=None) -> dict:
    """Train every model at every length; return the results as a JSON-ready dict."""
    device = device or default_device()
    load = [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None
    for kind in models:
        if kind not in MODELS:
            raise ValueError(f"model must be one of {MODELS}, got {kind!r}")
    start = time.perf_counter()
    runs = []
    for length in lengths:
        for kind in models:
            result = train_one(kind, length, steps, seed, hidden_size, batch_size, lr, clip,
                               eval_every, test_size, device)
            runs.append(result)
            if log:
                log(f"T={length:4d} {kind:5s} final test MSE {result['final_test_mse']} "
                    f"({result['wall_time_s']:.1f} s)")
    return {
        "task": "adding problem of Le, Jaitly & Hinton (2015): two channels, values U[0,1], "
                "one mark in each half, target = sum of the two marked values",
        "baseline_mse": BASELINE_MSE,
        "config": {"lengths": list(lengths), "steps": steps, "seed": seed, "models": list(models),
                   "hidden_size": hidden_size, "batch_size": batch_size, "optimizer": "Adam",
                   "lr": lr, "clip_grad_norm": clip, "eval_every": eval_every,
                   "test_size": test_size, "gaussian_std": 1e-3, "lstm_forget_bias": 1.0},
        "device": describe(device),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": load,
        "wall_time_s": round(time.perf_counter() - start, 1),
        "runs": runs,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", type=int, nargs="+", default=[50, 100])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", nargs="+", default=list(PAPER_MODELS), choices=MODELS)
    parser.add_argument("--hidden", type=int, default=100)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--eval-every", type=int, default=100)
    parser.add_argument("--test-size", type=int, default=1000)
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:0 (default: automatic)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--out", type=Path, default=default_out("adding"),
                        help="results file (default: $RNNCOURSE_RUNS/adding.json, else runs/adding.json in the current folder)")
    parser.add_argument("--merge", action="store_true",
                        help="keep the runs already in --out, replacing those with the same model, length and seed")
    parser.add_argument("--smoke", action="store_true", help="a tiny run: length at most 8, 3 steps, 8 units")
    args = parser.parse_args(argv)
    if args.smoke:
        args.lengths = sorted({min(t, 8) for t in args.lengths})
        args.steps, args.hidden, args.eval_every, args.test_size = 3, 8, 1, 20
    if args.threads:
        torch.set_num_threads(args.threads)
    results = run(args.lengths, args.steps, args.seed, args.models, args.hidden, args.batch,
                  args.lr, 1.0, args.eval_every, args.test_size, default_device(args.device),
                  log=lambda line: print(line, flush=True))
    results["command"] = "python -m rnncourse.experiments.adding " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.merge:
        results = merge_runs(args.out, results, ("model", "length", "seed"))
    write_results(args.out, results)
    return results


if __name__ == "__main__":
    main()
