"""Write the student versions of the graded notebooks with nbgrader.

    python scripts/release.py                 # every assignment in solutions/
    python scripts/release.py ch01_rnn_basics # one assignment
    python scripts/release.py --into DIR      # write DIR/<assignment>/ instead of notebooks/

nbgrader's ``generate_assignment`` does the work (solutions replaced by stubs,
hidden tests removed, cells locked); the gradebook it needs is a throwaway one
so that this never touches an instructor's ``gradebook.db``.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def assignments() -> list[str]:
    return sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir() and not p.name.startswith("."))


def generate(names: list[str], into: Path) -> None:
    """Run ``nbgrader generate_assignment`` for ``names`` and write the results under ``into``."""
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp)
        shutil.copy(ROOT / "nbgrader_config.py", course)
        for name in names:
            src = ROOT / "solutions" / name
            if not src.is_dir():
                raise SystemExit(f"no assignment folder solutions/{name}/ (have: {', '.join(assignments())})")
            shutil.copytree(src, course / "solutions" / name,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
            cmd = [sys.executable, "-m", "nbgrader", "generate_assignment", name, "--force",
                   "--log-level=WARN"]
            result = subprocess.run(cmd, cwd=course, capture_output=True, text=True)
            if result.returncode != 0:
                raise SystemExit(f"nbgrader generate_assignment {name} failed:\n{result.stdout}\n{result.stderr}")
            target = into / name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(course / "notebooks" / name, target)
            print(f"wrote {target.relative_to(into.parent) if into.parent in target.parents else target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="assignments to release (default: all)")
    parser.add_argument("--into", type=Path, default=ROOT / "notebooks")
    args = parser.parse_args()
    generate(args.names or assignments(), args.into.resolve())


if __name__ == "__main__":
    main()
