"""The cell diagrams of chapter 5 draw every gate and state."""
import matplotlib

matplotlib.use("Agg")

def test_gated_cell_diagrams_show_every_gate_and_state():
    from rnncourse.diagrams import draw_gru_cell, draw_lstm_cell

    def texts(fig):
        return [t.get_text() for ax in fig.axes for t in ax.texts]

    lstm = texts(draw_lstm_cell())
    for label in ["$c_{t-1}$", "$c_t$", "$h_{t-1}$", "$x_t$", "$f_t$", "$i_t$", "$g_t$", "$o_t$"]:
        assert label in lstm, label
    assert lstm.count("σ") == 3 and lstm.count("tanh") == 2 and lstm.count("+") == 1 and lstm.count("×") == 3
    gru = texts(draw_gru_cell())
    for label in ["$h_{t-1}$", "$h_t$", "$x_t$", "$r_t$", "$z_t$", "$n_t$", "1−"]:
        assert label in gru, label
    assert gru.count("σ") == 2 and gru.count("tanh") == 1 and gru.count("×") == 3
