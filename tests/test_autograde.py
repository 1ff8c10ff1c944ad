"""Autograding end to end with nbgrader's own commands, for every graded notebook.

One course folder per assignment; all submissions are graded by one
``nbgrader autograde`` run, as an instructor would do it.
"""
import copy
import time

import pytest

from assignments import ASSIGNMENTS
from harness import Course, cell, part_points, total_points, with_part_stubbed

pytestmark = pytest.mark.slow


# nbgrader's own pipeline, on the assignments whose full suite runs (the others run the core
# adversarial kinds through the safe grading command in test_adversarial.py)
@pytest.fixture(scope="module", params=sorted(a for a, info in ASSIGNMENTS.items() if info["suite"] == "full"))
def graded(request, tmp_path_factory):
    name = request.param
    info = ASSIGNMENTS[name]
    course = Course(tmp_path_factory.mktemp(name), name, timeout=info.get("timeout", 30))
    solution, release = course.solution(), course.release()
    part = info["independent_part"]

    course.submit("solution", solution)
    course.submit("blank", release)
    course.submit("one_wrong", with_part_stubbed(solution, release, part))

    cheat = with_part_stubbed(solution, release, part)
    cell(cheat, f"{part}_public").source = "pass"
    course.submit("edited_test", cheat)

    looping = with_part_stubbed(solution, release, part)
    answer = cell(looping, part)
    answer.source = answer.source.replace("raise NotImplementedError()", "while True:\n        pass")
    assert "while True" in answer.source
    course.submit("infinite_loop", looping)

    start = time.perf_counter()
    result = course.autograde()
    elapsed = time.perf_counter() - start
    return dict(course=course, solution=solution, part=part, result=result, seconds=elapsed)


def test_autograde_finishes(graded):
    result = graded["result"]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    print(f"\n{graded['course'].assignment}: 5 submissions autograded in {graded['seconds']:.1f} s")


def test_solution_scores_full_marks(graded):
    total = total_points(graded["solution"])
    assert total > 0
    assert graded["course"].score("solution") == total


def test_untouched_student_version_scores_zero(graded):
    assert graded["course"].score("blank") == 0


def test_one_wrong_part_scores_exactly_the_other_parts(graded):
    nb, part = graded["solution"], graded["part"]
    assert part_points(nb, part) > 0
    assert graded["course"].score("one_wrong") == total_points(nb) - part_points(nb, part)


def test_editing_a_test_cell_to_pass_earns_nothing_for_it(graded):
    nb, part, course = graded["solution"], graded["part"], graded["course"]
    assert course.score("edited_test") == total_points(nb) - part_points(nb, part)
    assert course.cell_scores("edited_test")[f"{part}_public"] == 0


def test_infinite_loop_is_stopped_and_other_parts_are_graded(graded):
    nb, part, course = graded["solution"], graded["part"], graded["course"]
    assert course.score("infinite_loop") == total_points(nb) - part_points(nb, part)
