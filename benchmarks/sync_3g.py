"""Sync over a link shaped like rural 3G (issue 3): 1 Mbit/s down, 384 kbit/s up, 300 ms
round trip, through a throttling TCP proxy on loopback in front of a real hub process.

    .venv/bin/python benchmarks/sync_3g.py --out /tmp/dxkit-sync-3g

1. Laptop A (a generated commune, about 10,000 records) pushes to the hub directly.
2. A fresh laptop B pulls everything through the 3G proxy: seconds, records/s, bytes on the
   wire per record, requests. The bar: 10,000 records in at most 60 s.
3. Interruptions through the same proxy: the line is cut in the middle of a pull answer, and
   once the hub has committed a push but before its answer arrives; after resuming, count
   the records sent again. The bar: at most one batch.

Figures are printed and written to OUT/sync-3g.json. tests/sync/test_resume.py runs the
interruption part small and unthrottled.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import shutil
import socket
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dxkit import demo
from dxkit.core.synced import dependency_order, record_of
from dxkit.sync import engine
from dxkit.sync.client import HubClient, HubError, encode_body
from dxkit.sync.credentials import TokenStore
from dxkit.workspace import Workspace
from tests.support.hub_process import HubServer, start_hub  # the launcher the tests use

DOWN_BITS_PER_S = 1_000_000
UP_BITS_PER_S = 384_000
ROUND_TRIP_S = 0.300
CHUNK = 4096
HTTP_HEAD = 300  # bytes of request head, about


# -- a throttling TCP proxy ----------------------------------------------------------------------
class Link:
    """One direction of the line: bytes leave one after another at `bits_per_s` (shared by
    every connection), then travel `latency` seconds."""

    def __init__(self, bits_per_s: float | None, latency: float):
        self.bits_per_s, self.latency = bits_per_s, latency
        self.bytes = 0
        self._free_at = 0.0
        self._lock = threading.Lock()

    def schedule(self, size: int) -> float:
        """When `size` bytes that enter now arrive at the other end."""
        with self._lock:
            self.bytes += size
            now = time.monotonic()
            if self.bits_per_s is None:
                return now + self.latency
            start = max(now, self._free_at)
            self._free_at = start + size * 8 / self.bits_per_s
            return self._free_at + self.latency


@dataclass
class Connection:
    client: socket.socket
    upstream: socket.socket
    cut: bool = False

    def close(self) -> None:
        self.cut = True
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()


@dataclass
class CutPlan:
    """When to cut the line. down_after: once this many bytes went down (the middle of an
    answer). answer_after_up: at the first answer bytes after this many went up (the hub
    has the whole request and committed it; its answer is lost)."""

    down_after: int | None = None
    answer_after_up: int | None = None
    fired: bool = False


class ThrottleProxy:
    """Loopback TCP proxy to `upstream` ("host", port), shaped by two Links."""

    def __init__(self, upstream: tuple[str, int], down_bits_per_s: float | None = None,
                 up_bits_per_s: float | None = None, round_trip: float = 0.0):
        self.upstream = upstream
        self.down = Link(down_bits_per_s, round_trip / 2)
        self.up = Link(up_bits_per_s, round_trip / 2)
        self.cut_plan = CutPlan()
        self.connections: list[Connection] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)
        self._acceptor.start()

    def plan_cut(self, down_after: int | None = None,
                 answer_after_up: int | None = None) -> CutPlan:
        self.cut_plan = CutPlan(down_after, answer_after_up)
        return self.cut_plan

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        self._acceptor.join(5)
        with self._lock:
            for conn in self.connections:
                conn.close()

    def __enter__(self) -> ThrottleProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.upstream, timeout=10)
            except OSError:
                client.close()
                continue
            for sock in (client, upstream):
                sock.settimeout(None)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = Connection(client, upstream)
            with self._lock:
                self.connections = [c for c in self.connections if not c.cut]
                self.connections.append(conn)
            # The TCP handshake costs a round trip before the first request can leave.
            handshake = time.monotonic() + self.up.latency + self.down.latency
            self._pipe(conn, client, upstream, self.up, down=False, not_before=handshake)
            self._pipe(conn, upstream, client, self.down, down=True)

    def _pipe(self, conn: Connection, source: socket.socket, target: socket.socket,
              link: Link, down: bool, not_before: float = 0.0) -> None:
        due: queue.Queue[tuple[float, bytes]] = queue.Queue()

        def read() -> None:
            while True:
                try:
                    chunk = source.recv(CHUNK)
                except OSError:
                    chunk = b""
                if chunk and self._should_cut(chunk, down):
                    conn.close()
                    chunk = b""
                due.put((max(link.schedule(len(chunk)), not_before + link.latency)
                         if chunk else 0.0, chunk))
                if not chunk:
                    return

        def write() -> None:
            while True:
                at, chunk = due.get()
                if not chunk:
                    with contextlib.suppress(OSError):
                        target.shutdown(socket.SHUT_WR)
                    return
                delay = at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                try:
                    target.sendall(chunk)
                except OSError:
                    conn.close()
                    return

        threading.Thread(target=read, daemon=True).start()
        threading.Thread(target=write, daemon=True).start()

    def _should_cut(self, chunk: bytes, down: bool) -> bool:
        plan = self.cut_plan
        with self._lock:
            if plan.fired:
                return False
            if not down:
                return False
            mid_answer = plan.down_after is not None and (
                self.down.bytes + len(chunk) > plan.down_after)
            answer_to_sent = plan.answer_after_up is not None and (
                self.up.bytes > plan.answer_after_up)
            plan.fired = mid_answer or answer_to_sent
            return plan.fired


# -- a client that counts what travels -----------------------------------------------------------
@dataclass
class Tally:
    """Records in complete pull answers and in push requests, by (table, id)."""

    pulled: Counter = field(default_factory=Counter)
    pushed: Counter = field(default_factory=Counter)
    lost_pulls: list[tuple[str, int]] = field(default_factory=list)  # (table, after)
    pull_requests: list[tuple[str, int, int]] = field(default_factory=list)  # + records

    def resent_pulled(self) -> int:
        """Records the hub sent more than once: twice in complete answers, or once in an
        answer lost on the way and then again (the answer to the same request)."""
        again = sum(n - 1 for n in self.pulled.values())
        for table, after in self.lost_pulls:
            again += max((n for t, a, n in self.pull_requests if (t, a) == (table, after)),
                         default=0)
        return again

    def resent_pushed(self) -> int:
        return sum(n - 1 for n in self.pushed.values())


class CountingClient(HubClient):
    def __init__(self, *args: Any, tally: Tally, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.tally = tally

    def pull(self, table: str, after: int, upto: int | None = None,
             limit: int = 500) -> dict[str, Any]:
        try:
            answer = super().pull(table, after, upto, limit)
        except HubError:
            self.tally.lost_pulls.append((table, after))
            raise
        self.tally.pulled.update((r["table"], r["id"]) for r in answer["records"])
        self.tally.pull_requests.append((table, after, len(answer["records"])))
        return answer

    def push(self, records: list[dict[str, Any]], body: bytes | None = None) -> dict[str, Any]:
        self.tally.pushed.update((r["table"], r["id"]) for r in records)
        return super().push(records, body)


def counting_client(ws: Workspace, url: str, tally: Tally) -> CountingClient:
    return CountingClient(url, TokenStore(ws.path, ws.device_id).load(), tally=tally)


def sync_counted(ws: Workspace, url: str, tally: Tally) -> engine.SyncReport:
    with counting_client(ws, url, tally) as client:
        return engine.sync(ws, client=client)


def team_rows(ws: Workspace) -> int:
    """Rows this workspace holds that came from a sync (the shipped catalogue excluded)."""
    return sum(ws.conn.execute(f"SELECT count(*) FROM {table} WHERE device_id != 'shipped'"
                               ).fetchone()[0] for table in dependency_order())


def push_size(ws: Workspace) -> int:
    """About the bytes a push of the whole outbox puts on the wire: its batches as gzip
    JSON, and the HTTP head of each."""
    keys = ws.conn.execute("SELECT DISTINCT table_name, row_id FROM outbox").fetchall()
    records = [record_of(ws.conn, table, row_id) for table, row_id in keys]
    step = engine.PUSH_MAX_RECORDS
    return sum(len(encode_body({"records": records[at:at + step]})) + HTTP_HEAD
               for at in range(0, len(records), step))


def outbox_records(ws: Workspace) -> int:
    return ws.conn.execute("SELECT count(DISTINCT table_name || row_id) FROM outbox"
                           ).fetchone()[0]


# -- interruptions ---------------------------------------------------------------------------------
def interrupted_pull(ws: Workspace, proxy: ThrottleProxy, cut_at_bytes: int) -> dict[str, Any]:
    """Pull through `proxy`, the line cut after `cut_at_bytes` came down; then resume."""
    tally = Tally()
    proxy.plan_cut(down_after=proxy.down.bytes + cut_at_bytes)
    failed = ""
    try:
        sync_counted(ws, proxy.url, tally)
    except HubError as exc:
        failed = type(exc).__name__
    proxy.plan_cut()
    had = team_rows(ws)
    report = sync_counted(ws, proxy.url, tally)
    resent = tally.resent_pulled()
    return {"failed_with": failed, "records_before_cut": had, "received_after": report.received,
            "resent": resent, "batch": engine.PULL_LIMIT,
            "within_one_batch": resent <= engine.PULL_LIMIT}


def interrupted_push(ws: Workspace, proxy: ThrottleProxy, cut_after_up: int) -> dict[str, Any]:
    """Push through `proxy`; the answer to the push under way once `cut_after_up` bytes went
    up is lost (the hub committed it); then resume."""
    tally = Tally()
    waiting = outbox_records(ws)
    proxy.plan_cut(answer_after_up=proxy.up.bytes + cut_after_up)
    failed = ""
    try:
        sync_counted(ws, proxy.url, tally)
    except HubError as exc:
        failed = type(exc).__name__
    proxy.plan_cut()
    left = outbox_records(ws)
    report = sync_counted(ws, proxy.url, tally)
    resent = tally.resent_pushed()
    return {"failed_with": failed, "records": waiting, "left_after_cut": left,
            "pushed_after": report.pushed, "quarantined": report.quarantined,
            "resent": resent, "batch": engine.PUSH_MAX_RECORDS,
            "within_one_batch": resent <= engine.PUSH_MAX_RECORDS,
            "left_at_end": outbox_records(ws)}


# -- the hub -----------------------------------------------------------------------------------
def enrolled(hub: HubServer, team: str, folder: Path) -> Workspace:
    ws = Workspace.open(folder)
    engine.enroll(ws, hub.url, hub.cli("enroll-code", "--team", team)["code"],
                  device_name=folder.name)
    return ws


# -- the run -------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=780,
                        help="generated households on laptop A (780 make ~10,000 records)")
    parser.add_argument("--push-households", type=int, default=200,
                        help="households laptop D pushes in the interrupted push")
    parser.add_argument("--out", type=Path, default=Path("/tmp/dxkit-sync-3g"))
    args = parser.parse_args()
    os.environ.setdefault("DXKIT_TOKEN_STORE", "file")
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    hub = start_hub(args.out / "hub.sqlite", args.out / "hub.log", forked=False)
    opened: list[Workspace] = []
    try:
        # Commune teams: the demo commune has seven hamlets.
        team = hub.cli("team", "add", "--province", "82", "--commune", "28261")["team_id"]
        a, b, c = (enrolled(hub, team, args.out / name) for name in "abc")
        # d pushes its own commune in another team (its codes would clash with a's).
        other = hub.cli("team", "add", "--province", "82", "--commune", "28249")["team_id"]
        d = enrolled(hub, other, args.out / "d")
        opened += [a, b, c, d]
        demo.generate(a, seed=1, households=args.households)
        records = outbox_records(a)
        engine.sync(a)  # straight to the hub: the seeding is not what is measured
        shaped = ThrottleProxy(("127.0.0.1", urlsplit(hub.url).port), DOWN_BITS_PER_S,
                               UP_BITS_PER_S, ROUND_TRIP_S)
        with shaped:
            started = time.perf_counter()
            with HubClient(shaped.url, TokenStore(b.path, b.device_id).load()) as client:
                pull = engine.sync(b, client=client)
            seconds = time.perf_counter() - started
            wire_down, wire_up = shaped.down.bytes, shaped.up.bytes
            # Cut about halfway through what a whole pull brings down.
            pull_cut = interrupted_pull(c, shaped, wire_down // 2)
            engine.sync(d)  # enrolled: its next sync is one quiet pull, then the push
            demo.generate(d, seed=2, households=args.push_households)
            push_cut = interrupted_push(d, shaped, push_size(d) // 2)
        figures = {
            "link": {"down_bits_per_s": DOWN_BITS_PER_S, "up_bits_per_s": UP_BITS_PER_S,
                     "round_trip_ms": int(ROUND_TRIP_S * 1000)},
            "records_on_hub": records,
            "pull": {"records": pull.received, "applied": pull.pulled,
                     "seconds": round(seconds, 1),
                     "records_per_s": round(pull.received / seconds),
                     "requests": pull.requests,
                     "bytes_down": wire_down, "bytes_up": wire_up,
                     "bytes_per_record": round((wire_down + wire_up) / max(pull.received, 1), 1),
                     "within_60_s": seconds <= 60},
            "interrupted_pull": pull_cut,
            "interrupted_push": push_cut,
        }
    finally:
        for ws in opened:
            ws.close()
        hub.stop()
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    (args.out / "sync-3g.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
