"""The paper's pixel-MNIST table in one command: every configuration trained side by side, in lockstep.

``python -m rnncourse.experiments.pixel_mnist --gpu-table ...`` lands here.  All
configurations (by default the paper's eight: IRNN, tanh RNN, ReLU RNN with
Gaussian initialization and LSTM, on pixel-order and permuted MNIST) are built in
one process and trained **in lockstep**: every round gives each configuration one
training step on the same batch of images.  On a GPU each configuration has its
own CUDA stream, so the small, latency-bound recurrent kernels of the eight nets
overlap and keep the chip busy; on a CPU the rounds simply run one after the other.
Lockstep makes the budget fair by construction: when the one wall-clock budget
(``--max-minutes``) runs out, every configuration has taken the same number of
steps on the same images.

Two phases share that budget:

With ``--select validation`` (the default) there is one phase: every configuration is
trained with every learning rate of ``--lrs`` and every seed of ``--seeds`` on the training
set less a held-out fifth (``--val-size``); for each model and task the rate whose runs have
the best median validation accuracy (mean of the last ``--select-window`` evaluations) wins,
and the table is that rate's runs.  With ``--select train-loss``:

1. **sweep** (when ``--lrs`` has more than one value): every configuration is
   trained with every learning rate for ``--sweep-steps`` steps (at most
   ``--sweep-fraction`` of the budget), in lockstep; for each model and task the
   learning rate with the lowest mean training loss over the sweep's last
   evaluation interval wins.  The test set plays no part in the choice.
2. **table**: each configuration, with its chosen learning rate and every seed of
   ``--seeds``, is trained from scratch until ``--steps`` or the end of the budget.

One results file holds, per run: the accuracy curve, final and best test
accuracy, steps, examples seen, steps per second, wall time, device, seed, every
hyper-parameter and the paper's number; plus the whole sweep.  A checkpoint is
written at every evaluation, and ``--resume`` continues the table phase from it
(the budget then counts only the new invocation's time).
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import shlex
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from rnncourse.device import default_device, describe
from rnncourse.pixel_data import PixelTask, load_pixel_task
from rnncourse.pixel_models import LABELS, make_model

#: The paper's setting (Le, Jaitly & Hinton 2015, section on pixel-by-pixel MNIST) and where we differ.
PAPER_SETUP = {
    "hidden_size": 100,
    "optimizer": "SGD, learning rate and gradient-clipping threshold chosen per model by a grid search",
    "training": "curves that run to about 10^6 SGD steps (hundreds of epochs)",
    "reported": "best test accuracy",
}
DEVIATIONS = {
    "optimizer": "Adam with one small learning-rate sweep, the same grid and the same rule for every model "
                 "(by default the best median accuracy over the seeds on images held out of the training set; "
                 "the paper's SGD learning rates do not transfer to Adam, and a full grid search does not fit "
                 "a minutes-long budget)",
    "clipping": "the gradient's global norm clipped to 1 for every model (the paper searched the threshold)",
    "inputs": "pixels standardised with the training set's mean and standard deviation",
    "budget": "one wall-clock budget for all runs, a small fraction of the paper's training",
}


@dataclass
class Member:
    """One configuration of a lockstep group and its training state."""

    model: str
    task: str
    lr: float
    seed: int
    net: nn.Module
    optimizer: torch.optim.Optimizer
    stream: object = None
    history: list = field(default_factory=list)
    loss_sum: torch.Tensor | None = None
    loss_count: int = 0
    compute_s: float = 0.0   # time spent in this member's own steps (measured on a CPU only)
    steps: int = 0
    diverged_at: int | None = None

    @property
    def key(self) -> tuple:
        return (self.model, self.task, self.lr, self.seed)


def _step(net: nn.Module, optimizer, x: torch.Tensor, y: torch.Tensor, clip: float | None) -> torch.Tensor:
    """One Adam step on ``x: (batch, time, 1)``, ``y: (batch,)``; returns the loss as a tensor (no sync)."""
    optimizer.zero_grad(set_to_none=True)
    loss = nn.functional.cross_entropy(net(x), y)
    loss.backward()
    if clip is not None:
        nn.utils.clip_grad_norm_(net.parameters(), clip)
    optimizer.step()
    return loss.detach()


@torch.no_grad()
def _accuracy(net: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int) -> float:
    net.eval()
    correct = torch.zeros((), dtype=torch.int64, device=x.device)
    for start in range(0, len(x), batch):
        correct += (net(x[start:start + batch]).argmax(1) == y[start:start + batch]).sum()
    net.train()
    return correct.item() / len(x)


def _epoch_order(n: int, seed: int, epoch: int, device) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=generator).to(device)


def train_group(members: list[Member], data: dict[str, tuple], *, steps: int, batch_size: int, clip: float | None,
                eval_every: int, eval_batch: int, deadline: float | None, start_step: int = 0,
                elapsed_before: float = 0.0, progress: bool = False, log=None, checkpoint=None,
                desc: str = "table") -> dict:
    """Train ``members`` in lockstep until ``steps`` or ``deadline`` (a ``time.perf_counter`` value).

    ``data[task] = (x_train, y_train, x_test, y_test)`` on the members' device,
    ``x: (n, time, 1)``, ``y: (n,)``, optionally followed by ``x_val, y_val`` (then every
    evaluation records ``val_accuracy`` too).  Every round gives each member still training
    one step on a batch that depends only on the member's seed and the step (members
    with the same seed see the same batches).  Test accuracy and the mean training
    loss since the last evaluation are recorded every ``eval_every`` steps and at the end; a member
    whose loss is not finite stops there.  ``checkpoint(step)`` is called after each
    evaluation.  Returns ``{"steps", "wall_time_s", "stop_reason"}`` for the phase.
    """
    log = log or (lambda *a, **k: None)
    device = next(members[0].net.parameters()).device
    cuda = device.type == "cuda"
    n_train = len(next(iter(data.values()))[0])
    if batch_size > n_train:
        raise ValueError(f"batch_size {batch_size} is larger than the training set ({n_train})")
    per_epoch = n_train // batch_size
    for m in members:
        if m.loss_sum is None:
            m.loss_sum = torch.zeros((), device=device)
        if cuda and m.stream is None:
            m.stream = torch.cuda.Stream(device=device)

    def evaluate_all(step: int) -> None:
        if cuda:
            torch.cuda.synchronize(device)
        for m in members:
            if m.history and m.loss_count == 0:  # nothing new since its last record (stopped, or just recorded)
                continue
            mean_loss = m.loss_sum.item() / m.loss_count if m.loss_count else None
            if mean_loss is not None and not math.isfinite(mean_loss):
                m.diverged_at = step
            x_test, y_test = data[m.task][2:4]
            record = {"step": m.steps, "test_accuracy": _accuracy(m.net, x_test, y_test, eval_batch),
                      "train_loss": mean_loss, "elapsed_s": round(time.perf_counter() - t0 + elapsed0, 3)}
            if len(data[m.task]) == 6:  # a validation split held out of the training set
                record["val_accuracy"] = _accuracy(m.net, data[m.task][4], data[m.task][5], eval_batch)
            m.history.append(record)
            m.loss_sum.zero_()
            m.loss_count = 0
        if checkpoint is not None:
            checkpoint(step)

    t0 = time.perf_counter()
    elapsed0 = elapsed_before
    step, stop_reason = start_step, "steps"
    if all(not m.history for m in members):
        evaluate_all(step)
    orders: dict[int, torch.Tensor] = {}   # seed -> this epoch's order
    order_epoch = None
    bar = tqdm(total=steps, initial=start_step, disable=not progress, leave=False, desc=desc, file=sys.stderr,
               dynamic_ncols=True)
    while step < steps:
        if deadline is not None and time.perf_counter() >= deadline:
            stop_reason = "time budget"
            break
        epoch, index = divmod(step, per_epoch)
        if epoch != order_epoch:
            if cuda and order_epoch is not None:
                torch.cuda.synchronize(device)  # the streams are done with the old order before it is freed
            order_epoch = epoch
            orders = {seed: _epoch_order(n_train, seed, epoch, device) for seed in {m.seed for m in members}}
        for m in members:
            if m.diverged_at is not None:
                continue
            idx = orders[m.seed][index * batch_size:(index + 1) * batch_size]
            x_train, y_train = data[m.task][:2]
            if cuda:
                m.stream.wait_stream(torch.cuda.current_stream(device))
                context = torch.cuda.stream(m.stream)
            else:
                context = contextlib.nullcontext()
            began = time.perf_counter()
            with context:
                m.loss_sum += _step(m.net, m.optimizer, x_train[idx], y_train[idx], clip)
            if not cuda:
                m.compute_s += time.perf_counter() - began
            m.loss_count += 1
            m.steps += 1
        step += 1
        bar.update(1)
        if step % eval_every == 0 or step == steps:
            evaluate_all(step)
            log(f"{desc} step {step}: " + "  ".join(
                f"{m.model}/{m.task}/lr{m.lr:g}/s{m.seed} {m.history[-1]['test_accuracy']:.3f}" for m in members),
                flush=True)
    if stop_reason != "steps":
        evaluate_all(step)
    bar.close()
    if cuda:
        torch.cuda.synchronize(device)
    return {"steps": step, "wall_time_s": time.perf_counter() - t0, "stop_reason": stop_reason}


def make_member(model: str, task: str, lr: float, seed: int, hidden_size: int, device) -> Member:
    net = make_model(model, hidden_size=hidden_size, seed=seed).to(device)
    return Member(model, task, lr, seed, net, torch.optim.Adam(net.parameters(), lr=lr))


def selection_loss(member: Member) -> float:
    """The sweep's criterion: mean training loss over the last evaluation interval (inf if it diverged)."""
    last = member.history[-1]["train_loss"] if member.history else None
    if member.diverged_at is not None or last is None or not math.isfinite(last):
        return math.inf
    return last


def split_validation(x: torch.Tensor, y: torch.Tensor, size: int, seed: int = 0) -> tuple:
    """Hold ``size`` examples of a training set out for validation: ``(x_fit, y_fit, x_val, y_val)``.

    The examples are drawn by a permutation fixed by ``seed``, the same for every model and task.
    """
    if not 0 < size < len(x):
        raise ValueError(f"the validation size must be between 1 and {len(x) - 1} (the training set "
                         f"has {len(x)} examples), got {size}")
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(10_007 + seed))
    fit, val = order[size:].sort().values, order[:size].sort().values
    return x[fit], y[fit], x[val], y[val]


def validation_score(history: list[dict], window: int = 2) -> float:
    """Mean validation accuracy over the last ``window`` evaluations of one run (0 if it diverged)."""
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    values = [h["val_accuracy"] for h in history if h["step"] > 0][-window:]
    if not values:
        raise ValueError("the run has no evaluation after step 0 with a validation accuracy")
    return sum(values) / len(values)


def choose_by_validation(records: list[dict], window: int = 2) -> tuple[dict, dict]:
    """For every (model, task): the learning rate whose runs have the highest *median over seeds* of
    :func:`validation_score` (ties: the smaller rate).  A diverged run scores 0.

    ``records``: run records (``model``, ``task``, ``hyperparameters.lr``, ``history``,
    ``stop_reason``).  Returns ``(chosen, scores)``: ``chosen["model/task"] = lr`` and
    ``scores["model/task"]["lr"] = median``.
    """
    groups: dict[tuple, dict[float, list[float]]] = {}
    for r in records:
        diverged = r["stop_reason"].startswith("diverged")
        score = 0.0 if diverged else validation_score(r["history"], window)
        groups.setdefault((r["model"], r["task"]), {}).setdefault(r["hyperparameters"]["lr"], []).append(score)
    chosen, scores = {}, {}
    for (model, task), by_lr in groups.items():
        medians = {lr: statistics.median(v) for lr, v in by_lr.items()}
        key = f"{model}/{task}"
        chosen[key] = min(medians, key=lambda lr: (-medians[lr], lr))
        scores[key] = {f"{lr:g}": medians[lr] for lr in sorted(medians)}
    return chosen, scores


def _paper(model: str, task: str):
    from rnncourse.experiments.pixel_mnist import PAPER_ACCURACY

    return PAPER_ACCURACY.get((model, task))


def member_record(m: Member, phase: dict, *, dataset: str, batch_size: int, clip, hidden_size: int,
                  eval_every: int, n_train: int, n_test: int, seq_len: int, device, perm_seed: int) -> dict:
    accuracies = [h["test_accuracy"] for h in m.history if h["step"] > 0] or [m.history[-1]["test_accuracy"]]
    wall = phase["wall_time_s"]
    return {
        "model": m.model, "model_label": LABELS[m.model], "task": m.task, "dataset": dataset,
        "sequence_length": seq_len, "train_size": n_train, "test_size": n_test,
        "accuracy": m.history[-1]["test_accuracy"], "best_accuracy": max(accuracies),
        "paper_accuracy": _paper(m.model, m.task) if dataset == "mnist" else None,
        "steps": m.steps, "examples_seen": m.steps * batch_size, "epochs": round(m.steps * batch_size / n_train, 3),
        "stop_reason": (f"diverged (non-finite loss) by step {m.diverged_at}" if m.diverged_at is not None
                        else phase["stop_reason"]),
        "wall_time_s": round(wall, 2),
        "steps_per_second": round(m.steps / wall, 3) if wall > 0 else None,
        "steps_per_second_alone": round(m.steps / m.compute_s, 3) if m.compute_s > 0 else None,
        "device": describe(device), "device_type": device.type,
        "seed": m.seed, "perm_seed": perm_seed if m.task == "permuted" else None,
        "seed_sets": "initial weights and the order of the training batches",
        "hyperparameters": {"optimizer": "adam", "lr": m.lr, "batch_size": batch_size, "clip_grad_norm": clip,
                            "hidden_size": hidden_size, "standardized_pixels": True, "eval_every": eval_every,
                            "init": {"irnn": "W_hh = I, W_ih ~ N(0, 1e-6)", "rnn_relu": "W_hh ~ N(0, 1e-6)",
                                     "rnn_tanh": "PyTorch default", "lstm": "PyTorch default, forget bias 1"}[m.model]},
        "torch_version": torch.__version__, "history": m.history,
    }


def run_table(args, argv_for_record: list[str]) -> dict:
    """The ``--gpu-table`` command (see the module docstring).  Returns the results dict it wrote."""
    from rnncourse.experiments.pixel_mnist import DEFAULT_BATCH, DEFAULT_EVAL_EVERY, PAPER_ACCURACY, \
        default_results_path

    started = time.perf_counter()
    load_start = [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None
    device = default_device(args.device)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    dataset = args.dataset if args.dataset != "auto" else ("mnist" if device.type == "cuda" else "digits")
    batch_size = args.batch_size or DEFAULT_BATCH[dataset]
    eval_every = args.eval_every or DEFAULT_EVAL_EVERY[dataset]
    clip = args.clip if args.clip > 0 else None
    lrs = args.lrs
    seeds = args.seeds
    budget_s = 60 * args.max_minutes if args.max_minutes is not None else None
    deadline = started + budget_s if budget_s is not None else None
    for name, values in (("--lrs", lrs), ("--seeds", seeds), ("--models", args.models), ("--tasks", args.tasks)):
        if not values:
            raise SystemExit(f"{name} needs at least one value")
    if any(not (lr > 0) for lr in lrs):
        raise SystemExit(f"--lrs must be positive learning rates, got {lrs}")
    validation = args.select == "validation"
    val_size = None
    if validation:
        if args.select_window < 1:
            raise SystemExit(f"--select-window must be at least 1, got {args.select_window}")
    results_path = Path(args.results) if args.results else default_results_path(device, table=True)
    checkpoint_path = Path(args.checkpoint_dir or Path("checkpoints") / "pixel_mnist") / f"table-{dataset}.pt"
    command = "python -m rnncourse.experiments.pixel_mnist " + " ".join(shlex.quote(a) for a in argv_for_record)
    log = print

    tasks: dict[str, PixelTask] = {}
    data = {}
    for task_name in args.tasks:
        task = load_pixel_task(dataset, task_name == "permuted", args.perm_seed, args.data_dir, args.train_limit,
                               args.test_limit, standardize=not args.raw_pixels)
        if validation and val_size is None:
            val_size = args.val_size if args.val_size is not None else max(1, round(0.2 * len(task.x_train)))
        tasks[task_name] = task
        parts = (task.x_train, task.y_train, task.x_test, task.y_test)
        if validation:  # the same held-out images for every task (the permutation only reorders pixels)
            x_fit, y_fit, x_val, y_val = split_validation(task.x_train, task.y_train, val_size)
            parts = (x_fit, y_fit, task.x_test, task.y_test, x_val, y_val)
        data[task_name] = tuple(t.to(device) for t in parts)
    any_task = next(iter(tasks.values()))
    common = dict(dataset=dataset, batch_size=batch_size, clip=clip, hidden_size=args.hidden_size,
                  n_train=len(next(iter(data.values()))[0]), n_test=len(any_task.x_test), seq_len=any_task.seq_len,
                  device=device, perm_seed=args.perm_seed)
    log(f"{len(args.models) * len(args.tasks)} configurations on {any_task.describe()}; device {describe(device)}; "
        f"budget {args.max_minutes} min", flush=True)

    state = None
    if args.resume and checkpoint_path.is_file():
        state = torch.load(checkpoint_path, map_location=device, weights_only=False)
        if state["setup"] != _setup(args, dataset, batch_size):
            raise ValueError(f"checkpoint {checkpoint_path} was written by a table run with other settings")
        log(f"resuming {checkpoint_path} at step {state['step']} of the table phase", flush=True)

    # --- phase 1: the learning-rate sweep -------------------------------------------------
    if validation:  # no separate sweep: every learning rate is trained with every seed, chosen afterwards
        sweep_records, chosen = [], {}
    elif state is not None:
        sweep_records, chosen = state["sweep"], {tuple(k.split("/")): v for k, v in state["chosen"].items()}
    elif len(lrs) > 1 and args.sweep_steps > 0:
        sweep = [make_member(m, t, lr, seeds[0], args.hidden_size, device)
                 for t in args.tasks for m in args.models for lr in lrs]
        sweep_deadline = None if budget_s is None else min(deadline, started + args.sweep_fraction * budget_s)
        phase = train_group(sweep, data, steps=args.sweep_steps, batch_size=batch_size, clip=clip,
                            eval_every=args.sweep_steps, eval_batch=args.eval_batch, deadline=sweep_deadline,
                            progress=not args.no_progress, log=log, desc="sweep")
        sweep_records = []
        for m in sweep:
            record = member_record(m, phase, eval_every=args.sweep_steps, **common)
            record["selection_loss"] = selection_loss(m) if math.isfinite(selection_loss(m)) else None
            sweep_records.append(record)
        chosen = {}
        for t in args.tasks:
            for model in args.models:
                candidates = [m for m in sweep if (m.model, m.task) == (model, t)]
                chosen[(model, t)] = min(candidates, key=selection_loss).lr
        log("sweep chose: " + ", ".join(f"{m}/{t} lr {lr:g}" for (m, t), lr in chosen.items()), flush=True)
    else:
        sweep_records, chosen = [], {(m, t): lrs[0] for t in args.tasks for m in args.models}

    # --- phase 2: the table ---------------------------------------------------------------
    if validation:
        members = [make_member(m, t, lr, s, args.hidden_size, device)
                   for s in seeds for t in args.tasks for m in args.models for lr in lrs]
    else:
        members = [make_member(m, t, chosen[(m, t)], s, args.hidden_size, device)
                   for s in seeds for t in args.tasks for m in args.models] if args.steps > 0 else []  # 0: sweep only
    start_step, elapsed_before = 0, 0.0
    if state is not None:
        for m, saved in zip(members, state["members"]):
            m.net.load_state_dict(saved["net"])
            m.optimizer.load_state_dict(saved["optimizer"])
            m.history, m.steps, m.diverged_at = saved["history"], saved["steps"], saved["diverged_at"]
            m.compute_s = saved["compute_s"]
        start_step, elapsed_before = state["step"], state["elapsed_s"]
    table_started = time.perf_counter()

    def save_checkpoint(step: int) -> None:
        checkpoint_path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"setup": _setup(args, dataset, batch_size), "step": step,
                   "elapsed_s": elapsed_before + time.perf_counter() - table_started,
                   "sweep": sweep_records, "chosen": {f"{m}/{t}": lr for (m, t), lr in chosen.items()},
                   "members": [{"net": m.net.state_dict(), "optimizer": m.optimizer.state_dict(),
                                "history": m.history, "steps": m.steps, "diverged_at": m.diverged_at,
                                "compute_s": m.compute_s} for m in members]}
        tmp = checkpoint_path.with_name(checkpoint_path.name + ".tmp")
        torch.save(payload, tmp)
        os.replace(tmp, checkpoint_path)

    phase = {"steps": 0, "wall_time_s": 0.0, "stop_reason": "sweep only (--steps 0)"}
    if members:
        phase = train_group(members, data, steps=args.steps, batch_size=batch_size, clip=clip, eval_every=eval_every,
                            eval_batch=args.eval_batch, deadline=deadline, start_step=start_step,
                            elapsed_before=elapsed_before, progress=not args.no_progress, log=log,
                            checkpoint=save_checkpoint, desc="table")
        phase["wall_time_s"] += elapsed_before
    runs = [member_record(m, phase, eval_every=eval_every, **common) for m in members]
    scores = None
    if validation:
        chosen_by_key, scores = choose_by_validation(runs, args.select_window)
        for r in runs:
            r["validation_size"] = val_size
            r["selection_score"] = (0.0 if r["stop_reason"].startswith("diverged")
                                    else validation_score(r["history"], args.select_window))
            r["selected"] = r["hyperparameters"]["lr"] == chosen_by_key[f"{r['model']}/{r['task']}"]
        chosen = {tuple(k.split("/")): lr for k, lr in chosen_by_key.items()}
        sweep_records, runs = runs, [r for r in runs if r["selected"]]
    criterion = (f"per model and task, the learning rate whose runs have the highest median over the seeds "
                 f"{seeds} of the mean validation accuracy over the last {args.select_window} evaluations "
                 f"({val_size} training images held out, never trained on); every learning rate is trained "
                 "with every seed, and the table shows the chosen rate's runs"
                 if validation else "lowest mean training loss over the sweep's last evaluation interval")
    results = {
        "kind": "pixel_mnist_table", "command": command, "device": describe(device), "device_type": device.type,
        "torch_version": torch.__version__, "dataset": dataset, "budget_minutes": args.max_minutes,
        "total_wall_time_s": round(time.perf_counter() - started, 2),
        "table_phase": {"steps": phase["steps"], "stop_reason": phase["stop_reason"],
                        "wall_time_s": round(phase["wall_time_s"], 2), "configurations": len(members)},
        "selection": args.select, "validation_size": val_size,
        "load_average_at_start": load_start,
        "load_average_at_end": [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "sweep": {"lrs": lrs, "steps": (phase["steps"] if validation else args.sweep_steps) if sweep_records else 0,
                  "criterion": criterion, "scores": scores,
                  "chosen_lr": {f"{m}/{t}": lr for (m, t), lr in chosen.items()}, "runs": sweep_records},
        "paper": {"accuracy": {f"{m}/{t}": a for (m, t), a in PAPER_ACCURACY.items()}, "setup": PAPER_SETUP,
                  "deviations": DEVIATIONS},
        "runs": runs,
    }
    results_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = results_path.with_name(results_path.name + ".tmp")
    with open(tmp, "w") as handle:
        json.dump(results, handle, indent=1)
        handle.write("\n")
    os.replace(tmp, results_path)
    for r in runs:
        log(f"{r['model_label']:28s} {r['task']:9s} seed {r['seed']}  lr {r['hyperparameters']['lr']:g}  "
            f"test accuracy {r['accuracy']:.4f} (best {r['best_accuracy']:.4f})  {r['steps']} steps, "
            f"{r['examples_seen']:,} examples", flush=True)
    log(f"wrote {results_path} ({results['total_wall_time_s']:.0f} s in all)", flush=True)
    return results


def _setup(args, dataset: str, batch_size: int) -> dict:
    """What a resumed table run must share with the run that wrote the checkpoint."""
    return {"dataset": dataset, "models": list(args.models), "tasks": list(args.tasks), "lrs": list(args.lrs),
            "seeds": list(args.seeds), "batch_size": batch_size, "hidden_size": args.hidden_size,
            "clip": args.clip, "perm_seed": args.perm_seed, "train_limit": args.train_limit,
            "test_limit": args.test_limit, "raw_pixels": args.raw_pixels, "sweep_steps": args.sweep_steps,
            "select": args.select, "val_size": args.val_size, "select_window": args.select_window}


def seed_summary(runs: list[dict]) -> list[dict]:
    """One row per (task, model): the runs' learning rate, steps, and final / best accuracy over their seeds.

    Each row holds ``mean``, ``min`` and ``max`` of the final accuracy, the mean best
    accuracy, the seeds, and the paper's number; rows are in the order the runs come.
    """
    rows: dict[tuple, dict] = {}
    for r in runs:
        key = (r["task"], r["model"])
        row = rows.setdefault(key, {"task": r["task"], "model": r["model"], "model_label": r["model_label"],
                                    "lr": r["hyperparameters"]["lr"], "steps": r["steps"],
                                    "examples_seen": r["examples_seen"], "paper_accuracy": r.get("paper_accuracy"),
                                    "seeds": [], "final": [], "best": []})
        row["seeds"].append(r["seed"])
        row["final"].append(r["accuracy"])
        row["best"].append(r["best_accuracy"])
        row["steps"] = min(row["steps"], r["steps"])
    out = []
    for row in rows.values():
        finals = row.pop("final")
        row.update(mean=sum(finals) / len(finals), min=min(finals), max=max(finals), finals=finals,
                   best_mean=sum(row.pop("best")) / len(finals))
        out.append(row)
    return out


def summary_markdown(runs: list[dict], paper: bool = False) -> str:
    """:func:`seed_summary` as a Markdown table (accuracies in percent)."""
    head = ["task", "model", "lr (sweep)", "steps", "seeds", "final test accuracy: mean (min–max)", "best (mean)"]
    head += ["paper"] if paper else []
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in seed_summary(runs):
        cells = [row["task"], row["model_label"], f"{row['lr']:g}", f"{row['steps']:,}",
                 ", ".join(map(str, row["seeds"])),
                 f"{100 * row['mean']:.1f}% ({100 * row['min']:.1f}–{100 * row['max']:.1f})",
                 f"{100 * row['best_mean']:.1f}%"]
        if paper:
            cells.append("–" if row["paper_accuracy"] is None else f"{100 * row['paper_accuracy']:.0f}%")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def sweep_markdown(sweep_runs: list[dict], chosen: dict) -> str:
    """Every point of a ``--select validation`` sweep as a Markdown table, one row per (task, model, lr).

    Columns: the median over seeds of the selection score (validation accuracy), the final test
    accuracy's mean and range over the seeds, and whether the rate was chosen (``chosen["model/task"]``).
    """
    groups: dict[tuple, list[dict]] = {}
    for r in sweep_runs:
        groups.setdefault((r["task"], r["model"], r["hyperparameters"]["lr"]), []).append(r)
    lines = ["| task | model | lr | validation (median over seeds) | final test accuracy: mean (min–max) | diverged | chosen |",
             "|---|---|---|---|---|---|---|"]
    for (task, model, lr), group in groups.items():
        scores = [r["selection_score"] for r in group]
        tests = [r["accuracy"] for r in group]
        diverged = sum(r["stop_reason"].startswith("diverged") for r in group)
        lines.append(f"| {task} | {group[0]['model_label']} | {lr:g} | {100 * statistics.median(scores):.1f}% | "
                     f"{100 * sum(tests) / len(tests):.1f}% ({100 * min(tests):.1f}–{100 * max(tests):.1f}) | "
                     f"{diverged} of {len(group)} | {'**yes**' if chosen.get(f'{model}/{task}') == lr else ''} |")
    return "\n".join(lines)
