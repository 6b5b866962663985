"""A throwaway PostgreSQL cluster for the hub tests and benchmarks (no pytest here).

`PostgresCluster.start()` runs initdb into a new temporary directory and starts the server on
a free loopback port with its unix socket in that directory; `stop()` stops it (pg_ctl, then
the postmaster's PID) and deletes the directory. initdb refuses to run as root, so under root
every server program runs as the `postgres` OS user (Debian's package creates it) and the
directory belongs to that user.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

SERVER_USER = "postgres"
FAST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def find_bindir() -> Path | None:
    """The newest Debian PostgreSQL (/usr/lib/postgresql/N/bin), else initdb on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda path: int(Path(path).parts[-3]) if
                   Path(path).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def available() -> bool:
    if find_bindir() is None:
        return False
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return False
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresCluster:
    """A running throwaway server; `url(name)` connects to database `name` over loopback."""

    def __init__(self, root: Path, bindir: Path, port: int):
        self.root = root
        self.bindir = bindir
        self.port = port
        self.data = root / "data"
        self.log = root / "server.log"
        self._names = itertools.count(1)

    @classmethod
    def start(cls, fast: bool = True, settings: dict[str, str] | None = None
              ) -> PostgresCluster:
        """initdb and start. `fast` turns durability off (fine for throwaway data)."""
        bindir = find_bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
        root = Path(tempfile.mkdtemp(prefix="dxkit-pg-"))
        cluster = cls(root, bindir, free_port())
        try:
            if os.geteuid() == 0:
                user = pwd.getpwnam(SERVER_USER)
                os.chown(root, user.pw_uid, user.pw_gid)
            cluster._run("initdb", "-D", str(cluster.data), "-U", "postgres", "--auth=trust",
                         "--no-locale", "-E", "UTF8", "--no-sync")
            options = {"listen_addresses": "127.0.0.1", "unix_socket_directories": str(root),
                       "max_connections": "300", **(FAST_SETTINGS if fast else {}),
                       **(settings or {})}
            flags = " ".join(f"-c {key}={value}" for key, value in options.items())
            cluster._run("pg_ctl", "-D", str(cluster.data), "-l", str(cluster.log), "-w",
                         "-t", "60", "-o", f"-p {cluster.port} {flags}", "start")
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self) -> Any:
        import psycopg

        return psycopg.connect(self.url(), autocommit=True)

    def create_database(self, prefix: str = "hub") -> str:
        """A new empty database; returns its name."""
        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        """Stop the server (fast shutdown, then by PID if needed) and delete its files."""
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "30",
                          "stop")
            self._kill_postmaster()
        shutil.rmtree(self.root, ignore_errors=True)

    def _kill_postmaster(self) -> None:
        pid_file = self.data / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int(pid_file.read_text().splitlines()[0])
            os.kill(pid, signal.SIGQUIT)  # immediate shutdown of that postmaster only
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and pid_file.exists():
                time.sleep(0.1)

    def _run(self, program: str, *args: str) -> None:
        as_server_user: dict[str, Any] = {}
        if os.geteuid() == 0:
            as_server_user = {"user": SERVER_USER, "group": SERVER_USER, "extra_groups": []}
        done = subprocess.run([str(self.bindir / program), *args], cwd=self.root,
                              capture_output=True, text=True, timeout=120, check=False,
                              **as_server_user)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(f"{program} failed: {done.stderr or done.stdout}\n{log}")
