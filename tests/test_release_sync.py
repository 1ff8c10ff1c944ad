"""notebooks/ is exactly what nbgrader generates from solutions/ today."""
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT_DIRS = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())

pytestmark = pytest.mark.slow


def cells(path: Path):
    nb = nbformat.read(path, as_version=4)
    return [(c.cell_type, c.source, c.metadata.get("nbgrader", {})) for c in nb.cells]


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    out = tmp_path_factory.mktemp("release")
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "release.py"), "--into", str(out)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_every_assignment_has_a_student_version():
    released = sorted(p.name for p in (ROOT / "notebooks").iterdir() if p.is_dir())
    assert released == ASSIGNMENT_DIRS, "run `make release` to regenerate notebooks/"


@pytest.mark.parametrize("assignment", ASSIGNMENT_DIRS)
def test_student_version_matches_nbgrader_output(regenerated, assignment):
    fresh = sorted(p.relative_to(regenerated / assignment) for p in (regenerated / assignment).rglob("*") if p.is_file())
    committed = sorted(p.relative_to(ROOT / "notebooks" / assignment)
                       for p in (ROOT / "notebooks" / assignment).rglob("*") if p.is_file())
    assert committed == fresh, "notebooks/ and nbgrader's output hold different files: run `make release`"
    for rel in fresh:
        if rel.suffix == ".ipynb":
            assert cells(ROOT / "notebooks" / assignment / rel) == cells(regenerated / assignment / rel), (
                f"notebooks/{assignment}/{rel} differs from what nbgrader generates: run `make release`")


@pytest.mark.parametrize("assignment", ASSIGNMENT_DIRS)
def test_student_version_has_no_solution_or_hidden_test(assignment):
    for path in (ROOT / "notebooks" / assignment).glob("*.ipynb"):
        text = path.read_text()
        for marker in ["BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "BEGIN MARK SCHEME"]:
            assert marker not in text, f"{path} contains {marker!r}"
