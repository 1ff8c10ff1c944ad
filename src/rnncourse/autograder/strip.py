"""nbgrader preprocessor: test cells run at grading time without the code that computes expected values.

A test cell passes every expected value to a check as a function of no argument
(``check_array(key, got, lambda: ..., name)``), and so does ``mistakes=`` (the values
that typical mistakes give, for a local diagnosis); reference code that only those
functions use lives in functions named ``reference_*``.  During grading the checks
never call those functions (``rnncourse.grading``), and this preprocessor removes
them from the test cells before the kernel sees them: the expected argument
and ``mistakes=`` become ``None``, so do the parameters of a property check (``p=...``, ``factor=...``:
the grader uses those the solution's run recorded), and ``reference_*`` definitions
become ``pass``.  A submission,
which runs in the same kernel, can then neither observe an expected value nor
compute one with the test's own recipe (not even by reading the cell's source).

Only those spans of the source change: comments, markers and the rest of the
cell stay as they were.
"""
from __future__ import annotations

import ast

from nbgrader.preprocessors import NbGraderPreprocessor

from rnncourse.grading import CHECKS, PROPERTY_CHECKS

REFERENCE_PREFIX = "reference_"


def _spans(tree: ast.AST) -> list[tuple[ast.AST, str]]:
    """(node, replacement) for every expected argument of a check and every reference_* definition."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in PROPERTY_CHECKS:   # no expected value; its parameters are the solution's at grading time
                found += [(kw.value, "None") for kw in node.keywords if kw.arg not in ("hint", None)]
            elif name in CHECKS:
                if len(node.args) >= 3:
                    found.append((node.args[2], "None"))
                found += [(kw.value, "None") for kw in node.keywords if kw.arg in ("expected", "target", "mistakes")]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                and node.name.startswith(REFERENCE_PREFIX):
            found.append((node, "pass"))
    return found


def strip_source(source: str) -> str:
    """``source`` with every check's expected argument replaced by None and ``reference_*`` definitions by pass.

    Source that does not parse is returned unchanged (it fails at grading as it is).
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    lines = source.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(lineno: int, col: int) -> int:  # ast columns count UTF-8 bytes
        return starts[lineno - 1] + len(lines[lineno - 1].encode()[:col].decode())

    edits = []
    for node, text in _spans(tree):
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        start = offset(first, node.col_offset) if first == node.lineno else offset(first, 0) + (
            len(lines[first - 1]) - len(lines[first - 1].lstrip()))
        edits.append((start, offset(node.end_lineno, node.end_col_offset), text))
    # outermost spans win (a lambda inside a removed reference_* function goes with it)
    edits.sort(key=lambda e: (e[0], -e[1]))
    kept, end = [], -1
    for edit in edits:
        if edit[0] >= end:
            kept.append(edit)
            end = edit[1]
    for start, stop, text in reversed(kept):
        source = source[:start] + text + source[stop:]
    return source


class StripReferences(NbGraderPreprocessor):
    """Strip the expected-value code from every test cell (grade cells that are not answer cells)."""

    def preprocess_cell(self, cell, resources, index):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            cell.source = strip_source(cell.source)
        return cell, resources
