"""Regrading after a fix: which students' scores a grading run changed, from -> to.

``grade`` reads the assignment's previous report (``reports/<assignment>.json``) before it grades
and, after it has written the new one, writes ``reports/<assignment>-changes.csv``: one row per
student whose score or pending points differ between the two (students graded for the first time
are not changes). With the reference answers changed (a fixed hidden test, a new tolerance), every
submission is graded again, so the file lists everyone the fix affected.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

FIELDS = ["student", "score_before", "score_after", "change", "pending_before", "pending_after", "max_score"]


def previous_rows(course: Path, assignment: str) -> dict[str, dict]:
    """Student -> row of the assignment's last report (empty when there is none or it cannot be read)."""
    path = Path(course) / "reports" / f"{assignment}.json"
    try:
        return {row["student"]: row for row in json.loads(path.read_text())}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def score_changes(before: dict[str, dict], after: list[dict]) -> list[dict]:
    """Rows of ``FIELDS`` for every student in both reports whose score or pending points changed."""
    out = []
    for row in sorted(after, key=lambda r: r["student"]):
        old = before.get(row["student"])
        if old is None:
            continue
        if float(old["score"]) != float(row["score"]) or float(old.get("pending", 0)) != float(row.get("pending", 0)):
            out.append({"student": row["student"], "score_before": float(old["score"]),
                        "score_after": float(row["score"]),
                        "change": round(float(row["score"]) - float(old["score"]), 6),
                        "pending_before": float(old.get("pending", 0)), "pending_after": float(row.get("pending", 0)),
                        "max_score": float(row["max_score"])})
    return out


def write_changes(course: Path, assignment: str, before: dict[str, dict], after: list[dict]) -> tuple[Path, list[dict]]:
    """Write ``reports/<assignment>-changes.csv`` (a header only when nothing changed); return it and its rows."""
    rows = score_changes(before, after)
    path = Path(course) / "reports" / f"{assignment}-changes.csv"
    path.parent.mkdir(exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return path, rows
