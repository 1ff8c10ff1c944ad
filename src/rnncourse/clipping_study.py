"""Reading the clipping experiments (``rnncourse.experiments.clipping``): tables and figures for chapter 4.

A run is one dict of a results file's ``"runs"``; its *arm* is ``"none"`` (no clipping),
``"warmup"`` (no clipping, learning-rate warm-up) or ``"clip"`` (global-norm clipping).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .experiments.clipping import arm

ARMS = ("none", "warmup", "clip")
ARM_STYLE = {"none": ("C3", "no clipping"), "warmup": ("C0", "no clipping, lr warm-up"),
             "clip": ("C2", "clipping")}


def solved(run: dict, threshold: float = 0.95) -> bool:
    """Held-out accuracy at the last probe at least ``threshold`` (a diverged run is never solved)."""
    acc = run.get("probe", {}).get("accuracy") or []
    if not acc:
        raise ValueError("the run has no held-out accuracy: it was made with --probe-every 0")
    return run["diverged_at"] is None and acc[-1] >= threshold


def sweep_summary(runs: list[dict]) -> list[dict]:
    """One row per (setting, learning rate, arm): how many seeds solved the task, of how many,
    the median final training loss and the range of clipped steps.  A setting is (optimizer, lag).
    Rows come in the order setting, lr, then ``ARMS``."""
    groups: dict = {}
    for r in runs:
        key = (r.get("optimizer", "sgd"), r.get("lag", 20), r["lr"], arm(r))
        groups.setdefault(key, []).append(r)
    rows = []
    for (opt, lag, lr, a) in sorted(groups, key=lambda k: (k[0], k[1], k[2], ARMS.index(k[3]))):
        rs = groups[(opt, lag, lr, a)]
        finals = [r["final_loss"] for r in rs if r["final_loss"] is not None]
        rows.append({"optimizer": opt, "lag": lag, "lr": lr, "arm": a, "seeds": len(rs),
                     "solved": sum(solved(r) for r in rs),
                     "median_final_loss": float(np.median(finals)) if finals else None,
                     "clipped": (min(r["clipped_steps"] for r in rs), max(r["clipped_steps"] for r in rs))})
    return rows


def sweep_figure(sweep: dict):
    """Left: seeds that solve the task against the learning rate, one line per arm.  Right: the final
    training loss of every seed (dots) and its median (line)."""
    rows = sweep_summary(sweep["runs"])
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 3.5))
    offsets = {"none": 0.97, "warmup": 1.0, "clip": 1.03}  # small horizontal shifts keep dots apart
    for a in ARMS:
        sel = [r for r in rows if r["arm"] == a]
        if not sel:
            continue
        color, label = ARM_STYLE[a]
        lrs = [r["lr"] for r in sel]
        axes[0].plot(lrs, [r["solved"] for r in sel], marker="o", color=color, label=label)
        for lr in lrs:
            finals = [r["final_loss"] for r in sweep["runs"] if r["lr"] == lr and arm(r) == a
                      and r["final_loss"] is not None]
            axes[1].scatter([lr * offsets[a]] * len(finals), finals, color=color, alpha=0.5, s=14)
        axes[1].plot(lrs, [r["median_final_loss"] for r in sel], color=color, label=label)
    seeds = max(r["seeds"] for r in rows)
    axes[0].set(xscale="log", ylim=(-0.2, seeds + 0.2), xlabel="learning rate",
                ylabel=f"seeds solved (of {seeds})", title="held-out accuracy at least 95%")
    axes[1].axhline(np.log(4), color="gray", ls=":", label="chance, ln 4")
    axes[1].set(xscale="log", yscale="log", xlabel="learning rate", ylabel="final training loss",
                title="final loss (dots: seeds, line: median)")
    for ax in axes:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def share_figure(results: dict):
    """For runs with probes: the share of the gradient that reaches step 1, ||dL/dh_1|| / ||dL/dh_T||,
    and the held-out accuracy during training; one panel pair per (optimizer, lr), median over seeds
    (line) and every seed (thin lines), clipped against unclipped."""
    runs = results["runs"]
    settings = sorted({(r.get("optimizer", "sgd"), r["lr"]) for r in runs})
    fig, axes = plt.subplots(2, len(settings), figsize=(3.6 * len(settings), 5.6), squeeze=False, sharex=True)
    for col, (opt, lr) in enumerate(settings):
        for a in ("none", "clip"):
            sel = [r for r in runs if r.get("optimizer", "sgd") == opt and r["lr"] == lr and arm(r) == a]
            if not sel:
                continue
            color, label = ARM_STYLE[a]
            steps = sel[0]["probe"]["step"]
            share = np.array([[np.nan if v is None else v for v in r["probe"]["share"]] for r in sel])
            acc = np.array([r["probe"]["accuracy"] for r in sel])
            for row, values in ((0, share), (1, acc)):
                for v in values:
                    axes[row, col].plot(steps, v, color=color, lw=0.5, alpha=0.4)
                axes[row, col].plot(steps, np.nanmedian(values, axis=0), color=color, lw=2, label=label)
        axes[0, col].set(yscale="log", title=f"{opt}, lr {lr:g}")
        axes[1, col].set(xlabel="training step", ylim=(0, 1.02))
        axes[1, col].axhline(0.25, color="gray", ls=":", lw=1)
    axes[0, 0].set_ylabel(r"$\|\partial L/\partial h_1\| / \|\partial L/\partial h_T\|$")
    axes[1, 0].set_ylabel("held-out accuracy")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    return fig
