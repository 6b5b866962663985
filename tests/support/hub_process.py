"""The real hub as a subprocess (`dxkit hub serve`) on a free loopback port, stopped by its
PID; shared by the sync tests and the benchmarks (no pytest here).

Administration (`dxkit hub team add`, `enroll-code`, `devices …`) goes two ways: `cli()` runs
the command as its own process, for the tests about the command line; `admin()` runs the same
click command inside this process, for set-up steps, and saves starting Python and importing
dxkit (about a second) per call.

Hubs are started from a *zygote* (POSIX): one process per test process that has imported
dxkit once and forks a hub on request — still a process of its own, with its own session,
PID and log, the requesting process's environment and folder, stopped by its PID. A start
costs ~0.15 s instead of the ~1 s of a new interpreter importing dxkit, which the sync tests
paid about a hundred times. The benchmarks pass `forked=False`; `DXKIT_TEST_HUB_SPAWN=1` (or
Windows) starts every hub as a plain subprocess."""

from __future__ import annotations

import atexit
import contextlib
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
POLL_SECONDS = 0.02  # between two looks at a starting hub
# The suite's hubs serve every test's enrollments and devices from one loopback address, far
# past what one address may send a real hub: their rate limits are lifted. A test of the
# limits passes its own options after these (the last one given wins).
SUITE_LIMITS = ("--address-rate", "100000", "--address-burst", "100000",
                "--device-rate", "100000", "--device-burst", "100000",
                "--device-concurrency", "64")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def dxkit_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "dxkit.ui.entry", *args]


class HubProcess(Protocol):
    """What the tests use of a hub's process: subprocess.Popen, or a forked hub."""

    def poll(self) -> int | None: ...

    def terminate(self) -> None: ...

    def kill(self) -> None: ...

    def wait(self, timeout: float | None = None) -> int: ...


@dataclass
class HubServer:
    """A `dxkit hub serve` subprocess on a free loopback port. `db_path` is the hub's
    database: a SQLite file or a postgresql:// URL."""

    url: str
    db_path: Path | str
    process: HubProcess

    def cli(self, *args: str) -> Any:
        """`dxkit hub --db DB ARGS --json` as a process of its own, parsed."""
        done = subprocess.run(dxkit_command("hub", "--db", str(self.db_path), *args, "--json"),
                              capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            raise AssertionError(f"dxkit hub {' '.join(args)} failed: {done.stderr}")
        return json.loads(done.stdout)

    def admin(self, *args: str) -> Any:
        """The same command as `cli()`, run in this process by click's test runner."""
        return hub_admin(self.db_path, *args)

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)


def hub_admin(db: Path | str, *args: str) -> Any:
    """`dxkit hub --db DB ARGS --json` in this process, parsed; the app's language is left as
    it was (the command sets it from --lang / DXKIT_LANG)."""
    from click.testing import CliRunner

    from dxkit.cli import cli
    from dxkit.core import i18n

    language = i18n.language()
    try:
        done = CliRunner().invoke(cli, ["hub", "--db", str(db), *args, "--json"])
    finally:
        i18n.set_language(language)
    if done.exit_code != 0:
        raise AssertionError(f"dxkit hub {' '.join(args)} failed ({done.exit_code}): "
                             f"{done.stderr or done.output}") from done.exception
    return json.loads(done.stdout)


def start_hub(db: Path | str, log_path: Path, *serve_args: str, forked: bool = True
              ) -> HubServer:
    """Start `dxkit hub serve --db DB` (SUITE_LIMITS, then `serve_args`) and wait until
    /v1/health answers. A port another process took between free_port() and the hub's bind
    (tests run in parallel) is retried on a new port."""
    forked = forked and hasattr(os, "fork") and os.environ.get("DXKIT_TEST_HUB_SPAWN") != "1"
    for _attempt in range(3):
        server = _start_hub_once(db, log_path, serve_args, forked)
        if server is not None:
            return server
    raise AssertionError(f"the hub found no free port: {log_path.read_text(errors='replace')}")


def _start_hub_once(db: Path | str, log_path: Path, serve_args: tuple[str, ...],
                    forked: bool) -> HubServer | None:
    port = free_port()
    command = ("hub", "serve", "--db", str(db), "--host", "127.0.0.1", "--port", str(port),
               *SUITE_LIMITS, *serve_args)
    process: HubProcess
    if forked:
        process = _zygote().fork(command, log_path)
    else:
        log = log_path.open("wb")
        process = subprocess.Popen(dxkit_command(*command), stdout=log,
                                   stderr=subprocess.STDOUT)
        log.close()  # the child keeps its own handle
    tls = "--ssl-certfile" in serve_args
    server = HubServer(f"{'https' if tls else 'http'}://127.0.0.1:{port}", db, process)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            said = log_path.read_text(errors="replace")
            if "address already in use" in said:
                return None
            raise AssertionError(f"the hub exited: {said}")
        if _healthy(port, tls):
            return server
        time.sleep(POLL_SECONDS)
    server.stop()
    raise AssertionError(f"the hub did not answer: {log_path.read_text(errors='replace')}")


def _healthy(port: int, tls: bool = False) -> bool:
    """GET /v1/health answers 200. With the standard library's plain HTTP client: an httpx
    client builds a TLS context first, which costs more than the request. A TLS hub is only
    asked whether it is up here (its certificate is the test's to check)."""
    connection = (http.client.HTTPSConnection("127.0.0.1", port, timeout=1,
                                              context=ssl._create_unverified_context())
                  if tls else http.client.HTTPConnection("127.0.0.1", port, timeout=1))
    try:
        connection.request("GET", "/v1/health")
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


# -- the zygote ------------------------------------------------------------------------------
# Runs in the zygote: import dxkit once, then fork one hub per request line. SIGCHLD ignored:
# the kernel reaps the hubs, which are the test process's to stop, by PID.
_ZYGOTE = r"""
import json, os, signal, sys
import dxkit.ui.entry as entry
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
requests = os.fdopen(0, "rb", buffering=0)
answers = os.fdopen(1, "wb", buffering=0)
pending = b""
while True:
    chunk = os.read(0, 65536)
    if not chunk:
        break
    pending += chunk
    while b"\n" in pending:
        line, pending = pending.split(b"\n", 1)
        job = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.setsid()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                log = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)
                os.dup2(log, 1)
                os.dup2(log, 2)
                sys.stdin = open(0, "r", closefd=False)
                sys.stdout = open(1, "w", buffering=1, closefd=False)
                sys.stderr = open(2, "w", buffering=1, closefd=False)
                os.environ.clear()
                os.environ.update(job["env"])
                os.chdir(job["cwd"])
                code = entry.main(job["args"])
            except SystemExit as done:
                code = done.code if isinstance(done.code, int) else 1
            except BaseException:
                import traceback
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        os.write(1, b"%d\n" % pid)
"""


class ForkedHub:
    """A hub forked by the zygote: not our child, so it is watched and stopped by PID."""

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = -1  # gone (the zygote's kernel reaping keeps no status)
        return self.returncode

    def _signal(self, number: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, number)

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"hub {self.pid}", timeout or 0)
            time.sleep(POLL_SECONDS)
        return self.returncode or 0


class _Zygote:
    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", _ZYGOTE], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, start_new_session=True)
        atexit.register(self.close)

    def fork(self, args: tuple[str, ...], log_path: Path) -> ForkedHub:
        assert self.process.stdin is not None and self.process.stdout is not None
        job = {"args": list(args), "log": str(log_path), "env": dict(os.environ),
               "cwd": os.getcwd()}
        self.process.stdin.write(json.dumps(job).encode() + b"\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise AssertionError("the hub zygote stopped")
        return ForkedHub(int(answer))

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()  # its loop ends; the hubs it forked are not its
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


_ZYGOTES: dict[int, _Zygote] = {}  # per test process (by PID: pytest-xdist workers)


def _zygote() -> _Zygote:
    found = _ZYGOTES.get(os.getpid())
    if found is None or found.process.poll() is not None:
        found = _ZYGOTES[os.getpid()] = _Zygote()
    return found
