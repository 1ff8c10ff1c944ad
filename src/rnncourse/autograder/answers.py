"""Read submitted answers and compare them with the solution's, outside the student's kernel.

Messages follow the check's own description as the *solution's* run recorded it
(never the student's): for a public test the same specific message the check
gives in the student's environment (which entry, shape, dtype, the hint); for a
hidden test only the case's description and the kind of failure, from a fixed
vocabulary, with no value, shape, seed or code.
"""
from __future__ import annotations

import json
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnncourse.grading import array_problem, scalar_problem
from rnncourse.properties import property_problem

MAX_FILE_BYTES = 16 * 2**20
MAX_TOTAL_BYTES = 64 * 2**20


@dataclass
class Answer:
    value: np.ndarray
    rtol: float = 1e-6
    atol: float = 1e-9
    target: np.ndarray | None = None   # mode "mse": the targets the predictions are scored against
    max_mse: float | None = None
    meta: dict = field(default_factory=dict)  # the check that recorded it: kind, name, hint, container...
    fields: dict | None = None          # kind "property": the recorded data, name -> array


def _load(path: Path, budget: int, read) -> tuple[object, int]:
    """``read(handle)`` of the file at ``path``, opened without following a link and at most ``budget``
    bytes, and its size; (None, 0) for a link, a missing, oversized or malformed file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None, 0
    with os.fdopen(fd, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > min(MAX_FILE_BYTES, budget):
            return None, 0
        try:
            return read(handle, min(MAX_FILE_BYTES, budget)), size
        except Exception:  # noqa: BLE001 - any malformed file is simply not an answer
            return None, 0


def _load_array(path: Path, budget: int) -> tuple[np.ndarray | None, int]:
    """A plain array from ``path`` (no links, no pickles, at most ``budget`` bytes), and its size."""
    return _load(path, budget, lambda handle, _: np.asarray(np.load(handle, allow_pickle=False)))


def _read_fields(handle, limit: int) -> dict | None:
    with zipfile.ZipFile(handle) as archive:   # what it unpacks to, before unpacking anything
        infos = archive.infolist()
        if len(infos) > 64 or sum(i.file_size for i in infos) > limit:
            return None
    handle.seek(0)
    with np.load(handle, allow_pickle=False) as archive:
        return {name: np.asarray(archive[name]) for name in archive.files}


def _load_fields(path: Path, budget: int) -> tuple[dict | None, int]:
    """The named arrays of ``path`` (an uncompressed .npz; no links, no pickles, at most ``budget`` bytes)."""
    fields, size = _load(path, budget, _read_fields)
    return (fields, size) if fields is not None else (None, 0)


def load_answers(folder: Path) -> dict[str, Answer]:
    """Every ``<key>.npy`` (+ ``.json`` tolerance) in ``folder``; unreadable or oversized files are skipped.

    Files are opened without following symbolic links and loaded with
    ``allow_pickle=False``, so an answer can only be plain numeric or string data.
    """
    answers: dict[str, Answer] = {}
    total = 0
    folder = Path(folder)
    if not folder.is_dir() or folder.is_symlink():
        return answers
    for path in sorted(folder.glob("*.npy")):
        value, size = _load_array(path, MAX_TOTAL_BYTES - total)
        if value is None:
            continue
        total += size
        stem = str(path)[:-len(".npy")]
        key = Path(stem).name.replace("__", "/")
        answer = Answer(value)
        meta = Path(stem + ".json")
        if meta.is_file() and not meta.is_symlink() and meta.stat().st_size < 4096:
            try:
                info = json.loads(meta.read_text())
                answer.meta = info if isinstance(info, dict) else {}
                answer.rtol, answer.atol = float(info.get("rtol", 1e-6)), float(info.get("atol", 1e-9))
                if info.get("kind") == "property" and not info.get("invalid"):
                    answer.fields, size = _load_fields(Path(stem + ".npz"), MAX_TOTAL_BYTES - total)
                    total += size
                if info.get("mode") == "mse":
                    answer.max_mse = float(info["max_mse"])
                    answer.target, size = _load_array(Path(stem + ".target"), MAX_TOTAL_BYTES - total)
                    total += size
            except (ValueError, TypeError, KeyError, AttributeError):
                pass
        answers[key] = answer
    return answers


def save_answers(answers: dict[str, Answer], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for key, ans in answers.items():
        stem = str(folder / key.replace("/", "__"))  # keys may hold dots: no with_suffix here
        with open(stem + ".npy", "wb") as handle:
            np.save(handle, ans.value, allow_pickle=False)
        meta = {**ans.meta, "key": key, "rtol": ans.rtol, "atol": ans.atol}
        if ans.max_mse is not None and ans.target is not None:
            with open(stem + ".target", "wb") as handle:
                np.save(handle, ans.target, allow_pickle=False)
            meta.update(mode="mse", max_mse=ans.max_mse)
        if ans.fields is not None:
            with open(stem + ".npz", "wb") as handle:
                np.savez(handle, **ans.fields)
        Path(stem + ".json").write_text(json.dumps(meta))





def compare(expected: Answer, got: Answer | None) -> str | None:
    """None when ``got`` matches ``expected`` (tolerances of ``expected``), else what is wrong."""
    if got is None:
        return "no answer was recorded"
    if expected.meta.get("kind") == "property":
        found = diagnose(expected, got)
        return None if found is None else found[1]
    if expected.max_mse is not None:  # predictions scored against the solution's own targets
        if expected.target is None:
            return "the reference answer has no targets"
        b = got.value
        if b.shape != expected.target.shape:
            return f"shape {b.shape} instead of {expected.target.shape}"
        if b.dtype.kind not in "fiu" or not np.all(np.isfinite(b)):
            return "predictions must be finite numbers"
        mse = float(np.mean((b.astype(np.float64) - expected.target.astype(np.float64)) ** 2))
        return None if mse <= expected.max_mse else f"mean squared error {mse:.4g} above {expected.max_mse:g}"
    a, b = expected.value, got.value
    if a.shape != b.shape:
        return f"shape {b.shape} instead of {a.shape}"
    if a.dtype.kind in "fc":
        if b.dtype.kind not in "fciub":
            return f"a {b.dtype} value instead of numbers"
        b = b.astype(a.dtype)
        if not np.all(np.isfinite(b) == np.isfinite(a)):
            return "NaN or infinity where a finite value was expected"
        finite = np.isfinite(a)
        if not np.allclose(b[finite], a[finite], rtol=expected.rtol, atol=expected.atol):
            return "values differ from the expected answer"
        return None
    if a.dtype.kind != b.dtype.kind and not (a.dtype.kind in "iu" and b.dtype.kind in "iu"):
        return f"a {b.dtype} value instead of {a.dtype}"
    if not np.array_equal(a, b):
        return "value differs from the expected answer"
    return None


def verify_cell(grade_id: str, reference: dict[str, Answer], submitted: dict[str, Answer]) -> list[str]:
    """Problems with the answers of one test cell (empty when all match)."""
    problems = []
    for key in sorted(k for k in reference if k.startswith(grade_id + "/")):
        problem = compare(reference[key], submitted.get(key))
        if problem:
            problems.append(f"{key}: {problem}")
    return problems

# What a hidden test may say about itself: words only (no digit, so no seed or size; no brackets,
# dots or quotes, so no code).  Anything else is reported as "a hidden case".
SAFE_CASE = re.compile(r"^[A-Za-z][A-Za-z_ ,;:'/+-]{0,119}$")
FAILURES = ("missing answer", "wrong type", "wrong shape", "wrong dtype", "wrong values", "NaN or infinity",
            "error too large", "property does not hold")
HIDDEN_LINE = re.compile(r"^  (a hidden case|" + SAFE_CASE.pattern[1:-1] + r"): (" + "|".join(FAILURES) + r")$")
HEADER = "AnswerCheckFailed: the grader checked this cell's answers outside your notebook and they did not match:"


def _tolerances(expected: Answer) -> tuple[float, float]:
    """The check's tolerances, doubled: the reference itself may be off by one tolerance from the truth."""
    return 2 * expected.rtol, 2 * expected.atol


def _show(arr: np.ndarray):
    return arr.tolist() if arr.ndim else arr.item()


def diagnose(expected: Answer, got: Answer | None) -> tuple[str, str] | None:
    """None when ``got`` matches ``expected``, else (kind of failure, specific description).

    The kind is one of ``FAILURES``; the description may hold values and shapes
    (it is shown for public tests only).
    """
    if got is None:
        return "missing answer", "no answer was recorded (did the cell stop before this check?)"
    kind = expected.meta.get("kind", "answer")
    if kind == "property":   # the solution's property and parameters, judged on the student's own data
        if got.meta.get("invalid") or got.fields is None or got.meta.get("kind") != "property":
            return "wrong type", "expected numbers or arrays"
        params = expected.meta.get("params")
        problem = property_problem(str(expected.meta.get("property")), got.fields,
                                   params if isinstance(params, dict) else {})
        return ("property does not hold", problem) if problem else None
    want_family = expected.meta.get("container")
    got_family = got.meta.get("container")
    if got.meta.get("invalid") or (kind in ("array", "shape", "equal") and want_family and got_family
                                   and want_family != got_family):
        return "wrong type", f"expected a {want_family or 'value'}, got {str(got_family)[:40] or 'something else'}"
    a, b = expected.value, got.value
    if kind == "array":
        if a.shape != b.shape:
            return "wrong shape", f"expected shape {a.shape}, got {b.shape}"
        if expected.meta.get("check_dtype", True) and a.dtype != b.dtype:
            return "wrong dtype", f"expected dtype {a.dtype}, got {b.dtype}"
        if a.dtype.kind in "biufc" and b.dtype.kind not in "biufc":
            return "wrong type", f"expected numbers, got {b.dtype} values"
        if a.dtype.kind in "biufc" and not np.all(np.isfinite(b)) and np.all(np.isfinite(a)):
            return "NaN or infinity", "contains NaN or infinity"
        rtol, atol = _tolerances(expected)
        problem = array_problem(b, a.astype(b.dtype) if b.dtype.kind in "fc" and a.dtype.kind in "fc" else a,
                                rtol, atol, check_dtype=False)
        return ("wrong values", problem) if problem else None
    if kind == "scalar":
        if b.shape != () or b.dtype.kind not in "iuf":
            return "wrong type", "expected a number"
        if not np.isfinite(b) and np.isfinite(a):
            return "NaN or infinity", f"expected {float(a)!r}, got {float(b)!r}"
        rtol, atol = _tolerances(expected)
        problem = scalar_problem(float(b), float(a), rtol, atol)
        return ("wrong values", problem) if problem else None
    if kind == "shape":
        if not np.array_equal(a, b):
            return "wrong shape", f"expected shape {tuple(_show(a))}, got {tuple(_show(b))}"
        return None
    if kind == "equal":
        if a.shape != b.shape or a.dtype.kind != b.dtype.kind or not np.array_equal(a, b):
            return "wrong values", f"expected {_show(a)!r}, got {_show(b)!r}"
        return None
    problem = compare(expected, got)
    if problem is None:
        return None
    if problem.startswith("shape"):
        return "wrong shape", problem
    if "mean squared error" in problem:
        return "error too large", problem
    return ("NaN or infinity" if "NaN" in problem or "finite" in problem else
            "wrong type" if "instead of" in problem else "wrong values"), problem


def hidden_case(expected: Answer) -> str:
    """The reference's description of a hidden case, if it is safe to show, else 'a hidden case'."""
    name = str(expected.meta.get("name", ""))
    return name if SAFE_CASE.match(name) else "a hidden case"


def failure_lines(grade_id: str, reference: dict[str, Answer], submitted: dict[str, Answer],
                  hidden: bool, limit: int = 5) -> list[str]:
    """Traceback lines for one test cell (empty when all its answers match).

    Public cells: ``  <name>: <what is wrong>`` and ``    Hint: <hint>``, from the
    reference run's description of the check.  Hidden cells: ``  <case>: <failure>``
    only, each line matching ``HIDDEN_LINE`` (safe to show by construction).
    """
    lines: list[str] = []
    failing = 0
    keys = sorted((k for k in reference if k.startswith(grade_id + "/")),
                  key=lambda k: (_order_of(reference[k]), k))
    for key in keys:
        found = diagnose(reference[key], submitted.get(key))
        if found is None:
            continue
        failure, detail = found
        if hidden:
            line = f"  {hidden_case(reference[key])}: {failure}"
            if line not in lines:
                failing += 1
                if failing <= limit:
                    lines.append(line)
            continue
        failing += 1
        if failing > limit:
            continue
        meta = reference[key].meta
        lines.append(f"  {meta.get('name') or key}: {detail}")
        if meta.get("hint"):
            lines.append(f"    Hint: {meta['hint']}")
    if failing > limit and not hidden:
        lines.append(f"  ... and {failing - limit} more")
    return lines


def _order_of(answer: Answer) -> float:
    try:
        return float(answer.meta.get("order", float("inf")))
    except (TypeError, ValueError):
        return float("inf")
