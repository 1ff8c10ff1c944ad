"""The single writer: the one place that writes the gradebook, feedback, state and report rows.

Workers execute and check submissions in parallel; their results come back here, one
at a time, and go through nbgrader's own ``autograde`` with ``UseExecuted`` in place of
execution: nbgrader sanitizes the submission again, ``UseExecuted`` swaps in the
notebook the worker executed and verified (after checking that it is the same
sanitized notebook), and nbgrader's ``SaveAutoGrades`` and late penalties write the
gradebook as they always do. Only this process opens the gradebook for writing, so
SQLite is safe and PostgreSQL sees one writer per assignment.

The writer also stores the worker's trusted test results and writes the feedback
(``feedback.write_feedback``: no hidden test, no grading output; nbgrader's
``generate_feedback`` is never used). The worker has already rendered each page, the
costly part; the writer writes it when the grades it was rendered with are the
gradebook's, and renders it itself otherwise (a person's grade, for example). It removes the feedback of a submission that could
not be graded, and makes the report row: score, points pending a person's grade,
flags, what repair changed, and ``needs_review`` when there are flags or pending points.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import AssignLatePenalties, LimitOutput, NbGraderPreprocessor, SaveAutoGrades

from . import feedback as feedback_files
from .exchange import version_of
from .late import readable
from .prepare import cells_digest, submission_digest
from .sanitize import SanitizeNotebook
from .worker import Result, Task

# (student, notebook) -> (digest of the sanitized notebook, executed notebook JSON) or an error message
HANDOFF: dict[tuple[str, str], tuple[str, str] | str] = {}


class UseExecuted(NbGraderPreprocessor):
    """Stands in for execution: the notebook a worker executed and verified replaces the submitted one.

    The worker's notebook must have the cells it was given (types, sources, nbgrader metadata:
    the sanitized notebook, whose metadata ``CheckCellMetadata`` checked when the task was made).
    """

    def preprocess(self, nb, resources):
        key = (resources["nbgrader"]["student"], resources["nbgrader"]["notebook"])
        entry = HANDOFF.get(key)
        if entry is None:
            raise RuntimeError(f"no executed notebook for {key[0]}/{key[1]}")
        if isinstance(entry, str):
            raise RuntimeError(entry)
        digest, text = entry
        executed = nbformat.reads(text, as_version=4)
        if cells_digest(executed) != digest:
            raise RuntimeError("the worker handed back other cells than it was given")
        return executed, resources


# The writer's nbgrader autograde: no sanitizing pass (the task was sanitized when it was made, and the
# worker's notebook replaces the submitted one), then nbgrader's own steps after execution.
WRITER_SANITIZE: list = []
WRITER_PREPROCESSORS = [UseExecuted, SanitizeNotebook, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
                        AssignLatePenalties]   # SanitizeNotebook: no student markup runs where autograded/ is opened
CHANGED = "the submission changed while it was being graded: grade it again"


def db_url_of(course: Path, config) -> str:
    return config.CourseDirectory.db_url or f"sqlite:///{course / 'gradebook.db'}"


def zero_submission(course: Path, config, assignment: str, student: str) -> None:
    """A submission that could not be graded gets no points (until a human looks at it)."""
    with Gradebook(db_url_of(course, config)) as gb:
        try:
            submission = gb.find_submission(assignment, student)
        except MissingEntry:
            return
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score = 0
                grade.manual_score = None
                grade.needs_manual_grade = True
        gb.db.commit()


def students_in_gradebook(course: Path, config, assignment: str) -> set[str]:
    """The students with a submission of ``assignment`` in the gradebook (one query)."""
    with Gradebook(db_url_of(course, config)) as gb:
        try:
            return {s.student.id for s in gb.find_assignment(assignment).submissions}
        except MissingEntry:
            return set()


def lateness(db_url: str, assignment: str, student: str) -> dict:
    """The report's late-work columns, from the gradebook: when the submission was handed in (the
    ``timestamp.txt`` of ``submitted/``, which ``collect`` writes from the file system's record), the due
    date (with the student's extension), seconds late, the same readable, and the points taken off."""
    with Gradebook(db_url) as gb:
        try:
            submission = gb.find_submission(assignment, student)
        except MissingEntry:
            return {"submitted_at": "", "duedate": "", "late_by": 0, "late": "", "penalty": 0.0}
        seconds = round(submission.total_seconds_late or 0.0, 3)
        stamp = lambda t: t.strftime("%Y-%m-%d %H:%M:%S UTC") if t else ""  # noqa: E731 (naive UTC times)
        return {"submitted_at": stamp(submission.timestamp), "duedate": stamp(submission.duedate),
                "late_by": seconds, "late": readable(seconds),
                "penalty": round(submission.late_submission_penalty or 0.0, 6)}


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
class Writer:
    """Writes each worker result: gradebook (nbgrader autograde), zero on failure, feedback, state, row."""

    course: Path
    config: object              # the writer's traitlets Config (autograde_preprocessors = WRITER_PREPROCESSORS)
    api: object                 # nbgrader.apps.NbGraderAPI built on that config
    assignment: str
    state: GradingState
    feedback: bool = True
    log: object = print
    rows: dict[str, dict] = field(default_factory=dict)
    record_dir: Path | None = None     # where test results are kept for feedback (default: state's folder/../results)
    salt: str | None = None            # the reference answers' digest: a submission whose digest (with it) is no
                                       # longer the one selected for grading changed while it was graded

    def __post_init__(self):
        if self.record_dir is None:
            self.record_dir = Path(self.state.folder).parent / "results"

    def _digest(self, student: str) -> str:
        coursedir = self.api.coursedir
        folder = Path(coursedir.format_path(coursedir.submitted_directory, student, self.assignment))
        return submission_digest(folder, coursedir.ignore, self.salt or "")

    def _write_feedback(self, student: str, rendered: dict[str, dict] | None = None,
                        grades: dict[str, dict] | None = None) -> dict[str, str]:
        """Write the student's feedback pages; notebook name -> who rendered it (worker or writer)."""
        written = feedback_files.write_feedback(self.course, self.api.coursedir, db_url_of(self.course, self.config),
                                                self.record_dir, self.assignment, student, rendered, grades)
        return {path.stem: by for path, by in written.items()}

    def record(self, task: Task, result: Result, digest: str, flags: list[str], keep_state: bool = True) -> dict:
        student = task.student
        start = time.perf_counter()
        error = CHANGED if self.salt is not None and self._digest(student) != digest else result.error
        for name in task.notebooks:
            if error or name in result.notebooks:
                HANDOFF[(student, name)] = error or (task.digests[name], result.notebooks[name])
            else:
                HANDOFF[(student, name)] = "the worker returned no notebook"
        try:   # nbgrader's autograde would copy what a linked notebook points to: it never sees one
            outcome = ({"success": False, "error": task.error} if task.linked else
                       self.api.autograde(self.assignment, student, force=True, create=True))
        finally:
            for name in task.notebooks:
                HANDOFF.pop((student, name), None)
        autograde_seconds = time.perf_counter() - start
        if task.linked:
            with Gradebook(db_url_of(self.course, self.config)) as gb:
                gb.update_or_create_student(student)
                gb.update_or_create_submission(self.assignment, student)
        flags = list(flags)
        if not outcome["success"]:
            zero_submission(self.course, self.config, self.assignment, student)
            reason = (error or outcome.get("error") or outcome.get("log") or "").strip().splitlines()
            flags.append("grading failed, scored 0 pending review: " + (reason[-1] if reason else "unknown error"))
        # one read of the gradebook: score, points that wait for a person (never reported as 0), cell grades
        score, max_score, grades = feedback_files.submission_grades(db_url_of(self.course, self.config),
                                                                    self.assignment, student)
        pending, pending_parts = feedback_files.pending_points(grades)
        row = {"student": student, "score": score, "max_score": max_score, "pending": pending,
               "seconds": round(result.seconds, 1), "needs_review": bool(flags) or pending > 0,
               "flags": " | ".join(flags), "repairs": " | ".join(task.repairs),
               **lateness(db_url_of(self.course, self.config), self.assignment, student),
               "version": version_of(Path(self.state.folder).parent / "collected.json", student)}
        tests = result.test_results if outcome["success"] else {}
        feedback_files.save_records(self.record_dir, student, tests)   # no test results of an older run stay
        wrote_feedback, rendered_by, autograded = False, {}, time.perf_counter()
        if self.feedback and outcome["success"]:
            rendered_by = self._write_feedback(student, result.feedback, grades)
            wrote_feedback = True
        elif self.feedback:
            feedback_files.clear_feedback(self.api.coursedir, self.assignment, student)   # no stale feedback
        if keep_state:
            self.state.save(student, {"digest": digest, "row": row, "success": bool(outcome["success"]),
                                      "feedback": wrote_feedback, "feedback_rendered_by": rendered_by,
                                      "pending_parts": pending_parts,
                                      "tests": tests,
                                      "worker": f"{result.host}:{result.pid}",
                                      "worker_peak_mb": result.worker_peak_mb,
                                      "kernel_peak_mb": result.kernel_peak_mb,
                                      "execute_seconds": result.seconds,
                                      "phases": {"prepare": task.prepare_seconds, **result.phases},
                                      "write_seconds": round(time.perf_counter() - start, 3),
                                      "autograde_seconds": round(autograde_seconds, 3),
                                      "feedback_seconds": round(time.perf_counter() - autograded, 3)})
        else:
            self.state.forget(student)
        self.rows[student] = row
        return row

    def feedback_only(self, student: str, record: dict) -> None:
        """A submission graded earlier without feedback gets its feedback now."""
        if self.feedback and not record.get("feedback") and record.get("success"):
            if "tests" in record:
                feedback_files.save_records(self.record_dir, student, record["tests"])
            self._write_feedback(student)
            record["feedback"] = True
            self.state.save(student, record)
