"""Push and pull through the real hub on loopback: records/s each way, bytes on the wire per
record, requests, and a sync when nothing changed.

    .venv/bin/python benchmarks/sync_bench.py --households 5000 --out /tmp/dxkit-sync-bench

Laptop A gets a generated commune (the demo generator at --households; 5,000 households make
about 64,000 records), syncs to a fresh hub (push), then laptop B of the same team syncs
(pull), then B compares every table with the hub by digest (dxkit sync check, in step). Both
are laptops of the commune's team (its seven hamlets).
Figures are printed and written to OUT/sync-figures.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DXKIT_TOKEN_STORE", "file")

from dxkit import demo
from dxkit.sync import engine, repair
from dxkit.workspace import Workspace
from tests.support.hub_process import start_hub  # the launcher the tests use


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_sync(ws: Workspace, hub_pid: int) -> tuple[engine.SyncReport, float, dict]:
    """One sync, its wall time, and where the CPU went: this laptop's process and the hub's
    (they overlap: the laptop reads the next page while the hub serves it)."""
    started, cpu, hub_cpu = time.perf_counter(), time.process_time(), process_cpu(hub_pid)
    report = engine.sync(ws)
    seconds = time.perf_counter() - started
    split = {"laptop_cpu_s": round(time.process_time() - cpu, 2),
             "hub_cpu_s": round(process_cpu(hub_pid) - hub_cpu, 2)}
    return report, seconds, split


def per_record(total: int, records: int) -> float:
    return total / records if records else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=5000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/dxkit-sync-bench"))
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    hub = start_hub(args.out / "hub.sqlite", args.out / "hub.log", forked=False)
    try:
        # A commune team: the demo commune has seven hamlets (a hamlet team may write one).
        team = hub.cli("team", "add", "--province", "82", "--commune", "28261")["team_id"]
        a = Workspace.open(args.out / "a")
        b = Workspace.open(args.out / "b")
        for ws in (a, b):
            code = hub.cli("enroll-code", "--team", team)["code"]
            engine.enroll(ws, hub.url, code)
        demo.generate(a, seed=1, households=args.households)
        outbox = a.conn.execute("SELECT count(DISTINCT table_name || row_id) FROM outbox"
                                ).fetchone()[0]
        push, push_s, push_cpu = timed_sync(a, hub.process.pid)
        pull, pull_s, pull_cpu = timed_sync(b, hub.process.pid)
        quiet, quiet_s, _quiet_cpu = timed_sync(b, hub.process.pid)
        started = time.perf_counter()
        check = repair.check(b)  # digests of every table, both sides, all in step
        check_s = time.perf_counter() - started
        figures = {
            "records": outbox,
            "push": {"records": push.pushed, "seconds": round(push_s, 2),
                     "records_per_s": round(push.pushed / push_s),
                     "requests": push.requests,
                     "bytes_sent_per_record": round(per_record(push.bytes_sent, push.pushed), 1),
                     "requests_per_1000": round(1000 * push.requests / max(push.pushed, 1), 2),
                     **push_cpu},
            "pull": {"records": pull.pulled, "seconds": round(pull_s, 2),
                     "records_per_s": round(pull.pulled / pull_s),
                     "requests": pull.requests,
                     "bytes_received_per_record":
                         round(per_record(pull.bytes_received, pull.pulled), 1),
                     "requests_per_1000": round(1000 * pull.requests / max(pull.pulled, 1), 2),
                     **pull_cpu},
            "quiet_sync": {"requests": quiet.requests, "seconds": round(quiet_s, 3),
                           "bytes": quiet.bytes_sent + quiet.bytes_received},
            "digest_check": {"in_step": check.in_step, "tables": check.tables_checked,
                             "requests": check.requests, "seconds": round(check_s, 2)},
        }
        a.close()
        b.close()
    finally:
        hub.stop()
    print(json.dumps(figures, indent=2))
    (args.out / "sync-figures.json").write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
