"""The pages' plotting helpers draw what they are given (checked on the data behind the artists)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from rnncourse import figures  # noqa: E402


def test_snippet_positions_point_at_the_characters_shown():
    text = "abc\n" + "x" * 100 + "\nshort\nlast line\n"
    snippet, positions = figures.snippet_positions(text, 4, lines=3, width=10)
    assert snippet == "x" * 10 + "\nshort\nlast line"
    assert len(positions) == len(snippet)
    assert all(text[p] == c for p, c in zip(positions, snippet) if c != "\n")


def test_band_draws_the_mean_and_the_spread():
    fig, ax = plt.subplots()
    line = figures.band(ax, [1, 2, 3], [[0, 1, 2], [2, 3, 4]], "x")
    assert np.allclose(line.get_ydata(), [1, 2, 3]) and len(ax.collections) == 1
    plt.close(fig)


def test_result_plots_draw_one_line_per_contender():
    runs = {m: [{"teacher_forced": [0.9, 0.9], "free_running": [0.8, 0.5]}] * 3 for m in ("teacher", "scheduled", "free")}
    ax = figures.plot_exposure_bias({"bayes_filter": [0.9, 0.85], "seeds": [0, 1, 2], "runs": runs})
    assert len(ax.get_legend().get_texts()) == 6
    reach = {"fixed_window": [[8, 2], [8, 8]], "fixed_shift": [[3, 2]],
             "runs": [{"window": k, "shift": s, "delay": d, "accuracy": [1.0, 0.9]}
                      for k, s in [(8, 2), (8, 8), (3, 2)] for d in (1, 2)]}
    axes = figures.plot_tbptt_reach(reach)
    assert [len(a.get_lines()) for a in axes] == [3, 2]          # two configurations + chance, one + chance
    learning = {"chars_at_point": [10, 20], "seeds": [0], "train_nats": {
        n: [[2.0, 1.0]] for n in ("loop_batch1", "trainer_batch1", "trainer_batch64")}}
    ax = figures.plot_learning_per_char(learning)
    assert np.allclose(ax.get_lines()[0].get_ydata(), np.array([2.0, 1.0]) / np.log(2))
    plt.close("all")
