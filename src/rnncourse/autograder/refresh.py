"""After a person grades in the formgrader: report rows and feedback pages read again from the gradebook.

nbgrader's formgrader writes a person's score and comment straight into the gradebook; no grading
run sees them. ``refresh`` re-reads the gradebook for every graded submission of an assignment
(no kernel, no sandbox: seconds for a class) and updates:

* the report row: score, points still ``pending``, ``needs_review`` (true while there are flags or
  pending points); flags, repairs and time stay as the grading run left them;
* the feedback page, rendered again when the grades or comments it shows changed, so a student
  sees the person's score and comment;
* the grading state of the submission (``.grading/<assignment>/graded/<student>.json``), so a later
  ``grade`` run reports the same rows.

``python -m rnncourse.autograder reports <assignment>`` runs it and rewrites ``reports/`` and
``grades.csv``; ``grade`` runs it for the submissions it does not grade again.
"""
from __future__ import annotations

import json
from pathlib import Path

from nbgrader.api import Gradebook

from . import feedback as feedback_files
from .writer import GradingState, db_url_of


def grades_stamp(grades: dict[str, dict]) -> str:
    """What a feedback page shows of the gradebook (notebook -> grade_id -> grade), as a comparable string."""
    return json.dumps(grades, sort_keys=True)


def _touched(grades: dict[str, dict]) -> bool:
    """Whether a person graded or commented any part."""
    return any(g.get("manual") or g.get("comment") for nb in grades.values() for g in nb.values())


def refresh(course: Path, config, coursedir, assignment: str, students: list[str] | None = None,
            feedback: bool = True) -> dict[str, dict]:
    """Student -> report row, read again from the gradebook, for the graded ``students`` (default: all)."""
    workdir = Path(course) / ".grading" / assignment
    state = GradingState(workdir / "graded")
    db_url = db_url_of(Path(course), config)
    names = students if students is not None else sorted(p.stem for p in state.folder.glob("*.json"))
    with Gradebook(db_url) as gb:   # one gradebook for the whole class
        return _refresh(gb, course, coursedir, assignment, names, state, workdir, db_url, feedback)


def _refresh(gb, course, coursedir, assignment, names, state, workdir, db_url, feedback) -> dict[str, dict]:
    rows = {}
    for student in names:
        record = state.load(student)
        if not record or "row" not in record:
            continue
        _, score, max_score, grades = feedback_files.grades_in(gb, assignment, student)
        pending, parts = feedback_files.pending_points(grades)
        row = dict(record["row"])
        row.update(score=score, max_score=max_score, pending=pending,
                   needs_review=bool(row.get("flags")) or pending > 0)
        stamp = grades_stamp(grades)
        shown = record.get("feedback_grades")
        stale = shown != stamp if shown is not None else _touched(grades)
        if feedback and record.get("success") and record.get("feedback") and stale:
            feedback_files.write_feedback(Path(course), coursedir, db_url, workdir / "results", assignment, student,
                                          None, grades)
            shown = stamp
        if record.get("row") != row or record.get("feedback_grades") != (shown or stamp):
            record.update(row=row, pending_parts=parts, feedback_grades=shown or stamp)
            state.save(student, record)
        rows[student] = row
    return rows
