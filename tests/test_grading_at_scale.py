"""Grading many submissions at once: local worker processes, a Dask cluster, resuming, PostgreSQL.

One class of chapter 1 submissions (honest, partial, blank and adversarial) is graded
with one worker, then again with two, then on a real dask.distributed LocalCluster:
scores, report, feedback and nbgrader's CSV export must be identical. A run killed
half way and started again grades each student exactly once. A PostgreSQL server
started by the test holds the gradebook of two assignments graded at the same time.
Every run gets its own $TMPDIR, which must be empty when the run ends.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from adversarial import kinds
from assignments import ASSIGNMENTS
from harness import Course, nbgrader_env, part_points, total_points
from postgres import PostgresServer

pytestmark = pytest.mark.slow

A = "ch01_rnn_basics"
INFO = ASSIGNMENTS[A]
# a busy machine slows every cell down: the timeout only has to stop the infinite loop (none here)
TIMEOUT = 120
KINDS = ["honest_solution", "one_wrong_part", "blank_student_version", "always_equal_object", "kernel_death",
         "writes_gradebook"]


def submit_class(course, names=KINDS, info=INFO):
    solution, release = course.solution(), course.release()
    by_name = {k.name: k for k in kinds(info)}
    for name in names:
        course.submit(name, by_name[name].make(solution, release, info["independent_part"], info))
    total = total_points(solution)
    others = total - part_points(solution, info["independent_part"])
    return {name: {"full": total, "zero": 0, "others": others}[by_name[name].expected] for name in names}


def grade_command(course, *extra, assignment=A):
    return [sys.executable, "-m", "rnncourse.autograder", "grade", assignment, "--timeout", str(TIMEOUT), *extra]


def own_tmpdir(course) -> Path:
    tmp = course.root.parent / f"t-{course.root.name[:4]}"   # short: the kernels' sockets live inside
    tmp.mkdir(exist_ok=True)
    return tmp


def grade(course, *extra, assignment=A):
    tmp = own_tmpdir(course)
    result = subprocess.run(grade_command(course, *extra, assignment=assignment), cwd=course.root,
                            env={**nbgrader_env(), "TMPDIR": str(tmp)}, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert not list(tmp.iterdir()), f"the run left files in its TMPDIR: {list(tmp.iterdir())}"
    return result


def same(now: dict, before: dict) -> None:
    """Assert two snapshots are equal, showing the first difference readably."""
    import difflib

    for key in before:
        if now[key] == before[key]:
            continue
        if key == "feedback":
            assert sorted(now[key]) == sorted(before[key])
            name = next(n for n in before[key] if before[key][n] != now[key][n])
            lines = lambda text: text.replace("><", ">\n<").splitlines()  # noqa: E731
            diff = "\n".join(list(difflib.unified_diff(lines(before[key][name]), lines(now[key][name]),
                                                       lineterm=""))[:60])
            raise AssertionError(f"feedback {name} differs:\n{diff}")
        assert now[key] == before[key], key


def snapshot(course, assignment=A) -> dict:
    """Everything a run produces that must not depend on how many workers produced it."""
    rows = json.loads((course.root / "reports" / f"{assignment}.json").read_text())
    for row in rows:
        row.pop("seconds")
    feedback = {p.relative_to(course.root).as_posix(): p.read_text()
                for p in sorted((course.root / "feedback").rglob("*.html"))}
    return {"rows": rows, "grades_csv": (course.root / "grades.csv").read_text(), "feedback": feedback,
            "cells": {row["student"]: course.cell_scores(row["student"]) for row in rows}}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = Course(tmp_path_factory.mktemp("scale"), A, timeout=TIMEOUT)
    expected = submit_class(course)
    first = grade(course, "--workers", "1")
    return {"course": course, "expected": expected, "sequential": snapshot(course), "output": first.stdout}


def test_one_worker_gives_every_submission_the_score_it_deserves(course):
    scores = {row["student"]: row["score"] for row in course["sequential"]["rows"]}
    assert scores == course["expected"], course["output"]
    assert len(course["sequential"]["feedback"]) == len(KINDS) - 1   # the dead kernel gets no feedback
    # the resumable state holds what the writer needs to rebuild a row and the feedback
    c = course["course"]
    state = json.loads((c.root / ".grading" / A / "graded" / "one_wrong_part.json").read_text())
    row = next(r for r in course["sequential"]["rows"] if r["student"] == "one_wrong_part")
    assert {k: v for k, v in state["row"].items() if k != "seconds"} == row
    assert {"pending", "repairs", "needs_review"} <= set(row)
    part = INFO["independent_part"]
    tests = state["tests"][c.notebook_name[:-6]]
    assert {f"{part}_public", f"{part}_hidden"} <= set(tests), "the worker's test results came back"
    assert tests[f"{part}_hidden"]["raised"], "the failed hidden test's error class was recorded"


def test_feedback_pages_rendered_by_workers_are_the_pages_the_writer_would_render(course):
    from rnncourse.autograder.cli import load_config
    from rnncourse.autograder.feedback import write_feedback
    from nbgrader.coursedir import CourseDirectory

    c = course["course"]
    graded = {p.stem: json.loads(p.read_text()) for p in (c.root / ".grading" / A / "graded").glob("*.json")}
    with_feedback = sorted(s for s, record in graded.items() if record["feedback"])
    assert len(with_feedback) == len(KINDS) - 1
    assert all(set(graded[s]["feedback_rendered_by"].values()) == {"worker"} for s in with_feedback), \
        "the workers render the pages; the writer only writes them"
    # the writer renders the same submissions itself, into another folder: the same pages, byte for byte
    config = load_config(c.root, True, c.root / ".grading" / A / "reference", None)
    config.CourseDirectory.feedback_directory = "feedback-by-writer"
    coursedir = CourseDirectory(config=config)
    url, results = f"sqlite:///{c.root / 'gradebook.db'}", c.root / ".grading" / A / "results"
    for student in with_feedback:
        assert set(write_feedback(c.root, coursedir, url, results, A, student).values()) == {"writer"}
    by_writer = {p.relative_to(c.root / "feedback-by-writer").as_posix(): p.read_text()
                 for p in sorted((c.root / "feedback-by-writer").rglob("*.html"))}
    assert by_writer == {k.split("/", 1)[1]: v for k, v in course["sequential"]["feedback"].items()}
    # a page rendered with grades the gradebook no longer holds (a person regraded a part) is not used
    student, name = with_feedback[0], c.notebook_name[:-6]
    stale = {name: {"grades": {"param_count_public": {"score": 0.0, "max_score": 1.0, "pending": False}},
                    "html": "stale page"}}
    written = write_feedback(c.root, coursedir, url, results, A, student, stale)
    assert list(written.values()) == ["writer"]
    assert next(iter(written)).read_text() == by_writer[f"{student}/{A}/{name}.html"]
    shutil.rmtree(c.root / "feedback-by-writer")


def test_two_workers_give_exactly_the_same_scores_feedback_and_csv(course):
    c = course["course"]
    result = grade(c, "--workers", "2", "--force")
    assert "on 2 local worker process(es)" in result.stdout
    assert len({line.rsplit("[", 1)[-1] for line in result.stdout.splitlines() if line.endswith("]")}) == 2, \
        "both workers must have graded submissions"
    same(snapshot(c), course["sequential"])
    # the adversarial submission that writes the gradebook changed nobody's score, in its worker or another
    assert course["expected"]["honest_solution"] == c.score("honest_solution") == total_points(c.solution())


def test_a_dask_cluster_gives_exactly_the_same_results(course):
    from distributed import Client, LocalCluster

    c = course["course"]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      local_directory=str(own_tmpdir(c).parent / "dask-space")) as cluster, Client(cluster) as client:
        worker_pids = set(client.run(os.getpid).values())
        result = grade(c, "--scheduler", cluster.scheduler_address, "--force")
    assert "Dask cluster" in result.stdout and "2 worker(s)" in result.stdout
    same(snapshot(c), course["sequential"])
    graders = {int(line.rsplit(":", 1)[-1].rstrip("]")) for line in result.stdout.splitlines() if line.endswith("]")}
    assert graders and graders <= worker_pids, "the cluster's worker processes executed the submissions"


def submissions_in_gradebook(course, assignment=A) -> list[str]:
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}") as gb:
        return sorted(s.student.id for s in gb.find_assignment(assignment).submissions)


def test_a_run_killed_half_way_and_restarted_grades_each_student_exactly_once(course):
    c = course["course"]
    graded = c.root / ".grading" / A / "graded"
    shutil.rmtree(graded)                                 # as if never graded by this command
    tmp = own_tmpdir(c)
    process = subprocess.Popen(grade_command(c, "--workers", "1"), cwd=c.root, start_new_session=True,
                               env={**nbgrader_env(), "TMPDIR": str(tmp)}, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 900
    while len(list(graded.glob("*.json"))) < 2 and time.time() < deadline and process.poll() is None:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate()
    before = sorted(p.stem for p in graded.glob("*.json"))
    assert 2 <= len(before) < len(KINDS), before
    # the kernels' size-limited scratch folders were mounted in the run's own mount namespace, which
    # died with it: the machine sees none of them, and the killed run left only plain folders
    mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()
              if line.split()[1].startswith(str(tmp) + "/")]
    assert not mounts, mounts
    for leftover in tmp.iterdir():                        # a killed run cannot remove its own folder
        shutil.rmtree(leftover)

    resumed = grade(c, "--workers", "2")
    assert f"grading {len(KINDS) - len(before)} submission(s)" in resumed.stdout
    regraded = {line.split()[0] for line in resumed.stdout.splitlines() if line.endswith("]")}
    assert regraded == set(KINDS) - set(before), "only what was missing is graded"
    assert submissions_in_gradebook(c) == sorted(KINDS), "exactly one gradebook row per student"
    same(snapshot(c), course["sequential"])

    again = grade(c)
    assert "grading 0 submission(s)" in again.stdout
    same(snapshot(c), course["sequential"])   # regrading changes nothing

    # a submission changed since it was graded is graded again, and only it
    honest = (c.root / "submitted" / "honest_solution" / A / c.notebook_name).read_bytes()
    (c.root / "submitted" / "one_wrong_part" / A / c.notebook_name).write_bytes(honest)
    changed = grade(c)
    assert "grading 1 submission(s)" in changed.stdout
    assert c.score("one_wrong_part") == total_points(c.solution())
    assert submissions_in_gradebook(c) == sorted(KINDS)


def report_row(c, student: str) -> dict:
    rows = json.loads((c.root / "reports" / f"{A}.json").read_text())
    assert len(rows) == len({r["student"] for r in rows}), "one row per student"
    return next(r for r in rows if r["student"] == student)


def test_a_submission_changed_while_it_is_graded_is_flagged_and_graded_again_by_the_next_run(course):
    c = course["course"]
    student = "blank_student_version"   # a submission no other test changes
    path = c.root / "submitted" / student / A / c.notebook_name
    original = path.read_bytes()
    honest = (c.root / "submitted" / "honest_solution" / A / c.notebook_name).read_bytes()
    run = subprocess.Popen(grade_command(c, "--workers", "1", "--force", "--no-feedback", "--student", student),
                           cwd=c.root, env={**nbgrader_env(), "TMPDIR": str(own_tmpdir(c)), "PYTHONUNBUFFERED": "1"},
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output = []
        for line in run.stdout:   # printed after the submission was selected, before its kernel starts
            output.append(line)
            if line.startswith("grading 1 submission"):
                # the student hands in again while the first version is graded (whole, as a rename: a half-written
                # file read by the grader is another case, an unreadable notebook)
                path.with_suffix(".new").write_bytes(honest)
                path.with_suffix(".new").replace(path)
                break
        output.append(run.communicate(timeout=900)[0])
        assert run.returncode == 0, "".join(output)[-3000:]
        row = report_row(c, student)   # the report keeps the whole class; this student's row changed
        assert row["score"] == 0 and row["needs_review"]
        assert "the submission changed while it was being graded: grade it again" in row["flags"]
        # the next run, without --force, sees a submission it has not graded and grades the new version
        again = grade(c, "--workers", "1", "--no-feedback", "--student", student)
        assert "grading 1 submission(s)" in again.stdout
        row = report_row(c, student)
        assert (row["score"], row["flags"]) == (course["expected"]["honest_solution"], "")
    finally:
        run.kill()
        path.write_bytes(original)


def add_assignment(course, name):
    shutil.copytree(Path(__file__).resolve().parents[1] / "solutions" / name, course.root / "solutions" / name)
    result = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", name, "--force"],
                            cwd=course.root, env=nbgrader_env(), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr


def scores_of(url, assignment):
    with Gradebook(url) as gb:
        return {s.student.id: s.score for s in gb.find_assignment(assignment).submissions}


def test_postgresql_gradebook_gets_the_same_scores_as_sqlite_with_two_assignments_at_once(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("pg")   # short paths: the kernels' sockets live under TMPDIR
    second = "ch04_vanishing_gradients"
    names = ["honest_solution", "one_wrong_part"]
    with PostgresServer() as pg:
        courses = {}
        for db in ["sqlite", "postgres"]:
            # PostgreSQL enforces the gradebook's foreign keys: nbgrader needs a course id there
            extra = f'c.CourseDirectory.db_url = "{pg.url}"\nc.CourseDirectory.course_id = "rnncourse"' \
                if db == "postgres" else ""
            c = Course(tmp_path / db, A, timeout=TIMEOUT, extra_config=extra)
            add_assignment(c, second)
            submit_class(c, names)
            c2 = Course.__new__(Course)
            c2.root, c2.assignment = c.root, second
            submit_class(c2, names, ASSIGNMENTS[second])
            courses[db] = c
        for assignment in [A, second]:                   # SQLite: one after the other, one worker
            grade(courses["sqlite"], "--workers", "1", "--no-feedback", assignment=assignment)
        pc = courses["postgres"]                         # PostgreSQL: both assignments at once, two workers each
        tmp = own_tmpdir(pc)
        runs = [subprocess.Popen(grade_command(pc, "--workers", "2", assignment=assignment), cwd=pc.root,
                                 env={**nbgrader_env(), "TMPDIR": str(tmp)}, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True) for assignment in [A, second]]
        outputs = [run.communicate(timeout=1800)[0] for run in runs]
        assert [run.returncode for run in runs] == [0, 0], "\n".join(o[-3000:] for o in outputs)
        assert not list(tmp.iterdir())
        assert not (pc.root / "gradebook.db").exists(), "the PostgreSQL course must not fall back to SQLite"
        sqlite_url = f"sqlite:///{courses['sqlite'].root / 'gradebook.db'}"
        for assignment in [A, second]:
            on_postgres, on_sqlite = scores_of(pg.url, assignment), scores_of(sqlite_url, assignment)
            reports = {db: (c.root / "reports" / f"{assignment}.json").read_text() for db, c in courses.items()}
            assert on_postgres == on_sqlite, (assignment, reports)
            assert sorted(on_postgres) == names
            assert on_postgres["honest_solution"] > on_postgres["one_wrong_part"] > 0, (on_postgres, reports)
    assert not Path(pg.folder).exists(), "the server's folder is removed"
