"""Checks used by the exercise notebooks' test cells.

Two jobs:

* ``check_*`` functions compare a student's answer with an expected value and
  raise ``AssertionError`` with a message that names what is wrong (shape,
  dtype, which entries) and a hint at the likely bug.
* ``submit(key, value)`` records an answer for the grader.  During grading the
  environment variable ``RNNCOURSE_ANSWERS_DIR`` names a folder; every submitted
  value is written there as a ``.npy`` file and compared, outside the student's
  kernel, with the answers of the solution notebook.  Outside grading
  ``submit`` only checks that the value is plain data.

Test cells of graded notebooks import only this module from ``rnncourse``.
"""
from __future__ import annotations

import json
import os
import re

import numpy as np

ANSWERS_ENV = "RNNCOURSE_ANSWERS_DIR"
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _describe(x) -> str:
    if isinstance(x, np.ndarray):
        return f"numpy array of shape {x.shape} and dtype {x.dtype}"
    try:
        import torch

        if isinstance(x, torch.Tensor):
            return f"torch tensor of shape {tuple(x.shape)} and dtype {x.dtype}"
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    return f"{type(x).__name__}"


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
    try:
        import torch

        if isinstance(value, torch.Tensor):
            return value.detach().cpu().numpy()
    except ImportError:  # pragma: no cover
        pass
    raise TypeError(f"{name}: expected a numpy array or torch tensor, got {_describe(value)}")


def check_array(got, expected, name: str, hint: str = "", rtol: float = 1e-7,
                atol: float = 1e-9, check_dtype: bool = True) -> None:
    """Assert that ``got`` is an array equal to ``expected`` (same type family, shape, dtype, values).

    ``got`` must be a ``numpy.ndarray`` when ``expected`` is one and a ``torch.Tensor``
    when ``expected`` is one.  The failure message reports the first wrong entry and
    the largest error, followed by ``hint``.
    """
    try:
        import torch
        tensor_types = (torch.Tensor,)
    except ImportError:  # pragma: no cover
        tensor_types = ()
    if isinstance(expected, tensor_types):
        if not isinstance(got, tensor_types):
            _fail(name, f"expected a torch tensor, got {_describe(got)}", hint)
    elif type(got) is not np.ndarray:
        _fail(name, f"expected a numpy array, got {_describe(got)}", hint)
    got_np, exp_np = as_numpy(got, name), as_numpy(expected, name)
    if got_np.shape != exp_np.shape:
        _fail(name, f"expected shape {exp_np.shape}, got {got_np.shape}", hint)
    if check_dtype and got_np.dtype != exp_np.dtype:
        _fail(name, f"expected dtype {exp_np.dtype}, got {got_np.dtype}", hint)
    if not np.all(np.isfinite(got_np)) and np.all(np.isfinite(exp_np)):
        _fail(name, "contains NaN or infinity", hint)
    close = np.isclose(got_np, exp_np, rtol=rtol, atol=atol)
    if not np.all(close):
        bad = np.argwhere(~close)
        first = tuple(int(i) for i in bad[0])
        err = float(np.max(np.abs(got_np.astype(np.float64) - exp_np.astype(np.float64))))
        _fail(name, f"{len(bad)} of {exp_np.size} entries are wrong; first at index {first}: "
              f"got {got_np[first]!r}, expected {exp_np[first]!r} (largest error {err:.3g})", hint)


def check_scalar(got, expected: float, name: str, hint: str = "", rtol: float = 1e-7,
                 atol: float = 1e-9) -> None:
    """Assert that ``got`` is a real number (Python or NumPy scalar) close to ``expected``."""
    if isinstance(got, bool) or not isinstance(got, (int, float, np.integer, np.floating)):
        _fail(name, f"expected a number, got {_describe(got)}", hint)
    if not np.isclose(float(got), float(expected), rtol=rtol, atol=atol):
        _fail(name, f"expected {expected!r}, got {got!r}", hint)


def check_equal(got, expected, name: str, hint: str = "") -> None:
    """Assert exact equality for plain Python values (int, str, bool, tuples and lists of them)."""
    if type(got) is not type(expected):
        _fail(name, f"expected a {type(expected).__name__}, got {_describe(got)}", hint)
    if got != expected:
        _fail(name, f"expected {expected!r}, got {got!r}", hint)


def check_shape(got, expected_shape: tuple, name: str, hint: str = "") -> None:
    """Assert that ``got`` is an array or tensor of shape ``expected_shape``."""
    arr = as_numpy(got, name) if not isinstance(got, np.ndarray) else got
    if tuple(arr.shape) != tuple(expected_shape):
        _fail(name, f"expected shape {tuple(expected_shape)}, got {tuple(arr.shape)}", hint)


def _plain(value, key: str) -> np.ndarray:
    if isinstance(value, (bool, int, float, str, np.bool_, np.integer, np.floating)):
        return np.asarray(value)
    if isinstance(value, (list, tuple)):
        return np.asarray([_plain(v, key) for v in value])
    arr = as_numpy(value, key)
    if arr.dtype == object:
        raise TypeError(f"{key}: object arrays cannot be submitted")
    return arr


def submit(key: str, value, rtol: float = 1e-6, atol: float = 1e-9, target=None,
           max_mse: float | None = None) -> None:
    """Record ``value`` as the answer named ``key`` (``"<grade_id>/<name>"``) for the grader.

    ``value`` must be plain data: a numpy array, a torch tensor, a Python or NumPy
    number, bool or string, or a list/tuple of those.  The grader compares it with
    the answer the solution notebook submitted under the same key:

    * by default, floats within the solution's ``rtol``/``atol`` and everything
      else exactly: submit values that every correct solution reproduces;
    * with ``target`` and ``max_mse``, for predictions of a trained model, which
      differ between correct solutions: the mean squared error between ``value``
      and the *solution's* ``target`` must be at most the solution's ``max_mse``.
    """
    if not isinstance(key, str) or not _KEY.match(key) or "__" in key:
        raise ValueError(f"answer key must look like 'grade_id/name' (letters, digits, '_', '-', '.'; "
                         f"no '__'), got {key!r}")
    if (target is None) != (max_mse is None):
        raise ValueError("give both target and max_mse, or neither")
    arr = np.array(_plain(value, key), copy=True)
    meta = {"key": key, "rtol": float(rtol), "atol": float(atol)}
    if target is not None:
        target = np.array(_plain(target, key), copy=True)
        if target.shape != arr.shape:
            raise ValueError(f"{key}: target has shape {target.shape} but value has shape {arr.shape}")
        meta.update(mode="mse", max_mse=float(max_mse))
    folder = os.environ.get(ANSWERS_ENV)
    if folder:
        stem = os.path.join(folder, key.replace("/", "__"))
        with open(stem + ".npy", "wb") as handle:
            np.save(handle, arr, allow_pickle=False)
        if target is not None:
            with open(stem + ".target", "wb") as handle:
                np.save(handle, target, allow_pickle=False)
        with open(stem + ".json", "w") as handle:
            json.dump(meta, handle)
