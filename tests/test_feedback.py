"""Feedback is built from trusted parts only: no hidden test source, no output of the grading run."""
import copy

import nbformat
from nbformat import NotebookNode

from harness import ROOT, cell
from rnncourse.autograder.feedback import render_html, scrub

RELEASE = ROOT / "notebooks" / "ch01_rnn_basics" / "ch01_rnn_basics.ipynb"
SOLUTION = ROOT / "solutions" / "ch01_rnn_basics" / "ch01_rnn_basics.ipynb"
SECRET_LINE = "for I, H, L, O in [(1, 1, 1, 1), (65, 128, 2, 65), (300, 50, 4, 2)]:"


def error(ename, lines):
    return nbformat.v4.new_output("error", ename=ename, evalue="x", traceback=lines)


def graded_copy():
    """An autograded notebook as nbgrader leaves it: hidden tests in, grading outputs everywhere."""
    nb = nbformat.read(SOLUTION, as_version=4)
    release = nbformat.read(RELEASE, as_version=4)
    submitted = copy.deepcopy(release)
    for c in submitted.cells:
        if c.metadata.get("nbgrader", {}).get("solution"):
            c.source = cell(nb, c.metadata["nbgrader"]["grade_id"]).source
            c.outputs = [nbformat.v4.new_output("stream", name="stdout", text="printed when I ran it\n")]
    autograded = copy.deepcopy(submitted)
    for c in autograded.cells:
        gid = c.metadata.get("nbgrader", {}).get("grade_id")
        if gid and gid.endswith("_hidden"):
            c.source = cell(nb, gid).source  # the hidden tests, as graded
        if c.cell_type == "code":
            c.outputs = [nbformat.v4.new_output("stream", name="stdout", text="(65, 128, 2, 65) printed in grading\n")]
    hidden = cell(autograded, "param_count_hidden")
    hidden.outputs = [error("AnswerCheckFailed", ["AnswerCheckFailed: forged by the kernel", SECRET_LINE]),
                      error("ValueError", ["Traceback (most recent call last)", SECRET_LINE])]
    return autograded, submitted, release


def grades(failed=()):
    release = nbformat.read(RELEASE, as_version=4)
    out = {}
    for c in release.cells:
        meta = c.metadata.get("nbgrader", {})
        if meta.get("grade"):
            out[meta["grade_id"]] = {"score": 0.0 if meta["grade_id"] in failed else float(meta["points"]),
                                     "max_score": float(meta["points"]), "pending": False}
    return out


def text_of(nb: NotebookNode) -> str:
    return "\n".join([c.source for c in nb.cells] + [o.get("text", "") + "".join(o.get("traceback", []))
                                                     for c in nb.cells for o in c.get("outputs", [])])


def test_hidden_tests_and_grading_outputs_never_reach_feedback():
    autograded, submitted, release = graded_copy()
    records = {"param_count_hidden": {"grader": ["param_count_hidden/I65_H128_L2_O65: values differ"],
                                      "raised": ["ValueError"]},
               "param_count_public": {"grader": ["param_count_public/one_layer: no answer was recorded"],
                                      "raised": ["MyOwnError"]}}
    nb = scrub(autograded, submitted, release, grades({"param_count_hidden", "param_count_public"}), records)
    text = text_of(nb)
    assert SECRET_LINE not in text and "printed in grading" not in text and "forged" not in text
    assert "I65" not in text and "hidden case 1: values differ" in text
    assert "your code raised ValueError on a hidden case" in text
    assert "printed when I ran it" in text, "the student's own outputs, as submitted"
    assert "MyOwnError" not in text and "param_count_public/one_layer: no answer was recorded" in text
    assert cell(release, "param_count_public").source in text, "public tests are shown in full"
    assert "Score: **18 / 20**" in text  # 2 of 18 autograded points lost; the written answer (2) graded
    html = render_html(nb)
    assert "hidden test param_count_hidden: failed, 0 / 1 points" in html


def test_a_hidden_case_named_in_words_is_shown_and_a_pending_answer_is_not_zero():
    autograded, submitted, release = graded_copy()
    records = {"param_count_hidden": {"grader": ["param_count_hidden/longer_sequence_relu: values differ"],
                                      "raised": []}}
    marks = grades({"param_count_hidden"})
    marks["shapes_public"]["pending"] = True
    nb = scrub(autograded, submitted, release, marks, records)
    text = text_of(nb)
    assert "longer sequence relu: values differ" in text
    assert "2 points pending a person's grade" in text and "pending (graded by a person)" in text


def test_numbers_a_submission_chooses_never_reach_feedback():
    """The shape of a returned value is the student's to choose: it could encode stashed hidden inputs."""
    autograded, submitted, release = graded_copy()
    records = {"param_count_public": {"grader": ["param_count_public/one_layer: shape (65, 128, 2, 65) instead of ()",
                                                 "param_count_public/three_layers: mean squared error 65.128 above 1"],
                                      "raised": []}}
    nb = scrub(autograded, submitted, release, grades({"param_count_public"}), records)
    text = text_of(nb)
    assert "65" not in text.replace(cell(release, "param_count_public").source, "")
    assert "param_count_public/one_layer: the answer has the wrong shape" in text


def test_a_public_test_graded_without_its_expected_values_is_still_shown_as_public():
    """The grader strips the expected-value functions from test cells; that alone does not make a test hidden."""
    from rnncourse.autograder.strip import strip_source

    autograded, submitted, release = graded_copy()
    stripped = [c for c in autograded.cells if c.metadata.get("nbgrader", {}).get("grade_id", "").endswith("_public")
                and strip_source(c.source) != c.source]
    assert stripped, "no public test with an expected-value function in chapter 1 (positive control)"
    for c in stripped:
        c.source = strip_source(c.source)
    gids = {c.metadata["nbgrader"]["grade_id"] for c in stripped}
    text = text_of(scrub(autograded, submitted, release, grades(gids), {}))
    for gid in gids:
        assert f"test {gid}: failed" in text and f"hidden test {gid}" not in text
    assert "hidden test param_count_hidden: passed" in text


def test_the_same_grading_gives_the_same_feedback_byte_for_byte():
    """Feedback does not depend on when or where (which worker) it was written."""
    autograded, submitted, release = graded_copy()
    marks = grades({"param_count_hidden"})
    marks["param_count_public"]["pending"] = True   # a pending part gets a result cell of its own
    first = scrub(copy.deepcopy(autograded), submitted, release, marks, {})
    again = scrub(copy.deepcopy(autograded), submitted, release, marks, {})
    assert nbformat.writes(first) == nbformat.writes(again)
    assert render_html(first) == render_html(again)
