"""Find solution code and hidden tests of solutions/ in a folder of published files."""
from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat

REGIONS = [("BEGIN SOLUTION", "END SOLUTION"), ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS"),
           ("BEGIN MARK SCHEME", "END MARK SCHEME")]
TEXT_SUFFIXES = {".html", ".ipynb", ".md", ".txt", ".js", ".py", ".json"}
LONG_LINE = 40    # a single secret line this long is specific enough to search for alone
PAIR_LINE = 8     # shorter lines are searched as pairs of consecutive lines


def _normalize(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def secret_lines(solution: Path, student: Path | None = None, regions=None) -> set[str]:
    """Fragments of solution, hidden-test and mark-scheme regions to search for.

    A fragment is either one line of at least LONG_LINE characters or two
    consecutive lines of at least PAIR_LINE characters each (a common short line
    such as ``with torch.no_grad():`` alone proves nothing).  Lines that the
    student version also shows are left out.  ``regions``: (begin, end) markers to
    search (default: solutions, hidden tests and mark schemes)."""
    regions = REGIONS if regions is None else regions
    nb = nbformat.read(solution, as_version=4)
    public = set()
    if student is not None and student.exists():
        public = {_normalize(line) for c in nbformat.read(student, as_version=4).cells
                  for line in c.source.splitlines()}
    secrets = set()
    for c in nb.cells:
        inside, previous = False, None
        for line in c.source.splitlines():
            if any(begin in line for begin, _ in regions) or any(end in line for _, end in regions):
                inside = any(begin in line for begin, _ in regions)
                previous = None
                continue
            norm = _normalize(line)
            if not inside or not norm or norm in public:
                previous = None
                continue
            if len(norm) >= LONG_LINE:
                secrets.add(norm)
            if previous and len(previous) >= PAIR_LINE and len(norm) >= PAIR_LINE:
                secrets.add(previous + " " + norm)
            previous = norm
    return secrets


def published_text(path: Path) -> str:
    text = path.read_text(errors="ignore")
    if path.suffix == ".html":
        text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return _normalize(text)


def find_leaks(secrets: set[str], folder: Path) -> dict[str, list[str]]:
    """{file: [secret lines found in it]} for every text file under ``folder``."""
    leaks = {}
    for path in folder.rglob("*"):
        if path.is_file() and path.suffix in TEXT_SUFFIXES:
            text = published_text(path)
            found = sorted(s for s in secrets if s in text)
            if found:
                leaks[str(path.relative_to(folder))] = found
    return leaks
