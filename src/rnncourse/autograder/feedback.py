"""Feedback that teaches without revealing hidden tests.

nbgrader's ``generate_feedback`` renders the autograded notebook, hidden test
source, grading tracebacks and all.  ``write_feedback`` renders instead a
notebook built from trusted parts only:

* the student's own cells, with the outputs of the *submitted* notebook (never
  outputs of the grading run: student code called by a hidden test could have
  printed the test's inputs);
* every locked cell with its *released* source (a hidden test cell shows only its
  released placeholder);
* under each test cell, text the grader writes: its name, points, passed or not,
  and the messages of the trusted answer check; for a hidden test that failed
  without such a message, only the class of the exception the code raised;
* a part that a person grades (a written answer) is shown as pending, not as 0.

What counts as hidden: a test cell whose graded source differs from the
release's, or that holds a ``BEGIN HIDDEN TESTS`` region.  The instructor's
``autograded/`` notebooks are untouched.

Trusted messages come from ``RecordingVerify``: the answer check of ``verify``
that also records, for each test cell, its messages and the (whitelisted) class
names of the errors raised. A grading worker (which may run on another machine)
hands them back with its result; the writer stores them with ``save_records`` in
``record_dir/<student>/<notebook>.json``, where the kernel cannot write.
"""
from __future__ import annotations

import builtins
import copy
import html
import json
import re
import shutil
import threading
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbgrader.api import Gradebook, MissingEntry
from traitlets import Unicode

from .repair import repair
from .sanitize import sanitize_markdown
from .strip import strip_source
from .verify import VerifyAnswers

HIDDEN_MARK = "BEGIN HIDDEN TESTS"
NO_ANSWER = "no answer was recorded"
GRADER_FIRST_LINE = "AnswerCheckFailed: the grader recomputed"
# Exception class names that may be shown: the builtin ones and the grader's own. A class the
# student defined could carry anything in its name, so it is shown only as "an exception".
SAFE_ERRORS = {name for name, value in vars(builtins).items()
               if isinstance(value, type) and issubclass(value, BaseException)} | {"CellTimeoutError",
                                                                                    "DeadKernelError"}


def _gid(cell) -> str | None:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta.get("grade_id") if isinstance(meta, dict) else None


def _is_test(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


class RecordingVerify(VerifyAnswers):
    """``VerifyAnswers`` that also records each test cell's grader messages and error classes.

    The record (grade_id -> {"grader": [...], "raised": [...]}) is left in
    ``resources["rnncourse_test_results"]``, and written to
    ``record_dir/<student>/<notebook>.json`` when ``record_dir`` is set.
    """

    record_dir = Unicode("", help="folder for <student>/<notebook>.json records of test results").tag(config=True)

    def preprocess(self, nb, resources):
        before = {i: len(c.get("outputs", [])) for i, c in enumerate(nb.cells)}
        nb, resources = super().preprocess(nb, resources)
        record = {}
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or not _is_test(cell):
                continue
            added = len(cell.outputs) - before[index]  # VerifyAnswers inserts its output first
            grader = [line.strip() for out in cell.outputs[:added] for line in out.get("traceback", [])[1:]]
            raised = [out.get("ename", "") for out in cell.outputs[added:] if out.get("output_type") == "error"]
            record[_gid(cell)] = {"grader": grader,
                                  "raised": [name if name in SAFE_ERRORS else "an exception" for name in raised]}
        resources["rnncourse_test_results"] = record
        if not self.record_dir:
            return nb, resources
        info = resources.get("nbgrader", {})
        name = info.get("notebook") or resources.get("unique_key", "notebook")
        target = Path(self.record_dir) / info.get("student", "unknown") / f"{name}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(record))
        return nb, resources


def save_records(record_dir: Path, student: str, records: dict[str, dict]) -> None:
    """Store a submission's test results (notebook name -> record of ``RecordingVerify``), replacing older ones."""
    folder = Path(record_dir) / student
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name, record in records.items():
        if "/" in name or name.startswith("."):
            raise ValueError(f"expected a notebook name, got {name!r}")
        (folder / f"{name}.json").write_text(json.dumps(record))


def load_records(record_dir: Path, student: str) -> dict[str, dict]:
    """The test results ``save_records`` stored for ``student`` (notebook name -> record)."""
    folder = Path(record_dir) / student
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))} if folder.is_dir() else {}


def _grades(notebook) -> dict[str, dict]:
    """grade_id -> {score, max_score, pending, manual, comment} of a gradebook notebook (pending: waits for a
    person; manual: a person's score; comment: a person's comment, or None)."""
    comments = {c.name: c.manual_comment or None for c in notebook.comments}
    return {g.name: {"score": float(g.score or 0), "max_score": float(g.max_score or 0),
                     "pending": bool(g.needs_manual_grade) and g.manual_score is None,
                     "manual": g.manual_score is not None, "comment": comments.get(g.name)}
            for g in notebook.grades}


def grades_of(db_url: str, assignment: str, student: str, notebook: str) -> dict[str, dict]:
    """grade_id -> {score, max_score, pending} of one notebook, from the gradebook."""
    with Gradebook(db_url) as gb:
        try:
            return _grades(gb.find_submission_notebook(notebook, assignment, student))
        except MissingEntry:
            return {}


def grades_in(gb: Gradebook, assignment: str, student: str):
    """One read of an open gradebook ``gb``: the submission (None when there is none), its score, its maximum,
    and notebook name -> ``grades_of``."""
    try:
        submission = gb.find_submission(assignment, student)
    except MissingEntry:
        return None, 0.0, gb.find_assignment(assignment).max_score, {}
    return (submission, submission.score, submission.max_score,
            {nb.name: _grades(nb) for nb in submission.notebooks})


def pending_points(grades: dict[str, dict]) -> tuple[float, list[str]]:
    """Points that wait for a person's grade, and the parts they belong to (``grades``: notebook -> grades)."""
    parts = [(gid, grade["max_score"]) for notebook in grades.values() for gid, grade in notebook.items()
             if grade["pending"]]
    return sum(p for _, p in parts), [gid for gid, _ in parts]


def _text(text: str) -> NotebookNode:
    return nbformat.v4.new_output("stream", name="stdout", text=text)


PROBLEMS = [("no answer", NO_ANSWER), ("shape", "the answer has the wrong shape"),
            ("NaN", "NaN or infinity where a finite value was expected"),
            ("differ", "values differ from the expected answer"), ("instead of", "the answer has the wrong type"),
            ("mean squared error", "the predictions' error is above the limit"),
            ("finite", "predictions must be finite numbers")]


def _plain(problem: str) -> str:
    """The kind of problem the answer check found, without the numbers in its message.

    Shapes, dtypes and errors of a submitted value are the student's to choose: code that
    saw a hidden test's inputs could encode them there."""
    return next((text for word, text in PROBLEMS if word in problem), "the answer does not match")


def _public_cases(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        key, _, problem = line.partition(": ")
        out.append(f"{key}: {_plain(problem)}")
    return out


def _hidden_cases(lines: list[str]) -> list[str]:
    """The answer check's lines for a hidden test, each case named only by words.

    A line reads ``<grade_id>/<case>: <problem>``. A case name made of letters and
    underscores ("longer_sequence_relu") says what kind of case failed; one with
    digits could spell out hidden inputs ("I65_H128"), so it becomes "hidden case N".
    """
    out = []
    for number, line in enumerate(lines, 1):
        key, _, problem = line.partition(": ")
        case = key.split("/", 1)[-1]
        label = case.replace("_", " ") if re.fullmatch(r"[A-Za-z_]{1,60}", case) else f"hidden case {number}"
        out.append(f"{label}: {_plain(problem)}")
    return out


def _result_text(gid: str, grade: dict | None, hidden: bool, record: dict, kind: str = "") -> str:
    kind = kind or ("hidden test" if hidden else "test")
    if grade is None:
        return f"{kind} {gid}: not graded\n"
    points = f"{grade['score']:g} / {grade['max_score']:g} points"
    comment = [f"  {line}" for line in (grade.get("comment") or "").strip().splitlines()]
    if grade["pending"]:
        return f"{kind} {gid}: pending, {grade['max_score']:g} points to be graded by a person\n"
    if grade.get("manual"):
        return "\n".join([f"{kind} {gid}: graded by a person, {points}"]
                         + (["Comment:"] + comment if comment else [])) + "\n"
    passed = grade["score"] >= grade["max_score"] > 0 or (grade["max_score"] == 0 and not record.get("raised"))
    lines = [f"{kind} {gid}: {'passed' if passed else 'failed'}, {points}"]
    grader = record.get("grader", [])
    raised = [name for name in record.get("raised", []) if name != "AnswerCheckFailed"]
    grader = _hidden_cases(grader) if hidden else _public_cases(grader)
    if hidden:
        if raised and all(line.endswith(NO_ANSWER) for line in grader):
            grader = []  # the exception says it: no answers because the code raised
    if grader:
        lines.append("The grader checked your answers outside your notebook:")
        lines += [f"  {line}" for line in grader]
    if comment:
        lines += ["Comment:"] + comment
    if not passed and raised:
        name = raised[0]
        if name == "KeyboardInterrupt":
            lines.append("your code ran past the time limit" + (" on a hidden case" if hidden else ""))
        elif hidden:
            lines.append(f"your code raised {name} on a hidden case")
        elif not grader:
            lines.append(f"this test raised {name}: run it in your notebook to see the message")
    return "\n".join(lines) + "\n"


def scrub(autograded: NotebookNode, submitted: NotebookNode | None, release: NotebookNode,
          grades: dict[str, dict], records: dict[str, dict]) -> NotebookNode:
    """The feedback notebook: submitted cells and outputs, released sources, grader-written results."""
    released = {_gid(c): c for c in release.cells if _gid(c)}
    course_text = {c.source for c in release.cells if c.cell_type in ("markdown", "raw")}
    own, by_source = {}, {}
    if submitted is not None:
        for cell in submitted.cells:
            own.setdefault(cell.get("id"), cell)
            by_source.setdefault(cell.get("source", ""), cell)  # where ids were made up on reading
    cells = []
    summary = []
    for cell in autograded.cells:
        gid = _gid(cell)
        meta = cell.get("metadata", {}).get("nbgrader", {}) if gid else {}
        original = released.get(gid)
        mine = own.get(cell.get("id"))
        if mine is None or mine.get("source") != cell.get("source"):
            mine = by_source.get(cell.get("source", ""))
        if original is not None and (meta.get("locked") or _is_test(cell)):
            new = nbformat.from_dict({k: v for k, v in original.items() if k not in ("outputs", "execution_count")})
            if new.cell_type == "code":
                new["outputs"], new["execution_count"] = [], None
            # the graded test ran without its expected values (strip.py): compare it stripped too
            hidden = HIDDEN_MARK in cell.source or (strip_source(cell.source).strip()
                                                    != strip_source(original.source).strip())
        elif gid and original is None:
            continue  # a graded cell the release does not have: nothing of it is shown
        else:
            new = nbformat.from_dict({k: v for k, v in cell.items() if k not in ("outputs", "execution_count")})
            if new.cell_type == "code":
                new["execution_count"] = None
                new["outputs"] = list(mine.get("outputs", [])) if (mine is not None and mine.get("cell_type") == "code"
                                                                   and mine.source == cell.source) else []
            if new.cell_type == "markdown" and mine is not None and "attachments" in mine:
                new["attachments"] = mine["attachments"]
            if new.cell_type in ("markdown", "raw") and new.source not in course_text:
                # the student's text, cleaned as the writer cleans autograded/ (the same page from either copy)
                new.source = sanitize_markdown(new.source)
            hidden = False
        new["metadata"] = NotebookNode()
        cells.append(new)
        if gid and meta.get("grade"):
            grade = grades.get(gid)
            text = _result_text(gid, grade, hidden, records.get(gid, {}), "" if _is_test(cell) else "answer")
            summary.append((gid, grade, hidden, text.splitlines()[0]))
            if new.cell_type == "code" and _is_test(cell):
                new["outputs"] = [_text(text)]
            else:
                lines = text.splitlines()
                first, rest = lines[0], lines[lines.index("Comment:"):] if "Comment:" in lines else []
                body = f"**{html.escape(first)}**" + "".join(f"\n>\n> {html.escape(line.strip())}" for line in rest)
                cells.append(nbformat.v4.new_markdown_cell(body, id=f"result-{len(cells)}"))
    header = ["| part | points | result |", "| --- | --- | --- |"]
    earned = total = pending = 0.0
    for gid, grade, hidden, line in summary:
        if grade is None:
            continue
        total += grade["max_score"]
        if grade["pending"]:
            pending += grade["max_score"]
            result = "pending (graded by a person)"
        else:
            earned += grade["score"]
            result = line.split(": ", 1)[1]
        header.append(f"| `{gid}`{' (hidden)' if hidden else ''} | {grade['max_score']:g} | {html.escape(result)} |")
    title = (f"# Feedback\n\nScore: **{earned:g} / {total:g}**"
             + (f", and {pending:g} points pending a person's grade" if pending else "") + "\n\n"
             "Hidden tests run other cases than the public ones; for them you see only whether they passed "
             "and what kind of case failed.\n\n")
    # fixed ids for the cells made here: the same grading gives the same feedback, byte for byte
    out = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(title + "\n".join(header),
                                                                        id="feedback-summary")] + cells)
    out.metadata = NotebookNode(kernelspec=release.metadata.get("kernelspec", {}),
                                language_info=release.metadata.get("language_info", {"name": "python"}))
    return out


_LOCAL = threading.local()


def render_html(nb: NotebookNode) -> str:
    """The page of ``nb``, safe to open: its outputs keep only inert data and every piece of markdown and HTML
    is cleaned after rendering (nbconvert's ``sanitize_html`` with the grader's allow-list, ``sanitize``)."""
    from nbconvert import HTMLExporter

    from .sanitize import ATTACHMENTS, clean_filter, sanitize_outputs

    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            sanitize_outputs(cell.get("outputs", []))
        if "attachments" in cell:
            cell.attachments = {name: {k: v for k, v in bundle.items() if k in ATTACHMENTS}
                                for name, bundle in cell.attachments.items()}
    exporter = getattr(_LOCAL, "exporter", None)
    if exporter is None:   # one per thread, its templates compiled once: a worker renders many pages
        exporter = _LOCAL.exporter = HTMLExporter(sanitize_html=True, filters={"clean_html": clean_filter})
    body, _ = exporter.from_notebook_node(nb)
    return body


def grades_from_cells(nb: NotebookNode) -> dict[str, dict]:
    """grade_id -> {score, max_score, pending} as nbgrader's ``SaveAutoGrades`` would store them
    for a first grading (no person's grade yet): the gradebook's ``grades_of``, without the gradebook."""
    from nbgrader import utils

    grades = {}
    for cell in nb.cells:
        if utils.is_grade(cell):
            auto, max_score = utils.determine_grade(cell)
            grades[_gid(cell)] = {"score": float(auto or 0), "max_score": float(max_score or 0),
                                  "pending": auto is None, "manual": False, "comment": None}
    return grades


def feedback_html(autograded: NotebookNode, submitted_text: str | None, release: NotebookNode,
                  grades: dict[str, dict], records: dict[str, dict]) -> str:
    """The feedback page of one notebook (``scrub`` rendered to HTML) from a submitted notebook's text."""
    submitted = None
    if submitted_text is not None:
        try:
            submitted = nbformat.reads(submitted_text, as_version=4, capture_validation_error={})
            repair(submitted, release)  # the same cell ids the graded copy got
        except Exception:  # noqa: BLE001 - without a readable submission, no outputs are shown
            submitted = None
    return render_html(scrub(autograded, submitted, release, grades, records))


def clear_feedback(coursedir, assignment: str, student: str) -> None:
    """Remove ``feedback/<student>/<assignment>/`` (a submission that could not be graded gets none)."""
    target = Path(coursedir.format_path(coursedir.feedback_directory, student, assignment))
    if target.exists():
        shutil.rmtree(target)


def write_feedback(course: Path, coursedir, db_url: str, record_dir: Path, assignment: str, student: str,
                   rendered: dict[str, dict] | None = None,
                   grades: dict[str, dict] | None = None) -> dict[Path, str]:
    """Write ``feedback/<student>/<assignment>/<notebook>.html`` for every graded notebook; return the files,
    each with who rendered it ("worker" or "writer").

    The student's feedback folder is emptied first: nothing but these files (and the submission's
    ``timestamp.txt``) is there afterwards. ``rendered``: notebook name -> {"grades", "html"}, pages a
    grading worker already rendered; one is used only when its grades are the gradebook's (a person's
    grade, for example, makes them differ), otherwise the page is rendered here. ``grades``: notebook
    name -> ``grades_of``, when the caller has just read them (default: read here).
    """
    def folder(step):
        return Path(coursedir.format_path(step, student, assignment))

    release_dir = Path(coursedir.format_path(coursedir.release_directory, ".", assignment))
    clear_feedback(coursedir, assignment, student)
    target = folder(coursedir.feedback_directory)
    target.mkdir(parents=True)
    written = {}
    for path in sorted(folder(coursedir.autograded_directory).glob("*.ipynb")):
        release_path = release_dir / path.name
        if not release_path.exists():
            continue
        known = grades.get(path.stem, {}) if grades is not None else grades_of(db_url, assignment, student,
                                                                                path.stem)
        ready = (rendered or {}).get(path.stem)
        by = "worker"
        if ready and ready.get("grades") == known and ready.get("html"):
            body = ready["html"]
        else:
            by = "writer"
            release = nbformat.read(release_path, as_version=4)
            autograded = nbformat.read(path, as_version=4)
            try:
                submitted_text = (folder(coursedir.submitted_directory) / path.name).read_text(encoding="utf-8")
            except (OSError, ValueError):
                submitted_text = None
            record_path = Path(record_dir) / student / f"{path.stem}.json"
            records = json.loads(record_path.read_text()) if record_path.exists() else {}
            body = feedback_html(autograded, submitted_text, release, known, records)
        out = target / f"{path.stem}.html"
        out.write_text(body, encoding="utf-8")
        written[out] = by
    stamp = folder(coursedir.submitted_directory) / "timestamp.txt"
    if stamp.is_file() and not stamp.is_symlink() and stamp.stat().st_size < 1024:
        shutil.copy(stamp, target / "timestamp.txt")
    return written


def configure(config, workdir: Path) -> None:
    """Use ``RecordingVerify`` in place of ``VerifyAnswers`` in ``config``'s autograde pipeline."""
    config.RecordingVerify.record_dir = str(Path(workdir) / "results")
    config.Autograde.autograde_preprocessors = [RecordingVerify if step is VerifyAnswers else step
                                                for step in config.Autograde.autograde_preprocessors]
