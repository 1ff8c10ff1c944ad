"""The late-work policy: a share of a notebook's maximum points per started day, never more than it earned."""
import pytest

from rnncourse.autograder.late import DAY, penalty, readable


def test_each_started_day_costs_a_share_of_the_maximum_points():
    assert penalty(20, 15, 0) == 0 and penalty(20, 15, -5) == 0
    assert penalty(20, 15, 1) == pytest.approx(2.0)             # one second late: one started day
    assert penalty(20, 15, DAY) == pytest.approx(2.0)
    assert penalty(20, 15, DAY + 1) == pytest.approx(4.0)
    assert penalty(20, 3, 5 * DAY) == 3                          # never more than the points earned
    assert penalty(20, 20, 30 * DAY, max_percent=50) == 10       # capped
    assert penalty(20, 20, 60, grace_seconds=300) == 0           # within the grace period


def test_late_by_is_readable():
    assert readable(0) == "" and readable(59.6) == "00:01:00"
    assert readable(93784) == "1 d 02:03:04"
