"""Unrolled RNN diagrams drawn with matplotlib (the book draws its figures at build time)."""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

COLORS = {"input": "#f4a6a6", "hidden": "#9fd8a4", "output": "#9cc3f0"}

# (which steps get an input, which steps give an output)
SHAPES = {
    "one to one": ([1], [1]),
    "one to many": ([1, 0, 0, 0], [1, 1, 1, 1]),
    "many to one": ([1, 1, 1, 1], [0, 0, 0, 1]),
    "many to many (delayed)": ([1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]),
    "many to many (synced)": ([1, 1, 1, 1], [1, 1, 1, 1]),
}


def _box(ax, x, y, kind, text=""):
    ax.add_patch(FancyBboxPatch((x - 0.3, y - 0.22), 0.6, 0.44, boxstyle="round,pad=0.02",
                                facecolor=COLORS[kind], edgecolor="black", linewidth=0.8))
    if text:
        ax.text(x, y, text, ha="center", va="center", fontsize=9)


def _arrow(ax, start, end, text="", offset=(0.0, 0.0)):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=9, linewidth=0.9, color="black"))
    if text:
        ax.text((start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1], text,
                fontsize=8, ha="center", va="center", color="#444444")


def draw_unrolled(ax, inputs, outputs, layers: int = 1, labels: bool = False, title: str = ""):
    """Draw an RNN unrolled over ``len(inputs)`` steps.

    inputs, outputs: sequences of 0/1, which steps receive an input and which emit an output.
    layers: number of stacked hidden layers.  labels: write x_t, h_t, y_t and weight names.
    """
    if len(inputs) != len(outputs):
        raise ValueError(f"inputs and outputs need the same length, got {len(inputs)} and {len(outputs)}")
    steps = len(inputs)
    top = layers + 1
    for t in range(steps):
        x = 1.1 * t
        if inputs[t]:
            _box(ax, x, 0, "input", f"$x_{t + 1}$" if labels else "")
            _arrow(ax, (x, 0.22), (x, 0.78), "$W_{xh}$" if labels and t == 0 else "", (0.33, 0))
        for k in range(layers):
            y = 1 + k
            name = f"$h_{t + 1}$" if layers == 1 else f"$h^{{({k + 1})}}_{t + 1}$"
            _box(ax, x, y, "hidden", name if labels else "")
            if k > 0:
                _arrow(ax, (x, y - 0.78), (x, y - 0.22))
            if t + 1 < steps:
                _arrow(ax, (x + 0.3, y), (x + 0.8, y), "$W_{hh}$" if labels and t == 0 and k == 0 else "", (0, 0.17))
        if outputs[t]:
            _box(ax, x, top, "output", f"$y_{t + 1}$" if labels else "")
            _arrow(ax, (x, top - 0.78), (x, top - 0.22), "$W_{hy}$" if labels and t == steps - 1 else "", (0.33, 0))
    ax.set_xlim(-0.5, 1.1 * (steps - 1) + 0.5)
    ax.set_ylim(-0.4, top + 0.4)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def draw_four_shapes():
    """One figure with the five input/output patterns side by side."""
    widths = [len(i) for i, _ in SHAPES.values()]
    fig, axes = plt.subplots(1, len(SHAPES), figsize=(13, 2.6), gridspec_kw={"width_ratios": widths})
    for ax, (name, (inputs, outputs)) in zip(axes, SHAPES.items()):
        draw_unrolled(ax, inputs, outputs, title=name)
    fig.tight_layout()
    return fig
