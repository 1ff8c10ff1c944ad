"""The scheduling of grading tasks, without nbgrader: one writer, retries of dead workers, resume state.

The work functions here stand in for ``worker.run_task`` so that the scheduling can be
tested in seconds; the grading itself is tested in test_grading_at_scale.py.
"""
import os
import threading

from rnncourse.autograder.parallel import local_pool, run_tasks
from rnncourse.autograder.prepare import submission_digest
from rnncourse.autograder.worker import Result, Task
from rnncourse.autograder.writer import GradingState


def work(task: Task) -> Result:
    """Echo the task; a student named crash* kills its worker process, flaky* only on its first try."""
    if task.student.startswith("crash"):
        os._exit(1)
    if task.student.startswith("flaky") and not os.path.exists(task.scratch_root):
        open(task.scratch_root, "w").close()
        os._exit(1)
    return Result(student=task.student, seconds=float(len(task.student)), pid=os.getpid())


def tasks(names, tmp_path):
    return [Task(assignment="a", student=n, notebooks={}, scratch_root=str(tmp_path / f"{n}.marker")) for n in names]


def test_every_task_reaches_the_single_writer_once_from_several_worker_processes(tmp_path):
    names = [f"s{i:02d}" for i in range(12)]
    seen, threads = [], set()

    def on_result(task, result):
        seen.append(result.student)
        threads.add(threading.get_ident())

    pool, retry = local_pool(2), local_pool(1)
    try:
        crashes = run_tasks(tasks(names, tmp_path), pool, retry, on_result, work=work)
    finally:
        pool.close()
        retry.close()
    assert crashes == 0
    assert sorted(seen) == names
    assert threads == {threading.get_ident()}, "results must be written by the calling thread only"


def test_a_task_that_kills_its_worker_is_retried_once_then_flagged_and_the_run_goes_on(tmp_path):
    names = ["a1", "crash_me", "b2", "c3", "d4"]
    results = {}

    def on_result(task, result):
        assert task.student not in results, "a task was written twice"
        results[task.student] = result

    pool, retry = local_pool(2), local_pool(1)
    try:
        run_tasks(tasks(names, tmp_path), pool, retry, on_result, work=work)
    finally:
        pool.close()
        retry.close()
    assert sorted(results) == sorted(names)
    assert "died 2 times" in results["crash_me"].error
    for name in ["a1", "b2", "c3", "d4"]:   # co-victims of a broken pool are retried and graded
        assert results[name].error == "", (name, results[name].error)


def test_retries_go_out_even_when_the_last_task_was_taken_in_the_same_round(tmp_path):
    # the crash breaks the pool while the source runs dry: every co-victim must still be retried
    for round_ in range(8):
        results = {}
        pool, retry = local_pool(2), local_pool(1)
        try:
            run_tasks(tasks(["crash_first", "e5", "f6"], tmp_path / str(round_)), pool, retry,
                      lambda task, result: results.setdefault(task.student, result), work=work, window=3)
        finally:
            pool.close()
            retry.close()
        assert sorted(results) == ["crash_first", "e5", "f6"], (round_, results)


def test_a_worker_that_dies_once_is_retried_and_its_submission_graded(tmp_path):
    results = {}
    pool, retry = local_pool(1), local_pool(1)
    try:
        crashes = run_tasks(tasks(["flaky_once", "e5"], tmp_path), pool, retry,
                            lambda task, result: results.setdefault(task.student, result), work=work)
    finally:
        pool.close()
        retry.close()
    assert crashes >= 1
    assert results["flaky_once"].error == "" and results["flaky_once"].seconds == len("flaky_once")
    assert results["e5"].error == ""


def test_submission_digest_changes_with_any_file_and_with_the_reference(tmp_path):
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "nb.ipynb").write_text("{}")
    ignore = [".ipynb_checkpoints"]
    first = submission_digest(folder, ignore, "ref1")
    assert submission_digest(folder, ignore, "ref1") == first
    assert submission_digest(folder, ignore, "ref2") != first
    (folder / ".ipynb_checkpoints").mkdir()
    (folder / ".ipynb_checkpoints" / "nb-checkpoint.ipynb").write_text("[]")
    assert submission_digest(folder, ignore, "ref1") == first, "ignored files do not count"
    (folder / "data.txt").write_text("x")
    assert submission_digest(folder, ignore, "ref1") != first


def test_grading_state_round_trips_and_forgets(tmp_path):
    state = GradingState(tmp_path / "graded")
    assert state.load("alice") is None
    state.save("alice", {"digest": "d", "row": {"score": 3}})
    assert state.load("alice") == {"digest": "d", "row": {"score": 3}}
    assert [p.name for p in (tmp_path / "graded").iterdir()] == ["alice.json"]
    state.forget("alice")
    assert state.load("alice") is None


def test_a_tmpdir_too_long_for_the_kernel_sockets_is_refused_with_the_longest_that_works(tmp_path):
    import re
    import subprocess
    import sys

    from rnncourse.autograder.sandbox import SOCKET_PATH_MAX, longest_socket_path

    deep = tmp_path / ("d" * 60)
    deep.mkdir()
    result = subprocess.run([sys.executable, "-m", "rnncourse.autograder", "grade", "a", "--allow-unsandboxed",
                             "--course", str(tmp_path)], env={**os.environ, "TMPDIR": str(deep)},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    message = re.search(r"too long for the kernels' sockets: expected a folder of at most (\d+) characters",
                        result.stderr)
    assert message, result.stderr[-2000:]
    room = int(message.group(1))
    # the longest socket of a run started in a folder of exactly that length just fits
    assert longest_socket_path("x" * room + "/rg-12345678/t-12345678") == SOCKET_PATH_MAX
    assert not list(deep.iterdir()), "a refused run leaves nothing behind"
