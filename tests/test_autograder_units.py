"""Unit tests of the grader's trusted parts: answer files, comparison, scan."""
import numpy as np
import pytest

from rnncourse import grading
from rnncourse.autograder.answers import Answer, compare, load_answers, save_answers, verify_cell
from rnncourse.autograder.scan import scan_code


def test_submitted_answers_round_trip_with_dotted_keys(tmp_path, monkeypatch):
    monkeypatch.setenv(grading.ANSWERS_ENV, str(tmp_path))
    grading.submit("part_public/loss_clip0.01", np.arange(3.0), rtol=1e-3)
    grading.submit("part_public/word", "hello")
    answers = load_answers(tmp_path)
    assert set(answers) == {"part_public/loss_clip0.01", "part_public/word"}
    assert answers["part_public/loss_clip0.01"].rtol == 1e-3
    save_answers(answers, tmp_path / "copy")
    again = load_answers(tmp_path / "copy")
    assert set(again) == set(answers) and again["part_public/word"].value == np.array("hello")


def test_submit_refuses_objects_that_only_claim_equality(tmp_path, monkeypatch):
    monkeypatch.setenv(grading.ANSWERS_ENV, str(tmp_path))

    class Anything:
        def __eq__(self, other):
            return True

    with pytest.raises(TypeError, match="expected a numpy array or torch tensor"):
        grading.submit("p_public/x", Anything())
    with pytest.raises(ValueError, match="grade_id/name"):
        grading.submit("../../etc/passwd", 1)


def test_pickled_or_symlinked_answer_files_are_ignored(tmp_path):
    np.save(tmp_path / "p_public__obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (tmp_path / "p_public__link.npy").symlink_to("/etc/hostname")
    assert load_answers(tmp_path) == {}


@pytest.mark.parametrize("got,problem", [
    (None, "no answer"), (np.zeros(3), "shape"), (np.ones((2, 2)) + 1e-3, "values differ"),
    (np.array([["a", "b"], ["c", "d"]]), "instead of numbers"), (np.ones((2, 2)), None),
    (np.ones((2, 2)) + 1e-9, None)])
def test_compare_uses_the_reference_tolerances(got, problem):
    expected = Answer(np.ones((2, 2)), rtol=1e-6, atol=1e-9)
    result = compare(expected, None if got is None else Answer(got, rtol=1e9, atol=1e9))
    assert (result is None) if problem is None else (problem in result)


def test_verify_cell_checks_only_that_cells_keys():
    reference = {"a_public/x": Answer(np.array(1)), "b_public/x": Answer(np.array(2))}
    assert verify_cell("a_public", reference, {"a_public/x": Answer(np.array(1))}) == []
    assert verify_cell("b_public", reference, {"a_public/x": Answer(np.array(1))}) == [
        "b_public/x: no answer was recorded"]


@pytest.mark.parametrize("code,flagged", [
    ("import numpy as np\ndef f(x):\n    return np.tanh(x)\n", False),
    ("model.eval()\nwith torch.no_grad():\n    y = model(x)\n", False),
    ("import os\nos._exit(1)\n", True),
    ("import numpy as _np\n_np.allclose = lambda *a, **k: True\n", True),
    ("from rnncourse.rnn_numpy import rnn_forward\n", True),
    ("get_ipython().ast_transformers.append(t)\n", True),
    ("check_array = lambda *a, **k: None\n", True),
    ("class A:\n    def __eq__(self, other):\n        return True\n", True),
    ("open('../../gradebook.db')\n", True),
])
def test_scan_flags_suspicious_code_and_not_honest_code(code, flagged):
    assert bool(scan_code(code, "cell")) == flagged


def test_predictions_are_scored_against_the_reference_targets(tmp_path, monkeypatch):
    """A trained model's predictions differ between correct solutions: the grader checks their
    error against the solution's targets, and ignores targets or limits the submission brings."""
    reference_dir, student_dir = tmp_path / "ref", tmp_path / "student"
    reference_dir.mkdir(), student_dir.mkdir()
    targets = np.linspace(0.0, 2.0, 50)
    monkeypatch.setenv(grading.ANSWERS_ENV, str(reference_dir))
    grading.submit("train_public/predictions", targets + 0.01, target=targets, max_mse=0.05)
    reference = load_answers(reference_dir)
    assert reference["train_public/predictions"].max_mse == 0.05

    monkeypatch.setenv(grading.ANSWERS_ENV, str(student_dir))
    grading.submit("train_public/predictions", targets + 0.1, target=targets, max_mse=0.05)  # MSE 0.01
    assert verify_cell("train_public", reference, load_answers(student_dir)) == []
    # a forged limit and forged targets do not help a model that only predicts the mean
    grading.submit("train_public/predictions", np.ones(50), target=np.ones(50), max_mse=1e9)
    problems = verify_cell("train_public", reference, load_answers(student_dir))
    assert len(problems) == 1 and "mean squared error" in problems[0]
    with pytest.raises(ValueError, match="both target and max_mse"):
        grading.submit("train_public/predictions", targets, target=targets)


def test_trusted_test_results_come_back_with_the_notebook_and_the_writer_stores_them(tmp_path):
    """A worker (perhaps on another machine) hands the answer check's results back in memory;
    the writer keeps them per student, replacing an older run's, and refuses odd notebook names."""
    import nbformat

    from rnncourse.autograder.feedback import RecordingVerify, load_records, save_records

    save_answers({"a_public/x": Answer(np.array(1.0))}, tmp_path / "ref" / "nb")
    test = nbformat.v4.new_code_cell("check_array('a_public/x', f(), lambda: None, 'x')")
    test.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "a_public", "points": 1}
    test.outputs = [nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=["boom"])]
    nb = nbformat.v4.new_notebook(cells=[test])
    resources = {"unique_key": "nb", "nbgrader": {"student": "s", "notebook": "nb"}, "rnncourse_answers": {}}
    nb, resources = RecordingVerify(reference_dir=str(tmp_path / "ref"))(nb, resources)
    record = resources["rnncourse_test_results"]
    assert list(record) == ["a_public"] and record["a_public"]["raised"] == ["ValueError"]
    assert any("a_public/x" in line and "no answer" in line for line in record["a_public"]["grader"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ref"], "nothing written without a record_dir"

    save_records(tmp_path / "results", "s", {"nb": record, "other": {}})
    assert load_records(tmp_path / "results", "s") == {"nb": record, "other": {}}
    save_records(tmp_path / "results", "s", {})
    assert load_records(tmp_path / "results", "s") == {}, "an older run's results do not stay"
    with pytest.raises(ValueError, match="expected a notebook name"):
        save_records(tmp_path / "results", "s", {"../escape": {}})
