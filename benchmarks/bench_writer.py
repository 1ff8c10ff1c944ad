"""The single writer alone: how many worker results per minute it writes, on SQLite and PostgreSQL.

    python benchmarks/bench_writer.py [--results 200] [--dbs sqlite postgres] [--out FILE]

A grading run is as fast as its slowest stage, and the writer is the one stage that does not
grow with the number of workers. This measures it apart from execution, so that it can be
measured on a small machine: a throwaway course with chapter 1 and ``--results`` honest
submissions; one submission is executed and checked by a real worker (the sandbox, as in
grading); every other student gets a copy of that worker result, and the writer records them
all exactly as ``python -m rnncourse.autograder grade`` does, in batches of ``--batch`` (one gradebook
transaction each: the autograded copy, the grades, the feedback pages, the grading state, the report
row), timed from the first result to the last. On PostgreSQL a server is started for the run
(``tests/postgres.py``).

It prints results per minute and seconds per result, per database, with the load average,
and writes them to ``runs/bench_writer.json`` (``$RNNCOURSE_RUNS`` when set) unless ``--out``
names a file. Compare with the goal: 400 results/min on SQLite, 250 on PostgreSQL.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from adversarial import honest  # noqa: E402
from harness import Course, nbgrader_env  # noqa: E402
from rnncourse.experiments import default_output  # noqa: E402

ASSIGNMENT = "ch01_rnn_basics"


def writer_run(course: Course, results: int, db_url: str, profile: Path | None = None, batch: int = 32) -> dict:
    """Record ``results`` worker results with the run's writer; seconds and what was written."""
    from nbgrader.api import Gradebook
    from nbgrader.coursedir import CourseDirectory

    from rnncourse.autograder import cli
    from rnncourse.autograder.prepare import folder_files, make_task, notebook_names, submission_digest
    from rnncourse.autograder.worker import run_task, worker_settings
    from rnncourse.autograder.writer import GradingState, Item, Writer

    root = course.root
    workdir = root / ".grading" / ASSIGNMENT
    config = cli.load_config(root, True, workdir / "reference", 30)
    config.RepairSubmission.notes_dir = ""
    coursedir = CourseDirectory(config=config)
    reference = cli.reference_answers(root, coursedir, ASSIGNMENT, config, log=lambda *a: None)
    salt = (reference / "digest.txt").read_text()
    release = Path(coursedir.format_path(coursedir.release_directory, ".", ASSIGNMENT))
    names = notebook_names(db_url, ASSIGNMENT)
    reference_files = folder_files(reference, [], notebooks=True)
    settings = worker_settings(config)
    scratch = Path(tempfile.mkdtemp(prefix="bw-", dir=root.parent))
    scratch.chmod(0o711)

    students = sorted(p.name for p in (root / "submitted").iterdir())
    tasks, digests = [], {}
    for student in students:   # the workers' side: not timed
        folder = Path(coursedir.format_path(coursedir.submitted_directory, student, ASSIGNMENT))
        digests[student] = submission_digest(folder, coursedir.ignore, salt)
        tasks.append(make_task(folder, release, ASSIGNMENT, student, names, config, db_url, coursedir.ignore,
                               reference_files, settings, str(scratch), feedback=True))
    executed = run_task(tasks[0])
    if executed.error:
        raise SystemExit(f"the worker could not grade the honest submission: {executed.error}")

    writer = Writer(root, config, coursedir, ASSIGNMENT, GradingState(workdir / "graded"), feedback=True,
                    record_dir=workdir / "results", salt=salt)
    load = [round(x, 2) for x in os.getloadavg()]
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    start = time.perf_counter()
    for first in range(0, len(tasks), batch):   # batches as a grading run makes them when results come fast
        items = [Item(task, dataclasses.replace(executed, student=task.student), digests[task.student], [])
                 for task in tasks[first:first + batch]]
        for item, row in zip(items, writer.record_batch(items)):
            if row["flags"] or row["score"] != row["max_score"] - row["pending"]:
                raise SystemExit(f"{item.task.student} scored {row['score']} / {row['max_score']} "
                                 f"({row['flags']}): the copy was not graded")
    seconds = time.perf_counter() - start
    writer.close()
    if profiler:
        profiler.disable()
        profiler.dump_stats(str(profile) + f".{Path(db_url.split(':')[0]).name}")
    with Gradebook(db_url) as gb:
        rows = sorted(s.student.id for s in gb.find_assignment(ASSIGNMENT).submissions)
    feedback_pages = sum(1 for _ in (root / "feedback").glob(f"*/{ASSIGNMENT}/*.html"))
    return {"results": len(tasks), "seconds": round(seconds, 2),
            "batch": batch, "results_per_minute": round(60 * len(tasks) / seconds, 1),
            "seconds_per_result": round(seconds / len(tasks), 4),
            "one_gradebook_row_per_result": rows == students, "feedback_pages": feedback_pages,
            "load_average_before": load, "load_average_after": [round(x, 2) for x in os.getloadavg()]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=int, default=200, help="worker results to write")
    parser.add_argument("--dbs", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"])
    parser.add_argument("--out", type=Path, default=None, help="results file (default: runs/bench_writer.json)")
    parser.add_argument("--profile", type=Path, default=None, help="also write a cProfile of the writer here")
    parser.add_argument("--batch", type=int, default=32, help="results per gradebook transaction (grade's --batch)")
    args = parser.parse_args()
    args.out = args.out or default_output("bench_writer.json")
    import warnings

    warnings.filterwarnings("ignore", module="nbgrader")   # as the grading command does
    warnings.filterwarnings("ignore", message=".*not in session.*")
    from postgres import PostgresServer
    from rnncourse.autograder.sandbox import private_mounts

    private_mounts()   # kernels' scratch mounts stay in this process's namespace, as in a grading run
    os.environ["PATH"] = nbgrader_env()["PATH"]
    runs = {}
    with tempfile.TemporaryDirectory(prefix="bench-writer-") as tmp:
        for db in args.dbs:
            server = PostgresServer().__enter__() if db == "postgres" else None
            try:
                extra = f'c.CourseDirectory.db_url = "{server.url}"\nc.CourseDirectory.course_id = "rnncourse"' \
                    if server else ""
                course = Course(Path(tmp) / db, ASSIGNMENT, timeout=30, extra_config=extra)
                nb = honest(course.solution(), course.release())
                for i in range(args.results):
                    course.submit(f"s{i:05d}", nb)
                url = server.url if server else f"sqlite:///{course.root / 'gradebook.db'}"
                cwd = os.getcwd()
                os.chdir(course.root)
                try:
                    runs[db] = writer_run(course, args.results, url, args.profile, args.batch)
                finally:
                    os.chdir(cwd)
                r = runs[db]
                print(f"{db:9s} {r['results']} results: {r['results_per_minute']:7.1f} results/min, "
                      f"{r['seconds_per_result']:.3f} s each, one row each: {r['one_gradebook_row_per_result']}, "
                      f"load {r['load_average_before']}", flush=True)
            finally:
                if server:
                    server.__exit__(None, None, None)
    record = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "python": platform.python_version(),
              "command": " ".join([Path(sys.argv[0]).name] + sys.argv[1:]), "date": time.strftime("%Y-%m-%d %H:%M"),
              "goal_results_per_minute": {"sqlite": 400, "postgres": 250}, "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
