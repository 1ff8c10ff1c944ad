"""Time the grading of one honest submission with and without the sandbox.

    python benchmarks/bench_grading.py [--repeats 3]

Builds a throwaway course with chapter 1, submits an honest solution under
several student ids, grades them with ``python -m rnncourse.autograder grade``
(sandboxed, then ``--allow-unsandboxed`` with the sandbox tools off PATH) and
with plain ``nbgrader autograde``, and writes results/bench_grading.json.
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

from adversarial import honest  # noqa: E402
from harness import Course, nbgrader_env  # noqa: E402


def timed(cmd, cwd, env) -> float:
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(result.stdout[-3000:] + result.stderr[-3000:])
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="submissions graded per mode")
    parser.add_argument("--output", type=Path, default=ROOT / "results" / "bench_grading.json")
    args = parser.parse_args()
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
    args.output.parent.mkdir(exist_ok=True)
    args.output.write_text(json.dumps(record, indent=1))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
