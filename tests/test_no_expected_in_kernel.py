"""At grading time no expected value of any test exists in the student's kernel.

Each solution notebook runs twice, with its hidden tests:

1. as in the student's environment, with a cell after the setup that records every
   expected value the checks compute (the values of the functions they are given;
   a function that only returns an object the cell already holds, an input such as
   ``lambda: c``, computes nothing and is left out);
2. as the grader runs it (test cells stripped, ``RNNCOURSE_ANSWERS_DIR`` set), with a
   cell after the setup that records, from inside the kernel, a fingerprint of every
   array, tensor and float it can reach: the arguments and the caller's variables at
   every check, and after every test cell the namespace and every array or tensor that
   any garbage-collected object refers to.

No expected value of run 1 may appear among the objects of run 2, except the
student's own answers (a correct answer equals its expected value) and whole numbers
(0.0, 1.0, ...), which are everywhere.
"""
import json
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from harness import ROOT

pytestmark = pytest.mark.slow

CHAPTERS = ["ch01_rnn_basics", "ch02_char_lm", "ch05_lstm_gru", "ch08_pixel_mnist"]

FINGERPRINT = '''
import hashlib as _hashlib, sys as _sys, numpy as _np, torch as _torch

def _fp(x):
    """dtype, shape and a hash of the bytes of a float or integer array, tensor or float; None otherwise."""
    try:
        if isinstance(x, _torch.Tensor):
            a = x.detach().cpu().numpy()
        elif isinstance(x, _np.ndarray):
            a = x
        elif isinstance(x, (float, _np.floating)):
            a = _np.asarray(x, dtype=_np.float64)
        else:
            return None
    except Exception:
        return None
    if a.dtype.kind not in "fciu" or (a.dtype.kind in "iu" and a.size < 2):
        return None
    if a.size == 1 and float(_np.real(a.reshape(-1)[0])).is_integer():
        return None  # 0.0, 1.0, 3.0...: such numbers are everywhere, they identify nothing
    a = _np.ascontiguousarray(a)
    return f"{a.dtype.str}{a.shape}{_hashlib.sha1(a.tobytes()).hexdigest()}"
'''

RECORD_EXPECTED = FINGERPRINT + '''
import json as _json, rnncourse.grading as _grading
_EXPECTED = []

def _held(frame):
    ids = set()
    for value in list(frame.f_locals.values()) + list(frame.f_globals.values()):
        ids.add(id(value))
        if isinstance(value, (list, tuple, dict)):
            ids.update(id(v) for v in list(value.values() if isinstance(value, dict) else value)[:1000])
    return ids

def _recording(check):
    def wrapper(*args, **kwargs):
        if args and isinstance(args[0], str) and "/" in args[0]:  # check(key, got, expected, name, ...)
            expected = args[2] if len(args) > 2 else kwargs.get("expected", kwargs.get("target"))
            if callable(expected):
                held = _held(_sys._getframe(1))
                value = expected()
                if id(value) not in held:
                    _EXPECTED.append((args[0], _fp(value)))
        elif len(args) >= 2:  # the checks of old: check(got, expected, name, ...)
            _EXPECTED.append((str(args[2]) if len(args) > 2 else "", _fp(args[1])))
        return check(*args, **kwargs)
    return wrapper

for _name in ["check_array", "check_scalar", "check_equal", "check_shape", "check_mse"]:
    if _name in globals():
        globals()[_name] = _recording(globals()[_name])
'''

RECORD_KERNEL = FINGERPRINT + '''
import gc as _gc, json as _json
_SEEN = set()

def _add(x, depth=0):
    f = _fp(x)
    if f:
        _SEEN.add(f)
    elif depth < 3 and isinstance(x, dict):
        for v in list(x.values())[:10000]:
            _add(v, depth + 1)
    elif depth < 3 and isinstance(x, (list, tuple)):
        for v in list(x)[:10000]:
            _add(v, depth + 1)

def _observing(check):
    def wrapper(*args, **kwargs):
        frame = _sys._getframe(1)
        _add(list(args) + list(kwargs.values()))
        _add(dict(frame.f_locals))
        _add(dict(frame.f_globals))
        return check(*args, **kwargs)
    return wrapper

def _after_cell(result=None):
    _add({k: v for k, v in globals().items() if not k.startswith("_")})
    for obj in _gc.get_objects():
        if isinstance(obj, (_np.ndarray, _torch.Tensor)):
            _add(obj)
        elif isinstance(obj, (dict, list, tuple)) or type(obj).__name__ in ("frame", "cell", "function"):
            for ref in _gc.get_referents(obj):
                if isinstance(ref, (_np.ndarray, _torch.Tensor, float)):
                    _add(ref)

for _name in ["check_array", "check_scalar", "check_equal", "check_shape", "check_mse", "submit"]:
    if _name in globals():
        globals()[_name] = _observing(globals()[_name])
'''


def run(nb, folder: Path, first: str, last: str, after_tests: str = "") -> None:
    cells = []
    for c in nbformat.from_dict(nb).cells:
        meta = c.metadata.get("nbgrader", {})
        cells.append(c)
        if meta.get("grade_id") == "setup":
            cells.append(nbformat.v4.new_code_cell(first))
        elif after_tests and meta.get("grade") and not meta.get("solution"):
            cells.append(nbformat.v4.new_code_cell(after_tests))
    nb = nbformat.from_dict(nb)
    nb.cells = cells + [nbformat.v4.new_code_cell(last)]
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()


def fingerprint(x):
    namespace = {}
    exec(FINGERPRINT, namespace)
    return namespace["_fp"](x)


def strip(nb):
    try:
        from rnncourse.autograder.strip import StripReferences
    except ImportError:  # a grader without stripping runs the test cells as they are
        return nb
    return StripReferences().preprocess(nb, {})[0]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_no_expected_value_exists_in_the_kernel_at_grading_time(chapter, tmp_path, monkeypatch):
    source = nbformat.read(ROOT / "solutions" / chapter / f"{chapter}.ipynb", as_version=4)

    monkeypatch.delenv("RNNCOURSE_ANSWERS_DIR", raising=False)
    expected_file = tmp_path / "expected.json"
    run(source, tmp_path, RECORD_EXPECTED, f"_json.dump(_EXPECTED, open({str(expected_file)!r}, 'w'))")
    expected = [(key, fp) for key, fp in json.loads(expected_file.read_text()) if fp]
    assert len(expected) > 10, "the recording saw no expected values"

    answers = tmp_path / "answers"
    answers.mkdir()
    monkeypatch.setenv("RNNCOURSE_ANSWERS_DIR", str(answers))
    seen_file = tmp_path / "seen.json"
    run(strip(nbformat.from_dict(source)), tmp_path, RECORD_KERNEL,
        f"_after_cell(); _json.dump(sorted(_SEEN), open({str(seen_file)!r}, 'w'))", after_tests="_after_cell()")
    seen = set(json.loads(seen_file.read_text()))
    own_answers = {fingerprint(np.load(p, allow_pickle=False)) for p in answers.glob("*.npy")}
    assert len(own_answers) > 10, "the grading run recorded no answers"

    found = sorted({key for key, fp in expected if fp in seen and fp not in own_answers})
    assert not found, f"{chapter}: expected values present in the kernel at grading time: {found}"
