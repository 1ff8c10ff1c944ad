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


# --- chapter 4 ---


def cliff_figure(w, loss, grad, wall: float, step_raw: float, step_clipped: float):
    """Loss and |dL/dw| of the one-unit net against w, with one SGD step taken from the wall.

    w, loss, grad: arrays of the same shape (``gradient_flow.scalar_loss_landscape``); wall: the
    w of the largest |dL/dw|; step_raw / step_clipped: the change of w of an unclipped / clipped step.
    """
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.3))
    axes[0].plot(w, loss, color="C0")
    axes[0].axvline(wall, color="gray", ls=":", lw=1)
    axes[0].annotate("", xy=(wall + step_clipped, loss.max() * 0.55), xytext=(wall, loss.max() * 0.55),
                     arrowprops=dict(arrowstyle="-|>", color="C2", lw=2))
    axes[0].text(wall + 0.05, loss.max() * 0.62, f"clipped step {step_clipped:+.2f}", color="C2", fontsize=8)
    axes[0].text(wall + 0.05, loss.max() * 0.4, f"unclipped step {step_raw:+.0f} (off the plot)", color="C3",
                 fontsize=8)
    axes[0].set(xlabel="$w$", ylabel="$L(w)$", title="a cliff in the loss")
    axes[1].semilogy(w, np.abs(grad), color="C1")
    axes[1].set(xlabel="$w$", ylabel=r"$|dL/dw|$", title="the gradient on the wall")
    fig.tight_layout()
    return fig


def clipping_sweep_figure(sweep: dict):
    """Final loss against learning rate, with and without clipping (one dot per seed, line: median),
    and the gradient norm at every step for one seed at the learning rate where clipping matters most.

    sweep: the dict in ``results/clipping.json`` (``rnncourse.experiments.clipping``).
    """
    runs = sweep["runs"]
    lrs = sorted({r["lr"] for r in runs})
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 3.5))
    for clip, color, label in [(None, "C3", "no clipping"), (sweep["settings"]["clip"], "C2", "clip norm at 1")]:
        finals = [[r["final_loss"] for r in runs if r["lr"] == lr and r["clip"] == clip] for lr in lrs]
        for lr, values in zip(lrs, finals):
            axes[0].scatter([lr] * len(values), values, color=color, alpha=0.6, s=18)
        axes[0].plot(lrs, [np.median(v) for v in finals], color=color, label=label)
    axes[0].axhline(np.log(4), color="gray", ls=":", label="chance, ln 4")
    axes[0].set(xscale="log", yscale="log", xlabel="SGD learning rate",
                ylabel="final training loss", title="final loss (dots: seeds, line: median)")
    axes[0].legend(fontsize=8)
    worst = max(lrs, key=lambda lr: np.median([r["final_loss"] for r in runs if r["lr"] == lr and r["clip"] is None])
                / np.median([r["final_loss"] for r in runs if r["lr"] == lr and r["clip"] is not None]))
    for r in runs:
        if r["lr"] == worst and r["seed"] == sweep["settings"]["seeds"][0]:
            norms = np.array([np.nan if v is None else v for v in r["grad_norm"]])
            axes[1].semilogy(np.arange(1, len(norms) + 1), norms, lw=0.8, color="C2" if r["clip"] else "C3",
                             label="clip norm at 1" if r["clip"] else "no clipping")
    axes[1].axhline(sweep["settings"]["clip"], color="gray", ls=":", lw=1)
    axes[1].set(xlabel="SGD step", ylabel="global gradient norm (before clipping)",
                title=f"learning rate {worst:g}, seed {sweep['settings']['seeds'][0]}")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    return fig


def gradient_terms_figure(terms_by_label: dict):
    """||dL/dW_k||_F against the distance d = T - k, one line per label.

    terms_by_label: label -> array (T, n, n) from ``gradient_flow.gradient_contributions``.
    """
    fig, ax = plt.subplots(figsize=(6.8, 3.6))
    for label, terms in terms_by_label.items():
        size = np.linalg.norm(terms, axis=(1, 2))
        ax.semilogy(np.arange(len(terms)), np.where(size > 0, size, np.nan), label=label)
    ax.set(xlabel="distance $d = T - k$", ylabel=r"$\|\partial L/\partial W_k\|_F$",
           title="Short-range (small $d$) and long-range terms of $\\partial L/\\partial W$")
    ax.legend(fontsize=8)
    return fig


def long_lag_gradient_figure(runs: list, model: str = "rnn"):
    """For one model of ``results/long_lag.json``: the share of the gradient that reaches step 1,
    ||dL/dh_1|| / ||dL/dh_T||, at initialisation and after training, for every lag and seed,
    next to the final held-out accuracy."""
    sel = [r for r in runs if r["model"] == model]
    lags = sorted({r["length"] for r in sel})
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 3.4))
    for key, marker, label in [("grad_norm_init", "o", "at initialisation"), ("grad_norm_final", "x", "after training")]:
        ratio = [max(r[key][0] / r[key][-1], 1e-30) for r in sel]
        axes[0].scatter([r["length"] for r in sel], ratio, marker=marker, label=label)
    axes[0].set(xscale="log", yscale="log", xlabel="lag", ylabel=r"$\|\partial L/\partial h_1\| / \|\partial L/\partial h_T\|$",
                title="gradient that reaches the first symbol")
    axes[1].scatter([r["length"] for r in sel], [r["accuracy"][-1] for r in sel], alpha=0.7, label="one seed")
    axes[1].axhline(0.25, color="gray", ls=":", label="chance")
    axes[1].set(xscale="log", xlabel="lag", ylabel="final held-out accuracy", ylim=(0, 1.05), title="what was learned")
    for ax in axes:
        ax.set_xticks(lags, [str(lag) for lag in lags])
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig

# --- chapter 5 ---


def long_lag_curves_figure(runs: list, labels: dict, lag: int, seed: int = 0):
    """Left: fraction of seeds solved against the lag, per model; right: held-out accuracy against
    Adam step at one lag and seed.  runs: ``results/long_lag.json``'s runs; labels: model -> label."""
    models = [m for m in labels if any(r["model"] == m for r in runs)]
    lags = sorted({r["length"] for r in runs})
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for m in models:
        frac = [np.mean([r["solved"] for r in runs if r["model"] == m and r["length"] == x]) for x in lags]
        axes[0].plot(lags, frac, marker="o", label=labels[m])
        r = next(r for r in runs if r["model"] == m and r["length"] == lag and r["seed"] == seed)
        axes[1].plot(r["step"], r["accuracy"], marker=".", label=labels[m])
    axes[0].set(xlabel="lag (sequence length)", ylabel="fraction of seeds solved", xscale="log", ylim=(-0.05, 1.05),
                title="Which models learn which lags")
    axes[0].set_xticks(lags, [str(x) for x in lags])
    axes[1].axhline(0.25, color="gray", ls=":", label="chance")
    axes[1].set(xlabel="Adam step", ylabel="held-out accuracy", ylim=(0, 1.05),
                title=f"Learning curves at lag {lag} (seed {seed})")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    return fig


def long_lag_gradients_before_after(runs: list, labels: dict, lag: int, seed: int = 0):
    """||dL/dh_t|| against t at initialisation and after training, per model, at one lag and seed."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
    for m in (m for m in labels if any(r["model"] == m for r in runs)):
        r = next(r for r in runs if r["model"] == m and r["length"] == lag and r["seed"] == seed)
        t = np.arange(1, lag + 1)
        axes[0].semilogy(t, np.maximum(r["grad_norm_init"], 1e-30), label=labels[m])
        axes[1].semilogy(t, np.maximum(r["grad_norm_final"], 1e-30), label=labels[m])
    axes[0].set(xlabel="step $t$", ylabel=r"$\|\partial L/\partial h_t\|$", title="at initialisation")
    axes[1].set(xlabel="step $t$", title="after training")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    return fig

# --- chapter 7 ---


def adding_curves_figure(results: dict, names: dict, seed: int = 0):
    """Test MSE against training step for every model of ``results/adding.json`` at one seed,
    one panel per sequence length, with the baseline 1/6 and the one-value plateau 1/12."""
    lengths = sorted({r["length"] for r in results["runs"]})
    fig, axes = plt.subplots(1, len(lengths), figsize=(5 * len(lengths), 3.4), sharey=True, squeeze=False)
    for ax, length in zip(axes[0], lengths):
        for kind, label in names.items():
            for run in results["runs"]:
                if run["length"] == length and run["model"] == kind and run["seed"] == seed:
                    ax.plot(run["steps"], run["test_mse"], label=label, lw=1.2 if kind.startswith("tanh") else 1.6,
                            ls="-" if kind in ("irnn", "lstm") else "--")
        ax.axhline(results["baseline_mse"], color="k", ls="--", lw=1, label="baseline 1/6")
        ax.axhline(results["baseline_mse"] / 2, color="gray", ls=":", lw=1, label="one value known, 1/12")
        ax.set(yscale="log", ylim=(1e-4, 1.5), title=f"adding problem, T = {length} (seed {seed})",
               xlabel="training step")
    axes[0][0].set_ylabel("test MSE")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    return fig


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
