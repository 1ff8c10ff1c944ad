"""Chapter 4's Part 4 (predict, then measure) is graded fairly.

The predictions are compared with the values the solution's run records, so those values must be
what the matrix really gives, with no tie that a correct answer could break the other way; the
grader must accept every way of writing them that the instructions allow (fractions, an int for a
number, four significant digits) and refuse a wrong one.
"""
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from harness import ROOT, cell
from rnncourse import grading
from rnncourse.autograder.answers import load_answers, verify_cell

sys.path.insert(0, str(Path(__file__).parent / "variants"))
import ch04_vanishing_gradients as variant  # noqa: E402

NOTEBOOK = ROOT / "solutions" / "ch04_vanishing_gradients" / "ch04_vanishing_gradients.ipynb"
TEST_CELL = "transient_prediction_public"


@pytest.fixture(scope="module")
def notebook():
    return nbformat.read(NOTEBOOK, as_version=4)


def predictions(notebook, source: str) -> dict:
    namespace = {"np": np}
    exec(cell(notebook, "transient_matrix").source, namespace)
    exec(source, namespace)
    return namespace


def measured_norms(W: np.ndarray, T: int) -> np.ndarray:
    """||W^d||_2 for d = 0..T: the Jacobians of the tanh RNN at h = 0, where every tanh' is 1."""
    power, norms = np.eye(len(W)), [1.0]
    for _ in range(T):
        power = W @ power
        norms.append(np.linalg.norm(power, 2))
    return np.array(norms)


def test_the_solutions_predictions_are_what_the_matrix_gives(notebook):
    ns = predictions(notebook, cell(notebook, "transient_prediction").source)
    W = ns["W_demo"]
    norms = measured_norms(W, 12)
    rho = np.max(np.abs(np.linalg.eigvals(W)))
    assert ns["predicted_radius"] == pytest.approx(rho, rel=1e-12)
    assert ns["predicted_sigma_max"] == pytest.approx(np.linalg.norm(W, 2), rel=1e-12)
    assert ns["predicted_peak"] == int(np.argmax(norms))
    assert ns["predicted_peak_norm"] == pytest.approx(norms.max(), rel=1e-12)
    assert ns["predicted_norm_at_end"] == pytest.approx(norms[12], rel=1e-12)
    # "transient": above 1 at some distance, yet tending to 0 (rho < 1; exactly 0.9^d once A^d = 0)
    assert ns["predicted_shape"] == "transient" and norms[1:].max() > 1 and rho < 1
    assert np.allclose(norms[4:], 0.9 ** np.arange(4, 13), rtol=1e-12)
    # the peak is unique by a wide margin: no rounding decides it
    assert np.sort(norms)[-2] < norms.max() - 1


def graded_answers(notebook, source: str, folder: Path, monkeypatch) -> dict:
    """Run the prediction cell and its public test cell as the grader does; the recorded answers."""
    folder.mkdir()
    monkeypatch.setenv(grading.ANSWERS_ENV, str(folder))
    ns = predictions(notebook, source)
    ns.update(check_equal=grading.check_equal, submit=grading.submit)
    exec(cell(notebook, TEST_CELL).source, ns)
    return load_answers(folder)


def test_the_grader_accepts_every_correct_form_and_refuses_each_wrong_prediction(notebook, tmp_path,
                                                                                 monkeypatch):
    reference = graded_answers(notebook, cell(notebook, "transient_prediction").source, tmp_path / "ref",
                               monkeypatch)
    assert {k.split("/")[1] for k in reference} >= {"shape", "peak", "radius", "sigma_max", "peak_norm",
                                                    "norm_at_end"}
    honest = graded_answers(notebook, variant.TRANSIENT_PREDICTION, tmp_path / "variant", monkeypatch)
    assert verify_cell(TEST_CELL, reference, honest) == []

    for i, (change, key) in enumerate([("predicted_peak = 4", "peak"), ("predicted_shape = 'vanishing'", "shape"),
                                       ("predicted_radius = 0.0", "radius"), ("predicted_sigma_max = 0.9", "sigma_max"),
                                       ("predicted_peak_norm = 27.0", "peak_norm"),
                                       ("predicted_norm_at_end = 0.28", "norm_at_end")]):
        wrong = graded_answers(notebook, variant.TRANSIENT_PREDICTION + "\n" + change, tmp_path / f"wrong{i}",
                               monkeypatch)
        assert [p.split(":")[0] for p in verify_cell(TEST_CELL, reference, wrong)] == [f"{TEST_CELL}/{key}"], change
