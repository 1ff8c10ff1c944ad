"""Time grading: the sandbox's cost per submission, and grading at scale.

    python benchmarks/bench_grading.py [--repeats 3]
    python benchmarks/bench_grading.py --scale 200 [--workers N] [--dbs sqlite postgres]
    python benchmarks/bench_grading.py --profile [--repeats 5]

Default mode: builds a throwaway course with chapter 1, submits an honest solution
under several student ids, grades them with ``python -m rnncourse.autograder grade``
(sandboxed, then ``--allow-unsandboxed`` with the sandbox tools off PATH) and with
plain ``nbgrader autograde``.

``--scale N``: N generated submissions (half honest, a quarter partial, some blank, a
few adversarial), split between chapters 1 and 5, graded as an instructor grades them
(feedback included) with 1 worker and with ``--workers`` (default: every core), on
SQLite and on a PostgreSQL server started for the run. It reports submissions per
minute, the parallel/sequential ratio, seconds per submission (executing and rendering
in a worker, writing in the single writer), peak memory per worker and per kernel, the
load average, the CPU seconds per submission and the share of the cores busy (``/proc/stat``),
checks that every submission has exactly one gradebook row, and extrapolates to 10,000
submissions.

``--profile``: where one submission's seconds go. Grades ``--repeats`` honest submissions of
chapters 1 and 5 with one worker (sandboxed, feedback included) and reports, per phase, the
median over submissions of what the grading state recorded (``phases``: task preparation,
scratch files, strip, sandbox and kernel start, kernel ready, the setup cell's imports, the
notebook's other cells, kernel stop, answer checking, feedback rendering, the autograded copy; and
the writer's gradebook transaction share and the rest of its work), next to plain ``nbgrader
autograde`` of the same submissions and the floor: the solution notebook's code cells alone, run
twice in this (warm) interpreter with the checks recording, the second run timed. Both commands
also report the CPU seconds the machine spent per submission (``/proc/stat``: run it on a quiet
machine) and the share of the cores that was busy.

Results go to ``runs/bench_grading.json`` (``$RNNCOURSE_RUNS`` when set) unless ``--out``
names another file (the committed one is results/bench_grading.json: pass it
explicitly). The scale mode adds its runs to the file's ``scale`` entry, replacing
runs of the same database, worker count and size, so that runs of different sizes
(200 on SQLite, fewer on PostgreSQL) can come from separate commands.
"""
from __future__ import annotations

import argparse
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

from adversarial import honest, kinds  # noqa: E402
from assignments import ASSIGNMENTS  # noqa: E402
from harness import Course, nbgrader_env  # noqa: E402
from rnncourse.experiments import default_output  # noqa: E402

CHAPTERS = ["ch01_rnn_basics", "ch05_lstm_gru"]
# what a class hands in: mostly honest, some partial or wrong, a few adversarial
MIX = ["honest_solution"] * 8 + ["one_wrong_part"] * 4 + ["blank_student_version"] * 2 + \
      ["always_equal_object", "writes_gradebook"]


def add_assignment(course: Course, name: str) -> None:
    import shutil

    shutil.copytree(ROOT / "solutions" / name, course.root / "solutions" / name)
    result = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", name, "--force"],
                            cwd=course.root, env=nbgrader_env(), capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(result.stdout + result.stderr)


def submit_generated(course: Course, assignment: str, count: int) -> dict[str, str]:
    """``count`` submissions of ``assignment``; returns student -> kind."""
    import nbformat

    info = ASSIGNMENTS[assignment]
    folder = course.root / "solutions" / assignment
    solution = nbformat.read(folder / f"{assignment}.ipynb", as_version=4)
    release = nbformat.read(course.root / "notebooks" / assignment / f"{assignment}.ipynb", as_version=4)
    by_name = {k.name: k for k in kinds(info)}
    made, students = {}, {}
    for i in range(count):
        kind = MIX[i % len(MIX)]
        if kind not in made:
            made[kind] = by_name[kind].make(solution, release, info["independent_part"], info)
        student = f"s{i:05d}"
        target = course.root / "submitted" / student / assignment
        target.mkdir(parents=True, exist_ok=True)
        nbformat.write(made[kind], target / f"{assignment}.ipynb")
        students[student] = kind
    return students


def one_row_per_student(url: str, assignment: str, students: list[str]) -> bool:
    from nbgrader.api import Gradebook

    with Gradebook(url) as gb:
        ids = [s.student.id for s in gb.find_assignment(assignment).submissions]
        return sorted(ids) == sorted(students) and len(ids) == len(set(ids))


def scale(args) -> list[dict]:
    """Grade ``args.scale`` generated submissions with 1 and with ``args.workers`` workers on each database."""
    from postgres import PostgresServer

    workers = args.workers or os.cpu_count() or 1
    per_chapter = max(1, args.scale // len(CHAPTERS))
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        for db in args.dbs:
            server = PostgresServer().__enter__() if db == "postgres" else None
            try:
                extra = f'c.CourseDirectory.db_url = "{server.url}"\nc.CourseDirectory.course_id = "rnncourse"' \
                    if server else ""
                course = Course(Path(tmp) / db, CHAPTERS[0], timeout=args.timeout, extra_config=extra)
                url = server.url if server else f"sqlite:///{course.root / 'gradebook.db'}"
                for chapter in CHAPTERS[1:]:
                    add_assignment(course, chapter)
                students = {chapter: submit_generated(course, chapter, per_chapter) for chapter in CHAPTERS}
                env = {**nbgrader_env(), "TMPDIR": str(Path(tmp))}
                for chapter in CHAPTERS:   # reference answers once, outside the timings
                    timed([sys.executable, "-m", "rnncourse.autograder", "grade", chapter, "--student", "none"],
                          course.root, env)
                for n in args.worker_counts or sorted({1, workers}):
                    load_before = os.getloadavg()
                    seconds, cpu, executing, writing, preparing = 0.0, 0.0, [], [], []
                    worker_mb, kernel_mb, rows = [], [], {}
                    for chapter in CHAPTERS:
                        wall, busy = timed_cpu([sys.executable, "-m", "rnncourse.autograder", "grade", chapter,
                                                "--force", "--workers", str(n), "--timeout", str(args.timeout)],
                                               course.root, env)
                        seconds, cpu = seconds + wall, cpu + busy
                        for record in (course.root / ".grading" / chapter / "graded").glob("*.json"):
                            r = json.loads(record.read_text())
                            executing.append(r["execute_seconds"])
                            writing.append(r["write_seconds"])
                            preparing.append(r["phases"]["prepare"])
                            worker_mb.append(r["worker_peak_mb"])
                            kernel_mb.append(r["kernel_peak_mb"])
                        rows[chapter] = one_row_per_student(url, chapter, list(students[chapter]))
                    total = per_chapter * len(CHAPTERS)
                    run = {"db": db, "workers": n, "submissions": total, "seconds": round(seconds, 1),
                           "submissions_per_minute": round(60 * total / seconds, 2),
                           "seconds_per_submission": round(seconds / total, 2),
                           "execute_seconds_mean": round(sum(executing) / len(executing), 2),
                           "write_seconds_mean": round(sum(writing) / len(writing), 4),
                           "prepare_seconds_mean": round(sum(preparing) / len(preparing), 4),
                           "cpu_seconds_per_submission": round(cpu / total, 2),
                           "cores_busy_share": round(cpu / (seconds * (os.cpu_count() or 1)), 2),
                           "peak_worker_mb": max(worker_mb), "peak_kernel_mb": max(kernel_mb),
                           "one_gradebook_row_per_submission": rows,
                           "load_average_before": [round(x, 2) for x in load_before],
                           "load_average_after": [round(x, 2) for x in os.getloadavg()]}
                    runs.append(run)
                    print(f"{db:9s} {total:5d} submissions, {n:3d} worker(s): {run['submissions_per_minute']:7.2f} "
                          f"submissions/min, {run['seconds_per_submission']:6.2f} s each (execute "
                          f"{run['execute_seconds_mean']} s, prepare {run['prepare_seconds_mean']} s, write "
                          f"{run['write_seconds_mean']} s; {run['cpu_seconds_per_submission']} CPU-s, cores "
                          f"{100 * run['cores_busy_share']:.0f} % busy), peak "
                          f"{run['peak_worker_mb']:.0f} MB/worker, {run['peak_kernel_mb']:.0f} MB/kernel, one row "
                          f"each: {all(rows.values())}, load {run['load_average_before']}", flush=True)
            finally:
                if server:
                    server.__exit__(None, None, None)
    return runs


def summarise(runs: list[dict]) -> dict:
    """Ratios parallel/sequential (same database and size) and the extrapolation to 10,000 submissions."""
    ratios = {}
    for r in runs:
        one = next((o for o in runs if o["db"] == r["db"] and o["submissions"] == r["submissions"]
                    and o["workers"] == 1), None)
        if one and r["workers"] > 1:
            ratios[f"{r['db']}, {r['submissions']} submissions, {r['workers']} workers"] = \
                round(one["seconds"] / r["seconds"], 2)
    # 10,000 submissions, per database: workers execute and render in parallel; the grading process prepares
    # each task and writes each result one after another, so a run goes no faster than those two together
    estimates = {}
    for db in sorted({r["db"] for r in runs}):
        counts = {r["workers"] for r in runs if r["db"] == db}
        chosen = os.cpu_count() if os.cpu_count() in counts else max(counts)   # one worker per core
        best = [r for r in runs if r["db"] == db and r["workers"] == chosen]
        execute = sum(r["execute_seconds_mean"] for r in best) / len(best)
        write = sum(r["write_seconds_mean"] for r in best) / len(best)
        prepare = sum(r.get("prepare_seconds_mean", 0.0) for r in best) / len(best)
        serial = prepare + write

        def hours(parallel_workers):
            return round(10_000 * max(execute / parallel_workers, serial) / 3600, 2)

        estimates[db] = {"execute_seconds": round(execute, 2), "prepare_seconds": round(prepare, 4),
                         "write_seconds": round(write, 4),
                         "grading_process_limit_submissions_per_minute": round(60 / serial, 1),
                         "hours_one_worker": hours(1), "hours_64_cores": hours(64),
                         "hours_10_machines_x_16_cores": hours(160)}
    estimate = {"assumptions": "mean execute, prepare and write seconds of the runs with one worker per core on "
                               "this machine; one worker per core, each as fast as here; one grading process per "
                               "assignment, preparing tasks and writing results one at a time", **estimates}
    return {"parallel_over_sequential": ratios, "estimate_10000": estimate,
            "all_one_gradebook_row_per_submission": all(all(r["one_gradebook_row_per_submission"].values())
                                                        for r in runs)}


PHASES = ["prepare", "scratch", "strip", "kernel_start", "kernel_ready", "setup_cell", "cells", "kernel_stop",
          "verify", "feedback", "autograded_copy"]


def cpu_seconds() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine since boot, every core summed (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]   # idle, iowait
    return (sum(fields[:8]) - idle) / tick, sum(fields[:8]) / tick


def timed_cpu(cmd, cwd, env) -> tuple[float, float]:
    """Wall seconds of ``cmd`` and the CPU seconds the machine spent meanwhile (all its processes: on a quiet
    machine, the command, its workers and their kernels)."""
    busy = cpu_seconds()[0]
    seconds = timed(cmd, cwd, env)
    return seconds, cpu_seconds()[0] - busy


def median(values: list[float]) -> float:
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def floor_seconds(notebook: Path, repeats: int = 2) -> float:
    """The solution's code cells alone in this interpreter (checks recording, as at grading); last run's seconds."""
    import nbformat

    cells = [c.source for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
    seconds = 0.0
    with tempfile.TemporaryDirectory() as answers:
        before = dict(os.environ)
        os.environ["RNNCOURSE_ANSWERS_DIR"] = answers
        cwd = os.getcwd()
        try:
            os.chdir(notebook.parent)
            for _ in range(repeats):
                for f in Path(answers).iterdir():
                    f.unlink()
                namespace: dict = {"__name__": "__main__"}
                start = time.perf_counter()
                for source in cells:
                    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("!", "%")))
                    exec(compile(code, str(notebook), "exec"), namespace)
                seconds = time.perf_counter() - start
        finally:
            os.chdir(cwd)
            os.environ.clear()
            os.environ.update(before)
    return seconds


def profile(args) -> dict:
    """Median seconds per phase of one submission, per chapter, with plain nbgrader and the floor."""
    out = {"load_average_before": [round(x, 2) for x in os.getloadavg()], "submissions_per_chapter": args.repeats,
           "chapters": {}}
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        for chapter in CHAPTERS:
            course = Course(Path(tmp) / chapter, chapter, timeout=args.timeout)
            nb = honest(course.solution(), course.release())
            for i in range(args.repeats):
                course.submit(f"s{i}", nb)
            env = {**nbgrader_env(), "TMPDIR": str(Path(tmp))}
            grade = [sys.executable, "-m", "rnncourse.autograder", "grade", chapter, "--workers", "1", "--force"]
            timed(grade + ["--student", "none"], course.root, env)   # reference answers, outside the timings
            ours, ours_cpu = timed_cpu(grade, course.root, env)
            records = [json.loads(p.read_text()) for p in (course.root / ".grading" / chapter / "graded").glob("*.json")]
            phases = {p: round(median([r["phases"].get(p, 0.0) for r in records]), 3) for p in PHASES}
            phases["writer_gradebook"] = round(median([r["gradebook_seconds"] for r in records]), 4)
            phases["writer_rest"] = round(median([r["write_seconds"] - r["gradebook_seconds"] for r in records]), 4)
            worker = round(median([r["execute_seconds"] for r in records]), 3)
            plain, plain_cpu = timed_cpu([sys.executable, "-m", "nbgrader", "autograde", chapter, "--force"],
                                         course.root, env)
            floor = floor_seconds(ROOT / "solutions" / chapter / f"{chapter}.ipynb")
            cores = os.cpu_count() or 1
            out["chapters"][chapter] = {
                "phases_median_seconds": phases, "worker_seconds_median": worker,
                "command_seconds_per_submission": round(ours / args.repeats, 3),
                "plain_nbgrader_seconds_per_submission": round(plain / args.repeats, 3),
                "worker_over_plain_nbgrader": round(worker / (plain / args.repeats), 2),
                # CPU seconds the machine spent per submission, and the share of all cores busy meanwhile
                "command_cpu_seconds_per_submission": round(ours_cpu / args.repeats, 3),
                "plain_nbgrader_cpu_seconds_per_submission": round(plain_cpu / args.repeats, 3),
                "command_cores_busy_share": round(ours_cpu / (ours * cores), 2),
                "floor_seconds": round(floor, 3)}
            print(f"{chapter}: worker {worker:.2f} s/submission (median), command {ours / args.repeats:.2f} s "
                  f"({ours_cpu / args.repeats:.2f} CPU-s), plain nbgrader {plain / args.repeats:.2f} s "
                  f"({plain_cpu / args.repeats:.2f} CPU-s), floor {floor:.2f} s")
            for name, seconds in phases.items():
                print(f"    {name:18s} {seconds:7.3f} s")
    out["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return out


def timed(cmd, cwd, env) -> float:
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(result.stdout[-3000:] + result.stderr[-3000:])
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="submissions graded per mode")
    parser.add_argument("--out", "--output", type=Path, default=None,
                        help="where to write the results (default: runs/bench_grading.json, or $RNNCOURSE_RUNS/)")
    parser.add_argument("--scale", type=int, default=0, help="grading at scale: this many generated submissions")
    parser.add_argument("--workers", type=int, default=None, help="--scale: the parallel run's workers (all cores)")
    parser.add_argument("--worker-counts", type=int, nargs="+", default=None,
                        help="--scale: run with each of these numbers of workers instead (default: 1 and --workers)")
    parser.add_argument("--dbs", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"])
    parser.add_argument("--timeout", type=int, default=120, help="--scale: seconds per cell")
    parser.add_argument("--profile", action="store_true", help="where one submission's seconds go")
    args = parser.parse_args()
    args.out = args.out or default_output("bench_grading.json")
    if args.profile:
        previous = json.loads(args.out.read_text()) if args.out.exists() else {}
        previous["profile"] = {"machine": f"{platform.machine()}, {os.cpu_count()} cores",
                               "python": platform.python_version(),
                               "command": " ".join([Path(sys.argv[0]).name] + sys.argv[1:]),
                               "date": time.strftime("%Y-%m-%d %H:%M"), **profile(args)}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(previous, indent=1))
        print(f"wrote {args.out}")
        return
    if args.scale:
        previous = json.loads(args.out.read_text()) if args.out.exists() else {}
        new = scale(args)
        keep = [r for r in previous.get("scale", {}).get("runs", [])
                if (r["db"], r["workers"], r["submissions"]) not in {(n["db"], n["workers"], n["submissions"])
                                                                     for n in new}]
        runs = keep + new
        commands = previous.get("scale", {}).get("commands", []) + [
            {"command": " ".join([Path(sys.argv[0]).name] + sys.argv[1:]), "date": time.strftime("%Y-%m-%d %H:%M")}]
        previous["scale"] = {"machine": f"{platform.machine()}, {os.cpu_count()} cores",
                             "python": platform.python_version(), "chapters": CHAPTERS, "mix": MIX,
                             "commands": commands, "runs": runs, **summarise(runs)}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(previous, indent=1))
        summary = previous["scale"]
        print(f"parallel/sequential: {summary['parallel_over_sequential']}; all one gradebook row per submission: "
              f"{summary['all_one_gradebook_row_per_submission']}")
        for db, e in summary["estimate_10000"].items():
            if isinstance(e, dict):
                print(f"10,000 submissions on {db}: {e['hours_64_cores']} h on 64 cores, "
                      f"{e['hours_10_machines_x_16_cores']} h on 10 machines x 16 cores "
                      f"(grading process limit {e['grading_process_limit_submissions_per_minute']} "
                      f"submissions/min)")
        print(f"wrote {args.out}")
        return
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        course = Course(Path(tmp) / "course", "ch01_rnn_basics", timeout=30)
        nb = honest(course.solution(), course.release())
        for i in range(args.repeats):
            course.submit(f"student{i}", nb)
        env = nbgrader_env()
        plain_env = dict(env, PATH=str(Path(sys.executable).parent))
        grade = [sys.executable, "-m", "rnncourse.autograder", "grade", course.assignment, "--no-feedback"]
        # warm-up: reference answers are computed once and cached
        timed(grade + ["--student", "student0"], course.root, env)
        modes = {
            "nbgrader autograde (no sandbox, no answer check)":
                ([sys.executable, "-m", "nbgrader", "autograde", course.assignment, "--force"], env),
            "rnncourse.autograder, sandboxed": (grade, env),
            "rnncourse.autograder, --allow-unsandboxed": (grade + ["--allow-unsandboxed"], plain_env),
        }
        for name, (cmd, mode_env) in modes.items():
            seconds = timed(cmd, course.root, mode_env)
            results[name] = {"seconds_total": round(seconds, 2), "submissions": args.repeats,
                             "seconds_per_submission": round(seconds / args.repeats, 2)}
            print(f"{name:55s} {seconds / args.repeats:6.2f} s per submission")
    record = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "python": platform.python_version(),
              "load_average": os.getloadavg(), "results": results}
    if args.out.exists() and "scale" in json.loads(args.out.read_text()):
        record["scale"] = json.loads(args.out.read_text())["scale"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
