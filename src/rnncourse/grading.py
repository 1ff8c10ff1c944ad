"""Checks used by the exercise notebooks' test cells.

Every check names its answer ``key`` (``"<grade_id>/<name>"``), takes the
student's value ``got`` and the expected value as a **function of no argument**
(a ``lambda``), and works in one of two ways:

* in the student's own environment, it calls that function and raises
  ``AssertionError`` with a message that names what is wrong (shape, dtype,
  which entries) and a hint at the likely bug;
* during grading (the environment variable ``RNNCOURSE_ANSWERS_DIR`` names a
  folder) it never calls the function and never raises: it writes the value and
  the check's description (kind, tolerances, name, hint) to that folder.  Trusted
  code outside the kernel compares it with the answer the solution notebook
  recorded under the same key, and reports failures with the same specific
  messages (public tests) or a description of the case only (hidden tests).

So at grading time no expected value is ever computed in the student's kernel,
and the grader removes the functions themselves from the test cells before they
run (``rnncourse.autograder.strip``).

``check_property(key, data, property_name, name, **params)`` is for answers that
differ between correct solutions (random draws whose order the instructions leave
open, a trained model's loss curve): it records the student's raw data and names a
predicate from the trusted table ``rnncourse.properties.PROPERTIES``.  Locally the predicate runs here;
at grading time it runs only outside the kernel, on the recorded arrays, with the
property and parameters that the *solution's* run recorded.  No boolean verdict
computed in the kernel is ever scored.  ``check_raises(key, call, exception, name)``
records what calling the student's code raised, judged the same way.

``submit(key, value)`` records a value that only the grader compares (no local
check), for instance the predictions of a trained model.

``check_array`` can also diagnose a wrong answer in the student's own kernel:
``mistakes`` is a function of no argument that returns ``{description: the value
that mistake gives}`` and ``blocks`` names equal row blocks of the expected value
(the gates of a stacked weight matrix, say).  Only when the local comparison fails
are they used: the message then gives the relative error, the mistake the answer
matches (the transpose and a multiple of the right value are always tried) and the
blocks whose entries are wrong.  So a test can tell *what kind* of error there is
without spelling out the formula.  At grading time ``mistakes`` is never called
and the grader removes it from the test cells like an expected value.

Test cells of graded notebooks import only this module from ``rnncourse``.
"""
from __future__ import annotations

import json
import os
import re

import numpy as np

from rnncourse.properties import PROPERTIES, property_problem

ANSWERS_ENV = "RNNCOURSE_ANSWERS_DIR"
CHECKS = ("check_array", "check_scalar", "check_equal", "check_shape", "check_mse", "check_property", "check_raises")
PROPERTY_CHECKS = ("check_property", "check_raises")   # judged by a predicate, never compared with the solution
_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_seen: dict[str, object] = {}
_order: list[str] = []  # keys in the order they were recorded: messages follow the cell's order


def grading() -> bool:
    """True while the grader runs the notebook (answers go to ``RNNCOURSE_ANSWERS_DIR``)."""
    return bool(os.environ.get(ANSWERS_ENV))


def _describe(x) -> str:
    if isinstance(x, np.ndarray):
        return f"numpy array of shape {x.shape} and dtype {x.dtype}"
    if _is_tensor(x):
        return f"torch tensor of shape {tuple(x.shape)} and dtype {x.dtype}"
    return f"{type(x).__name__}"


def _is_tensor(x) -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return False
    return isinstance(x, torch.Tensor)


def _container(x) -> str:
    """'numpy array', 'torch tensor' or the type's name: the family a check compares."""
    if type(x) is np.ndarray:
        return "numpy array"
    if _is_tensor(x):
        return "torch tensor"
    return type(x).__name__


def _fail(name: str, problem: str, hint: str) -> None:
    message = f"{name}: {problem}"
    if hint:
        message += f"\nHint: {hint}"
    raise AssertionError(message)


def as_numpy(value, name: str = "value") -> np.ndarray:
    """Return ``value`` as a real ``numpy.ndarray`` (torch tensors are detached and copied).

    Raises TypeError for anything else, so that objects which only *claim* to be
    equal to the expected answer never pass a check.
    """
    if type(value) is np.ndarray:
        return value
    if _is_tensor(value):
        return value.detach().cpu().numpy()
    raise TypeError(f"{name}: expected a numpy array or torch tensor, got {_describe(value)}")


# --- the comparisons, shared by the local checks and the grader ------------------------------------

def array_problem(got, expected, rtol: float, atol: float, check_dtype: bool) -> str | None:
    """What is wrong with array ``got`` against ``expected`` (both numpy arrays), or None."""
    if got.shape != expected.shape:
        return f"expected shape {expected.shape}, got {got.shape}"
    if check_dtype and got.dtype != expected.dtype:
        return f"expected dtype {expected.dtype}, got {got.dtype}"
    if got.dtype.kind not in "biufc" or expected.dtype.kind not in "biufc":
        if not np.array_equal(got, expected):
            return "the values differ"
        return None
    if not np.all(np.isfinite(got)) and np.all(np.isfinite(expected)):
        return "contains NaN or infinity"
    close = np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    if not np.all(close):
        bad = np.argwhere(~close)
        first = tuple(int(i) for i in bad[0])
        err = float(np.max(np.abs(got.astype(np.float64) - expected.astype(np.float64))))
        return (f"{len(bad)} of {expected.size} entries are wrong; first at index {first}: "
                f"got {got[first].item()!r}, expected {expected[first].item()!r} (largest error {err:.3g})")
    return None


def scalar_problem(got: float, expected: float, rtol: float, atol: float) -> str | None:
    if not np.isclose(float(got), float(expected), rtol=rtol, atol=atol):
        return f"expected {float(expected)!r}, got {float(got)!r}"
    return None


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """||a - b|| / (||a|| + ||b||) over all entries (0.0 when both are zero)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = float(np.linalg.norm(a) + np.linalg.norm(b))
    return 0.0 if scale == 0.0 else float(np.linalg.norm(a - b) / scale)


MATCH = 1e-6   # an answer within this relative error of a mistake's value is that mistake


def diagnose_array(got: np.ndarray, right: np.ndarray, mistakes: dict | None = None,
                   blocks=None, rtol: float = 1e-7, atol: float = 1e-9) -> str:
    """One line on what a wrong array looks like, for the student's own kernel.

    ``got`` and ``right``: numpy arrays.  Gives the relative error (when the shapes
    agree); which mistake ``got`` matches, trying the transpose of ``right`` (2-D),
    then ``mistakes`` ({description: the value that mistake gives}, in order; a
    mistake whose value equals the right one on this case is skipped), then a
    multiple of ``right``; and with ``blocks`` (names of equal row blocks of
    ``right``) the blocks that hold wrong entries.  Never called at grading time.
    """
    numeric = got.dtype.kind in "biuf" and right.dtype.kind in "biuf"
    if not numeric:
        return "Diagnosis: not an array of real numbers"
    g, r = got.astype(np.float64), right.astype(np.float64)
    same = g.shape == r.shape
    parts = [f"relative error {relative_error(g, r):.3g} against the right value"] if same else []
    tried = {}
    if r.ndim == 2:
        tried["the transpose of the right value"] = r.T
    for description, value in (mistakes or {}).items():
        tried[str(description)] = as_numpy(value, str(description)).astype(np.float64)
    match = None
    if same and not np.all(np.isfinite(g)):
        match = "NaN or infinity in it"
    elif same and not np.any(g) and np.any(r):
        match = "all zeros"
    for description, value in tried.items():
        if match:
            break
        if value.shape == r.shape and relative_error(value, r) < MATCH:
            continue   # this mistake makes no difference on this case
        if value.shape == g.shape and relative_error(g, value) < MATCH:
            match = description
    if match is None and same and np.any(r):
        k = float(np.sum(g * r) / np.sum(r * r))
        if abs(k - 1.0) > MATCH and relative_error(g, k * r) < MATCH:
            match = f"the right value times {k:.4g}"
    if match:
        parts.append(f"it looks like {match}")
    else:
        parts.append("it matches none of the mistakes tried (" + "; ".join(
            list(tried) + ["a multiple of the right value"]) + ")")
    if blocks and same and r.ndim >= 1 and r.shape[0] % len(blocks) == 0:
        size = r.shape[0] // len(blocks)
        wrong = [f"{b} (rows {k * size}:{(k + 1) * size})" for k, b in enumerate(blocks)
                 if not np.allclose(g[k * size:(k + 1) * size], r[k * size:(k + 1) * size], rtol=rtol, atol=atol)]
        if wrong and len(wrong) < len(blocks):
            parts.append("wrong entries only in the block(s) " + ", ".join(wrong) + "; the other blocks are right")
        elif wrong:
            parts.append("wrong entries in every block (" + ", ".join(str(b) for b in blocks) + ")")
    return "Diagnosis: " + "; ".join(parts)


# --- recording ---------------------------------------------------------------------------------------

def _plain(value, key: str) -> np.ndarray:
    if isinstance(value, (bool, int, float, str, np.bool_, np.integer, np.floating)):
        return np.asarray(value)
    if isinstance(value, (list, tuple)):
        return np.asarray([_plain(v, key) for v in value])
    arr = as_numpy(value, key)
    if arr.dtype == object:
        raise TypeError(f"{key}: object arrays cannot be submitted")
    return arr


def _check_key(key) -> None:
    if not isinstance(key, str) or not _KEY.match(key) or "__" in key:
        raise ValueError(f"answer key must look like 'grade_id/name' (letters, digits, '_', '-', '.'; "
                         f"no '__'), got {key!r}")
    try:  # one key, one answer: a loop must put its case into the key
        cell = get_ipython().execution_count  # noqa: F821 - defined inside IPython
    except NameError:
        return
    if _seen.get(key) == cell and not grading():
        raise ValueError(f"answer key {key!r} is used twice in one cell: make it unique (add the case)")
    _seen[key] = cell


def _check_lazy(expected, what: str = "expected") -> None:
    if not callable(expected) and not grading():
        raise TypeError(f"{what} must be a function of no argument (lambda: ...) that computes it, got "
                        f"{_describe(expected)}: at grading time it is never called")


def _record(key: str, value, meta: dict, target=None, fields: dict | None = None) -> None:
    """Write ``value`` (plain data) and ``meta`` to the answers folder, when grading
    (and ``fields``, the named arrays of a property check, as ``<key>.npz``)."""
    folder = os.environ.get(ANSWERS_ENV)
    if not folder:
        return
    stem = os.path.join(folder, key.replace("/", "__"))
    _order.append(key)
    meta = {"key": key, "order": len(_order), **meta}
    with open(stem + ".npy", "wb") as handle:
        np.save(handle, value, allow_pickle=False)
    if target is not None:
        with open(stem + ".target", "wb") as handle:
            np.save(handle, target, allow_pickle=False)
    if fields is not None:
        with open(stem + ".npz", "wb") as handle:
            np.savez(handle, **fields)
    with open(stem + ".json", "w") as handle:
        json.dump(meta, handle)


def _record_got(key: str, got, meta: dict) -> None:
    """Record ``got``; something that is not plain data is recorded as invalid (a failed answer)."""
    meta = {**meta, "container": _container(got)}
    try:
        value = np.array(_plain(got, key), copy=True)
    except (TypeError, ValueError):
        _record(key, np.zeros(0), {**meta, "invalid": True})
        return
    _record(key, value, meta)


# --- the checks --------------------------------------------------------------------------------------

def check_array(key: str, got, expected, name: str, hint: str = "", rtol: float = 1e-7,
                atol: float = 1e-9, check_dtype: bool = True, *, mistakes=None,
                blocks: tuple[str, ...] | None = None) -> None:
    """``got`` must be an array like ``expected()`` (same type family, shape, dtype, values).

    ``expected`` is a function of no argument returning a numpy array or a torch
    tensor; ``got`` must be a ``numpy.ndarray`` when that is one, a ``torch.Tensor``
    when that is one.  The failure message reports the first wrong entry and the
    largest error, then (with ``mistakes`` or ``blocks``) a diagnosis from
    ``diagnose_array``, followed by ``hint``.  ``mistakes``, a function of no
    argument returning ``{description: array}``, is called only locally and only
    after a failed comparison; ``blocks`` names equal blocks of rows (axis 0).
    """
    _check_key(key)
    _check_lazy(expected)
    if mistakes is not None:
        _check_lazy(mistakes, "mistakes")
    if blocks is not None and (not isinstance(blocks, (tuple, list)) or not blocks
                               or not all(isinstance(b, str) for b in blocks)):
        raise TypeError(f"{key}: blocks must be a non-empty tuple of names, got {blocks!r}")
    meta = {"kind": "array", "name": name, "hint": hint, "rtol": float(rtol), "atol": float(atol),
            "check_dtype": bool(check_dtype)}
    if not grading():
        want = expected()
        family = _container(want)
        if family not in ("numpy array", "torch tensor"):
            raise TypeError(f"{key}: the expected value must be a numpy array or torch tensor, got {family}")
        if _container(got) != family:
            _fail(name, f"expected a {family}, got {_describe(got)}", hint)
        problem = array_problem(as_numpy(got, name), as_numpy(want, name), rtol, atol, check_dtype)
        if problem:
            if mistakes is not None or blocks:
                found = mistakes() if mistakes is not None else {}
                if not isinstance(found, dict):
                    raise TypeError(f"{key}: mistakes() must return a dict {{description: array}}, "
                                    f"got {_describe(found)}")
                problem += "\n" + diagnose_array(as_numpy(got, name), as_numpy(want, name), found, blocks,
                                                  rtol, atol)
            _fail(name, problem, hint)
    if _container(got) in ("numpy array", "torch tensor"):
        _record_got(key, got, meta)
    else:
        _record(key, np.zeros(0), {**meta, "container": _container(got), "invalid": True})


def check_scalar(key: str, got, expected, name: str, hint: str = "", rtol: float = 1e-7,
                 atol: float = 1e-9) -> None:
    """``got`` must be a real number (Python or NumPy scalar, not a bool) close to ``expected()``."""
    _check_key(key)
    _check_lazy(expected)
    meta = {"kind": "scalar", "name": name, "hint": hint, "rtol": float(rtol), "atol": float(atol)}
    is_number = not isinstance(got, bool) and isinstance(got, (int, float, np.integer, np.floating))
    if not grading():
        if not is_number:
            _fail(name, f"expected a number, got {_describe(got)}", hint)
        problem = scalar_problem(got, expected(), rtol, atol)
        if problem:
            _fail(name, problem, hint)
    if is_number:
        _record(key, np.asarray(float(got)), {**meta, "container": "number"})
    else:
        _record(key, np.zeros(0), {**meta, "container": _container(got), "invalid": True})


def check_equal(key: str, got, expected, name: str, hint: str = "") -> None:
    """Exact equality with ``expected()`` for plain Python values (int, str, bool, lists and tuples of them)."""
    _check_key(key)
    _check_lazy(expected)
    meta = {"kind": "equal", "name": name, "hint": hint}
    if not grading():
        want = expected()
        if type(got) is not type(want):
            _fail(name, f"expected a {type(want).__name__}, got {_describe(got)}", hint)
        if got != want:
            _fail(name, f"expected {want!r}, got {got!r}", hint)
    _record_got(key, got, meta)


def check_shape(key: str, got, expected, name: str, hint: str = "") -> None:
    """``got`` must be an array or tensor of shape ``expected()`` (a tuple of ints)."""
    _check_key(key)
    _check_lazy(expected)
    meta = {"kind": "shape", "name": name, "hint": hint}
    has_shape = type(got) is np.ndarray or _is_tensor(got)
    if not grading():
        if not has_shape:
            _fail(name, f"expected a numpy array or torch tensor, got {_describe(got)}", hint)
        want = tuple(expected())
        if tuple(got.shape) != want:
            _fail(name, f"expected shape {want}, got {tuple(got.shape)}", hint)
    if has_shape:
        _record(key, np.asarray(tuple(got.shape), dtype=np.int64).reshape(-1),
                {**meta, "container": _container(got)})
    else:
        _record(key, np.zeros(0), {**meta, "container": _container(got), "invalid": True})


def check_mse(key: str, predictions, target, max_mse: float, name: str, hint: str = "") -> None:
    """The mean squared error of ``predictions`` against ``target()`` must be at most ``max_mse``.

    For a trained model, whose predictions differ between correct solutions.  During
    grading the student's predictions are scored outside the kernel against the
    targets that the *solution's* run recorded (the test cell runs without
    ``target`` there); only that run, which keeps the function, records them.
    """
    _check_key(key)
    _check_lazy(target, "target")
    meta = {"kind": "mse", "mode": "mse", "name": name, "hint": hint, "max_mse": float(max_mse)}
    if not grading():
        want = as_numpy(target(), name).astype(np.float64)
        got = as_numpy(predictions, name)
        if got.shape != want.shape:
            _fail(name, f"expected shape {want.shape}, got {got.shape}", hint)
        mse = float(np.mean((got.astype(np.float64) - want) ** 2))
        if not mse <= max_mse:
            _fail(name, f"mean squared error {mse:.4g} above {max_mse:g}", hint)
    try:
        value = np.array(_plain(predictions, key), copy=True)
    except (TypeError, ValueError):
        _record(key, np.zeros(0), {**meta, "container": _container(predictions), "invalid": True})
        return
    recorded = np.array(_plain(target(), key), copy=True) if callable(target) else None
    _record(key, value, {**meta, "container": _container(predictions)}, target=recorded)


def _property(key: str, data, prop: str, name: str, hint: str, params: dict) -> None:
    if prop not in PROPERTIES:
        raise ValueError(f"{key}: unknown property {prop!r}; known: {', '.join(sorted(PROPERTIES))}")
    json.dumps(params)   # parameters travel as JSON: plain numbers and strings only
    meta = {"kind": "property", "property": prop, "params": params, "name": name, "hint": hint,
            "container": "fields"}
    fields = data if isinstance(data, dict) else {"value": data}
    try:
        arrays = {str(k): np.array(_plain(v, key), copy=True) for k, v in fields.items()}
        if not arrays or not all(_FIELD.match(k) for k in arrays):
            raise ValueError("field names must be identifiers")
    except (TypeError, ValueError) as error:
        if not grading():
            _fail(name, f"expected numbers or arrays, got something else ({error})", hint)
        _record(key, np.zeros(0), {**meta, "container": "invalid", "invalid": True})
        return
    if not grading():
        problem = property_problem(prop, arrays, params)
        if problem:
            _fail(name, problem, hint)
    _record(key, np.zeros(0), meta, fields=arrays)


def check_property(key: str, data, prop: str, name: str, hint: str = "", **params) -> None:
    """The student's raw ``data`` must have property ``prop``, a predicate of ``rnncourse.properties``.

    ``data`` is one value or a dict of named values (numpy arrays, torch tensors,
    numbers, strings, lists of those).  Locally the predicate runs here and a failure
    raises its message with ``hint``.  During grading nothing is judged here: the
    data is recorded and the grader runs the predicate outside the kernel, with the
    property and ``params`` of the solution's run.
    """
    _check_key(key)
    _property(key, data, prop, name, hint, params)


def check_raises(key: str, call, exception: str, name: str, hint: str = "", mentions: str | None = None) -> None:
    """``call()`` (a function of no argument that calls the student's code) must raise ``exception``
    (a class name such as ``"ValueError"``; subclasses count), and with ``mentions`` (a regular
    expression) the message must contain a match.

    What is recorded is what happened (the raised class and its bases, the message); the
    verdict is the property ``raises``, judged outside the kernel at grading time."""
    _check_key(key)
    try:
        call()
    except Exception as error:  # noqa: BLE001 - which exception is the answer
        raised, message = [c.__name__ for c in type(error).__mro__], str(error)[:2000]
    else:
        raised, message = [], ""
    params = {"exception": exception} if mentions is None else {"exception": exception, "mentions": mentions}
    _property(key, {"raised": raised, "message": message}, "raises", name, hint, params)


def submit(key: str, value, name: str = "", hint: str = "", rtol: float = 1e-6, atol: float = 1e-9,
           target=None, max_mse: float | None = None) -> None:
    """Record ``value`` as the answer named ``key`` for the grader only (no local check).

    ``value`` must be plain data: a numpy array, a torch tensor, a Python or NumPy
    number, bool or string, or a list/tuple of those.  The grader compares it with
    the answer the solution notebook recorded under the same key:

    * by default, floats within the solution's ``rtol``/``atol`` and everything
      else exactly: submit values that every correct solution reproduces;
    * with ``target`` and ``max_mse``, for predictions of a trained model, which
      differ between correct solutions: the mean squared error between ``value``
      and the *solution's* ``target`` must be at most the solution's ``max_mse``.
    """
    _check_key(key)
    if (target is None) != (max_mse is None):
        raise ValueError("give both target and max_mse, or neither")
    arr = np.array(_plain(value, key), copy=True)
    meta = {"kind": "answer", "name": name, "hint": hint, "rtol": float(rtol), "atol": float(atol)}
    if target is not None:
        target = np.array(_plain(target, key), copy=True)
        if target.shape != arr.shape:
            raise ValueError(f"{key}: target has shape {target.shape} but value has shape {arr.shape}")
        meta.update(mode="mse", max_mse=float(max_mse))
    _record(key, arr, meta, target=target)
