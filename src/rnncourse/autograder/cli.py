"""``python -m rnncourse.autograder``: grade an assignment so that submissions cannot fool the grader.

    python -m rnncourse.autograder grade ch01_rnn_basics            # every student in submitted/
    python -m rnncourse.autograder grade ch01_rnn_basics --student alice
    python -m rnncourse.autograder scan ch01_rnn_basics             # the pre-grading scan only

``grade`` runs, from the course root (the folder with nbgrader_config.py):

1. a check that the sandbox works (it refuses to grade without one unless
   ``--allow-unsandboxed`` is given, and then says which protections are missing);
2. the solution notebook, in the sandbox, to record the reference answers;
3. the pre-grading scan, which flags submissions for manual review;
4. nbgrader's own ``autograde``, one student at a time, with the kernel in the
   sandbox and every test cell's answers checked outside the kernel;
5. feedback for each student that shows no hidden test (``feedback``), nbgrader's
   ``export`` (CSV), and a report ``reports/<assignment>.csv`` (and ``.json``) with
   scores, points pending a person's grade, flags and repairs.

Before nbgrader grades a submission, ``repair`` fixes a copy of it (duplicated
grade ids, changed cell types, missing cell ids, old format, other kernelspec).
"""
from __future__ import annotations

import argparse
import csv
import fcntl
import fnmatch
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput,
                                    SaveAutoGrades)
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from . import feedback, repair
from .answers import save_answers
from .execute import SandboxedExecute
from .sandbox import missing_protections
from .scan import scan_folder
from .strip import StripReferences
from .verify import VerifyAnswers


def load_config(course: Path, sandboxed: bool, reference_dir: Path, timeout: int | None,
                disk_mib: int | None = None) -> Config:
    """The course's nbgrader_config.py plus the safe grading pipeline."""
    config = Config()
    if (course / "nbgrader_config.py").exists():
        config.merge(PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config())
    config.CourseDirectory.root = str(course)
    config.Autograde.autograde_preprocessors = [
        StripReferences, SandboxedExecute, IgnorePattern, VerifyAnswers, ClearMetadataPreprocessor, LimitOutput,
        SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
    config.SandboxedExecute.hidden_paths = [str(course)]
    config.SandboxedExecute.sandboxed = sandboxed
    if timeout:
        config.Execute.timeout = timeout
    # A busy machine can delay the last outputs of a cell; that is no reason to fail a whole submission.
    config.Execute.raise_on_iopub_timeout = False
    config.Execute.iopub_timeout = 15
    config.Execute.execute_retries = 1
    config.VerifyAnswers.reference_dir = str(reference_dir)
    config.OverwriteCells.add_missing_cells = True
    config.IgnorePattern.enabled = True
    config.IgnorePattern.pattern = r"[\s\S]*"
    if disk_mib:
        config.SandboxedExecute.disk_bytes = disk_mib * 2**20
    # hooks: repair each submission's copy before grading; record trusted test results for feedback
    repair.configure(config, course, Path(reference_dir).parent)
    feedback.configure(config, Path(reference_dir).parent)
    return config


def _digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def reference_answers(course: Path, coursedir: CourseDirectory, assignment: str, config: Config,
                      log=print) -> Path:
    """Run the solution notebooks in the sandbox and store their answers (cached by content)."""
    source = Path(coursedir.format_path(coursedir.source_directory, ".", assignment))
    notebooks = sorted(source.glob("*.ipynb"))
    if not notebooks:
        raise SystemExit(f"no solution notebooks in {source}")
    import rnncourse.grading as grading

    target = Path(config.VerifyAnswers.reference_dir)
    digest = _digest(notebooks + [Path(grading.__file__)])
    stamp = target / "digest.txt"
    if stamp.exists() and stamp.read_text() == digest:
        return target
    if target.exists():
        shutil.rmtree(target)
    for path in notebooks:
        with tempfile.TemporaryDirectory(prefix="rnncourse-reference-") as work:
            shutil.copytree(source, work, dirs_exist_ok=True)
            nb = nbformat.read(path, as_version=4)
            executor = SandboxedExecute(config=config)
            start = time.perf_counter()
            nb, resources = executor.preprocess(nb, {"metadata": {"path": work}})
            failing = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells
                       if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"
                       and any(o.output_type == "error" for o in c.outputs)]
            if failing:
                raise SystemExit(f"the solution {path.name} fails its own tests {failing}: fix it before grading")
            answers = resources.get("rnncourse_answers", {})
            save_answers(answers, target / path.stem)
            log(f"reference answers: {path.name}: {len(answers)} answers in {time.perf_counter() - start:.1f} s")
    stamp.write_text(digest)
    return target


def students(coursedir: CourseDirectory, assignment: str, pattern: str) -> list[str]:
    submitted = Path(coursedir.root) / coursedir.submitted_directory
    found = [p.name for p in sorted(submitted.iterdir()) if (p / assignment).is_dir()] if submitted.is_dir() else []
    return [s for s in found if fnmatch.fnmatch(s, pattern)]


def zero_submission(course: Path, config: Config, assignment: str, student: str) -> None:
    """A submission that could not be graded gets no points (until a human looks at it)."""
    with Gradebook(config.CourseDirectory.db_url or f"sqlite:///{course / 'gradebook.db'}") as gb:
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


def score_of(course: Path, config: Config, assignment: str, student: str) -> tuple[float, float]:
    with Gradebook(config.CourseDirectory.db_url or f"sqlite:///{course / 'gradebook.db'}") as gb:
        try:
            submission = gb.find_submission(assignment, student)
        except MissingEntry:
            return 0.0, gb.find_assignment(assignment).max_score
        return submission.score, submission.max_score


def grade(args) -> int:
    course = Path(args.course).resolve()
    missing = missing_protections()
    sandboxed = not missing
    if missing:
        print("The sandbox cannot run on this machine. Missing protections:", file=sys.stderr)
        for item in missing:
            print(f"  - {item}", file=sys.stderr)
        if not args.allow_unsandboxed:
            print("Refusing to grade. Install bubblewrap (apt-get install bubblewrap) or pass "
                  "--allow-unsandboxed to grade without these protections.", file=sys.stderr)
            return 2
        fatal = [m for m in missing if "bwrap" in m]
        sandboxed = not fatal
        print("Grading WITHOUT the protections above (answers are still checked outside the kernel).",
              file=sys.stderr)
    workdir = course / ".grading" / args.assignment
    workdir.mkdir(parents=True, exist_ok=True)
    lock = open(workdir / "lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"another grading run holds {workdir / 'lock'}: the gradebook allows one writer", file=sys.stderr)
        return 3
    config = load_config(course, sandboxed, workdir / "reference", args.timeout, args.disk_mib)
    coursedir = CourseDirectory(config=config)
    reference_answers(course, coursedir, args.assignment, config)

    release = Path(coursedir.format_path(coursedir.release_directory, ".", args.assignment))
    api = NbGraderAPI(coursedir=coursedir, config=config)
    db_url = config.CourseDirectory.db_url or f"sqlite:///{course / 'gradebook.db'}"
    rows = []
    for student in students(coursedir, args.assignment, args.student):
        folder = Path(coursedir.format_path(coursedir.submitted_directory, student, args.assignment))
        flags = [f"{f.where}: {f.why}" for f in scan_folder(folder, release)]
        start = time.perf_counter()
        result = api.autograde(args.assignment, student, force=True, create=True)
        seconds = time.perf_counter() - start
        if not result["success"]:
            zero_submission(course, config, args.assignment, student)
            reason = (result.get("error") or result.get("log") or "").strip().splitlines()
            flags.append("grading failed, scored 0 pending review: " + (reason[-1] if reason else "unknown error"))
        score, max_score = score_of(course, config, args.assignment, student)
        # hooks: what repair changed, and points that wait for a person (never reported as 0)
        repairs = repair.take_notes(workdir / "repairs", student)
        pending, pending_parts = feedback.pending_points(db_url, args.assignment, student)
        rows.append({"student": student, "score": score, "max_score": max_score, "pending": pending,
                     "seconds": round(seconds, 1), "needs_review": bool(flags) or pending > 0,
                     "flags": " | ".join(flags), "repairs": " | ".join(repairs)})
        print(f"{student:24s} {score:6.1f} / {max_score:<6.1f} {seconds:6.1f} s"
              + (f"   pending {pending:g} ({', '.join(pending_parts)})" if pending else "")
              + (f"   REVIEW: {len(flags)} flag(s)" if flags else ""))
        if not args.no_feedback and result["success"]:
            # hook: feedback from a scrubbed copy (no hidden tests, no grading output), not nbgrader's
            feedback.write_feedback(course, coursedir, db_url, workdir / "results", args.assignment, student)
        elif not args.no_feedback:
            feedback.clear_feedback(coursedir, args.assignment, student)  # no stale feedback of an older run

    reports = course / "reports"
    reports.mkdir(exist_ok=True)
    with open(reports / f"{args.assignment}.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["student", "score", "max_score", "pending", "seconds",
                                                    "needs_review", "flags", "repairs"])
        writer.writeheader()
        writer.writerows(rows)
    (reports / f"{args.assignment}.json").write_text(json.dumps(rows, indent=1))
    export = subprocess.run([sys.executable, "-m", "nbgrader", "export", f"--to={course / 'grades.csv'}"],
                            cwd=course, capture_output=True, text=True,
                            env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"})
    if export.returncode != 0:
        print(export.stdout + export.stderr, file=sys.stderr)
        return 1
    print(f"report: {reports / (args.assignment + '.csv')}   grades: {course / 'grades.csv'}")
    return 0


def scan(args) -> int:
    course = Path(args.course).resolve()
    config = load_config(course, True, course / ".grading" / args.assignment / "reference", None)
    coursedir = CourseDirectory(config=config)
    release = Path(coursedir.format_path(coursedir.release_directory, ".", args.assignment))
    for student in students(coursedir, args.assignment, args.student):
        folder = Path(coursedir.format_path(coursedir.submitted_directory, student, args.assignment))
        flags = scan_folder(folder, release)
        print(f"{student}: {'ok' if not flags else f'{len(flags)} flag(s)'}")
        for flag in flags:
            print(f"    {flag.where}: {flag.why}")
    return 0


def main(argv=None) -> int:
    # nbgrader's own SQLAlchemy bookkeeping warns on every submission; it is not the instructor's concern
    warnings.filterwarnings("ignore", module="nbgrader")
    warnings.filterwarnings("ignore", message=".*not in session.*")
    parser = argparse.ArgumentParser(prog="python -m rnncourse.autograder", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, func in [("grade", grade), ("scan", scan)]:
        p = sub.add_parser(name)
        p.add_argument("assignment")
        p.add_argument("--student", default="*", help="glob of student ids (default: all)")
        p.add_argument("--course", default=".", help="course root (default: current folder)")
        p.set_defaults(func=func)
        if name == "grade":
            p.add_argument("--timeout", type=int, default=None, help="seconds per cell (default: the config's)")
            p.add_argument("--no-feedback", action="store_true", help="skip the students' feedback")
            p.add_argument("--disk-mib", type=int, default=None,
                           help="MiB of each writable folder of a kernel (default: 256, or the config's)")
            p.add_argument("--allow-unsandboxed", action="store_true",
                           help="grade even where the sandbox cannot run (says what is missing)")
    args = parser.parse_args(argv)
    return args.func(args)
