"""Grade a chapter's honest variant with the real grading command and print what each test cell got.

    .venv/bin/python tests/variants/grade_variant.py ch01_rnn_basics [--keep]

The variant is ``tests/variants/<chapter>.py``'s ``VARIANT`` (grade_id -> answer cell source),
placed in the released notebook (every other answer cell from the solution).  Prints the score,
the flags and, for every test cell that lost points, the error it showed.
"""
from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import nbformat  # noqa: E402

from adversarial import honest  # noqa: E402
from assignments import ASSIGNMENTS  # noqa: E402
from harness import Course, cell, nbgrader_env, total_points  # noqa: E402


def with_variant(solution, release, variant: dict[str, str]):
    nb = honest(solution, release)
    for grade_id, source in variant.items():
        cell(nb, grade_id).source = source.strip("\n")
    return nb


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("chapter")
    parser.add_argument("--keep", action="store_true", help="keep the temporary course and print its path")
    args = parser.parse_args()
    variant = importlib.import_module(args.chapter).VARIANT
    root = Path(tempfile.mkdtemp(prefix="variant-"))
    course = Course(root / "course", args.chapter, timeout=ASSIGNMENTS[args.chapter]["timeout"])
    solution, release = course.solution(), course.release()
    course.submit("variant", with_variant(solution, release, variant))
    tmp = root / "t"
    tmp.mkdir()
    cmd = [sys.executable, "-m", "rnncourse.autograder", "grade", args.chapter,
           "--timeout", str(ASSIGNMENTS[args.chapter]["timeout"]), "--force", "--no-feedback"]
    result = subprocess.run(cmd, cwd=course.root, env={**nbgrader_env(), "TMPDIR": str(tmp)},
                            capture_output=True, text=True)
    print(result.stdout[-3000:], result.stderr[-3000:])
    row = json.loads((course.root / "reports" / f"{args.chapter}.json").read_text())[0]
    print(f"score {row['score']} of {total_points(solution)}; flags: {row['flags'] or 'none'}")
    graded = nbformat.read(course.root / "autograded" / "variant" / args.chapter / f"{args.chapter}.ipynb", 4)
    for c in graded.cells:
        meta = c.metadata.get("nbgrader", {})
        if c.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            errors = [o for o in c.get("outputs", []) if o.get("output_type") == "error"]
            if errors:
                print(f"--- {meta['grade_id']} ({meta.get('points')} points):")
                print("\n".join(errors[0].get("traceback", [])[-6:])[-2000:])
    if args.keep:
        print("course kept at", course.root)
    else:
        import shutil
        shutil.rmtree(root, ignore_errors=True)
    return 0 if row["score"] == total_points(solution) else 1


if __name__ == "__main__":
    raise SystemExit(main())
