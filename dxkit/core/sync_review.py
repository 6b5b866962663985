"""What sync leaves for a person to review: same-field edits from two laptops
(sync_conflicts) and records refused on the way in or out (sync_quarantine).

Choosing the other value of a conflict is an ordinary local edit through the same
Workspace operation as a hand edit, made together with marking the conflict resolved.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from dxkit.core.errors import DxError, NotFound
from dxkit.core.households import HOUSEHOLD_INPUTS, PERSON_INPUTS
from dxkit.core.i18n import _
from dxkit.core.synced import REGISTRY, Changes
from dxkit.core.workspace import Workspace

SYNC_CHANGED = ("sync_conflicts", "sync_quarantine")
# Fields derived from another one, resolved together with it and not listed on their own.
HIDDEN_FIELDS = {"code_key", "head_key", "name_key", "consent_on", "consent_by", "purged"}
# Table -> {stored field: keyword of the Workspace operation that edits it}.
EDITABLE = {
    "households": {"code": "code", "head_name": "head_name", "hamlet_id": "hamlet",
                   "address": "address", "phone": "phone", "notes": "notes",
                   "latitude": "latitude", "longitude": "longitude"},
    "people": {name: name for name in ("full_name", "sex", "birth_date", "birth_year",
                                       "relationship", "phone", "cccd", "consent", "notes")},
    "hamlets": {"name": "name"},
}
COMPANIONS = {"households": HOUSEHOLD_INPUTS, "people": PERSON_INPUTS}


@dataclass(frozen=True)
class ConflictRow:
    id: int
    table: str
    row_id: str
    record: str  # e.g. "MH-001 — Nguyễn Văn Đồng"
    field: str
    local_value: Any
    remote_value: Any
    winner: str  # "local" | "remote": whose value is shown now

    @property
    def other_value(self) -> Any:
        return self.remote_value if self.winner == "local" else self.local_value

    @property
    def can_use_other(self) -> bool:
        return self.field in EDITABLE.get(self.table, {})


@dataclass(frozen=True)
class QuarantineRow:
    id: int
    table: str
    row_id: str
    direction: str
    reason: str
    at: str


@dataclass(frozen=True)
class Review:
    conflicts: list[ConflictRow]
    quarantine: list[QuarantineRow]


def _hidden_marks() -> str:
    return ",".join("?" * len(HIDDEN_FIELDS))


def review_count(ws: Workspace) -> int:
    """Open conflicts (as listed) plus quarantined records: the status bar's "N to review"."""
    conflicts = ws.conn.execute(
        "SELECT count(*) FROM sync_conflicts WHERE resolved_at IS NULL "
        f"AND field NOT IN ({_hidden_marks()})", tuple(HIDDEN_FIELDS)).fetchone()[0]
    return conflicts + ws.conn.execute("SELECT count(*) FROM sync_quarantine").fetchone()[0]


def load_review(ws: Workspace) -> Review:
    rows = ws.conn.execute(
        "SELECT id, table_name, row_id, field, local_value, remote_value, winner "
        f"FROM sync_conflicts WHERE resolved_at IS NULL AND field NOT IN ({_hidden_marks()}) "
        "ORDER BY id", tuple(HIDDEN_FIELDS)).fetchall()
    conflicts = [ConflictRow(r["id"], r["table_name"], r["row_id"],
                             describe_record(ws, r["table_name"], r["row_id"]), r["field"],
                             _decoded(r["local_value"]), _decoded(r["remote_value"]),
                             r["winner"]) for r in rows]
    quarantine = [QuarantineRow(r["id"], r["table_name"], r["row_id"], r["direction"],
                                r["reason"], r["at"]) for r in ws.conn.execute(
        "SELECT id, table_name, row_id, direction, reason, at FROM sync_quarantine "
        "ORDER BY id")]
    return Review(conflicts, quarantine)


def describe_record(ws: Workspace, table: str, row_id: str) -> str:
    """A name the user knows the record by; its short id when there is none."""
    try:
        if table == "households":
            household = ws.households.get(row_id)
            return " — ".join(p for p in (household.code, household.head_name) if p)
        if table == "people":
            person = ws.people.get(row_id)
            code = ws.households.get(person.household_id).code
            return " — ".join(p for p in (person.full_name, code) if p)
        if table == "hamlets":
            return ws.catalog.hamlet(row_id).name
    except (NotFound, DxError):
        pass
    return row_id[:8]


def keep_shown_value(ws: Workspace, conflict_id: int) -> Changes:
    with ws.transaction() as tx:
        row = _open_conflict(tx.conn, conflict_id)
        _mark_resolved(ws, tx.conn, row)
    return sync_changes(tables=("sync_conflicts",))


def use_other_value(ws: Workspace, conflict_id: int) -> Changes:
    """The other laptop's (or this one's earlier) value becomes a new local edit, made through
    the same operation as a hand edit, and the conflict is marked resolved — together."""
    with ws.transaction() as tx:
        row = _open_conflict(tx.conn, conflict_id)
        table, field = row["table_name"], row["field"]
        keyword = EDITABLE.get(table, {}).get(field)
        if keyword is None:
            raise DxError(_("This value cannot be changed from here; keep the value shown."))
        chosen = _decoded(row["remote_value"] if row["winner"] == "local"
                          else row["local_value"])
        value = _as_input(table, field, chosen)
        if table == "households":
            changes = ws.households.update(row["row_id"], **{keyword: value}).changes
        elif table == "people":
            changes = ws.people.update(row["row_id"], **{keyword: value}).changes
        else:
            changes = ws.catalog.rename_hamlet(row["row_id"], value).changes
        _mark_resolved(ws, tx.conn, row)
    changes.updated["sync_conflicts"].add(str(conflict_id))
    return changes


def remove_quarantined(ws: Workspace, quarantine_id: int) -> Changes:
    with ws.transaction() as tx:
        tx.conn.execute("DELETE FROM sync_quarantine WHERE id = ?", (quarantine_id,))
    return sync_changes(tables=("sync_quarantine",))


def _open_conflict(conn: Any, conflict_id: int) -> Any:
    row = conn.execute("SELECT * FROM sync_conflicts WHERE id = ? AND resolved_at IS NULL",
                       (conflict_id,)).fetchone()
    if row is None:
        raise NotFound(_("This conflict was already resolved."))
    return row


def _mark_resolved(ws: Workspace, conn: Any, row: Any) -> None:
    """Resolve the conflict and its hidden companions (e.g. head_key with head_name)."""
    fields = {row["field"]}
    for name, stored in COMPANIONS.get(row["table_name"], {}).items():
        if row["field"] in (name, *stored):
            fields.update(f for f in stored if f in HIDDEN_FIELDS)
    marks = ",".join("?" * len(fields))
    conn.execute(
        "UPDATE sync_conflicts SET resolved_at = ? WHERE resolved_at IS NULL AND (id = ? OR "
        f"(table_name = ? AND row_id = ? AND field IN ({marks})))",
        (ws.now().isoformat(timespec="seconds"), row["id"], row["table_name"], row["row_id"],
         *sorted(fields)))


def _decoded(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _as_input(table: str, field: str, value: Any) -> Any:
    """A stored value as the operation takes it."""
    if table == "people" and field == "birth_date" and isinstance(value, str) and value:
        return dt.date.fromisoformat(value)
    if table == "people" and field == "consent":
        return bool(value)
    return "" if value is None and field not in ("latitude", "longitude") else value


def sync_changes(tables: tuple[str, ...] = SYNC_CHANGED, everything: bool = False) -> Changes:
    """Changes to announce. After a sync the engine does not say which rows it changed, so
    every synced table is announced as possibly changed (rows may have come and gone)."""
    changes = Changes()
    for table in (*tables, *(REGISTRY if everything else ())):
        changes.updated[table].add("")
        if everything:
            changes.deleted[table].add("")
    return changes
