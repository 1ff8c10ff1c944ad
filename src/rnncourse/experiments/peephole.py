"""Peepholes on a timing task: the LSTM with and without peephole connections, several seeds.

The task asks for a precisely timed output, the kind of problem peepholes were proposed for
(Gers & Schmidhuber 2000).  Step 1 shows one of the delays in ``DELAYS`` (one-hot); every later
input is zero.  The target is 1 at step ``1 + delay`` and 0 at every other step, and the model
emits one logit per step (binary cross-entropy).  A sequence counts as correct when its largest
logit sits at the right step; chance is ``1 / LENGTH``.  The network has to count the steps
itself, in its cell state.

Both models are ``rnncourse.peephole_lstm.PeepholeLSTM`` (16 units, forget-gate bias +1), one with
``peepholes=False``, so the two differ in the peepholes only; Adam (lr 1e-2), batches of 64,
global-norm clipping at 1, at most ``--steps`` steps, stopping at 99% held-out accuracy::

    python -m rnncourse.experiments.peephole             # writes runs/peephole.json (or $RNNCOURSE_RUNS/...)
    python -m rnncourse.experiments.peephole --out results/peephole.json   # the file chapter 5 renders
    python -m rnncourse.experiments.peephole --smoke     # a tiny run, seconds
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from torch import nn

from rnncourse.device import describe
from rnncourse.experiments import committed_results, default_out, merge_runs, write_results
from rnncourse.peephole_lstm import PeepholeLSTM

COMMITTED = committed_results("peephole")
DELAYS = (8, 16, 24, 32)
LENGTH = 40


def timed_spike_batch(batch: int, generator: torch.Generator, delays=DELAYS, length: int = LENGTH):
    """x: (batch, length, len(delays)) one-hot of the delay at step 1, zeros after; y: (batch, length)
    float, 1 at step 1 + delay (index ``delay``) and 0 elsewhere; t: (batch,) the index of the 1."""
    if not isinstance(batch, int) or batch < 1:
        raise ValueError(f"batch must be an integer >= 1, got {batch!r}")
    if not delays or min(delays) < 1 or max(delays) >= length:
        raise ValueError(f"every delay must lie in 1 .. length - 1 = {length - 1}, got {tuple(delays)}")
    k = torch.randint(len(delays), (batch,), generator=generator)
    rows = torch.arange(batch)
    x = torch.zeros(batch, length, len(delays))
    x[rows, 0, k] = 1.0
    t = torch.tensor(delays)[k]
    y = torch.zeros(batch, length)
    y[rows, t] = 1.0
    return x, y, t


class Timer(nn.Module):
    """A ``PeepholeLSTM`` and a linear read-out of one logit per step: (batch, time, n) -> (batch, time)."""

    def __init__(self, n_inputs: int, hidden: int, peepholes: bool, forget_bias: float = 1.0):
        super().__init__()
        self.rnn = PeepholeLSTM(n_inputs, hidden, peepholes)
        with torch.no_grad():
            self.rnn.bias_hh_l0[hidden:2 * hidden] += forget_bias
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.rnn(x)[0]).squeeze(-1)


def train_timer(peepholes: bool, seed: int, steps: int = 1500, hidden: int = 16, lr: float = 1e-2,
                eval_every: int = 50, length: int = LENGTH, delays=DELAYS) -> dict:
    """Train one ``Timer``; returns plain lists ``step``, ``loss``, ``accuracy`` (held-out, 512
    sequences) and ``solved`` (accuracy >= 95% at the end), ``steps_run``, ``seconds``."""
    if steps < 1 or eval_every < 1:
        raise ValueError(f"steps and eval_every must be >= 1, got {steps} and {eval_every}")
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = Timer(len(delays), hidden, peepholes)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    x_eval, _, t_eval = timed_spike_batch(512, torch.Generator().manual_seed(10_000 + seed), delays, length)
    run = {"peepholes": peepholes, "seed": seed, "step": [], "loss": [], "accuracy": []}
    start = time.perf_counter()
    for step in range(1, steps + 1):
        x, y, _ = timed_spike_batch(64, gen, delays, length)
        loss = nn.functional.binary_cross_entropy_with_logits(model(x), y)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % eval_every == 0 or step == steps:
            with torch.no_grad():
                acc = (model(x_eval).argmax(dim=1) == t_eval).float().mean().item()
            run["step"].append(step)
            run["loss"].append(float(f"{loss.item():.6g}"))
            run["accuracy"].append(acc)
            if acc >= 0.99:
                break
    run.update(solved=run["accuracy"][-1] >= 0.95, steps_run=step, seconds=time.perf_counter() - start)
    return run


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=default_out("peephole"),
                        help="results file (default: $RNNCOURSE_RUNS/peephole.json, else runs/peephole.json)")
    parser.add_argument("--merge", action="store_true",
                        help="keep the runs already in --out, replacing only those with the same variant and seed")
    parser.add_argument("--smoke", action="store_true", help="a tiny run: 4 steps per run")
    args = parser.parse_args(argv)
    eval_every = 50
    if args.smoke:
        args.steps, eval_every = 4, 2
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    runs = []
    for seed in args.seeds:
        for peepholes in (False, True):
            r = train_timer(peepholes, seed, args.steps, eval_every=eval_every)
            runs.append(r)
            print(f"peepholes {peepholes!s:5s} seed {seed}: accuracy {r['accuracy'][-1]:.3f} after {r['steps_run']} steps, "
                  f"{r['seconds']:.0f} s", flush=True)
    results = {
        "task": f"timed spike: output 1 exactly d steps after step 1, d in {list(DELAYS)} shown at step 1, "
                f"length {LENGTH}; LSTM with and without peepholes, 16 units, forget bias +1, Adam 1e-2, batch 64",
        "command": "python -m rnncourse.experiments.peephole " + " ".join(argv if argv is not None else sys.argv[1:]),
        "device": describe(torch.device("cpu")),
        "settings": {"seeds": args.seeds, "steps": args.steps, "delays": list(DELAYS), "length": LENGTH,
                     "hidden": 16, "lr": 1e-2, "eval_every": eval_every},
        "seconds": time.perf_counter() - start,
        "runs": runs,
    }
    if args.merge:
        results = merge_runs(args.out, results, ("peepholes", "seed"))
    write_results(args.out, results)
    return results


if __name__ == "__main__":
    main()
