"""What one grading worker does with one submission: execute it in the sandbox and check its answers.

A worker never touches the gradebook, the course folder or the solutions. It gets a
``Task`` (the repaired and sanitized notebooks, the submission's other files with the
release's files over them, the reference answers, the settings) and hands back a
``Result`` (the executed and verified notebooks, their cell scores and trusted test
results, the rendered feedback pages, or the error that stopped them). Before the kernel starts, the expected
values are stripped from the test cells (``strip``), so the submission can neither
see nor recompute them. The same function runs in a local process pool or on a Dask worker on
another machine: everything it needs travels with the task.

Each task keeps its scratch files (working folder, the kernel's sockets and answers)
in one folder of its own, removed when the task ends.
"""
from __future__ import annotations

import os
import resource
import shutil
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

MAX_FILES_BYTES = 64 * 2**20   # the submission's other files travel with the task up to this size


@dataclass
class Task:
    """One submission, self-contained. ``notebooks``: notebook name (no suffix) -> sanitized notebook JSON."""

    assignment: str
    student: str
    notebooks: dict[str, str]
    files: dict[str, bytes] = field(default_factory=dict)        # relative path -> bytes (working folder)
    reference: dict[str, bytes] = field(default_factory=dict)    # relative path -> bytes (answers folder)
    settings: dict = field(default_factory=dict)                 # see worker_settings
    digests: dict[str, str] = field(default_factory=dict)        # notebook name -> digest of its sanitized cells
    scratch_root: str = ""                                       # where the task's scratch folder goes, if it exists
    error: str = ""                                              # set when the submission could not be prepared
    linked: bool = False                                         # a notebook is a link: nothing of it may be read
    repairs: list[str] = field(default_factory=list)             # "<notebook>: <what repair changed>"
    prepare_seconds: float = 0.0                                 # scanning the folder and making this task
    # for the feedback pages, rendered by the worker: name -> released notebook JSON, and -> the submitted
    # notebook's text as handed in (its outputs are what the feedback shows); empty: no feedback
    release: dict[str, str] = field(default_factory=dict)
    submitted: dict[str, str] = field(default_factory=dict)
    # name -> sources of the released notebook's markdown and raw cells: the course's own text, which the
    # autograded copy keeps as it is (every other markdown cell and every output is cleaned, sanitize.py)
    trusted: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Result:
    """What a worker hands back; ``error``: why it failed.

    ``notebooks``: name -> the notebook as ``autograded/`` keeps it (executed, verified, every test cell
    restored, cleaned of active markup, metadata cleared and outputs limited as nbgrader's autograde does);
    ``digests``: name -> ``cells_digest`` of the executed notebook (the writer checks it is the task's);
    ``gradebook``: name -> {"grades": grade_id -> auto score (None: a person grades it), "comments":
    grade_id -> auto comment}, the values nbgrader's ``SaveAutoGrades`` stores, computed from that notebook.
    """

    student: str
    notebooks: dict[str, str] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)
    gradebook: dict[str, dict[str, dict]] = field(default_factory=dict)
    # name -> grade_id -> {"grader": [...], "raised": [...]}: the trusted answer check's results (feedback)
    test_results: dict[str, dict[str, dict]] = field(default_factory=dict)
    # name -> {"grades": the cell grades it was rendered with, "html": the feedback page} (feedback.feedback_html)
    feedback: dict[str, dict] = field(default_factory=dict)
    error: str = ""
    seconds: float = 0.0
    host: str = ""
    pid: int = 0
    worker_peak_mb: float = 0.0    # peak resident memory of the worker process
    kernel_peak_mb: float = 0.0    # largest peak resident memory of its finished child processes (kernels)
    # where the seconds went (summed over the notebooks): scratch (task files written), strip, kernel_start
    # (sandbox and kernel process), kernel_ready, setup_cell (the imports), cells, kernel_stop, verify
    # (answers checked outside the kernel, with nbgrader's IgnorePattern), feedback (pages rendered),
    # autograded_copy (the notebook autograded/ keeps and its gradebook values)
    phases: dict[str, float] = field(default_factory=dict)


SECTIONS = ("Execute", "SandboxedExecute", "IgnorePattern", "VerifyAnswers", "ClearMetadataPreprocessor",
            "LimitOutput")


def worker_settings(config) -> dict:
    """The plain-data part of ``config`` that the execute-and-check preprocessors read."""
    return {section: {key: value for key, value in config[section].items()}
            for section in SECTIONS if section in config}


def worker_config(settings: dict):
    """A traitlets Config for the execute-and-check preprocessors from ``worker_settings``."""
    from traitlets.config import Config

    config = Config()
    for section, values in settings.items():
        for key, value in values.items():
            setattr(config[section], key, value)
    return config


def gradebook_values(nb) -> dict[str, dict]:
    """What nbgrader's ``SaveAutoGrades`` stores for ``nb``: each grade cell's auto score (``None``: graded by
    a person) and each solution or task cell's auto comment ("No response." when left as released)."""
    from nbgrader import utils

    grades, comments = {}, {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if utils.is_grade(cell):
            grades[meta["grade_id"]] = utils.determine_grade(cell)[0]
        if utils.is_solution(cell) or utils.is_task(cell):
            unchanged = meta.get("checksum") == utils.compute_checksum(cell) and not utils.is_task(cell)
            comments[meta["grade_id"]] = "No response." if unchanged else None
    return {"grades": grades, "comments": comments}


def autograded_copy(nb, name: str, task: Task, config) -> str:
    """``nb`` (changed in place) as ``autograded/`` keeps it: what nbgrader's autograde does after execution
    (clear metadata, limit outputs), after the grader's cleaning of active markup (``sanitize``)."""
    import nbformat
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import LimitOutput

    from .sanitize import sanitize_notebook

    sanitize_notebook(nb, set(task.trusted.get(name, ())))
    resources = {"nbgrader": {"student": task.student, "assignment": task.assignment, "notebook": name}}
    for step in (ClearMetadataPreprocessor, LimitOutput):
        nb, resources = step(config=config)(nb, resources)
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"   # as nbconvert's NotebookExporter writes it


def _write_tree(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = (root / rel).resolve()
        if root.resolve() not in path.parents:
            raise ValueError(f"a task file escapes its folder: {rel!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _peaks() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return round(own, 1), round(children, 1)


def _feedback(nb, task: Task, name: str, records: dict) -> dict:
    """The feedback page of notebook ``name``, rendered here so that the single writer only writes it."""
    import nbformat

    from .feedback import feedback_html, grades_from_cells

    try:
        grades = grades_from_cells(nb)
        release = nbformat.reads(task.release[name], as_version=4)
        return {"grades": grades, "html": feedback_html(nb, task.submitted.get(name), release, grades, records)}
    except Exception:  # noqa: BLE001 - the writer renders the page itself
        return {}


def run_task(task: Task) -> Result:
    """Strip the expected values from ``task``'s test cells, execute every notebook in the sandbox
    and check its answers outside the kernel.

    Errors of the submission (a dead kernel, a notebook that cannot run) come back in
    ``Result.error``; only a crash of the worker itself raises.
    """
    import nbformat

    from nbgrader.preprocessors import IgnorePattern

    from .execute import SandboxedExecute
    from .feedback import RecordingVerify
    from .prepare import cells_digest
    from .strip import StripReferences

    start = time.perf_counter()
    result = Result(student=task.student, host=os.uname().nodename, pid=os.getpid())
    phases = result.phases

    def timed(phase: str, began: float) -> float:
        now = time.perf_counter()
        phases[phase] = round(phases.get(phase, 0.0) + now - began, 4)
        return now

    if task.error:
        result.error = task.error
        return result
    root = Path(task.scratch_root) if task.scratch_root and Path(task.scratch_root).is_dir() else None
    scratch = Path(tempfile.mkdtemp(prefix="t-", dir=root))   # short: kernel sockets live inside
    scratch.chmod(0o711)   # the kernel's unprivileged user must reach its folders inside
    previous_tempdir = tempfile.tempdir
    try:
        tempfile.tempdir = str(scratch)   # the kernel manager's own scratch folder goes here too
        work = scratch / "work"
        work.mkdir()
        _write_tree(work, task.files)
        reference = scratch / "reference"
        reference.mkdir()
        _write_tree(reference, task.reference)
        config = worker_config(task.settings)
        config.VerifyAnswers.reference_dir = str(reference)
        began = timed("scratch", start)
        # every kernel of this task sees the same working folder, as nbgrader's autograded/ folder
        for name, text in sorted(task.notebooks.items()):
            nb = nbformat.reads(text, as_version=4)
            resources = {"unique_key": name, "metadata": {"path": str(work), "name": name},
                         "nbgrader": {"student": task.student, "assignment": task.assignment, "notebook": name}}
            sources = [cell.source for cell in nb.cells]
            nb, resources = StripReferences(config=config)(nb, resources)
            began = timed("strip", began)
            nb, resources = SandboxedExecute(config=config)(nb, resources)
            for phase, seconds in resources.pop("rnncourse_phases", {}).items():
                phases[phase] = round(phases.get(phase, 0.0) + seconds, 4)
            began = time.perf_counter()
            for pp in (IgnorePattern, RecordingVerify):
                nb, resources = pp(config=config)(nb, resources)
            for cell, source in zip(nb.cells, sources):   # the instructor's autograded copy keeps every test
                cell.source = source
            result.digests[name] = cells_digest(nb)
            result.test_results[name] = resources.get("rnncourse_test_results", {})
            began = timed("verify", began)
            if name in task.release:
                result.feedback[name] = _feedback(nb, task, name, result.test_results[name])
                began = timed("feedback", began)
            result.notebooks[name] = autograded_copy(nb, name, task, config)
            result.gradebook[name] = gradebook_values(nb)
            began = timed("autograded_copy", began)
    except Exception as error:  # noqa: BLE001 - the submission's failure is reported, not raised
        lines = traceback.format_exception_only(type(error), error)
        result.error = "".join(lines).strip() or type(error).__name__
        result.notebooks = {}
        result.digests = {}
        result.gradebook = {}
        result.test_results = {}
        result.feedback = {}
    finally:
        tempfile.tempdir = previous_tempdir
        shutil.rmtree(scratch, ignore_errors=True)
    result.seconds = round(time.perf_counter() - start, 2)
    result.worker_peak_mb, result.kernel_peak_mb = _peaks()
    return result
