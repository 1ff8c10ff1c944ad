"""Read submitted answers and compare them with the solution's, outside the student's kernel."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAX_FILE_BYTES = 16 * 2**20
MAX_TOTAL_BYTES = 64 * 2**20


@dataclass
class Answer:
    value: np.ndarray
    rtol: float = 1e-6
    atol: float = 1e-9
    target: np.ndarray | None = None   # mode "mse": the targets the predictions are scored against
    max_mse: float | None = None


def _load_array(path: Path, budget: int) -> tuple[np.ndarray | None, int]:
    """A plain array from ``path`` (no links, no pickles, at most ``budget`` bytes), and its size."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None, 0
    with os.fdopen(fd, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > min(MAX_FILE_BYTES, budget):
            return None, 0
        try:
            return np.asarray(np.load(handle, allow_pickle=False)), size
        except Exception:  # noqa: BLE001 - any malformed file is simply not an answer
            return None, 0


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
                answer.rtol, answer.atol = float(info.get("rtol", 1e-6)), float(info.get("atol", 1e-9))
                if info.get("mode") == "mse":
                    answer.max_mse = float(info["max_mse"])
                    answer.target, size = _load_array(Path(stem + ".target"), MAX_TOTAL_BYTES - total)
                    total += size
            except (ValueError, TypeError, KeyError):
                pass
        answers[key] = answer
    return answers


def save_answers(answers: dict[str, Answer], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for key, ans in answers.items():
        stem = str(folder / key.replace("/", "__"))  # keys may hold dots: no with_suffix here
        with open(stem + ".npy", "wb") as handle:
            np.save(handle, ans.value, allow_pickle=False)
        meta = {"key": key, "rtol": ans.rtol, "atol": ans.atol}
        if ans.max_mse is not None and ans.target is not None:
            with open(stem + ".target", "wb") as handle:
                np.save(handle, ans.target, allow_pickle=False)
            meta.update(mode="mse", max_mse=ans.max_mse)
        Path(stem + ".json").write_text(json.dumps(meta))


def compare(expected: Answer, got: Answer | None) -> str | None:
    """None when ``got`` matches ``expected`` (tolerances of ``expected``), else what is wrong."""
    if got is None:
        return "no answer was recorded"
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
