"""The rules of CONTRIBUTING.md for test cells, read from the solution notebooks (no kernel)."""
import ast
import re
from pathlib import Path

import nbformat
import pytest

from rnncourse.grading import CHECKS, PROPERTY_CHECKS

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "solutions").glob("*/*.ipynb"))


def graded_test_cells(nb):
    for c in nb.cells:
        meta = c.metadata.get("nbgrader", {})
        if c.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            yield meta["grade_id"], c.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_check_takes_its_expected_value_as_a_function(path):
    nb = nbformat.read(path, as_version=4)
    for grade_id, source in graded_test_cells(nb):
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in CHECKS:
                if node.func.id in PROPERTY_CHECKS:   # a named property of the trusted table, no expected value
                    prop = node.args[2] if node.func.id == "check_property" else None
                    assert prop is None or isinstance(prop, ast.Constant), f"{grade_id}: name the property literally"
                else:
                    expected = node.args[2] if len(node.args) > 2 else next(
                        (k.value for k in node.keywords if k.arg == "expected"), None)
                    assert isinstance(expected, ast.Lambda), f"{grade_id}: {ast.unparse(node)[:120]}"
                key = node.args[0]
                assert isinstance(key, (ast.Constant, ast.JoinedStr)), f"{grade_id}: the key comes first"
                text = key.value if isinstance(key, ast.Constant) else ast.unparse(key)
                assert re.match(rf"^f?[\"']?{grade_id}/", text), f"{grade_id}: key {text} is not in this cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_public_test_cell_ends_by_saying_its_part_passed(path):
    nb = nbformat.read(path, as_version=4)
    part = None
    for c in nb.cells:
        meta = c.metadata.get("nbgrader", {})
        heading = re.match(r"## Part (\d+)", c.source) if c.cell_type == "markdown" else None
        if heading:
            part = heading.group(1)
        if meta.get("grade_id", "").endswith("_public") and meta.get("grade"):
            last = c.source.rstrip().splitlines()[-1]
            assert last == f'print("Part {part} public tests passed.")', f"{meta['grade_id']}: {last}"
