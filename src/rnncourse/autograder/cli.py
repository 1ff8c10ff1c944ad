"""``python -m rnncourse.autograder``: grade an assignment so that submissions cannot fool the grader.

    python -m rnncourse.autograder grade ch01_rnn_basics            # every student in submitted/
    python -m rnncourse.autograder grade ch01_rnn_basics --student alice
    python -m rnncourse.autograder scan ch01_rnn_basics             # the pre-grading scan only
    python -m rnncourse.autograder collect ch01_rnn_basics          # from the exchange, trusting owners only
    python -m rnncourse.autograder release-feedback ch01_rnn_basics # feedback each student alone can read

``grade`` runs, from the course root (the folder with nbgrader_config.py):

1. a check that the sandbox works (it refuses to grade without one unless
   ``--allow-unsandboxed`` is given, and then says which protections are missing);
2. the solution notebook, in the sandbox, to record the reference answers;
3. the pre-grading scan, which flags submissions for manual review;
4. the submissions that are new or changed since they were last graded (``--force``:
   all), each repaired (``repair``: duplicated grade ids, changed cell types, missing
   cell ids, old format, other kernelspec) and sanitized as nbgrader does, and sent,
   with the reference answers, to a worker: ``--workers N`` local processes (default:
   one per core) or the workers of a Dask cluster (``--scheduler tcp://host:8786``).
   A worker strips the expected values from the test cells, runs the kernel in the
   sandbox and checks every test cell's answers outside the kernel (worker.py); the
   trusted test results come back with the executed notebook;
5. one writer, in this process, records the results in batches, one gradebook
   transaction each, as nbgrader's ``autograde`` records a graded notebook
   (writer.py), and writes feedback that shows no hidden test (``feedback``), so
   the gradebook has a single writer; a worker that dies is retried once, alone,
   then the submission is flagged;
6. a report ``reports/<assignment>.csv`` (and ``.json``) with scores, points pending
   a person's grade, flags and repairs, and nbgrader's ``export`` (CSV).

Every temporary file of a run lives in one folder ``$TMPDIR/rg-*`` of its own, removed
at the end.
"""
from __future__ import annotations

import argparse
import copy
import csv
import fcntl
import fnmatch
import hashlib
import json
import multiprocessing.util
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput,
                                    SaveAutoGrades)
from tqdm import tqdm
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from . import changes, feedback, refresh, repair
from .answers import save_answers
from .execute import SandboxedExecute
from .parallel import Pool, dask_pool, local_pool, run_tasks
from .prepare import close_gradebooks, course_file_ids, folder_files, make_task, notebook_names, submission_digest
from .sandbox import SOCKET_PATH_MAX, longest_socket_path, missing_protections, private_mounts
from .scan import scan_folder
from .strip import StripReferences
from .verify import VerifyAnswers
from .worker import worker_settings
from .writer import GradingState, Item, Writer, db_url_of, students_in_gradebook


BATCH = 32             # results per gradebook transaction, at most
BATCH_SECONDS = 2.0    # ... or those that arrived within this time of the batch's first


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
    import rnncourse.properties as properties

    target = Path(config.VerifyAnswers.reference_dir)
    digest = _digest(notebooks + [Path(grading.__file__), Path(properties.__file__)])
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


def students(coursedir: CourseDirectory, assignment: str, patterns: list[str] | None) -> list[str]:
    """The students with a submission of ``assignment`` whose id matches one of ``patterns`` (globs; None: all)."""
    submitted = Path(coursedir.root) / coursedir.submitted_directory
    found = [p.name for p in sorted(submitted.iterdir()) if (p / assignment).is_dir()] if submitted.is_dir() else []
    return [s for s in found if any(fnmatch.fnmatch(s, pattern) for pattern in patterns or ["*"])]


def check_sandbox(args) -> bool | None:
    """Step 1: True when the sandbox runs, False to grade without bubblewrap, None to refuse."""
    missing = missing_protections()
    if not missing:
        return True
    print("The sandbox cannot run on this machine. Missing protections:", file=sys.stderr)
    for item in missing:
        print(f"  - {item}", file=sys.stderr)
    if not args.allow_unsandboxed:
        print("Refusing to grade. Install bubblewrap (apt-get install bubblewrap) or pass "
              "--allow-unsandboxed to grade without these protections.", file=sys.stderr)
        return None
    print("Grading WITHOUT the protections above (answers are still checked outside the kernel).",
          file=sys.stderr)
    return not [m for m in missing if "bwrap" in m]


def own_scratch() -> Path:
    """Step 3: this run keeps every temporary file (kernels, tasks) in a folder of its own.

    The folder is made in the temporary folder the command was started with ($TMPDIR)
    and kept short: the kernels' Unix sockets live inside it and a socket path may not
    exceed 107 bytes. It is removed when the run ends.
    """
    multiprocessing.util.get_temp_dir()   # the pools' own folder stays outside: multiprocessing removes it last
    # a kernel's scratch folder is made in <TMPDIR>/rg-XXXXXXXX/t-XXXXXXXX (this run's, then its task's)
    longest = longest_socket_path(f"{tempfile.gettempdir()}/rg-12345678/t-12345678")
    if longest > SOCKET_PATH_MAX:
        room = len(tempfile.gettempdir()) - (longest - SOCKET_PATH_MAX)
        raise SystemExit(f"TMPDIR {tempfile.gettempdir()} is too long for the kernels' sockets: "
                         f"expected a folder of at most {room} characters, such as /tmp")
    scratch = Path(tempfile.mkdtemp(prefix="rg-"))
    scratch.chmod(0o711)
    os.environ["TMPDIR"] = str(scratch)   # local worker processes inherit it
    tempfile.tempdir = str(scratch)
    return scratch


def select(args, coursedir: CourseDirectory, state: GradingState, salt: str, course: Path, config):
    """Step 5: (student, digest) still to grade, and the records of those already graded (resume)."""
    todo, done = [], {}
    in_gradebook = students_in_gradebook(course, config, args.assignment)
    for student in students(coursedir, args.assignment, args.student):
        folder = Path(coursedir.format_path(coursedir.submitted_directory, student, args.assignment))
        digest = submission_digest(folder, coursedir.ignore, salt)
        record = None if args.force else state.load(student)
        if record and record.get("digest") == digest and student in in_gradebook:
            done[student] = record
        else:
            todo.append((student, digest))
    return todo, done


def open_pool(args) -> tuple[Pool, Pool]:
    """Step 6: where the tasks run: local worker processes, or a Dask cluster."""
    if args.scheduler:
        pool = dask_pool(args.scheduler)
        return pool, pool
    return local_pool(args.workers), local_pool(1)


def write_reports(course: Path, assignment: str, rows: list[dict]) -> Path:
    """Step 8: reports/<assignment>.csv and .json, one row per student."""
    reports = course / "reports"
    reports.mkdir(exist_ok=True)
    with open(reports / f"{assignment}.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["student", "score", "max_score", "pending", "seconds",
                                                    "needs_review", "flags", "repairs", "submitted_at", "duedate",
                                                    "late_by", "late", "penalty", "version"])
        writer.writeheader()
        writer.writerows(rows)
    (reports / f"{assignment}.json").write_text(json.dumps(rows, indent=1))
    return reports / f"{assignment}.csv"


def export_grades(course: Path, config: Config) -> int:
    """Step 9: nbgrader's CSV export of the whole gradebook (``nbgrader export``, in this process)."""
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin
    from traitlets.utils.importstring import import_item

    config = copy.deepcopy(config)
    config.ExportPlugin.to = str(course / "grades.csv")
    plugin_class = config.ExportApp.get("plugin_class", CsvExportPlugin)   # a course's own exporter, if set
    if isinstance(plugin_class, str):
        plugin_class = import_item(plugin_class)
    try:
        coursedir = CourseDirectory(config=config)
        with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
            plugin_class(config=config).export(gb)
    except Exception as error:  # noqa: BLE001 - the grades are in the gradebook; only the export failed
        print(f"nbgrader export to {course / 'grades.csv'} failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


def grade(args) -> int:
    course = Path(args.course).resolve()
    sandboxed = check_sandbox(args)                                          # 1. the sandbox
    if sandboxed is None:
        return 2
    workdir = course / ".grading" / args.assignment                          # 2. one run per assignment
    workdir.mkdir(parents=True, exist_ok=True)
    lock = open(workdir / "lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"another grading run holds {workdir / 'lock'}: the gradebook allows one writer", file=sys.stderr)
        return 3
    private_mounts()                       # kernels' tmpfs mounts live and die with this run's processes
    scratch = own_scratch()                                                  # 3. its own scratch folder
    try:
        return _grade(args, course, workdir, scratch, sandboxed)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _grade(args, course: Path, workdir: Path, scratch: Path, sandboxed: bool) -> int:
    config = load_config(course, sandboxed, workdir / "reference", args.timeout, args.disk_mib)
    config.RepairSubmission.notes_dir = ""   # what repair changed travels with each task to the writer's row
    coursedir = CourseDirectory(config=config)
    reference = reference_answers(course, coursedir, args.assignment, config)      # 4. reference answers
    salt = (reference / "digest.txt").read_text()
    state = GradingState(workdir / "graded")
    todo, done = select(args, coursedir, state, salt, course, config)              # 5. what is left to grade

    release = Path(coursedir.format_path(coursedir.release_directory, ".", args.assignment))
    db_url = db_url_of(course, config)
    names = notebook_names(db_url, args.assignment)
    reference_files = folder_files(reference, [], notebooks=True)
    settings = worker_settings(config)
    writer = Writer(course, config, coursedir, args.assignment, state, feedback=not args.no_feedback,
                    record_dir=workdir / "results", salt=salt)
    for student, record in done.items():
        writer.feedback_only(student, record)
    digests, flags = dict(todo), {}

    course_ids = course_file_ids(course / "solutions", Path(coursedir.root) / coursedir.source_directory,
                                 release.parent)   # a hard link to one of these is not a submission

    def tasks():                                                                  # prepared lazily, in order
        for student, _ in todo:
            folder = Path(coursedir.format_path(coursedir.submitted_directory, student, args.assignment))
            began = time.perf_counter()
            flags[student] = [f"{f.where}: {f.why}" for f in scan_folder(folder, release)]
            task = make_task(folder, release, args.assignment, student, names, config, db_url, coursedir.ignore,
                             reference_files, settings, str(scratch), feedback=not args.no_feedback,
                             course_ids=course_ids)
            task.prepare_seconds = round(time.perf_counter() - began, 4)
            yield task

    pool, retry_pool = open_pool(args)                                            # 6. the workers
    print(f"grading {len(todo)} submission(s) of {args.assignment} on {pool.name}"
          + (f"; {len(done)} already graded and unchanged" if done else ""))
    bar = tqdm(total=len(todo), unit="submission", dynamic_ncols=True, disable=None, file=sys.stderr)
    failures = 0

    batch: list[Item] = []
    batch_started = 0.0

    def write_batch():                                                            # 7. the single writer
        nonlocal failures
        rows = writer.record_batch(batch)
        for item, row in zip(batch, rows):
            failures += bool(row["needs_review"])
            result = item.result
            where = f"  [{result.host}:{result.pid}]" if result.pid else ""
            tqdm.write(f"{row['student']:24s} {row['score']:6.1f} / {row['max_score']:<6.1f} "
                       f"{row['seconds']:6.1f} s"
                       + (f"   pending {row['pending']:g}" if row["pending"] else "")
                       + (f"   REVIEW: {row['flags'].count(' | ') + 1} flag(s)" if row["flags"] else "")
                       + where, file=sys.stdout)
        bar.update(len(batch))
        bar.set_postfix(review=failures, refresh=False)
        batch.clear()

    def on_result(task, result):
        # results are written in batches (one gradebook transaction each) of up to --batch results, or of
        # what arrived within BATCH_SECONDS of the batch's first: a slow run writes every result promptly
        nonlocal batch_started
        crashed = result.error.startswith("the worker grading this submission died")
        if not batch:
            batch_started = time.monotonic()
        batch.append(Item(task, result, digests[task.student], flags.pop(task.student, []), keep_state=not crashed))
        if len(batch) >= args.batch or time.monotonic() - batch_started >= BATCH_SECONDS:
            write_batch()

    try:
        run_tasks(tasks(), pool, retry_pool, on_result)
        if batch:
            write_batch()
    finally:
        bar.close()
        pool.close()
        if retry_pool is not pool:
            retry_pool.close()
        writer.close()
        close_gradebooks()

    # every submission graded before and not in this run (unchanged, or not selected by --student): its row (and
    # feedback) read again, with any grade a person gave since (refresh.py); the report keeps the whole class
    earlier = sorted({p.stem for p in state.folder.glob("*.json")} - set(writer.rows))
    fresh = refresh.refresh(course, config, coursedir, args.assignment, earlier, not args.no_feedback)
    rows = [writer.rows.get(s) or fresh.get(s) or done[s]["row"] for s in sorted({*writer.rows, *fresh, *done})]
    before = changes.previous_rows(course, args.assignment)
    report = write_reports(course, args.assignment, rows)                         # 8. reports
    changed_path, changed = changes.write_changes(course, args.assignment, before, rows)   # whose score changed
    if changed:
        print(f"{len(changed)} student(s) scored differently than in the last report: {changed_path}")
    if export_grades(course, config) != 0:                                                # 9. nbgrader's CSV export
        return 1
    print(f"report: {report}   grades: {course / 'grades.csv'}")
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


# --- the exchange: collect and release feedback without trusting what students wrote (exchange.py) ---
def _exchange_setup(args):
    course = Path(args.course).resolve()
    config = load_config(course, True, course / ".grading" / args.assignment / "reference", None)
    coursedir = CourseDirectory(config=config)
    root = config.Exchange.get("root") or "/usr/local/share/nbgrader/exchange"
    return course, coursedir, root


def collect(args) -> int:
    from .exchange import collect as collect_submissions, utc

    course, coursedir, root = _exchange_setup(args)
    done = collect_submissions(coursedir, root, args.assignment,
                               course / ".grading" / args.assignment / "collected.json", args.student)
    for note in done.notes:
        print(note)
    record = json.loads((course / ".grading" / args.assignment / "collected.json").read_text())["students"]
    for student, what in sorted(done.collected.items()):
        entry = record[student]
        print(f"{student:24s} {what:9s} submitted {entry['submitted_at']}   version {len(entry['versions'])}"
              + ("   (its folder was open to other users)" if entry["open_to_others"] else ""))
    for found in done.refused:
        print(f"REFUSED {found.name}: {found.problem}", file=sys.stderr)
    print(f"collected {sum(w != 'unchanged' for w in done.collected.values())} new or changed submission(s) of "
          f"{args.assignment}; {len(done.refused)} refused; record: .grading/{args.assignment}/collected.json "
          f"({utc(time.time())})")
    return 4 if done.refused else 0


def release_feedback(args) -> int:
    from .exchange import release_feedback as release

    course, coursedir, root = _exchange_setup(args)
    released, problems = release(coursedir, root, args.assignment, args.student)
    for line in released:
        print(f"released {line}")
    for line in problems:
        print(f"NOT RELEASED {line}", file=sys.stderr)
    return 4 if problems else 0
# --- end of the exchange's commands ---


# --- after grading: a person's grades into the reports, similarity, LMS export (refresh.py, similarity.py, export.py) ---
def _course_setup(args):
    course = Path(args.course).resolve()
    workdir = course / ".grading" / (getattr(args, "assignment", None) or "export")   # nothing is written there
    config = load_config(course, True, workdir / "reference", None)
    return course, config, CourseDirectory(config=config)


def reports(args) -> int:
    course, config, coursedir = _course_setup(args)
    rows = refresh.refresh(course, config, coursedir, args.assignment, feedback=not args.no_feedback)
    if not rows:
        print(f"no graded submission of {args.assignment}: run grade first", file=sys.stderr)
        return 1
    report = write_reports(course, args.assignment, list(rows.values()))
    pending = [s for s, row in rows.items() if row["pending"]]
    print(f"report: {report}   {len(rows)} student(s), {len(pending)} with points pending a person's grade")
    return export_grades(course, config)


def similarity(args) -> int:
    from .similarity import similarity_report

    course, config, coursedir = _course_setup(args)
    csv_path, html_path, pairs = similarity_report(course, coursedir, args.assignment, args.top)
    for pair in pairs[:min(args.top or 10, 10)]:
        print(f"{pair['rank']:4d}  {pair['student_a']:24s} {pair['student_b']:24s} {pair['similarity']:6.0%}")
    print(f"similarity: {html_path}   {csv_path}   ({len(pairs)} pairs; scores unchanged)")
    return 0


def export_lms(args) -> int:
    from .export import export_lms as write

    course, config, coursedir = _course_setup(args)
    out = Path(args.out) if args.out else course / "reports" / f"grades-{args.lms}.csv"
    path, notes = write(db_url_of(course, config), args.lms, out)
    for note in notes:
        print(f"left empty: {note}")
    print(f"{args.lms}: {path}")
    return 0


def add_instructor_commands(sub) -> None:
    p = sub.add_parser("reports", help="read the gradebook again (a person's grades): reports, feedback, grades.csv")
    p.add_argument("assignment")
    p.add_argument("--course", default=".", help="course root (default: current folder)")
    p.add_argument("--no-feedback", action="store_true", help="leave the students' feedback pages as they are")
    p.set_defaults(func=reports)
    p = sub.add_parser("similarity", help="the most similar pairs of submissions (never changes a score)")
    p.add_argument("assignment")
    p.add_argument("--course", default=".", help="course root (default: current folder)")
    p.add_argument("--top", type=int, default=50, help="pairs shown in the HTML report (default: 50; the CSV has all)")
    p.set_defaults(func=similarity)
    p = sub.add_parser("export", help="grades for an LMS: one row per student, one column per assignment")
    p.add_argument("--lms", required=True, choices=["canvas", "moodle"])
    p.add_argument("--course", default=".", help="course root (default: current folder)")
    p.add_argument("--out", default=None, help="the CSV to write (default: reports/grades-<lms>.csv)")
    p.set_defaults(func=export_lms)
# --- end of the commands after grading ---


def main(argv=None) -> int:
    # nbgrader's own SQLAlchemy bookkeeping warns on every submission; it is not the instructor's concern
    warnings.filterwarnings("ignore", module="nbgrader")
    warnings.filterwarnings("ignore", message=".*not in session.*")
    parser = argparse.ArgumentParser(prog="python -m rnncourse.autograder", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, func in [("grade", grade), ("scan", scan), ("collect", collect), ("release-feedback", release_feedback)]:
        p = sub.add_parser(name)
        p.add_argument("assignment")
        p.add_argument("--student", action="append", default=None,
                       help="a student id or a glob of ids; repeat it for several (default: all)")
        p.add_argument("--course", default=".", help="course root (default: current folder)")
        p.set_defaults(func=func)
        if name == "grade":
            p.add_argument("--timeout", type=int, default=None, help="seconds per cell (default: the config's)")
            p.add_argument("--no-feedback", action="store_true", help="skip the students' feedback")
            p.add_argument("--disk-mib", type=int, default=None,
                           help="MiB of each writable folder of a kernel (default: 256, or the config's)")
            p.add_argument("--allow-unsandboxed", action="store_true",
                           help="grade even where the sandbox cannot run (says what is missing)")
            p.add_argument("--workers", type=int, default=None,
                           help="submissions graded at once on this machine (default: number of cores)")
            p.add_argument("--scheduler", default=None,
                           help="grade on a Dask cluster instead: its scheduler address, e.g. tcp://host:8786")
            p.add_argument("--force", action="store_true",
                           help="grade every selected submission again (default: only new or changed ones)")
            p.add_argument("--batch", type=int, default=BATCH, help=f"results written to the gradebook in one "
                           f"transaction, at most (default: {BATCH}; a batch also ends {BATCH_SECONDS:g} s after "
                           f"its first result)")
    add_instructor_commands(sub)
    args = parser.parse_args(argv)
    return args.func(args)
