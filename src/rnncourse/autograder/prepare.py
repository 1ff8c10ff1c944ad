"""Turn one submission into a self-contained ``Task`` (in the main process, which reads the gradebook).

The notebooks are sanitized exactly as ``nbgrader autograde`` does before it executes
them, with the configured sanitizing steps (``repair`` first, then outputs cleared,
test and locked cells restored from the gradebook, deleted test cells added back), so
the worker executes what nbgrader would execute; what repair changed travels with the
task to the writer's report. The task
carries the submission's other files with the release's files over them and the
reference answers; never the solutions.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import stat
import traceback
from pathlib import Path

import jsonschema
import nbformat
from nbgrader import utils
from nbgrader.api import Gradebook
from nbgrader.nbgraderformat import MetadataValidator, SchemaTooNewError, SchemaTooOldError, ValidationError
from nbgrader.nbgraderformat.common import BaseMetadataValidator
from nbgrader.preprocessors import CheckCellMetadata, ClearOutput, DeduplicateIds, OverwriteCells, OverwriteKernelspec

from .worker import MAX_FILES_BYTES, Task

SANITIZE = [ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata]


# -- nbgrader's sanitizing steps, without their fixed costs --------------------------------------------------
# Preparing a task runs in the grading process, one submission after another, so its fixed costs bound a
# whole run. nbgrader's OverwriteCells and OverwriteKernelspec open a new gradebook (engine, table check,
# course check) for every notebook, and CheckCellMetadata checks nbgrader's metadata schema itself against
# the JSON-schema metaschema for every cell, as ``jsonschema.validate`` does: together 0.12 of the 0.13 s a
# task took. The steps below do the same to the notebook with one gradebook per run (its read transaction
# ended after each notebook, so the writer is never blocked) and a schema checked once.

_GRADEBOOKS: dict[str, Gradebook] = {}


def _gradebook(db_url: str) -> Gradebook:
    if db_url not in _GRADEBOOKS:
        _GRADEBOOKS[db_url] = Gradebook(db_url)
    return _GRADEBOOKS[db_url]


def close_gradebooks() -> None:
    """Close the gradebooks the sanitizing steps opened (the end of a grading run)."""
    while _GRADEBOOKS:
        _GRADEBOOKS.popitem()[1].close()


class OverwriteCellsOnce(OverwriteCells):
    """nbgrader's ``OverwriteCells`` on the run's gradebook (``preprocess`` as nbgrader's, other connection)."""

    def preprocess(self, nb, resources):
        self.notebook_id = resources["nbgrader"]["notebook"]
        self.assignment_id = resources["nbgrader"]["assignment"]
        self.db_url = resources["nbgrader"]["db_url"]
        self.gradebook = _gradebook(self.db_url)
        try:
            nb, resources = super(OverwriteCells, self).preprocess(nb, resources)   # the cells, one by one
            if self.add_missing_cells:
                nb, resources = self.add_missing_grade_cells(nb, resources)
                nb, resources = self.add_missing_task_cells(nb, resources)
        finally:
            self.gradebook.db.close()   # no read transaction stays open
        return nb, resources


class OverwriteKernelspecOnce(OverwriteKernelspec):
    """nbgrader's ``OverwriteKernelspec`` on the run's gradebook."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        gb = _gradebook(info["db_url"])
        try:
            kernelspec = gb.find_notebook(info["notebook"], info["assignment"]).kernelspec
        finally:
            gb.db.close()
        if kernelspec is not None:
            kernelspec = json.loads(kernelspec)
        if kernelspec:
            nb.metadata["kernelspec"] = kernelspec
        return nb, resources


class _SchemaCheckedOnce(BaseMetadataValidator):
    """``BaseMetadataValidator.validate_cell`` with the JSON schema compiled once, when the validator is made."""

    def __init__(self) -> None:
        super().__init__()
        kind = jsonschema.validators.validator_for(self.schema)
        kind.check_schema(self.schema)
        self.compiled = kind(self.schema)

    def validate_cell(self, cell) -> None:
        if "nbgrader" not in cell.metadata:
            return
        version = cell.metadata["nbgrader"].get("schema_version", 0)
        if version < self.schema_version:
            raise SchemaTooOldError(f"Outdated schema version: {version} (expected {self.schema_version})",
                                    version, self.schema_version)
        if version > self.schema_version:
            raise SchemaTooNewError(f"Schema version is too new: {version} (expected {self.schema_version})",
                                    version, self.schema_version)
        error = jsonschema.exceptions.best_match(self.compiled.iter_errors(cell.metadata["nbgrader"]))
        if error is not None:   # as jsonschema.validate raises it
            raise error


class _MetadataValidator(MetadataValidator, _SchemaCheckedOnce):
    """nbgrader's metadata validator (its checks after the schema's unchanged), schema compiled once."""


@functools.lru_cache(maxsize=1)
def _metadata_validator() -> _MetadataValidator:
    return _MetadataValidator()


class CheckCellMetadataOnce(CheckCellMetadata):
    """nbgrader's ``CheckCellMetadata`` with the metadata schema checked once per process."""

    def preprocess(self, nb, resources):
        try:
            _metadata_validator().validate_nb(nb)
        except ValidationError:
            self.log.error(traceback.format_exc())
            raise ValidationError("Notebook failed to validate; the nbgrader metadata may be corrupted.")
        return nb, resources


ONCE = {OverwriteCells: OverwriteCellsOnce, OverwriteKernelspec: OverwriteKernelspecOnce,
        CheckCellMetadata: CheckCellMetadataOnce}
LINKED = "the notebook is a link, not a file"
HARD_LINKED = "the notebook is a hard link to one of the course's own files, not a file of its own"


def course_file_ids(*folders: Path) -> set[tuple[int, int]]:
    """(device, inode) of every file under ``folders`` (the course's solutions, source and release)."""
    ids = set()
    for folder in {Path(f).resolve() for f in folders}:   # the source folder is often the solutions folder
        for root, _, files in os.walk(folder):
            for name in files:
                try:
                    info = os.lstat(os.path.join(root, name))
                except OSError:
                    continue
                if stat.S_ISREG(info.st_mode):
                    ids.add((info.st_dev, info.st_ino))
    return ids


def link_problem(path: Path, course_ids: set[tuple[int, int]] = frozenset()) -> str | None:
    """Why the submitted notebook at ``path`` must not be read (a symbolic link, a hard link to a course file,
    not a regular file), or None. Nothing the path points to is opened."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
        return LINKED
    if info.st_nlink > 1 and (info.st_dev, info.st_ino) in course_ids:
        return HARD_LINKED
    return None


def read_submitted(path: Path) -> str:
    """The text of a submitted file, opened without following a link (O_NOFOLLOW); raises OSError for a link."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError(f"{path.name} is not a regular file")
        return handle.read().decode("utf-8")


def cells_digest(nb) -> str:
    """Digest of what grading depends on: each cell's type, source and nbgrader metadata."""
    cells = [[c.cell_type, c.source, c.metadata.get("nbgrader", {})] for c in nb.cells]
    return hashlib.sha256(json.dumps(cells, sort_keys=True).encode()).hexdigest()


def folder_files(folder: Path, ignore: list[str], notebooks: bool = False) -> dict[str, bytes]:
    """relative path -> bytes of the files under ``folder`` (nbgrader's ignore patterns apply)."""
    if not folder.is_dir():
        return {}
    patterns = list(ignore) + ([] if notebooks else ["*.ipynb"])
    files = {}
    for name in sorted(utils.find_all_files(str(folder), patterns)):
        path = Path(name)
        if path.is_file() and not path.is_symlink():
            files[str(path.relative_to(folder))] = path.read_bytes()
    return files


def submission_digest(folder: Path, ignore: list[str], salt: str) -> str:
    """Digest of a submission folder (every file, notebooks included) and ``salt`` (the reference answers)."""
    h = hashlib.sha256(salt.encode())
    for rel, data in folder_files(folder, ignore, notebooks=True).items():
        h.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()


def notebook_names(db_url: str, assignment: str) -> list[str]:
    with Gradebook(db_url) as gb:
        return sorted(nb.name for nb in gb.find_assignment(assignment).notebooks)


def sanitize(path: Path, name: str, assignment: str, student: str, config, db_url: str):
    """The notebook at ``path`` as nbgrader's autograde sanitizes it before execution, and what repair changed.

    The steps are ``config``'s ``Autograde.sanitize_preprocessors`` (those plain ``nbgrader autograde`` runs
    too), nbgrader's defaults when it sets none.
    """
    nb = nbformat.reads(read_submitted(path), as_version=4)
    resources = {"unique_key": name, "output_files_dir": f"{name}_files",
                 "nbgrader": {"student": student, "assignment": assignment, "notebook": name, "db_url": db_url}}
    for pp in config.Autograde.get("sanitize_preprocessors") or SANITIZE:
        nb, resources = ONCE.get(pp, pp)(config=config)(nb, resources)
    return nb, list(resources.get("rnncourse_repairs", []))


def trusted_sources(released: Path) -> list[str]:
    """The released notebook's markdown and raw sources (``sanitize.released_sources``), read once per version
    of the file: every task of a run carries them, for the worker's autograded copy."""
    try:
        info = released.stat()
    except OSError:
        return []
    return _trusted(str(released), info.st_mtime_ns, info.st_size)


@functools.lru_cache(maxsize=32)
def _trusted(path: str, mtime_ns: int, size: int) -> list[str]:
    from .sanitize import released_sources

    return sorted(released_sources(Path(path).parent, Path(path).stem))


def make_task(folder: Path, release: Path, assignment: str, student: str, names: list[str], config,
              db_url: str, ignore: list[str], reference: dict[str, bytes], settings: dict,
              scratch_root: str, feedback: bool = False, course_ids: set = frozenset()) -> Task:
    """The task for one submission; ``Task.error`` says why it cannot be graded (then nothing runs).

    ``feedback``: the worker renders the feedback pages too, from the released notebooks and the
    submitted ones as handed in (both go with the task)."""
    task = Task(assignment=assignment, student=student, notebooks={}, reference=reference, settings=settings,
                scratch_root=scratch_root)
    for name in names:   # a linked notebook is never read: the submission scores 0 and is flagged
        problem = link_problem(folder / f"{name}.ipynb", course_ids)
        if problem:
            task.error, task.linked = f"{name}.ipynb: {problem}", True
            return task
    try:
        for name in names:
            path = folder / f"{name}.ipynb"
            if path.exists():
                nb, repairs = sanitize(path, name, assignment, student, config, db_url)
                task.repairs += [f"{name}: {note}" for note in repairs]
                task.notebooks[name] = nbformat.writes(nb)
                task.digests[name] = cells_digest(nb)
                released = release / f"{name}.ipynb"
                task.trusted[name] = trusted_sources(released)
                if feedback and released.is_file():
                    task.release[name] = released.read_text(encoding="utf-8")
                    try:
                        task.submitted[name] = read_submitted(path)
                    except ValueError:   # not UTF-8: the feedback shows no submitted outputs
                        pass
        files = folder_files(folder, ignore)
        files.update(folder_files(release, ignore))   # the release's files win, as nbgrader's source files do
        if sum(len(v) for v in files.values()) > MAX_FILES_BYTES:
            raise ValueError(f"the submission's files exceed {MAX_FILES_BYTES // 2**20} MiB")
        task.files = files
    except Exception as error:  # noqa: BLE001 - nbgrader reports the same failure when the writer grades it
        task.notebooks, task.files = {}, {}
        task.error = f"{type(error).__name__}: {error}".splitlines()[0]
    return task
