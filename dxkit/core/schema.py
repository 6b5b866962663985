"""The kernel's own tables and the helpers domain migrations use.

Each domain declares its numbered migrations in its `domain.py`; names are global and the kernel
applies all of them in name order (store.migrate), each in one transaction with its record.
Append new migrations with the next free number; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3

from sqlite_utils import Database

from dxkit.core.domain import migration

# Columns every synced row carries (DESIGN.md "sync-ready rows").
MUTABLE_SYNC_COLUMNS = """
    updated_at TEXT NOT NULL,              -- hybrid logical clock of the latest edit
    device_id TEXT NOT NULL,               -- device that made the latest edit
    field_clock TEXT NOT NULL DEFAULT '{}', -- JSON: field -> HLC of its latest edit
    deleted INTEGER NOT NULL DEFAULT 0     -- tombstone instead of a hard delete
"""
EVENT_SYNC_COLUMNS = """
    created_at TEXT NOT NULL,              -- hybrid logical clock when recorded
    device_id TEXT NOT NULL
"""


@migration("0000_kernel")
def m0000_kernel(db: Database) -> None:
    """Settings, the outbox and the audit log. They were part of 0001_initial before the
    domains had their own migrations, hence IF NOT EXISTS: on those workspaces this is a no-op."""
    run_script(db, """
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

    -- Written in the same transaction as each change; the sync engine drains it.
    CREATE TABLE IF NOT EXISTS outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, table_name TEXT NOT NULL, row_id TEXT NOT NULL,
        op TEXT NOT NULL, hlc TEXT NOT NULL, fields TEXT NOT NULL DEFAULT '[]');

    -- Who changed what and when. Field names only: values would copy personal data.
    CREATE TABLE IF NOT EXISTS audit_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, hlc TEXT NOT NULL,
        device_id TEXT NOT NULL, actor TEXT NOT NULL, table_name TEXT NOT NULL,
        row_id TEXT NOT NULL, action TEXT NOT NULL, fields TEXT NOT NULL DEFAULT '[]');
    CREATE INDEX IF NOT EXISTS audit_row ON audit_log(row_id);

    """)


@migration("0005_sync_review")
def m0005_sync_review(db: Database) -> None:
    """What sync leaves for a person to look at: same-field edits from two devices, and
    records the hub refused (docs/sync-protocol.md)."""
    run_script(db, """
    CREATE TABLE sync_conflicts (
        id INTEGER PRIMARY KEY, table_name TEXT NOT NULL, row_id TEXT NOT NULL,
        field TEXT NOT NULL, local_value TEXT, local_clock TEXT NOT NULL,
        remote_value TEXT, remote_clock TEXT NOT NULL,
        winner TEXT NOT NULL CHECK (winner IN ('local', 'remote')),
        detected_at TEXT NOT NULL, resolved_at TEXT);
    CREATE INDEX sync_conflicts_open ON sync_conflicts(resolved_at, row_id);
    CREATE TABLE sync_quarantine (
        id INTEGER PRIMARY KEY, table_name TEXT NOT NULL, row_id TEXT NOT NULL,
        direction TEXT NOT NULL CHECK (direction IN ('push', 'pull')),
        reason TEXT NOT NULL, record TEXT NOT NULL, at TEXT NOT NULL);
    """)


@migration("0006_outbox_base_clocks")
def m0006_outbox_base_clocks(db: Database) -> None:
    """Each outbox entry keeps the clocks its fields had before the edit, so sync can tell a
    rival edit from an old value coming back (synced.Tx._note_conflicts)."""
    run_script(db, "ALTER TABLE outbox ADD COLUMN base TEXT NOT NULL DEFAULT '{}';")



KERNEL_MIGRATIONS = (m0000_kernel, m0005_sync_review, m0006_outbox_base_clocks)


def run_script(db: Database, script: str) -> None:
    """Run statements one by one: sqlite3's executescript would COMMIT the open transaction."""
    statement = ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--") and not statement.strip():
            continue
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement in migration: {statement[:80]!r}")
