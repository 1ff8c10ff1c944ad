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
from rnncourse.autograder.sandbox import KERNEL_PREFIX

pytestmark = pytest.mark.slow


def run_tmpdir(course):
    """The TMPDIR of the grading runs of ``course``: theirs alone, so that a check can look there.

    Short (the kernels' sockets live inside it): named after the chapter, unique per assignment."""
    tmp = course.root.parent / f"t-{course.assignment[:4]}"
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
    first_csv = (course.root / "reports" / f"{name}.csv").read_text()
    if info["suite"] == "full":
        second = grade(course, "--no-feedback")[0]
    else:  # regrade an honest and a partly wrong submission
        regraded = ["honest_solution", "one_wrong_part"]
        report, again = grade(course, "--no-feedback", "--student", regraded[0], "--student", regraded[1])
        assert "grading 2 submission(s)" in again.stdout
        # the report keeps the whole class: the others' rows are the first run's
        assert sorted(report) == sorted(first)
        assert all(report[s] == first[s] for s in first if s not in regraded)
        second = {s: report[s] for s in regraded}

    total, others = total_points(solution), total_points(solution) - part_points(solution, part)
    expected = {k.name: {"full": total, "zero": 0, "others": others, "at_most_others": others}[k.expected]
                for k in selected}
    exact = {k.name for k in selected if k.expected != "at_most_others"}
    return dict(course=course, kinds=selected, alone=alone, first=first, first_csv=first_csv, second=second,
                expected=expected,
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
    assert graded["first"]["honest_variant"]["flags"] == "", "an answer written differently is not suspicious"
    missed = [k.name for k in graded["kinds"] if k.flagged and not graded["first"][k.name]["needs_review"]]
    assert not missed, f"not flagged: {missed}"


def test_grading_leaves_no_kernel_scratch_folders(graded):
    course = graded["course"]
    assert not list(run_tmpdir(course).iterdir()), "the grading runs left files in their TMPDIR"
    assert not list(course.root.rglob(f"{KERNEL_PREFIX}*"))


def test_feedback_and_csv_export_are_written(graded):
    root = graded["course"].root
    assert (root / "feedback" / "honest_solution" / graded["course"].assignment).is_dir()
    csv_text = (root / "grades.csv").read_text()
    assert "honest_solution" in csv_text and "raw_score" in csv_text


def test_hidden_checks_describe_their_case_safely(graded):
    """A hidden check's description is all a student learns of it: words only, no seeds, sizes or code."""
    from rnncourse.autograder.answers import SAFE_CASE, load_answers

    course = graded["course"]
    reference = load_answers(course.root / ".grading" / course.assignment / "reference" / course.notebook_name[:-6])
    hidden = {k: a.meta.get("name", "") for k, a in reference.items() if k.split("/")[0].endswith("_hidden")}
    assert hidden, "no hidden answers in the reference"
    unsafe = {k: name for k, name in hidden.items() if not SAFE_CASE.match(name)}
    assert not unsafe, unsafe


# --- feedback that shows no hidden test, pending manual parts, repairs, the disk bound ---

HIDDEN = [("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")]


def feedback_folder(graded, student):
    return graded["course"].root / "feedback" / student / graded["course"].assignment


def autograded_text(graded, student):
    import nbformat
    from leaks import _normalize

    folder = graded["course"].root / "autograded" / student / graded["course"].assignment
    nb = nbformat.read(folder / graded["course"].notebook_name, as_version=4)
    return _normalize("\n".join(c.source for c in nb.cells)), json.dumps(nb)


def test_feedback_shows_no_line_of_a_hidden_test(graded):
    from leaks import find_leaks, secret_lines

    course = graded["course"]
    name = course.notebook_name
    secrets = secret_lines(course.root / "solutions" / course.assignment / name,
                           course.root / "notebooks" / course.assignment / name, regions=HIDDEN)
    assert secrets, "no hidden test lines to look for"
    # positive control: the instructor's autograded notebook keeps every hidden test
    sources, _ = autograded_text(graded, "honest_solution")
    assert all(s in sources for s in secrets)
    leaks = find_leaks(secrets, course.root / "feedback")
    assert not leaks, f"hidden tests in feedback: {leaks}"
    assert (feedback_folder(graded, "honest_solution") / name.replace(".ipynb", ".html")).is_file()


def test_values_printed_by_student_code_during_grading_stay_out_of_feedback(graded):
    from adversarial import STASH_MARK

    _, raw = autograded_text(graded, "prints_test_inputs")
    assert STASH_MARK in raw, "the stashing code did not run (positive control)"
    assert graded["first"]["prints_test_inputs"]["score"] == graded["total"]
    for path in (graded["course"].root / "feedback").rglob("*"):
        if path.is_file():
            assert STASH_MARK not in path.read_text(errors="ignore"), path


def test_feedback_of_a_failed_hidden_test_names_only_the_test_and_the_kind_of_failure(graded):
    from leaks import published_text

    course, part = graded["course"], graded["part"]
    html = feedback_folder(graded, "one_wrong_part") / course.notebook_name.replace(".ipynb", ".html")
    text = published_text(html)
    assert f"hidden test {part}_hidden: failed, 0 /" in text
    assert "NotImplementedError on a hidden case" in text
    assert f"test {part}_public: failed" in text
    assert f"hidden test {part}_public" not in text, "a public test graded without its expected values is public"
    assert "Traceback" not in text and "most recent call last" not in text
    # the public test is shown in full, as released
    from harness import cell
    from leaks import _normalize

    public = _normalize(cell(course.release(), f"{part}_public").source.splitlines()[0])
    assert public in text
    start = text.index(f"hidden test {part}_hidden")
    print(f"\n{course.assignment} feedback excerpt: {text[start:start + 160]}")


def test_parts_graded_by_a_person_are_pending_not_zero(graded):
    import csv

    course = graded["course"]
    manual = {m["grade_id"]: m.get("points", 0) for m in
              (c.metadata["nbgrader"] for c in course.solution().cells if "nbgrader" in c.metadata)
              if m.get("grade") and m.get("solution")}
    row = graded["first"]["honest_solution"]
    csv_row = next(r for r in csv.DictReader(graded["first_csv"].splitlines()) if r["student"] == "honest_solution")
    assert row["pending"] == sum(manual.values()) == float(csv_row["pending"])
    assert row["score"] == graded["total"]
    if manual:
        assert row["needs_review"] and csv_row["needs_review"] == "True"
        text = (feedback_folder(graded, "honest_solution") / course.notebook_name.replace(".ipynb", ".html")
                ).read_text()
        for gid in manual:
            assert f"pending (graded by a person)" in text and gid in text
        assert f"{sum(manual.values()):g} points pending a person's grade" in text


def test_the_state_says_where_each_submissions_seconds_went(graded):
    """The profile that benchmarks/bench_grading.py --profile reads: every phase timed, none invented."""
    course = graded["course"]
    record = json.loads((course.root / ".grading" / course.assignment / "graded" / "honest_solution.json").read_text())
    phases = record["phases"]
    worker = {"scratch", "strip", "kernel_start", "kernel_ready", "setup_cell", "cells", "kernel_stop", "verify"}
    worker |= {"feedback"} if record["feedback_rendered_by"] else set()   # the last run may skip feedback
    assert worker | {"prepare"} <= set(phases), sorted(phases)
    assert all(seconds >= 0 for seconds in phases.values()), phases
    assert phases["kernel_start"] > 0 and phases["setup_cell"] > 0 and phases["cells"] > 0
    # the worker's phases account for its time (the rest is reading the task and writing the result)
    inside = sum(phases[p] for p in worker)
    assert 0.8 * record["execute_seconds"] <= inside <= record["execute_seconds"] + 0.05, (inside, record)
    assert 0 < record["gradebook_seconds"] <= record["write_seconds"]
