"""A pre-grading scan: flag submissions that deserve a human look, and say why.

The scan never blocks grading and never changes a score; it reports. An honest
submission (one that only fills in the answer cells) gets no flags.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

MAX_NOTEBOOK_BYTES = 20 * 2**20

SUSPICIOUS_CALLS = {
    "get_ipython": "touches the IPython shell (can rewrite or skip test cells)",
    "settrace": "installs a tracer (can alter running tests)",
    "setprofile": "installs a profiler hook",
    "_exit": "can kill the kernel",
    "fork": "starts processes",
    "system": "runs shell commands",
    "exec": "executes generated code",
    "eval": "evaluates generated code",
    "__import__": "imports modules dynamically",
    "import_module": "imports modules dynamically",
    "get_referents": "reaches into other objects' internals",
    "get_referrers": "reaches into other objects' internals",
    "setattr": "changes attributes of objects it does not own",
}
BARE_NAME_ONLY = {"eval", "exec", "__import__", "setattr", "get_ipython"}
SUSPICIOUS_MODULES = {"ctypes", "gc", "subprocess", "socket", "signal", "multiprocessing", "importlib",
                      "builtins", "ast", "inspect", "sqlite3", "sqlalchemy", "nbgrader", "nbformat", "shutil"}
PROTECTED_MODULES = {"np", "numpy", "torch", "rnncourse", "grading", "builtins", "sys", "math"}
PROTECTED_NAMES = {"check_array", "check_scalar", "check_equal", "check_shape", "check_mse", "submit", "print"}
PATH_WORDS = re.compile(r"gradebook|solutions/|\.db\b|autograded/|submitted/|nbgrader|\.grading", re.I)


@dataclass
class Flag:
    where: str
    why: str


def _cell_name(cell, index: int) -> str:
    gid = cell.metadata.get("nbgrader", {}).get("grade_id")
    return f"cell {index}" + (f" ({gid})" if gid else "")


def _namespace(node, modules: set) -> bool:
    """``globals()``, ``vars(...)``, ``locals()`` or ``<module>.__dict__``: a namespace, not a container."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("globals", "vars", "locals"):
        return True
    return isinstance(node, ast.Attribute) and node.attr == "__dict__"


def scan_code(source: str, where: str) -> list[Flag]:
    """Flags for one code cell's source."""
    flags = []
    try:
        tree = ast.parse(source)
    except SyntaxError:
        # IPython magics and shell escapes are not Python; look at them as text
        if re.search(r"^\s*[!%]", source, re.M):
            flags.append(Flag(where, "uses IPython magics or shell escapes"))
        return flags
    modules = set(PROTECTED_MODULES)  # names bound to imported modules, aliases included
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules.update((a.asname or a.name).split(".")[0] for a in node.names)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                root = name.split(".")[0]
                if root == "rnncourse" and name not in ("rnncourse.grading",) and not (
                        isinstance(node, ast.ImportFrom) and name == "rnncourse"
                        and all(a.name == "grading" for a in node.names)):
                    flags.append(Flag(where, f"imports the course's reference package ({name}): "
                                             "answers must be the student's own code"))
                elif root in SUSPICIOUS_MODULES:
                    flags.append(Flag(where, f"imports {name}"))
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if isinstance(func, ast.Attribute) and name in BARE_NAME_ONLY:
                continue  # model.eval() is no eval()
            if name in SUSPICIOUS_CALLS:
                flags.append(Flag(where, f"calls {name}(): {SUSPICIOUS_CALLS[name]}"))
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute):
                    base = target.value
                    while isinstance(base, ast.Attribute):
                        base = base.value
                    if isinstance(base, ast.Name) and base.id in modules:
                        flags.append(Flag(where, f"replaces {ast.unparse(target)} (monkeypatching a library "
                                                 "the tests rely on)"))
                elif isinstance(target, ast.Name) and target.id in PROTECTED_NAMES:
                    flags.append(Flag(where, f"redefines the test helper {target.id}"))
                elif isinstance(target, ast.Subscript) and _namespace(target.value, modules):
                    flags.append(Flag(where, f"rebinds names through {ast.unparse(target.value)} (can replace "
                                             "the test helpers or what the tests see)"))
        elif isinstance(node, ast.FunctionDef) and node.name in PROTECTED_NAMES:
            flags.append(Flag(where, f"redefines the test helper {node.name}"))
        elif isinstance(node, ast.FunctionDef) and node.name in ("__eq__", "__ne__", "__array_ufunc__",
                                                                 "__array_function__"):
            flags.append(Flag(where, f"defines {node.name} (an object that can claim to equal any answer)"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and PATH_WORDS.search(node.value):
            flags.append(Flag(where, f"mentions course files ({node.value[:60]!r})"))
    return flags


def scan_submission(path: Path, release_nb_path: Path) -> list[Flag]:
    """Flags for one submitted notebook compared with the released student version."""
    from .prepare import link_problem, read_submitted

    path, flags = Path(path), []
    problem = link_problem(path)   # a link is never followed: what it points to is not read
    if problem:
        return [Flag(path.name, problem)]
    if not path.exists():
        return [Flag(path.name, f"the notebook is missing: expected {release_nb_path.name}")]
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        flags.append(Flag(path.name, f"the notebook is {path.stat().st_size / 2**20:.0f} MiB (huge outputs?)"))
    try:
        nb = nbformat.reads(read_submitted(path), as_version=4)
    except Exception as error:  # noqa: BLE001 - any unreadable file is reported
        return flags + [Flag(path.name, f"not a readable notebook ({type(error).__name__}): cannot be graded")]
    release = nbformat.read(release_nb_path, as_version=4)
    released = {c.metadata["nbgrader"]["grade_id"]: c for c in release.cells if "nbgrader" in c.metadata}
    seen = set()
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        gid = meta.get("grade_id")
        where = _cell_name(cell, index)
        if gid in released:
            seen.add(gid)
            original = released[gid]
            orig_meta = original.metadata["nbgrader"]
            if orig_meta.get("locked") and cell.source != original.source:
                flags.append(Flag(where, "a locked or test cell was edited (the grader restores it)"))
            for key in ("points", "grade", "solution", "locked"):
                if meta.get(key) != orig_meta.get(key):
                    flags.append(Flag(where, f"nbgrader metadata '{key}' changed from {orig_meta.get(key)!r} "
                                             f"to {meta.get(key)!r}"))
        locked = gid in released and released[gid].metadata["nbgrader"].get("locked")
        if cell.cell_type == "code" and not locked:  # locked cells are restored by the grader anyway
            flags.extend(scan_code(cell.source, where))
    for gid in sorted(set(released) - seen):
        if released[gid].metadata["nbgrader"].get("grade") or released[gid].metadata["nbgrader"].get("locked"):
            flags.append(Flag(gid, "a graded or locked cell was deleted (the grader restores it)"))
    return flags


def scan_folder(folder: Path, release_dir: Path) -> list[Flag]:
    """Scan one student's submission folder against the released assignment folder."""
    flags = []
    expected = sorted(p.name for p in release_dir.glob("*.ipynb"))
    present = sorted(p.name for p in Path(folder).glob("*.ipynb"))
    for name in expected:
        if name not in present:
            others = ", ".join(present) or "none"
            flags.append(Flag(name, f"expected notebook {name} was not submitted (found: {others})"))
        else:
            flags.extend(scan_submission(Path(folder) / name, release_dir / name))
    return flags
