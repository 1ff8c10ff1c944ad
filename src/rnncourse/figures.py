"""Figures of the book's pages, drawn with matplotlib at build time.

One module for all figures; functions are grouped by chapter.  Each returns the figure.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

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
