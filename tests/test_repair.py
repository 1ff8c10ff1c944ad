"""Notebooks that editors damaged are repaired, not rejected; a submission that fills the disk is stopped.

Unit tests of ``repair`` on the released chapter 1 notebook, and one grading run of
chapter 1 with honest answers in every kind of damaged notebook (each must score
what the honest answers deserve), next to a submission that writes past the disk
bound (stopped; the others graded normally; nothing of it left on the host).
"""
import copy
import json
import subprocess
import sys

import nbformat
import pytest

from adversarial import honest, messy_kinds
from assignments import ASSIGNMENTS
from harness import ROOT, Course, nbgrader_env, part_points, total_points
from rnncourse.autograder.repair import read_notebook, repair

RELEASE = ROOT / "notebooks" / "ch01_rnn_basics" / "ch01_rnn_basics.ipynb"


def release():
    return nbformat.read(RELEASE, as_version=4)


def gids(nb):
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]


def test_an_undamaged_notebook_is_left_as_it_is():
    nb = release()
    before = nbformat.writes(nb)
    assert repair(nb, release()) == []
    assert nbformat.writes(nb) == before


def test_duplicated_grade_ids_keep_the_copy_in_the_release_position():
    nb = release()
    index = gids(nb).index("rnn_cell")
    first = copy.deepcopy(nb.cells[index])
    first.source = "def rnn_cell_forward(x, h, W_xh, W_hh, b_h):\n    return 'an older try'\n"
    first["id"] = "older-try"
    nb.cells.insert(index - 1, first)  # pasted before the part's text: out of place
    notes = repair(nb, release())
    assert gids(nb).count("rnn_cell") == 1
    kept = nb.cells[gids(nb).index("rnn_cell")]
    assert kept.id != "older-try" and "older-try" in [c.id for c in nb.cells], "the copy stays, ungraded"
    assert any("grade_id 'rnn_cell'" in n for n in notes)


def test_changed_cell_types_are_restored_and_answers_kept():
    nb = release()
    index = gids(nb).index("rnn_cell")
    nb.cells[index].cell_type = "markdown"
    nb.cells[index].source = "def mine():\n    return 1\n"
    del nb.cells[index]["outputs"], nb.cells[index]["execution_count"]
    notes = repair(nb, release())
    assert nb.cells[index].cell_type == "code" and nb.cells[index].outputs == []
    assert nb.cells[index].source == "def mine():\n    return 1\n"
    assert notes and "restored to code" in notes[0]


def test_foreign_nbgrader_cells_become_scratch_cells_and_ids_are_fixed():
    nb = release()
    foreign = nbformat.v4.new_code_cell("x = 1")
    foreign.metadata["nbgrader"] = {"grade": True, "grade_id": "elsewhere", "points": 9, "solution": False,
                                    "locked": False, "schema_version": 3}
    nb.cells.insert(3, foreign)
    nb.cells[0]["id"] = nb.cells[1]["id"]
    del nb.cells[2]["id"]
    nb.metadata["kernelspec"] = {"name": "other", "display_name": "Other", "language": "python"}
    repair(nb, release())
    assert "nbgrader" not in nb.cells[3].metadata and nb.cells[3].source == "x = 1"
    ids = [c.id for c in nb.cells]
    assert len(set(ids)) == len(ids)
    assert nb.metadata.kernelspec == release().metadata.kernelspec
    nbformat.validate(nb)


def test_an_old_minor_version_without_ids_is_upgraded(tmp_path):
    data = json.loads(RELEASE.read_text())
    data["nbformat_minor"] = 4
    for c in data["cells"]:
        c.pop("id", None)
    (tmp_path / "old.ipynb").write_text(json.dumps(data))
    nb = read_notebook(tmp_path / "old.ipynb")
    notes = repair(nb, release())
    assert nb.nbformat_minor == 5 and all(c.get("id") for c in nb.cells)
    assert any("upgraded" in n for n in notes)
    nbformat.validate(nb)


def test_a_notebook_of_another_major_version_is_refused_with_the_reason():
    nb = release()
    nb["nbformat"] = 3
    with pytest.raises(ValueError, match="expected an nbformat 4 notebook"):
        repair(nb, release())


@pytest.mark.slow
def test_messy_notebooks_score_what_their_answers_deserve_and_disk_bombs_are_stopped(tmp_path):
    name = "ch01_rnn_basics"
    info = ASSIGNMENTS[name]
    timeout = 60  # a busy machine can take 10 s to import torch: this test is about repair, not speed
    course = Course(tmp_path / "course", name, timeout=timeout)
    solution, rel = course.solution(), course.release()
    part = info["independent_part"]
    course.submit("honest", honest(solution, rel))
    kinds = messy_kinds()
    for kind in kinds:
        made = kind.make(solution, rel, part, info)
        if isinstance(made, bytes):
            course.submit(kind.name, raw=made)
        else:
            course.submit(kind.name, made)
    result = subprocess.run([sys.executable, "-m", "rnncourse.autograder", "grade", name, "--timeout",
                             str(timeout)], cwd=course.root, env=nbgrader_env(), capture_output=True,
                            text=True, timeout=1500)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rows = {r["student"]: r for r in json.loads((course.root / "reports" / f"{name}.json").read_text())}
    print("\n" + "\n".join(f"{s:24s} {r['score']:5.1f} {r['seconds']:5.1f} s  {r['repairs'][:120]}"
                           for s, r in rows.items()))
    total = total_points(solution)
    assert rows["honest"]["score"] == total and rows["honest"]["repairs"] == ""
    for kind in kinds:
        row = rows[kind.name]
        if "messy" in kind.tags:
            assert row["score"] == total, (kind.name, row)
            # nbformat itself fills missing ids when it reads a 4.5 notebook: nothing left to repair
            assert row["repairs"] or kind.name == "missing_cell_ids", f"{kind.name}: no repair recorded"
            assert "grading failed" not in row["flags"], row["flags"]
    # the disk bomb: its part fails, the others score, nothing of it stays on the host
    assert rows["fills_the_disk"]["score"] == total - part_points(solution, part)
    graded = course.root / "autograded" / "fills_the_disk" / name
    assert sorted(p.name for p in graded.iterdir()) == sorted(
        p.name for p in (course.root / "submitted" / "fills_the_disk" / name).iterdir())
    assert sum(p.stat().st_size for p in course.root.rglob("*") if p.is_file()) < 100 * 2**20
