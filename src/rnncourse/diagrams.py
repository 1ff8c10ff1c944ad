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


# --- gated cells (chapter 5) ------------------------------------------------------------
GATE_COLOR, OP_COLOR, LINE = "#f6d28b", "#f3b3c9", "#333333"


def _layer(ax, x, y, text):
    """A neural-network layer (weights, then an activation): a rounded rectangle."""
    ax.add_patch(FancyBboxPatch((x - 0.42, y - 0.28), 0.84, 0.56, boxstyle="round,pad=0.03",
                                facecolor=GATE_COLOR, edgecolor="black", linewidth=0.8, zorder=3))
    ax.text(x, y, text, ha="center", va="center", fontsize=10, zorder=4)


def _op(ax, x, y, text):
    """An entry-by-entry operation (product, sum, tanh): a small circle."""
    ax.add_patch(plt.Circle((x, y), 0.28, facecolor=OP_COLOR, edgecolor="black", linewidth=0.8, zorder=3))
    ax.text(x, y, text, ha="center", va="center", fontsize=9 if len(text) > 1 else 12, zorder=4)


def _path(ax, *points, arrow=True):
    """A polyline through ``points``; an arrow head on the last segment."""
    for (x0, y0), (x1, y1) in zip(points[:-2], points[1:-1]):
        ax.plot([x0, x1], [y0, y1], color=LINE, lw=1.2, zorder=1, solid_capstyle="round")
    (x0, y0), (x1, y1) = points[-2], points[-1]
    ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>" if arrow else "-", mutation_scale=10,
                                 color=LINE, lw=1.2, zorder=2, shrinkA=0, shrinkB=9 if arrow else 0))


def _frame(ax, width, height, title):
    ax.add_patch(FancyBboxPatch((0.8, 0.55), width - 1.6, height - 1.0, boxstyle="round,pad=0.05",
                                facecolor="#eef3f8", edgecolor="#7a8ca0", linewidth=1.0, zorder=0))
    ax.set_xlim(-0.3, width + 0.3)
    ax.set_ylim(-0.6, height + 0.3)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=10)


def draw_lstm_cell(ax=None):
    """One LSTM step (PyTorch's equations): gates i, f, o (sigmoid layers) and candidate g (tanh layer)
    read [h_{t-1}, x_t]; the cell state runs along the top, scaled by f and added to i * g;
    h_t = o * tanh(c_t).  Returns the figure."""
    fig = plt.figure(figsize=(7, 4.2)) if ax is None else ax.figure
    ax = ax or fig.add_subplot()
    _frame(ax, 11, 6, "LSTM cell: $c_t = f_t \\odot c_{t-1} + i_t \\odot g_t$,  $h_t = o_t \\odot \\tanh(c_t)$")
    top, bus, gates = 5.0, 1.2, 2.7
    # cell-state path (the additive memory)
    _path(ax, (0, top), (2.72, top))
    _op(ax, 3.0, top, "×")
    _path(ax, (3.28, top), (5.72, top))
    _op(ax, 6.0, top, "+")
    _path(ax, (6.28, top), (11, top))
    ax.text(0, top + 0.3, "$c_{t-1}$", fontsize=11)
    ax.text(10.4, top + 0.3, "$c_t$", fontsize=11)
    # inputs: h_{t-1} from the left and x_t from below join on one bus
    _path(ax, (0, bus), (7.6, bus), arrow=False)
    ax.text(0, bus - 0.45, "$h_{t-1}$", fontsize=11)
    _path(ax, (1.6, -0.5), (1.6, bus), arrow=False)
    ax.text(1.75, -0.45, "$x_t$", fontsize=11)
    for x, text, name in [(3.0, "σ", "$f_t$"), (4.3, "σ", "$i_t$"), (5.5, "tanh", "$g_t$"), (7.6, "σ", "$o_t$")]:
        _path(ax, (x, bus), (x, gates - 0.28))
        _layer(ax, x, gates, text)
        ax.text(x + 0.47, gates - 0.55, name, fontsize=10, color="#7a4b00")
    _path(ax, (3.0, gates + 0.28), (3.0, top - 0.28))                  # f scales the old memory
    _op(ax, 6.0, 3.9, "×")                                             # i * g
    _path(ax, (4.3, gates + 0.28), (4.3, 3.9), (5.72, 3.9))
    _path(ax, (5.5, gates + 0.28), (5.5, 3.45), (5.8, 3.7))
    _path(ax, (6.0, 4.18), (6.0, top - 0.28))
    _op(ax, 8.9, 3.9, "tanh")                                          # h = o * tanh(c)
    _path(ax, (8.9, top), (8.9, 4.18))
    _op(ax, 8.9, gates, "×")
    _path(ax, (8.9, 3.62), (8.9, gates + 0.28))
    _path(ax, (7.6, gates + 0.28), (7.6, 3.2), (8.3, 3.2), (8.7, gates + 0.22))
    _path(ax, (8.9, gates - 0.28), (8.9, bus), (11, bus))
    _path(ax, (9.7, bus), (9.7, 6.3))
    ax.text(10.4, bus - 0.45, "$h_t$", fontsize=11)
    ax.text(9.85, 6.0, "$h_t$", fontsize=11)
    return fig


def draw_gru_cell(ax=None):
    """One GRU step (PyTorch's equations): reset r and update z (sigmoid layers) read [h_{t-1}, x_t];
    the candidate n = tanh(W_in x + b_in + r * (W_hn h_{t-1} + b_hn)); h_t = (1 - z) * n + z * h_{t-1}
    runs along the top.  Returns the figure."""
    fig = plt.figure(figsize=(7, 4.2)) if ax is None else ax.figure
    ax = ax or fig.add_subplot()
    _frame(ax, 11, 6, "GRU cell: $h_t = (1 - z_t) \\odot n_t + z_t \\odot h_{t-1}$")
    top, bus, gates = 5.0, 1.2, 2.7
    _path(ax, (0, top), (4.72, top))
    _op(ax, 5.0, top, "×")
    _path(ax, (5.28, top), (7.72, top))
    _op(ax, 8.0, top, "+")
    _path(ax, (8.28, top), (11, top))
    ax.text(0, top + 0.3, "$h_{t-1}$", fontsize=11)
    ax.text(10.4, top + 0.3, "$h_t$", fontsize=11)
    _path(ax, (1.2, top), (1.2, bus), (6.9, bus), arrow=False)         # h_{t-1} also feeds the layers
    _path(ax, (1.9, -0.5), (1.9, bus), arrow=False)
    ax.text(2.05, -0.45, "$x_t$", fontsize=11)
    for x, name in [(2.8, "$r_t$"), (4.0, "$z_t$")]:
        _path(ax, (x, bus), (x, gates - 0.28))
        _layer(ax, x, gates, "σ")
        ax.text(x + 0.47, gates - 0.55, name, fontsize=10, color="#7a4b00")
    _path(ax, (4.0, gates + 0.28), (4.0, 3.9), (5.0, 3.9), (5.0, top - 0.28))   # z keeps the old state
    _op(ax, 6.3, 3.9, "1−")
    _path(ax, (5.0, 3.9), (6.02, 3.9))
    _op(ax, 8.0, 3.9, "×")
    _path(ax, (6.58, 3.9), (7.72, 3.9))
    _path(ax, (8.0, 4.18), (8.0, top - 0.28))
    _layer(ax, 8.0, gates, "tanh")                                     # candidate n
    ax.text(8.45, gates - 0.6, "$n_t$", fontsize=10, color="#7a4b00")
    _path(ax, (8.0, gates + 0.28), (8.0, 3.62))
    _op(ax, 6.9, gates, "×")                                           # r * (W_hn h + b_hn)
    _path(ax, (2.8, gates + 0.28), (2.8, 3.35), (6.5, 3.35), (6.8, gates + 0.26))
    _path(ax, (6.9, bus), (6.9, gates - 0.28))
    ax.text(5.3, 1.75, "$W_{hn}h_{t-1}{+}b_{hn}$", fontsize=7)
    _path(ax, (7.18, gates), (7.58, gates))
    _path(ax, (1.9, 0.5), (8.0, 0.5), (8.0, gates - 0.28))             # W_in x_t + b_in
    ax.text(5.3, 0.15, "$W_{in}x_t{+}b_{in}$", fontsize=7)
    return fig
