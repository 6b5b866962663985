"""Where an erased row's data could still hide after its fields are cleared, and how each
place is cleaned (Law 91/2025/QH15: a person's data, once deleted, is gone).

The merge rule (dxkit.core.merge.Erasure) clears the row itself on every replica and on the
hub. This module reaches the copies beside it:

- the review lists (sync_conflicts keeps both values of a conflict, sync_quarantine whole
  records): cleared in the erasing transaction (`forget_traces`);
- SQLite's own leftovers: the connection runs with `secure_delete` (store.connect), so freed
  space is zeroed; pages freed before that, and the planner's index samples (sqlite_stat4,
  when SQLite is built with it), are wiped in the same transaction (`scrub_pages`); the
  write-ahead log, which still holds the pages as they were, is checkpointed and truncated
  right after the commit (`truncate_journal`);
- copies of the whole file (backups): every module that keeps one registers a hook with
  `register_after_erasure`; it is called after each erasure commits with the workspace folder
  and the erased rows, and must purge or remove every copy that holds one of them
  (`drop_copies_holding` does the usual part). Pre-migration backups are removed that way
  (Workspace._drop_backups_holding).

Domains reach their own derived copies (a search index, a head of household's name) in their
commit hooks, from `Tx.erased`.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

from dxkit.core.synced import synced_table

ErasedRows = Mapping[str, Collection[str]]  # table -> ids erased
# Opens one copy of the workspace file read-only, with the workspace's key.
CopyOpener = Callable[[Path], sqlite3.Connection]
# Called with the workspace folder, the erased rows and how to open a copy of the file.
AfterErasure = Callable[[Path, ErasedRows, CopyOpener], None]
Forgotten = Mapping[tuple[str, str], Mapping[str, Any] | None]

_AFTER_ERASURE: list[AfterErasure] = []
REVIEW_TABLES = ("sync_conflicts", "sync_quarantine")  # they keep values of synced rows
WIPE_TABLE = "_dxkit_wipe"
WIPE_CHUNK_BYTES = 32 * 1024 * 1024  # zeros written per statement while wiping free pages


def register_after_erasure(hook: AfterErasure) -> AfterErasure:
    """`hook(workspace folder, erased rows)` runs after every erasure commits. A module that
    keeps copies of the workspace file (backups) must register one that purges or removes
    each copy holding an erased row, e.g. with `drop_copies_holding`."""
    if hook not in _AFTER_ERASURE:
        _AFTER_ERASURE.append(hook)
    return hook


def after_erasure_hooks() -> tuple[AfterErasure, ...]:
    return tuple(_AFTER_ERASURE)


# -- inside the erasing transaction ------------------------------------------------------------
def forget_traces(conn: sqlite3.Connection, forgotten: Forgotten) -> None:
    """Rid the review lists of what a rule cleared: every conflict and quarantined copy of an
    erased row (None), or for other rows the conflicts of the cleared fields and their values
    in quarantined copies."""
    whole = [key for key, cleared in forgotten.items() if cleared is None]
    conn.executemany("DELETE FROM sync_conflicts WHERE table_name = ? AND row_id = ?", whole)
    conn.executemany("DELETE FROM sync_quarantine WHERE table_name = ? AND row_id = ?", whole)
    for (table, row_id), cleared in forgotten.items():
        if cleared:
            marks = ", ".join("?" * len(cleared))
            conn.execute("DELETE FROM sync_conflicts WHERE table_name = ? AND row_id = ? "
                         f"AND field IN ({marks})", (table, row_id, *cleared))
            _scrub_quarantined(conn, table, row_id, cleared)


def _scrub_quarantined(conn: sqlite3.Connection, table: str, row_id: str,
                       cleared: Mapping[str, Any]) -> None:
    """Quarantined copies of a row keep their place in the review list with the cleared
    values; a copy whose fields cannot be read is removed (it cannot be proven clean)."""
    for entry_id, text in conn.execute(
            "SELECT id, record FROM sync_quarantine WHERE table_name = ? AND row_id = ?",
            (table, row_id)).fetchall():
        record = _parsed(text)
        fields = record.get("fields") if isinstance(record, dict) else None
        if not isinstance(record, dict) or not isinstance(fields, dict):
            conn.execute("DELETE FROM sync_quarantine WHERE id = ?", (entry_id,))
            continue
        fields.update((name, value) for name, value in cleared.items() if name in fields)
        conn.execute("UPDATE sync_quarantine SET record = ? WHERE id = ?",
                     (json.dumps(record, ensure_ascii=False, default=str), entry_id))


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def scrub_pages(conn: sqlite3.Connection) -> None:
    """Before an erasure commits: the places SQLite keeps copies of values it no longer
    uses. Index samples for the planner (sqlite_stat4, only in builds that have it) are
    dropped — the planner falls back to sqlite_stat1 — and free pages are overwritten with
    zeros, for pages freed before secure_delete was on (an older dxkit, another tool)."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat4'").fetchone():
        conn.execute("DELETE FROM sqlite_stat4")
    wipe_free_pages(conn)


def wipe_free_pages(conn: sqlite3.Connection) -> None:
    """Take every free page into a blob of zeros, then free them again (zeroed once more by
    secure_delete): cost in proportion to the free pages, not to the file like VACUUM."""
    if not _free_pages(conn):
        return
    page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    per_page = page_size - 4  # an overflow page holds its next page's number, then data
    conn.execute(f"CREATE TABLE {WIPE_TABLE} (zeros BLOB)")
    while free := _free_pages(conn):
        pages = min(free, max(1, WIPE_CHUNK_BYTES // per_page))
        conn.execute(f"INSERT INTO {WIPE_TABLE} VALUES (zeroblob(?))", (pages * per_page,))
    conn.execute(f"DROP TABLE {WIPE_TABLE}")


def _free_pages(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA freelist_count").fetchone()[0])


# -- after the commit ---------------------------------------------------------------------------
def truncate_journal(conn: sqlite3.Connection) -> bool:
    """Copy the write-ahead log into the database and cut it to nothing: it still holds the
    pages as they were before the erasure. False if a reader kept it from finishing (try
    again later: Workspace does, after its next write and when it closes)."""
    busy, _log, _copied = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return not busy


def drop_copies_holding(copies: Iterable[Path], erased: ErasedRows, opener: CopyOpener,
                        errors: tuple[type[Exception], ...] = (sqlite3.Error,)) -> list[Path]:
    """Remove each copy of the workspace (a backup) that still holds one of the erased rows;
    returns those removed. `opener` opens a copy read-only (with the workspace's key), and
    `errors` are the database errors it may raise. A copy that cannot be read is removed
    too: it cannot be shown not to hold them. Copies without any of the rows stay."""
    removed = []
    for path in copies:
        if path.is_file() and _holds_any(path, erased, opener, errors):
            path.unlink()
            removed.append(path)
    return removed


def _holds_any(path: Path, erased: ErasedRows, opener: CopyOpener,
               errors: tuple[type[Exception], ...]) -> bool:
    try:
        conn = opener(path)
    except errors:
        return True
    try:
        return any(_table_holds(conn, table, ids) for table, ids in erased.items() if ids)
    except errors:
        return True
    finally:
        with contextlib.suppress(*errors):
            conn.close()


def _table_holds(conn: sqlite3.Connection, table: str, ids: Collection[str]) -> bool:
    """Whether the copy has one of these rows not yet erased there."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                        (table,)).fetchone():
        return False  # made before the table existed: the rows cannot be in it
    erasure = synced_table(table).rules.erasure
    live = f" AND NOT {erasure.flag}" if erasure else ""
    wanted = sorted(ids)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        if conn.execute(f"SELECT 1 FROM {table} WHERE id IN ({marks}){live} LIMIT 1",
                        chunk).fetchone():
            return True
    return False
