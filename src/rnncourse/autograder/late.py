"""The course's late-work policy, as an nbgrader late-submission plugin.

Each started day after the assignment's due date (nbgrader's ``duedate`` in the gradebook)
costs ``percent_per_day`` percent of the notebook's *maximum* points, up to
``max_percent``, never more than the points earned; a submission less than
``grace_seconds`` late costs nothing. The penalty depends on the maximum, not on the
points earned so far, so a person grading a written answer later does not change it.
The submission time is the one the course's ``collect`` recorded (the file system's,
never the student's ``timestamp.txt``).

Set in ``nbgrader_config.py``::

    c.AssignLatePenalties.plugin_class = "rnncourse.autograder.late.PercentPerDay"
    c.PercentPerDay.percent_per_day = 10
"""
from __future__ import annotations

import math

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float

DAY = 24 * 3600


def penalty(max_score: float, score: float, seconds_late: float, percent_per_day: float = 10.0,
            max_percent: float = 100.0, grace_seconds: float = 0.0) -> float:
    """Points taken off a notebook handed in ``seconds_late`` seconds after the due date."""
    if seconds_late <= grace_seconds or seconds_late <= 0:
        return 0.0
    days = math.ceil(seconds_late / DAY)
    return round(min(score, max_score * min(max_percent, days * percent_per_day) / 100), 6)


def readable(seconds: float) -> str:
    """``93784`` -> ``"1 d 02:03:04"``; ``0`` -> ``""`` (on time)."""
    if not seconds or seconds <= 0:
        return ""
    seconds = int(round(seconds))
    days, rest = divmod(seconds, DAY)
    clock = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return f"{days} d {clock}" if days else clock


class PercentPerDay(LateSubmissionPlugin):
    """``percent_per_day`` percent of a notebook's points for each started day late (see the module)."""

    percent_per_day = Float(10.0, help="percent of the notebook's points per started day late").tag(config=True)
    max_percent = Float(100.0, help="the most a late notebook can lose, in percent of its points").tag(config=True)
    grace_seconds = Float(0.0, help="a submission at most this late costs nothing").tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float:
        step = self.parent   # nbgrader's AssignLatePenalties, which holds the notebook's gradebook entry open
        notebook = step.gradebook.find_submission_notebook(step.notebook_id, step.assignment_id, student_id)
        return penalty(notebook.max_score, score, total_seconds_late, self.percent_per_day, self.max_percent,
                       self.grace_seconds)
