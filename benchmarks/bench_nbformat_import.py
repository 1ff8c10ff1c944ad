"""How long does ``import nbformat`` take in a fresh interpreter?

Every process of the project that reads, checks or grades a notebook imports nbformat, and
nbformat imports jsonschema.  jsonschema's ``_format`` module imports every optional format
checker that is installed, eagerly; since jsonschema 4.25 its ``format-nongpl`` extra (required
by jupyter-events) includes ``rfc3987-syntax``, which builds a lark grammar at import and costs
about 1.7-2 s per process.  requirements.txt therefore pins jsonschema 4.24.1, the newest release
whose ``format-nongpl`` extra does not pull it.  This script measures that fixed cost.

Each run starts a new interpreter that times ``import nbformat`` from the inside (perf_counter
around the import) and reports whether ``rfc3987_syntax`` and ``lark`` ended up in
``sys.modules``; the parent also times the whole process (start to exit).  One warm-up run per
interpreter (it may write bytecode caches) is not counted.  With several ``--python``
interpreters, runs are interleaved round-robin so that they see the same machine load.  The
load average (``os.getloadavg``, and the ``uptime`` line where the command exists) is recorded
before and after.

    python benchmarks/bench_nbformat_import.py                       # writes runs/bench_nbformat_import.json
                                                                     # (or $RNNCOURSE_RUNS/bench_nbformat_import.json)
    python benchmarks/bench_nbformat_import.py --runs 9 --python .venv/bin/python --python /tmp/other/bin/python
    python benchmarks/bench_nbformat_import.py --smoke --out /tmp/bench.json   # 2 runs, for a quick check
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rnncourse.experiments import default_output, write_results

DEFAULT_NAME = "bench_nbformat_import.json"   # default_output(DEFAULT_NAME): $RNNCOURSE_RUNS/ or ./runs/

# Runs in the child interpreter: one JSON line on stdout.
CHILD = """\
import json, sys, time
t0 = time.perf_counter()
import {module}
t1 = time.perf_counter()
from importlib import metadata
def version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
print(json.dumps({{
    "import_s": t1 - t0,
    "rfc3987_syntax_loaded": "rfc3987_syntax" in sys.modules,
    "lark_loaded": "lark" in sys.modules,
    "versions": {{name: version(name) for name in ("nbformat", "jsonschema", "rfc3987-syntax", "lark")}},
    "python": sys.version.split()[0],
}}))
"""


def one_run(python: str, module: str) -> dict:
    """Start ``python``, import ``module`` there; the child's report plus the process wall time."""
    start = time.perf_counter()
    proc = subprocess.run([python, "-c", CHILD.format(module=module)], capture_output=True, text=True,
                          timeout=300)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{python} failed to import {module}:\n{proc.stderr[-2000:]}")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    report["process_wall_s"] = wall
    return report


def uptime() -> str | None:
    """The ``uptime`` line (load averages included), or None where the command is missing."""
    exe = shutil.which("uptime")
    if exe is None:
        return None
    try:
        return subprocess.run([exe], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def load() -> dict:
    return {"getloadavg": [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None,
            "uptime": uptime()}


def summarise(runs: list[dict]) -> dict:
    imports = [r["import_s"] for r in runs]
    walls = [r["process_wall_s"] for r in runs]
    return {
        "median_import_s": statistics.median(imports), "min_import_s": min(imports), "max_import_s": max(imports),
        "median_process_wall_s": statistics.median(walls), "min_process_wall_s": min(walls),
        "max_process_wall_s": max(walls),
        "rfc3987_syntax_loaded": any(r["rfc3987_syntax_loaded"] for r in runs),
        "lark_loaded": any(r["lark_loaded"] for r in runs),
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="timed runs per interpreter (default 7)")
    parser.add_argument("--python", action="append", default=None,
                        help="interpreter to measure; repeat to compare several (default: this one)")
    parser.add_argument("--module", default="nbformat", help="module to import (default nbformat)")
    parser.add_argument("--quick", "--smoke", dest="quick", action="store_true", help="2 runs, for tests")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"results file (default $RNNCOURSE_RUNS/{DEFAULT_NAME}, else runs/{DEFAULT_NAME} "
                             f"in the current folder)")
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = default_output(DEFAULT_NAME)
    n_runs = 2 if args.quick else args.runs
    if n_runs < 1:
        parser.error("--runs must be at least 1")
    pythons = args.python or [sys.executable]

    started = time.perf_counter()
    load_before = load()
    for python in pythons:                                    # warm-up: bytecode caches, disk cache
        one_run(python, args.module)
    runs: dict[str, list[dict]] = {python: [] for python in pythons}
    for _ in range(n_runs):
        for python in pythons:                                # interleaved: same load for each
            runs[python].append(one_run(python, args.module))
    load_after = load()

    given = sys.argv[1:] if argv is None else list(argv)
    result = {
        "command": " ".join(["python benchmarks/bench_nbformat_import.py"] + [shlex.quote(str(a)) for a in given]),
        "module": args.module, "runs_per_interpreter": n_runs, "quick": args.quick,
        "machine": {"platform": platform.platform(), "logical_cpus": os.cpu_count(),
                    "load_before": load_before, "load_after": load_after},
        "interpreters": {python: {"versions": rs[0]["versions"], "python": rs[0]["python"], **summarise(rs),
                                  "runs": rs} for python, rs in runs.items()},
        "wall_s": time.perf_counter() - started,
    }
    report(result)
    write_results(args.out, result)
    return result


def report(result: dict) -> None:
    m = result["machine"]
    print(f"import {result['module']}: {result['runs_per_interpreter']} runs per interpreter, "
          f"load before {m['load_before']['getloadavg']}, after {m['load_after']['getloadavg']}")
    for python, s in result["interpreters"].items():
        v = s["versions"]
        print(f"  {python}: median import {s['median_import_s']:.3f} s (min {s['min_import_s']:.3f}, "
              f"max {s['max_import_s']:.3f}), median process {s['median_process_wall_s']:.3f} s; "
              f"jsonschema {v['jsonschema']}, rfc3987-syntax {v['rfc3987-syntax']}, "
              f"rfc3987_syntax imported: {s['rfc3987_syntax_loaded']}")


if __name__ == "__main__":
    main()
