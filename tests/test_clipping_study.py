"""Tables and figures of the clipping experiments count seeds per arm and learning rate correctly."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from rnncourse.clipping_study import share_figure, solved, sweep_figure, sweep_summary  # noqa: E402


def run(lr, clip, warmup, seed, acc, final=0.01, clipped=0, diverged=None, optimizer="sgd"):
    return {"lr": lr, "clip": clip, "warmup": warmup, "seed": seed, "optimizer": optimizer, "lag": 20,
            "final_loss": None if diverged else final, "diverged_at": diverged, "clipped_steps": clipped,
            "loss": [1.0, final], "grad_norm": [2.0, 0.1],
            "probe": {"step": [0, 2], "accuracy": [0.25, acc], "share": [1e-3, 1e-2]}}


RUNS = [run(0.1, None, 0, 0, 1.0), run(0.1, None, 0, 1, 0.5, final=1.0), run(0.1, 1.0, 0, 0, 1.0, clipped=3),
        run(0.1, 1.0, 0, 1, 0.96, clipped=7), run(0.1, None, 50, 0, 0.94), run(0.1, None, 50, 1, 1.0, diverged=2),
        run(0.3, None, 0, 0, 0.3, final=2.0), run(0.3, 1.0, 0, 0, 1.0, clipped=5)]


def test_summary_counts_solved_seeds_per_arm():
    rows = sweep_summary(RUNS)
    got = [(r["lr"], r["arm"], r["solved"], r["seeds"]) for r in rows]
    assert got == [(0.1, "none", 1, 2), (0.1, "warmup", 0, 2), (0.1, "clip", 2, 2), (0.3, "none", 0, 1), (0.3, "clip", 1, 1)]
    assert rows[2]["clipped"] == (3, 7) and rows[0]["median_final_loss"] == pytest.approx(0.505)
    assert rows[1]["median_final_loss"] == pytest.approx(0.01)  # the diverged run has no final loss
    assert rows[0]["final_share"] == (1e-2, 1e-2)


def test_solved_needs_probes_and_no_divergence():
    assert solved(RUNS[0]) and not solved(RUNS[1]) and not solved(RUNS[5])
    with pytest.raises(ValueError, match="--probe-every 0"):
        solved({**RUNS[0], "probe": {"step": [], "accuracy": [], "share": []}})


def test_figures_draw_one_line_per_arm():
    fig = sweep_figure({"runs": RUNS})
    assert len(fig.axes[0].lines) == 3  # none, warmup, clip
    plt.close(fig)
    other_init = {**run(0.1, 1.0, 0, 0, 0.3), "init": "default"}
    fig = share_figure({"runs": RUNS[:4] + [run(0.003, None, 0, 0, 0.3, optimizer="adam"), other_init]})
    assert len(fig.axes) == 4  # (two initialisations) x (sgd 0.1, adam 0.003)
    assert len(fig.axes[2].lines) == 6  # 1.5Q init, sgd 0.1: two seeds and a median for each of two arms
    plt.close(fig)
