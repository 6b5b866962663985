"""A workspace holding clocks nobody can believe, mended (docs/sync-protocol.md, Clocks).

Before the hub refused them, a device could push a clock years ahead. Every laptop that pulled
it followed it: its clock jumped there, its 16-bit counter overflowed, and every later edit it
made was refused by the hub as a bad clock. `repair` mends such a workspace in one transaction:

- this laptop's own pending edits (in the outbox, or refused by the hub for their clock) whose
  clocks cannot be believed get fresh clocks, in their old order, from the restarted clock:
  newer than everything the laptop holds, so they win as honest edits should;
- every other unbelievable clock of a mutable row (a value received from elsewhere, or an own
  edit the hub already has) is *demoted*: ranked below every real edit, so it never beats
  anybody's honest edit again, and the hub's copy (repaired by `dxkit hub repair-clocks`)
  replaces it at the next pull, which starts those tables from the beginning. Re-stamping such
  a value at this laptop's `now` would do the opposite: it would beat the edits teammates made
  before this laptop was repaired;
- an event's `created_at` gets the time in its uuid7 id, the value the hub gives it too;
- the clock restarts from the newest believable clock the workspace holds (or the wall clock),
  so every later local edit still sorts after everything seen here;
- records the hub refused for their clock are queued to be sent again.

`Workspace.open` runs it when the persisted clock cannot be believed (`must_repair`, a cheap
check: the clock is never behind any clock stored here), and so does a sync, once it knows the
hub's time; `dxkit sync repair-clock` runs it on demand and reads every row.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from dxkit.core.hlc import (
    SHIPPED_DEVICE,
    SKEW_TOLERANCE_MS,
    Clock,
    Timestamp,
    clock_ms,
    demoted,
    device_part,
    event_clock,
    lenient_order,
)
from dxkit.core.merge import compact_clocks
from dxkit.core.synced import REGISTRY, SHIPPED_CLOCK, Tx, dependency_order, field_clocks

if TYPE_CHECKING:
    from dxkit.core.workspace import Workspace

META_CLOCK_OFFSET = "clock_offset_ms"  # the wall clock's lead on the hub's, at the last sync
META_REPULL = "clock_repull_tables"  # JSON list: tables to pull again from the start
META_LAST_REPAIR = "clock_last_repair"  # JSON of the last repair's report
# The reasons a record refused for its clock carries (the hub's, and this laptop's on pull).
CLOCK_REFUSALS = ("clock_ahead", "reserved_device", "bad_clock")


@dataclass
class ClockRepair:
    """What a repair changed. restamped: rows whose pending local edits got fresh clocks;
    demoted: rows holding received values whose clocks were demoted; events: events whose
    created_at was replaced; outbox: entries whose clocks were replaced; requeued: rows
    refused by the hub for their clock, queued to be sent again."""

    clock_before: str
    clock_after: str = ""
    clock_reset: bool = False
    restamped: dict[str, int] = field(default_factory=dict)
    demoted: dict[str, int] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)
    outbox: int = 0
    requeued: int = 0

    @property
    def changed(self) -> bool:
        return self.clock_reset or bool(self.tables() or self.outbox or self.requeued)

    def tables(self) -> set[str]:
        return {*self.restamped, *self.demoted, *self.events}

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "changed": self.changed}


@dataclass
class _RowFix:
    """The clocks of one row (events: {"created_at": …}) and which of them change how."""

    table: str
    row_id: str
    clocks: dict[str, str]
    fresh: list[str] = field(default_factory=list)  # own pending edits: a new clock
    demote: list[str] = field(default_factory=list)  # everything else unbelievable


def open_clock(device: str, last: str | None, offset_ms: int = 0,
               wall_ms: Callable[[], int] | None = None,
               last_wall_ms: int = 0) -> tuple[Clock, bool]:
    """The workspace's clock from its persisted `last`, and whether the workspace must be
    repaired first (`must_repair`; the clock then starts afresh from the wall clock and
    `repair` moves it past every clock the workspace holds)."""
    clock = Clock(device, wall_ms=wall_ms, offset_ms=offset_ms)
    if not last:
        return clock, False
    if clock_ms(last) is None:
        return clock, True
    clock.restart(last)
    if must_repair(clock, last_wall_ms):
        clock.restart(None)
        return clock, True
    return clock, False


def must_repair(clock: Clock, last_wall_ms: int) -> bool:
    """Whether a clock cannot be believed with certainty, without asking the hub: malformed,
    or more than a day past the wall clock while that wall clock is not behind a time this
    workspace already lived through (`last_wall_ms`). A wall clock that went back (a flat
    BIOS battery, a date set by hand) makes an honest clock look far ahead: that case waits
    for the next sync, which judges it by the hub's time (dxkit.sync.clocks)."""
    ms = clock_ms(clock.last)
    if ms is None:
        return True
    return ms > clock.limit_ms() and not wall_went_back(clock, last_wall_ms)


def wall_went_back(clock: Clock, last_wall_ms: int) -> bool:
    """Whether this computer's wall clock is behind a time the workspace already lived
    through: it is wrong, and clocks cannot be judged by it."""
    return clock.wall() < last_wall_ms - SKEW_TOLERANCE_MS


def last_wall_ms(conn: sqlite3.Connection) -> int:
    """The wall time of the latest change this workspace recorded (its audit log), 0 if none."""
    row = conn.execute("SELECT at FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    try:
        return int(dt.datetime.fromisoformat(row[0]).timestamp() * 1000) if row else 0
    except (TypeError, ValueError):
        return 0


def repair(ws: Workspace, clock_before: str | None = None,
           limit_ms: int | None = None) -> ClockRepair:
    """Mend every unbelievable clock of the workspace (see the module's docstring).
    `clock_before` is the persisted clock `open_clock` refused, if it did; `limit_ms` the
    latest believable millisecond (default: the clock's own, a day past its time; a sync
    that knows the hub's time passes the hub's)."""
    clock = ws.clock
    report = ClockRepair(clock_before or clock.last, clock_reset=clock_before is not None)
    with ws.transaction() as tx:
        limit = clock.limit_ms() if limit_ms is None else limit_ms
        pending = _pending_fields(tx.conn, clock.device)
        fixes, newest = _scan(tx.conn, limit, pending, clock.device)
        own = clock.last if _believable(clock.last, limit) else ""
        clock.restart(max(newest, own) or None)
        _apply_fixes(tx.conn, clock, fixes, report)
        report.outbox = _repair_outbox(tx.conn, limit)
        report.requeued = _requeue_refused(tx)
        report.clock_after = clock.last
        _remember(ws, report)
    return report


def is_clock_refusal(reason: str) -> bool:
    return any(reason == code or reason.startswith(code + ":") for code in CLOCK_REFUSALS)


# -- finding ---------------------------------------------------------------------------------------
def _believable(stamp: str, limit_ms: int) -> bool:
    """Well-formed, not past the limit, and not posing as the shipped catalogue."""
    ms = clock_ms(stamp)
    if ms is None or ms > limit_ms:
        return False
    return device_part(stamp) != SHIPPED_DEVICE or stamp == SHIPPED_CLOCK


def _pending_fields(conn: sqlite3.Connection, device: str) -> dict[tuple[str, str], set[str]]:
    """Fields of rows with an edit of this device not yet accepted by the hub: in the outbox,
    or refused for its clock (the refusal took it out of the outbox)."""
    pending: dict[tuple[str, str], set[str]] = {}
    for table, row_id, names in conn.execute(
            "SELECT table_name, row_id, fields FROM outbox"):
        event = table in REGISTRY and REGISTRY[table].kind == "event"
        pending.setdefault((table, row_id), set()).update(
            ["created_at"] if event else json.loads(names))
    for record in _refused_records(conn):
        clocks = record.get("clocks")
        stamps = clocks if isinstance(clocks, Mapping) else {
            "created_at": record.get("created_at")}
        own = {name for name, stamp in stamps.items()
               if isinstance(stamp, str) and device_part(stamp) == device}
        pending.setdefault((record["table"], record["id"]), set()).update(own)
    return pending


def _refused_records(conn: sqlite3.Connection) -> Iterator[dict[str, Any]]:
    for reason, text in conn.execute(
            "SELECT reason, record FROM sync_quarantine WHERE direction = 'push'"):
        record = json.loads(text) if is_clock_refusal(reason) else None
        if isinstance(record, dict) and isinstance(record.get("table"), str) and \
                isinstance(record.get("id"), str):
            yield record


def _scan(conn: sqlite3.Connection, limit: int, pending: Mapping[tuple[str, str], set[str]],
          device: str) -> tuple[list[_RowFix], str]:
    """Every row with an unbelievable clock, and the newest believable clock held here."""
    fixes: list[_RowFix] = []
    newest = ""
    for table in dependency_order():
        scan = _scan_mutable if REGISTRY[table].kind == "mutable" else _scan_events
        found, latest = scan(conn, table, limit, pending, device)
        fixes.extend(found)
        newest = max(newest, latest)
    return fixes, newest


def _scan_mutable(conn: sqlite3.Connection, table: str, limit: int,
                  pending: Mapping[tuple[str, str], set[str]], device: str
                  ) -> tuple[list[_RowFix], str]:
    fixes: list[_RowFix] = []
    newest = ""
    for row in conn.execute(f"SELECT id, updated_at, field_clock FROM {table}"):
        clocks = field_clocks(table, row)
        bad = [name for name, stamp in clocks.items() if not _believable(stamp, limit)]
        newest = max([newest, *(s for n, s in clocks.items() if n not in bad)])
        if not bad:
            continue
        mine = pending.get((table, row["id"]), set())
        fix = _RowFix(table, row["id"], clocks)
        for name in bad:
            own = name in mine and device_part(clocks[name]) == device
            (fix.fresh if own else fix.demote).append(name)
        fixes.append(fix)
    return fixes, newest


def _scan_events(conn: sqlite3.Connection, table: str, limit: int,
                 pending: Mapping[tuple[str, str], set[str]], device: str
                 ) -> tuple[list[_RowFix], str]:
    """An event of this device the hub does not have yet gets a fresh clock like any pending
    edit; the others the time in their id, which the hub gives its copy too."""
    fixes: list[_RowFix] = []
    newest = ""
    for row_id, stamp in conn.execute(f"SELECT id, created_at FROM {table}"):
        if _believable(stamp, limit):
            newest = max(newest, stamp)
            continue
        fix = _RowFix(table, row_id, {"created_at": stamp})
        if "created_at" in pending.get((table, row_id), ()) and device_part(stamp) == device:
            fix.fresh.append("created_at")
        else:
            fix.clocks["created_at"] = event_clock(stamp, row_id, limit)
        fixes.append(fix)
    return fixes, newest


# -- mending ---------------------------------------------------------------------------------------
def _apply_fixes(conn: sqlite3.Connection, clock: Clock, fixes: list[_RowFix],
                 report: ClockRepair) -> None:
    _stamp_fresh(clock, fixes)
    for fix in fixes:
        for name in fix.demote:
            fix.clocks[name] = demoted(fix.clocks[name])
        if REGISTRY[fix.table].kind == "event":
            conn.execute(f"UPDATE {fix.table} SET created_at = ? WHERE id = ?",
                         (fix.clocks["created_at"], fix.row_id))
            _count(report.events, fix.table)
            continue
        updated_at, field_clock = compact_clocks(fix.clocks)
        conn.execute(f"UPDATE {fix.table} SET updated_at = ?, field_clock = ?, device_id = ? "
                     "WHERE id = ?", (updated_at, field_clock,
                                      Timestamp.parse(updated_at).device, fix.row_id))
        if fix.fresh:
            _count(report.restamped, fix.table)
        if fix.demote:
            _count(report.demoted, fix.table)


def _stamp_fresh(clock: Clock, fixes: list[_RowFix]) -> None:
    """New clocks for the pending own edits, in the order of their old clocks (read leniently:
    an overflowed counter of five digits still counts as more than four)."""
    wanted = [(fix, name) for fix in fixes for name in fix.fresh]
    wanted.sort(key=lambda item: lenient_order(item[0].clocks[item[1]]))
    for fix, name in wanted:
        fix.clocks[name] = clock.now()


def _repair_outbox(conn: sqlite3.Connection, limit: int) -> int:
    """Outbox clocks: the stamp of a queued change, and the clocks its fields had before it
    (a demoted base, as the row's value it names was demoted, so the hub's repaired copy of
    that value still counts as a rival edit and is listed for review)."""
    repaired = 0
    rows = conn.execute("SELECT seq, table_name, row_id, hlc, base FROM outbox").fetchall()
    for seq, table, row_id, stamp, base_text in rows:
        base = json.loads(base_text)
        new_base = {name: clock if _believable(clock, limit) else demoted(clock)
                    for name, clock in base.items()}
        new_stamp = stamp if _believable(stamp, limit) else _row_stamp(conn, table, row_id, stamp)
        if new_stamp != stamp or new_base != base:
            conn.execute("UPDATE outbox SET hlc = ?, base = ? WHERE seq = ?",
                         (new_stamp, json.dumps(new_base, sort_keys=True), seq))
            repaired += 1
    return repaired


def _row_stamp(conn: sqlite3.Connection, table: str, row_id: str, stamp: str) -> str:
    """The repaired row's own latest clock (the change the entry sends), or a demoted one."""
    spec = REGISTRY.get(table)
    if spec is not None:
        column = "updated_at" if spec.kind == "mutable" else "created_at"
        row = conn.execute(f"SELECT {column} FROM {table} WHERE id = ?", (row_id,)).fetchone()
        if row is not None:
            return str(row[0])
    return demoted(stamp)


def _requeue_refused(tx: Tx) -> int:
    """Rows the hub refused for their clock go out again with the next push; their quarantine
    entries go (a new refusal brings a new one)."""
    requeued = 0
    entries = tx.conn.execute("SELECT id, table_name, row_id, reason FROM sync_quarantine "
                              "WHERE direction = 'push'").fetchall()
    for entry_id, table, row_id, reason in entries:
        if not is_clock_refusal(reason) or table not in REGISTRY:
            continue
        requeued += tx.resend(table, row_id)
        tx.conn.execute("DELETE FROM sync_quarantine WHERE id = ?", (entry_id,))
    return requeued


def _remember(ws: Workspace, report: ClockRepair) -> None:
    """The tables to pull again (the sync engine does it and forgets them), and the report."""
    if report.demoted:  # values whose own clocks may have beaten a teammate's edit here
        before = json.loads(ws.meta().get(META_REPULL, "[]"))
        ws.set_meta(META_REPULL, json.dumps(sorted({*before, *report.demoted})))
    if report.changed:
        ws.set_meta(META_LAST_REPAIR, json.dumps(report.to_dict(), sort_keys=True))


def _count(counts: dict[str, int], table: str) -> None:
    counts[table] = counts.get(table, 0) + 1
