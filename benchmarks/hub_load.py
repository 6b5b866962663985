"""Load on the real hub: many devices doing a sync when nothing changed, p50/p95/p99 latency.

    .venv/bin/python benchmarks/hub_load.py --backend postgresql   # a throwaway PG server
    .venv/bin/python benchmarks/hub_load.py --backend sqlite
    .venv/bin/python benchmarks/hub_load.py --db postgresql://user@host/db   # an existing one

Issue 3's bar: the hub on PostgreSQL with 800 teams × 3 devices doing a no-change sync,
p95 ≤ 500 ms, on loopback. The set-up writes straight into the hub's store (800 teams, each
with 3 enrolled devices and --records synced rows pushed by one of them), starts
`dxkit hub serve` as its own process, lets every device pull once to learn its cursor (what
a laptop that synced before knows), then runs a bounded load: --requests no-change syncs
from --concurrency keep-alive connections in flight, each request for a random device. The
load generator is a lean hand-written HTTP/1.1 client on asyncio streams (httpx costs more
CPU per request than the hub itself, which on a 2-core machine would measure the client).
A no-change sync is exactly what `dxkit sync` sends then (dxkit/sync/engine.py `_pull`): one
authenticated `GET /v1/pull?table=<first table>&after=<cursor>&limit=500` answered with no
records and the same high water. Figures are printed and written to OUT/hub-load-<backend>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import os
import random
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dxkit.core.synced import REGISTRY, dependency_order, wire_fields
from dxkit.sync.hub.store import HubStore
from tests.support import postgres
from tests.support.hub_process import start_hub

DONG_THAP, MY_THO = 82, 28261
PULL_LIMIT = 500  # engine.PULL_LIMIT


def hlc(ms: int, device: str) -> str:
    return f"{ms:012x}-0000-{device}"


def record(table: str, row_id: str, device: str, ms: int, **values: Any) -> dict[str, Any]:
    """A wire record of `table` with every registered field."""
    spec = REGISTRY[table]
    fields = {name: values.get(name, 0 if name == "deleted" else "")
              for name in wire_fields(spec)}
    built: dict[str, Any] = {"table": table, "id": row_id, "kind": spec.kind,
                             "fields": fields, "device_id": device}
    if spec.kind == "mutable":
        built["clocks"] = {name: hlc(ms, device) for name in fields}
    else:
        built["created_at"] = hlc(ms, device)
    return built


def populate(db: str, teams: int, devices_per_team: int, records: int) -> list[str]:
    """Teams, enrolled devices and each team's rows, straight into the store: the tokens."""
    store = HubStore(db)
    tokens: list[str] = []
    started = time.perf_counter()
    for number in range(teams):
        team = store.add_team(DONG_THAP, MY_THO, f"Ấp {number}")
        team_tokens = []
        for index in range(devices_per_team):
            code, _expires = store.issue_code(team.id)
            _device_id, token, _team = store.enroll(code, f"Laptop {number}-{index}")
            team_tokens.append(token)
        device = store.authenticate(team_tokens[0])
        tag = f"{number:04x}{0:012x}"
        hamlet = team.hamlets[0].id  # the team's hamlet: the hub made its row (one record)
        rows = [record("households", f"hh-{number}-{n}", tag, 2, code=f"A{number}-{n:03}",
                        head_name=f"Nguyễn Văn {n}", hamlet_id=hamlet)
                 for n in range(max(records - 1, 0))]
        store.push(device, rows)
        tokens += team_tokens
        if (number + 1) % 100 == 0:
            print(f"  set-up: {number + 1} teams ({time.perf_counter() - started:.0f} s)",
                  flush=True)
    store.close()
    return tokens


async def no_change_sync(client: httpx.AsyncClient, token: str, table: str,
                         after: int) -> tuple[float, dict[str, Any] | None]:
    started = time.perf_counter()
    response = await client.get("/v1/pull", params={"table": table, "after": after,
                                                    "limit": PULL_LIMIT},
                                headers={"Authorization": f"Bearer {token}"})
    elapsed = time.perf_counter() - started
    return elapsed, response.json() if response.status_code == 200 else None


async def learn_cursors(url: str, tokens: list[str], table: str,
                        concurrency: int) -> dict[str, int]:
    """Each device's cursor for the first table after a complete sync (not measured)."""
    cursors: dict[str, int] = {}
    gate = asyncio.Semaphore(concurrency)
    async with client_for(url, concurrency) as client:
        async def one(token: str) -> None:
            async with gate:
                after, more = 0, True
                while more:
                    _elapsed, answer = await no_change_sync(client, token, table, after)
                    if answer is None:
                        raise RuntimeError("a device was refused during the warm-up")
                    after, more = answer["next"], answer["more"]
                cursors[token] = after
        await asyncio.gather(*(one(token) for token in tokens))
    return cursors


def client_for(url: str, concurrency: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(base_url=url, limits=limits, timeout=60,
                             headers={"Accept-Encoding": "gzip", "User-Agent": "dxkit-load"})


class Connection:
    """One keep-alive HTTP/1.1 connection written by hand: the load generator shares the
    machine's cores with the hub and PostgreSQL, and httpx costs several times the hub's own
    CPU per request, so a lean client keeps the figures about the hub."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, target: str, token: str) -> tuple[int, dict[str, Any]]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write((f"GET {target} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                           f"Authorization: Bearer {token}\r\nAccept-Encoding: gzip\r\n"
                           "User-Agent: dxkit-load\r\n\r\n").encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {name.strip().lower(): value.strip() for name, _colon, value in
                   (line.partition(":") for line in lines[1:] if line)}
        body = await self.reader.readexactly(int(headers["content-length"]))
        if headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, json.loads(body)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def load(url: str, cursors: dict[str, int], table: str, requests: int,
               concurrency: int, seed: int) -> dict[str, Any]:
    address = urlsplit(url)
    chooser = random.Random(seed)
    plan = [chooser.choice(list(cursors)) for _request in range(requests)]
    latencies: list[float] = []
    failures = 0
    queue = iter(plan)

    async def worker() -> None:
        nonlocal failures
        connection = Connection(address.hostname or "127.0.0.1", address.port or 80)
        try:
            for token in queue:
                target = f"/v1/pull?table={table}&after={cursors[token]}&limit={PULL_LIMIT}"
                started = time.perf_counter()
                status, answer = await connection.get(target, token)
                latencies.append(time.perf_counter() - started)
                if status != 200 or answer["records"]:
                    failures += 1
        finally:
            await connection.close()

    started, cpu_started = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _worker in range(concurrency)))
    wall = time.perf_counter() - started
    client_cpu = time.process_time() - cpu_started
    cuts = statistics.quantiles(latencies, n=100)
    return {"requests": len(latencies), "failures": failures, "concurrency": concurrency,
            "seconds": round(wall, 2), "requests_per_s": round(len(latencies) / wall, 1),
            "p50_ms": round(cuts[49] * 1000, 1), "p95_ms": round(cuts[94] * 1000, 1),
            "p99_ms": round(cuts[98] * 1000, 1), "max_ms": round(max(latencies) * 1000, 1),
            "client_cpu_ms_per_request": round(1000 * client_cpu / len(latencies), 2)}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), 0 elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--db", help="an existing empty hub database (path or URL) instead")
    parser.add_argument("--teams", type=int, default=800)
    parser.add_argument("--devices-per-team", type=int, default=3)
    parser.add_argument("--records", type=int, default=20, help="synced rows per team")
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("/tmp/dxkit-hub-load"))
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    cluster = None
    db = args.db
    if db is None and args.backend == "postgresql":
        cluster = postgres.PostgresCluster.start(fast=False)  # durable, as in production
        db = cluster.url(cluster.create_database("hubload"))
    elif db is None:
        db = str(args.out / "hub.sqlite")
    backend = "postgresql" if db.startswith("postgres") else "sqlite"
    hub = None
    try:
        print(f"Set-up on {backend}: {args.teams} teams × {args.devices_per_team} devices, "
              f"{args.records} rows per team", flush=True)
        started = time.perf_counter()
        tokens = populate(db, args.teams, args.devices_per_team, args.records)
        setup_s = time.perf_counter() - started
        hub = start_hub(db, args.out / "hub.log", forked=False)
        table = dependency_order()[0]
        cursors = asyncio.run(learn_cursors(hub.url, tokens, table, args.concurrency))
        print(f"{len(tokens)} devices enrolled and synced; load: {args.requests} no-change "
              f"syncs, {args.concurrency} in flight", flush=True)
        cpu_before = cpu_seconds(hub.process.pid)
        figures = asyncio.run(load(hub.url, cursors, table, args.requests, args.concurrency,
                                   args.seed))
        hub_cpu = cpu_seconds(hub.process.pid) - cpu_before
        figures = {"backend": backend, "teams": args.teams, "devices": len(tokens),
                   "rows_per_team": args.records, "setup_seconds": round(setup_s, 1),
                   **figures,
                   "hub_cpu_ms_per_request": round(1000 * hub_cpu / figures["requests"], 2)}
    finally:
        if hub is not None:
            hub.stop()
        if cluster is not None:
            cluster.stop()
    print(json.dumps(figures, indent=2))
    (args.out / f"hub-load-{backend}.json").write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
