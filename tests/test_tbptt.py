"""rnncourse.tbptt: window/shift bookkeeping, equivalence with full BPTT, and what truncation cannot learn."""
import numpy as np
import pytest

from rnncourse import bptt, tbptt
from rnncourse.charlm import Adagrad


def test_windows_cover_every_target_once():
    spans = list(tbptt.windows(10, window=4, shift=3))
    assert spans == [(0, 0, 3), (2, 3, 6), (5, 6, 9)]
    assert list(tbptt.windows(8, 4, 4)) == [(0, 0, 4), (4, 4, 8)]
    with pytest.raises(ValueError, match="must not exceed"):
        list(tbptt.windows(10, 3, 4))
    with pytest.raises(ValueError, match="positive"):
        list(tbptt.windows(10, 0, 0))


def manual_chunks(params, x, y, window, opt):
    """Back-to-back chunks written out by hand with bptt.loss_and_grads."""
    batch = y.shape[0]
    h = np.zeros((batch, params["W"].shape[0]))
    losses = []
    for s in range(0, y.shape[1] - window + 1, window):
        loss, grads, h = bptt.loss_and_grads(params, x[:, s:s + window], y[:, s:s + window], h)
        del grads["h0"]
        opt.step(params, {k: g / (batch * window) for k, g in grads.items()})
        losses.append(loss / (batch * window))
    return losses


def test_shift_equal_window_is_back_to_back_chunks_with_carried_state():
    rng = np.random.default_rng(0)
    p1 = bptt.init_params(3, 5, 3, rng, scale=0.4)
    p2 = {k: v.copy() for k, v in p1.items()}
    x, y = tbptt.delay_task(2, 12, 1, rng, symbols=3)
    got = tbptt.train_tbptt(p1, x, y, window=4, optimizer=Adagrad(0.1))
    expected = manual_chunks(p2, x, y, 4, Adagrad(0.1))
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    for k in p1:
        np.testing.assert_allclose(p1[k], p2[k], rtol=1e-12, atol=1e-14)


def test_overlapping_windows_backpropagate_through_the_whole_window():
    rng = np.random.default_rng(1)
    params = bptt.init_params(2, 4, 2, rng, scale=0.5)
    x, y = tbptt.delay_task(1, 6, 2, rng)

    class Record:
        def __init__(self):
            self.grads = []

        def step(self, params, grads):
            self.grads.append({k: g.copy() for k, g in grads.items()})

    rec = Record()
    tbptt.train_tbptt(params, x, y, window=6, shift=3, optimizer=rec)
    # second update: window [0, 6), loss on [3, 6) -- compare with a direct computation
    o, cache = bptt.rnn_forward(params, x)
    _, do = bptt.softmax_cross_entropy(o[:, 3:], y[:, 3:])
    full = np.zeros_like(o)
    full[:, 3:] = do / 3
    expected = bptt.rnn_backward(full, cache)
    for k in ("U", "W", "V", "b", "c"):
        np.testing.assert_allclose(rec.grads[1][k], expected[k], rtol=1e-12, atol=1e-14, err_msg=k)


def learn_delay(delay, window, seed=0):
    rng = np.random.default_rng(seed)
    params = bptt.init_params(2, 16, 2, rng, scale=0.3)
    opt = Adagrad(0.1)
    for _ in range(12):
        x, y = tbptt.delay_task(16, 400, delay, rng)
        tbptt.train_tbptt(params, x, y, window, optimizer=opt)
    xt, yt = tbptt.delay_task(32, 200, delay, np.random.default_rng(seed + 100))
    return tbptt.accuracy(params, xt, yt, skip=delay)


def test_a_dependency_inside_the_window_is_learned_and_one_beyond_it_is_not():
    assert learn_delay(delay=4, window=8) > 0.97
    assert learn_delay(delay=8, window=4) < 0.65


def test_markov_bits_agree_with_their_neighbours_as_often_as_stated():
    rng = np.random.default_rng(0)
    x, y = tbptt.markov_delay_task(200, 500, 3, rng, stay=0.9)
    assert x.shape == y.shape == (200, 500) and set(np.unique(x)) == {0, 1}
    np.testing.assert_array_equal(y[:, 3:], x[:, :-3])                     # y_t = x_{t-3}
    for lag in (1, 2, 4):
        agree = np.mean(x[:, lag:] == x[:, :-lag])
        assert abs(agree - tbptt.best_accuracy_from_recent(lag, 1, 0.9)) < 0.01
    iid, _ = tbptt.markov_delay_task(200, 500, 0, rng, stay=0.5)
    assert abs(np.mean(iid[:, 1:] == iid[:, :-1]) - 0.5) < 0.01
    with pytest.raises(ValueError, match="probability"):
        tbptt.markov_delay_task(2, 5, 1, rng, stay=1.5)


def test_best_accuracy_from_recent_inputs():
    assert tbptt.best_accuracy_from_recent(3, 5, 0.9) == 1.0            # the bit is still in view
    assert tbptt.best_accuracy_from_recent(5, 5, 0.9) == pytest.approx(0.9)
    assert tbptt.best_accuracy_from_recent(7, 5, 0.9) == pytest.approx((1 + 0.8 ** 3) / 2)
    assert tbptt.best_accuracy_from_recent(9, 5, 0.5) == 0.5


def test_replacing_distant_inputs_hurts_only_a_model_that_reads_them():
    # A hand-made 2-unit tanh RNN: unit 0 encodes the current bit as about +-0.9, unit 1 integrates
    # unit 0 slowly (a long memory); the output is the sign of unit 1.
    params = {"U": np.array([[0.0, 3.0], [0.0, 0.0]]), "W": np.array([[0.0, 0.0], [0.5, 0.9]]),
              "V": np.array([[0.0, -1.0], [0.0, 1.0]]), "b": np.array([-1.5, 0.0]), "c": np.zeros(2)}
    rng = np.random.default_rng(1)
    x = np.repeat(rng.integers(0, 2, (64, 1)), 60, axis=1)                  # each row: one bit, repeated
    y = x.copy()
    full = float(np.mean(bptt.rnn_forward(params, x)[0][:, -1].argmax(-1) == y[:, -1]))
    assert full == 1.0
    kept_all = tbptt.distant_context_accuracy(params, x, y, keep=60, positions=[59])
    kept_two = tbptt.distant_context_accuracy(params, x, y, keep=2, positions=[59])
    assert kept_all == 1.0 and kept_two < 0.8             # with two steps of the truth the unrelated past wins
    with pytest.raises(ValueError, match="position"):
        tbptt.distant_context_accuracy(params, x, y, keep=2, positions=[60])
