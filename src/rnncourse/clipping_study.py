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
    the median final training loss and the range of clipped steps.  A setting is (initialisation,
    optimizer, lag).  Rows come in the order setting, lr, then ``ARMS``."""
    groups: dict = {}
    for r in runs:
        key = (r.get("init", "orthogonal_1.5"), r.get("optimizer", "sgd"), r.get("lag", 20), r["lr"], arm(r))
        groups.setdefault(key, []).append(r)
    rows = []
    for key in sorted(groups, key=lambda k: (k[:4], ARMS.index(k[4]))):
        rs = groups[key]
        finals = [r["final_loss"] for r in rs if r["final_loss"] is not None]
        shares = [r["probe"]["share"][-1] for r in rs if r.get("probe", {}).get("share")]
        shares = [v for v in shares if v is not None]
        rows.append({"init": key[0], "optimizer": key[1], "lag": key[2], "lr": key[3], "arm": key[4],
                     "seeds": len(rs), "solved": sum(solved(r) for r in rs),
                     "median_final_loss": float(np.median(finals)) if finals else None,
                     "final_share": (min(shares), max(shares)) if shares else None,
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
    during training.  One row per initialisation, one column per (optimizer, lr); median over seeds
    (thick line) and every seed (thin lines), clipped against unclipped."""
    runs = results["runs"]
    inits = sorted({r.get("init", "orthogonal_1.5") for r in runs})
    settings = sorted({(r.get("optimizer", "sgd"), r["lr"]) for r in runs}, key=lambda s: (s[0] != "sgd", s))
    fig, axes = plt.subplots(len(inits), len(settings), figsize=(3.6 * len(settings), 2.9 * len(inits)),
                             squeeze=False, sharex=True)
    for row, init in enumerate(inits):
        for col, (opt, lr) in enumerate(settings):
            ax = axes[row, col]
            for a in ("none", "clip"):
                sel = [r for r in runs if r.get("init", "orthogonal_1.5") == init and r.get("optimizer", "sgd") == opt
                       and r["lr"] == lr and arm(r) == a]
                if not sel:
                    continue
                color, label = ARM_STYLE[a]
                steps = sel[0]["probe"]["step"]
                share = np.array([[np.nan if v is None else v for v in r["probe"]["share"]] for r in sel])
                for v in share:
                    ax.plot(steps, v, color=color, lw=0.5, alpha=0.4)
                ax.plot(steps, np.nanmedian(share, axis=0), color=color, lw=2, label=label)
            ax.set(yscale="log", title=f"{init} init, {opt} lr {lr:g}")
            ax.title.set_fontsize(9)
        axes[row, 0].set_ylabel(r"$\|\partial L/\partial h_1\| / \|\partial L/\partial h_T\|$")
    for ax in axes[-1]:
        ax.set_xlabel("training step")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    return fig
