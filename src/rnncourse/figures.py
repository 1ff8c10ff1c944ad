"""Plotting helpers of the chapter pages, grouped by chapter.

Pages call these so that they show the code that teaches and the figure, not the matplotlib
bookkeeping.  Every function draws on axes it is given (or makes its own figure) and returns them.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


# --- chapter 1/2/3 ---
def plot_hello_training(loss, accuracy, axes=None):
    """Loss and accuracy of the "hello" model, both measured *before* update i (i = 0 is the start).

    loss, accuracy: sequences of equal length; entry i is measured after i updates.
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9, 3))
    done = np.arange(len(loss))
    axes[0].plot(done, loss)
    axes[0].set(xlabel="updates done", ylabel="cross-entropy per character (nats)", title="Loss on 'hello'")
    axes[1].plot(done, accuracy, drawstyle="steps-post")
    axes[1].set(xlabel="updates done", ylabel="accuracy", title="Next-character accuracy", ylim=(0, 1.05))
    plt.tight_layout()
    return axes


def show_unit(ax, text, values, title, width=72):
    """Draw ``text`` in a monospace grid, each character on a cell coloured by its value in [-1, 1]."""
    cmap = plt.get_cmap("RdBu_r")
    row = col = 0
    for ch, v in zip(text, values):
        ax.add_patch(plt.Rectangle((col, -row - 1), 1, 1, color=cmap((v + 1) / 2), lw=0))
        if ch not in " \n":
            ax.text(col + 0.5, -row - 0.5, ch, ha="center", va="center", family="monospace", fontsize=7)
        col += 1
        if ch == "\n":
            row, col = row + 1, 0
    ax.set_xlim(0, width)
    ax.set_ylim(-row - 1, 0)
    ax.set_title(title, fontsize=9, loc="left")
    ax.axis("off")
    return ax


def snippet_positions(text, start, lines=9, width=71):
    """A block of ``lines`` lines of ``text`` from ``start``, each cut to ``width`` characters.

    returns (snippet, positions): the block, and for each of its characters the index in ``text``.
    """
    rows = text[start:].split("\n")[:lines]
    snippet = "\n".join(r[:width] for r in rows)
    positions, pos = [], start
    for r in rows:
        positions.extend(range(pos, pos + min(len(r), width)))
        positions.append(pos + len(r))
        pos += len(r) + 1
    return snippet, positions[:len(snippet)]


def plot_units(snippet, values_by_title, figsize=(7.5, 5.6)):
    """One ``show_unit`` panel per (title, values) item."""
    fig, axes = plt.subplots(len(values_by_title), 1, figsize=figsize)
    for ax, (title, values) in zip(np.atleast_1d(axes), values_by_title.items()):
        show_unit(ax, snippet, values, title)
    plt.tight_layout()
    return fig


def band(ax, x, runs, label, **style):
    """Mean over runs (rows) as a line, min to max as a shaded band."""
    runs = np.asarray(runs, dtype=float)
    line, = ax.plot(x, runs.mean(axis=0), label=label, **style)
    ax.fill_between(x, runs.min(axis=0), runs.max(axis=0), color=line.get_color(), alpha=0.2, lw=0)
    return line


def plot_exposure_bias(result, ax=None):
    """Free-running accuracy per step of every training mode (mean, min-max over seeds), the Bayes filter,
    and the teacher-forced accuracy of the teacher-forced models."""
    if ax is None:
        _, ax = plt.subplots(figsize=(9.5, 3.6))
    steps = np.arange(1, len(result["bayes_filter"]) + 1)
    names = {"teacher": "trained with teacher forcing", "scheduled": "trained with scheduled sampling",
             "free": "trained free running"}
    for mode, label in names.items():
        band(ax, steps, [r["free_running"] for r in result["runs"][mode]], label + ", run free")
    band(ax, steps, [r["teacher_forced"] for r in result["runs"]["teacher"]],
         "trained with teacher forcing, fed the truth", color="C0", ls=":")
    ax.plot(steps, result["bayes_filter"], "k--", lw=1, label="best possible (Bayes filter)")
    ax.axhline(0.2, color="gray", ls="--", lw=0.8, label="chance")
    ax.set(xlabel="time step", ylabel="accuracy", ylim=(0, 1.02),
           title=f"Running sum with noisy hints ({len(result['seeds'])} seeds, band = min to max)")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    plt.tight_layout()
    return ax


def plot_tbptt_reach(result, axes=None):
    """Accuracy against delay: left, fixed window with several shifts; right, fixed shift with several windows."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.4), sharey=True)
    by_config = {}
    for r in result["runs"]:
        by_config.setdefault((r["window"], r["shift"]), []).append(r)
    for ax, key, title in [(axes[0], "fixed_window", "window k = 8, shift varied"),
                           (axes[1], "fixed_shift", "shift s = 2, window varied")]:
        for marker, (k, s) in zip("os^v", result[key]):
            runs = sorted(by_config[(k, s)], key=lambda r: r["delay"])
            delays = [r["delay"] for r in runs]
            acc = np.array([r["accuracy"] for r in runs]).T          # (seeds, delays)
            band(ax, delays, acc, f"k = {k}, s = {s}", marker=marker)
        ax.axhline(0.5, color="gray", ls="--", lw=0.8)
        ax.set(xlabel="delay d (target = input d steps ago)", title=title, ylim=(0.4, 1.02))
        ax.legend(fontsize=8)
    axes[0].set_ylabel("test accuracy")
    plt.tight_layout()
    return axes


def plot_learning_per_char(learning, ax=None):
    """Training loss (bits per character) against characters seen for the benchmark's contenders."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.4))
    chars = np.array(learning["chars_at_point"]) / 1e3
    labels = {"loop_batch1": "single-sequence loop", "trainer_batch1": "charlm.train, batch 1",
              "trainer_batch64": "charlm.train, batch 64"}
    for (name, label), style in zip(labels.items(), [dict(ls="-"), dict(ls="--"), dict(ls="-", marker="o")]):
        band(ax, chars, np.array(learning["train_nats"][name]) / np.log(2), label, **style)
    ax.set(xlabel="characters seen (thousands)", ylabel="training bits per character",
           title=f"Same characters, same start ({len(learning['seeds'])} seeds)")
    ax.legend(fontsize=8)
    return ax

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
