"""Pixel-by-pixel MNIST (Le, Jaitly & Hinton 2015): the four recurrent nets on pixel sequences.

One run trains one model on one task and appends its record to a JSON results file::

    python -m rnncourse.experiments.pixel_mnist --model irnn --permuted
    python -m rnncourse.experiments.pixel_mnist --model lstm --dataset digits --steps 2000

``--all`` runs the four models on both tasks (pixel order and permuted) one after
the other, writing the results file after every run::

    python -m rnncourse.experiments.pixel_mnist --all --dataset mnist --max-minutes 2

The device is ``rnncourse.device.default_device``: a GPU when there is one, else
the CPU; ``--device cpu`` or the environment variable ``RNNCOURSE_DEVICE``
overrides it.  ``--dataset auto`` (the default) means full MNIST (784-step
sequences, IDX files in ``--data-dir``) on a GPU and scikit-learn's 8x8 digits
(64-step sequences, no download) on a CPU.  Results go to
``$RNNCOURSE_RUNS/`` when that variable is set, else ``runs/`` in the current folder
(``rnncourse.experiments.default_output``), unless ``--results`` names a file: a command
never replaces the committed files in ``results/`` unless asked to.  ``--smoke`` runs any
of these commands at a tiny size (digits, CPU, two steps; two configurations for ``--all``
and ``--gpu-table``), in seconds.
``--max-minutes`` limits the time of one invocation (a ``--resume`` gets a fresh
budget; the recorded wall time adds up all invocations).

``--gpu-table`` trains the paper's eight configurations side by side within one
budget, after a small learning-rate sweep that treats every model alike, and
writes one results file (see :mod:`rnncourse.experiments.pixel_table`)::

    python -m rnncourse.experiments.pixel_mnist --gpu-table --dataset mnist --max-minutes 7

A checkpoint is saved every ``--checkpoint-every`` steps and at the
end; ``--resume`` continues a run from its checkpoint (the data order depends on
the step only, so a resumed run sees the same batches as an uninterrupted one).
"""
from __future__ import annotations

import argparse
import functools
import json
import math
import os
import shlex
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from rnncourse.device import default_device, describe
from rnncourse.experiments import RUNS_ENV, default_output, runs_dir  # noqa: F401 (runs_dir, RUNS_ENV: re-exported)
from rnncourse.pixel_data import PixelTask, load_pixel_task
from rnncourse.pixel_models import KINDS, LABELS, make_model

TASKS = ("pixel", "permuted")

#: The paper's table of best test accuracies (Le, Jaitly & Hinton 2015, pixel-by-pixel
#: MNIST and permuted MNIST, 100 hidden units, SGD with tuned learning rates).
PAPER_ACCURACY = {
    ("irnn", "pixel"): 0.97, ("irnn", "permuted"): 0.82,
    ("rnn_tanh", "pixel"): 0.35, ("rnn_tanh", "permuted"): 0.35,
    ("rnn_relu", "pixel"): 0.97, ("rnn_relu", "permuted"): 0.75,
    ("lstm", "pixel"): 0.65, ("lstm", "permuted"): 0.36,
}

# Adam learning rates per model (see RunConfig.lr).
DEFAULT_LR = {
    "digits": {"irnn": 3e-3, "rnn_relu": 3e-3, "rnn_tanh": 3e-3, "lstm": 3e-3},
    "mnist": {"irnn": 1e-4, "rnn_relu": 1e-4, "rnn_tanh": 1e-4, "lstm": 1e-3},
}
DEFAULT_STEPS = {"digits": 2000, "mnist": 100_000}
DEFAULT_BATCH = {"digits": 64, "mnist": 128}
DEFAULT_EVAL_EVERY = {"digits": 250, "mnist": 1000}


@dataclass
class RunConfig:
    """Everything that defines one run.  ``None`` fields take the dataset's defaults above."""

    model: str = "irnn"
    permuted: bool = False
    dataset: str = "auto"
    steps: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    optimizer: str = "adam"
    clip: float = 1.0
    hidden_size: int = 100
    seed: int = 0
    perm_seed: int = 0
    standardize: bool = True
    eval_every: int | None = None
    eval_batch: int = 1000
    max_minutes: float | None = None
    train_limit: int | None = None
    test_limit: int | None = None
    data_dir: str | None = None
    device: str | None = None
    threads: int | None = None
    checkpoint: str | None = None
    checkpoint_every: int | None = None
    resume: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def task(self) -> str:
        return "permuted" if self.permuted else "pixel"

    def resolved(self, device: torch.device) -> "RunConfig":
        """A copy with ``auto`` and ``None`` replaced by concrete values for ``device``."""
        if self.model not in KINDS:
            raise ValueError(f"model must be one of {KINDS}, got {self.model!r}")
        if self.optimizer not in ("adam", "rmsprop", "sgd"):
            raise ValueError(f"optimizer must be 'adam', 'rmsprop' or 'sgd', got {self.optimizer!r}")
        values = asdict(self)
        if self.dataset == "auto":
            values["dataset"] = "mnist" if device.type == "cuda" else "digits"
        elif self.dataset not in ("digits", "mnist"):
            raise ValueError(f"dataset must be 'auto', 'digits' or 'mnist', got {self.dataset!r}")
        data = values["dataset"]
        defaults = {"steps": DEFAULT_STEPS[data], "batch_size": DEFAULT_BATCH[data],
                    "lr": DEFAULT_LR[data][self.model], "eval_every": DEFAULT_EVAL_EVERY[data]}
        for key, value in defaults.items():
            if values[key] is None:
                values[key] = value
        if values["checkpoint_every"] is None:
            values["checkpoint_every"] = values["eval_every"]
        for key in ("steps", "batch_size", "eval_every", "eval_batch", "checkpoint_every"):
            if isinstance(values[key], bool) or not isinstance(values[key], int) or values[key] < 1:
                raise ValueError(f"{key} must be a positive int, got {values[key]!r}")
        return RunConfig(**values)


def hyperparameters(config: RunConfig) -> dict:
    return {"optimizer": config.optimizer, "lr": config.lr, "batch_size": config.batch_size,
            "clip_grad_norm": config.clip, "hidden_size": config.hidden_size,
            "standardized_pixels": config.standardize,
            "eval_every": config.eval_every, "max_minutes": config.max_minutes,
            "train_limit": config.train_limit, "test_limit": config.test_limit, **config.extra}


def model_device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
               clip: float | None = 1.0) -> float:
    """One gradient step on the batch ``x: (batch, time, 1)``, ``y: (batch,)``; returns the loss.

    The batch is moved to the model's device, so the same call works on CPU and GPU.
    The gradient's global norm is clipped to ``clip`` (no clipping for ``None``).
    """
    device = model_device(model)
    x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
    model.train()
    optimizer.zero_grad(set_to_none=True)
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    if clip is not None:
        nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    return loss.item()


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    """Fraction of ``x: (n, time, 1)`` classified as ``y: (n,)``, in batches, without gradients."""
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x and y must hold the same positive number of examples, got {len(x)} and {len(y)}")
    device = model_device(model)
    was_training = model.training
    model.eval()
    correct = 0
    for start in range(0, len(x), batch_size):
        xb = x[start:start + batch_size].to(device)
        yb = y[start:start + batch_size].to(device)
        correct += (model(xb).argmax(dim=1) == yb).sum().item()
    model.train(was_training)
    return correct / len(x)


def batch_indices(step: int, n: int, batch_size: int, seed: int) -> torch.Tensor:
    """Indices of the training batch used at ``step`` (0-based).

    Each epoch is a fresh permutation drawn from ``(seed, epoch)``; the last
    incomplete batch of an epoch is dropped.  Depends on ``step`` only, which is
    what makes ``--resume`` exact.
    """
    if batch_size > n:
        raise ValueError(f"batch_size {batch_size} is larger than the training set ({n})")
    per_epoch = n // batch_size
    epoch, index = divmod(step, per_epoch)
    return _epoch_order(n, seed, epoch)[index * batch_size:(index + 1) * batch_size]


@functools.lru_cache(maxsize=2)
def _epoch_order(n: int, seed: int, epoch: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=generator)


def make_optimizer(config: RunConfig, model: nn.Module) -> torch.optim.Optimizer:
    if config.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=config.lr)
    if config.optimizer == "rmsprop":
        return torch.optim.RMSprop(model.parameters(), lr=config.lr)
    return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=0.9)


def default_checkpoint(config: RunConfig) -> Path:
    return Path("checkpoints") / "pixel_mnist" / f"{config.dataset}-{config.task}-{config.model}-seed{config.seed}.pt"


_IDENTITY = ("model", "permuted", "dataset", "seed", "perm_seed", "standardize", "hidden_size",
             "batch_size", "optimizer", "train_limit", "test_limit")


def _save_checkpoint(path: Path, config: RunConfig, model, optimizer, step, elapsed, history) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"config": asdict(config), "step": step, "elapsed_s": elapsed, "history": history,
             "model": model.state_dict(), "optimizer": optimizer.state_dict()}
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def run(config: RunConfig, task: PixelTask | None = None, progress: bool = True, log=print) -> dict:
    """Train ``config.model`` on its task and return the run's record (see :func:`main`).

    ``task``: pre-loaded data (must match ``config``); loaded here when ``None``.
    ``log``: where one-line messages go (``None`` for silence).
    """
    log = log or (lambda *args, **kwargs: None)
    device = default_device(config.device)
    config = config.resolved(device)
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    if task is None:
        task = load_pixel_task(config.dataset, config.permuted, config.perm_seed, config.data_dir,
                               config.train_limit, config.test_limit, standardize=config.standardize)
    if (task.perm is not None) != config.permuted or ((task.mean, task.std) != (0.0, 1.0)) != config.standardize:
        raise ValueError("the task given does not match config.permuted / config.standardize")
    x_train, y_train = task.x_train.to(device), task.y_train.to(device)
    x_test, y_test = task.x_test.to(device), task.y_test.to(device)

    model = make_model(config.model, hidden_size=config.hidden_size, seed=config.seed).to(device)
    optimizer = make_optimizer(config, model)
    checkpoint = Path(config.checkpoint) if config.checkpoint else default_checkpoint(config)
    start_step, elapsed_before, history = 0, 0.0, []
    if config.resume and checkpoint.is_file():
        state = torch.load(checkpoint, map_location=device, weights_only=False)
        saved = state["config"]
        differ = [k for k in _IDENTITY if saved.get(k) != getattr(config, k)]
        if differ:
            raise ValueError(f"checkpoint {checkpoint} was written by a different run (differs in {differ})")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start_step, elapsed_before, history = state["step"], state["elapsed_s"], state["history"]
        log(f"resuming {checkpoint} at step {start_step}")
    elif config.resume:
        log(f"no checkpoint at {checkpoint}; starting from step 0")

    log(f"{LABELS[config.model]} on {task.describe()}; device {describe(device)}")
    stop_reason = "steps"
    step = start_step
    loss_sum, loss_count = 0.0, 0
    t0 = time.perf_counter()
    bar = tqdm(total=config.steps, initial=start_step, disable=not progress, leave=False,
               desc=f"{config.model}/{config.task}", file=sys.stderr, dynamic_ncols=True)

    def elapsed() -> float:  # the run's whole training time, earlier invocations included
        return elapsed_before + time.perf_counter() - t0

    def this_invocation() -> float:  # what --max-minutes limits: only the time of this invocation
        return time.perf_counter() - t0

    def record() -> None:
        accuracy = evaluate(model, x_test, y_test, config.eval_batch)
        mean_loss = loss_sum / loss_count if loss_count else None
        history.append({"step": step, "test_accuracy": accuracy, "train_loss": mean_loss,
                        "elapsed_s": round(elapsed(), 3)})
        bar.set_postfix(loss=f"{mean_loss:.3f}" if mean_loss is not None else "-", test_acc=f"{accuracy:.3f}")
        line = (f"step {step:>7d}  train loss {mean_loss if mean_loss is not None else float('nan'):.4f}"
                f"  test accuracy {accuracy:.4f}  ({elapsed():.0f} s)")
        if progress:
            bar.write(line)
        else:
            log(line, flush=True)

    if not history:
        record()
    while step < config.steps:
        idx = batch_indices(step, len(x_train), config.batch_size, config.seed).to(device)
        loss = train_step(model, optimizer, x_train[idx], y_train[idx], config.clip)
        step += 1
        bar.update(1)
        if not math.isfinite(loss):
            stop_reason = "diverged (non-finite loss)"
            log(f"loss became {loss} at step {step}; stopping")
            break
        loss_sum, loss_count = loss_sum + loss, loss_count + 1
        out_of_time = config.max_minutes is not None and this_invocation() > 60 * config.max_minutes
        if step % config.eval_every == 0 or step == config.steps or out_of_time:
            record()
            loss_sum, loss_count = 0.0, 0
        if step % config.checkpoint_every == 0 or step == config.steps or out_of_time:
            _save_checkpoint(checkpoint, config, model, optimizer, step, elapsed(), history)
        if out_of_time and step < config.steps:
            stop_reason = f"time budget ({config.max_minutes} min)"
            break
    bar.close()
    if stop_reason.startswith("diverged"):
        accuracy = evaluate(model, x_test, y_test, config.eval_batch)
    else:
        accuracy = history[-1]["test_accuracy"]
    wall = elapsed()
    result = {
        "model": config.model, "model_label": LABELS[config.model], "task": config.task,
        "dataset": config.dataset, "sequence_length": task.seq_len,
        "train_size": len(x_train), "test_size": len(x_test),
        "accuracy": accuracy, "best_accuracy": max(h["test_accuracy"] for h in history),
        "paper_accuracy": PAPER_ACCURACY[(config.model, config.task)] if config.dataset == "mnist" else None,
        "steps": step, "steps_requested": config.steps, "examples_seen": step * config.batch_size, "epochs": round(step * config.batch_size / len(x_train), 2),
        "stop_reason": stop_reason, "wall_time_s": round(wall, 2),
        "device": describe(device), "device_type": device.type,
        "seed": config.seed, "perm_seed": config.perm_seed if config.permuted else None,
        "hyperparameters": hyperparameters(config), "torch_version": torch.__version__,
        "history": history,
    }
    log(f"{LABELS[config.model]} / {config.task}: test accuracy {accuracy:.4f} after {step} steps, "
        f"{wall:.1f} s on {describe(device)}")
    return result


def load_results(path: str | os.PathLike) -> dict:
    """The results file as a dict ``{"runs": [...]}`` (empty when the file does not exist)."""
    path = Path(path)
    if not path.is_file():
        return {"runs": []}
    with open(path) as handle:
        data = json.load(handle)
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list):
        raise ValueError(f"{path}: expected a JSON object with a list 'runs'")
    return data


def save_result(path: str | os.PathLike, result: dict) -> Path:
    """Add ``result`` to the results file, replacing an earlier run of the same dataset, task and model."""
    path = Path(path)
    data = load_results(path)
    key = (result["dataset"], result["task"], result["model"])
    runs = [r for r in data["runs"] if (r["dataset"], r["task"], r["model"]) != key] + [result]
    runs.sort(key=lambda r: (r["dataset"], TASKS.index(r["task"]), KINDS.index(r["model"])))
    data["runs"] = runs
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as handle:
        json.dump(data, handle, indent=1)
        handle.write("\n")
    os.replace(tmp, path)
    return path


def _percent(value) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def markdown_table(runs: list[dict], paper: bool = True) -> str:
    """The runs as a Markdown table: accuracy, the paper's number, and each run's budget."""
    head = ["task", "model", "test accuracy"] + (["paper (MNIST)"] if paper else []) + \
        ["steps", "epochs", "wall time", "device", "stopped by"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in runs:
        row = [r["task"], r["model_label"], _percent(r["accuracy"])]
        if paper:
            row.append(_percent(PAPER_ACCURACY.get((r["model"], r["task"]))))
        minutes, seconds = divmod(r["wall_time_s"], 60)
        row += [f"{r['steps']:,}", f"{r['epochs']:g}", f"{int(minutes)} min {seconds:.0f} s" if minutes else
                f"{seconds:.1f} s", r["device"], r["stop_reason"]]
        lines.append("| " + " | ".join(str(c) for c in row) + " |")
    return "\n".join(lines)


def default_results_path(device: torch.device, table: bool = False) -> Path:
    """``default_output("pixel_mnist_{gpu,cpu}.json")`` (``pixel_mnist_table_...`` for ``--gpu-table``).

    Never the repository's ``results/``: its files are committed and rendered by the
    book, and a command must be asked explicitly (``--results results/...``) to replace one.
    """
    name = "pixel_mnist_gpu.json" if device.type == "cuda" else "pixel_mnist_cpu.json"
    if table:
        name = name.replace("pixel_mnist_", "pixel_mnist_table_")
    return default_output(name)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m rnncourse.experiments.pixel_mnist", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=KINDS, default="irnn")
    p.add_argument("--permuted", action="store_true", help="the permuted task (one fixed permutation)")
    p.add_argument("--all", action="store_true", help="run --models on --tasks (default: 4 models x 2 tasks)")
    p.add_argument("--models", nargs="+", choices=KINDS, default=list(KINDS), help="models for --all")
    p.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS), help="tasks for --all")
    p.add_argument("--dataset", choices=("auto", "digits", "mnist"), default="auto",
                   help="auto: mnist on a GPU, digits on a CPU")
    p.add_argument("--data-dir", default=None, help="folder of the MNIST IDX files (default ./data/mnist)")
    p.add_argument("--steps", type=int, default=None, help="training steps (mnist 100000, digits 2000)")
    p.add_argument("--max-minutes", type=float, default=None,
                   help="stop after this wall time of this invocation (a --resume gets a fresh budget); "
                        "with --gpu-table: one budget for the whole table, sweep included")
    p.add_argument("--batch-size", type=int, default=None, help="mnist 128, digits 64")
    p.add_argument("--lr", type=float, default=None, help="learning rate (default: per model and dataset)")
    p.add_argument("--optimizer", choices=("adam", "rmsprop", "sgd"), default="adam")
    p.add_argument("--clip", type=float, default=1.0, help="clip the gradient's global norm (<= 0: off)")
    p.add_argument("--hidden-size", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--perm-seed", type=int, default=0)
    p.add_argument("--raw-pixels", action="store_true", help="keep pixels in [0, 1] (default: standardise)")
    p.add_argument("--eval-every", type=int, default=None)
    p.add_argument("--eval-batch", type=int, default=1000)
    p.add_argument("--train-limit", type=int, default=None, help="use only the first N training images")
    p.add_argument("--test-limit", type=int, default=None, help="use only the first N test images")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: $RNNCOURSE_DEVICE, else a GPU if there is one)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    p.add_argument("--checkpoint", default=None, help="checkpoint file (single run)")
    p.add_argument("--checkpoint-dir", default=None, help="folder of checkpoints (default checkpoints/pixel_mnist)")
    p.add_argument("--checkpoint-every", type=int, default=None)
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint if there is one")
    p.add_argument("--results", default=None,
                   help="results JSON (default $RNNCOURSE_RUNS/pixel_mnist_{gpu,cpu}.json, else "
                        "runs/pixel_mnist_{gpu,cpu}.json in the current folder; results/ only when named here)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--smoke", action="store_true",
                   help="a tiny run, seconds: digits on the CPU, 2 steps, 8 units, 64 training and 32 test images; "
                        "--all and --gpu-table: 2 configurations, 2 learning rates; checkpoints next to the results")
    table = p.add_argument_group("the paper's table in one command (--gpu-table; see rnncourse.experiments.pixel_table)")
    table.add_argument("--gpu-table", action="store_true",
                       help="train --models x --tasks side by side in lockstep within one --max-minutes budget "
                            "and write one results file (on any device; named for its purpose)")
    table.add_argument("--lrs", nargs="+", type=float, default=[1e-4, 3e-4, 1e-3],
                       help="learning rates swept for every model alike (one value: no sweep)")
    table.add_argument("--sweep-steps", type=int, default=300, help="steps of each sweep run")
    table.add_argument("--sweep-fraction", type=float, default=0.25, help="most of the budget the sweep may use")
    table.add_argument("--seeds", nargs="+", type=int, default=[0], help="seeds of the table runs (the sweep uses the first)")
    table.add_argument("--select", choices=("validation", "train-loss"), default="validation",
                       help="how the learning rate is chosen: 'validation' trains every rate of --lrs with every "
                            "seed and keeps the rate with the best median validation accuracy (images held out of "
                            "the training set); 'train-loss' runs a short sweep with the first seed and keeps the "
                            "rate with the lowest training loss over its last interval")
    table.add_argument("--val-size", type=int, default=None,
                       help="training images held out for --select validation (default: 20%%)")
    table.add_argument("--select-window", type=int, default=2,
                       help="--select validation averages this many last evaluations of each run")
    return p.parse_args(argv)


def apply_smoke(args: argparse.Namespace) -> argparse.Namespace:
    """Shrink ``args`` in place to a run of seconds (``--smoke``): digits, CPU, 2 steps, tiny model and data.

    Checkpoints go next to the default results (``default_output("checkpoints")``) unless
    ``--checkpoint``/``--checkpoint-dir`` name a place, so a smoke run writes nothing else.
    """
    args.dataset, args.device, args.data_dir = "digits", "cpu", None
    args.steps, args.eval_every, args.checkpoint_every = 2, 2, 2
    args.batch_size, args.hidden_size, args.eval_batch = 8, 8, 32
    args.train_limit, args.test_limit = 64, 32
    args.max_minutes, args.no_progress, args.threads = None, True, 1
    args.models, args.tasks = args.models[:2], args.tasks[:1]
    args.lrs, args.seeds, args.sweep_steps = args.lrs[:2], args.seeds[:1], 2
    if not args.checkpoint and not args.checkpoint_dir:
        args.checkpoint_dir = str(default_output("checkpoints"))
    return args


def main(argv=None) -> list[dict]:
    args = parse_args(argv)
    if args.smoke:
        apply_smoke(args)
    if args.gpu_table:
        from rnncourse.experiments.pixel_table import run_table

        if args.steps is None:
            args.steps = 10 ** 7  # the budget decides
        if args.steps < 0 or args.sweep_steps < 0 or not 0 < args.sweep_fraction <= 1:
            raise SystemExit("--steps and --sweep-steps must be >= 0 and --sweep-fraction in (0, 1]")
        return run_table(args, sys.argv[1:] if argv is None else list(argv))["runs"]
    device = default_device(args.device)
    command = "python -m rnncourse.experiments.pixel_mnist " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    pairs = ([(m, t) for t in args.tasks for m in args.models] if args.all
             else [(args.model, "permuted" if args.permuted else "pixel")])
    if args.all and args.checkpoint:
        raise SystemExit("--checkpoint names one file; with --all use --checkpoint-dir")
    results_path = Path(args.results) if args.results else default_results_path(device)
    results = []
    tasks_cache: dict[str, PixelTask] = {}
    for model, task_name in pairs:
        config = RunConfig(
            model=model, permuted=task_name == "permuted", dataset=args.dataset, steps=args.steps,
            batch_size=args.batch_size, lr=args.lr, optimizer=args.optimizer,
            clip=args.clip if args.clip > 0 else None, hidden_size=args.hidden_size, seed=args.seed,
            perm_seed=args.perm_seed, standardize=not args.raw_pixels, eval_every=args.eval_every, eval_batch=args.eval_batch,
            max_minutes=args.max_minutes, train_limit=args.train_limit, test_limit=args.test_limit,
            data_dir=args.data_dir, device=str(device), threads=args.threads,
            checkpoint_every=args.checkpoint_every, resume=args.resume)
        config = config.resolved(device)
        if args.checkpoint:
            config.checkpoint = args.checkpoint
        elif args.checkpoint_dir:
            config.checkpoint = str(Path(args.checkpoint_dir) / default_checkpoint(config).name)
        if task_name not in tasks_cache:
            tasks_cache[task_name] = load_pixel_task(config.dataset, config.permuted, config.perm_seed,
                                                     config.data_dir, config.train_limit, config.test_limit,
                                                     standardize=config.standardize)
        result = run(config, task=tasks_cache[task_name], progress=not args.no_progress)
        result["command"] = command
        save_result(results_path, result)
        print(f"wrote {results_path}", flush=True)
        results.append(result)
    return results


if __name__ == "__main__":
    main()
