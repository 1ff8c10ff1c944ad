"""The sandboxed kernel's filesystem is an allow-list, and its writable space is bounded.

A notebook runs with the grader's own ``SandboxedExecute`` (as every submission and
solution does) and reports what it can see; the test plants a file in a host folder
outside the course, /tmp and home, and removes it afterwards.
"""
import json
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import nbformat
import pytest
from nbclient.exceptions import DeadKernelError

from rnncourse.autograder.execute import SandboxedExecute
from rnncourse.autograder.sandbox import python_paths, visible_paths

pytestmark = pytest.mark.slow

PROBE = '''
import json, os
report = {"root": sorted(os.listdir("/")), "etc": sorted(os.listdir("/etc"))}
for name, path in [("planted_dir", PLANTED_DIR), ("planted_file", PLANTED_FILE)]:
    try:
        report[name] = os.listdir(path) if name.endswith("dir") else open(path).read()
    except OSError as error:
        report[name] = type(error).__name__
report["cwd"] = sorted(os.listdir("."))
print(json.dumps(report))
'''

FILL = '''
import errno
written, error = 0, None
try:
    for i in range(1000):
        with open(f"junk{i}.bin", "wb") as handle:
            for _ in range(4):
                handle.write(b"x" * 2**20)
                written += 2**20
except OSError as e:
    error = errno.errorcode.get(e.errno, str(e.errno))
print(written // 2**20, error)
'''


@pytest.fixture()
def planted():
    """A file in a fresh folder under /srv (or /opt): outside the course, /tmp and home."""
    base = next(Path(p) for p in ("/srv", "/opt", "/var") if os.access(p, os.W_OK))
    folder = base / f"rnncourse-probe-{uuid.uuid4().hex}"
    folder.mkdir()
    (folder / "secret.txt").write_text("another course's gradebook")
    yield folder
    shutil.rmtree(folder)


def run(tmp_path, *sources, disk_mib=32):
    work = tmp_path / "work"
    work.mkdir()
    (work / "data.txt").write_text("shipped with the assignment")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    executor = SandboxedExecute(timeout=60, disk_bytes=disk_mib * 2**20)
    nb, _ = executor.preprocess(nb, {"metadata": {"path": str(work)}})
    scratch = executor._sandbox_km.scratch
    assert not scratch.exists() and not os.path.ismount(scratch), "the kernel's scratch folder stays behind"
    return nb, work


def stdout(cell):
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def test_the_kernel_sees_only_the_allowed_folders(tmp_path, planted):
    probe = PROBE.replace("PLANTED_DIR", repr(str(planted))).replace("PLANTED_FILE", repr(str(planted / "secret.txt")))
    nb, work = run(tmp_path, probe)
    report = json.loads(stdout(nb.cells[0]))
    print(f"\nthe kernel's / : {report['root']}\nits /etc : {report['etc']}")
    assert report["planted_dir"] == "FileNotFoundError" and report["planted_file"] == "FileNotFoundError"
    # the root holds only the allow-list: system folders, Python's and the package's top folders
    own = {Path(tmp_path).parts[1], Path(tempfile.gettempdir()).parts[1]}  # its working and scratch folders
    assert set(report["root"]) == set(visible_paths()) | own
    assert Path(planted).parts[1] not in report["root"] or Path(planted).parts[1] in visible_paths()
    assert set(report["etc"]) <= {"passwd", "group", "ld.so.cache", "ld.so.conf", "ld.so.conf.d"}
    assert report["cwd"] == ["data.txt"]
    assert all(p.is_dir() for p in python_paths())


def test_writing_past_the_bound_fails_and_leaves_nothing_on_the_host(tmp_path):
    nb, work = run(tmp_path, FILL, "print(open('data.txt').read())", disk_mib=32)
    megabytes, error = stdout(nb.cells[0]).split()
    assert error == "ENOSPC" and 24 <= int(megabytes) <= 32
    assert stdout(nb.cells[1]).strip() == "shipped with the assignment"
    assert sorted(p.name for p in work.iterdir()) == ["data.txt"]


def test_kernels_started_at_the_same_time_get_their_own_uid_and_process_limit():
    """The process limit counts per uid: kernels of parallel workers must not share one."""
    import multiprocessing

    from rnncourse.autograder.sandbox import KERNEL_UID_BASE, kernel_uid

    mine = [kernel_uid() for _ in range(16)]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        others = pool.starmap(kernel_uid, [()] * 4)
    assert len(set(mine)) == 16 and not set(mine) & set(others)
    assert all(KERNEL_UID_BASE <= uid < 2**32 - 1 for uid in mine + others)


def test_a_kernel_deaf_after_a_timeout_is_stopped_instead_of_every_later_cell_waiting(tmp_path):
    # ignores the interrupt that ends a timed-out cell: it never answers again
    deaf = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(600)"
    work = tmp_path / "work"
    work.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in ["x = 1", deaf] + ["x += 1"] * 6])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    executor = SandboxedExecute(timeout=3, iopub_timeout=2, raise_on_iopub_timeout=False)
    started = time.monotonic()
    with pytest.raises(DeadKernelError, match="stopped answering"):
        executor.preprocess(nb, {"metadata": {"path": str(work)}})
    # the cell's timeout and one more for the probe; six more cells would have added 6 x 5 s
    assert time.monotonic() - started < 25


def test_an_interrupted_infinite_loop_leaves_the_kernel_running_the_later_cells(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in
                                         ["x = 1", "while True:\n    pass", "x += 1\nprint(x)"]])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb, _ = SandboxedExecute(timeout=3, iopub_timeout=2, raise_on_iopub_timeout=False).preprocess(
        nb, {"metadata": {"path": str(work)}})
    assert any(o.get("ename") == "CellTimeoutError" for o in nb.cells[1].outputs)
    assert stdout(nb.cells[2]).strip() == "2"


LIVE_PROCESSES = '''
import os
live = 0
for name in os.listdir("/proc"):
    try:
        live += name.isdigit() and open(f"/proc/{name}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        pass
print(live)
'''


def run_with_timeout(tmp_path, sources, timeout):
    work = tmp_path / "work"
    work.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    executor = SandboxedExecute(timeout=timeout, iopub_timeout=2, raise_on_iopub_timeout=False)
    nb, _ = executor.preprocess(nb, {"metadata": {"path": str(work)}})
    return nb, executor


def test_processes_a_cell_leaves_running_are_stopped_before_the_next_cell(tmp_path):
    # eight children that spin forever; the kernel's cell itself returns at once
    spinners = "import os\nfor _ in range(8):\n    if os.fork() == 0:\n        while True:\n            pass"
    nb, executor = run_with_timeout(tmp_path, [LIVE_PROCESSES, spinners, LIVE_PROCESSES, "print('after')"], 20)
    before, after = int(stdout(nb.cells[0])), int(stdout(nb.cells[2]))
    assert before == 2, "the sandbox runs its init and the kernel"
    assert after == before, f"{after - before} processes the previous cell started are still running"
    assert executor.strays_stopped == 8
    assert stdout(nb.cells[3]).strip() == "after"


def test_processes_started_by_a_cell_that_timed_out_are_stopped_and_the_later_cells_run(tmp_path):
    # thirty children spin forever while the kernel's cell sleeps past its timeout
    spinners = ("import os, time\nfor _ in range(30):\n    if os.fork() == 0:\n        while True:\n"
                "            pass\ntime.sleep(600)")
    nb, executor = run_with_timeout(tmp_path, ["x = 1", spinners, "x += 1\nprint(x)", LIVE_PROCESSES], 3)
    assert any(o.get("ename") == "CellTimeoutError" for o in nb.cells[1].outputs)
    assert stdout(nb.cells[2]).strip() == "2"
    assert int(stdout(nb.cells[3])) == 2, "processes the timed-out cell started are still running"
    assert executor.strays_stopped == 30
