"""Grades for an LMS: one row per student, one column per assignment, read from the gradebook.

    python -m rnncourse.autograder export --lms canvas [--out grades-canvas.csv]
    python -m rnncourse.autograder export --lms moodle [--out grades-moodle.csv]

Points are the gradebook's (autograded, plus a person's grades from the formgrader, less the late
penalty, as in nbgrader's ``grades.csv``), out of the assignment's total. A submission with parts
still waiting for a person's grade is never exported as if it were final:

* **canvas** (the layout of a Canvas gradebook export, which Canvas imports back): columns
  ``Student, ID, SIS User ID, SIS Login ID, Section`` then one ``<assignment>`` column each; the
  second row is ``Points Possible`` with each assignment's total. Students are matched on
  ``SIS Login ID``, which holds the nbgrader student id (``ID`` and ``SIS User ID`` are left empty:
  Canvas fills them in). Canvas creates an assignment for a column it does not know yet. A cell is
  left empty while the submission has pending points (Canvas leaves an empty cell ungraded), and
  the command lists those cells; no submission at all is 0.
* **moodle** (Moodle's "Import grades from CSV", where each column is mapped to a grade item or
  its feedback): ``Username, First name, Last name`` then ``<assignment>`` and
  ``<assignment> feedback`` per assignment; the feedback says "pending: N of M points to be
  graded by a person" and the grade holds the points graded so far.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook

CANVAS_IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_IDENTITY = ["Username", "First name", "Last name"]
LMS = ("canvas", "moodle")


@dataclass
class Cell:
    score: float
    pending: float
    submitted: bool


def gradebook_table(db_url: str) -> tuple[list[tuple[str, float]], list[tuple[str, str, str]], dict]:
    """Assignments (name, total points), students (id, first, last), and (student, assignment) -> ``Cell``."""
    with Gradebook(db_url) as gb:
        assignments = [(a.name, float(a.max_score)) for a in sorted(gb.assignments, key=lambda a: (a.duedate is None,
                                                                                                   a.duedate, a.name))]
        students = [(s.id, s.first_name or "", s.last_name or "") for s in sorted(gb.students, key=lambda s: s.id)]
        cells = {}
        for name, _ in assignments:
            for submission in gb.find_assignment(name).submissions:
                pending = sum(float(g.max_score or 0) for nb in submission.notebooks for g in nb.grades
                              if g.needs_manual_grade and g.manual_score is None)
                penalty = float(submission.late_submission_penalty or 0)   # late work, as nbgrader's grades.csv
                cells[(submission.student.id, name)] = Cell(max(float(submission.score) - penalty, 0.0), pending, True)
    return assignments, students, cells


def _points(value: float) -> str:
    return f"{value:g}"


def canvas_rows(assignments, students, cells) -> tuple[list[list[str]], list[str]]:
    """The Canvas CSV's rows (header, Points Possible, one per student) and the cells left empty, with why."""
    rows = [CANVAS_IDENTITY + [name for name, _ in assignments],
            ["Points Possible", "", "", "", ""] + [_points(total) for _, total in assignments]]
    empty = []
    for sid, first, last in students:
        row = [f"{last}, {first}" if last and first else (last or first or sid), "", "", sid, ""]
        for name, _ in assignments:
            cell = cells.get((sid, name))
            if cell is None:
                row.append("0")
            elif cell.pending:
                row.append("")
                empty.append(f"{sid} / {name}: {cell.pending:g} points pending a person's grade")
            else:
                row.append(_points(cell.score))
        rows.append(row)
    return rows, empty


def moodle_rows(assignments, students, cells) -> list[list[str]]:
    """The Moodle CSV's rows (header, one per student)."""
    header = list(MOODLE_IDENTITY)
    for name, _ in assignments:
        header += [name, f"{name} feedback"]
    rows = [header]
    for sid, first, last in students:
        row = [sid, first, last]
        for name, total in assignments:
            cell = cells.get((sid, name))
            if cell is None:
                row += ["0", "no submission"]
            elif cell.pending:
                row += [_points(cell.score), f"pending: {cell.pending:g} of {total:g} points to be graded by a person"]
            else:
                row += [_points(cell.score), ""]
        rows.append(row)
    return rows


def export_lms(db_url: str, lms: str, out: Path) -> tuple[Path, list[str]]:
    """Write the ``lms`` CSV to ``out``; return it and the notes on cells left for later (Canvas)."""
    if lms not in LMS:
        raise ValueError(f"expected an LMS in {LMS}, got {lms!r}")
    table = gradebook_table(db_url)
    notes = []
    if lms == "canvas":
        rows, notes = canvas_rows(*table)
    else:
        rows = moodle_rows(*table)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return out, notes
