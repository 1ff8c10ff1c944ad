"""The public tests of the derivation parts diagnose a wrong gradient in the student's own kernel
(name, relative error, the kind of mistake) without the formula, and never at grading time.

The public test cells of chapter 3 (``rnn_backward``) and chapter 5 (``lstm_cell_backward``) run
here in a plain namespace, without a kernel, against planted wrong answers written in this file.
"""
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from rnncourse import grading
from rnncourse.autograder.strip import strip_source
from rnncourse.grading import check_array, diagnose_array

ROOT = Path(__file__).resolve().parents[1]


def cell_source(chapter: str, grade_id: str) -> str:
    nb = nbformat.read(ROOT / "solutions" / chapter / f"{chapter}.ipynb", as_version=4)
    return next(c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def plain(source: str) -> str:
    """A setup cell without its install fallback (IPython syntax, not needed here)."""
    fallback = "import importlib; importlib.invalidate_caches()\n"
    return source.split(fallback, 1)[1] if fallback in source else source


def run_public(chapter: str, before: list[str], answer: dict, public: str) -> str:
    """Run the cells ``before`` and then ``public`` with ``answer`` defined; the failure message, or ''."""
    namespace = {"__name__": "notebook"}
    for grade_id in before:
        exec(plain(cell_source(chapter, grade_id)), namespace)
    namespace.update(answer)
    try:
        exec(cell_source(chapter, public), namespace)
    except AssertionError as error:
        return str(error)
    return ""


@pytest.fixture(autouse=True)
def locally(monkeypatch):
    """The student's environment: no answers folder; the setup cells' default dtype is put back after."""
    monkeypatch.delenv(grading.ANSWERS_ENV, raising=False)
    dtype = torch.get_default_dtype()
    yield
    torch.set_default_dtype(dtype)


# --- chapter 3: rnn_backward, right and with three planted mistakes ------------------------------

def planted_rnn_backward(transpose_W=False, later=True, tanh_prime=True):
    def rnn_backward(x, y, h0, params, h, yhat):
        W, V = params["W"], params["V"]
        B, T = y.shape
        d_o = yhat.copy()
        for bi in range(B):
            for t in range(T):
                d_o[bi, t, y[bi, t]] -= 1.0
        grads = {"c": d_o.sum(axis=(0, 1)), "V": np.einsum("btk,bth->kh", d_o, h),
                 "U": 0.0, "W": 0.0, "b": 0.0}
        from_next = np.zeros_like(h0)
        for t in range(T - 1, -1, -1):
            dh = d_o[:, t] @ V + (from_next if later else 0.0)
            delta = dh * (1.0 - h[:, t] ** 2) if tanh_prime else dh
            before = h0 if t == 0 else h[:, t - 1]
            grads["b"] = grads["b"] + delta.sum(axis=0)
            grads["W"] = grads["W"] + (before.T @ delta if transpose_W else delta.T @ before)
            grads["U"] = grads["U"] + delta.T @ x[:, t]
            from_next = delta @ W
        grads["h0"] = from_next
        return grads
    return rnn_backward


def run_ch03(**mistake) -> str:
    return run_public("ch03_bptt", ["setup", "forward"], {"rnn_backward": planted_rnn_backward(**mistake)},
                      "rnn_backward_public")


def test_a_right_rnn_backward_passes():
    assert run_ch03() == ""


def relative_error_in(message: str) -> float:
    found = re.search(r"relative error ([0-9.e+-]+) against the right value", message)
    assert found, message
    return float(found.group(1))


def test_a_transposed_dW_is_named_and_diagnosed_as_a_transpose():
    message = run_ch03(transpose_W=True)
    assert message.startswith("dL/dW at T = 1"), message
    assert relative_error_in(message) > 1e-3
    assert "it looks like the transpose of the right value" in message


def test_a_missing_later_step_term_is_diagnosed_at_the_first_gradient_it_changes():
    message = run_ch03(later=False)
    assert message.startswith("dL/db at T = 5"), message    # T = 1 has no later step: it passes
    assert relative_error_in(message) > 1e-3
    assert "it looks like the gradient without what reaches each state from later steps" in message


def test_a_missing_tanh_derivative_is_diagnosed():
    message = run_ch03(tanh_prime=False)
    assert message.startswith("dL/db at T = 1"), message
    assert "it looks like the gradient without the derivative of tanh" in message


def test_both_mistakes_at_once_show_the_one_of_the_single_step_first():
    message = run_ch03(later=False, tanh_prime=False)
    assert message.startswith("dL/db at T = 1"), message   # with one step only tanh's derivative is missing
    assert "it looks like the gradient without the derivative of tanh" in message


def test_the_messages_name_no_formula():
    """What a student reads locally: the check's message, the diagnosis and the hint, never the recursion."""
    for mistake in [dict(transpose_W=True), dict(later=False), dict(tanh_prime=False)]:
        message = run_ch03(**mistake)
        for formula in ["1 - h", "1.0 - h", "h_{t-1}", "delta", "@ W", "delta_t", ".T @", "sum over"]:
            assert formula not in message, (formula, message)


# --- chapter 5: lstm_cell_backward, with planted mistakes ---------------------------------------------

def planted_lstm_backward(through_h=True, swap_if=False):
    def lstm_cell_backward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh, dh, dc):
        H = h_prev.shape[1]
        pre = x @ W_ih.T + h_prev @ W_hh.T + b_ih + b_hh
        i, f, g, o = (pre[:, k * H:(k + 1) * H] for k in range(4))
        i, f, g, o = 1 / (1 + np.exp(-i)), 1 / (1 + np.exp(-f)), np.tanh(g), 1 / (1 + np.exp(-o))
        c = f * c_prev + i * g
        into_c = dc + (dh * o * (1 - np.tanh(c) ** 2) if through_h else 0.0)
        d_i, d_f = into_c * g * i * (1 - i), into_c * c_prev * f * (1 - f)
        if swap_if:
            d_i, d_f = d_f, d_i
        d_pre = np.concatenate([d_i, d_f, into_c * i * (1 - g ** 2), dh * np.tanh(c) * o * (1 - o)], axis=1)
        return {"dx": d_pre @ W_ih, "dh_prev": d_pre @ W_hh, "dc_prev": into_c * f,
                "dW_ih": d_pre.T @ x, "dW_hh": d_pre.T @ h_prev,
                "db_ih": d_pre.sum(0), "db_hh": d_pre.sum(0)}
    return lstm_cell_backward


def run_ch05(**mistake) -> str:
    return run_public("ch05_lstm_gru", ["setup", "lstm_cell", "lstm_cell_public"],
                      {"lstm_cell_backward": planted_lstm_backward(**mistake)},
                      "lstm_backward_public")


def test_a_right_lstm_backward_passes():
    assert run_ch05() == ""


def test_dropping_the_path_through_h_is_diagnosed_on_dc_prev():
    message = run_ch05(through_h=False)
    assert message.startswith("dc_prev vs torch.autograd"), message
    assert "it looks like the gradient of dc alone" in message


def test_a_wrong_gate_block_is_located():
    message = run_ch05(swap_if=True)
    assert message.startswith("db_ih vs torch.autograd"), message
    assert "wrong entries only in the block(s) i (rows 0:2), f (rows 2:4)" in message


def test_the_lstm_messages_name_no_formula():
    for mistake in [dict(through_h=False), dict(swap_if=True)]:
        message = run_ch05(**mistake)
        assert not re.search(r"\bda\b|@|\.T\b|\.sum|\* f\b|tanh\(c|1 - ", message), message


# --- the mechanism: local only, stripped and never called at grading time ------------------------------

def test_diagnose_array_tries_transpose_multiple_mistakes_and_blocks():
    right = np.arange(1.0, 13.0).reshape(4, 3)
    assert "transpose" not in diagnose_array(right * 2, right)
    assert "the right value times 2" in diagnose_array(right * 2, right)
    assert "the right value times -1" in diagnose_array(-right, right)
    assert "all zeros" in diagnose_array(np.zeros_like(right), right)
    square = np.arange(1.0, 10.0).reshape(3, 3)
    assert "transpose of the right value" in diagnose_array(square.T.copy(), square)
    assert "transpose of the right value" in diagnose_array(right.T.copy(), right)   # the shape is wrong too
    planted = right + 1.0
    assert "it looks like one plus" in diagnose_array(planted, right, {"one plus": right + 1.0})
    report = diagnose_array(planted, right, {"a mistake that changes nothing here": right})
    assert "matches none of the mistakes tried" in report
    wrong_block = right.copy()
    wrong_block[2:] += 1.0
    assert "only in the block(s) b (rows 2:4)" in diagnose_array(wrong_block, right, blocks=("a", "b"))


def test_check_array_diagnoses_only_after_a_failed_comparison():
    right = np.arange(6.0).reshape(2, 3)
    calls = []
    check_array("p_public/ok", right.copy(), lambda: right, "ok", mistakes=lambda: calls.append(1) or {})
    assert calls == []
    with pytest.raises(AssertionError) as error:
        check_array("p_public/bad", 3 * right, lambda: right, "the states", hint="see Part 1",
                    mistakes=lambda: {"x": right + 1})
    message = str(error.value)
    assert "Diagnosis: relative error 0.5 against the right value; it looks like the right value times 3" in message
    assert message.endswith("Hint: see Part 1")
    with pytest.raises(TypeError, match="mistakes must be a function of no argument"):
        check_array("p_public/eager", right, lambda: right, "x", mistakes={"x": right})


def test_at_grading_time_mistakes_are_never_called(tmp_path, monkeypatch):
    monkeypatch.setenv(grading.ANSWERS_ENV, str(tmp_path))

    def never():
        raise RuntimeError("a mistake was computed at grading time")
    check_array("p_public/x", np.ones(3), never, "x", mistakes=never, blocks=("a", "b", "c"))
    assert (tmp_path / "p_public__x.npy").exists()


def test_the_grader_strips_mistakes_from_the_test_cells():
    source = ('check_array("p_public/x", got, lambda: reference_g(x), "x", hint="h",\n'
              '            mistakes=lambda: reference_m(x), blocks=("i", "f"))\n')
    stripped = strip_source(source)
    assert "reference_m" not in stripped and "mistakes=None" in stripped and 'blocks=("i", "f")' in stripped
    for chapter, grade_id in [("ch03_bptt", "rnn_backward_public"), ("ch05_lstm_gru", "lstm_backward_public")]:
        stripped = strip_source(cell_source(chapter, grade_id))
        assert "mistakes=None" in stripped and "mistakes=lambda" not in stripped
