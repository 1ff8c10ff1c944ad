"""Find solution code and hidden tests of solutions/ in a folder of published files."""
from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat

REGIONS = [("BEGIN SOLUTION", "END SOLUTION"), ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS"),
           ("BEGIN MARK SCHEME", "END MARK SCHEME")]
TEXT_SUFFIXES = {".html", ".ipynb", ".md", ".txt", ".js", ".py", ".json"}
MIN_LENGTH = 16


def _normalize(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def secret_lines(solution: Path, student: Path | None = None) -> set[str]:
    """Lines of length >= MIN_LENGTH inside solution, hidden-test and mark-scheme regions,
    leaving out lines that the student version also shows."""
    nb = nbformat.read(solution, as_version=4)
    public = set()
    if student is not None and student.exists():
        public = {_normalize(line) for c in nbformat.read(student, as_version=4).cells
                  for line in c.source.splitlines()}
    secrets = set()
    for c in nb.cells:
        inside = False
        for line in c.source.splitlines():
            if any(begin in line for begin, _ in REGIONS):
                inside = True
                continue
            if any(end in line for _, end in REGIONS):
                inside = False
                continue
            norm = _normalize(line)
            if inside and len(norm) >= MIN_LENGTH and norm not in public:
                secrets.add(norm)
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
