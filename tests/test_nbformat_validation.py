"""nbformat's validation works without the optional format checker whose grammar cost ~2 s per process.

requirements.txt pins jsonschema 4.24.1 so that ``import nbformat`` does not build
rfc3987-syntax's lark grammar (``benchmarks/bench_nbformat_import.py`` measures it);
validation must still reject a broken notebook.
"""
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_importing_nbformat_does_not_load_the_iri_grammar():
    code = "import sys, nbformat, nbformat.validator; print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('rfc3987_syntax', 'lark'))))"
    out = subprocess.run([sys.executable, "-c", "import json; " + code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


@pytest.mark.parametrize("validator", ["fastjsonschema", "jsonschema"])
@pytest.mark.parametrize("break_it", [
    lambda nb: nb["cells"][0].pop("outputs"),
    lambda nb: nb["cells"][0].update(cell_type="bogus"),
    lambda nb: nb["cells"][0].update(execution_count="one"),
])
def test_validation_still_rejects_a_broken_notebook(validator, break_it, monkeypatch):
    monkeypatch.setenv("NBFORMAT_VALIDATOR", validator)
    good = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    nbformat.validate(good)
    broken = json.loads(nbformat.writes(good))
    break_it(broken)
    with pytest.raises(nbformat.ValidationError):
        nbformat.validate(nbformat.from_dict(broken))


def test_every_solution_notebook_validates():
    for path in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        nbformat.validate(nbformat.read(path, as_version=4))
