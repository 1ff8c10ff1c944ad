"""Every command a page shows runs, at a tiny size, without touching the repository.

The pages (``book/*.md``) tell readers to run commands such as
``python -m rnncourse.experiments.long_lag --models lstm_keep --lags 160``.  Running one must
never overwrite the committed ``results/`` that the pages render.  This test finds every
``python -m rnncourse...`` and ``python benchmarks/...`` command on any page (in code blocks or
inline code, with ``\\`` line continuations), appends ``--smoke`` (the tiny-size flag every
command line of the course accepts), runs it from an empty temporary folder (with ``HOME`` and
``$RNNCOURSE_RUNS`` in temporary folders too), and checks that it succeeds, that it wrote its output
to ``$RNNCOURSE_RUNS``, and that ``git status --porcelain`` and every file under ``results/`` are
unchanged.
"""
from __future__ import annotations

import hashlib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMMAND = re.compile(r"python3? (?:-m rnncourse[\w.]*|benchmarks/[\w./-]+\.py)[^`\n#\"']*")


def page_commands(book: Path = ROOT / "book") -> list[tuple[str, str]]:
    """(page name, command) for every command shown on a page, in page order, without duplicates."""
    found = []
    for page in sorted(book.glob("*.md")):
        text = re.sub(r"\\\n\s*", " ", page.read_text())  # join continued lines
        for match in COMMAND.finditer(text):
            command = " ".join(match.group(0).split())
            if (page.name, command) not in found:
                found.append((page.name, command))
    return found


def test_the_finder_reads_inline_code_blocks_and_continuations(tmp_path):
    (tmp_path / "a.md").write_text(
        "Run `python -m rnncourse.experiments.long_lag --lags 160` and see.\n\n"
        "```bash\npython benchmarks/bench_x.py --quick  # a comment\n"
        "python -m rnncourse.experiments.adding --steps 10 \\\n    --seed 2\n```\n"
        "Not a command: python is a language.\n"
        'print(results["command"] or "python -m rnncourse.experiments.adding")\n')
    assert page_commands(tmp_path) == [
        ("a.md", "python -m rnncourse.experiments.long_lag --lags 160"),
        ("a.md", "python benchmarks/bench_x.py --quick"),
        ("a.md", "python -m rnncourse.experiments.adding --steps 10 --seed 2"),
        ("a.md", "python -m rnncourse.experiments.adding"),
    ]


def test_the_pages_show_experiment_commands():
    commands = [c for _, c in page_commands()]
    assert any(c.startswith("python -m rnncourse.experiments.long_lag") for c in commands)
    assert any(c.startswith("python -m rnncourse.experiments.adding") for c in commands)


def test_no_page_command_names_a_file_in_results():
    for page, command in page_commands():
        argv = shlex.split(command)
        named = [b for a, b in zip(argv, argv[1:]) if a in ("--out", "--results", "--into")]
        assert not any(Path(n).parts[:1] == ("results",) for n in named), f"{page}: {command} writes into results/"


def _snapshot() -> tuple[str, dict[str, str]]:
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    hashes = {str(p.relative_to(ROOT)): hashlib.sha256(p.read_bytes()).hexdigest()
              for p in sorted((ROOT / "results").rglob("*")) if p.is_file()}
    return status, hashes


@pytest.mark.slow
@pytest.mark.parametrize("page,command", page_commands(), ids=lambda v: v if v.endswith(".md") else v[:70])
def test_page_command_runs_small_and_leaves_the_repository_alone(page, command, tmp_path):
    argv = shlex.split(command)
    argv[0] = sys.executable
    if argv[1].startswith("benchmarks/"):
        argv[1] = str(ROOT / argv[1])
    before = _snapshot()
    cwd, home, runs = tmp_path / "cwd", tmp_path / "home", tmp_path / "runs"
    for folder in (cwd, home):
        folder.mkdir()
    # HOME and RNNCOURSE_RUNS point into tmp_path: a run never touches the real home folder
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1",
           "HOME": str(home), "RNNCOURSE_RUNS": str(runs)}
    result = subprocess.run(argv + ["--smoke"], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{command} --smoke (shown on {page}) failed:\n{result.stderr[-3000:]}"
    after = _snapshot()
    assert after[1] == before[1], f"{command} (shown on {page}) changed committed results"
    assert after[0] == before[0], f"{command} (shown on {page}) changed the repository:\n{after[0]}"
    assert runs.is_dir() and any(runs.rglob("*")), f"{command} --smoke wrote nothing to $RNNCOURSE_RUNS"
