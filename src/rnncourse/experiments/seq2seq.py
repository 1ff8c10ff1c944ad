"""Encoder-decoder with and without attention on reversing digit strings (chapter 9).

Every model (``--models``: ``none``, the plain encoder-decoder whose context is the encoder's final
state; ``dot`` and ``additive`` attention) is trained once per seed with the same budget: the same
number of Adam steps on batches of 64 fresh strings of lengths 1 .. ``--max-len`` (teacher forcing,
global-norm clipping at 1).  Each trained model is then scored, for every length, by the share of
``--eval-per-length`` fresh strings it reverses exactly with greedy decoding.  The first attention
run also records its attention map on one string, for the page's heatmap::

    python -m rnncourse.experiments.seq2seq                 # writes runs/seq2seq.json (or $RNNCOURSE_RUNS/...)
    python -m rnncourse.experiments.seq2seq --smoke         # a tiny run, seconds
    python -m rnncourse.experiments.seq2seq --models none --out runs/a.json   # one model; then
    python -m rnncourse.experiments.seq2seq --combine runs/a.json runs/b.json --out runs/seq2seq.json

``--combine`` joins the runs of several results files (the same settings) into one, so that
models can be trained by separate processes at the same time.
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

from rnncourse.device import default_device, describe
from rnncourse.digit_tasks import from_text
from rnncourse.experiments import committed_results, default_out, write_results
from rnncourse.seq2seq import ATTENTIONS, accuracy_by_length, train_reverser

COMMITTED = committed_results("seq2seq")  # what chapter 9 renders; written only with --out results/seq2seq.json
EXAMPLE = "4071985362"  # the string whose attention map is recorded


def _load() -> list[float] | None:
    return [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None


def attention_map(model, text: str = EXAMPLE) -> list[list[float]]:
    """The attention weights (output step, source position) of ``model`` reversing ``text`` with teacher forcing."""
    from rnncourse.digit_tasks import BOS
    src = from_text(text)[None, :]
    tgt_in = torch.cat([torch.tensor([[BOS]]), src.flip(1)], dim=1)
    device = next(model.parameters()).device
    with torch.no_grad():
        _, weights = model(src.to(device), torch.tensor([src.shape[1]], device=device), tgt_in.to(device))
    return [[round(w, 4) for w in row] for row in weights[0].cpu().tolist()]


def combine(paths: list[Path]) -> dict:
    """The runs of several results files in one; settings must agree."""
    parts = [json.loads(Path(p).read_text()) for p in paths]
    first = parts[0]
    for p, part in zip(paths, parts):
        if part["settings"] != first["settings"]:
            raise ValueError(f"{p} was run with other settings than {paths[0]}: cannot combine")
    out = {k: v for k, v in first.items() if k not in ("runs", "parts")}
    out["parts"] = [{k: part.get(k) for k in ("command", "device", "seconds", "load_average_at_start",
                                              "load_average_at_end")} for part in parts]
    out["runs"] = [run for part in parts for run in part["runs"]]
    out["command"] = " ; ".join(part["command"] for part in parts)
    out["seconds"] = max(part["seconds"] for part in parts)
    out["cpu_seconds"] = sum(part["cpu_seconds"] for part in parts)
    out["attention_example"] = next((part["attention_example"] for part in parts if part.get("attention_example")),
                                    None)
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["none", "dot"], choices=list(ATTENTIONS))
    parser.add_argument("--max-len", type=int, default=16, help="training strings have lengths 1 .. max-len")
    parser.add_argument("--steps", type=int, default=1200, help="Adam steps per run (the same for every model)")
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--eval-per-length", type=int, default=200, help="test strings per length")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--device", default=None, help="cpu, cuda, ... (default: rnncourse.device.default_device)")
    parser.add_argument("--out", type=Path, default=default_out("seq2seq"),
                        help="results file (default: $RNNCOURSE_RUNS/seq2seq.json, else runs/seq2seq.json)")
    parser.add_argument("--combine", type=Path, nargs="+", help="join these results files into --out; train nothing")
    parser.add_argument("--smoke", action="store_true", help="a tiny run: strings of at most 4 digits, 5 steps")
    args = parser.parse_args(argv)
    command = ("python -m rnncourse.experiments.seq2seq " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))).strip()
    if args.combine:
        results = combine(args.combine)
        results["combined_by"] = command
        write_results(args.out, results)
        return results
    if args.smoke:
        args.max_len, args.steps, args.hidden, args.eval_per_length = min(args.max_len, 4), 5, 8, 4
    if args.max_len < 1 or args.steps < 1 or args.eval_per_length < 1:
        parser.error("--max-len, --steps and --eval-per-length must be positive")

    torch.set_num_threads(args.threads)
    device = default_device(args.device)
    results = {
        "task": "reverse a string of random digits (lengths 1 .. max_len); exact-match accuracy with greedy decoding",
        "command": command,
        "device": describe(device),
        "settings": {"max_len": args.max_len, "steps": args.steps, "batch": 64, "embed": 32, "hidden": args.hidden,
                     "lr": args.lr, "clip": 1.0, "eval_per_length": args.eval_per_length, "seeds": args.seeds},
        "load_average_at_start": _load(),
        "runs": [],
        "attention_example": None,
    }
    start, cpu_start = time.perf_counter(), time.process_time()
    lengths = list(range(1, args.max_len + 1))
    for name in args.models:
        for seed in args.seeds:
            t0 = time.perf_counter()
            model, losses = train_reverser(name, args.max_len, args.steps, seed, hidden=args.hidden, lr=args.lr,
                                           device=device, log_every=max(1, args.steps // 50))
            acc = accuracy_by_length(model, lengths, args.eval_per_length,
                                     torch.Generator().manual_seed(10_000 + seed), device)
            run = {"model": name, "seed": seed, "parameters": sum(p.numel() for p in model.parameters()),
                   "losses": [round(v, 5) for v in losses], "accuracy": {str(k): v for k, v in acc.items()},
                   "seconds": round(time.perf_counter() - t0, 2)}
            results["runs"].append(run)
            if name != "none" and results["attention_example"] is None:
                results["attention_example"] = {"model": name, "seed": seed, "text": EXAMPLE,
                                                "weights": attention_map(model)}
            print(f"{name:9s} seed {seed}: final loss {losses[-1]:.3f}, accuracy at length "
                  f"{args.max_len}: {acc[args.max_len]:.3f} ({run['seconds']:.1f} s)", flush=True)
    results["seconds"] = round(time.perf_counter() - start, 1)
    results["cpu_seconds"] = round(time.process_time() - cpu_start, 1)
    results["load_average_at_end"] = _load()
    write_results(args.out, results)
    return results


if __name__ == "__main__":
    main()
