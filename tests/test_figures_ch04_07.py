"""The figure helpers of chapters 4 to 7 draw what they are given (one line per model, per seed)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from rnncourse import figures  # noqa: E402


def _long_lag_runs():
    runs = []
    for model in ["rnn", "gru_keep"]:
        for lag in [5, 10]:
            for seed in [0, 1]:
                runs.append({"model": model, "length": lag, "seed": seed, "solved": model == "gru_keep",
                             "step": [1, 2], "accuracy": [0.3, 1.0 if model == "gru_keep" else 0.25],
                             "grad_norm_init": list(np.linspace(0.1, 1, lag)),
                             "grad_norm_final": list(np.linspace(0.5, 1, lag))})
    return runs


def test_long_lag_figures_draw_one_line_per_model():
    labels = {"rnn": "RNN", "lstm": "LSTM (absent)", "gru_keep": "GRU +3"}
    fig = figures.long_lag_curves_figure(_long_lag_runs(), labels, lag=10)
    left, right = fig.axes
    assert [line.get_label() for line in left.lines] == ["RNN", "GRU +3"]
    np.testing.assert_array_equal(left.lines[1].get_ydata(), [1.0, 1.0])  # GRU solved every seed at both lags
    fig = figures.long_lag_gradients_before_after(_long_lag_runs(), labels, lag=5)
    assert len(fig.axes[0].lines) == 2 and len(fig.axes[0].lines[0].get_xdata()) == 5
    fig = figures.long_lag_gradient_figure(_long_lag_runs(), "rnn")
    assert len(fig.axes[0].collections) == 2  # init and final ratios
    np.testing.assert_allclose(fig.axes[0].collections[0].get_offsets()[:, 1], 0.1)  # 0.1 / 1 for every run
    plt.close("all")


def test_clipping_sweep_figure_takes_medians_over_seeds():
    runs = [{"lr": lr, "clip": clip, "seed": seed, "final_loss": (1.0 if clip is None else 0.1) * lr * (seed + 1),
             "grad_norm": [2.0, 0.5, None]} for lr in [0.1, 1.0] for clip in [None, 1.0] for seed in [0, 1, 2]]
    fig = figures.clipping_sweep_figure({"runs": runs, "settings": {"clip": 1.0, "seeds": [0, 1, 2]}})
    no_clip, clip = fig.axes[0].lines[:2]
    np.testing.assert_allclose(no_clip.get_ydata(), [0.2, 2.0])  # median over seeds 1, 2, 3 times lr
    np.testing.assert_allclose(clip.get_ydata(), [0.02, 0.2])
    assert len(fig.axes[1].lines) == 3  # two runs and the threshold line
    plt.close("all")


def test_adding_curves_and_gradient_terms_figures():
    runs = [{"model": m, "length": t, "seed": s, "steps": [0, 100], "test_mse": [0.2, 0.01]}
            for m in ["irnn", "tanh"] for t in [50, 100] for s in [0, 1]]
    fig = figures.adding_curves_figure({"runs": runs, "baseline_mse": 1 / 6}, {"irnn": "IRNN", "tanh": "tanh"})
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 4  # two models of seed 0, baseline, 1/12
    assert fig.axes[0].lines[3].get_ydata()[0] == 1 / 12
    terms = np.ones((4, 2, 2)); terms[-1] = 0
    fig = figures.gradient_terms_figure({"a": terms})
    y = fig.axes[0].lines[0].get_ydata()
    np.testing.assert_allclose(y[:3], 2.0)
    assert np.isnan(y[3])  # a zero term (h_0 = 0) is left out of the log plot
    fig = figures.cliff_figure(np.linspace(0, 1, 5), np.arange(5.0), np.ones(5), 0.5, 100.0, 0.1)
    assert len(fig.axes) == 2
    plt.close("all")
