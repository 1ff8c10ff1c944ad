"""Adversarial submissions against the safe grading command, for every graded notebook.

Each kind of submission has the score it deserves; the grader must finish, give no
undeserved points, leave other students' grades and the gradebook intact, flag
the suspicious ones for review, and give the same scores when run again.
"""
import json
import sqlite3
import subprocess
import sys

import pytest

from adversarial import kinds
from assignments import ASSIGNMENTS
from harness import Course, all_points, nbgrader_env, part_points, total_points

pytestmark = pytest.mark.slow


def run_tmpdir(course):
    """The TMPDIR of the grading runs of ``course``: theirs alone, so that a check can look there."""
    tmp = course.root.parent / f"tmp-{course.root.name}"
    tmp.mkdir(exist_ok=True)
    return tmp


def grade(course, *extra):
    # --force: every run grades again (a plain run would skip submissions graded before and unchanged)
    cmd = [sys.executable, "-m", "rnncourse.autograder", "grade", course.assignment,
           "--timeout", str(ASSIGNMENTS[course.assignment]["timeout"]), "--force", *extra]
    result = subprocess.run(cmd, cwd=course.root, env={**nbgrader_env(), "TMPDIR": str(run_tmpdir(course))},
                            capture_output=True, text=True, timeout=3000)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    report = json.loads((course.root / "reports" / f"{course.assignment}.json").read_text())
    return {row["student"]: row for row in report}, result


@pytest.fixture(scope="module", params=sorted(ASSIGNMENTS))
def graded(request, tmp_path_factory):
    name = request.param
    info = ASSIGNMENTS[name]
    course = Course(tmp_path_factory.mktemp(f"adv_{name}"), name, timeout=info["timeout"])
    solution, release = course.solution(), course.release()
    part = info["independent_part"]
    selected = [k for k in kinds(info) if info["suite"] == "full" or "core" in k.tags]

    honest = selected[0]
    assert honest.name == "honest_solution"
    course.submit(honest.name, honest.make(solution, release, part, info))
    alone, _ = grade(course, "--student", honest.name)

    for kind in selected[1:]:
        made = kind.make(solution, release, part, info)
        if isinstance(made, bytes):
            course.submit(kind.name, raw=made, name=kind.file_name)
        else:
            course.submit(kind.name, made, name=kind.file_name)
    first, output = grade(course)
    if info["suite"] == "full":
        second = grade(course, "--no-feedback")[0]
    else:  # regrade an honest and a partly wrong submission
        second = {**grade(course, "--no-feedback", "--student", "honest_solution")[0],
                  **grade(course, "--no-feedback", "--student", "one_wrong_part")[0]}

    total, others = total_points(solution), total_points(solution) - part_points(solution, part)
    expected = {k.name: {"full": total, "zero": 0, "others": others, "at_most_others": others}[k.expected]
                for k in selected}
    exact = {k.name for k in selected if k.expected != "at_most_others"}
    return dict(course=course, kinds=selected, alone=alone, first=first, second=second, expected=expected,
                exact=exact, output=output.stdout, total=total, part=part, all_points=all_points(solution))


def table(graded):
    lines = [f"{'kind':30s} {'expected':>8s} {'observed':>8s} {'seconds':>8s}  flags"]
    for kind in graded["kinds"]:
        row = graded["first"][kind.name]
        lines.append(f"{kind.name:30s} {graded['expected'][kind.name]:8.1f} {row['score']:8.1f} "
                     f"{row['seconds']:8.1f}  {row['flags'][:100]}")
    return "\n".join(lines)


def test_every_kind_gets_the_score_it_deserves(graded):
    print("\n" + graded["course"].assignment + "\n" + table(graded))
    wrong = {k.name: (graded["expected"][k.name], graded["first"][k.name]["score"]) for k in graded["kinds"]
             if k.name in graded["exact"] and graded["first"][k.name]["score"] != graded["expected"][k.name]}
    assert not wrong, f"(expected, observed) differ:\n{table(graded)}"


def test_no_undeserved_points(graded):
    for kind in graded["kinds"]:
        assert graded["first"][kind.name]["score"] <= graded["expected"][kind.name], kind.name
        assert graded["first"][kind.name]["score"] <= graded["total"]


def test_the_attacked_part_never_scores(graded):
    course, part = graded["course"], graded["part"]
    for kind in graded["kinds"]:
        if kind.expected in ("others", "at_most_others"):
            scores = course.cell_scores(kind.name)
            assert scores[f"{part}_public"] == 0 and scores[f"{part}_hidden"] == 0, kind.name


def test_other_students_grades_are_unchanged(graded):
    assert graded["alone"]["honest_solution"]["score"] == graded["total"]
    assert graded["first"]["honest_solution"]["score"] == graded["alone"]["honest_solution"]["score"]


def test_same_submission_graded_twice_gets_the_same_score(graded):
    assert graded["second"]
    for name, row in graded["second"].items():
        assert row["score"] == graded["first"][name]["score"], name


def test_gradebook_is_intact(graded):
    db = sqlite3.connect(graded["course"].root / "gradebook.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT COUNT(*) FROM grade WHERE manual_score >= 1000").fetchone()[0] == 0
    points = db.execute("SELECT SUM(max_score) FROM grade_cells").fetchone()[0]
    assert points == graded["all_points"], "cell points in the gradebook were changed"


def test_suspicious_submissions_are_flagged_and_honest_ones_are_not(graded):
    assert graded["first"]["honest_solution"]["flags"] == ""
    assert graded["first"]["one_wrong_part"]["flags"] == ""
    missed = [k.name for k in graded["kinds"] if k.flagged and not graded["first"][k.name]["needs_review"]]
    assert not missed, f"not flagged: {missed}"


def test_grading_leaves_no_kernel_scratch_folders(graded):
    course = graded["course"]
    assert not list(run_tmpdir(course).iterdir()), "the grading runs left files in their TMPDIR"
    assert not list(course.root.rglob("rnncourse-kernel-*"))


def test_feedback_and_csv_export_are_written(graded):
    root = graded["course"].root
    assert (root / "feedback" / "honest_solution" / graded["course"].assignment).is_dir()
    csv_text = (root / "grades.csv").read_text()
    assert "honest_solution" in csv_text and "raw_score" in csv_text
