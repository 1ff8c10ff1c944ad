"""Processes a submission leaves running after its cell: found from the host and stopped.

A kernel may fork (``os.fork``, ``multiprocessing``, ``subprocess``). Whatever a cell
started and did not wait for is still running when the next cell starts: a fork bomb's
copies of the kernel, up to the process limit, each formatting its own traceback or
spinning in a loop, take the cores from the kernel until its later cells time out. The
grader therefore stops, after every cell, each process of the kernel's sandbox other
than the ones it started with (bwrap, its init, the kernel; threads are not processes).

The host's ``/proc`` tells who descends from the process the kernel was launched as. A
process is signalled through a pidfd opened before its ancestry is checked again, so a
pid freed and reused by another process in the meantime is never signalled.
"""
from __future__ import annotations

import os
import signal
import time


def process_table() -> dict[int, tuple[int, str]]:
    """Every process of the host: pid -> (parent pid, state letter), from ``/proc/<pid>/stat``."""
    table = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            parsed = _stat(int(entry.name))
            if parsed is not None:
                table[int(entry.name)] = parsed
    return table


def _stat(pid: int) -> tuple[int, str] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            text = handle.read()
    except OSError:          # gone since the folder was listed
        return None
    # "pid (command) state ppid ...": the command may itself hold spaces and parentheses
    fields = text[text.rindex(b")") + 2:].split()
    return int(fields[1]), fields[0].decode()


def descendants(root: int, table: dict[int, tuple[int, str]]) -> set[int]:
    """The pids of ``root``'s children, their children, and so on (not ``root`` itself)."""
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    found, stack = set(), [root]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def live_strays(root: int, keep: set[int], table: dict[int, tuple[int, str]]) -> set[int]:
    """Descendants of ``root`` not in ``keep`` that have not exited (zombies have: they wait to be reaped)."""
    return {pid for pid in descendants(root, table) if pid not in keep and table[pid][1] != "Z"}


def stop_strays(root: int, keep: set[int], rounds: int = 200) -> int:
    """SIGKILL every live descendant of ``root`` outside ``keep``, again until none is left.

    A stray may fork while others are being stopped; every round stops what the last one
    found, and a stopped process forks no more, so the rounds end. Returns how many
    processes were stopped."""
    stopped: set[int] = set()
    for _ in range(rounds):
        table = process_table()
        strays = live_strays(root, keep, table)
        if not strays:
            break
        for pid in strays:
            if _kill_if_descendant(pid, root, keep):
                stopped.add(pid)
        time.sleep(0.005)   # let the signalled processes exit before looking again
    return len(stopped)


def _kill_if_descendant(pid: int, root: int, keep: set[int]) -> bool:
    try:
        handle = os.pidfd_open(pid)
    except OSError:          # exited already
        return False
    try:
        # the pidfd pins this very process: if it still descends from root, it is the stray we found
        if not _descends(pid, keep | {root}):
            return False
        signal.pidfd_send_signal(handle, signal.SIGKILL)
        return True
    except ProcessLookupError:
        return False
    finally:
        os.close(handle)


def _descends(pid: int, ancestors: set[int], depth: int = 64) -> bool:
    """Whether one of ``ancestors`` is ``pid``'s parent, grandparent, ... (read now from ``/proc``)."""
    for _ in range(depth):
        parsed = _stat(pid)
        if parsed is None or parsed[0] <= 1:
            return False
        if parsed[0] in ancestors:
            return True
        pid = parsed[0]
    return False
