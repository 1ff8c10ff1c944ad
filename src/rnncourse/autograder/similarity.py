"""Similarity report: which submissions of an assignment share the most code.

    python -m rnncourse.autograder similarity ch06_relu_vs_tanh [--top 50]

The code each student wrote (every code cell that is not one of the course's locked cells) is
fingerprinted with copydetect (winnowed k-grams of the code's tokens, names and literals
normalised, so renaming variables or rewording comments does not hide a copy), with the released
notebook's code as boilerplate: the stubs and given code that every student starts from count for
nothing. Every pair of students is compared; ``reports/<assignment>-similarity.csv`` and ``.html``
list the pairs, most similar first (similarity of a pair: the mean of the two shares, the share of
each student's code found in the other's, so that two near-copies rank above a short answer that
happens to sit inside a longer one; both shares are listed).

It reads ``submitted/`` (notebooks opened without following links) and the release, and writes only
those two files: it never changes a score, never runs a notebook and needs no network. A high
similarity is a reason to look, not a verdict: a short answer can be written only a few ways.
"""
from __future__ import annotations

import csv
import html
import io
import itertools
import os
from pathlib import Path

import nbformat

from .prepare import read_submitted

FIELDS = ["rank", "student_a", "student_b", "similarity", "share_a", "share_b", "tokens_shared"]


def own_code(nb, release_sources: set[str]) -> str:
    """The code cells of ``nb`` a student wrote or edited (locked and unchanged released cells left out)."""
    parts = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or (isinstance(meta, dict) and meta.get("locked")):
            continue
        if cell.source in release_sources:
            continue
        parts.append(cell.source)
    return "\n\n".join(parts) + "\n"


def _code_cells(nb) -> set[str]:
    return {c.source for c in nb.cells if c.cell_type == "code"}


def student_code(submitted: Path, release: Path, assignment: str) -> tuple[dict[str, str], str]:
    """Student -> the code they wrote in ``assignment`` (all its notebooks), and the release's code."""
    releases = {p.name: nbformat.read(p, as_version=4) for p in sorted(release.glob("*.ipynb"))}
    boilerplate = "\n\n".join(c.source for nb in releases.values() for c in nb.cells if c.cell_type == "code")
    out = {}
    if not submitted.is_dir():
        return out, boilerplate
    for folder in sorted(submitted.iterdir()):
        work = folder / assignment
        if folder.is_symlink() or not work.is_dir() or work.is_symlink():
            continue
        code = []
        for name, release_nb in releases.items():
            try:
                nb = nbformat.reads(read_submitted(work / name), as_version=4, capture_validation_error={})
            except (OSError, ValueError, AttributeError):   # missing, a link or not a notebook: nothing to compare
                continue
            code.append(own_code(nb, _code_cells(release_nb)))
        if code:
            out[folder.name] = "\n".join(code)
    return out, boilerplate


def fingerprint(name: str, code: str, boilerplate_hashes=None):
    from copydetect import CodeFingerprint, defaults

    k = defaults.NOISE_THRESHOLD
    window = defaults.GUARANTEE_THRESHOLD - defaults.NOISE_THRESHOLD + 1
    return CodeFingerprint(f"{name}.py", k, window, boilerplate=boilerplate_hashes, language="python",
                           fp=io.StringIO(code))


def similar_pairs(code: dict[str, str], boilerplate: str) -> list[dict]:
    """Every pair of students, most similar first (rows of ``FIELDS``)."""
    os.environ.setdefault("MPLBACKEND", "Agg")   # copydetect imports matplotlib's pyplot
    from copydetect import compare_files

    base = list(fingerprint("release", boilerplate).hashes) if boilerplate.strip() else []
    prints = {student: fingerprint(student, text, base) for student, text in code.items()}
    pairs = []
    for a, b in itertools.combinations(sorted(prints), 2):
        if prints[a].token_coverage == 0 or prints[b].token_coverage == 0:
            shared, (share_a, share_b) = 0, (0.0, 0.0)
        else:
            shared, (share_a, share_b), _ = compare_files(prints[a], prints[b])
        pairs.append({"student_a": a, "student_b": b, "similarity": round(float(share_a + share_b) / 2, 4),
                      "share_a": round(float(share_a), 4), "share_b": round(float(share_b), 4),
                      "tokens_shared": int(shared)})
    pairs.sort(key=lambda p: (-p["similarity"], -p["tokens_shared"], p["student_a"], p["student_b"]))
    for rank, pair in enumerate(pairs, 1):
        pair["rank"] = rank
    return pairs


def write_report(course: Path, assignment: str, pairs: list[dict], top: int | None = None) -> tuple[Path, Path]:
    """``reports/<assignment>-similarity.csv`` (every pair) and ``.html`` (the ``top`` pairs)."""
    reports = Path(course) / "reports"
    reports.mkdir(exist_ok=True)
    csv_path, html_path = reports / f"{assignment}-similarity.csv", reports / f"{assignment}-similarity.html"
    with open(csv_path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows({k: p[k] for k in FIELDS} for p in pairs)
    shown = pairs[:top] if top else pairs
    rows = "\n".join(
        f"<tr><td>{p['rank']}</td><td>{html.escape(p['student_a'])}</td><td>{html.escape(p['student_b'])}</td>"
        f"<td>{p['similarity']:.0%}</td><td>{p['share_a']:.0%}</td><td>{p['share_b']:.0%}</td>"
        f"<td>{p['tokens_shared']}</td></tr>" for p in shown)
    html_path.write_text(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>Similarity: {html.escape(assignment)}</title>"
        "<style>body{font-family:sans-serif}td,th{padding:2px 10px;text-align:right}"
        "td:nth-child(2),td:nth-child(3){text-align:left}</style></head><body>\n"
        f"<h1>Similarity of the code handed in for {html.escape(assignment)}</h1>\n"
        f"<p>{len(pairs)} pairs of students, the {len(shown)} most similar shown. Similarity: the share of one "
        "student's own code (the released notebook's code left out, names and literals normalised) found in the "
        "other's; the mean of the two shares. A reason to look at both notebooks, not a verdict. "
        "Scores are not affected.</p>\n"
        "<table><thead><tr><th>rank</th><th>student</th><th>student</th><th>similarity</th><th>share of first</th>"
        "<th>share of second</th><th>tokens shared</th></tr></thead><tbody>\n"
        f"{rows}\n</tbody></table></body></html>\n", encoding="utf-8")
    return csv_path, html_path


def similarity_report(course: Path, coursedir, assignment: str, top: int | None = 50) -> tuple[Path, Path, list[dict]]:
    """Compare every pair of submissions of ``assignment``; write the report; return its files and pairs."""
    submitted = Path(coursedir.root) / coursedir.submitted_directory
    release = Path(coursedir.format_path(coursedir.release_directory, ".", assignment))
    if not release.is_dir():
        raise SystemExit(f"no released notebooks of {assignment} in {release}: expected the student version there")
    code, boilerplate = student_code(submitted, release, assignment)
    pairs = similar_pairs(code, boilerplate)
    csv_path, html_path = write_report(course, assignment, pairs, top)
    return csv_path, html_path, pairs
