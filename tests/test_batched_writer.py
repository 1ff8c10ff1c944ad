"""The batched writer records what nbgrader's own autograde steps would, in one transaction per batch.

* End to end (the real ``grade`` command, batches of 3): for every graded submission (on time,
  late with the course's late policy, one part wrong, blank, and one a person graded before it was
  graded again) the gradebook holds exactly what nbgrader's ``SaveAutoGrades`` and
  ``AssignLatePenalties`` store when they run on the notebook the writer put in ``autograded/``:
  every grade's auto score, ``needs_manual_grade`` and manual score, every auto comment, each
  notebook's late penalty. The reference values are computed on a copy of the gradebook whose
  values were first overwritten with wrong ones, so nothing passes by staying as it was. A file
  the submission links to is not copied into ``autograded/``.
* Without a kernel (fabricated worker results): a batch is one commit; a result that makes the
  batch fail in the database costs only itself (scored 0, flagged, no autograded copy) while the
  others of its batch are recorded in full.
"""
import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from sqlalchemy import event

from adversarial import kinds
from assignments import ASSIGNMENTS
from harness import Course, nbgrader_env, run, total_points

pytestmark = pytest.mark.filterwarnings("ignore:.*not in session")   # nbgrader's own, as grading ignores it

A = "ch01_rnn_basics"
NAME = A
LATE_POLICY = 'c.AssignLatePenalties.plugin_class = "rnncourse.autograder.late.PercentPerDay"'


def _grade(course, *extra):
    tmp = course.root.parent / "t"
    tmp.mkdir(exist_ok=True)
    result = subprocess.run([sys.executable, "-m", "rnncourse.autograder", "grade", A, "--timeout", "120", *extra],
                            cwd=course.root, env={**nbgrader_env(), "TMPDIR": str(tmp)}, capture_output=True,
                            text=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def _snapshot(url: str, student: str) -> dict:
    """What the autograde steps store for one submission's notebook."""
    with Gradebook(url) as gb:
        nb = gb.find_submission_notebook(NAME, A, student)
        return {"grades": {g.name: (g.auto_score, g.needs_manual_grade, g.manual_score) for g in nb.grades},
                "comments": {c.name: c.auto_comment for c in nb.comments},
                "late_penalty": nb.late_submission_penalty}


def _nbgraders_values(course, student: str, tmp_path: Path) -> dict:
    """nbgrader's SaveAutoGrades and AssignLatePenalties run on the autograded notebook, on a gradebook copy
    whose values for this student were overwritten with wrong ones first."""
    from nbgrader.preprocessors import AssignLatePenalties, SaveAutoGrades
    from traitlets.config import Config, PyFileConfigLoader

    db = tmp_path / f"{student}.db"
    shutil.copy(course.root / "gradebook.db", db)
    url = f"sqlite:///{db}"
    with Gradebook(url) as gb:
        nb = gb.find_submission_notebook(NAME, A, student)
        for grade in nb.grades:
            grade.auto_score, grade.needs_manual_grade = -7.0, not grade.needs_manual_grade
        for comment in nb.comments:
            comment.auto_comment = "wrong"
        nb.late_submission_penalty = 99.0
        gb.db.commit()
    config = Config()
    config.merge(PyFileConfigLoader("nbgrader_config.py", path=str(course.root)).load_config())
    notebook = nbformat.read(course.root / "autograded" / student / A / f"{NAME}.ipynb", as_version=4)
    resources = {"nbgrader": {"student": student, "assignment": A, "notebook": NAME, "db_url": url}}
    for step in (SaveAutoGrades, AssignLatePenalties):
        notebook, resources = step(config=config)(notebook, resources)
    return _snapshot(url, student)


@pytest.mark.slow
def test_the_gradebook_holds_what_nbgraders_own_autograde_steps_store(tmp_path, tmp_path_factory):
    course = Course(tmp_path_factory.mktemp("bw") / "c", A, timeout=120, extra_config=LATE_POLICY)  # short: sockets
    result = run([sys.executable, "-m", "nbgrader", "db", "assignment", "add", A,
                  "--duedate", "2026-03-02 17:00:00 UTC"], course.root)
    assert result.returncode == 0, result.stderr
    info = ASSIGNMENTS[A]
    by_name = {k.name: k for k in kinds(info)}
    solution, release = course.solution(), course.release()
    make = lambda kind: by_name[kind].make(solution, release, info["independent_part"], info)  # noqa: E731
    students = {"on_time": "honest_solution", "late": "honest_solution", "partial": "one_wrong_part",
                "blank": "blank_student_version", "regraded": "honest_solution"}
    secret = tmp_path / "secret.txt"
    secret.write_text("instructor-only text")
    for student, kind in students.items():
        folder = course.submit(student, make(kind)).parent
        stamp = "2026-03-04 09:00:00.000000 UTC" if student == "late" else "2026-03-01 12:00:00.000000 UTC"
        (folder / "timestamp.txt").write_text(stamp)
    (course.root / "submitted" / "on_time" / A / "data.txt").symlink_to(secret)
    _grade(course, "--batch", "3")

    # a person grades one part of "regraded", which is then graded again: the score stays, marked for review
    url = f"sqlite:///{course.root / 'gradebook.db'}"
    with Gradebook(url) as gb:
        grade = gb.find_submission_notebook(NAME, A, "regraded").grades[0]
        person_graded = grade.name
        grade.manual_score = 0.5
        gb.db.commit()
    _grade(course, "--student", "regraded", "--force")

    for student in students:
        ours = _snapshot(url, student)
        assert ours == _nbgraders_values(course, student, tmp_path), student
    full = total_points(solution)
    assert _snapshot(url, "late")["late_penalty"] > 0            # two started days late: the policy applied
    assert _snapshot(url, "on_time")["late_penalty"] is None
    assert _snapshot(url, "regraded")["grades"][person_graded][1:] == (True, 0.5)
    assert course.score("on_time") == full and course.score("blank") < full
    # a link in the submission is not followed into the instructor's folder
    autograded = course.root / "autograded" / "on_time" / A
    assert not (autograded / "data.txt").exists()
    assert all("instructor-only" not in p.read_text(errors="replace") for p in autograded.rglob("*") if p.is_file())
    rows = json.loads((course.root / "reports" / f"{A}.json").read_text())
    assert {r["student"] for r in rows} == set(students)


# -- without a kernel ------------------------------------------------------------------------------


def _kernel_free_course(root, db_url=None, extra_config=""):
    """A course, its writer's settings and a task per student, with results fabricated from the tasks."""
    from nbgrader.coursedir import CourseDirectory

    from rnncourse.autograder import cli
    from rnncourse.autograder.prepare import make_task, notebook_names, submission_digest
    from rnncourse.autograder.worker import worker_settings

    course = Course(root, A, extra_config=extra_config)
    for student in ("ann", "bob", "cy", "dee", "eve", "fay"):
        course.submit(student, course.solution())
    config = cli.load_config(root, True, root / ".grading" / A / "reference", 30)
    config.RepairSubmission.notes_dir = ""
    db_url = db_url or f"sqlite:///{root / 'gradebook.db'}"
    config.CourseDirectory.db_url = db_url   # the course's config names it relative to the course root
    coursedir = CourseDirectory(config=config)
    names = notebook_names(db_url, A)
    release = root / "release" / A
    settings = worker_settings(config)
    tasks, digests = {}, {}
    for student in ("ann", "bob", "cy", "dee", "eve", "fay"):
        folder = root / "submitted" / student / A
        tasks[student] = make_task(folder, release, A, student, names, config, db_url, coursedir.ignore, {},
                                   settings, str(root.parent))
        digests[student] = submission_digest(folder, coursedir.ignore, "")
    return {"root": root, "config": config, "coursedir": coursedir, "tasks": tasks, "digests": digests,
            "url": db_url}


@pytest.fixture(scope="module")
def kernel_free(tmp_path_factory):
    return _kernel_free_course(tmp_path_factory.mktemp("writer") / "course")


def _result(task):
    """What a worker hands back for a notebook that ran without errors (no kernel: the task's own cells)."""
    from rnncourse.autograder.worker import Result, gradebook_values

    result = Result(student=task.student, seconds=1.0)
    for name, text in task.notebooks.items():
        nb = nbformat.reads(text, as_version=4)
        result.notebooks[name] = nbformat.writes(nb)
        result.digests[name] = task.digests[name]
        result.gradebook[name] = gradebook_values(nb)
    return result


def _writer(env):
    from rnncourse.autograder.writer import GradingState, Writer

    return Writer(env["root"], env["config"], env["coursedir"], A, GradingState(env["root"] / ".grading" / "s"),
                  feedback=False)


def _commits(writer) -> list[int]:
    counted = []
    event.listen(writer.gradebook.engine, "commit", lambda connection: counted.append(1))
    return counted


def test_a_batch_of_results_is_one_commit(kernel_free):
    from rnncourse.autograder.writer import Item

    writer = _writer(kernel_free)
    commits = _commits(writer)
    items = [Item(kernel_free["tasks"][s], _result(kernel_free["tasks"][s]), kernel_free["digests"][s], [])
             for s in ("ann", "bob", "cy")]
    rows = writer.record_batch(items)
    assert len(commits) == 2                # the three new students, then the batch
    assert [r["flags"] for r in rows] == ["", "", ""]
    assert all(r["score"] == r["max_score"] - r["pending"] > 0 for r in rows)
    writer.record_batch(items)              # graded again: the students are known
    writer.close()
    assert len(commits) == 3
    for student in ("ann", "bob", "cy"):
        assert (kernel_free["root"] / "autograded" / student / A / f"{NAME}.ipynb").is_file()


def test_a_result_that_fails_in_the_database_costs_only_itself(kernel_free):
    from rnncourse.autograder.writer import Item

    writer = _writer(kernel_free)
    commits = _commits(writer)
    tasks = kernel_free["tasks"]
    bad = _result(tasks["eve"])
    values = bad.gradebook[NAME]["grades"]
    values["no-such-cell"] = 1.0            # the gradebook has no such grade cell: the write raises mid-batch
    items = [Item(tasks[s], bad if s == "eve" else _result(tasks[s]), kernel_free["digests"][s], [])
             for s in ("dee", "eve", "fay")]
    rows = {r["student"]: r for r in writer.record_batch(items)}
    writer.close()
    assert len(commits) == 4                # the new students; the batch rolled back, then one transaction each
    for student in ("dee", "fay"):
        assert rows[student]["flags"] == "" and rows[student]["score"] > 0
        assert (kernel_free["root"] / "autograded" / student / A / f"{NAME}.ipynb").is_file()
    assert rows["eve"]["score"] == 0 and rows["eve"]["needs_review"]
    assert "grading failed" in rows["eve"]["flags"] and "no-such-cell" in rows["eve"]["flags"]
    assert not (kernel_free["root"] / "autograded" / "eve" / A).exists()
    with Gradebook(kernel_free["url"]) as gb:
        grades = gb.find_submission_notebook(NAME, A, "eve").grades
        assert all(g.auto_score == 0 and g.needs_manual_grade for g in grades)


def test_the_reused_page_renderer_gives_the_pages_a_fresh_one_gives():
    from rnncourse.autograder import feedback

    root = Path(__file__).resolve().parents[1]
    pages = [nbformat.read(root / "solutions" / a / f"{a}.ipynb", as_version=4)
             for a in ("ch01_rnn_basics", "ch05_lstm_gru", "ch01_rnn_basics")]
    pages[2] = copy.deepcopy(pages[2])
    pages[2].cells[0].source = "<script>alert(1)</script> *changed*"
    fresh = []
    for nb in pages:
        feedback._LOCAL.__dict__.clear()    # a renderer made for this page alone
        fresh.append(feedback.render_html(nb))
    reused = [feedback.render_html(nb) for nb in pages]
    assert reused == fresh
    assert "<script>alert" not in reused[2] and reused[2] != reused[0]


def _sanitized(steps, nb, env):
    resources = {"nbgrader": {"student": "x", "assignment": A, "notebook": NAME, "db_url": env["url"]}}
    try:
        for step in steps:
            nb, resources = step(config=env["config"])(nb, resources)
    except Exception as error:  # noqa: BLE001 - the same failure is the expected outcome
        return type(error).__name__, str(error)
    return nbformat.writes(nb)


def test_the_sanitizing_steps_without_their_fixed_costs_do_what_nbgraders_do(kernel_free):
    from nbgrader.preprocessors import CheckCellMetadata

    from rnncourse.autograder.prepare import ONCE, SANITIZE, close_gradebooks

    solution = nbformat.read(kernel_free["root"] / "solutions" / A / f"{NAME}.ipynb", as_version=4)
    graded = [c for c in solution.cells if c.metadata.get("nbgrader", {}).get("grade")]
    cases = {"solution": copy.deepcopy(solution)}
    changed = cases["changed test"] = copy.deepcopy(solution)      # a test cell rewritten: restored
    next(c for c in changed.cells if c.metadata.get("nbgrader", {}).get("locked")).source = "assert True"
    changed.metadata["kernelspec"] = {"name": "other", "display_name": "Other"}
    bad = cases["points not a number"] = copy.deepcopy(solution)
    next(c for c in bad.cells if c.metadata.get("nbgrader", {}).get("grade")).metadata.nbgrader.points = "ten"
    foreign = cases["unknown key type"] = copy.deepcopy(solution)   # a scratch cell claiming a wrong-typed id
    foreign.cells.append(nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {
        "grade": False, "solution": False, "locked": False, "task": False, "grade_id": 7, "schema_version": 3}}))
    old = cases["old schema"] = copy.deepcopy(solution)
    next(c for c in old.cells if "nbgrader" in c.metadata).metadata.nbgrader.schema_version = 2
    twice = cases["duplicate id"] = copy.deepcopy(solution)
    twice.cells.append(copy.deepcopy(graded[0]))
    once = [ONCE.get(step, step) for step in SANITIZE]
    assert once != SANITIZE
    outcomes = {}
    checked = {}
    for name, nb in cases.items():
        outcomes[name] = _sanitized(once, copy.deepcopy(nb), kernel_free)
        assert outcomes[name] == _sanitized(SANITIZE, copy.deepcopy(nb), kernel_free), name
        # the metadata check alone, where the schema decides
        checked[name] = _sanitized([ONCE[CheckCellMetadata]], copy.deepcopy(nb), kernel_free)
        assert checked[name] == _sanitized([CheckCellMetadata], copy.deepcopy(nb), kernel_free), name
    close_gradebooks()
    assert isinstance(outcomes["solution"], str) and "assert True" not in outcomes["changed test"]
    assert '"other"' not in outcomes["changed test"]
    assert [checked[n][0] for n in ("points not a number", "unknown key type", "old schema", "duplicate id")] == [
        "ValidationError", "ValidationError", "SchemaTooOldError", "ValidationError"]


def test_students_another_run_is_adding_at_the_same_time_cost_no_points(tmp_path):
    """Two grading runs (two assignments of one class) on PostgreSQL add the same new students at once.

    Each time the writer is about to insert a student, the other run commits that student first (a
    hook before the writer's flush), so every insert of the writer conflicts: the conflicts must be
    settled by looking the students up again, never by failing a submission. (Recording the batch in
    one transaction with a one-at-a-time retry lost the second student this way.)"""
    from nbgrader.api import Student
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from postgres import PostgresServer
    from rnncourse.autograder.writer import Item

    with PostgresServer() as pg:
        env = _kernel_free_course(tmp_path / "course", pg.url,
                                  f'c.CourseDirectory.db_url = "{pg.url}"\nc.CourseDirectory.course_id = "rnncourse"')
        writer = _writer(env)
        items = [Item(env["tasks"][s], _result(env["tasks"][s]), env["digests"][s], []) for s in ("ann", "bob")]
        added_by_the_other_run = []

        def the_other_run_commits_first(session, context, instances):
            for student in [o for o in session.new if isinstance(o, Student)]:
                if student.id not in added_by_the_other_run:
                    with writer.gradebook.engine.connect() as other:
                        other.execute(text("INSERT INTO student (id) VALUES (:id)"), {"id": student.id})
                        other.commit()
                    added_by_the_other_run.append(student.id)

        event.listen(Session, "before_flush", the_other_run_commits_first)
        try:
            rows = writer.record_batch(items)
        finally:
            event.remove(Session, "before_flush", the_other_run_commits_first)
            writer.close()
        assert added_by_the_other_run == ["ann", "bob"]   # both of the writer's inserts met a conflict
        assert [r["flags"] for r in rows] == ["", ""]
        assert all(r["score"] == r["max_score"] - r["pending"] > 0 for r in rows)
        with Gradebook(pg.url, "rnncourse") as gb:
            assert sorted(s.student.id for s in gb.find_assignment(A).submissions) == ["ann", "bob"]
