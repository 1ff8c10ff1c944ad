"""benchmarks/bench_scan.py runs end to end at a tiny size and writes every field the page reads.

Timings are not asserted: they depend on the machine and its load."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_scan_smoke_writes_complete_results(tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_scan.py"), "--smoke", "--threads", "1",
                             "--out", str(out)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    bench = json.loads(out.read_text())
    assert bench["smoke"] is True and bench["device"].startswith("cpu") and len(bench["load_average_at_start"]) == 3
    assert [r["T"] for r in bench["rows"]] == [8, 33]
    for row in bench["rows"]:
        for name in ("loop", "doubling", "odd_even"):
            assert row[name]["median_ms"] >= row[name]["best_ms"] > 0
            assert row[name]["relative_difference_to_loop"] < 1e-5  # all three computed the same states
        assert row["loop_over_odd_even"] == row["loop"]["median_ms"] / row["odd_even"]["median_ms"]
    assert not (tmp_path / "runs").exists()  # --out decides where it writes


def test_bench_scan_refuses_a_busy_machine(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_scan.py"), "--max-load", "0",
                             "--lengths", "8", "--out", str(tmp_path / "b.json")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "refused" in result.stderr and not (tmp_path / "b.json").exists()


def test_bench_scan_writes_under_runs_by_default(tmp_path):
    env = {**os.environ, "RNNCOURSE_RUNS": str(tmp_path / "elsewhere")}
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_scan.py"), "--smoke"],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "elsewhere" / "bench_scan.json").exists()
