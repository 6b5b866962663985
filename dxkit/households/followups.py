"""Closing a follow-up without a visit, and reopening it: events, as visits are.

A follow-up is the date a household's latest effective visit set for coming back. A later
visit meets it. When a team member settles it another way — a phone call did it, the
household moved away, the help is no longer needed — they close it with a reason, and it
leaves the due and overdue lists (indicators never depend on follow-ups).

How it is kept: `follow_up_closures` is an event table, appended and never edited. A close
(kind "close") names the visit whose follow-up it closes; undoing it is a later event (kind
"reopen") whose `corrects` names the close it undoes, as a void names the visit it voids. The
records carry ids, a reason code, the team member's id and a short note: no name, phone or
address is copied into them.

How laptops and the hub agree: events only ever add, so every replica ends with the same set,
and whether a follow-up is closed is a function of that set alone, whatever order the events
arrived in (the hub stores them like any event; nothing of this needs its own hub table):

- A follow-up is closed while a close names its visit, or a visit that visit corrects, and no
  reopen names that close. The newest such close, by (created_at, id), is the one shown.
- A close speaks of one visit's follow-up only. A visit recorded meanwhile on another laptop,
  later in time, meets the old follow-up or sets its own, which is open: the team was at the
  door again and said when to come back, which is newer news than the close. Should that
  visit be voided, the older follow-up stands again, still closed.
- A correction (amend) of the visit is the same visit: its follow-up stays closed.
- A reopen undoes every close standing for the follow-up when it is made; a close made
  elsewhere meanwhile, which the reopen could not know of, stands — the follow-up is closed
  again everywhere once both have arrived.

Each household's standing follow-up and the close that settled it, if any, are derived in
`open_follow_ups` (visits.refresh_follow_ups), like the rest of its follow-up state.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from dxkit.core.fields import FieldType, one_of, ref, text, timestamp
from dxkit.core.i18n import _, counted
from dxkit.core.sqlbatch import select_in
from dxkit.core.synced import Area, SyncedTable

ClosureReason = Literal["called_done", "moved_away", "not_needed", "other"]
REASONS: tuple[ClosureReason, ...] = ("called_done", "moved_away", "not_needed", "other")
NOTE_LENGTH = 500
# Each synced field's type (dxkit.core.fields): what the hub and every laptop accept.
CLOSURE_TYPES: dict[str, FieldType] = {
    "visit_id": ref(),  # the visit whose follow-up is closed (a reopen names it too)
    "kind": one_of("close", "reopen"),
    "corrects": ref(nullable=True),  # a reopen: the close it undoes
    "reason": one_of(*REASONS, nullable=True),  # a close's reason; None on a reopen
    "note": text(NOTE_LENGTH),
    "recorded_at": timestamp(),  # local time, as a visit's visited_at
    "member_id": ref(nullable=True)}  # the team member who closed or reopened it

TABLES = (
    SyncedTable("follow_up_closures", "event", tuple(CLOSURE_TYPES),
                depends_on=("visits", "team_members"), types=CLOSURE_TYPES,
                area=Area.via("visit_id", "visits")),
)


def reason_label(reason: str) -> str:
    """The reason as the team reads it: "Đã gọi điện, đã xong"."""
    labels = {"called_done": _("Called: done"), "moved_away": _("The household moved away"),
              "not_needed": _("No longer needed"), "other": _("Other")}
    return labels.get(reason, reason)


def due_text(overdue_days: int) -> str:
    """"quá hạn 3 ngày", "đến hạn hôm nay", "còn 5 ngày"."""
    if overdue_days > 0:
        return counted(overdue_days, "{count} day overdue", "{count} days overdue")
    if overdue_days == 0:
        return _("due today")
    if overdue_days == -1:
        return _("due tomorrow")
    return counted(-overdue_days, "due in {count} day", "due in {count} days")


@dataclass(frozen=True)
class Closure:
    """One close or reopen event."""

    id: str
    visit_id: str
    kind: Literal["close", "reopen"]
    corrects: str | None
    reason: str | None
    note: str
    recorded_at: dt.datetime
    member_id: str | None
    created_at: str

    @property
    def reason_text(self) -> str:
        """The reason in words, with the note after it when there is one."""
        if self.reason is None:
            return self.note
        label = reason_label(self.reason)
        return f"{label}: {self.note}" if self.note else label

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "visit_id": self.visit_id, "kind": self.kind,
                "corrects": self.corrects, "reason": self.reason,
                "reason_text": self.reason_text, "note": self.note,
                "recorded_at": self.recorded_at.isoformat(), "member_id": self.member_id}


def closure_from_row(row: sqlite3.Row) -> Closure:
    return Closure(
        id=row["id"], visit_id=row["visit_id"], kind=row["kind"], corrects=row["corrects"],
        reason=row["reason"], note=row["note"],
        recorded_at=dt.datetime.fromisoformat(row["recorded_at"]), member_id=row["member_id"],
        created_at=row["created_at"])


def closure(conn: sqlite3.Connection, closure_id: str) -> Closure:
    return closure_from_row(conn.execute("SELECT * FROM follow_up_closures WHERE id = ?",
                                         (closure_id,)).fetchone())


# The visit and every visit it corrects, back to the first one recorded.
_CHAIN = """
WITH RECURSIVE chain(id) AS (
    SELECT ? UNION SELECT v.corrects FROM visits v JOIN chain ON v.id = chain.id
    WHERE v.corrects IS NOT NULL)
"""
_STANDING = _CHAIN + """
SELECT c.* FROM follow_up_closures c
WHERE c.kind = 'close' AND c.visit_id IN (SELECT id FROM chain)
  AND NOT EXISTS (SELECT 1 FROM follow_up_closures r
                  WHERE r.kind = 'reopen' AND r.corrects = c.id)
ORDER BY c.created_at DESC, c.id DESC
"""


def standing_closes(conn: sqlite3.Connection, visit_id: str) -> list[Closure]:
    """The closes that keep this visit's follow-up closed, newest first (none: it is open)."""
    return [closure_from_row(r) for r in conn.execute(_STANDING, (visit_id,))]


def closed_by(conn: sqlite3.Connection, visit_id: str) -> str | None:
    """The id of the newest close standing for this visit's follow-up, or None."""
    if conn.execute("SELECT 1 FROM follow_up_closures LIMIT 1").fetchone() is None:
        return None  # the common case on a pull of visits: nothing was ever closed
    row = conn.execute(_STANDING + " LIMIT 1", (visit_id,)).fetchone()
    return row["id"] if row is not None else None


def households_of(conn: sqlite3.Connection, closure_ids: Iterable[str]) -> set[str]:
    """The households whose follow-up these closes or reopens are about."""
    return {r[0] for r in select_in(
        conn, "SELECT v.household_id FROM follow_up_closures c JOIN visits v "
              "ON v.id = c.visit_id WHERE c.id IN ({marks})", sorted(closure_ids))}
