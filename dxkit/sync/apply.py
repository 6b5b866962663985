"""Records from elsewhere, into the workspace: the part of sync that needs no network.

A network pull (engine.py), a USB bundle (bundle.py) and a repair fetch (repair.py) all hand
their records here. Each record is first checked against its table's declared field types
(the same check the hub runs on a push): one that does not fit — a hub may hold rows stored
before it checked them — is quarantined with its reason ("too_long:notes") and never reaches
the database. A batch of one table is then applied in one go (`Tx.apply_remote_many`); if any
record in it still cannot be stored, the batch is rolled back to its savepoint and applied
again one record at a time, each in its own savepoint, so the bad record is quarantined with
its reason and the rest go on. Pull cursors are saved in the same transaction as the batch
they follow.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dxkit.core import store
from dxkit.core.fields import ID_PATTERN
from dxkit.core.hlc import BadClock
from dxkit.core.merge import NO_RULES
from dxkit.core.synced import REGISTRY, Changes, SyncedTable, Tx, field_problem
from dxkit.core.workspace import HUB_TEAM_KIND_META, HUB_TEAM_META
from dxkit.workspace import Workspace

# The workspace's sync state in its meta table.
META_SERVER = "sync_server"
META_DEVICE = "sync_device_id"
META_DEVICE_NAME = "sync_device_name"
META_TEAM = HUB_TEAM_META  # named by the kernel: the farm's trace URLs read it too
META_PROVINCE = "sync_province_code"
META_COMMUNE = "sync_commune_code"
META_HAMLET = "sync_hamlet"
META_TEAM_KIND = HUB_TEAM_KIND_META  # "hamlet" or "commune"; read by the catalog too
META_ENROLLED_AT = "sync_enrolled_at"
META_TOKEN_STORE = "sync_token_store"
META_HIGH_WATER = "sync_high_water"  # every table is pulled up to this hub seq
META_REFUSED = "sync_refused_at"  # the hub refused the token at this time
META_LAST_SYNC = "last_sync_at"
CURSOR_PREFIX = "sync_cursor:"

# What applying raises for a record it cannot store; anything else is a bug to surface.
# Workspace connections are sqlcipher3's (store.Error names both its errors and sqlite3's).
# OverflowError: an integer sqlite3 cannot bind (over 2**63), wherever the type check missed it.
BAD_RECORD_ERRORS: tuple[type[Exception], ...] = (ValueError, KeyError, TypeError,
                                                 AttributeError, OverflowError, *store.Error)
BATCH = 500  # records of one table applied together (a pull page, a slice of a bundle)


@dataclass
class Applied:
    """Outcomes of applying records: stored (changed this workspace), already here, held
    back in sync_quarantine with a reason."""

    applied: int = 0
    duplicate: int = 0
    quarantined: int = 0

    @property
    def received(self) -> int:
        return self.applied + self.duplicate + self.quarantined

    def count(self, outcome: str) -> None:
        if outcome == "applied":
            self.applied += 1
        elif outcome == "duplicate":
            self.duplicate += 1
        else:
            self.quarantined += 1


def apply_records(tx: Tx, table: str, records: Sequence[Any], direction: str = "pull"
                  ) -> list[str]:
    """Apply records that claim to belong to `table`, inside the caller's transaction.
    Returns each one's outcome: "applied", "duplicate" or "quarantined"."""
    outcomes: list[str | None] = [None] * len(records)
    wanted: list[int] = []
    spec = REGISTRY.get(table)
    for index, record in enumerate(records):
        problem: str | None = "wrong_table"
        if isinstance(record, dict) and record.get("table") == table:  # dict: JSON's objects
            problem = record_problem(spec, record) if spec is not None else None
        if problem is None:
            wanted.append(index)
        else:
            quarantine(tx.conn, record, direction, problem)
            outcomes[index] = "quarantined"
    batch = [records[i] for i in wanted]
    for index, outcome in zip(wanted, _apply_batch(tx, table, batch, direction), strict=True):
        outcomes[index] = outcome
    return [outcome or "quarantined" for outcome in outcomes]


def record_problem(spec: SyncedTable, record: Mapping[str, Any]) -> str | None:
    """Why a record of `spec` must not be applied, as the quarantine keeps it, or None: an id
    no row can have, a field missing or extra, or a value outside its declared type."""
    row_id = record.get("id")
    if type(row_id) is not str or ID_PATTERN.fullmatch(row_id) is None:
        return "bad_id"
    fields = record.get("fields")
    if type(fields) is not dict or fields.keys() != spec.wire_types.keys():
        return "wrong_fields"  # (`type`: isinstance of an ABC costs more than the check)
    problem = field_problem(spec, fields)
    return None if problem is None else problem.code


def apply_stream(tx: Tx, records: Iterable[Any], tally: Applied,
                 direction: str = "pull") -> Iterator[int]:
    """Apply records of any tables in the order given (a bundle: parents before children),
    in runs of one table; yields the running count after each run, for progress."""
    run: list[Any] = []
    table: Any = None
    for record in records:
        name = record.get("table") if isinstance(record, dict) else None
        if run and (name != table or len(run) >= BATCH):
            _tally(tally, apply_records(tx, table, run, direction) if isinstance(
                table, str) else _refuse(tx, run, direction))
            yield tally.received
            run = []
        table = name
        run.append(record)
    if run:
        _tally(tally, apply_records(tx, table, run, direction) if isinstance(
            table, str) else _refuse(tx, run, direction))
        yield tally.received


def apply_pulled_page(ws: Workspace, table: str, records: Sequence[Any], next_cursor: int,
                      tally: Applied) -> Changes:
    """One pulled page and the table's cursor after it, in one transaction: an interruption
    re-fetches at most this page."""
    with ws.transaction() as tx:
        _tally(tally, apply_records(tx, table, records))
        ws.set_meta(CURSOR_PREFIX + table, str(next_cursor))
    return tx.changes


def quarantine(conn: sqlite3.Connection, record: Any, direction: str, reason: str) -> None:
    """Hold a record back with its reason; it never blocks the rest (the review screen)."""
    table = record.get("table") if isinstance(record, Mapping) else None
    row_id = record.get("id") if isinstance(record, Mapping) else None
    conn.execute(
        "INSERT INTO sync_quarantine (table_name, row_id, direction, reason, record, at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (_storable(table if isinstance(table, str) else ""),
         _storable(row_id if isinstance(row_id, str) else ""), direction,
         _storable(reason[:1000]),
         _storable(json.dumps(_ruled(conn, record), ensure_ascii=False, default=str)),
         dt.datetime.now(dt.UTC).isoformat(timespec="seconds")))


def _ruled(conn: sqlite3.Connection, record: Any) -> Any:
    """A record as the review list may keep it: its table's rules hold in it too (no ID
    without consent), and a copy of a row erased here keeps nothing the erasure cleared."""
    if not isinstance(record, Mapping) or not isinstance(record.get("fields"), Mapping):
        return record
    table = record.get("table")
    spec = REGISTRY.get(table) if isinstance(table, str) else None
    if spec is None or spec.rules == NO_RULES:
        return record
    erased = spec.rules.erasure is not None and _erased_here(conn, spec.name, record.get("id"),
                                                             spec.rules.erasure.flag)
    return {**record, "fields": spec.rules.enforce(record["fields"], erased=erased)}


def _erased_here(conn: sqlite3.Connection, table: str, row_id: Any, flag: str) -> bool:
    if not isinstance(row_id, str):
        return False
    row = conn.execute(f"SELECT {flag} FROM {table} WHERE id = ?", (row_id,)).fetchone()
    return bool(row and row[0])


def _storable(text: str) -> str:
    """Text SQLite can store: a lone surrogate (the very thing a record may be held back
    for) is written as its escape, \\ud800, instead of failing the whole transaction."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def apply_one(tx: Tx, table: str, record: Any, direction: str = "pull") -> str:
    """`Tx.apply_remote` inside a savepoint: a record that cannot be stored is quarantined and
    leaves no trace, and the rest of the batch goes on."""
    conn = tx.conn
    if not isinstance(record, Mapping) or record.get("table") != table:
        quarantine(conn, record, direction, "wrong_table")
        return "quarantined"
    conn.execute("SAVEPOINT pulled_record")
    try:
        outcome = tx.apply_remote(record)
    except BAD_RECORD_ERRORS as exc:
        conn.execute("ROLLBACK TO pulled_record")
        conn.execute("RELEASE pulled_record")
        quarantine(conn, record, direction, _reason(exc))
        return "quarantined"
    conn.execute("RELEASE pulled_record")
    if outcome == "conflict":
        quarantine(conn, record, direction, "conflict")
        return "quarantined"
    return outcome


def _apply_batch(tx: Tx, table: str, records: list[Any], direction: str) -> list[str]:
    if not records:
        return []
    conn = tx.conn
    # What the transaction had noted for this table (the only one a batch touches), to put
    # back if the batch is undone: screens and commit hooks must not see rows never stored.
    noted = [set(kind.get(table, ())) for kind in _kinds(tx.changes)]
    conn.execute("SAVEPOINT pulled_batch")
    try:
        outcomes = tx.apply_remote_many(table, records)
    except BAD_RECORD_ERRORS:
        # Some record cannot be stored: undo the batch and find it one record at a time.
        conn.execute("ROLLBACK TO pulled_batch")
        conn.execute("RELEASE pulled_batch")
        for kind, ids in zip(_kinds(tx.changes), noted, strict=True):
            kind[table] = ids
        return [apply_one(tx, table, record, direction) for record in records]
    conn.execute("RELEASE pulled_batch")
    for index, outcome in enumerate(outcomes):
        if outcome == "conflict":  # an event whose id is here with other content
            quarantine(conn, records[index], direction, "conflict")
            outcomes[index] = "quarantined"
    return outcomes


def _reason(exc: Exception) -> str:
    """A refused clock keeps its machine code (dxkit.sync.clocks retries those records once
    the clock can be believed); other errors say what they are."""
    if isinstance(exc, BadClock):
        return f"{exc.reason}: {exc}"
    return f"{type(exc).__name__}: {exc}"


def _kinds(changes: Changes) -> tuple[dict[str, set[str]], ...]:
    return changes.created, changes.updated, changes.deleted


def _refuse(tx: Tx, records: list[Any], direction: str) -> list[str]:
    for record in records:
        quarantine(tx.conn, record, direction, "unknown_table")
    return ["quarantined"] * len(records)


def _tally(tally: Applied, outcomes: Iterable[str]) -> None:
    for outcome in outcomes:
        tally.count(outcome)
