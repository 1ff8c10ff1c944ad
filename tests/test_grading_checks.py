"""The checks of the test cells: specific messages locally, no expected value when grading,
and the grader's messages outside the kernel (specific for public tests, case-only for hidden ones)."""
import re

import numpy as np
import pytest
import torch

from rnncourse import grading
from rnncourse.autograder.answers import HEADER, HIDDEN_LINE, SAFE_CASE, failure_lines, load_answers
from rnncourse.autograder.strip import strip_source
from rnncourse.grading import check_array, check_equal, check_mse, check_scalar, check_shape, submit


def never(*_):
    raise RuntimeError("the expected value was computed")


# --- in the student's environment ---------------------------------------------------------------

def test_a_wrong_array_raises_with_the_entry_and_the_hint(monkeypatch):
    monkeypatch.delenv(grading.ANSWERS_ENV, raising=False)
    got = np.arange(6.0).reshape(2, 3)
    wrong = got.copy()
    wrong[1, 2] += 0.5
    with pytest.raises(AssertionError) as err:
        check_array("p_public/x", wrong, lambda: got, "the states", hint="check b_h")
    message = str(err.value)
    assert "the states: 1 of 6 entries are wrong; first at index (1, 2): got 5.5, expected 5.0" in message
    assert message.endswith("Hint: check b_h")
    check_array("p_public/x", got.copy(), lambda: got, "the states", hint="check b_h")  # a correct one passes


@pytest.mark.parametrize("call,problem", [
    (lambda: check_array("p_public/a", np.zeros(3), lambda: torch.zeros(3), "a"), "expected a torch tensor"),
    (lambda: check_array("p_public/b", np.zeros(3, np.float32), lambda: np.zeros(3), "b"), "expected dtype float64"),
    (lambda: check_array("p_public/c", np.zeros(4), lambda: np.zeros(3), "c"), "expected shape (3,), got (4,)"),
    (lambda: check_scalar("p_public/d", True, lambda: 1.0, "d"), "expected a number, got bool"),
    (lambda: check_scalar("p_public/e", 0.5, lambda: 1 / 3, "e"), "expected 0.333"),
    (lambda: check_equal("p_public/f", "tanh", lambda: "relu", "f"), "expected 'relu', got 'tanh'"),
    (lambda: check_shape("p_public/g", np.zeros((2, 3)), lambda: (3, 2), "g"), "expected shape (3, 2), got (2, 3)"),
    (lambda: check_mse("p_public/h", np.ones(4), lambda: np.zeros(4), 0.05, "h"), "mean squared error 1 above 0.05"),
])
def test_each_check_says_what_is_wrong(call, problem, monkeypatch):
    monkeypatch.delenv(grading.ANSWERS_ENV, raising=False)
    with pytest.raises(AssertionError, match=re.escape(problem)):
        call()


def test_an_expected_value_given_directly_is_refused(monkeypatch):
    monkeypatch.delenv(grading.ANSWERS_ENV, raising=False)
    with pytest.raises(TypeError, match="function of no argument"):
        check_array("p_public/x", np.zeros(2), np.zeros(2), "x")


# --- at grading time ----------------------------------------------------------------------------

def test_grading_never_computes_the_expected_value_and_never_raises(tmp_path, monkeypatch):
    monkeypatch.setenv(grading.ANSWERS_ENV, str(tmp_path))
    check_array("p_public/x", np.ones(3), never, "x", hint="h", rtol=1e-5)
    check_scalar("p_public/s", 2.0, never, "s")
    check_equal("p_public/e", "word", never, "e")
    check_shape("p_public/sh", torch.zeros(2, 5), never, "sh")
    check_mse("p_public/m", np.ones(3), None, 0.05, "m")  # the grader strips the target: None
    check_array("p_public/bad", "not an array", None, "bad")
    answers = load_answers(tmp_path)
    assert answers["p_public/x"].meta["kind"] == "array" and answers["p_public/x"].rtol == 1e-5
    assert answers["p_public/x"].meta["hint"] == "h"
    assert answers["p_public/sh"].value.tolist() == [2, 5]
    assert answers["p_public/bad"].meta["invalid"]
    assert answers["p_public/m"].target is None and answers["p_public/m"].max_mse == 0.05


def record(folder, monkeypatch, value, hint="look at W_hh", name="the states", key="p_public/x", kind="array"):
    monkeypatch.setenv(grading.ANSWERS_ENV, str(folder))
    folder.mkdir(exist_ok=True)
    if kind == "array":
        check_array(key, value, None, name, hint=hint)
    else:
        check_equal(key, value, None, name, hint=hint)
    return load_answers(folder)


def test_public_messages_at_grading_are_as_specific_as_locally(tmp_path, monkeypatch):
    truth = np.arange(6.0).reshape(2, 3)
    reference = record(tmp_path / "ref", monkeypatch, truth)
    wrong = truth.copy()
    wrong[0, 1] = 9.0
    student = record(tmp_path / "student", monkeypatch, wrong, hint="the student's own hint", name="forged")
    lines = failure_lines("p_public", reference, student, hidden=False)
    assert lines == ["  the states: 1 of 6 entries are wrong; first at index (0, 1): got 9.0, expected 1.0 "
                     "(largest error 8)", "    Hint: look at W_hh"]  # the reference's name and hint
    for got, problem in [(truth[:1], "expected shape (2, 3), got (1, 3)"),
                         (truth.astype(np.float32), "expected dtype float64, got float32"),
                         (torch.from_numpy(truth), "expected a numpy array, got torch tensor")]:
        student = record(tmp_path / f"s{len(str(problem))}", monkeypatch, got)
        assert problem in failure_lines("p_public", reference, student, hidden=False)[0]
    assert "no answer was recorded" in failure_lines("p_public", reference, {}, hidden=False)[0]
    assert failure_lines("p_public", reference, reference, hidden=False) == []


def test_hidden_messages_give_the_case_and_the_kind_of_failure_only(tmp_path, monkeypatch):
    truth = np.linspace(0.0, 1.0, 12).reshape(3, 4)
    reference = record(tmp_path / "ref", monkeypatch, truth, key="p_hidden/s11", hint="",
                       name="a longer sequence with relu")
    record(tmp_path / "ref", monkeypatch, "cpu", key="p_hidden/seed7", kind="equal", name="case seed=7 x[:, 3]")
    reference = load_answers(tmp_path / "ref")
    cases = {"wrong values": truth + 1, "wrong shape": truth[:2], "wrong dtype": truth.astype(np.float32)}
    for failure, got in cases.items():
        student = record(tmp_path / failure.replace(" ", "_"), monkeypatch, got, key="p_hidden/s11")
        lines = failure_lines("p_hidden", reference, student, hidden=True)
        assert lines[0] == f"  a longer sequence with relu: {failure}"
        assert lines[1] == "  a hidden case: missing answer"  # an unsafe description is never shown
        assert all(HIDDEN_LINE.match(line) for line in lines)
        assert not re.search(r"\d", "\n".join(lines))
    assert not SAFE_CASE.match("seed=11 tanh") and not SAFE_CASE.match("x[:, 0]")
    assert HEADER.startswith("AnswerCheckFailed")


def test_plain_submit_still_records_predictions_for_the_grader(tmp_path, monkeypatch):
    monkeypatch.setenv(grading.ANSWERS_ENV, str(tmp_path))
    submit("p_public/pred", np.ones(3), name="predictions", target=np.zeros(3), max_mse=2.0)
    answer = load_answers(tmp_path)["p_public/pred"]
    assert answer.max_mse == 2.0 and answer.target.tolist() == [0, 0, 0]


# --- what the grader runs -------------------------------------------------------------------------

def test_the_grader_strips_expected_values_and_reference_code_and_keeps_the_rest():
    source = ('# Hidden tests run here at grading time.\n### BEGIN HIDDEN TESTS\n'
              'def reference_out(x):\n    """torch\'s answer"""\n    return x * 2\n\n'
              'for case, seed in [("a case", 3)]:\n'
              '    got = f(seed)\n'
              '    check_array(f"p_hidden/s{seed}", got,\n                lambda: reference_out(seed), case, rtol=1e-6)\n'
              '    check_mse("p_hidden/m", got, lambda: targets(seed), 0.05, "mse")\n'
              '    check_equal("p_hidden/e", got, expected=lambda: 2, name="e")\n### END HIDDEN TESTS\n')
    stripped = strip_source(source)
    assert "reference_out" not in stripped and "lambda" not in stripped and "targets" not in stripped
    assert stripped.count("None") == 3
    assert stripped.startswith("# Hidden tests run here") and "### END HIDDEN TESTS" in stripped
    compile(stripped, "cell", "exec")
    assert strip_source("def broken(:\n") == "def broken(:\n"


def test_a_key_used_twice_in_one_cell_is_an_authoring_error(monkeypatch):
    monkeypatch.delenv(grading.ANSWERS_ENV, raising=False)

    class Shell:
        execution_count = 41

    monkeypatch.setattr(grading, "get_ipython", lambda: Shell(), raising=False)
    check_equal("p_public/twice", 1, lambda: 1, "one")
    with pytest.raises(ValueError, match="used twice in one cell"):
        check_equal("p_public/twice", 1, lambda: 1, "one")
    Shell.execution_count = 42  # the same cell run again is fine
    check_equal("p_public/twice", 1, lambda: 1, "one")
