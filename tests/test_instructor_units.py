"""The instructor's tools on small data, without grading: sanitiser, changes, LMS rows, similarity."""
import nbformat
import pytest

from rnncourse.autograder.changes import score_changes
from rnncourse.autograder.export import Cell, canvas_rows, export_lms, moodle_rows
from rnncourse.autograder.sanitize import clean_html, sanitize_markdown, sanitize_notebook
from rnncourse.autograder.similarity import own_code, similar_pairs

PLANTED = ('<script>alert(1)</script><img src="x" onerror="alert(2)"><a href="javascript:alert(3)">a</a>'
           '<svg onload="alert(4)"></svg><b>bold</b> <a href="https://example.org">ok</a>')


def test_clean_html_escapes_script_and_drops_handlers_and_javascript_urls():
    out = clean_html(PLANTED)
    assert "<script" not in out and "&lt;script&gt;" in out
    assert "onerror" not in out and "javascript:" not in out and "<svg" not in out
    assert "<b>bold</b>" in out and 'href="https://example.org"' in out


def test_student_markdown_is_cleaned_once_for_all_and_shows_no_remote_image():
    text = 'a < b & c <script>x()</script> ![pixel](http://example.org/p.png) ![mine](attachment:p.png)'
    once = sanitize_markdown(text)
    assert sanitize_markdown(once) == once, "the feedback cleans autograded/'s copy again: no change"
    assert "<script" not in once and "!\\[pixel]" in once and "![mine](attachment:p.png)" in once
    assert sanitize_markdown("grows for $s > \\sqrt 2$, and $a < b$") == "grows for $s > \\sqrt 2$, and $a < b$"


def test_sanitize_notebook_cleans_student_markdown_and_outputs_and_keeps_the_course_text():
    course_text = "Compare $a < b$ and `x<y`"
    output = nbformat.v4.new_output("display_data", data={"text/html": PLANTED, "application/javascript": "alert(5)",
                                                          "image/svg+xml": "<svg onload='alert(6)'/>"})
    only_js = nbformat.v4.new_output("display_data", data={"application/javascript": "alert(7)"})
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(course_text),
                                         nbformat.v4.new_markdown_cell(PLANTED),
                                         nbformat.v4.new_code_cell("x = 1", outputs=[output, only_js])])
    sanitize_notebook(nb, trusted={course_text})
    assert nb.cells[0].source == course_text
    assert "<script" not in nb.cells[1].source and "onerror" not in nb.cells[1].source
    first, second = nb.cells[2].outputs
    assert set(first.data) == {"text/html", "text/plain"} and "<script" not in first.data["text/html"]
    assert set(second.data) == {"text/plain"} and "removed" in second.data["text/plain"]


def test_score_changes_lists_only_students_whose_score_or_pending_points_changed():
    before = {"a": {"student": "a", "score": 5.0, "pending": 3.0}, "b": {"student": "b", "score": 8.0, "pending": 0}}
    after = [{"student": "a", "score": 7.0, "pending": 0.0, "max_score": 13.0},
             {"student": "b", "score": 8.0, "pending": 0.0, "max_score": 13.0},
             {"student": "new", "score": 1.0, "pending": 0.0, "max_score": 13.0}]
    rows = score_changes(before, after)
    assert [(r["student"], r["score_before"], r["score_after"], r["change"]) for r in rows] == [("a", 5.0, 7.0, 2.0)]


def test_lms_rows_one_column_per_assignment_and_pending_never_final():
    assignments = [("ch01", 18.0), ("ch06", 13.0)]
    students = [("ann", "Ann", "Lee"), ("ben", "", "")]
    cells = {("ann", "ch01"): Cell(18.0, 0.0, True), ("ann", "ch06"): Cell(10.0, 3.0, True),
             ("ben", "ch01"): Cell(9.5, 0.0, True)}
    rows, empty = canvas_rows(assignments, students, cells)
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "ch01", "ch06"]
    assert rows[1] == ["Points Possible", "", "", "", "", "18", "13"]
    assert rows[2] == ["Lee, Ann", "", "", "ann", "", "18", ""] and rows[3] == ["ben", "", "", "ben", "", "9.5", "0"]
    assert empty == ["ann / ch06: 3 points pending a person's grade"]
    rows = moodle_rows(assignments, students, cells)
    assert rows[0] == ["Username", "First name", "Last name", "ch01", "ch01 feedback", "ch06", "ch06 feedback"]
    assert rows[1][5:] == ["10", "pending: 3 of 13 points to be graded by a person"]
    assert rows[2][5:] == ["0", "no submission"]


def test_export_refuses_an_unknown_lms(tmp_path):
    with pytest.raises(ValueError, match="expected an LMS in"):
        export_lms(f"sqlite:///{tmp_path / 'gradebook.db'}", "blackboard", tmp_path / "x.csv")


def test_similarity_ranks_a_renamed_copy_first_and_ignores_the_release():
    stub = "def area(w, h):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
    original = ("def area(w, h):\n    total = 0\n    for i in range(w):\n        for j in range(h):\n"
                "            total += 1 if (i + j) % 2 == 0 else 2\n    return total / (w * h)\n")
    renamed = "# my own work\n" + original.replace("total", "acc").replace(" i ", " k ").replace("(i ", "(k ")
    other = "def area(w, h):\n    import math\n    return float(math.prod([w, h])) ** 0.5 - min(w, h) / max(w, h)\n"
    pairs = similar_pairs({"ann": original, "ben": renamed, "cat": other, "dan": stub}, stub)
    assert {pairs[0]["student_a"], pairs[0]["student_b"]} == {"ann", "ben"} and pairs[0]["similarity"] > 0.8
    assert all(p["similarity"] < 0.5 for p in pairs[1:]), pairs
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(stub), nbformat.v4.new_code_cell(original)])
    assert own_code(nb, {stub}).strip() == original.strip()
