"""Experiments too long for a page: each module is a command line that writes a JSON results file.

Where results go, for every experiment and benchmark command: ``default_output(name)``, that is
``$RNNCOURSE_RUNS/<name>`` when that variable is set, else ``./runs/<name>`` (relative to the
folder the command runs in; ``runs/`` is ignored by git), so that running a command shown on a
page never overwrites the results the book renders.  The committed files in ``results/`` are
(re)made only when a flag names one explicitly (``--out results/<name>.json``, or ``--results``
for ``pixel_mnist``).  ``committed_results(name)`` is the path of a committed file, for the
pages that render it.

Every experiment also accepts ``--smoke``: the same command at a tiny size (a few steps,
short sequences), which the tests use to run every command shown on a page.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[3]
RUNS = Path("runs")
RUNS_ENV = "RNNCOURSE_RUNS"


def committed_results(name: str) -> Path:
    """``results/<name>.json`` of the repository: the file a page renders."""
    return REPOSITORY / "results" / f"{name}.json"


def runs_dir() -> Path:
    """The folder of default outputs: ``$RNNCOURSE_RUNS`` when set (and not empty), else ``./runs``.

    Read at call time, so a test (or a reader) can point it elsewhere with the variable.
    """
    root = os.environ.get(RUNS_ENV)
    return Path(root).expanduser() if root else RUNS


def default_output(name: str) -> Path:
    """Where a command writes ``name`` (e.g. ``"adding.json"``) unless a flag names a file.

    ``$RNNCOURSE_RUNS/<name>`` when that variable is set, else ``runs/<name>`` under the
    current working folder.  Never a file of the committed ``results/``.
    """
    return runs_dir() / name


def default_out(name: str) -> Path:
    """``default_output(name + ".json")``: the default results file of the experiment ``name``."""
    return default_output(f"{name}.json")


def merge_runs(out: Path, new: dict, key: tuple[str, ...]) -> dict:
    """Merge ``new`` results into the file ``out`` (if it exists) instead of replacing it.

    Runs of ``new["runs"]`` replace the stored runs with the same values of ``key`` (e.g.
    ``("model", "length", "seed")``); other stored runs are kept.  Each merged command is
    recorded in ``"merged"`` (command, device, seconds).  Returns the merged dict.
    """
    if not Path(out).exists():
        return new
    old = json.loads(Path(out).read_text())
    if not isinstance(old, dict) or "runs" not in old:
        raise ValueError(f"{out} is not a results file with a 'runs' list; cannot merge into it")
    replaced = {tuple(r[k] for k in key) for r in new["runs"]}
    old["runs"] = [r for r in old["runs"] if tuple(r[k] for k in key) not in replaced] + new["runs"]
    old.setdefault("merged", []).append(
        {k: new.get(k) for k in ("command", "device", "seconds", "wall_time_s") if k in new})
    return old


def write_results(out: Path, results: dict) -> None:
    """Write ``results`` as JSON to ``out`` (folders created; NaN refused) and say where."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, allow_nan=False) + "\n")
    print(f"wrote {out}")
