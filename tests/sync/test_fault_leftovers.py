"""Failed or abandoned sync attempts leave no growing leftovers (issue 3).

Two laptops sync many times through the fault proxy in front of the REAL hub, most attempts
broken at a random point (request or answer lost, 503, damaged gzip, a delivery twice, a
timeout) or cancelled by the user halfway; one laptop keeps editing meanwhile. After every
attempt the workspace's sync state stays bounded — the outbox never gains entries from a
sync, nothing is quarantined, the meta table holds only the known sync keys, the same remote
change is never logged twice, no stray files appear in the folder — and in the end the hub
holds each row once, written no more often than it was edited.
"""

from __future__ import annotations

import random

import pytest

from dxkit.core.errors import Cancelled
from dxkit.core.progress import Progress
from dxkit.core.synced import REGISTRY
from dxkit.sync import engine
from dxkit.sync.client import HubError
from dxkit.workspace import Workspace
from tests.sync import test_faults as faults

file_tokens, small_batches = faults.file_tokens, faults.small_batches
proxy, team, laptops = faults.proxy, faults.team, faults.laptops
hamlet_team = faults.hamlet_team
ATTEMPTS = 24
BROKEN = ("drop_request", "drop_response", "cut_response", "answer_503", "truncate_gzip",
          "corrupt_gzip", "duplicate", "delay", "cancel")
SYNC_KEYS = {engine.META_SERVER, engine.META_DEVICE, engine.META_DEVICE_NAME, engine.META_TEAM,
             engine.META_PROVINCE, engine.META_COMMUNE, engine.META_HAMLET,
             engine.META_TEAM_KIND,
             engine.META_ENROLLED_AT, engine.META_TOKEN_STORE, engine.META_HIGH_WATER,
             engine.META_REFUSED, engine.META_LAST_SYNC, engine.META_INSECURE_HTTP,
             *(engine.CURSOR_PREFIX + table for table in REGISTRY)}
WORKSPACE_FILES = {"dxkit.sqlite-wal", "dxkit.sqlite-shm"}  # SQLite's own, reused


class CancelAfter(Progress):
    """The user presses Cancel after `checkpoints` progress updates."""

    def __init__(self, checkpoints: int):
        super().__init__()
        self.left = checkpoints

    def update(self, value=None, maximum=None, label=None) -> None:
        self.left -= 1
        if self.left <= 0:
            self.cancel()
        super().update(value, maximum, label)


def attempt(proxy, ws: Workspace, rng: random.Random) -> str:
    """One sync broken at a random point; what broke it ("missed" if the sync had fewer
    requests than planned)."""
    kind = rng.choice(BROKEN)
    hit_before = len(proxy.faulted())
    progress = None
    if kind == "cancel":
        progress = CancelAfter(rng.randint(1, 8))
    else:
        # A push only when there is something to send; a quiet pull is one request.
        pushing = ws.pending_changes() > 0 and rng.random() < 0.5
        where = faults.PUSH if pushing else faults.PULL
        options = {"seconds": 1.0, "forward": rng.random() < 0.5} if kind == "delay" else {}
        proxy.plan(kind, *where, nth=rng.randint(1, 2) if pushing else 1, **options)
    try:
        with faults.via(proxy, ws, timeout=0.5 if kind == "delay" else 20) as client:
            engine.sync(ws, client=client, progress=progress)
    except (HubError, Cancelled) as exc:
        return f"{kind}: {type(exc).__name__}"
    finally:
        proxy.clear()
        proxy.wait_idle()  # a late delivery has landed before the next attempt
    return f"{kind}: {'no harm' if len(proxy.faulted()) > hit_before else 'missed'}"


def count(ws: Workspace, sql: str) -> int:
    return ws.conn.execute(sql).fetchone()[0]


def check_bounded(ws: Workspace, outbox_ceiling: int, files: set[str]) -> None:
    assert count(ws, "SELECT count(*) FROM outbox") <= outbox_ceiling
    assert count(ws, "SELECT count(*) FROM sync_quarantine") == 0
    assert count(ws, "SELECT count(*) FROM sync_conflicts") == 0
    assert {key for key in ws.meta() if key.startswith("sync") or key == "last_sync_at"
            } <= SYNC_KEYS
    assert count(ws, "SELECT count(*) - count(DISTINCT table_name || row_id || hlc) "
                     "FROM audit_log WHERE actor = 'sync'") == 0  # no change logged twice
    found = {path.name for path in ws.path.iterdir()}
    assert found <= files | WORKSPACE_FILES, found - files


def shipped(ws: Workspace) -> set[tuple[str, str]]:
    """Reference rows every device ships with (never pushed unless edited)."""
    return {(table, row_id) for table in REGISTRY for (row_id,) in ws.conn.execute(
        f"SELECT id FROM {table} WHERE device_id = 'shipped'")}


def hub_state(hub_server, team: str) -> tuple[int, dict[tuple[str, str], int]]:
    """(high water, how many copies of each row) as the hub's API shows them."""
    copies: dict[tuple[str, str], int] = {}
    with faults.hub_reader(hub_server, team) as reader:
        for table in REGISTRY:
            for record in faults.hub_records(reader, table):
                key = (table, record["id"])
                copies[key] = copies.get(key, 0) + 1
        high_water = reader.pull(next(iter(REGISTRY)), after=0, limit=1)["high_water"]
    return high_water, copies


@pytest.mark.parametrize("seed", [1, 2])
def test_many_failed_or_abandoned_syncs_leave_no_growing_leftovers(proxy, laptops,
                                                                   hub_server, team, seed):
    rng = random.Random(seed)
    a, b = laptops("a"), laptops("b")
    faults.fill(a, households=6)
    files = {ws.path: {path.name for path in ws.path.iterdir()} for ws in (a, b)}
    ceiling = {a.path: count(a, "SELECT count(*) FROM outbox"), b.path: 0}
    edits = 0
    outcomes = []
    for number in range(ATTEMPTS):
        if number % 2 == 0:  # a keeps working between attempts
            home = rng.choice(a.households.list()).id
            a.households.update(home, notes=f"Lần sửa {number}")
            edits += 1
            ceiling[a.path] = count(a, "SELECT count(*) FROM outbox")
        ws = a if rng.random() < 0.5 else b
        outcomes.append(attempt(proxy, ws, rng))
        for laptop in (a, b):
            check_bounded(laptop, ceiling[laptop.path], files[laptop.path])
            ceiling[laptop.path] = count(laptop, "SELECT count(*) FROM outbox")
    assert sum("missed" not in outcome for outcome in outcomes) >= ATTEMPTS // 2, outcomes

    faults.assert_converged(proxy, a, b)
    for laptop in (a, b):
        check_bounded(laptop, 0, files[laptop.path])
    high_water, copies = hub_state(hub_server, team)
    held = set(faults.rows(a))
    team_rows = held - shipped(a)
    assert team_rows <= set(copies) <= held and set(copies.values()) == {1}
    # Each row was written once when first pushed and at most once per later edit: a batch
    # delivered twice or re-sent after a lost answer took no new hub seq.
    assert high_water <= len(copies) + edits
    assert len(hub_server.admin("devices", "list")) == 3  # a, b and the reader
