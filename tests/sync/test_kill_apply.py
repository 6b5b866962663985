"""kill -9 while the client is INSIDE the transaction that applies a pulled batch (issue 3).

The sync runs in a child process whose `Tx.apply_remote` is wrapped (in the child's own
script, not in dxkit) to announce and then stall after the Nth record of one table: the batch
is half written inside an open SQLite transaction when SIGKILL arrives. Reopened, the
workspace is intact, each table holds exactly the rows up to its saved cursor (the killed
batch is wholly absent, rows and cursor alike), and the next sync ends identical to the hub.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from dxkit.core.synced import REGISTRY, dependency_order
from dxkit.workspace import Workspace
from tests.sync import test_faults as faults

file_tokens, proxy, team, laptops = faults.file_tokens, faults.proxy, faults.team, faults.laptops
hamlet_team = faults.hamlet_team
# The sync runs in a process of its own: workspace keys go to files it can read.
pytestmark = pytest.mark.usefixtures("key_files")
LIMIT = 3  # records per pulled batch in the child
MARK = "inside the apply"

CHILD = """
import sys, time
from dxkit.core import synced
from dxkit.workspace import Workspace
from dxkit.sync import engine
from dxkit.sync.client import HubClient
from dxkit.sync.credentials import TokenStore

folder, url, table, nth, limit = sys.argv[1], sys.argv[2], sys.argv[3], *map(int, sys.argv[4:])
engine.PULL_LIMIT = limit
original_one, original_many = synced.Tx.apply_remote, synced.Tx.apply_remote_many
seen = 0

def stall_at(count):
    global seen
    before, seen = seen, seen + count
    if before < nth <= seen:
        # The batch's transaction is open, its rows written: wait for SIGKILL.
        print("inside the apply", flush=True)  # = MARK
        time.sleep(120)

inside_many = False

def apply_then_stall(tx, record):
    outcome = original_one(tx, record)
    if record["table"] == table and not inside_many:
        stall_at(1)
    return outcome

def apply_many_then_stall(tx, name, records):
    global inside_many
    inside_many = True
    try:
        outcomes = original_many(tx, name, records)
    finally:
        inside_many = False
    if name == table:
        stall_at(len(records))
    return outcomes

synced.Tx.apply_remote = apply_then_stall
synced.Tx.apply_remote_many = apply_many_then_stall
ws = Workspace.open(folder)
with HubClient(url, TokenStore(ws.path, ws.device_id).load()) as client:
    engine.sync(ws, client=client)
print("finished", flush=True)
"""


def kill_inside_apply(folder: Path, hub_url: str, table: str, nth: int) -> None:
    env = {**os.environ, "DXKIT_TOKEN_STORE": "file", "DXKIT_LANG": "en"}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(folder), hub_url, table, str(nth), str(LIMIT)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(60, child.kill)  # a child that never gets there fails the test
    watchdog.start()
    try:
        line = child.stdout.readline()  # blocks until the marker (or the child's end)
        if line.strip() != MARK:
            child.wait(timeout=30)
            raise AssertionError(f"the child never stalled inside the apply: {line!r} "
                                 f"{child.stderr.read()}")
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        watchdog.cancel()
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)
        child.stdout.close()
        child.stderr.close()


# (table, the record after which the child is killed): first row of the first batch, the
# last row of a batch (its cursor not yet written), the middle of a later batch, and the
# last batch of a table later in the dependency order.
KILL_POINTS = [("households", 1), ("households", 3), ("households", 5), ("people", 7)]


@pytest.mark.parametrize(("table", "nth"), KILL_POINTS)
def test_kill_9_inside_the_apply_of_a_pulled_batch_leaves_nothing_half_applied(
        proxy, laptops, hub_server, team, table, nth):
    a, b = laptops("a"), laptops("b")
    faults.fill(a, households=8)
    faults.sync_via(proxy, a)
    folder = b.path
    # The catalogue every device ships with, and the team's hamlets its enrollment brought.
    before = {name: {row_id for (row_id,) in b.conn.execute(f"SELECT id FROM {name}")}
              for name in dependency_order()}
    b.close()

    kill_inside_apply(folder, hub_server.url, table, nth)

    with Workspace.open(folder) as again, faults.hub_reader(hub_server, team) as reader:
        assert again.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for name in dependency_order():
            cursor = faults.cursor(again, name)
            have = {row_id for (row_id,) in again.conn.execute(f"SELECT id FROM {name}")}
            # Exactly the hub's rows up to the saved cursor: none of the killed batch.
            on_hub = {r["id"] for r in faults.hub_records(reader, name, upto=cursor)}
            assert have - before[name] == on_hub - before[name], name
            audited = {row_id for (row_id,) in again.conn.execute(
                "SELECT DISTINCT row_id FROM audit_log WHERE table_name = ? "
                "AND actor = 'sync'", (name,))} - before[name]
            if REGISTRY[name].kind == "mutable":  # events are not audited
                assert len(audited) == len(have - before[name]), name
        killed_in = again.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        assert killed_in == (nth - 1) // LIMIT * LIMIT  # whole batches only
        assert again.pending_changes() == 0  # pulled rows never enter the outbox

        report = faults.sync_via(proxy, again)
        assert report.quarantined == 0
        faults.sync_via(proxy, a)
        assert faults.rows(again) == faults.rows(a)
        assert again.pending_changes() == 0 and faults.quarantined(again) == 0
        assert faults.sync_via(proxy, again).received == 0  # quiet: nothing came twice
