"""What a student reads when the grader's outside check fails, and full marks for other correct code.

Chapter 1 is graded with the safe grading command: the solution, another correct
solution of parts 1 and 2, and a submission whose one-step RNN is slightly off.
"""
import re
import subprocess
import sys

import nbformat
import pytest

from adversarial import honest
from assignments import ASSIGNMENTS
from harness import Course, cell, nbgrader_env, total_points
from rnncourse.autograder.answers import HIDDEN_LINE, SAFE_CASE, load_answers

pytestmark = pytest.mark.slow

NAME = "ch01_rnn_basics"

OTHER_CELL = '''def rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h, nonlinearity="tanh"):
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"unknown nonlinearity {nonlinearity}")
    a = np.einsum("bi,hi->bh", x_t, W_xh) + np.einsum("bj,hj->bh", h_prev, W_hh) + b_h[None, :]
    return np.tanh(a) if nonlinearity == "tanh" else np.where(a > 0, a, 0.0)
'''

OTHER_FORWARD = '''def rnn_forward(x, h0, W_xh, W_hh, b_h, nonlinearity="tanh"):
    B, T, _ = x.shape
    outputs = np.empty((B, T, h0.shape[1]))
    h = h0
    for t in range(T):
        outputs[:, t, :] = h = rnn_cell_forward(x[:, t, :], h, W_xh, W_hh, b_h, nonlinearity)
    return outputs, outputs[:, -1, :].copy()
'''


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    timeout = 4 * ASSIGNMENTS[NAME]["timeout"]  # time limits are tested elsewhere: a busy machine must not fail this
    course = Course(tmp_path_factory.mktemp("messages"), NAME, timeout=timeout)
    solution, release = course.solution(), course.release()
    course.submit("solution", honest(solution, release))
    other = honest(solution, release)
    cell(other, "rnn_cell").source = OTHER_CELL
    cell(other, "rnn_forward").source = OTHER_FORWARD
    course.submit("other_correct", other)
    wrong = honest(solution, release)
    answer = cell(wrong, "rnn_cell")
    answer.source = answer.source.replace("return np.tanh(pre_activation)", "return np.tanh(pre_activation + 0.1)")
    assert "+ 0.1" in answer.source
    course.submit("slightly_off", wrong)
    result = subprocess.run([sys.executable, "-m", "rnncourse.autograder", "grade", NAME,
                             "--timeout", str(timeout), "--no-feedback"],
                            cwd=course.root, env=nbgrader_env(), capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return course, solution


def errors(course, student, grade_id):
    nb = nbformat.read(course.root / "autograded" / student / NAME / f"{NAME}.ipynb", as_version=4)
    return [o for o in cell(nb, grade_id).outputs if o.output_type == "error"]


def test_another_correct_solution_scores_full_marks(graded):
    course, solution = graded
    assert course.score("solution") == total_points(solution)
    assert course.score("other_correct") == total_points(solution)


def test_a_public_failure_says_which_entry_and_gives_the_hint(graded):
    course, _ = graded
    found = errors(course, "slightly_off", "rnn_cell_public")
    assert [e.ename for e in found] == ["AnswerCheckFailed"]
    text = "\n".join(found[0].traceback)
    assert "bias-only input: 15 of 15 entries are wrong; first at index (0, 0): got " in text
    assert "Hint: with x_t = 0 and h_prev = 0 the result is tanh(b_h) in every row: check b_h" in text
    assert course.cell_scores("slightly_off")["rnn_cell_public"] == 0
    assert course.cell_scores("slightly_off")["param_count_public"] > 0


def test_a_hidden_failure_names_the_case_only(graded):
    course, _ = graded
    for grade_id in ["rnn_cell_hidden", "rnn_forward_hidden"]:
        found = errors(course, "slightly_off", grade_id)
        assert [e.ename for e in found] == ["AnswerCheckFailed"]
        lines = found[0].traceback[1:]
        assert lines and all(HIDDEN_LINE.match(line) for line in lines), lines
        assert not re.search(r"\d|seed|\[|\(|=", "\n".join(lines))
    assert "  a batch of one sequence, tanh: wrong values" in errors(course, "slightly_off", "rnn_cell_hidden")[0].traceback


def test_every_hidden_check_has_a_description_safe_to_show(graded):
    course, _ = graded
    reference = load_answers(course.root / ".grading" / NAME / "reference" / NAME)
    hidden = {key: answer.meta.get("name", "") for key, answer in reference.items() if key.split("/")[0].endswith("_hidden")}
    assert hidden and all(SAFE_CASE.match(name) for name in hidden.values()), hidden
