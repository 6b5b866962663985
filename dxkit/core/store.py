"""The workspace's SQLite file: recognise it, open it safely, migrate it.

A file that is not a dxkit workspace, is damaged, or was made by a newer dxkit is refused
before anything writes to it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from sqlite_utils import Database, Migrations

from dxkit.core.domain import Migration
from dxkit.core.errors import WorkspaceError
from dxkit.core.i18n import _

MIGRATION_SET = "dxkit"  # sqlite-utils' name for our one ordered set, kept from before domains

DB_FILENAME = "dxkit.sqlite"
APPLICATION_ID = 0x44584B31  # "DXK1" in the SQLite header marks a dxkit workspace
SQLITE_MAGIC = b"SQLite format 3\x00"
QUICK_CHECK_MAX_BYTES = 256 * 1024 * 1024


def check_existing(db_path: Path, known: Sequence[str]) -> None:
    """Refuse a file that is not a dxkit workspace, is damaged, or is too new (a migration
    name outside `known`). Reads only."""
    if not db_path.exists() or db_path.stat().st_size == 0:
        return
    with db_path.open("rb") as handle:
        header = handle.read(100)
    if not header.startswith(SQLITE_MAGIC):
        raise WorkspaceError(
            _("{path} is not a dxkit workspace (it is not a database, or it is damaged). "
              "It was left untouched.").format(path=db_path)
        )
    # Without a -wal file (the file was closed cleanly, or is not ours) read it as immutable:
    # a read-only open of a WAL database would otherwise create -wal/-shm files beside it.
    wal = db_path.with_name(db_path.name + "-wal")
    mode = "mode=ro" if wal.exists() else "immutable=1"
    try:
        uri = f"{db_path.resolve().as_uri()}?{mode}"
        conn = sqlite3.connect(uri, uri=True)
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            if app_id == APPLICATION_ID and db_path.stat().st_size <= QUICK_CHECK_MAX_BYTES:
                # Damage anywhere (a truncated copy, overwritten pages) shows here, before
                # any write could make it worse. Cost: one read of the file, so only for
                # files a laptop reads in well under a second; larger ones report damage
                # when the damaged page is read.
                problems = [r[0] for r in conn.execute("PRAGMA quick_check(5)")]
                if problems != ["ok"]:
                    raise sqlite3.DatabaseError("; ".join(problems))
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            has_log = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE name = '_sqlite_migrations'"
            ).fetchone()
            applied = (
                [r[0] for r in conn.execute(
                    "SELECT name FROM _sqlite_migrations WHERE migration_set = 'dxkit'")]
                if has_log else []
            )
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise WorkspaceError(
            _("The workspace database {path} is damaged and cannot be opened ({detail}). "
              "It was left untouched; restore it from a backup.").format(path=db_path, detail=exc)
        ) from exc
    if app_id != APPLICATION_ID:
        raise WorkspaceError(
            _("{path} is a database, but not a dxkit workspace. It was left untouched.").format(
                path=db_path)
        )
    unknown = set(applied) - set(known)
    if version > len(known) or unknown:
        # Unknown migration names mean a newer data version even if user_version lags behind.
        found = max(version, len(set(applied)))
        raise WorkspaceError(
            _("This workspace was made by a newer version of dxkit (data version {found}; this "
              "version understands up to {known}). Install the newer dxkit to open it.").format(
                found=found, known=len(known))
        )


def connect(db_path: Path) -> sqlite3.Connection:
    """A connection with our pragmas. Transactions are explicit (isolation_level=None)."""
    conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False, timeout=10)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 10000")
    # NORMAL is safe with WAL: a power cut may lose the last commits but never corrupts.
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def ordered(migrations: Iterable[Migration]) -> list[Migration]:
    """Every domain's migrations in global name order; a name used twice is a programming
    error (two domains took the same number)."""
    found = sorted(migrations, key=lambda m: m.name)
    names = [m.name for m in found]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"two migrations share a name: {twice}")
    return found


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration],
            backup: Callable[[str], object] | None = None) -> list[str]:
    """Apply pending migrations in name order, each in its own transaction. A workspace that
    already holds data is backed up first (`backup(first pending name)`). `user_version`
    counts the migrations applied, so an older dxkit can tell."""
    db = Database(conn)
    runner = Migrations(MIGRATION_SET)
    for step in ordered(migrations):
        runner(name=step.name)(step.apply)
    pending = runner.pending(db)
    if not pending:
        return []
    if backup is not None and conn.execute("PRAGMA user_version").fetchone()[0] > 0:
        backup(pending[0].name)
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        conn.execute("PRAGMA journal_mode = WAL")
    applied: list[str] = []
    for pending_step in pending:
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Inside the transaction: a crash on first open leaves an empty file, not a
            # half-made one that a later open would refuse as foreign.
            runner.ensure_migrations_table(db)
            pending_step.fn(db)
            runner._record_applied(db, pending_step.name)
            done = conn.execute("SELECT count(*) FROM _sqlite_migrations WHERE migration_set = ?",
                                (MIGRATION_SET,)).fetchone()[0]
            conn.execute(f"PRAGMA user_version = {int(done)}")
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.append(pending_step.name)
    # Put the new header into the main file so the next open can recognise it from its bytes.
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return applied


def copy_workspace_file(db_path: Path, target: Path) -> None:
    """Consistent copy of a live database with SQLite's online backup API (dxkit.core.backup
    and tests). Both ends go through `connect`, so they are opened like the workspace itself.
    The copy is one self-contained file (rollback journal, not WAL): nothing appears beside it
    when it is opened later."""
    source = connect(db_path)
    try:
        dest = connect(target)
        try:
            source.backup(dest)
            # The backup copies the source's header, WAL flag included.
            dest.execute("PRAGMA journal_mode = DELETE")
        finally:
            dest.close()
    finally:
        source.close()
