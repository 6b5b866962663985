"""`dxkit hub repair-clocks`: a hub that stored clocks before it checked them, mended.

Every stored clock the hub cannot believe (past its time by more than the bound, malformed,
or posing as the shipped catalogue; a hub clock on an event) is replaced: a mutable row's by
the hub's own clock at its present time, in the order of the clocks replaced, so an edit made
after an unbelievable one still wins over it; an event's `created_at` by the time in its uuid7
id (the laptops compute the same: events never merge by clock). Each repaired record gets a
new seq and is no longer "exactly what its pusher sent", so every laptop of its scope pulls it
and its demoted copy there gives way (dxkit.core.clock_repair).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from dxkit.core.hlc import (
    HUB_DEVICE,
    SHIPPED_DEVICE,
    Clock,
    device_part,
    event_clock,
    lenient_order,
)
from dxkit.core.synced import SHIPPED_CLOCK
from dxkit.sync.hub.clocks import Bound, bound_at, hub_clock
from dxkit.sync.hub.database import Conn
from dxkit.sync.hub.store import HubStore, next_seq, stored_json

SCAN_PAGE = 1000  # stored records read at a time


# -- repair --------------------------------------------------------------------------------------
@dataclass
class HubClockRepair:
    """What `repair_stored_clocks` changed: records (by table) and their clocks replaced."""

    records: dict[str, int] = field(default_factory=dict)
    clocks: int = 0

    @property
    def total(self) -> int:
        return sum(self.records.values())

    def to_dict(self) -> dict[str, Any]:
        return {"records": self.records, "clocks": self.clocks, "total": self.total}


@dataclass
class _Stored:
    table: str
    row_id: str
    team_id: str
    kind: str
    clocks: dict[str, str]  # events: {"created_at": …}
    bad: list[str]


def repair_stored_clocks(store: HubStore) -> HubClockRepair:
    """Re-stamp every stored clock the hub cannot believe, in one write transaction."""
    now = store.now()
    bound = bound_at(now)
    report = HubClockRepair()
    with store.database.write() as conn:
        found = list(_unbelievable(conn, bound))
        _restamp(found, hub_clock(conn, now), bound)
        for stored in found:
            _write(conn, stored, next_seq(conn))
            report.records[stored.table] = report.records.get(stored.table, 0) + 1
            report.clocks += len(stored.bad)
    return report


def _unbelievable(conn: Conn, bound: Bound) -> Iterator[_Stored]:
    after = 0
    while True:
        rows = conn.execute(
            "SELECT table_name, row_id, team_id, kind, clocks, created_at, seq FROM records "
            "WHERE seq > ? ORDER BY seq LIMIT ?", (after, SCAN_PAGE)).fetchall()
        if not rows:
            return
        after = rows[-1]["seq"]
        for row in rows:
            clocks = (json.loads(row["clocks"]) if row["kind"] == "mutable"
                      else {"created_at": row["created_at"]})
            bad = [name for name, stamp in clocks.items() if not _stored_ok(stamp, row, bound)]
            if bad:
                yield _Stored(row["table_name"], row["row_id"], row["team_id"], row["kind"],
                              clocks, bad)


def _stored_ok(stamp: str, row: Any, bound: Bound) -> bool:
    if not bound.believes(stamp):
        return False
    device = device_part(stamp)
    if device == SHIPPED_DEVICE:
        return stamp == SHIPPED_CLOCK
    return row["kind"] == "mutable" or device != HUB_DEVICE  # the hub never stamps events


def _restamp(found: list[_Stored], clock: Clock, bound: Bound) -> None:
    """Mutable fields: hub clocks at its present time, in the order of the clocks they
    replace (an edit made after an unbelievable one still wins over it). Events: the time in
    their id, as on the laptops."""
    fields = [(stored, name) for stored in found if stored.kind == "mutable"
              for name in stored.bad]
    fields.sort(key=lambda item: lenient_order(item[0].clocks[item[1]]))
    for stored, name in fields:
        stored.clocks[name] = clock.now()
    for stored in found:
        if stored.kind == "event":
            stored.clocks["created_at"] = event_clock(stored.clocks["created_at"],
                                                      stored.row_id, bound.limit_ms)


def _write(conn: Conn, stored: _Stored, seq: int) -> None:
    """The repaired clocks, as a change by the hub every laptop of the row's scope pulls."""
    key = (stored.table, stored.row_id, stored.team_id)
    if stored.kind == "event":
        conn.execute("UPDATE records SET created_at = ?, pushed_by = ?, pushed_exact = 0, "
                     "seq = ? WHERE table_name = ? AND row_id = ? AND team_id = ?",
                     (stored.clocks["created_at"], HUB_DEVICE, seq, *key))
        return
    conn.execute("UPDATE records SET clocks = ?, device_id = ?, pushed_by = ?, pushed_exact = 0, "
                 "seq = ? WHERE table_name = ? AND row_id = ? AND team_id = ?",
                 (stored_json(stored.clocks), device_part(max(stored.clocks.values())),
                  HUB_DEVICE, seq, *key))
