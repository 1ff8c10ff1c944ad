"""nbgrader preprocessor: test cells run at grading time without the code that computes expected values.

A test cell passes every expected value to a check as a function of no argument
(``check_array(key, got, lambda: ..., name)``); reference code that only those
functions use lives in functions named ``reference_*``.  During grading the checks
never call those functions (``rnncourse.grading``), and this preprocessor removes
them from the test cells before the kernel sees them: the expected argument
becomes ``None`` and ``reference_*`` definitions are dropped.  A submission, which
runs in the same kernel, can then neither observe an expected value nor compute
one with the test's own recipe (not even by reading the cell's source).
"""
from __future__ import annotations

import ast

from nbgrader.preprocessors import NbGraderPreprocessor

from rnncourse.grading import CHECKS

REFERENCE_PREFIX = "reference_"


class _Strip(ast.NodeTransformer):
    def visit_Call(self, node: ast.Call):
        self.generic_visit(node)
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name in CHECKS:
            if len(node.args) >= 3:
                node.args[2] = ast.Constant(None)
            for kw in node.keywords:
                if kw.arg == "expected":
                    kw.value = ast.Constant(None)
        return node

    def _drop_reference(self, node):
        if node.name.startswith(REFERENCE_PREFIX):
            return None
        self.generic_visit(node)
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _drop_reference


def strip_source(source: str) -> str:
    """``source`` with every check's expected argument replaced by None and ``reference_*`` definitions removed.

    Source that does not parse is returned unchanged (it fails at grading as it is).
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    tree = _Strip().visit(tree)
    ast.fix_missing_locations(tree)
    for node in ast.walk(tree):  # a body emptied by the removal still needs a statement
        for field in ("body", "orelse", "finalbody"):
            if field in node._fields and isinstance(getattr(node, field), list) and field == "body" \
                    and not getattr(node, field):
                setattr(node, field, [ast.Pass()])
    return ast.unparse(tree) + "\n"


class StripReferences(NbGraderPreprocessor):
    """Strip the expected-value code from every test cell (grade cells that are not answer cells)."""

    def preprocess_cell(self, cell, resources, index):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            cell.source = strip_source(cell.source)
        return cell, resources
