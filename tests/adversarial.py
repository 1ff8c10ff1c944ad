"""Submissions that try to fool the grader, each with the score it deserves.

Every kind starts from an honest submission (the released notebook with the
answer cells filled in) and changes it the way a cheating, careless or broken
submission would.  ``part`` is a part that no other part depends on.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Callable

import importlib
import sys
from pathlib import Path

import nbformat

from harness import cell

sys.path.insert(0, str(Path(__file__).parent / "variants"))


def honest(solution, release):
    """The released notebook with every answer cell filled in from the solution."""
    nb = copy.deepcopy(release)
    for c in nb.cells:
        meta = c.metadata.get("nbgrader", {})
        if meta.get("solution"):
            c.source = cell(solution, meta["grade_id"]).source
    return nb


def stub(nb, release, part):
    cell(nb, part).source = cell(release, part).source
    return nb


def replace_body(nb, release, part, body: str):
    """The part's answer cell with ``raise NotImplementedError()`` replaced by ``body`` (indented)."""
    source = cell(release, part).source
    indent = source.split("raise NotImplementedError()")[0].split("\n")[-1]
    body = body.strip("\n").replace("\n", "\n" + indent)
    cell(nb, part).source = source.replace("raise NotImplementedError()", body)
    return nb


def add_cell_after_setup(nb, code: str):
    new = nbformat.v4.new_code_cell(code)
    index = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "setup")
    nb.cells.insert(index + 1, new)
    return nb


@dataclass
class Kind:
    name: str
    make: Callable  # (solution, release, part, info) -> notebook, or bytes for a broken file
    expected: str   # "full", "zero", "others" (total minus the part's points) or "at_most_others"
    flagged: bool = False
    file_name: str | None = None
    tags: set = field(default_factory=set)


AST_ATTACK = '''
import ast
class _SkipTests(ast.NodeTransformer):
    def visit_Module(self, node):
        if "{target}" in ast.unparse(node) and "def " not in ast.unparse(node):
            return ast.Module(body=[ast.Pass()], type_ignores=[])
        return node
get_ipython().ast_transformers.append(_SkipTests())
'''

ALWAYS_EQUAL = '''
class _Anything:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __array__(self, *a, **k): raise TypeError("no")
    shape = property(lambda self: None)
return _Anything()
'''

PATCH_LIBRARIES = '''
import numpy as _np, numpy.testing as _npt
_np.allclose = lambda *a, **k: True
_np.isclose = lambda a, b, *r, **k: _np.ones(_np.broadcast(a, b).shape, dtype=bool)
_np.array_equal = lambda *a, **k: True
_npt.assert_allclose = lambda *a, **k: None
'''

PATCH_HELPERS = '''
import rnncourse.grading as _g
for _name in list(_g.CHECKS) + ["submit"]:
    setattr(_g, _name, lambda *a, **k: None)
    globals()[_name] = lambda *a, **k: None
'''

# A submission with no solution at all: every answer function returns None, and a cell after the
# setup replaces the checks with versions that hand in the test's own expected value instead of the
# student's (calling it when it is a function, as the checks take it), and remember the last
# expected value for a later submit() (as the checks of old took it: got, expected, name).
OBSERVER = '''
import rnncourse.grading as _g
_names = [n for n in ["check_array", "check_scalar", "check_equal", "check_shape", "check_mse", "submit"] if hasattr(_g, n)]
_orig, _seen = {n: getattr(_g, n) for n in _names}, {}

def _observing(name):
    def check(*args, **kwargs):
        args = list(args)
        try:
            if name == "submit":
                return _orig["submit"](args[0], _seen.pop("value", args[1]), *args[2:], **kwargs)
            if len(args) >= 3 and isinstance(args[0], str) and "/" in args[0]:
                expected = args[2] if "expected" not in kwargs else kwargs["expected"]
                value = expected() if callable(expected) else expected
                if value is not None:
                    args[1] = value
                return _orig[name](*args, **kwargs)
            if len(args) >= 2:
                _seen["value"] = args[1]
        except Exception:
            pass
    return check

for _n in _names:
    _g.__dict__[_n] = _observing(_n)
    globals()[_n] = _g.__dict__[_n]
'''

WALK = '''
import os
def _walk(names, limit=20000):
    roots, seen, found = [], 0, []
    here = os.getcwd()
    for _ in range(5):
        roots.append(here)
        here = os.path.dirname(here)
    for root in roots + ["/tmp", "/work", "/root", "/home"]:
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d not in (".venv", "site-packages", ".git", "proc", "node_modules")]
            seen += 1
            found += [os.path.join(folder, f) for f in files if f in names or folder.endswith(tuple(names))]
            if seen > 3000:
                return found
    return found
'''

READ_SOLUTIONS = WALK + '''
import json
for _path in [p for p in _walk({"NOTEBOOK"}) if "solutions" in p]:
    try:
        for _c in json.load(open(_path))["cells"]:
            if _c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "{part}":
                exec("".join(_c["source"]), globals())
    except Exception:
        pass
'''

WRITE_GRADEBOOK = WALK + '''
import sqlite3
for _path in _walk({"gradebook.db"}) + ["../../../gradebook.db"]:
    try:
        _db = sqlite3.connect(_path)
        _db.execute("UPDATE grade SET manual_score = 1000")
        _db.commit()
    except Exception:
        pass
'''


STASH_MARK = "STASHED-BY-STUDENT-CODE"  # printed by STASH; its source spells it in pieces

# student code that, called by the tests, prints what they pass in, stashes it in a file and prints it again
# later (a value printed during grading must never reach the student's feedback)
STASH = """
import functools as _functools

def _stash(f):
    @_functools.wraps(f)
    def wrapper(*args, **kwargs):
        line = "-".join(["STASHED", "BY", "STUDENT", "CODE"]) + " " + repr(args)[:300]
        print(line)
        with open("stash.txt", "a") as handle:
            handle.write(line + "\\n")
        return f(*args, **kwargs)
    return wrapper

{name} = _stash({name})
"""

FILL_DISK = """
import os
block = b"x" * 2**20
for i in range(10_000):  # 10 GiB in 8 MiB files, past any sane bound
    with open(f"junk{i}.bin", "wb") as handle:
        for _ in range(8):
            handle.write(block)
"""


def function_name(release, part: str) -> str:
    return next(l for l in cell(release, part).source.splitlines() if l.startswith("def "))[4:].split("(")[0]


def as_raw(nb, change) -> bytes:
    """The notebook as JSON after ``change(dict)``, written without nbformat's own fixes."""
    data = json.loads(nbformat.writes(nb))
    change(data)
    return json.dumps(data, indent=1).encode()


def messy_kinds() -> list[Kind]:
    """Honest answers in notebooks that editors damaged (each must score full marks after repair), and
    a submission that writes past the disk bound."""
    def from_honest(change):
        def make(solution, release, part, info):
            return change(honest(solution, release), release, part)
        return make

    def duplicated(nb, release, part):
        for gid in (part, f"{part}_public"):  # copy-paste in JupyterLab keeps the nbgrader metadata
            index = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == gid)
            twin = copy.deepcopy(nb.cells[index])
            twin["id"] = f"pasted-{gid}".replace("_", "-")
            nb.cells.insert(index + 1, twin)
        return nb

    def changed_types(nb, release, part):
        for c in nb.cells:
            gid = c.metadata.get("nbgrader", {}).get("grade_id")
            if gid == part:
                c.cell_type = "raw"
                c.pop("outputs", None), c.pop("execution_count", None)
            elif gid == f"{part}_public" or gid == "setup":
                c.cell_type = "markdown"
                c.pop("outputs", None), c.pop("execution_count", None)
            elif gid == "intro":
                c.cell_type, c["outputs"], c["execution_count"] = "code", [], None
        return nb

    def scratch(nb, release, part):
        index = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == part)
        nb.cells.insert(index + 1, nbformat.v4.new_code_cell("scratch = [1, 2, 3]\nprint(sum(scratch))"))
        nb.cells.insert(index + 1, nbformat.v4.new_markdown_cell("My notes: check the shapes first."))
        foreign = nbformat.v4.new_code_cell("print('from another notebook')")
        foreign.metadata["nbgrader"] = {"grade": True, "grade_id": "cell-0123abcd", "locked": False, "points": 5,
                                        "schema_version": 3, "solution": False, "task": False}
        nb.cells.insert(index + 1, foreign)
        return nb

    def other_kernelspec(nb, release, part):
        nb.metadata["kernelspec"] = {"name": "my-env", "display_name": "Python (my env)", "language": "python"}
        return nb

    def no_ids(solution, release, part, info):
        return as_raw(honest(solution, release), lambda d: [c.pop("id", None) for c in d["cells"]])

    def old_format(solution, release, part, info):
        def change(d):
            d["nbformat_minor"] = 4
            for c in d["cells"]:
                c.pop("id", None)
        return as_raw(honest(solution, release), change)

    def fill_disk(solution, release, part, info):
        return replace_body(honest(solution, release), release, part, FILL_DISK + "return 0")

    return [
        Kind("fills_the_disk", fill_disk, "others", tags={"disk"}),
        Kind("duplicated_grade_ids", from_honest(duplicated), "full", tags={"messy"}),
        Kind("changed_cell_types", from_honest(changed_types), "full", tags={"messy"}),
        Kind("scratch_cells", from_honest(scratch), "full", tags={"messy"}),
        Kind("missing_cell_ids", no_ids, "full", tags={"messy"}),
        Kind("older_nbformat_minor", old_format, "full", tags={"messy"}),
        Kind("other_kernelspec", from_honest(other_kernelspec), "full", tags={"messy"}),
    ]


# verdicts computed in the kernel would all come out true: none is scored, so this gains nothing
PATCH_BUILTINS = '''
import builtins as _builtins, numpy as _np
_np.all = lambda *a, **k: True
_np.any = lambda *a, **k: False
_np.isclose = lambda a, b, *r, **k: _np.ones(_np.broadcast(a, b).shape, dtype=bool)
_builtins.abs = lambda value: 0.0
_builtins.bool = lambda *a, **k: True
_builtins.isinstance = lambda *a, **k: True
'''


def honest_variant(solution, release, part, info):
    """Every answer cell written differently from the reference, within the instructions
    (``tests/variants/<assignment>.py``'s ``VARIANT``): it must score full marks."""
    nb = honest(solution, release)
    for grade_id, source in importlib.import_module(info["notebook"][:-len(".ipynb")]).VARIANT.items():
        cell(nb, grade_id).source = source.strip("\n")
    return nb


def patched_builtins(solution, release, part, info):
    """Every answer returns 0, after a first cell that patches bool, abs, isinstance, numpy.all/any/isclose."""
    nb = copy.deepcopy(release)
    for c in nb.cells:
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution"):
            c.source = "\n".join(line.replace("raise NotImplementedError()", "return 0")
                                 for line in c.source.splitlines())
    return add_cell_after_setup(nb, PATCH_BUILTINS)


def kinds(info: dict) -> list[Kind]:
    module, function = info.get("delegate", (None, None))

    def from_honest(change):
        def make(solution, release, part, info):
            return change(honest(solution, release), release, part)
        return make

    def body(code):
        return from_honest(lambda nb, release, part: replace_body(nb, release, part, code))

    def read_solutions(nb, release, part):
        nb = stub(nb, release, part)
        code = READ_SOLUTIONS.replace("{part}", part).replace("NOTEBOOK", info["notebook"])
        cell(nb, part).source = cell(nb, part).source + "\n" + code
        return nb

    def stub_then(change):
        return from_honest(lambda nb, release, part: change(stub(nb, release, part), part))

    def drop_cell(nb, part):
        nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != f"{part}_public"]
        return nb

    def edit_test(nb, part):
        cell(nb, f"{part}_public").source = "pass"
        return nb

    def edit_locked(nb, part):
        cell(nb, "setup").source += "\ncheck_array = check_equal = check_scalar = check_shape = lambda *a, **k: None\n"
        return nb

    def ast_attack(nb, release, part):
        nb = stub(nb, release, part)
        target = info["target"]
        return add_cell_after_setup(nb, AST_ATTACK.replace("{target}", target))

    def alter_points(nb, release, part):
        for c in nb.cells:
            if c.metadata.get("nbgrader", {}).get("grade"):
                c.metadata["nbgrader"]["points"] = 100
        return nb

    def huge_output(nb, release, part):
        cell(nb, part).source = 'print("spam " * 2_000_000)\nfor _ in range(200):\n    print("x" * 100_000)\n' + \
            cell(nb, part).source
        return nb

    def noisy(nb, release, part):
        """The part's function writes to stderr and warns every time a test calls it."""
        name = next(l for l in cell(release, part).source.splitlines() if l.startswith("def "))[4:].split("(")[0]
        cell(nb, part).source += (
            "\nimport functools, sys, warnings\n\n"
            f"def _noisy(f):\n    @functools.wraps(f)\n    def wrapper(*args, **kwargs):\n"
            "        sys.stderr.write('debug: called\\n')\n"
            "        warnings.warn('a library warning', UserWarning)\n"
            "        return f(*args, **kwargs)\n    return wrapper\n\n"
            f"{name} = _noisy({name})\n")
        return nb

    def fake_pass(nb, release, part):
        nb = stub(nb, release, part)
        return add_cell_after_setup(nb, 'print("All tests passed! Score: 100/100")\n'
                                        'import sys; sys.stdout.write("Part 4 public tests passed.\\n")')

    def syntax_error(nb, release, part):
        cell(nb, part).source = cell(nb, part).source.replace("def ", "def def ", 1)
        return nb

    def import_error(nb, release, part):
        cell(nb, part).source = "import module_that_does_not_exist\n" + cell(nb, part).source
        return nb

    def kernel_death(nb, release, part):
        cell(nb, part).source = "import os\nos._exit(1)\n" + cell(nb, part).source
        return nb

    def corrupt(solution, release, part, info):
        return b'{"cells": [ {"cell_type": "code", "source": "truncated'

    def observer(solution, release, part, info):
        nb = copy.deepcopy(release)
        for c in nb.cells:
            if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code":
                c.source = c.source.replace("raise NotImplementedError()", "return None")
        return add_cell_after_setup(nb, OBSERVER)

    def delegate(nb, release, part):
        nb = stub(nb, release, part)
        code = f"from {module} import {function} as _reference\nreturn _reference(*args, **kwargs)"
        source = cell(release, part).source
        signature_line = next(l for l in source.splitlines() if l.startswith("def "))
        name = signature_line[4:].split("(")[0]
        cell(nb, part).source = f"def {name}(*args, **kwargs):\n    " + code.replace("\n", "\n    ") + "\n"
        return nb

    def stash(nb, release, part):
        cell(nb, part).source += STASH.replace("{name}", function_name(release, part))
        return nb

    wrong_name = Kind("wrong_file_name", from_honest(lambda nb, release, part: nb), "zero", flagged=True,
                      file_name="homework.ipynb")
    return [
        Kind("honest_solution", from_honest(lambda nb, release, part: nb), "full", tags={"core"}),
        Kind("blank_student_version", lambda solution, release, part, info: copy.deepcopy(release), "zero",
             tags={"core"}),
        Kind("one_wrong_part", from_honest(stub), "others", tags={"core"}),
        Kind("honest_variant", honest_variant, "full", tags={"core"}),
        Kind("patched_builtins", patched_builtins, "zero", tags={"core"}),
        Kind("syntax_error", from_honest(syntax_error), "others"),
        Kind("exception_at_import", from_honest(import_error), "others"),
        Kind("infinite_loop", body("while True:\n    pass"), "others"),
        Kind("sleep_past_limit", body("import time\ntime.sleep(10_000)"), "others"),
        Kind("memory_bomb", body("blocks = []\nwhile True:\n    blocks.append(bytearray(2**28))"), "others"),
        Kind("fork_bomb", body("import os\nwhile True:\n    os.fork()"), "others", flagged=True),
        Kind("kernel_death", from_honest(kernel_death), "zero", flagged=True),
        Kind("deleted_test_cell", stub_then(drop_cell), "others", flagged=True),
        Kind("edited_test_cell", stub_then(edit_test), "others", flagged=True),
        Kind("edited_locked_cell", stub_then(edit_locked), "others", flagged=True),
        Kind("ast_transformer", from_honest(ast_attack), "others", flagged=True),
        Kind("always_equal_object", body(ALWAYS_EQUAL), "others", flagged=True, tags={"core"}),
        Kind("monkeypatched_numpy", body(PATCH_LIBRARIES + "return 0"), "others", flagged=True),
        # disabling the helpers also silences the answers of every later test: those cells lose their points too
        Kind("monkeypatched_test_helpers", body(PATCH_HELPERS + "return 0"), "at_most_others", flagged=True,
             tags={"core"}),
        # no solution, only code that observes the test cells' expected values and hands them in
        Kind("observes_test_cells", observer, "zero", flagged=True, tags={"core"}),
        Kind("delegates_to_reference", from_honest(delegate), "others", flagged=True, tags={"core"}),
        Kind("reads_solutions_from_disk", from_honest(read_solutions), "others", flagged=True),
        Kind("writes_gradebook", body(WRITE_GRADEBOOK + "return 0"), "others", flagged=True),
        Kind("fake_all_passed_print", from_honest(fake_pass), "others"),
        Kind("altered_points_metadata", from_honest(alter_points), "full", flagged=True),
        Kind("huge_output", from_honest(huge_output), "full"),
        Kind("stderr_and_warnings", from_honest(noisy), "full", tags={"core"}),
        Kind("prints_test_inputs", from_honest(stash), "full", tags={"core"}),
        Kind("corrupt_notebook", corrupt, "zero", flagged=True),
        wrong_name,
    ]
