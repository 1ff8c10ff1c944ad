"""Plotting helpers of the book's pages, grouped by chapter (matplotlib; each returns its figure)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

# --- chapter 8 ---

TASK_TITLES = {"pixel": "pixel order", "permuted": "permuted"}


def plot_accuracy_curves(runs: list[dict], title: str, sequence_name: str = "MNIST (784 steps)"):
    """Test accuracy against training step, one panel per task, one line per run.

    ``runs``: records of ``rnncourse.experiments.pixel_mnist`` (keys ``task``,
    ``model_label``, ``history``).  Several seeds of one model share a colour; the
    line is their mean and the band spans their minimum and maximum.
    """
    tasks = [t for t in TASK_TITLES if any(r["task"] == t for r in runs)]
    fig, axes = plt.subplots(1, len(tasks), figsize=(5 * len(tasks), 3.4), sharey=True, squeeze=False)
    for ax, task in zip(axes[0], tasks):
        labels = list(dict.fromkeys(r["model_label"] for r in runs if r["task"] == task))
        for i, label in enumerate(labels):
            group = [r for r in runs if r["task"] == task and r["model_label"] == label]
            steps = [h["step"] for h in group[0]["history"]]
            curves = np.array([[h["test_accuracy"] for h in r["history"]][:len(steps)] for r in group
                               if len(r["history"]) >= len(steps)])
            seeds = f" ({len(curves)} seeds)" if len(curves) > 1 else ""
            ax.plot(steps, curves.mean(0), marker="o", ms=3, color=f"C{i}", label=label + seeds)
            if len(curves) > 1:
                ax.fill_between(steps, curves.min(0), curves.max(0), color=f"C{i}", alpha=0.2)
        ax.set_title(f"{TASK_TITLES[task]}, {sequence_name}: {title}", fontsize=10)
        ax.set_xlabel("training step")
    axes[0][0].set_ylabel("test accuracy")
    axes[0][-1].legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_dead_units(runs: list[dict]):
    """Dead-unit fraction after training against learning rate, one line per input scaling.

    ``runs``: the ``runs`` of ``rnncourse.experiments.dead_units`` (keys ``inputs``,
    ``lr``, ``dead_at_init``, ``dead_after``).  Markers are seeds; the line joins
    their means; the dotted line is the fraction dead before training.
    """
    fig, ax = plt.subplots(figsize=(6, 3.4))
    for i, inputs in enumerate(dict.fromkeys(r["inputs"] for r in runs)):
        group = [r for r in runs if r["inputs"] == inputs]
        lrs = sorted({r["lr"] for r in group})
        after = [np.mean([r["dead_after"] for r in group if r["lr"] == lr]) for lr in lrs]
        init = np.mean([r["dead_at_init"] for r in group])
        ax.semilogx(lrs, after, color=f"C{i}", label=f"{inputs}: after training")
        ax.scatter([r["lr"] for r in group], [r["dead_after"] for r in group], color=f"C{i}", s=12)
        ax.axhline(init, color=f"C{i}", ls=":", label=f"{inputs}: before training")
    ax.set_xlabel("Adam learning rate")
    ax.set_ylabel("fraction of dead hidden units")
    ax.set_ylim(-0.03, 1.03)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
