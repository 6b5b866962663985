"""The laptop's side of clock safety in sync (docs/sync-protocol.md, Clocks).

`dxkit.core.clock_repair` mends a workspace whose clocks cannot be believed; this module does
what sync adds to that, at the start of every sync and in `dxkit sync repair-clock`:

- a repaired table is pulled again from the start, so the hub's copy of every demoted value
  (and any teammate's edit the unbelievable clock had beaten here) comes back;
- records received earlier and held back because their clock was too far ahead are applied
  once it can be believed (the computer's date was corrected, or time caught up);
- local changes the hub refused for their clock are sent again once the hub would take them:
  every clock of the row well-formed and not past the hub's time (learned from its answers)
  plus its bound, and, unless the refusal was only "too far ahead", the row changed since;
- the hub's time, from the `Date` of its answers, corrects this computer's clock from then on
  (`learn_hub_time`), and a workspace clock found more than the hub's bound past it is
  repaired by the hub's rule: edits made while the date was wrong get times the hub takes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dxkit.core import clock_repair
from dxkit.core.clock_repair import ClockRepair, is_clock_refusal
from dxkit.core.errors import DxError
from dxkit.core.hlc import HUB_AHEAD_MS, SKEW_TOLERANCE_MS, BadClock, Clock, clock_ms
from dxkit.core.i18n import _
from dxkit.core.synced import REGISTRY, dependency_order, record_of
from dxkit.sync.apply import CURSOR_PREFIX, META_HIGH_WATER, apply_records
from dxkit.workspace import Workspace


@dataclass
class ClockRecovery:
    """What one pass did: the repair of the workspace (None when nothing was unbelievable),
    the tables whose pull starts again, records received earlier and applied now, refused
    local changes queued to be sent again."""

    repair: ClockRepair | None = None
    pull_again: list[str] = field(default_factory=list)
    retried: int = 0
    requeued: int = 0

    @property
    def changed(self) -> bool:
        return bool((self.repair and self.repair.changed) or self.pull_again or self.retried
                    or self.requeued)

    def to_dict(self) -> dict[str, Any]:
        return {"repair": self.repair.to_dict() if self.repair else None,
                "pull_again": self.pull_again, "retried": self.retried,
                "requeued": self.requeued, "changed": self.changed}


def before_sync(ws: Workspace) -> ClockRecovery:
    """The automatic check at the start of a sync: the same test as at open (the clock may
    have been restored or the hub's time learned since), then what sync adds to a repair.
    Refused local changes are looked at after the pull (`requeue_refused`), once the hub's
    time is fresh."""
    recovery = ClockRecovery(repair=_repair_if_unbelievable(ws))
    recovery.pull_again = _pull_again(ws)
    recovery.retried = _retry_received(ws)
    return recovery


def repair_clock(ws: Workspace) -> ClockRecovery:
    """`dxkit sync repair-clock`: read every row for unbelievable clocks (not only when the
    workspace's own clock is one), mend them and do what sync adds, without the network.
    Refused while the computer's date is behind the workspace's last change: judged by such
    a date, honest clocks would look like clocks from the future."""
    if clock_repair.wall_went_back(ws.clock, clock_repair.last_wall_ms(ws.conn)):
        raise DxError(_("This computer's date and time are earlier than the last change "
                        "recorded in this workspace, so its clocks cannot be judged. Correct "
                        "the date and time, then run this again (or sync: the hub's time is "
                        "used then)."))
    recovery = ClockRecovery(repair=_repair_if_unbelievable(ws) or clock_repair.repair(ws))
    recovery.pull_again = _pull_again(ws)
    recovery.retried = _retry_received(ws)
    recovery.requeued = requeue_refused(ws)
    return recovery


def learn_hub_time(ws: Workspace, hub_ms: int | None) -> ClockRepair | None:
    """The hub's time from its answer: the clock follows it from now on (a laptop whose date
    is wrong stamps times the hub takes and believes its team's clocks). If the clock already
    ran further ahead of it than the hub allows (edits made while the date was wrong), the
    workspace is repaired against the hub's rule, so those edits get clocks the hub takes.
    Saved with the sync's end (`remember_hub_time`)."""
    if not hub_ms:
        return None
    ws.clock.learn_time(hub_ms)
    # A minute inside the hub's bound: a clock between the two would be refused by the hub
    # until time caught up with it (edits stamped before this sync learned the hub's time).
    limit = hub_ms + HUB_AHEAD_MS - SKEW_TOLERANCE_MS
    last = ws.clock.last
    ms = clock_ms(last)
    if ms is not None and ms <= limit:
        return None
    ws.clock.restart(None)
    return clock_repair.repair(ws, clock_before=last, limit_ms=limit)


def remember_hub_time(ws: Workspace) -> None:
    """Inside a transaction: how far this computer's clock is from the hub's, for the next
    open."""
    ws.set_meta(clock_repair.META_CLOCK_OFFSET, str(ws.clock.offset_ms))


def requeue_refused(ws: Workspace) -> int:
    """Queue again the local changes the hub refused for their clock that it would take now
    (see the module's docstring); their quarantine entries go."""
    refused = _quarantined(ws, "push")
    if not refused:
        return 0  # the usual case: no write transaction
    requeued = 0
    with ws.transaction() as tx:
        for entry_id, record, reason in refused:
            table, row_id = record["table"], record["id"]
            current = record_of(tx.conn, table, row_id)
            if current is None or not _hub_would_take(current, ws.clock):
                continue
            if not (reason.startswith("clock_ahead") or current != record):
                continue  # unchanged, and refused for more than its time: it would be again
            requeued += tx.resend(table, row_id)
            tx.conn.execute("DELETE FROM sync_quarantine WHERE id = ?", (entry_id,))
    return requeued


# -- plumbing --------------------------------------------------------------------------------------
def _repair_if_unbelievable(ws: Workspace) -> ClockRepair | None:
    if not clock_repair.must_repair(ws.clock, clock_repair.last_wall_ms(ws.conn)):
        return None
    last = ws.clock.last
    ws.clock.restart(None)
    return clock_repair.repair(ws, clock_before=last)


def _pull_again(ws: Workspace) -> list[str]:
    """Forget the cursors of the tables a repair touched (and the high water, so the next
    sync does not stop at "nothing new")."""
    tables = json.loads(ws.meta().get(clock_repair.META_REPULL, "[]"))
    if not tables:
        return []
    with ws.transaction() as tx:
        tx.conn.executemany("DELETE FROM meta WHERE key = ?",
                            [(CURSOR_PREFIX + table,) for table in tables])
        tx.conn.execute("DELETE FROM meta WHERE key IN (?, ?)",
                        (META_HIGH_WATER, clock_repair.META_REPULL))
    return sorted(tables)


def _retry_received(ws: Workspace) -> int:
    """Apply the received records held back for their clock that can be believed now."""
    ready: dict[str, list[tuple[int, Mapping[str, Any]]]] = {}
    for entry_id, record, _reason in _quarantined(ws, "pull"):
        if _believable(record, ws.clock):
            ready.setdefault(record["table"], []).append((entry_id, record))
    if not ready:
        return 0
    with ws.transaction() as tx:
        for table in (name for name in dependency_order() if name in ready):
            entries = ready[table]
            tx.conn.executemany("DELETE FROM sync_quarantine WHERE id = ?",
                                [(entry_id,) for entry_id, _record in entries])
            apply_records(tx, table, [record for _entry_id, record in entries])
    return sum(len(entries) for entries in ready.values())


def _quarantined(ws: Workspace, direction: str) -> list[tuple[int, dict[str, Any], str]]:
    """Quarantine entries of one direction refused for their clock, with their records."""
    found = []
    for entry_id, reason, text in ws.conn.execute(
            "SELECT id, reason, record FROM sync_quarantine WHERE direction = ?", (direction,)):
        if not is_clock_refusal(reason):
            continue
        record = json.loads(text)
        if isinstance(record, dict) and record.get("table") in REGISTRY and isinstance(
                record.get("id"), str):
            found.append((entry_id, record, reason))
    return found


def _stamps(record: Mapping[str, Any]) -> list[Any]:
    clocks = record.get("clocks")
    if isinstance(clocks, Mapping):
        return list(clocks.values())
    return [record.get("created_at")]


def _believable(record: Mapping[str, Any], clock: Clock) -> bool:
    try:
        return all(clock.believable(stamp) for stamp in _stamps(record))
    except BadClock:
        return False


def _hub_would_take(record: Mapping[str, Any], clock: Clock) -> bool:
    """Every clock well-formed and within the hub's bound of its time as this laptop knows
    it (its own, corrected by the last sync)."""
    limit = clock.physical_ms() + HUB_AHEAD_MS
    return all((ms := clock_ms(stamp)) is not None and ms <= limit
               for stamp in _stamps(record))
