"""Synced tables and the unit of work every change goes through.

A `Tx` is one SQLite transaction. Each write through it stamps the row with an HLC and the
device id, records per-field clocks, appends the outbox entry and the audit entry, and notes
what changed — all in that same transaction, so a crash can never separate a change from its
outbox entry. Later features join sync by calling `register`, declaring the type of every
field they sync (dxkit.core.fields): the hub, a pulled record and every write here are checked
against it.
"""

from __future__ import annotations

import datetime as dt
import json
import operator
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Generic, Literal, TypeVar

from dxkit.core.errors import ValidationError
from dxkit.core.fields import ID_PATTERN, FieldProblem, FieldType, boolean
from dxkit.core.hlc import BadClock, Clock, Timestamp
from dxkit.core.ids import uuid7
from dxkit.core.merge import (
    NO_RULES,
    FieldMerge,
    Rules,
    compact_clocks,
    merge_event,
    merge_mutable,
)
from dxkit.core.sqlbatch import select_in

TableKind = Literal["mutable", "event"]
T = TypeVar("T")


AreaKind = Literal["team", "hamlet", "own", "via"]


@dataclass(frozen=True)
class Area:
    """Where a synced table's rows live on the hub, so it can tell which teams read and write
    each row (docs/sync-protocol.md, "Scope"). Declare one on every SyncedTable:

    - `Area.team()`: the team's own rows (its members, its farm, its copy of reference rows):
      only that team reads them.
    - `Area.hamlet()`: each row is a hamlet; its area is itself.
    - `Area.own("hamlet_id")`: each row names its hamlet (households).
    - `Area.via("household_id", "households")`: each row belongs where the row it references
      does (people, visits, visit items, indicator answers…); `table` must be in `depends_on`.

    Rows of the last three are kept once for every team (ids are globally unique) and are
    read and written by the teams whose hamlets include the row's hamlet: the hamlet's own
    team and its commune's team.
    """

    kind: AreaKind
    field: str | None = None  # own, via: the field holding the hamlet's or the parent's id
    table: str | None = None  # via: the table that field references

    @staticmethod
    def team() -> Area:
        return Area("team")

    @staticmethod
    def hamlet() -> Area:
        return Area("hamlet")

    @staticmethod
    def own(field: str) -> Area:
        return Area("own", field)

    @staticmethod
    def via(field: str, table: str) -> Area:
        return Area("via", field, table)

    @cached_property
    def shared(self) -> bool:
        """Rows kept once in a hamlet's area (not per team)."""
        return self.kind != "team"


TEAM_AREA = Area.team()  # how the hub keeps a table that declares none (the registry test
# fails for such a table: every table must say where its rows live)


@dataclass(frozen=True)
class SyncedTable:
    """A table the sync engine exchanges.

    mutable: rows edited in place, merged per field by HLC, deleted by tombstone.
    event: rows appended once and never changed; deduplicated by id.
    personal: fields purged when a person asks to be deleted.
    rules: what holds after every merge and local write whatever the clocks (an erasure is
      for good, a field that needs another one); the same on every laptop and on the hub.
    types: each field's type (dxkit.core.fields); `register` refuses a field without one.
    """

    name: str
    kind: TableKind
    fields: tuple[str, ...]
    personal: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()  # tables its rows reference: they must arrive first
    # Reference data: rows the province may publish to every team (same ids everywhere, like
    # the shipped catalogue); each team's edits of them are kept as that team's own copy.
    reference: bool = False
    rules: Rules = NO_RULES
    # Ids unique within a team only (a lot code): the hub keeps each team's row of an id
    # apart, and never refuses or lets one team's row take the id from another team.
    team_keyed: bool = False
    types: Mapping[str, FieldType] = field(default_factory=dict, hash=False)
    # Where its rows live on the hub (Area above); None: not declared (kept as the team's
    # own, and tests/core/test_synced_areas.py fails until it is).
    area: Area | None = None

    @cached_property
    def placed(self) -> Area:
        """The table's declared area, or the team's own if it declares none."""
        return self.area or TEAM_AREA

    @cached_property
    def wire_types(self) -> dict[str, FieldType]:
        """The type of every field a record carries (the tombstone of mutable rows too)."""
        types = {name: self.types[name] for name in self.fields}
        if self.kind == "mutable":
            types["deleted"] = TOMBSTONE
        return types

    @cached_property
    def checks(self) -> tuple[tuple[str, Callable[[object], str | None]], ...]:
        """(field, its type's check) for every wire field: the loop run on every record."""
        return tuple((name, kind.check) for name, kind in self.wire_types.items())


TOMBSTONE = boolean()  # the `deleted` field every mutable table has


REGISTRY: dict[str, SyncedTable] = {}
SHIPPED_CLOCK = "000000000000-0000-shipped"  # older than any edit made on any device


ShippedRows = Callable[[], Iterable[tuple[str, str, Mapping[str, Any]]]]
_SHIPPED_PROVIDERS: list[ShippedRows] = []


def register_shipped(provider: ShippedRows) -> ShippedRows:
    """A function listing (table, id, values) of rows every install ships with (the default
    catalogue, the pesticide registry): the hub fills a publication's missing fields from
    them, since it never receives rows nobody edited."""
    _SHIPPED_PROVIDERS.append(provider)
    return provider


def shipped_values(table: str, row_id: str) -> dict[str, Any] | None:
    """The wire fields of a shipped row (tombstone 0, unknown fields None), or None."""
    for provider in _SHIPPED_PROVIDERS:
        for name, shipped_id, values in provider():
            if name == table and shipped_id == row_id:
                fields = dict.fromkeys(wire_fields(synced_table(table)))
                fields.update({k: v for k, v in values.items() if k in fields})
                if "deleted" in fields:
                    fields["deleted"] = 0
                return fields
    return None


def register(table: SyncedTable) -> SyncedTable:
    """Make a table known to sync. Every field needs its type: the hub checks every pushed
    value against it, and an undeclared field would let anything through."""
    untyped = [name for name in table.fields if name not in table.types]
    unknown = sorted(set(table.types) - set(table.fields))
    if untyped or unknown:
        raise ValueError(f"synced table {table.name!r}: fields without a type {untyped}, "
                         f"types of no field {unknown}")
    area = table.area
    if area is not None and area.kind in ("own", "via") and area.field not in table.fields:
        raise ValueError(f"synced table {table.name!r}: its area names {area.field!r}, "
                         "which is not one of its fields")
    if area is not None and area.kind == "via" and area.table not in table.depends_on:
        raise ValueError(f"synced table {table.name!r}: its area comes through "
                         f"{area.table!r}, which must be in depends_on")
    if table.name in REGISTRY and REGISTRY[table.name] != table:
        raise ValueError(f"synced table {table.name!r} registered twice with different fields")
    REGISTRY[table.name] = table
    return table


def dependency_order() -> list[str]:
    """Registered tables, every table after the tables it references (sync pulls and bundles
    apply them in this order so a child row never arrives before its parent)."""
    ordered: list[str] = []

    def visit(name: str, trail: tuple[str, ...] = ()) -> None:
        if name in ordered:
            return
        if name in trail:
            raise ValueError(f"synced tables depend on each other in a cycle: {trail}")
        for parent in REGISTRY[name].depends_on:
            visit(parent, (*trail, name))
        ordered.append(name)

    for name in REGISTRY:
        visit(name)
    return ordered


def area_children(table: str) -> list[SyncedTable]:
    """The registered tables whose rows live where a row of `table` they reference does
    (Area.via): what moves with a household that moves to another hamlet."""
    return [spec for spec in REGISTRY.values()
            if spec.placed.kind == "via" and spec.placed.table == table]


def hamlet_tables() -> list[str]:
    """The registered tables whose rows are hamlets (Area.hamlet())."""
    return [name for name, spec in REGISTRY.items() if spec.placed.kind == "hamlet"]


def synced_table(name: str) -> SyncedTable:
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"{name!r} is not a synced table; register it first") from None


def field_problem(spec: SyncedTable, fields: Mapping[str, Any]) -> FieldProblem | None:
    """The first of a record's fields whose value does not fit its declared type, or None.
    `fields` holds exactly the table's wire fields (check that first)."""
    # A plain loop: it runs for every record the hub is sent and every record a laptop
    # pulls, and allocates nothing while every value fits.
    for name, check in spec.checks:
        reason = check(fields[name])
        if reason is not None:
            return FieldProblem(name, reason)
    return None


def check_values(spec: SyncedTable, values: Mapping[str, Any]) -> None:
    """Refuse, with a sentence per field, a value the hub would refuse: a laptop never makes
    a record that sync cannot deliver. Columns that do not sync are not checked."""
    types = spec.wire_types
    errors: dict[str, str] = {}
    for name, value in values.items():
        kind = types.get(name)
        if kind is None:
            continue  # a column of this workspace only (local_id, the folded search text)
        reason = kind.check(value)
        if reason is not None:
            errors[name] = kind.explain(reason)
    if errors:
        raise ValidationError(errors)


@dataclass
class Changes:
    """What one operation changed, by table, so screens refresh only what was touched."""

    created: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    updated: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    deleted: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def touched(self, table: str) -> bool:
        return bool(self.created.get(table) or self.updated.get(table) or self.deleted.get(table))

    def ids(self, table: str) -> set[str]:
        return (
            set(self.created.get(table, ()))
            | set(self.updated.get(table, ()))
            | set(self.deleted.get(table, ()))
        )

    def tables(self) -> set[str]:
        return {t for t in (*self.created, *self.updated, *self.deleted) if self.touched(t)}

    def count(self, kind: Literal["created", "updated", "deleted"], table: str) -> int:
        return len(getattr(self, kind).get(table, ()))

    def __bool__(self) -> bool:
        return bool(self.tables())

    def merge(self, other: Changes) -> Changes:
        """Add another operation's changes to these (e.g. every batch of one sync)."""
        for mine, theirs in ((self.created, other.created), (self.updated, other.updated),
                             (self.deleted, other.deleted)):
            for table, ids in theirs.items():
                mine[table].update(ids)
        return self

    def summary(self) -> dict[str, dict[str, int]]:
        return {
            table: {
                "created": self.count("created", table),
                "updated": self.count("updated", table),
                "deleted": self.count("deleted", table),
            }
            for table in sorted(self.tables())
        }


@dataclass(frozen=True)
class OpResult(Generic[T]):
    """The value an operation made or touched, and everything it changed."""

    value: T
    changes: Changes


class Tx:
    """One write transaction. Use through `Workspace.transaction()`."""

    def __init__(self, conn: sqlite3.Connection, clock: Clock, actor: str):
        self.conn = conn
        self.clock = clock
        self.actor = actor
        self.changes = Changes()
        # Rows erased in this transaction, here or by a record from elsewhere, that held
        # data here: table -> id -> the values their cleared fields held just before, for the
        # domains' hooks (a head of household's name) and the scrub after commit. Kept in
        # memory only.
        self.erased: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        # Review entries (conflicts, quarantined records) to rid of values a rule cleared:
        # (table, id) -> {field: cleared value}, or None for every trace of an erased row.
        self.forgotten: dict[tuple[str, str], dict[str, Any] | None] = {}
        self._wall = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")

    # -- mutable rows -------------------------------------------------------------------
    def insert(self, table: str, values: Mapping[str, Any], row_id: str | None = None) -> str:
        spec = _mutable(table)
        row_id = _new_id(row_id)
        content = spec.rules.enforce(values)
        check_values(spec, content)
        stamp = self.clock.now()
        written = sorted(name for name in spec.fields if name in content)
        row = {
            "id": row_id, **content, "updated_at": stamp, "device_id": self.clock.device,
            "field_clock": "{}", "deleted": 0,  # every field has the row's clock so far
        }
        self._insert_row(table, row)
        self._log(table, row_id, "insert", stamp, written)
        self.changes.created[table].add(row_id)
        return row_id

    def insert_many(self, table: str, rows: Sequence[Mapping[str, Any]]) -> list[str]:
        """`insert` for many rows, written with one statement per kind of row: an import of
        20,000 people spent half its time issuing statements one by one."""
        spec = _mutable(table)
        device = self.clock.device
        ids: list[str] = []
        # Runs of consecutive rows with the same columns, in order: rows keep their local
        # order (a household's people are listed as the file gave them).
        runs: list[tuple[tuple[str, ...], list[tuple[Any, ...]]]] = []
        outbox: list[tuple[str, ...]] = []
        audit: list[tuple[str, ...]] = []
        names_json: dict[tuple[str, ...], str] = {}
        for values in rows:
            row_id = _new_id(None)
            content = spec.rules.enforce(values)
            check_values(spec, content)
            stamp = self.clock.now()
            written = tuple(sorted(name for name in spec.fields if name in content))
            names = names_json.get(written)
            if names is None:
                names = names_json[written] = json.dumps(list(written))
            row = {"id": row_id, **content, "updated_at": stamp, "device_id": device,
                   "field_clock": "{}", "deleted": 0}
            columns = tuple(row)
            if not runs or runs[-1][0] != columns:
                runs.append((columns, []))
            runs[-1][1].append(tuple(row.values()))
            outbox.append((table, row_id, "insert", stamp, names, "{}"))
            audit.append((self._wall, stamp, device, self.actor, table, row_id, "insert", names))
            ids.append(row_id)
        for columns, values_list in runs:
            marks = ", ".join("?" for _ in columns)
            self.conn.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", values_list)
        self.conn.executemany(
            "INSERT INTO outbox (table_name, row_id, op, hlc, fields, base) "
            "VALUES (?, ?, ?, ?, ?, ?)", outbox)
        self.conn.executemany(
            "INSERT INTO audit_log (at, hlc, device_id, actor, table_name, row_id, action, fields)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", audit)
        self.changes.created[table].update(ids)
        return ids

    def update(self, table: str, row_id: str, values: Mapping[str, Any]) -> list[str]:
        """Write only the fields whose value differs; returns their names."""
        spec = _mutable(table)
        current = self.conn.execute(
            f"SELECT * FROM {table} WHERE id = ?", (row_id,)
        ).fetchone()
        if current is None:
            raise KeyError(f"{table} {row_id} does not exist")
        values = _ruled_values(spec, current, values)
        changed = [k for k, v in values.items() if current[k] != v]
        if not changed:
            return []
        check_values(spec, {k: values[k] for k in changed})
        stamp = self.clock.now()
        clocks = _advance(current, [n for n in changed if n in spec.fields], stamp)
        assignments = {k: values[k] for k in changed}
        assignments.update(
            updated_at=stamp, device_id=self.clock.device,
            field_clock=clocks,
        )
        sets = ", ".join(f"{k} = ?" for k in assignments)
        self.conn.execute(
            f"UPDATE {table} SET {sets} WHERE id = ?", (*assignments.values(), row_id)
        )
        synced_fields = sorted(n for n in changed if n in spec.fields)
        self._log(table, row_id, "update", stamp, synced_fields,
                  base=_clocks_before(table, current, synced_fields))
        self.changes.updated[table].add(row_id)
        self._note_rules(spec, row_id, current, values)
        return changed

    def delete(self, table: str, row_id: str, purge: Mapping[str, Any] | None = None) -> None:
        """Tombstone a row; `purge` overwrites personal fields in the same write. In a table
        that declares an erasure, a tombstone is that erasure: its cleared values are
        written too, and every trace of the row in the review lists goes."""
        spec = _mutable(table)
        check_values(spec, purge or {})
        current = self.conn.execute(f"SELECT * FROM {table} WHERE id = ?", (row_id,)).fetchone()
        if current is None:
            raise KeyError(f"{table} {row_id} does not exist")
        if spec.rules.erasure is not None:
            purge = {**(purge or {}), **spec.rules.erasure.values()}
        stamp = self.clock.now()
        touched = sorted({*(purge or {}), "deleted"})
        clocks = _advance(current, touched, stamp)
        values = {
            **(purge or {}), "deleted": 1, "updated_at": stamp, "device_id": self.clock.device,
            "field_clock": clocks,
        }
        sets = ", ".join(f"{k} = ?" for k in values)
        self.conn.execute(f"UPDATE {table} SET {sets} WHERE id = ?", (*values.values(), row_id))
        self._log(table, row_id, "delete", stamp, touched,
                  base=_clocks_before(table, current, touched))
        self.changes.deleted[table].add(row_id)
        self._note_rules(spec, row_id, current, values)

    def insert_reference(self, table: str, values: Mapping[str, Any], row_id: str) -> None:
        """A row every device ships with (the default catalogue): the same id and the same
        fixed clock everywhere, and no outbox entry, so devices never send it to each other
        and any real edit anywhere is newer."""
        check_values(_mutable(table), values)
        self._insert_row(table, {"id": _new_id(row_id), **values, "updated_at": SHIPPED_CLOCK,
                                 "device_id": "shipped", "field_clock": "{}", "deleted": 0})
        self.changes.created[table].add(row_id)

    # -- events -------------------------------------------------------------------------
    def append(self, table: str, values: Mapping[str, Any], row_id: str | None = None) -> str:
        spec = synced_table(table)
        if spec.kind != "event":
            raise TypeError(f"{table} is not an event table")
        row_id = _new_id(row_id)
        check_values(spec, values)
        stamp = self.clock.now()
        row = {"id": row_id, **values, "created_at": stamp, "device_id": self.clock.device}
        self._insert_row(table, row)
        # No audit entry: an event carries its own who (recorded_by) and when (created_at),
        # and a second copy per visit item doubled the size of a large workspace.
        self._log(table, row_id, "append", stamp, [], audit=False)
        self.changes.created[table].add(row_id)
        return row_id

    # -- records from elsewhere (sync) --------------------------------------------------
    def resend(self, table: str, row_id: str) -> bool:
        """Queue a row to be sent again as it is (repair after a digest mismatch): no new
        clock and no audit entry, since its content does not change. False if it is gone."""
        spec = synced_table(table)
        row = self.conn.execute(f"SELECT * FROM {table} WHERE id = ?", (row_id,)).fetchone()
        if row is None:
            return False
        stamp = row["updated_at"] if spec.kind == "mutable" else row["created_at"]
        self._log(table, row_id, "resend", stamp, (), audit=False)
        return True

    def apply_remote(self, record: Mapping[str, Any]) -> str:
        """Store a record received from the hub or a bundle: "applied" or "duplicate" (or,
        for an event whose id exists with other content, "conflict"). No outbox entry: it
        came from elsewhere. Same-field edits this device has not sent yet are recorded in
        sync_conflicts whichever side wins."""
        table, row_id = record["table"], record["id"]
        spec = synced_table(table)
        names = wire_fields(spec)
        fields = record["fields"]
        if set(fields) != set(names):
            raise ValueError(f"{table} record {row_id} has fields {sorted(fields)}")
        if spec.kind == "event":
            return self._apply_remote_event(table, row_id, record)
        clocks = record["clocks"]
        if set(clocks) != set(names):
            raise ValueError(f"{table} record {row_id} lacks clocks")
        self._observe(table, row_id, max(clocks.values()))  # the newest is the one that matters
        row = self.conn.execute(f"SELECT * FROM {table} WHERE id = ?", (row_id,)).fetchone()
        if row is None:
            fields = spec.rules.enforce(fields)  # a sender may not know the rules
            self._note_rules(spec, row_id, None, fields)
            updated_at, field_clock = compact_clocks(clocks)
            self._insert_row(table, {"id": row_id, **fields, "updated_at": updated_at,
                                     "device_id": Timestamp.parse(updated_at).device,
                                     "field_clock": field_clock})
            self._log_remote(table, row_id, "sync", updated_at, sorted(fields))
            kind = self.changes.deleted if fields["deleted"] else self.changes.created
            kind[table].add(row_id)
            return "applied"
        stored = {name: row[name] for name in names}
        stored_clocks = field_clocks(table, row)
        merged = merge_mutable(stored, stored_clocks, fields, clocks, spec.rules)
        self._note_conflicts(table, row_id, stored, stored_clocks, merged, fields, clocks)
        if not merged.changed:
            return "duplicate"
        updated_at, field_clock = compact_clocks(merged.clocks)
        values = {name: merged.fields[name] for name in merged.written}
        values.update(updated_at=updated_at, device_id=Timestamp.parse(updated_at).device,
                      field_clock=field_clock)
        sets = ", ".join(f"{k} = ?" for k in values)
        self.conn.execute(f"UPDATE {table} SET {sets} WHERE id = ?", (*values.values(), row_id))
        self._log_remote(table, row_id, "sync", updated_at, sorted(merged.written))
        deleted_now = merged.fields["deleted"] and not stored["deleted"]
        (self.changes.deleted if deleted_now else self.changes.updated)[table].add(row_id)
        self._note_rules(spec, row_id, row, merged.fields)
        return "applied"

    def apply_remote_many(self, table: str, records: Sequence[Mapping[str, Any]]) -> list[str]:
        """`apply_remote` for many records of one table: one read of the rows they touch and
        one statement per kind of write for the rows new here (most of a pull). Outcomes are
        those of applying them one by one. A bad record raises as `apply_remote` would, after
        partial writes: run it in a savepoint and retry one by one (dxkit.sync.apply)."""
        spec = synced_table(table)
        names = wire_fields(spec)
        expected = set(names)
        ids = [record["id"] for record in records]
        if len(set(ids)) != len(ids):  # the same row twice: the second merges with the first
            return [self.apply_remote(record) for record in records]
        existing = {row["id"] for row in select_in(
            self.conn, f"SELECT id FROM {table} WHERE id IN ({{marks}})", ids)}
        mutable = spec.kind == "mutable"
        ruled = spec.rules != NO_RULES
        values_of = operator.itemgetter(*names)  # the fields in column order, in C
        audited = json.dumps(sorted(names))  # every record of a table carries the same fields
        rows: list[tuple[Any, ...]] = []
        audit: list[tuple[Any, ...]] = []
        outcomes: list[str] = []
        newest = ""
        created, deleted = self.changes.created[table], self.changes.deleted[table]
        too_late = self.clock.first_unbelievable()  # checked as text: one compare a record
        for record in records:
            row_id = record["id"]
            if row_id in existing:
                outcomes.append(self.apply_remote(record))  # merges with what is here
                continue
            fields = record["fields"]
            if set(fields) != expected:
                raise ValueError(f"{table} record {row_id} has fields {sorted(fields)}")
            if ruled:  # a sender may not know the rules
                fields = spec.rules.enforce(fields)
                if spec.rules.is_erased(fields):  # the one rule a row new here can meet
                    self._note_rules(spec, row_id, None, fields)
            values = values_of(fields) if len(names) > 1 else (fields[names[0]],)
            if mutable:
                clocks = record["clocks"]
                if set(clocks) != expected:
                    raise ValueError(f"{table} record {row_id} lacks clocks")
                updated_at, field_clock = compact_clocks(clocks)
                device = Timestamp.parse(updated_at).device
                if updated_at >= too_late:
                    raise _clock_ahead(table, row_id, updated_at)
                rows.append((row_id, *values, updated_at, device, field_clock))
                audit.append((self._wall, updated_at, device, "sync", table, row_id, "sync",
                              audited))
                newest = max(newest, updated_at)
                (deleted if fields["deleted"] else created).add(row_id)
            else:
                stamp = record["created_at"]
                Timestamp.parse(stamp)  # a malformed clock is a bad record, as one by one
                if stamp >= too_late:
                    raise _clock_ahead(table, row_id, stamp)
                rows.append((row_id, *values, stamp, record["device_id"]))
                newest = max(newest, stamp)
                created.add(row_id)
            outcomes.append("applied")
        if rows:
            stamps = ("updated_at", "device_id", "field_clock") if mutable else (
                "created_at", "device_id")
            columns = ("id", *names, *stamps)
            self.conn.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})", rows)
        if audit:
            self.conn.executemany(
                "INSERT INTO audit_log (at, hlc, device_id, actor, table_name, row_id, action, "
                "fields) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", audit)
        if newest:
            self._observe(table, "", newest)  # believable: every record was checked above
        return outcomes

    def _apply_remote_event(self, table: str, row_id: str, record: Mapping[str, Any]) -> str:
        spec = synced_table(table)
        row = self.conn.execute(f"SELECT * FROM {table} WHERE id = ?", (row_id,)).fetchone()
        stored = {name: row[name] for name in spec.fields} if row is not None else None
        outcome = merge_event(stored, record["fields"])
        if outcome == "applied":
            self._observe(table, row_id, record["created_at"])
            self._insert_row(table, {"id": row_id, **record["fields"],
                                     "created_at": record["created_at"],
                                     "device_id": record["device_id"]})
            self.changes.created[table].add(row_id)
        return outcome

    def _observe(self, table: str, row_id: str, stamp: str) -> None:
        """Follow a received clock, or refuse the record that carries one too far ahead to
        believe (before anything of it is written): stored, it would beat every edit made
        here until that far-off day, and following it would carry this device's clock there."""
        if not self.clock.observe(stamp):
            raise _clock_ahead(table, row_id, stamp)

    def _note_conflicts(self, table: str, row_id: str, stored: Mapping[str, Any],
                        stored_clocks: Mapping[str, str], merged: FieldMerge,
                        incoming: Mapping[str, Any], incoming_clocks: Mapping[str, str]) -> None:
        """List a field edited here and not yet sent that the other side edited too.

        The other side edited it if its clock is newer than the version this device's edit
        was made on (the outbox `base`); an older incoming value is only that version coming
        back, not a rival edit."""
        base: dict[str, str] = {}
        for fields, bases in self.conn.execute(
                "SELECT fields, base FROM outbox WHERE table_name = ? AND row_id = ? "
                "ORDER BY seq", (table, row_id)):
            earlier = json.loads(bases)
            for name in json.loads(fields):
                base.setdefault(name, earlier.get(name, ""))
        for name, made_on in base.items():
            if name in merged.ruled:
                continue  # a table rule decided it (an erasure, no ID without consent)
            if Timestamp.parse(incoming_clocks[name]).device == self.clock.device:
                continue  # this device's own edit coming back (its push answer was lost)
            if name in merged.taken and stored[name] != incoming[name]:
                winner = "remote"
            elif name in merged.kept and incoming_clocks[name] > made_on:
                winner = "local"
            else:
                continue
            self.conn.execute(
                "INSERT INTO sync_conflicts (table_name, row_id, field, local_value, "
                "local_clock, remote_value, remote_clock, winner, detected_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (table, row_id, name, json.dumps(stored[name], ensure_ascii=False),
                 stored_clocks[name], json.dumps(incoming[name], ensure_ascii=False),
                 incoming_clocks[name], winner, self._wall))

    def _log_remote(self, table: str, row_id: str, op: str, stamp: str,
                    fields: Iterable[str]) -> None:
        self.conn.execute(
            "INSERT INTO audit_log (at, hlc, device_id, actor, table_name, row_id, action, fields)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (self._wall, stamp, Timestamp.parse(stamp).device, "sync", table, row_id, op,
             json.dumps(list(fields))))

    # -- the tables' rules ---------------------------------------------------------------
    def forget(self, table: str, row_id: str, cleared: Mapping[str, Any] | None) -> None:
        """Rid the review lists of values this transaction cleared: `cleared` maps fields to
        the value they hold now (their conflicts go, quarantined copies get the value);
        None: every trace of the row goes (an erasure). Done before commit."""
        key = (table, row_id)
        if cleared is None or self.forgotten.get(key, {}) is None:
            self.forgotten[key] = None
            return
        self.forgotten[key] = {**(self.forgotten.get(key) or {}), **cleared}

    def _note_rules(self, spec: SyncedTable, row_id: str, before: Any,
                    written: Mapping[str, Any]) -> None:
        """After a write of `written` over `before` (a stored row, or None for a row new
        here): an erasure is noted with the values it cleared, and a field a rule has just
        cleared is forgotten by the review lists."""
        rules = spec.rules
        if rules == NO_RULES:
            return
        old = None if before is None else {name: before[name] for name in wire_fields(spec)}
        after = {**(old or {}), **written}
        if rules.is_erased(after):
            if old is None:  # arrived erased: nothing of it was here, but earlier copies of
                self.forget(spec.name, row_id, None)  # it may wait in the review lists
            elif not rules.is_erased(old):
                self.erased[spec.name][row_id] = _erased_values(rules, old)
                self.forget(spec.name, row_id, None)
            return
        if old is None:
            return  # a row new here has nothing in the review lists that a rule must clear
        cleared = {rule.field: rule.empty for rule in rules.requires
                   if not after.get(rule.condition) and old[rule.condition]}
        if cleared:
            self.forget(spec.name, row_id, cleared)

    # -- plumbing -----------------------------------------------------------------------
    def _insert_row(self, table: str, row: Mapping[str, Any]) -> None:
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        self.conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(row.values()))

    def _log(self, table: str, row_id: str, op: str, stamp: str, fields: Iterable[str],
             audit: bool = True, base: Mapping[str, str] | None = None) -> None:
        """Outbox (and audit) entry. `base` keeps each edited field's clock from before the
        edit: the version this edit was made on, which tells a concurrent edit elsewhere from
        an old value coming back."""
        names = json.dumps(list(fields))
        self.conn.execute(
            "INSERT INTO outbox (table_name, row_id, op, hlc, fields, base) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (table, row_id, op, stamp, names, json.dumps(base or {}, sort_keys=True)),
        )
        if not audit:
            return
        self.conn.execute(
            "INSERT INTO audit_log (at, hlc, device_id, actor, table_name, row_id, action, fields)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (self._wall, stamp, self.clock.device, self.actor, table, row_id, op, names),
        )



def field_clocks(table: str, row: Mapping[str, Any]) -> dict[str, str]:
    """The HLC of each synced field's latest edit, for per-field merge.

    Stored compactly: `field_clock` lists only fields edited after the others, and "*" holds
    the clock all remaining fields share ("{}" until the first edit: they share updated_at).
    Writing a full map per row cost ~700 bytes per person at 300,000 people.
    """
    stored = json.loads(row["field_clock"])
    base = stored.get("*", row["updated_at"])
    return {name: stored.get(name, base) for name in wire_fields(synced_table(table))}


def wire_fields(spec: SyncedTable) -> tuple[str, ...]:
    """The fields a record carries: the registered ones, and the tombstone of mutable rows."""
    return (*spec.fields, "deleted") if spec.kind == "mutable" else spec.fields


def record_of(conn: sqlite3.Connection, table: str, row_id: str) -> dict[str, Any] | None:
    """A stored row as a sync record (docs/sync-protocol.md), or None if there is none."""
    row = conn.execute(f"SELECT * FROM {table} WHERE id = ?", (row_id,)).fetchone()
    return None if row is None else _record(synced_table(table), row)


def records_of(conn: sqlite3.Connection, table: str, row_ids: Iterable[str]
               ) -> dict[str, dict[str, Any]]:
    """`record_of` for many rows of one table, read a few hundred at a time; rows that are
    gone are absent from the result."""
    spec = synced_table(table)
    return {row["id"]: _record(spec, row) for row in select_in(
        conn, f"SELECT * FROM {table} WHERE id IN ({{marks}})", row_ids)}


def _record(spec: SyncedTable, row: Any) -> dict[str, Any]:  # a sqlite3.Row
    record: dict[str, Any] = {
        "table": spec.name, "id": row["id"], "kind": spec.kind, "device_id": row["device_id"],
        "fields": {name: row[name] for name in wire_fields(spec)},
    }
    if spec.kind == "mutable":
        record["clocks"] = field_clocks(spec.name, row)
    else:
        record["created_at"] = row["created_at"]
    return record


def _clock_ahead(table: str, row_id: str, stamp: str) -> BadClock:
    return BadClock("clock_ahead", f"{table} record {row_id} has a clock too far ahead of "
                                   f"this computer's time: {stamp}")


def _clocks_before(table: str, current: Mapping[str, Any], fields: Iterable[str]
                   ) -> dict[str, str]:
    clocks = field_clocks(table, current)
    return {name: clocks[name] for name in fields if name in clocks}


def _advance(current: Mapping[str, Any], fields: Iterable[str], stamp: str) -> str:
    clocks = json.loads(current["field_clock"])
    clocks.setdefault("*", current["updated_at"])
    clocks.update({name: stamp for name in fields})
    return json.dumps(clocks, sort_keys=True)


def _ruled_values(spec: SyncedTable, current: Mapping[str, Any], values: Mapping[str, Any]
                  ) -> dict[str, Any]:
    """A local edit's values with the table's rules applied to the row it makes, plus the
    fields those rules change in it (withdrawing consent clears the ID with it)."""
    if spec.rules == NO_RULES:
        return dict(values)
    row = {name: current[name] for name in wire_fields(spec)}
    ruled = spec.rules.enforce({**row, **values}, erased=spec.rules.is_erased(row))
    return {**dict(values), **{name: value for name, value in ruled.items()
                               if name in values or value != row[name]}}


def _erased_values(rules: Rules, before: Mapping[str, Any]) -> dict[str, Any]:
    """What an erasure cleared: the old values of its fields."""
    cleared = rules.erasure.cleared if rules.erasure else ()
    return {name: before[name] for name, _value in cleared}


def _new_id(row_id: str | None) -> str:
    """A new row's id: a fresh uuid7, or the one given (a uuid5, a lot code) if it is an id
    the hub takes (fields.ID_PATTERN)."""
    if row_id is None:
        return uuid7()
    if ID_PATTERN.fullmatch(row_id) is None:
        raise ValueError(f"{row_id!r} cannot be a row id")
    return row_id


def _mutable(table: str) -> SyncedTable:
    spec = synced_table(table)
    if spec.kind != "mutable":
        raise TypeError(f"{table} is an event table: append a correction instead of editing")
    return spec
