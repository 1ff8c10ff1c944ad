"""Run grading tasks on many workers, hand each result to one writer, retry crashed workers once.

``Pool`` wraps any ``concurrent.futures.Executor``: a local ``ProcessPoolExecutor``
(``local_pool``) or a Dask cluster's executor (``dask_pool``), so one code path serves
both. ``run_tasks`` keeps a bounded number of tasks in flight (tasks are prepared
lazily, so 10,000 submissions never sit in memory at once), calls ``on_result`` in the
calling thread for every result (the single writer), and when a worker dies (the
pool breaks, a Dask worker is lost) retries each affected task once, alone, in a
fresh worker; a task whose retry fails too comes back as a failed ``Result`` and the
run goes on.
"""
from __future__ import annotations

import multiprocessing
import os
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Executor, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from .worker import Result, Task, run_task


PRELOAD = ["rnncourse.autograder.worker", "rnncourse.autograder.execute", "rnncourse.autograder.feedback",
           "rnncourse.autograder.strip", "nbconvert.exporters.html"]


@dataclass
class Pool:
    """An executor, how many tasks it runs at once, and how to replace it when it breaks."""

    executor: Executor
    capacity: int
    make: Callable[[], Executor] | None = None   # a fresh executor after a crash (local pools)
    name: str = ""
    generation: int = 0
    closer: Callable[[], None] | None = None

    def submit(self, fn, task):
        return self.executor.submit(fn, task)

    def replace(self) -> None:
        """A local pool whose process died is broken for good: start a new one."""
        if self.make is None:
            return
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = self.make()
        self.generation += 1

    def close(self) -> None:
        if isinstance(self.executor, ProcessPoolExecutor):
            self.executor.shutdown(wait=True, cancel_futures=True)
        else:   # Dask's ClientExecutor.shutdown takes no cancel_futures
            self.executor.shutdown(wait=True)
        if self.closer:
            self.closer()


def local_pool(workers: int | None = None) -> Pool:
    """``workers`` processes on this machine (default: one per core)."""
    workers = workers or os.cpu_count() or 1
    context = multiprocessing.get_context("forkserver")
    # the fork server imports what a worker needs once; every worker process starts from it with it loaded
    context.set_forkserver_preload(PRELOAD)

    def make():
        return ProcessPoolExecutor(max_workers=workers, mp_context=context)

    return Pool(make(), workers, make, name=f"{workers} local worker process(es)")


def dask_pool(address: str) -> Pool:
    """The workers of the Dask cluster whose scheduler listens at ``address`` (tcp://host:8786)."""
    from distributed import Client

    client = Client(address, timeout="30s")
    threads = sum(client.nthreads().values())
    if not threads:
        client.close()
        raise SystemExit(f"the Dask scheduler at {address} has no workers: start some with `dask worker {address}`")
    # pure=False: a resubmitted task runs again instead of returning a cached failure
    return Pool(client.get_executor(pure=False), threads, None,
                name=f"Dask cluster {address}: {len(client.nthreads())} worker(s), {threads} thread(s)",
                closer=client.close)


def crash_message(error: BaseException, attempts: int) -> str:
    return (f"the worker grading this submission died {attempts} times "
            f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else 'no message'})")


def run_tasks(tasks: Iterable[Task], pool: Pool, retry_pool: Pool, on_result: Callable[[Task, Result], None],
              work: Callable[[Task], Result] = run_task, window: int | None = None) -> int:
    """Run every task; ``on_result(task, result)`` is called here, one at a time. Returns the number of crashes."""
    source: Iterator[Task] = iter(tasks)
    window = window or max(pool.capacity + 2, 4)
    running: dict = {}           # future -> (task, attempt, pool, generation)
    retries: deque[Task] = deque()
    exhausted, crashes = False, 0

    def fill():
        nonlocal exhausted
        while not exhausted and sum(1 for v in running.values() if v[2] is pool) < window:
            task = next(source, None)
            if task is None:
                exhausted = True
                break   # the retries below still go out: the source running dry must not strand them
            running[pool.submit(work, task)] = (task, 1, pool, pool.generation)
        while retries and sum(1 for v in running.values() if v[2] is retry_pool) < retry_pool.capacity:
            task = retries.popleft()
            running[retry_pool.submit(work, task)] = (task, 2, retry_pool, retry_pool.generation)

    fill()
    while running:
        done, _ = wait(list(running), return_when=FIRST_COMPLETED)
        for future in done:
            task, attempt, owner, generation = running.pop(future)
            try:
                result = future.result()
            except Exception as error:  # noqa: BLE001 - a dead worker: retry once, then report
                crashes += 1
                if isinstance(error, BrokenProcessPool) and generation == owner.generation:
                    owner.replace()
                if attempt == 1:
                    retries.append(task)
                    continue
                result = Result(student=task.student, error=crash_message(error, attempt))
            on_result(task, result)
        fill()
    return crashes
