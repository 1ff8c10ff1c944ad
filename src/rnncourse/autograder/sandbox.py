"""Run a Jupyter kernel inside bubblewrap (``bwrap``).

The kernel sees the whole filesystem read-only, except:

* hidden (an empty tmpfs): the course folder (solutions, release, gradebook,
  other students' work), the repository that holds the reference package, the
  instructor's home folder, and /tmp;
* read-only again inside them: the Python installation the kernel needs;
* writable: the submission's own working folder and a private scratch folder
  (connection file, sockets, answers);
* ``rnncourse`` is replaced by a copy that holds only ``rnncourse.grading``,
  so a submission cannot hand in the course's reference implementation.

No network (a new network namespace; the kernel talks to the grader over Unix
sockets), its own PID namespace, and resource limits from ``prlimit``. When the
grader runs as root the kernel runs as ``nobody`` so that the process limit
applies to it alone.
"""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Any, Unicode

NOBODY = 65534


@dataclass
class Limits:
    """Resource limits of one sandboxed kernel."""

    memory_bytes: int = 4 * 2**30      # address space (RLIMIT_AS)
    processes: int = 64                # RLIMIT_NPROC (as the unprivileged user; threads count)
    cpu_seconds: int = 900             # RLIMIT_CPU for the kernel process
    file_bytes: int = 64 * 2**20       # largest file the kernel may write (RLIMIT_FSIZE)
    open_files: int = 256              # RLIMIT_NOFILE
    output_bytes: int = 2 * 2**20      # outputs kept per cell (enforced by the grader)


@dataclass
class Policy:
    """What the sandbox hides and what it lets through."""

    hidden: list[Path] = field(default_factory=list)   # made invisible (tmpfs over them)
    limits: Limits = field(default_factory=Limits)


def missing_protections() -> list[str]:
    """What cannot be enforced on this machine (empty when everything is available)."""
    missing = []
    bwrap = shutil.which("bwrap")
    if not bwrap:
        missing.append("bubblewrap (bwrap) is not installed (Debian package 'bubblewrap'): student code would run "
                       "with the grader's rights, see the course files, solutions and gradebook, and use the network")
    else:
        probe = subprocess.run([bwrap, "--ro-bind", "/", "/", "--unshare-net", "--unshare-pid", "--proc", "/proc",
                                "--dev", "/dev", "true"], capture_output=True, text=True)
        if probe.returncode != 0:
            missing.append(f"bwrap cannot create namespaces here ({probe.stderr.strip()}): no filesystem, "
                           "network or process isolation")
    if not shutil.which("prlimit"):
        missing.append("prlimit (util-linux) is missing: no memory, process, CPU-time or file-size limits")
    if os.geteuid() == 0 and not shutil.which("setpriv"):
        missing.append("setpriv (util-linux) is missing: the kernel would run as root and the process limit "
                       "would not apply")
    if os.geteuid() != 0:
        missing.append("the grader is not root: the kernel keeps the grader's user id, so its process limit is "
                       "shared with the grader's own processes")
    return missing


def reference_package_dir() -> Path:
    import rnncourse

    return Path(rnncourse.__file__).resolve().parent


def repository_root() -> Path | None:
    """The checkout that holds the package source (editable installs), if any."""
    package = reference_package_dir()
    for parent in package.parents:
        if (parent / "solutions").is_dir() or (parent / ".git").exists():
            return parent
    return None


def grading_only_package(into: Path) -> Path:
    """Write a copy of ``rnncourse`` that holds only ``grading.py``; return its folder."""
    target = into / "rnncourse"
    target.mkdir(parents=True, exist_ok=True)
    (target / "__init__.py").write_text('"""rnncourse during grading: only rnncourse.grading is available."""\n')
    shutil.copy(reference_package_dir() / "grading.py", target / "grading.py")
    for path in [target, target / "__init__.py", target / "grading.py"]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


def _under(path: Path, roots: list[Path]) -> bool:
    return any(path == r or r in path.parents for r in roots)


def bwrap_command(kernel_cmd: list[str], cwd: Path, scratch: Path, package_copy: Path, policy: Policy,
                  env: dict[str, str]) -> list[str]:
    """The full command line: bwrap [mounts] -- [setpriv] prlimit [limits] -- kernel_cmd."""
    home = Path.home().resolve()
    hidden = [Path(p).resolve() for p in policy.hidden]
    repo = repository_root()
    hidden += [home, Path("/tmp")] + ([repo] if repo else [])
    hidden = sorted(set(hidden), key=lambda p: len(p.parts))

    cmd = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
           "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
           "--die-with-parent", "--hostname", "grader", "--clearenv"]
    for path in hidden:
        if path.exists():
            cmd += ["--perms", "0755", "--tmpfs", str(path)]
    # Python itself (the interpreter, the virtual environment, site-packages) stays readable.
    python_dirs = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), Path(sys.executable).resolve().parent}
    for entry in sys.path:
        p = Path(entry).resolve() if entry else None
        if p and p.exists() and p.is_dir() and "site-packages" in p.parts:
            python_dirs.add(p)
    made: set[Path] = set()

    def parents_readable(path: Path) -> list[str]:
        """bwrap creates missing parents inside a tmpfs as 0700: make them 0755 first."""
        args = []
        for parent in reversed(path.parents):
            if _under(parent, hidden) and parent not in hidden and parent not in made:
                made.add(parent)
                args += ["--perms", "0755", "--dir", str(parent)]
        return args

    for path in sorted(python_dirs, key=lambda p: len(p.parts)):
        if _under(path, hidden) and not (repo and path == repo):
            cmd += parents_readable(path) + ["--ro-bind", str(path), str(path)]
    package = reference_package_dir()
    cmd += parents_readable(package) + ["--ro-bind", str(package_copy), str(package)]
    for path in (scratch, cwd):
        cmd += parents_readable(path) + ["--bind", str(path), str(path)]
    cmd += ["--chdir", str(cwd)]
    for key, value in env.items():
        cmd += ["--setenv", key, value]
    cmd.append("--")
    if os.geteuid() == 0:
        cmd += ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    lim = policy.limits
    cmd += ["prlimit", f"--as={lim.memory_bytes}", f"--nproc={lim.processes}", f"--cpu={lim.cpu_seconds}",
            f"--fsize={lim.file_bytes}", f"--nofile={lim.open_files}", "--core=0", "--"]
    return cmd + kernel_cmd


class SandboxKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` whose kernel starts inside bubblewrap and talks over Unix sockets."""

    policy = Any(None, help="a sandbox.Policy").tag(config=False)
    sandboxed = Any(True, help="False: run the kernel without bubblewrap (unsafe; for machines without it)")
    answers_dir = Unicode("", help="folder the kernel writes submitted answers to").tag(config=False)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.scratch = Path(tempfile.mkdtemp(prefix="rnncourse-kernel-"))
        self.scratch.chmod(0o711)
        sockets = self.scratch / "sockets"
        sockets.mkdir()
        sockets.chmod(0o777)
        self.transport = "ipc"
        self.ip = str(sockets / "kernel")
        self.connection_file = str(self.scratch / "connection.json")
        self.package_copy = grading_only_package(self.scratch / "package")

    def format_kernel_cmd(self, extra_arguments=None):
        kernel_cmd = super().format_kernel_cmd(extra_arguments)
        # Interrupt by a message on the control channel: the kernel signals itself inside the
        # sandbox. A SIGINT to the process group would end bwrap, and with it the kernel.
        self.kernel_spec.interrupt_mode = "message"
        Path(self.connection_file).chmod(0o644)  # readable by the unprivileged kernel user
        cwd = Path(self._launch_args.get("cwd") or os.getcwd()).resolve()
        # the kernel's own working folder must be writable by the kernel user
        os.chmod(cwd, os.stat(cwd).st_mode | stat.S_IWOTH | stat.S_IXOTH | stat.S_IROTH)
        home = self.scratch / "home"
        home.mkdir(exist_ok=True)
        home.chmod(0o777)
        env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
               "MPLBACKEND": "module://matplotlib_inline.backend_inline", "MPLCONFIGDIR": str(home),
               "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1", "NBGRADER_EXECUTION": "autograde"}
        if self.answers_dir:
            env["RNNCOURSE_ANSWERS_DIR"] = self.answers_dir
        if not self.sandboxed:
            self._plain_env = env
            return kernel_cmd
        return bwrap_command(kernel_cmd, cwd, self.scratch, self.package_copy, self.policy or Policy(), env)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        # what the kernel writes to the process's stdout/stderr never reaches the grader's terminal
        kw["stdout"] = subprocess.DEVNULL
        kw["stderr"] = subprocess.DEVNULL
        if self.sandboxed:
            kw.pop("env", None)  # bwrap --clearenv sets the kernel's whole environment
        else:
            kw["env"] = {**(kw.get("env") or os.environ), **getattr(self, "_plain_env", {})}
        return await super()._async_launch_kernel(kernel_cmd, **kw)

    def cleanup_scratch(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)
