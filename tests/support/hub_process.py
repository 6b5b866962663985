"""The real hub as a subprocess (`dxkit hub serve`) on a free loopback port, stopped by its
PID; shared by the sync tests and the benchmarks (no pytest here).

Administration (`dxkit hub team add`, `enroll-code`, `devices …`) goes two ways: `cli()` runs
the command as its own process, for the tests about the command line; `admin()` runs the same
click command inside this process, for set-up steps, and saves starting Python and importing
dxkit (about a second) per call."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


@dataclass
class HubServer:
    """A `dxkit hub serve` subprocess on a free loopback port. `db_path` is the hub's
    database: a SQLite file or a postgresql:// URL."""

    url: str
    db_path: Path | str
    process: subprocess.Popen

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


def start_hub(db: Path | str, log_path: Path, *serve_args: str) -> HubServer:
    """Start `dxkit hub serve --db DB` (SUITE_LIMITS, then `serve_args`) and wait until
    /v1/health answers. A port another process took between free_port() and the hub's bind
    (tests run in parallel) is retried on a new port."""
    for _attempt in range(3):
        server = _start_hub_once(db, log_path, serve_args)
        if server is not None:
            return server
    raise AssertionError(f"the hub found no free port: {log_path.read_text(errors='replace')}")


def _start_hub_once(db: Path | str, log_path: Path, serve_args: tuple[str, ...]
                    ) -> HubServer | None:
    port = free_port()
    log = log_path.open("wb")
    process = subprocess.Popen(
        dxkit_command("hub", "serve", "--db", str(db), "--host", "127.0.0.1",
                      "--port", str(port), *SUITE_LIMITS, *serve_args),
        stdout=log, stderr=subprocess.STDOUT)
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
