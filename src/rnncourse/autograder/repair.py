"""Repair, don't reject: fix the harmless damage that editors do to a submission before grading.

nbgrader refuses (or zeroes) a notebook whose cell metadata is not exactly what
it released, although the answers in it may be fine.  ``repair(nb, release)``
changes a copy of the submission so that it grades to what its answers deserve:

* cells sharing a ``grade_id`` (JupyterLab copies metadata on copy-paste): the
  copy that sits where the release has the cell, and holds its content, keeps
  the id; the other copies become ordinary ungraded cells (they still run, in
  order, as they did for the student);
* graded or locked cells whose type changed (code, markdown, raw) get the
  release's type back; an answer keeps its text;
* nbgrader metadata on cells the release does not have (scratch cells pasted
  from elsewhere) is removed: such cells stay, ungraded;
* missing, invalid or repeated cell ids are replaced, an older nbformat 4 minor
  version is upgraded, and the kernelspec is the release's.

``RepairSubmission`` runs it as the first step of nbgrader's sanitizing stage,
on the copy nbgrader reads, leaves what it changed in
``resources["rnncourse_repairs"]`` and, when ``notes_dir`` is set, records it in
``notes_dir/<student>/<notebook>.json`` for the grading report.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

CELL_ID = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
NBGRADER_KEYS = ("grade", "solution", "locked", "task")


def _gid(cell) -> str | None:
    meta = cell.get("metadata", {}).get("nbgrader")
    if isinstance(meta, dict) and any(meta.get(k) for k in NBGRADER_KEYS):
        gid = meta.get("grade_id")
        return gid if isinstance(gid, str) else None
    return None


def _set_type(cell, cell_type: str) -> None:
    """Turn ``cell`` into a ``cell_type`` cell in place, keeping its source."""
    cell["cell_type"] = cell_type
    if cell_type == "code":
        cell["outputs"] = []
        cell["execution_count"] = None
    else:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)


def _ungrade(cell) -> None:
    for key in ("nbgrader", "deletable", "editable"):
        cell["metadata"].pop(key, None)


def _neighbours(gids: list[str | None], index: int, skip: str) -> tuple[str | None, str | None]:
    """The nearest other grade ids before and after ``index`` (copies of ``skip`` are passed over)."""
    before = next((g for g in reversed(gids[:index]) if g and g != skip), None)
    after = next((g for g in gids[index + 1:] if g and g != skip), None)
    return before, after


def _choose(nb, indices: list[int], release_cell, release_gids: list[str]) -> int:
    """Of cells sharing a grade id, the one in the release's position with its content (last on ties)."""
    gid = _gid(release_cell)
    gids = [_gid(c) for c in nb.cells]
    position = release_gids.index(gid)
    want_before = release_gids[position - 1] if position > 0 else None
    want_after = release_gids[position + 1] if position + 1 < len(release_gids) else None

    def score(i):
        cell = nb.cells[i]
        before, after = _neighbours(gids, i, gid)
        same_type = cell.get("cell_type") == release_cell.cell_type
        same_source = cell.get("source", "") == release_cell.source
        return (before == want_before) + (after == want_after) + 2 * same_source + same_type, i
    return max(indices, key=score)


def repair(nb: NotebookNode, release: NotebookNode) -> list[str]:
    """Repair ``nb`` in place against the released notebook; return what was changed (empty: nothing)."""
    notes = []
    if nb.get("nbformat") != 4:
        raise ValueError(f"expected an nbformat 4 notebook, got nbformat {nb.get('nbformat')!r}")
    if nb.get("nbformat_minor", 0) < release.get("nbformat_minor", 0):
        notes.append(f"upgraded nbformat 4.{nb.get('nbformat_minor', 0)} to 4.{release.nbformat_minor}")
        nb["nbformat_minor"] = release.nbformat_minor
    spec = release.metadata.get("kernelspec")
    if spec and nb.metadata.get("kernelspec") != spec:
        notes.append(f"kernelspec {nb.metadata.get('kernelspec', {}).get('name')!r} set to the release's "
                     f"{spec.get('name')!r}")
        nb.metadata["kernelspec"] = spec

    released = {_gid(c): c for c in release.cells if _gid(c)}
    release_gids = [_gid(c) for c in release.cells if _gid(c)]
    for index, cell in enumerate(nb.cells):
        cell.setdefault("metadata", NotebookNode())
        meta = cell["metadata"].get("nbgrader")
        if meta is not None and _gid(cell) not in released:
            notes.append(f"cell {index}: nbgrader metadata of a cell the release does not have removed "
                         "(kept as an ungraded cell)")
            _ungrade(cell)

    groups: dict[str, list[int]] = {}
    for index, cell in enumerate(nb.cells):
        if _gid(cell):
            groups.setdefault(_gid(cell), []).append(index)
    for gid, indices in groups.items():
        if len(indices) > 1:
            keep = _choose(nb, indices, released[gid], release_gids)
            copies = [i for i in indices if i != keep]
            for i in copies:
                _ungrade(nb.cells[i])
            notes.append(f"{len(indices)} cells had grade_id {gid!r}: cell {keep} is graded, the copies "
                         f"(cells {', '.join(map(str, copies))}) are kept as ungraded cells")

    for index, cell in enumerate(nb.cells):
        gid = _gid(cell)
        if gid and cell.get("cell_type") != released[gid].cell_type:
            notes.append(f"cell {index} ({gid}): type {cell.get('cell_type')} restored to {released[gid].cell_type}")
            _set_type(cell, released[gid].cell_type)
        elif cell.get("cell_type") not in ("code", "markdown", "raw"):
            notes.append(f"cell {index}: unknown type {cell.get('cell_type')!r} made a raw cell")
            _set_type(cell, "raw")

    if nb.get("nbformat_minor", 0) >= 5:
        seen: set[str] = set()
        fixed = 0
        for index, cell in enumerate(nb.cells):
            cid = cell.get("id")
            if not isinstance(cid, str) or not CELL_ID.match(cid) or cid in seen:
                cid = f"cell-{index}"
                while cid in seen or any(c.get("id") == cid for c in nb.cells[index + 1:]):
                    cid += "x"
                cell["id"] = cid
                fixed += 1
            seen.add(cid)
        if fixed:
            notes.append(f"{fixed} missing, invalid or repeated cell id(s) replaced")
    return notes


def read_notebook(path: Path) -> NotebookNode:
    """Read a notebook file without letting nbformat reject it for fixable defects."""
    with open(path, encoding="utf-8") as handle:
        return nbformat.reads(handle.read(), as_version=4, capture_validation_error={})


class RepairSubmission(NbGraderPreprocessor):
    """First sanitizing step of ``nbgrader autograde``: ``repair`` against the released notebook."""

    release_template = Unicode("", help="path of a released notebook, with {assignment} and {notebook}").tag(
        config=True)
    notes_dir = Unicode("", help="folder for <student>/<notebook>.json notes of what was repaired").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        path = Path(self.release_template.format(assignment=info["assignment"], notebook=info["notebook"]))
        release = nbformat.read(path, as_version=4)
        notes = repair(nb, release)
        resources["rnncourse_repairs"] = notes
        if self.notes_dir:
            target = Path(self.notes_dir) / info["student"] / f"{info['notebook']}.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(notes))
        return nb, resources


def take_notes(notes_dir: Path, student: str) -> list[str]:
    """The repairs recorded for ``student`` (then forgotten, so that a regrade records its own)."""
    folder = Path(notes_dir) / student
    notes = []
    for path in sorted(folder.glob("*.json")):
        notes += [f"{path.stem}: {note}" for note in json.loads(path.read_text())]
        path.unlink()
    return notes


def configure(config, course: Path, workdir: Path) -> None:
    """Make ``RepairSubmission`` the first sanitizing step of ``nbgrader autograde`` in ``config``."""
    from nbgrader.converters import Autograde

    release = config.CourseDirectory.get("release_directory", "release")
    config.RepairSubmission.release_template = str(Path(course) / release / "{assignment}" / "{notebook}.ipynb")
    config.RepairSubmission.notes_dir = str(Path(workdir) / "repairs")
    steps = config.Autograde.get("sanitize_preprocessors") or Autograde.class_traits()[
        "sanitize_preprocessors"].make_dynamic_default()
    config.Autograde.sanitize_preprocessors = [RepairSubmission] + [s for s in steps if s is not RepairSubmission]
