"""The single writer: the one place that writes the gradebook, ``autograded/``, feedback, state and report rows.

Workers execute and check submissions in parallel and hand back, for each notebook, the copy that
``autograded/`` keeps and the values nbgrader's ``SaveAutoGrades`` stores (``worker.py``). The writer
does what nbgrader's ``autograde`` does with a submission after execution, for a batch of results
at a time:

1. ``autograded/<student>/<assignment>/`` is made afresh: the submission's other files (regular
   files only: a link is never followed), the source folder's files over them (honouring
   ``Autograde.exclude_overwriting``), the worker's notebooks, nbgrader's file permissions;
2. the student (``Autograde.create_student``) and the submission with its ``timestamp.txt``; a
   notebook that was not handed in scores 0;
3. every grade's auto score and ``needs_manual_grade`` and every auto comment, as ``SaveAutoGrades``
   sets them (a person's earlier score stays and is marked for review), and each notebook's late
   penalty from the configured ``AssignLatePenalties.plugin_class`` (the course's: ``late.py``).

One gradebook (one engine) serves the whole run and one transaction a batch: nbgrader's own
gradebook methods do the work, their commits become flushes (``DeferredCommits``), and the batch
is committed once. A batch that fails in the database is rolled back and written again one
submission at a time, so a bad result costs only itself: it scores 0 and is flagged. Only this
process writes the gradebook, so SQLite is safe and PostgreSQL sees one writer per assignment.

After the commit, for each submission: the report row (score, points pending a person's grade,
flags, what repair changed, ``needs_review`` when there are flags or pending points, late-work
columns), the trusted test results, the feedback (``feedback.write_feedback``: no hidden test, no
grading output; the page the worker rendered is written when the grades it shows are the
gradebook's, otherwise the writer renders it) and, last, the grading state.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader import utils
from nbgrader.api import Gradebook, InvalidEntry, MissingEntry, Student
from nbgrader.converters import Autograde
from nbgrader.preprocessors import AssignLatePenalties
from sqlalchemy.exc import IntegrityError

from . import feedback as feedback_files
from .exchange import CollectRecord
from .late import readable
from .prepare import submission_digest
from .worker import Result, Task

CHANGED = "the submission changed while it was being graded: grade it again"


def db_url_of(course: Path, config) -> str:
    return config.CourseDirectory.db_url or f"sqlite:///{course / 'gradebook.db'}"


def students_in_gradebook(course: Path, config, assignment: str) -> set[str]:
    """The students with a submission of ``assignment`` in the gradebook (one query)."""
    with Gradebook(db_url_of(course, config)) as gb:
        try:
            return {s.student.id for s in gb.find_assignment(assignment).submissions}
        except MissingEntry:
            return set()


def lateness_of(submission) -> dict:
    """The report's late-work columns of a gradebook submission (or None): when it was handed in (the
    ``timestamp.txt`` of ``submitted/``, which ``collect`` writes from the file system's record), the due
    date (with the student's extension), seconds late, the same readable, and the points taken off."""
    if submission is None:
        return {"submitted_at": "", "duedate": "", "late_by": 0, "late": "", "penalty": 0.0}
    seconds = round(submission.total_seconds_late or 0.0, 3)
    stamp = lambda t: t.strftime("%Y-%m-%d %H:%M:%S UTC") if t else ""  # noqa: E731 (naive UTC times)
    return {"submitted_at": stamp(submission.timestamp), "duedate": stamp(submission.duedate),
            "late_by": seconds, "late": readable(seconds),
            "penalty": round(submission.late_submission_penalty or 0.0, 6)}


class DeferredCommits:
    """A gradebook session whose ``commit`` only flushes.

    nbgrader's ``Gradebook`` methods commit after every change (a grading of 38 cells: about 40
    commits, each a disk sync on SQLite and a round trip on PostgreSQL). Set as ``gb.db`` for a
    batch, they write to the open transaction, and the writer commits once at the end.
    """

    def __init__(self, session):
        self.session = session

    def commit(self) -> None:
        self.session.flush()

    def __getattr__(self, name):
        return getattr(self.session, name)


class GradingState:
    """One JSON file per graded submission: its digest, report row (pending points and repairs included),
    whether feedback was written and the test results the feedback is made from.

    Written last, after the gradebook and the feedback, with an atomic rename: a run killed
    before it grades that submission again, a finished one is skipped next time unless
    the submission (or the reference answers) changed.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def path(self, student: str) -> Path:
        return self.folder / f"{student}.json"

    def load(self, student: str) -> dict | None:
        try:
            return json.loads(self.path(student).read_text())
        except (OSError, ValueError):
            return None

    def save(self, student: str, record: dict) -> None:
        tmp = self.path(student).with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(record, indent=1))
        os.replace(tmp, self.path(student))

    def forget(self, student: str) -> None:
        self.path(student).unlink(missing_ok=True)


@dataclass
class Item:
    """One worker result on its way into the gradebook."""

    task: Task
    result: Result
    digest: str                  # the submission's digest when its task was made
    flags: list[str]
    keep_state: bool = True      # False: a crash; the submission is graded again by the next run
    error: str = ""              # why it cannot be graded (then it scores 0 and is flagged)
    seconds: float = 0.0         # the writer's time on it, its share of the batch's commit included


@dataclass
class Writer:
    """Writes worker results in batches: files and gradebook, zero on failure, then row, feedback, state."""

    course: Path
    config: object              # the course's traitlets Config (nbgrader's Autograde and late-penalty settings)
    coursedir: object           # nbgrader CourseDirectory on that config
    assignment: str
    state: GradingState
    feedback: bool = True
    rows: dict[str, dict] = field(default_factory=dict)
    record_dir: Path | None = None     # where test results are kept for feedback (default: state's folder/../results)
    salt: str | None = None            # the reference answers' digest: a submission whose digest (with it) is no
                                       # longer the one selected for grading changed while it was graded

    def __post_init__(self):
        if self.record_dir is None:
            self.record_dir = Path(self.state.folder).parent / "results"
        # nbgrader's own settings: permissions, create_student, exclude_overwriting, the late-penalty plugin
        self.converter = Autograde(coursedir=self.coursedir, config=self.config)
        self.late = AssignLatePenalties(config=self.config)
        self.late.init_plugin()
        self._gradebook = None

    # -- the gradebook, one for the run ------------------------------------------------------------
    @property
    def gradebook(self) -> Gradebook:
        if self._gradebook is None:
            self._gradebook = Gradebook(db_url_of(self.course, self.config), self.coursedir.course_id)
        return self._gradebook

    def close(self) -> None:
        if self._gradebook is not None:
            self._gradebook.close()
            self._gradebook = None

    def _folder(self, step: str, student: str) -> Path:
        return Path(self.coursedir.format_path(step, student, self.assignment))

    def _digest(self, student: str) -> str:
        folder = self._folder(self.coursedir.submitted_directory, student)
        return submission_digest(folder, self.coursedir.ignore, self.salt or "")

    # -- one submission: files and gradebook (inside the batch's transaction) ------------------------
    def _problem(self, item: Item) -> str:
        """Why ``item`` cannot be graded ("" when it can), known before anything is written."""
        task, result = item.task, item.result
        if task.linked or task.error:
            return task.error or "the notebook is a link, not a file"
        if self.salt is not None and self._digest(task.student) != item.digest:
            return CHANGED
        if result.error:
            return result.error
        for name in task.notebooks:
            if name not in result.notebooks or name not in result.gradebook:
                return "the worker returned no notebook"
            if result.digests.get(name) != task.digests.get(name):
                return "the worker handed back other cells than it was given"
        return ""

    def _write_files(self, item: Item) -> None:
        """``autograded/<student>/<assignment>/`` as nbgrader's autograde leaves it."""
        student = item.task.student
        source = self._folder(self.coursedir.submitted_directory, student)
        dest = self._folder(self.coursedir.autograded_directory, student)
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        ignore = list(self.coursedir.ignore) + ["*.ipynb"]
        for name in utils.find_all_files(str(source), ignore):
            path = Path(name)
            if path.is_symlink() or not path.is_file():
                continue   # a link is never followed into the instructor's folder
            target = dest / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
        course_files = Path(self.coursedir.format_path(self.coursedir.source_directory, ".", self.assignment))
        keep = {str(course_files / x) for x in self.converter.exclude_overwriting.get(self.assignment, [])}
        for name in sorted(set(utils.find_all_files(str(course_files), ignore)) - keep):
            target = dest / Path(name).relative_to(course_files)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.unlink(missing_ok=True)
            shutil.copy(name, target)
        for name, text in item.result.notebooks.items():
            (dest / f"{name}.ipynb").write_text(text, encoding="utf-8")
        self.converter.set_permissions(self.assignment, student)

    def _submission(self, gb: Gradebook, student: str, with_timestamp: bool = True):
        """The student and the submission, made or updated as nbgrader's autograde does."""
        if self.converter.create_student:
            gb.update_or_create_student(student)
        else:
            gb.find_student(student)   # MissingEntry: not in the gradebook, as nbgrader refuses it
        timestamp = (self.coursedir.get_existing_timestamp(str(self._folder(self.coursedir.submitted_directory,
                                                                            student)))
                     if with_timestamp else None)
        if timestamp:
            return gb.update_or_create_submission(self.assignment, student, timestamp=timestamp)
        return gb.update_or_create_submission(self.assignment, student)

    def _write_grades(self, gb: Gradebook, item: Item) -> None:
        student, values = item.task.student, item.result.gradebook
        submission = self._submission(gb, student)
        source = self._folder(self.coursedir.submitted_directory, student)
        for notebook in submission.notebooks:
            if notebook.name not in values and not (source / f"{notebook.name}.ipynb").exists():
                for grade in notebook.grades:   # not handed in
                    grade.auto_score = 0
                    grade.needs_manual_grade = False
        for notebook in submission.notebooks:
            if notebook.name not in values:
                continue
            grades = {grade.name: grade for grade in notebook.grades}
            comments = {comment.name: comment for comment in notebook.comments}
            for grade_id, score in values[notebook.name]["grades"].items():
                if grade_id not in grades:
                    raise MissingEntry(f"no grade cell {grade_id!r} in the gradebook's {notebook.name}")
                grade = grades[grade_id]
                grade.auto_score = score
                grade.needs_manual_grade = grade.manual_score is not None or grade.auto_score is None
            for grade_id, text in values[notebook.name]["comments"].items():
                if grade_id not in comments:
                    raise MissingEntry(f"no solution cell {grade_id!r} in the gradebook's {notebook.name}")
                comments[grade_id].auto_comment = text
            gb.db.flush()
            gb.db.expire(notebook)   # its score is a sum the database computes
            score = notebook.score
            notebook.late_submission_penalty = None
            seconds_late = submission.total_seconds_late
            if seconds_late > 0:
                self.late.gradebook, self.late.assignment_id = gb, self.assignment
                self.late.notebook_id, self.late.student_id = notebook.name, student
                penalty = self.late.plugin_inst.late_submission_penalty(student, score, seconds_late)
                if penalty is not None:   # as nbgrader's AssignLatePenalties bounds it
                    notebook.late_submission_penalty = min(max(penalty, 0), score)

    def _write_failure(self, gb: Gradebook, item: Item) -> None:
        """A submission that could not be graded: no points until a person looks at it, no autograded copy."""
        student = item.task.student
        dest = self._folder(self.coursedir.autograded_directory, student)
        if dest.exists():
            shutil.rmtree(dest)
        try:
            submission = self._submission(gb, student, with_timestamp=not item.task.linked)
        except Exception:  # noqa: BLE001 - an unreadable timestamp.txt
            submission = self._submission(gb, student, with_timestamp=False)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score = 0
                grade.manual_score = None
                grade.needs_manual_grade = True

    def _write_one(self, gb: Gradebook, item: Item) -> None:
        began = time.perf_counter()
        if not item.error:
            try:
                self._write_files(item)
                self._write_grades(gb, item)
            except Exception as error:  # noqa: BLE001 - the whole batch is written again, one by one
                item.error = f"{type(error).__name__}: {error}".splitlines()[0]
                raise
        else:
            self._write_failure(gb, item)
        item.seconds += time.perf_counter() - began

    def _ensure_students(self, items: list[Item]) -> None:
        """Add the batch's students the gradebook lacks in a short transaction of their own, before the batch.

        Another grading run (another assignment of the same class, at the same time) may be adding the same
        students: inside the batch's long transaction the second insert of a student would fail the whole
        batch, and its one-at-a-time retry could meet the other run's next batch. Committed at once, a
        conflict shows at once; the students are then looked up again. One commit, and only for new names."""
        if not self.converter.create_student:
            return
        gb, session = self.gradebook, self.gradebook.db
        names = {item.task.student for item in items}
        for attempt in range(3):
            missing = sorted(names - {row[0] for row in session.query(Student.id).filter(Student.id.in_(names))})
            if not missing:
                return
            gb.db = DeferredCommits(session)
            try:
                for name in missing:
                    gb.add_student(name)
                session.commit()
                return
            except (InvalidEntry, IntegrityError):   # another run added one of them meanwhile: look again
                session.rollback()
                if attempt == 2:
                    raise
            finally:
                gb.db = session

    def _transaction(self, items: list[Item]) -> None:
        """Write ``items`` to the gradebook in one transaction (nbgrader's commits deferred to its end)."""
        gb = self.gradebook
        session = gb.db
        gb.db = DeferredCommits(session)
        try:
            for item in items:
                self._write_one(gb, item)
            began = time.perf_counter()
            session.commit()
            for item in items:
                item.seconds += (time.perf_counter() - began) / len(items)
        except BaseException:
            session.rollback()
            raise
        finally:
            gb.db = session

    # -- a batch ---------------------------------------------------------------------------------
    def record_batch(self, items: list[Item]) -> list[dict]:
        """Write a batch of worker results; return their report rows, in order."""
        problems = [self._problem(item) for item in items]
        for item, problem in zip(items, problems):
            item.error = problem
        try:
            self._ensure_students(items)
            self._transaction(items)
        except Exception:  # noqa: BLE001 - one at a time: a result that fails alone scores 0, flagged
            for item, problem in zip(items, problems):
                item.seconds, item.error = 0.0, problem
                try:
                    self._transaction([item])
                except Exception as error:  # noqa: BLE001
                    item.error = item.error or f"{type(error).__name__}: {error}".splitlines()[0]
                    self._transaction([item])   # now as a failure; raises only when the database is broken
        collected = CollectRecord(Path(self.state.folder).parent / "collected.json")
        rows = [self._finish(item, collected) for item in items]
        self.gradebook.db.close()   # a fresh session (and identity map) for the next batch
        return rows

    def record(self, task: Task, result: Result, digest: str, flags: list[str], keep_state: bool = True) -> dict:
        """One result, as a batch of one."""
        return self.record_batch([Item(task, result, digest, list(flags), keep_state)])[0]

    def _finish(self, item: Item, collected: CollectRecord) -> dict:
        """After the commit: the report row, test results, feedback and grading state of one submission."""
        began = time.perf_counter()
        task, result, student = item.task, item.result, item.task.student
        success = not item.error
        flags = list(item.flags)
        if not success:
            flags.append("grading failed, scored 0 pending review: " + (item.error.strip().splitlines() or
                                                                          ["unknown error"])[-1])
        gb = self.gradebook
        submission, score, max_score, grades = feedback_files.grades_in(gb, self.assignment, student)
        pending, pending_parts = feedback_files.pending_points(grades)
        entry = collected.student(student)
        row = {"student": student, "score": score, "max_score": max_score, "pending": pending,
               "seconds": round(result.seconds, 1), "needs_review": bool(flags) or pending > 0,
               "flags": " | ".join(flags), "repairs": " | ".join(task.repairs), **lateness_of(submission),
               "version": len(entry["versions"]) if entry else None}
        tests = result.test_results if success else {}
        feedback_files.save_records(self.record_dir, student, tests)   # no test results of an older run stay
        wrote_feedback, rendered_by, gradebook_seconds = False, {}, item.seconds
        if self.feedback and success:
            rendered_by = self._write_feedback(student, result.feedback, grades)
            wrote_feedback = True
        elif self.feedback:
            feedback_files.clear_feedback(self.coursedir, self.assignment, student)   # no stale feedback
        item.seconds += time.perf_counter() - began
        if item.keep_state:
            self.state.save(student, {"digest": item.digest, "row": row, "success": success,
                                      "feedback": wrote_feedback, "feedback_rendered_by": rendered_by,
                                      "pending_parts": pending_parts,
                                      "tests": tests,
                                      "worker": f"{result.host}:{result.pid}",
                                      "worker_peak_mb": result.worker_peak_mb,
                                      "kernel_peak_mb": result.kernel_peak_mb,
                                      "execute_seconds": result.seconds,
                                      "phases": {"prepare": task.prepare_seconds, **result.phases},
                                      "write_seconds": round(item.seconds, 4),
                                      "gradebook_seconds": round(gradebook_seconds, 4)})
        else:
            self.state.forget(student)
        self.rows[student] = row
        return row

    def _write_feedback(self, student: str, rendered: dict[str, dict] | None = None,
                        grades: dict[str, dict] | None = None) -> dict[str, str]:
        """Write the student's feedback pages; notebook name -> who rendered it (worker or writer)."""
        written = feedback_files.write_feedback(self.course, self.coursedir, db_url_of(self.course, self.config),
                                                self.record_dir, self.assignment, student, rendered, grades)
        return {path.stem: by for path, by in written.items()}

    def feedback_only(self, student: str, record: dict) -> None:
        """A submission graded earlier without feedback gets its feedback now."""
        if self.feedback and not record.get("feedback") and record.get("success"):
            if "tests" in record:
                feedback_files.save_records(self.record_dir, student, record["tests"])
            grades = feedback_files.grades_in(self.gradebook, self.assignment, student)[3]
            self._write_feedback(student, None, grades)
            record["feedback"] = True
            self.state.save(student, record)
