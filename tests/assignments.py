"""What the grading tests need to know about each graded notebook.

``independent_part``: a part that no other part depends on.  The grading tests
break it on purpose and expect exactly the other parts' points.
"""
ASSIGNMENTS = {
    "ch01_rnn_basics": {"independent_part": "param_count"},
}
