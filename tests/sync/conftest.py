"""Fixtures for the sync tests: the real hub process, and records shaped as on the wire."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

import dxkit.core.workspace  # noqa: F401  (registers every synced table)
from dxkit.core.synced import REGISTRY, wire_fields

START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def dxkit_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "dxkit.ui.entry", *args]


@dataclass
class HubServer:
    """A `dxkit hub serve` subprocess on a free loopback port."""

    url: str
    db_path: Path
    process: subprocess.Popen

    def cli(self, *args: str) -> Any:
        """`dxkit hub --db DB ARGS --json`, parsed."""
        done = subprocess.run(dxkit_command("hub", "--db", str(self.db_path), *args, "--json"),
                              capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            raise AssertionError(f"dxkit hub {' '.join(args)} failed: {done.stderr}")
        return json.loads(done.stdout)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)


def start_hub(db_path: Path, log_path: Path) -> HubServer:
    port = free_port()
    log = log_path.open("wb")
    process = subprocess.Popen(
        dxkit_command("hub", "serve", "--db", str(db_path), "--host", "127.0.0.1",
                      "--port", str(port)),
        stdout=log, stderr=subprocess.STDOUT)
    log.close()  # the child keeps its own handle
    server = HubServer(f"http://127.0.0.1:{port}", db_path, process)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the hub exited: {log_path.read_text(errors='replace')}")
        try:
            if httpx.get(f"{server.url}/v1/health", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.stop()
    raise AssertionError(f"the hub did not answer: {log_path.read_text(errors='replace')}")


@pytest.fixture
def hub_server(tmp_path: Path) -> Iterator[HubServer]:
    """A real hub process on 127.0.0.1 with its own database, stopped by its PID."""
    server = start_hub(tmp_path / "hub.sqlite", tmp_path / "hub.log")
    try:
        yield server
    finally:
        server.stop()


def _hlc(ms: int, device: str, counter: int = 0) -> str:
    return f"{ms:012x}-{counter:04x}-{device}"


@pytest.fixture
def make_record() -> Callable[..., dict[str, Any]]:
    """make_record(table, row_id, device="a1b2c3d4e5f60718", ms=1, **fields): a wire record
    with every registered field (defaults "" / 0) and, for mutable tables, every clock at ms."""

    def build(table: str, row_id: str, device: str = "a1b2c3d4e5f60718", ms: int = 1,
              clocks: dict[str, int] | None = None, **values: Any) -> dict[str, Any]:
        spec = REGISTRY[table]
        fields = {name: values.get(name, 0 if name == "deleted" else "")
                  for name in wire_fields(spec)}
        record: dict[str, Any] = {"table": table, "id": row_id, "kind": spec.kind,
                                  "fields": fields, "device_id": device}
        if spec.kind == "mutable":
            record["clocks"] = {name: _hlc((clocks or {}).get(name, ms), device)
                                for name in fields}
        else:
            record["created_at"] = _hlc(ms, device)
        return record

    return build
