"""Grading is fair to every correct answer the instructions allow, and scores nothing that is not one.

Chapter 7's generator may draw from ``rng`` in any order: answers written differently from the
reference (values first with a loop per row; marks first with ``choice``) score full marks with the
real grading command; a generator wrong in exactly one way loses exactly the points of the
property it breaks; patching ``bool``, ``numpy.all``, ``abs`` and ``numpy.isclose`` gains nothing.
A notebook that is a link (symbolic or hard) to the solution scores 0 and is flagged, and
what it points to is never read.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from adversarial import add_cell_after_setup, honest
from assignments import ASSIGNMENTS
from harness import Course, cell, nbgrader_env, total_points

sys.path.insert(0, str(Path(__file__).parent / "variants"))
import ch07_irnn as V  # noqa: E402

pytestmark = pytest.mark.slow
A = "ch07_irnn"


def grade(course):
    tmp = course.root.parent / "t-fair"
    tmp.mkdir(exist_ok=True)
    cmd = [sys.executable, "-m", "rnncourse.autograder", "grade", A, "--timeout", str(ASSIGNMENTS[A]["timeout"]),
           "--force", "--no-feedback"]
    result = subprocess.run(cmd, cwd=course.root, env={**nbgrader_env(), "TMPDIR": str(tmp)},
                            capture_output=True, text=True, timeout=3000)
    assert result.returncode in (0, 1), result.stdout[-4000:] + result.stderr[-4000:]
    import json
    report = json.loads((course.root / "reports" / f"{A}.json").read_text())
    return {row["student"]: row for row in report}, result


def answers(nb, **sources):
    for grade_id, source in sources.items():
        cell(nb, grade_id).source = source.strip("\n")
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = Course(tmp_path_factory.mktemp("fair"), A, timeout=ASSIGNMENTS[A]["timeout"])
    solution, release = course.solution(), course.release()
    mine = dict(identity_init=V.IDENTITY_INIT, train=V.TRAIN)
    course.submit("reference", honest(solution, release))
    course.submit("values_first", answers(honest(solution, release), adding_problem=V.VALUES_FIRST, **mine))
    course.submit("marks_first", answers(honest(solution, release), adding_problem=V.MARKS_FIRST, **mine))
    for name, source in V.WRONG.items():
        course.submit(name, answers(honest(solution, release), adding_problem=source, **mine))
    wrong = dict(identity_init="def identity_init(rnn, scale=1.0):\n    return rnn",
                 adding_problem=V.WRONG["marks_in_the_wrong_half"], train=V.NOT_LEARNING)
    course.submit("wrong_everything", answers(honest(solution, release), **wrong))
    course.submit("wrong_everything_patched",
                  add_cell_after_setup(answers(honest(solution, release), **wrong), V.PATCH_BUILTINS))
    # links to the course's own solution notebook, placed as an unpacked archive or a collect would
    target = course.root / "solutions" / A / f"{A}.ipynb"
    for student, how in [("absolute_link", "absolute"), ("relative_link", "relative"),
                         ("link_to_a_link", "chain"), ("hard_link", "hard")]:
        path = course.submit(student, honest(solution, release))
        path.unlink()
        if how == "absolute":
            path.symlink_to(target)
        elif how == "relative":
            path.symlink_to(os.path.relpath(target, path.parent))
        elif how == "chain":
            middle = path.parent / "middle.ipynb"
            middle.symlink_to(target)
            path.symlink_to("middle.ipynb")
        else:
            os.link(target, path)
    rows, result = grade(course)
    return dict(rows=rows, total=total_points(solution), output=result.stdout + result.stderr)


def test_variants_in_any_order_of_draws_score_full_marks(graded):
    rows = graded["rows"]
    assert graded["total"] == 10
    for student in ("reference", "values_first", "marks_first"):
        assert rows[student]["score"] == 10, (student, rows[student], graded["output"][-3000:])
        assert not rows[student]["flags"], rows[student]


def test_a_generator_wrong_in_one_way_loses_exactly_its_property(graded):
    rows = graded["rows"]
    for name, loses in V.LOSES.items():
        assert rows[name]["score"] == 10 - loses, (name, rows[name])


def test_patching_builtins_gains_no_point(graded):
    rows = graded["rows"]
    assert rows["wrong_everything"]["score"] == 0, rows["wrong_everything"]
    assert rows["wrong_everything_patched"]["score"] == 0, rows["wrong_everything_patched"]


def test_linked_notebooks_score_zero_and_are_flagged(graded):
    rows = graded["rows"]
    for student in ("absolute_link", "relative_link", "link_to_a_link", "hard_link"):
        row = rows[student]
        assert row["score"] == 0, row
        assert row["needs_review"] and "link" in row["flags"], row
    assert rows["reference"]["score"] == 10
