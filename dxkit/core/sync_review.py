"""What sync leaves for a person to review: same-field edits from two laptops
(sync_conflicts) and records refused on the way in or out (sync_quarantine).

Choosing the other value of a conflict is an ordinary local edit through the same
Workspace operation as a hand edit, made together with marking the conflict resolved.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from dxkit.core.domain import Domain, ReviewTable
from dxkit.core.errors import DxError, NotFound
from dxkit.core.fields import REASONS
from dxkit.core.i18n import _
from dxkit.core.synced import REGISTRY, Changes
from dxkit.core.workspace import Workspace

SYNC_CHANGED = ("sync_conflicts", "sync_quarantine")


def hidden_fields(domains: tuple[Domain, ...]) -> frozenset[str]:
    """Fields derived from another one, resolved together with it and not listed on their own."""
    return frozenset().union(*(d.hidden_fields for d in domains))


def table_label(domains: tuple[Domain, ...], table: str) -> str:
    """What a person calls a record of `table`, in the current language."""
    spec = review_table(domains, table)
    return _(spec.title) if spec and spec.title else table


def field_label(domains: tuple[Domain, ...], table: str, field: str) -> str:
    spec = review_table(domains, table)
    if spec and field in spec.labels:
        return _(spec.labels[field])
    return _("Deleted") if field == "deleted" else field


def review_table(domains: tuple[Domain, ...], table: str) -> ReviewTable | None:
    for domain in domains:
        if table in domain.review:
            return domain.review[table]
    return None


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
    table_label: str = ""  # "Household", translated
    field_label: str = ""  # "Head of household", translated

    @property
    def other_value(self) -> Any:
        return self.remote_value if self.winner == "local" else self.local_value

    editable: bool = False

    @property
    def can_use_other(self) -> bool:
        return self.editable


@dataclass(frozen=True)
class QuarantineRow:
    id: int
    table: str
    row_id: str
    direction: str
    reason: str
    at: str
    table_label: str = ""
    reason_text: str = ""  # the reason as a sentence, in the current language


@dataclass(frozen=True)
class Review:
    conflicts: list[ConflictRow]
    quarantine: list[QuarantineRow]


def _hidden(ws: Workspace) -> tuple[str, ...]:
    return tuple(sorted(hidden_fields(ws.domains))) or ("",)


def _marks(values: tuple[str, ...]) -> str:
    return ",".join("?" * len(values))


def review_count(ws: Workspace) -> int:
    """Open conflicts (as listed) plus quarantined records: the status bar's "N to review"."""
    hidden = _hidden(ws)
    conflicts = ws.conn.execute(
        "SELECT count(*) FROM sync_conflicts WHERE resolved_at IS NULL "
        f"AND field NOT IN ({_marks(hidden)})", hidden).fetchone()[0]
    quarantined = ws.conn.execute("SELECT count(*) FROM sync_quarantine").fetchone()[0]
    return int(conflicts) + int(quarantined)


def load_review(ws: Workspace) -> Review:
    hidden = _hidden(ws)
    rows = ws.conn.execute(
        "SELECT id, table_name, row_id, field, local_value, remote_value, winner "
        f"FROM sync_conflicts WHERE resolved_at IS NULL AND field NOT IN ({_marks(hidden)}) "
        "ORDER BY id", hidden).fetchall()
    conflicts = []
    for r in rows:
        spec = review_table(ws.domains, r["table_name"])
        conflicts.append(ConflictRow(
            r["id"], r["table_name"], r["row_id"],
            describe_record(ws, r["table_name"], r["row_id"]), r["field"],
            _decoded(r["local_value"]), _decoded(r["remote_value"]), r["winner"],
            table_label(ws.domains, r["table_name"]),
            field_label(ws.domains, r["table_name"], r["field"]),
            editable=spec is not None and r["field"] in spec.editable))
    quarantine = [QuarantineRow(r["id"], r["table_name"], r["row_id"], r["direction"],
                                r["reason"], r["at"], table_label(ws.domains, r["table_name"]),
                                reason_text(ws.domains, r["table_name"], r["reason"]))
                  for r in ws.conn.execute(
        "SELECT id, table_name, row_id, direction, reason, at FROM sync_quarantine "
        "ORDER BY id")]
    return Review(conflicts, quarantine)


def reason_text(domains: tuple[Domain, ...], table: str, reason: str) -> str:
    """Why a record was held back, as a sentence: for a value that does not fit its field's
    declared type ("too_long:notes", from the hub or this laptop's own check) the field's
    name and what is wrong; any other reason as it was recorded."""
    code, _colon, name = reason.partition(":")
    spec = REGISTRY.get(table)
    kind = spec.wire_types.get(name) if spec is not None else None
    if kind is None or code not in REASONS:
        return reason
    return _("{field}: {problem}").format(field=field_label(domains, table, name),
                                          problem=kind.explain(code))


def describe_record(ws: Workspace, table: str, row_id: str) -> str:
    """A name the user knows the record by; its short id when there is none."""
    spec = review_table(ws.domains, table)
    if spec is not None:
        try:
            return spec.describe(ws, row_id)
        except (LookupError, NotFound, DxError):
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
        spec = review_table(ws.domains, table)
        keyword = spec.editable.get(field) if spec else None
        if spec is None or keyword is None:
            raise DxError(_("This value cannot be changed from here; keep the value shown."))
        chosen = _decoded(row["remote_value"] if row["winner"] == "local"
                          else row["local_value"])
        changes = spec.edit(ws, row["row_id"], keyword, spec.as_input(field, chosen))
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
    spec = review_table(ws.domains, row["table_name"])
    hidden = hidden_fields(ws.domains)
    for name, stored in (spec.companions if spec else {}).items():
        if row["field"] in (name, *stored):
            fields.update(f for f in stored if f in hidden)
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


def sync_changes(tables: tuple[str, ...] = SYNC_CHANGED, everything: bool = False) -> Changes:
    """Changes to announce. After a sync the engine does not say which rows it changed, so
    every synced table is announced as possibly changed (rows may have come and gone)."""
    changes = Changes()
    for table in (*tables, *(REGISTRY if everything else ())):
        changes.updated[table].add("")
        if everything:
            changes.deleted[table].add("")
    return changes
