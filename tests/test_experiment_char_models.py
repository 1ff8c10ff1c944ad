"""The chapter 2 comparison runs at a tiny size and records every contender, seed and n-gram order."""
import json

from rnncourse.experiments import char_models


def test_smoke_run_records_every_contender(tmp_path):
    out = tmp_path / "char_models.json"
    char_models.main(["--smoke", "--orders", "2", "3", "--out", str(out)])
    data = json.loads(out.read_text())
    assert data["smoke"] and data["seeds"] == [0] and data["chars_per_model"] == 10 * 64 * 25
    assert [r["model"] for r in data["runs"]] == list(char_models.NEURAL)
    for run in data["runs"]:
        assert 0 < run["val_bpc"] < 8 and run["parameters"] > 0 and run["curve"][-1][0] == 10
    bpc = [g["val_bpc"] for g in data["ngrams"]]
    assert [g["order"] for g in data["ngrams"]] == [2, 3] and bpc[1] < bpc[0]
    assert len(data["corpus"]["sha256"]) == 64 and data["lstm_sample"].startswith("    def ")
