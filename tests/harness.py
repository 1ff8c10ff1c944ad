"""Drive nbgrader's own commands in a throwaway course folder.

A ``Course`` copies the repository's ``nbgrader_config.py`` and one assignment
from ``solutions/`` into a temporary folder, runs ``nbgrader generate_assignment``
there, places submissions under ``submitted/<student>/<assignment>/`` and runs
``nbgrader autograde``.  Scores are read back from the gradebook with nbgrader's API.
Submissions are made by editing notebooks with nbformat: the solution itself, the
released student version, or either with one cell changed.
"""
from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def nbgrader_env() -> dict:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"  # nbgrader runs alembic and jupyter
    env.pop("RNNCOURSE_ANSWERS_DIR", None)
    return env


def run(cmd: list[str], cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env=nbgrader_env(), capture_output=True, text=True, timeout=timeout)


def grade_ids(nb) -> dict[str, dict]:
    """grade_id -> nbgrader metadata for every nbgrader cell."""
    return {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]
            for c in nb.cells if "nbgrader" in c.metadata}


def total_points(nb) -> float:
    """Points the autograder can give (manually graded answers are left out)."""
    return sum(m.get("points", 0) for m in grade_ids(nb).values() if m.get("grade") and not m.get("solution"))


def all_points(nb) -> float:
    """Every point of the notebook, manually graded answers included."""
    return sum(m.get("points", 0) for m in grade_ids(nb).values() if m.get("grade"))


def part_points(nb, part: str) -> float:
    """Points of the test cells of ``part`` (grade ids ``<part>_...``)."""
    return sum(m.get("points", 0) for gid, m in grade_ids(nb).items()
               if m.get("grade") and not m.get("solution") and gid.startswith(part + "_"))


def cell(nb, grade_id: str):
    for c in nb.cells:
        if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return c
    raise KeyError(f"no cell with grade_id {grade_id!r}")


class Course:
    """A temporary nbgrader course holding one assignment."""

    def __init__(self, root: Path, assignment: str, timeout: int = 30, extra_config: str = ""):
        self.root, self.assignment = Path(root), assignment
        self.root.mkdir(parents=True, exist_ok=True)
        config = (ROOT / "nbgrader_config.py").read_text()
        config += f"\nc.Execute.timeout = {timeout}\n{extra_config}\n"
        (self.root / "nbgrader_config.py").write_text(config)
        shutil.copytree(ROOT / "solutions" / assignment, self.root / "solutions" / assignment,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        result = run([sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force"], self.root)
        if result.returncode != 0:
            raise RuntimeError(f"generate_assignment failed:\n{result.stdout}\n{result.stderr}")

    @property
    def notebook_name(self) -> str:
        return f"{self.assignment}.ipynb"

    def solution(self):
        return nbformat.read(self.root / "solutions" / self.assignment / self.notebook_name, as_version=4)

    def release(self):
        return nbformat.read(self.root / "notebooks" / self.assignment / self.notebook_name, as_version=4)

    def submit(self, student: str, nb=None, raw: bytes | None = None, name: str | None = None) -> Path:
        """Place a submission (a notebook object, or raw bytes for broken files)."""
        folder = self.root / "submitted" / student / self.assignment
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        path = folder / (name or self.notebook_name)
        if raw is not None:
            path.write_bytes(raw)
        else:
            nbformat.write(nb, path)
        return path

    def autograde(self, student: str | None = None, extra: list[str] | None = None) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "nbgrader", "autograde", self.assignment, "--force"]
        if student:
            cmd.append(f"--student={student}")
        return run(cmd + (extra or []), self.root)

    def score(self, student: str) -> float:
        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gb:
            return gb.find_submission(self.assignment, student).score

    def cell_scores(self, student: str) -> dict[str, float]:
        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gb:
            nb = gb.find_submission_notebook(self.notebook_name[:-6],
                                             self.assignment, student)
            return {g.name: g.score for g in nb.grades}


def with_part_stubbed(solution, release, part: str):
    """The solution with ``part``'s answer cell replaced by the student's stub."""
    nb = copy.deepcopy(solution)
    cell(nb, part).source = cell(release, part).source
    return nb
