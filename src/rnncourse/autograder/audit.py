"""A static audit of the test cells of a solution notebook: which checks are fair at grading time.

At grading time a check's expected-value function is never called: the student's
recorded value is compared with the value that the *solution's* run recorded under
the same key.  That is fair only when the expected value does not depend on the
student's own output.  A function such as ``lambda: (x[:, :, 0] * marks).sum(1)``,
where ``x`` came from the student's ``adding_problem``, is a consistency check:
locally it passes for every correct answer, at grading time it compares with the
solution's random draws.  Such checks must be ``check_property`` (a predicate from
the grader's trusted table, judged outside the kernel on the recorded data).

Two rules, checked by ``audit_notebook``:

* **self-reference**: an expected-value function (the third argument of a check, or
  ``expected=`` / ``target=``) must not read a name that holds the student's output:
  a name defined by an answer cell, or one that a test cell assigned from an
  expression reading such a name (followed through assignments, loops and ``with``,
  across cells in notebook order), or an argument a student function was given (it
  may have changed it in place);
* **verdict**: no check may score a boolean computed in the kernel: an expected
  function that returns ``True`` or ``False`` is allowed only when the value checked
  is an attribute of the student's object (``p.requires_grad``), never a comparison,
  a call (``bool(...)``, ``np.all(...)``, ``isinstance(...)``) or a flag the cell set.

``python -m rnncourse.autograder.audit`` prints the table of every check of every
solution notebook (kind, rule broken).
"""
from __future__ import annotations

import ast
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from rnncourse.grading import CHECKS, PROPERTY_CHECKS




@dataclass
class Finding:
    notebook: str
    grade_id: str
    key: str       # the check's answer key as written (an f-string shows as its source)
    check: str     # check_array, check_property, ...
    kind: str      # "compared with the solution", "property", "predictions scored"
    problem: str   # empty when the check is fair, else which rule it breaks and why


def _names(node: ast.AST) -> set[str]:
    """Names read anywhere inside ``node`` (a lambda's own parameters excluded)."""
    found, bound = set(), set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Lambda):
            bound |= {a.arg for a in sub.args.args + sub.args.kwonlyargs}
        elif isinstance(sub, ast.comprehension):
            bound |= {n.id for n in ast.walk(sub.target) if isinstance(n, ast.Name)}
        elif isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load):
            found.add(sub.id)
    return found - bound


def _targets(node: ast.AST) -> set[str]:
    """Names bound by an assignment target (``a``, ``a, b``, ``a[i]`` and ``a.x`` bind ``a``)."""
    if isinstance(node, (ast.Tuple, ast.List)):
        return set().union(*[_targets(e) for e in node.elts]) if node.elts else set()
    if isinstance(node, ast.Starred):
        return _targets(node.value)
    root = _root(node)
    return {root} if root else set()


def _root(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _defined_names(source: str) -> set[str]:
    """Top-level names an answer cell binds (functions, classes, variables; not imported modules)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                names |= _targets(target)
    return names   # modules an answer cell imports are the library's, not the student's output


class _Taint(ast.NodeVisitor):
    """Follows which names hold the student's output through one cell's statements."""

    def __init__(self, student: set[str], tainted: set[str]):
        self.student, self.tainted = student, tainted

    def reads_student(self, node: ast.AST) -> bool:
        return bool(_names(node) & (self.student | self.tainted))

    def _mark_arguments(self, node: ast.AST) -> None:
        """A student function called for its effect (its result unused) changes its first argument in place."""
        if isinstance(node, ast.Call) and _names(node.func) & self.student and node.args:
            root = _root(node.args[0])
            if root:
                self.tainted.add(root)

    def _bind(self, targets, value, replace: bool = True) -> None:
        if self.reads_student(value):
            for target in targets:
                self.tainted |= _targets(target)
        elif replace:   # a plain name given a new value from test data no longer holds the student's output
            for target in targets:
                for sub in ([target] if isinstance(target, ast.Name) else
                            target.elts if isinstance(target, (ast.Tuple, ast.List)) else []):
                    if isinstance(sub, ast.Name):
                        self.tainted.discard(sub.id)

    def visit_Assign(self, node):
        self._bind(node.targets, node.value)

    def visit_AnnAssign(self, node):
        if node.value is not None:
            self._bind([node.target], node.value)

    def visit_AugAssign(self, node):
        self._bind([node.target], node.value, replace=False)

    def visit_NamedExpr(self, node):
        self._bind([node.target], node.value)

    def visit_Expr(self, node):
        self._mark_arguments(node.value)
        self.generic_visit(node)

    def visit_For(self, node):
        target = node.target
        if (isinstance(node.iter, ast.Call) and _call_name(node.iter) == "enumerate"
                and isinstance(target, ast.Tuple) and len(target.elts) == 2):
            target = target.elts[1]   # the index of enumerate(...) is a count, not the student's output
        rows = node.iter.elts if isinstance(node.iter, (ast.List, ast.Tuple)) else None
        if (rows and isinstance(target, ast.Tuple) and all(isinstance(r, ast.Tuple) and len(r.elts) == len(target.elts)
                                                      for r in rows)):
            # a literal table of cases: each column is judged on its own
            for column, name in enumerate(target.elts):
                self._bind([name], ast.Tuple(elts=[r.elts[column] for r in rows], ctx=ast.Load()))
        else:
            self._bind([target], node.iter)
        for _ in range(2):   # a name tainted late in the body taints the body's earlier lines next time round
            for stmt in node.body + node.orelse:
                self.visit(stmt)

    def visit_With(self, node):
        for item in node.items:
            if item.optional_vars is not None and self.reads_student(item.context_expr):
                self.tainted |= _targets(item.optional_vars)
        for stmt in node.body:
            self.visit(stmt)

    def visit_Try(self, node):
        for stmt in node.body + node.orelse + node.finalbody:
            self.visit(stmt)
        for handler in node.handlers:
            if handler.name and self.reads_student(ast.Module(body=node.body, type_ignores=[])):
                self.tainted.add(handler.name)
            for stmt in handler.body:
                self.visit(stmt)

    def visit_FunctionDef(self, node):
        # a helper of the test cell that calls student code returns the student's output (its own
        # parameters and local variables are not the cell's names)
        local = set()
        for sub in ast.walk(node):
            if isinstance(sub, ast.arg):
                local.add(sub.arg)
            elif isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                local.add(sub.id)
        if (_names(node) - local) & (self.student | self.tainted):
            self.tainted.add(node.name)
        else:
            self.tainted.discard(node.name)

    visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef


def _expected_argument(call: ast.Call) -> ast.AST | None:
    if len(call.args) >= 3:
        return call.args[2]
    for kw in call.keywords:
        if kw.arg in ("expected", "target"):
            return kw.value
    return None


def _is_bool_constant_function(node: ast.AST) -> bool:
    return (isinstance(node, ast.Lambda) and isinstance(node.body, ast.Constant)
            and isinstance(node.body.value, bool))


def _check_calls(tree: ast.AST):
    """Every check call in ``tree`` with the statement it belongs to, in source order."""
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
             and _call_name(node) in CHECKS + PROPERTY_CHECKS]
    return sorted(calls, key=lambda n: (n.lineno, n.col_offset))


def audit_cell(source: str, student: set[str], tainted: set[str], notebook: str = "",
               grade_id: str = "") -> list[Finding]:
    """The findings of one test cell; ``tainted`` is updated with the names this cell binds from student code."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        return [Finding(notebook, grade_id, "", "", "", f"the test cell does not parse: {error}")]
    findings = []
    taint = _Taint(student, tainted)
    # walk the statements in order, so that a check sees the names tainted before it
    pending = _check_calls(tree)
    for stmt in tree.body:
        taint.visit(stmt)
        mine = [c for c in pending if stmt.lineno <= c.lineno <= stmt.end_lineno]
        pending = [c for c in pending if c not in mine]
        if isinstance(stmt, (ast.For, ast.With, ast.Try)):   # checks inside bodies see the body's taint
            taint.visit(stmt)
        for call in mine:
            findings.append(_judge(call, taint, notebook, grade_id))
    return findings


def _judge(call: ast.Call, taint: _Taint, notebook: str, grade_id: str) -> Finding:
    name = _call_name(call)
    key = ast.unparse(call.args[0]) if call.args else "?"
    if name in PROPERTY_CHECKS:
        return Finding(notebook, grade_id, key, name, "property", "")
    kind = "predictions scored" if name == "check_mse" else "compared with the solution"
    expected = _expected_argument(call)
    if expected is None:
        return Finding(notebook, grade_id, key, name, kind, "self-reference: the check has no expected-value function")
    reads = sorted(_names(expected) & (taint.student | taint.tainted))
    if reads:
        return Finding(notebook, grade_id, key, name, kind,
                       f"self-reference: the expected value reads {', '.join(reads)}, the student's output")
    got = call.args[1] if len(call.args) >= 2 else None
    if _is_bool_constant_function(expected) and not isinstance(got, ast.Attribute):
        return Finding(notebook, grade_id, key, name, kind,
                       f"verdict: a boolean computed in the kernel ({ast.unparse(got) if got else '?'}) is scored")
    return Finding(notebook, grade_id, key, name, kind, "")


def audit_notebook(path: Path) -> list[Finding]:
    """Every check of every test cell of the solution notebook at ``path``, with its kind and problem."""
    nb = json.loads(Path(path).read_text())
    student: set[str] = set()
    tainted: set[str] = set()
    findings = []
    for cell in nb["cells"]:
        if cell.get("cell_type") != "code":
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        source = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            student |= _defined_names(source)
        elif meta.get("grade"):
            findings += audit_cell(source, student, tainted, Path(path).stem, meta.get("grade_id", ""))
    return findings


def main(argv: list[str] | None = None) -> int:
    root = Path(__file__).resolve().parents[3]
    paths = [Path(p) for p in (argv if argv is not None else sys.argv[1:])] or \
        sorted((root / "solutions").glob("*/*.ipynb"))
    bad = 0
    for path in paths:
        for f in audit_notebook(path):
            bad += bool(f.problem)
            print(f"{f.notebook}\t{f.grade_id}\t{f.key}\t{f.check}\t{f.kind}\t{f.problem or 'ok'}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
