"""Run a Jupyter kernel inside bubblewrap (``bwrap``), in a filesystem built from nothing.

The kernel's filesystem is an allow-list; nothing else of the host exists in it:

* read-only: the Python installation (virtual environment, base interpreter,
  site-packages), the system libraries it loads (``/usr/lib*``, the loader's
  cache), ``prlimit`` and ``setpriv``, a two-line ``/etc/passwd``;
* ``/dev`` (null, zero, random, ...) and a ``/proc`` of its own PID namespace;
* ``rnncourse`` is a copy that holds only ``rnncourse.grading`` and the table of
  properties it names (``rnncourse.properties``), so a submission cannot hand in
  the course's reference implementation;
* writable, each a tmpfs of at most ``Limits.disk_bytes``: ``/tmp`` (also its
  home), ``/dev/shm`` and its working folder, in which the files of the
  submission's folder are mounted read-only. What the kernel writes there
  vanishes with it; a write past the bound fails (ENOSPC) and the cell with it;
* its private scratch folder on the host (connection file, sockets, submitted
  answers) is itself a size-limited tmpfs when the grader may mount one (root).

No network (a new network namespace; the kernel talks to the grader over Unix
sockets), its own PID namespace, and resource limits from ``prlimit``. When the
grader runs as root the kernel runs as an unprivileged user of its own (``nobody``
inside, a uid no other kernel running at the same time has: ``kernel_uid``), so that
the process limit applies to it alone: a fork bomb in one submission cannot starve
the kernels that other workers run at the same time.
"""
from __future__ import annotations

import functools
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Any, Unicode

from . import strays

NOBODY = 65534
KERNEL_UID_BASE = 2**30   # far above the uids and subordinate uid ranges a system hands out
_kernel_slots = itertools.count()


def kernel_uid() -> int:
    """A uid for the next kernel, distinct from those of kernels started by other live processes
    (it contains the pid) and by the 15 kernels this process started before it."""
    return KERNEL_UID_BASE + os.getpid() * 16 + next(_kernel_slots) % 16
SYSTEM_LIBRARIES = ["/usr/lib", "/usr/lib64", "/usr/lib32", "/usr/libx32"]
LOADER_FILES = ["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d"]


@dataclass
class Limits:
    """Resource limits of one sandboxed kernel."""

    memory_bytes: int = 4 * 2**30      # address space (RLIMIT_AS)
    processes: int = 64                # RLIMIT_NPROC (as the unprivileged user; threads count)
    cpu_seconds: int = 900             # RLIMIT_CPU for the kernel process
    file_bytes: int = 64 * 2**20       # largest file the kernel may write (RLIMIT_FSIZE)
    open_files: int = 256              # RLIMIT_NOFILE
    output_bytes: int = 2 * 2**20      # outputs kept per cell (enforced by the grader)
    disk_bytes: int = 256 * 2**20      # size of each writable tmpfs (/tmp, /dev/shm, working folder, scratch)


@dataclass
class Policy:
    """What the sandbox lets through besides Python and the system libraries."""

    hidden: list[Path] = field(default_factory=list)   # kept for callers; nothing outside the allow-list is visible
    limits: Limits = field(default_factory=Limits)


@functools.lru_cache(maxsize=1)
def bwrap_supports_size() -> bool:
    """bubblewrap >= 0.8 can size-limit a tmpfs (``--size``)."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return False
    probe = subprocess.run([bwrap, "--ro-bind", "/", "/", "--size", str(2**20), "--tmpfs", "/tmp", "true"],
                           capture_output=True, text=True)
    return probe.returncode == 0


def private_mounts() -> bool:
    """Move this process into a mount namespace of its own (its children follow), where possible.

    The kernels' size-limited scratch folders are then mounted there and nowhere else: the
    machine never sees them, and they vanish with the last process of the grading run, even
    one killed with SIGKILL that cannot unmount them. Returns False where the process may not
    (not root, no CAP_SYS_ADMIN); then there are mounts only where it can mount, and a
    grading run unmounts them when it ends.
    """
    import ctypes

    clone_newns, ms_rec, ms_private = 0x00020000, 0x4000, 0x40000
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(clone_newns) != 0:
            return False
        # stop mounts made here from propagating back to the machine's namespace
        return libc.mount(b"none", b"/", None, ms_rec | ms_private, None) == 0
    except (OSError, AttributeError):
        return False


@functools.lru_cache(maxsize=1)
def can_mount_tmpfs() -> str | None:
    """None when the grader can mount a size-limited tmpfs for the kernel's scratch folder, else why not."""
    if os.geteuid() != 0:
        return "the grader is not root"
    mount = shutil.which("mount") or "/usr/bin/mount"
    if not os.path.exists(mount):
        return "mount (util-linux) is missing"
    with tempfile.TemporaryDirectory(prefix="rnncourse-probe-") as folder:
        result = subprocess.run([mount, "-t", "tmpfs", "-o", "size=1m", "tmpfs", folder], capture_output=True,
                                text=True)
        if result.returncode != 0:
            return f"mounting a tmpfs failed ({result.stderr.strip()})"
        subprocess.run([shutil.which("umount") or "/usr/bin/umount", folder], capture_output=True)
    return None


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
        elif not bwrap_supports_size():
            missing.append("bubblewrap is older than 0.8 (no --size): the kernel's writable folders have no size "
                           "limit, a submission can fill the grader's memory or disk")
    if not shutil.which("prlimit"):
        missing.append("prlimit (util-linux) is missing: no memory, process, CPU-time or file-size limits")
    if os.geteuid() == 0 and not shutil.which("setpriv"):
        missing.append("setpriv (util-linux) is missing: the kernel would run as root and the process limit "
                       "would not apply")
    if os.geteuid() != 0:
        missing.append("the grader is not root: the kernel keeps the grader's user id, so its process limit is "
                       "shared with the grader's own processes")
    elif can_mount_tmpfs():
        missing.append(f"the kernel's scratch folder (answers, sockets) cannot be size-limited ({can_mount_tmpfs()}): "
                       "a submission could fill the grader's disk through it")
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


GRADING_MODULES = ("grading.py", "properties.py")   # all of rnncourse that a graded kernel can import


def grading_only_package(into: Path) -> Path:
    """Write a copy of ``rnncourse`` that holds only ``grading.py`` and ``properties.py``; return its folder."""
    target = into / "rnncourse"
    target.mkdir(parents=True, exist_ok=True)
    (target / "__init__.py").write_text('"""rnncourse during grading: only rnncourse.grading is available."""\n')
    for name in GRADING_MODULES:
        shutil.copy(reference_package_dir() / name, target / name)
    for path in [target, target / "__init__.py"] + [target / name for name in GRADING_MODULES]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


def _under(path: Path, roots) -> bool:
    return any(path == r or r in path.parents for r in roots)


def python_paths() -> list[Path]:
    """Folders of the Python installation the kernel runs from (outermost first, none inside another)."""
    found = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), Path(sys.executable).resolve().parent}
    for entry in sys.path:
        p = Path(entry).resolve() if entry else None
        if p and p.is_dir() and ("site-packages" in p.parts or "dist-packages" in p.parts):
            found.add(p)
    package_parent = reference_package_dir().parent
    found.discard(package_parent)  # the source checkout of an editable install: only the copy goes in
    kept: list[Path] = []
    for path in sorted(found, key=lambda p: len(p.parts)):
        if not _under(path, kept) and not _under(path, [Path(d) for d in SYSTEM_LIBRARIES]):
            kept.append(path)
    return kept


def visible_paths() -> list[str]:
    """Top-level entries of the kernel's filesystem (what ``ls /`` shows inside, besides its own folders)."""
    names = {"dev", "proc", "tmp", "etc", "usr"}
    for name in ("bin", "sbin", "lib", "lib64", "lib32", "libx32"):
        if Path("/", name).is_symlink() or (name.startswith("lib") and Path("/", name).is_dir()):
            names.add(name)
    for path in python_paths() + [reference_package_dir()]:
        names.add(path.parts[1])
    return sorted(names)


def bwrap_command(kernel_cmd: list[str], cwd: Path, scratch: Path, package_copy: Path, policy: Policy,
                  env: dict[str, str]) -> list[str]:
    """The full command line: bwrap [mounts] -- [setpriv] prlimit [limits] -- kernel_cmd."""
    lim = policy.limits
    size = ["--size", str(lim.disk_bytes)] if bwrap_supports_size() else []
    cmd = ["bwrap", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
           "--die-with-parent", "--hostname", "grader", "--clearenv",
           "--dev", "/dev", "--proc", "/proc",
           "--perms", "01777", *size, "--tmpfs", "/tmp",
           "--perms", "01777", *size, "--tmpfs", "/dev/shm"]
    made = {Path("/"), Path("/tmp"), Path("/dev"), Path("/proc")}

    def parents(path: Path) -> list[str]:
        """bwrap may create missing parents as 0700: create them 0755 first."""
        args = []
        for parent in reversed(path.parents):
            if parent not in made:
                made.add(parent)
                args += ["--perms", "0755", "--dir", str(parent)]
        made.add(path)
        return args

    # system libraries, and the root symlinks of a merged /usr (lib -> usr/lib)
    for name in ("lib", "lib64", "lib32", "libx32", "bin", "sbin"):
        root = Path("/", name)
        if root.is_symlink():
            cmd += ["--symlink", os.readlink(root), str(root)]
            made.add(root)
        elif name.startswith("lib") and root.is_dir():
            cmd += parents(root) + ["--ro-bind", str(root), str(root)]
    for lib in SYSTEM_LIBRARIES + LOADER_FILES:
        if Path(lib).exists() and not Path(lib).is_symlink():
            cmd += parents(Path(lib)) + ["--ro-bind", lib, lib]
    for tool in ("prlimit", "setpriv"):
        found = shutil.which(tool)
        if found and not _under(Path(found).resolve(), [Path(d) for d in SYSTEM_LIBRARIES]):
            real = Path(found).resolve()
            cmd += parents(Path(found)) + ["--ro-bind", str(real), found]
    etc = scratch / "etc"
    etc.mkdir(exist_ok=True)
    uid = kernel_uid() if os.geteuid() == 0 else NOBODY
    (etc / "passwd").write_text(f"root:x:0:0:root:/root:/bin/sh\nnobody:x:{uid}:{NOBODY}:nobody:/tmp:/bin/sh\n")
    (etc / "group").write_text(f"root:x:0:\nnogroup:x:{NOBODY}:\n")
    for name in ("passwd", "group"):
        (etc / name).chmod(0o644)
        cmd += parents(Path("/etc", name)) + ["--ro-bind", str(etc / name), f"/etc/{name}"]

    for path in python_paths():
        cmd += parents(path) + ["--ro-bind", str(path), str(path)]
    package = reference_package_dir()
    cmd += parents(package) + ["--ro-bind", str(package_copy), str(package)]

    # the scratch folder: connection file (read-only), sockets and answers (writable)
    cmd += parents(scratch) + ["--ro-bind", str(scratch), str(scratch)]
    for sub in ("sockets", "answers"):
        if (scratch / sub).is_dir():
            cmd += ["--bind", str(scratch / sub), str(scratch / sub)]
    # the working folder: a bounded tmpfs holding the submission's files read-only
    cmd += parents(cwd) + ["--perms", "0777", *size, "--tmpfs", str(cwd)]
    for entry in sorted(cwd.iterdir()) if cwd.is_dir() else []:
        if not entry.is_symlink():
            cmd += ["--ro-bind", str(entry), str(entry)]
    cmd += ["--chdir", str(cwd)]
    for key, value in env.items():
        cmd += ["--setenv", key, value]
    cmd.append("--")
    if os.geteuid() == 0:
        cmd += ["setpriv", f"--reuid={uid}", f"--regid={NOBODY}", "--clear-groups"]
    cmd += ["prlimit", f"--as={lim.memory_bytes}", f"--nproc={lim.processes}", f"--cpu={lim.cpu_seconds}",
            f"--fsize={lim.file_bytes}", f"--nofile={lim.open_files}", "--core=0", "--"]
    return cmd + kernel_cmd


KERNEL_PREFIX = "rk-"      # each kernel's scratch folder (short: its Unix sockets live inside)
SOCKET_PATH_MAX = 107      # bytes of a Unix socket path (sun_path, less its terminating zero)


def longest_socket_path(parent: str) -> int:
    """Length of the longest socket path of a kernel whose scratch folder is made in ``parent``.

    mkdtemp adds 8 characters; jupyter_client numbers the ipc sockets from 1 upwards."""
    return len(f"{parent}/{KERNEL_PREFIX}12345678/sockets/kernel-99999")


class SandboxKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` whose kernel starts inside bubblewrap and talks over Unix sockets."""

    policy = Any(None, help="a sandbox.Policy").tag(config=False)
    sandboxed = Any(True, help="False: run the kernel without bubblewrap (unsafe; for machines without it)")
    answers_dir = Unicode("", help="folder the kernel writes submitted answers to").tag(config=False)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.scratch = Path(tempfile.mkdtemp(prefix=KERNEL_PREFIX))
        self.mounted = False
        self.transport = "ipc"
        self.ip = str(self.scratch / "sockets" / "kernel")
        self.connection_file = str(self.scratch / "connection.json")
        self.package_copy = None
        self.own_processes: set[int] = set()   # remember_processes: what runs the kernel, before any cell
        self._namespace_proc: str | None = None
        self._namespace_count: int | None = None

    def setup_scratch(self) -> Path:
        """Fill the scratch folder (a size-limited tmpfs where possible) once policy and mode are set.

        Returns the answers folder the kernel writes to."""
        if self.sandboxed and not can_mount_tmpfs():
            size = (self.policy or Policy()).limits.disk_bytes
            result = subprocess.run([shutil.which("mount") or "/usr/bin/mount", "-t", "tmpfs", "-o",
                                     f"size={size},mode=0711", "tmpfs", str(self.scratch)], capture_output=True)
            self.mounted = result.returncode == 0
        self.scratch.chmod(0o711)
        for name in ("sockets", "answers"):
            (self.scratch / name).mkdir(exist_ok=True)
            (self.scratch / name).chmod(0o777)
        self.package_copy = grading_only_package(self.scratch / "package")
        self.answers_dir = str(self.scratch / "answers")
        return self.scratch / "answers"

    def format_kernel_cmd(self, extra_arguments=None):
        kernel_cmd = super().format_kernel_cmd(extra_arguments)
        # Interrupt by a message on the control channel: the kernel signals itself inside the
        # sandbox. A SIGINT to the process group would end bwrap, and with it the kernel.
        self.kernel_spec.interrupt_mode = "message"
        Path(self.connection_file).chmod(0o644)  # readable by the unprivileged kernel user
        cwd = Path(self._launch_args.get("cwd") or os.getcwd()).resolve()
        home = "/tmp" if self.sandboxed else str(self.scratch / "home")
        if not self.sandboxed:
            os.makedirs(home, exist_ok=True)
        env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8",
               "MPLBACKEND": "module://matplotlib_inline.backend_inline", "MPLCONFIGDIR": f"{home}/.matplotlib",
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

    def remember_processes(self) -> None:
        """Note the processes the kernel runs as, once it answers and before any cell runs: the launched
        process (bwrap; the kernel itself without the sandbox) and what it started (bwrap's init, the kernel)."""
        root = self.provisioner.pid
        self.own_processes = {root} | strays.descendants(root, strays.process_table())
        # the sandbox's own /proc lists its processes alone: counting them is the cheap check between cells
        inside = [pid for pid in self.own_processes if pid != root]
        self._namespace_proc = f"/proc/{inside[0]}/root/proc" if self.sandboxed and inside else None
        self._namespace_count = self._count_in_namespace()

    def _count_in_namespace(self) -> int | None:
        if self._namespace_proc is None:
            return None
        try:
            return sum(name.isdigit() for name in os.listdir(self._namespace_proc))
        except OSError:
            return None

    def stop_strays(self) -> int:
        """Stop every process the submission started that is still running (see ``strays``).

        Returns how many were stopped. Costs one listing of the sandbox's /proc when there are none."""
        if not self.own_processes or not self.has_kernel:
            return 0
        count = self._count_in_namespace()
        if count is not None and count <= self._namespace_count:
            return 0
        return strays.stop_strays(self.provisioner.pid, self.own_processes)

    def cleanup_scratch(self) -> None:
        if self.mounted:
            umount = shutil.which("umount") or "/usr/bin/umount"
            if subprocess.run([umount, str(self.scratch)], capture_output=True).returncode != 0:
                subprocess.run([umount, "-l", str(self.scratch)], capture_output=True)
            self.mounted = False
        shutil.rmtree(self.scratch, ignore_errors=True)
