"""A throwaway PostgreSQL server for the tests: initdb + pg_ctl in a folder of its own, Unix socket only.

Debian's ``postgresql`` package provides the programs (``make test`` installs it). As
root the server runs as the ``postgres`` user (``runuser``), since PostgreSQL refuses to
run as root. The folder is removed when the server stops.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path


def pg_bin(name: str) -> str:
    """The path of a PostgreSQL server program (Debian keeps them out of PATH)."""
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)),
                                       None)
    if not found:
        raise RuntimeError(f"{name} not found: install PostgreSQL (apt-get install postgresql; `make test` does)")
    return found


class PostgresServer:
    """``with PostgresServer() as pg: pg.url`` is a SQLAlchemy URL of an empty database."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="pg-"))   # short: the socket path has a length limit
        self.data, self.socket = self.folder / "data", self.folder / "socket"
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            self.prefix = ["runuser", "-u", "postgres", "--"]
            self.folder.chmod(0o755)

    def _run(self, *cmd: str) -> None:
        result = subprocess.run(self.prefix + list(cmd), capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}")

    def __enter__(self) -> "PostgresServer":
        self.socket.mkdir()
        if self.prefix:
            shutil.chown(self.folder, "postgres")
            shutil.chown(self.socket, "postgres")
        self._run(pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-sync")
        options = f"-c listen_addresses='' -c unix_socket_directories={self.socket} -c fsync=off -c max_connections=60"
        self._run(pg_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w",
                  "-t", "120", "start")
        self.url = f"postgresql+psycopg://postgres@/postgres?host={self.socket}"
        return self

    def __exit__(self, *exc) -> None:
        try:
            self._run(pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
