"""nbgrader's ``Execute`` with the kernel in the sandbox, outputs capped and answers collected."""
from __future__ import annotations

from pathlib import Path
from queue import Empty
from time import monotonic, perf_counter

from jupyter_core.utils import ensure_async
from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, List, Unicode

from .answers import load_answers
from .sandbox import Limits, Policy, SandboxKernelManager


class SandboxedExecute(Execute):
    """Execute a notebook with its kernel inside bubblewrap.

    After execution ``resources["rnncourse_answers"]`` holds the answers the test
    cells submitted (read by trusted code from the kernel's answers folder).
    """

    hidden_paths = List(Unicode(), help="folders the kernel must not see (the course root is added)").tag(config=True)
    max_output_bytes = Integer(Limits.output_bytes, help="outputs kept per cell").tag(config=True)
    memory_bytes = Integer(Limits.memory_bytes).tag(config=True)
    processes = Integer(Limits.processes).tag(config=True)
    disk_bytes = Integer(Limits.disk_bytes, help="size of each of the kernel's writable folders (tmpfs)").tag(
        config=True)
    sandboxed = Bool(True, help="run kernels in bubblewrap (False only where it cannot run)").tag(config=True)
    probe_seconds = Integer(20, help="after a timed-out cell, how long the kernel has to run an empty cell "
                                     "before it is stopped as stuck").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs["kernel_manager_class"] = SandboxKernelManager
        super().__init__(*args, **kwargs)
        self._output_sizes: dict[int, int] = {}
        self.phases: dict[str, float] = {}
        self.strays_stopped = 0   # processes started by cells and stopped after them

    # nbconvert's preprocessor calls nbclient's synchronous entry points: they are timed here
    def _timed(self, phase: str, call, *args, **kwargs):
        start = perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            self.phases[phase] = self.phases.get(phase, 0.0) + perf_counter() - start

    def start_new_kernel(self, **kwargs):
        """Start the sandbox and the kernel process in it (``phases["kernel_start"]``)."""
        return self._timed("kernel_start", super().start_new_kernel, **kwargs)

    def start_new_kernel_client(self):
        """Connect and wait until the kernel answers (``phases["kernel_ready"]``)."""
        client = self._timed("kernel_ready", super().start_new_kernel_client)
        self.km.remember_processes()
        return client

    def execute_cell(self, cell, cell_index, *args, **kwargs):
        """Execute one cell: the first code cell (the setup cell: imports) is timed apart from the others.

        Whatever processes the cell started and left running are stopped once it has ended: copies of the
        kernel left by a fork must not take the cores from the cells after it."""
        phase = "cells" if "setup_cell" in self.phases or cell.cell_type != "code" else "setup_cell"
        try:
            return self._timed(phase, super().execute_cell, cell, cell_index, *args, **kwargs)
        finally:
            self._stop_strays()

    def _stop_strays(self) -> None:
        if getattr(self, "km", None) is not None:   # nbclient drops it once the kernel is shut down
            self.strays_stopped += self.km.stop_strays()

    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        km.policy = Policy(hidden=[Path(p) for p in self.hidden_paths],
                           limits=Limits(memory_bytes=self.memory_bytes, processes=self.processes,
                                         output_bytes=self.max_output_bytes, disk_bytes=self.disk_bytes))
        km.sandboxed = self.sandboxed
        self._answers_dir = km.setup_scratch()
        self._sandbox_km = km  # nbclient drops self.km at cleanup; the scratch folder must still go
        return km

    async def _async_handle_timeout(self, timeout, cell=None):
        """After a cell's timeout the kernel is interrupted (nbgrader's setting); a kernel that then does not
        run an empty cell within ``probe_seconds`` is stuck (hung in its own shutdown, deaf to interrupts,
        or with its execution machinery broken by the submission): it is stopped and the notebook ends as
        if it had died, instead of every later cell waiting out its own timeout."""
        # processes the cell started would compete with the kernel for the cores: stopped before the interrupt,
        # and after it those the cell started until it was interrupted
        self._stop_strays()
        reply = await super()._async_handle_timeout(timeout, cell)
        self._stop_strays()
        if not await self._runs_code(min(float(timeout), self.probe_seconds)):
            await ensure_async(self.km.shutdown_kernel(now=True))
            raise DeadKernelError("the kernel stopped answering after a cell timed out")
        return reply

    async def _runs_code(self, wait: float) -> bool:
        """Whether the kernel replies to an empty, silent execute request within ``wait`` seconds."""
        msg_id = self.kc.execute("", silent=True, store_history=False)
        deadline = monotonic() + wait
        while (left := deadline - monotonic()) > 0:
            try:
                msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=left))
            except Empty:
                return False
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return True
        return False

    def output(self, outs, msg, display_id, cell_index):
        """Keep at most ``max_output_bytes`` of output per cell; drop the rest with a note."""
        size = len(str(msg.get("content", "")))
        used = self._output_sizes.get(cell_index, 0)
        self._output_sizes[cell_index] = used + size
        if used + size > self.max_output_bytes:
            if used <= self.max_output_bytes:
                note = NotebookNode(output_type="stream", name="stdout",
                                    text=f"\n[output truncated by the grader after {self.max_output_bytes} bytes]\n")
                outs.append(note)
            return None
        return super().output(outs, msg, display_id, cell_index)

    def preprocess(self, nb, resources=None, km=None):
        resources = resources if resources is not None else {}
        self._output_sizes = {}
        self._answers_dir = None
        self._sandbox_km = None
        self.phases = {}
        self.strays_stopped = 0
        # the kernel is disposable: once its last cell has replied, its answers are on disk, and killing bwrap
        # ends every process of its PID namespace (--unshare-pid, --die-with-parent). Without the sandbox
        # the kernel is asked to stop, as nbclient does by default.
        self.shutdown_kernel = "immediate" if self.sandboxed else "graceful"
        start = perf_counter()
        try:
            nb, resources = super().preprocess(nb, resources, km=km)
        finally:
            if self._answers_dir is not None:
                resources["rnncourse_answers"] = load_answers(self._answers_dir)
            if self._sandbox_km is not None:
                self._sandbox_km.cleanup_scratch()
            # where an execution's seconds went; "kernel_stop": what is left (shutdown, clean-up)
            total = perf_counter() - start
            self.phases["kernel_stop"] = total - sum(self.phases.values())
            resources["rnncourse_phases"] = {k: round(v, 4) for k, v in self.phases.items()}
        return nb, resources
