"""Checks whose answer differs between correct solutions are judged by trusted properties, outside the kernel.

The static audit classifies every check of every solution notebook and finds the two
unfair families (an expected value computed from the student's own output; a boolean
verdict computed in the kernel); the property table judges recorded data; at grading
time the solution's property and parameters are used, never the student's.
"""
import json
import os
from pathlib import Path

import numpy as np
import pytest

from rnncourse import grading
from rnncourse.autograder.answers import Answer, diagnose, load_answers
from rnncourse.autograder.audit import audit_cell, audit_notebook
from rnncourse.properties import PROPERTIES, property_problem

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*/*.ipynb"))


# --- the static audit ---------------------------------------------------------------------------------

@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_every_check_of_every_solution_notebook_is_fair(path):
    findings = audit_notebook(path)
    assert len(findings) >= 10, f"{path.stem}: the audit found only {len(findings)} checks"
    bad = [f"{f.grade_id} {f.key}: {f.problem}" for f in findings if f.problem]
    assert not bad, "\n".join(bad)


def test_every_graded_notebook_is_audited():
    from assignments import ASSIGNMENTS
    assert {p.stem for p in SOLUTIONS} == set(ASSIGNMENTS)


STUDENT = {"adding_problem", "rnn_cell_forward"}


@pytest.mark.parametrize("source, problem", [
    # the expected value computed from the student's own output: a consistency check compared with the solution
    ("x, y = adding_problem(4, 6, rng)\nmarks = x[:, :, 1]\n"
     "check_array('p/targets', y, lambda: (x[:, :, 0] * marks).sum(1), 'targets')", "self-reference"),
    ("x, _ = adding_problem(4, 6, rng)\nx2, _ = adding_problem(4, 6, rng)\n"
     "check_array('p/reproducible', x2, lambda: x, 'same seed')", "self-reference"),
    # a verdict computed in the kernel and scored as a boolean
    ("x, y = adding_problem(4, 6, rng)\n"
     "check_equal('p/in_range', bool(np.all(x >= 0)), lambda: True, 'in range')", "verdict"),
    ("try:\n    rnn_cell_forward(1, 2, 'sigmoid')\n    raised = False\nexcept ValueError:\n    raised = True\n"
     "check_equal('p/raises', raised, lambda: True, 'raises')", "verdict"),
])
def test_the_audit_finds_a_planted_unfair_check(source, problem):
    findings = audit_cell(source, STUDENT, set())
    assert findings and findings[-1].problem.startswith(problem), findings


@pytest.mark.parametrize("source", [
    "x, y = adding_problem(4, 6, rng)\ncheck_property('p/targets', {'x': x, 'y': y}, "
    "'adding_targets_are_marked_sums', 'targets')",
    "check_raises('p/raises', lambda: rnn_cell_forward(1, 2, 'sigmoid'), 'ValueError', 'raises')",
    "W = np.eye(3)\ngot = rnn_cell_forward(W, W)\ncheck_array('p/value', got, lambda: np.tanh(W @ W), 'value')",
])
def test_the_audit_accepts_properties_and_values_computed_from_test_data(source):
    findings = audit_cell(source, STUDENT, set())
    assert findings and not findings[-1].problem, findings


def test_the_audit_fails_on_a_planted_check_in_a_real_notebook(tmp_path):
    nb = json.loads((ROOT / "solutions" / "ch07_irnn" / "ch07_irnn.ipynb").read_text())
    test_cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id")
                     == "adding_problem_public")
    test_cell["source"] = "".join(test_cell["source"]) + (
        "\ncheck_array('adding_problem_public/planted', y, lambda: (x[:, :, 0] * x[:, :, 1]).sum(1), 'planted')\n")
    planted = tmp_path / "ch07_irnn.ipynb"
    planted.write_text(json.dumps(nb))
    bad = [f for f in audit_notebook(planted) if f.problem]
    assert [f.key for f in bad] == ["'adding_problem_public/planted'"], bad


# --- the properties -----------------------------------------------------------------------------------

def adding_batch(rng, batch=500, length=10):
    x = np.zeros((batch, length, 2))
    x[:, :, 0] = rng.random((batch, length))
    rows = np.arange(batch)
    x[rows, rng.integers(0, length // 2, batch), 1] = 1
    x[rows, rng.integers(length // 2, length, batch), 1] = 1
    return x, (x[:, :, 0] * x[:, :, 1]).sum(1)


@pytest.mark.parametrize("prop, good, bad, params", [
    ("same_arrays", {"a": [1, 2], "b": [1, 2]}, {"a": [1, 2], "b": [1, 3]}, {}),
    ("close_arrays", {"a": [1.0, 2.0], "b": [1.0, 2.0 + 1e-9]}, {"a": [1.0, 2.0], "b": [1.0, 2.1]}, {}),
    ("arrays_differ", {"a": [1.0, 2.0], "b": [1.0, 2.5]}, {"a": [1.0, 2.0], "b": [1.0, 2.0]}, {}),
    ("all_zero", {"grads": [0.0, 0.0], "flags": [False]}, {"grads": [0.0, 1e-3]}, {}),
    ("decreased", {"losses": [1.0, 0.5, 0.1]}, {"losses": [1.0, 0.5, 0.3]}, {"factor": 0.2}),
    ("at_least", {"value": 0.97}, {"value": 0.9}, {"minimum": 0.95}),
    ("raises", {"raised": ["ValueError", "Exception"], "message": "char 'p'"},
     {"raised": ["KeyError", "LookupError", "Exception"], "message": "'p'"}, {"exception": "ValueError"}),
    ("raises", {"raised": ["ValueError"], "message": "character 'p' is unknown"},
     {"raised": ["ValueError"], "message": "unknown character"},
     {"exception": "ValueError", "mentions": r"(?<![A-Za-z])p(?![A-Za-z])"}),
    ("draw_frequencies", {"draws": [0] * 50 + [1] * 50}, {"draws": [0] * 90 + [1] * 10}, {"p": [0.5, 0.5]}),
    ("at_most", {"value": 120}, {"value": 4096}, {"maximum": 500}),
])
def test_each_property_holds_for_good_data_and_fails_with_a_message_for_bad(prop, good, bad, params):
    assert property_problem(prop, good, params) is None
    problem = property_problem(prop, bad, params)
    assert isinstance(problem, str) and problem


def lru_sample(rng, n, r_min, r_max, max_phase, square=True):
    """nu_log, theta_log, gamma_log of n eigenvalues; square=False draws |lambda| (not its square) uniformly."""
    u = rng.random(n)
    r = np.sqrt(r_min ** 2 + u * (r_max ** 2 - r_min ** 2)) if square else r_min + u * (r_max - r_min)
    theta = max_phase * rng.random(n)
    return {"nu_log": np.log(-np.log(r)), "theta_log": np.log(theta), "gamma_log": 0.5 * np.log(1 - r ** 2)}


def test_the_lru_properties_accept_the_ring_and_reject_each_single_mistake():
    rng, ring = np.random.default_rng(0), {"r_min": 0.5, "r_max": 0.99, "max_phase": np.pi / 4}
    good = lru_sample(rng, 40_000, **ring)
    assert property_problem("lru_ring", good, ring) is None
    assert property_problem("lru_uniform_ring", good, ring) is None
    outside = lru_sample(rng, 100, 0.4, 0.99, np.pi / 4)
    assert "magnitudes" in property_problem("lru_ring", outside, ring)
    wide = lru_sample(rng, 100, 0.5, 0.99, np.pi / 2)
    assert "phases" in property_problem("lru_ring", wide, ring)
    unnormalised = {**good, "gamma_log": np.zeros(40_000)}
    assert "gamma_log" in property_problem("lru_ring", unnormalised, ring)
    radius_uniform = lru_sample(rng, 40_000, square=False, **ring)  # inside the ring, but not uniform in area
    assert property_problem("lru_ring", radius_uniform, ring) is None
    assert "|lambda|^2 is not uniform" in property_problem("lru_uniform_ring", radius_uniform, ring)
    clustered = {**good, "theta_log": np.log(np.pi / 4 * rng.random(40_000) ** 2)}
    assert "the phase is not uniform" in property_problem("lru_uniform_ring", clustered, ring)

def test_nothing_raised_is_a_failed_raises_property():
    assert "nothing was raised" in property_problem("raises", {"raised": np.array([], dtype=str), "message": ""},
                                                    {"exception": "ValueError"})


def test_the_adding_properties_accept_any_order_of_draws_and_reject_each_single_mistake():
    rng = np.random.default_rng(0)
    x, y = adding_batch(rng, batch=20_000, length=9)
    sample = {"x": x, "y": y}
    for prop in [p for p in PROPERTIES if p.startswith("adding_")]:
        assert property_problem(prop, sample, {}) is None, prop
    wrong_half = x.copy()
    wrong_half[:, :, 1] = 0
    wrong_half[:, 0, 1] = wrong_half[:, 1, 1] = 1
    assert property_problem("adding_marks_one_per_half", {"x": wrong_half}, {})
    assert property_problem("adding_values_in_unit_interval", {"x": x * 2}, {})
    assert property_problem("adding_targets_are_marked_sums", {"x": x, "y": y + 0.01}, {})
    assert property_problem("adding_uniform_values", {"x": np.concatenate([x[..., :1] ** 2, x[..., 1:]], -1)}, {})
    skewed = x.copy()
    skewed[:, :, 1] = 0
    rows = np.arange(len(x))
    skewed[rows, np.where(rows % 3 == 0, 0, rng.integers(0, 4, len(x))), 1] = 1
    skewed[rows, rng.integers(4, 9, len(x)), 1] = 1
    assert "not uniform" in property_problem("adding_uniform_positions", {"x": skewed}, {})


@pytest.mark.parametrize("data", [
    {}, {"x": np.zeros(3)}, {"x": np.array(["a", "b"])}, {"x": np.full((2, 3, 2), np.nan)},
    {"losses": np.array([1.0])}, {"value": np.zeros(4)},
])
def test_malformed_data_fails_every_property_without_raising(data):
    for prop in PROPERTIES:
        problem = property_problem(prop, data, {})
        assert problem is None or isinstance(problem, str)
    assert property_problem("adding_marks_one_per_half", data, {})
    assert property_problem("no_such_property", data, {}) == "unknown property 'no_such_property'"


# --- recording and judging outside the kernel --------------------------------------------------------

def test_locally_a_property_fails_with_its_message_and_hint():
    with pytest.raises(AssertionError, match=r"loss decrease: the loss went from 1 to 0.5[\s\S]*Hint: train longer"):
        grading.check_property("p/loss", {"losses": [1.0, 0.5]}, "decreased", "loss decrease", factor=0.2,
                               hint="train longer")
    with pytest.raises(AssertionError, match="nothing was raised: expected ValueError"):
        grading.check_raises("p/raises", lambda: None, "ValueError", "raises")
    grading.check_raises("p/raises_ok", lambda: int("x"), "ValueError", "raises", mentions="'x'")
    with pytest.raises(ValueError, match="unknown property"):
        grading.check_property("p/unknown", {"a": 1}, "looks_right", "name")


def record(folder, monkeypatch, *checks):
    monkeypatch.setenv(grading.ANSWERS_ENV, str(folder))
    folder.mkdir()
    for check in checks:
        check()
    monkeypatch.delenv(grading.ANSWERS_ENV)
    return load_answers(folder)


def test_at_grading_time_nothing_is_judged_in_the_kernel_and_the_solutions_parameters_decide(tmp_path, monkeypatch):
    # the solution's run records the property and its parameters
    reference = record(tmp_path / "ref", monkeypatch, lambda: grading.check_property(
        "p_public/loss", {"losses": [1.0, 0.1]}, "decreased", "loss decrease", factor=0.2))
    # the student's kernel never raises, and a student who loosens the factor in the cell gains nothing
    student = record(tmp_path / "student", monkeypatch, lambda: grading.check_property(
        "p_public/loss", {"losses": [1.0, 0.5]}, "decreased", "loss decrease", factor=0.9))
    expected, got = reference["p_public/loss"], student["p_public/loss"]
    assert got.fields is not None and list(got.fields["losses"]) == [1.0, 0.5]
    kind, problem = diagnose(expected, got)
    assert kind == "property does not hold" and "below 0.2 times" in problem
    better = record(tmp_path / "better", monkeypatch, lambda: grading.check_property(
        "p_public/loss", {"losses": [2.0, 0.3]}, "decreased", "loss decrease", factor=0.2))
    assert diagnose(expected, better["p_public/loss"]) is None


def test_a_verdict_recorded_in_place_of_data_is_not_a_property_answer(tmp_path, monkeypatch):
    reference = record(tmp_path / "ref", monkeypatch, lambda: grading.check_raises(
        "p_public/raises", lambda: int("x"), "ValueError", "raises"))
    # a student who records a plain value under the key (e.g. with submit) does not pass the property
    student = record(tmp_path / "student", monkeypatch, lambda: grading.submit("p_public/raises", True))
    assert diagnose(reference["p_public/raises"], student["p_public/raises"])[0] == "wrong type"
    assert diagnose(reference["p_public/raises"], None)[0] == "missing answer"


def test_recorded_property_data_is_never_unpickled_or_followed(tmp_path, monkeypatch):
    answers = record(tmp_path / "a", monkeypatch, lambda: grading.check_property(
        "p_public/same", {"a": [1, 2], "b": [1, 2]}, "same_arrays", "same"))
    assert answers["p_public/same"].fields is not None
    npz = tmp_path / "a" / "p_public__same.npz"
    npz.unlink()
    os.symlink(tmp_path / "elsewhere.npz", npz)
    np.savez(tmp_path / "elsewhere.npz", a=np.array([1, 2]), b=np.array([1, 2]))
    assert load_answers(tmp_path / "a")["p_public/same"].fields is None
    npz.unlink()
    np.savez(npz, a=np.array([{"x": 1}], dtype=object), b=np.array([1]))
    assert load_answers(tmp_path / "a")["p_public/same"].fields is None


def test_the_grader_judges_a_student_property_answer_with_the_answer_object():
    expected = Answer(np.zeros(0), meta={"kind": "property", "property": "same_arrays", "params": {}})
    got = Answer(np.zeros(0), meta={"kind": "property"}, fields={"a": np.arange(3), "b": np.arange(3)})
    assert diagnose(expected, got) is None
    got.fields["b"] = np.arange(1, 4)
    assert diagnose(expected, got)[0] == "property does not hold"
