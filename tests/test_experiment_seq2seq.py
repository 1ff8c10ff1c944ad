"""The seq2seq experiment command: writes runs/ by default, records accuracies per length, combines parts."""
import json

import pytest

from rnncourse.experiments import seq2seq


pytestmark = pytest.mark.usefixtures("one_torch_thread")   # tests/conftest.py


def test_command_writes_runs_folder_and_combines(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    seq2seq.main(["--smoke", "--seeds", "0", "--models", "none"])
    seq2seq.main(["--smoke", "--seeds", "0", "--models", "dot", "--out", "runs/dot.json"])
    first = json.loads((tmp_path / "runs" / "seq2seq.json").read_text())
    assert [(r["model"], r["seed"]) for r in first["runs"]] == [("none", 0)]
    assert set(first["runs"][0]["accuracy"]) == {"1", "2", "3", "4"} and first["attention_example"] is None
    both = seq2seq.main(["--combine", "runs/seq2seq.json", "runs/dot.json", "--out", "runs/both.json"])
    assert [r["model"] for r in both["runs"]] == ["none", "dot"]
    weights = both["attention_example"]["weights"]
    assert len(weights) == len(seq2seq.EXAMPLE) + 1 and all(abs(sum(row) - 1) < 1e-3 for row in weights)
    assert seq2seq.COMMITTED.parts[-2:] == ("results", "seq2seq.json")
