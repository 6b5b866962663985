"""The workspace's SQLite file: recognise it, open it safely, migrate it.

A file that is not a dxkit workspace, is damaged, or was made by a newer dxkit is refused
before anything writes to it.

Workspace files are SQLCipher databases (the `sqlcipher3` package: SQLite with every page
encrypted, AES-256 and an HMAC per page), opened with the workspace's key (dxkit/core/keys.py,
dxkit/core/encryption.py). `connect` is the one way to open one — the workspace itself, its
backups, a copy — so a file is never opened without its key or created readable by others.
sqlcipher3 is the DB-API of Python's sqlite3 module built on SQLCipher: its connections,
cursors and rows behave like sqlite3's and are typed as such here, but its exception classes
are its own, so code that catches database errors catches `store.Error` (both kinds).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Literal, cast

from sqlcipher3 import dbapi2 as sqlcipher
from sqlite_utils import Database, Migrations

from dxkit.core import erasure
from dxkit.core.domain import Migration
from dxkit.core.errors import WorkspaceError
from dxkit.core.i18n import _
from dxkit.core.keys import DatabaseKey
from dxkit.core.private import create_private_file, make_private_dir

MIGRATION_SET = "dxkit"  # sqlite-utils' name for our one ordered set, kept from before domains

DB_FILENAME = "dxkit.sqlite"
APPLICATION_ID = 0x44584B31  # "DXK1" in the SQLite header marks a dxkit workspace
SQLITE_MAGIC = b"SQLite format 3\x00"
# Every page read is decrypted and its HMAC checked, so a full check at open costs more than
# on a plain file: only files a laptop reads (and decrypts) in well under a second.
QUICK_CHECK_MAX_BYTES = 64 * 1024 * 1024
BACKUP_FOLDER = "backups"

# Database errors of workspace connections (sqlcipher3) and of the standard module (the hub).
Error: tuple[type[Exception], ...] = (sqlite3.Error, sqlcipher.Error)
DatabaseError: tuple[type[Exception], ...] = (sqlite3.DatabaseError, sqlcipher.DatabaseError)
IntegrityError: tuple[type[Exception], ...] = (sqlite3.IntegrityError, sqlcipher.IntegrityError)
OperationalError: tuple[type[Exception], ...] = (sqlite3.OperationalError,
                                                 sqlcipher.OperationalError)
FileKind = Literal["missing", "plain", "encrypted"]


def file_kind(db_path: Path) -> FileKind:
    """What the file's first bytes say: nothing yet, a plain SQLite file (an older dxkit's
    workspace, or not ours at all), or something else (encrypted, or not a database)."""
    if not db_path.exists() or db_path.stat().st_size == 0:
        return "missing"
    with db_path.open("rb") as handle:
        header = handle.read(len(SQLITE_MAGIC))
    return "plain" if header == SQLITE_MAGIC else "encrypted"


def check_existing(db_path: Path, known: Sequence[str], key: DatabaseKey | None = None
                   ) -> None:
    """Refuse a file that is not a dxkit workspace, is damaged, or is too new (a migration
    name outside `known`). Reads only. `key`: the workspace's key (None: a plain file)."""
    kind = file_kind(db_path)
    if kind == "missing":
        return
    if (kind == "plain") != (key is None):
        raise WorkspaceError(
            _("{path} is not a dxkit workspace (it is not a database, or it is damaged). "
              "It was left untouched.").format(path=db_path)
        )
    try:
        conn = connect(db_path, key, read_only=True)
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            if app_id == APPLICATION_ID and db_path.stat().st_size <= QUICK_CHECK_MAX_BYTES:
                # Damage anywhere (a truncated copy, overwritten pages) shows here, before
                # any write could make it worse. Cost: one read of the file, so only for
                # files a laptop reads in well under a second; larger ones report damage
                # when the damaged page is read.
                problems = [r[0] for r in conn.execute("PRAGMA quick_check(5)")]
                if problems != ["ok"]:
                    raise sqlcipher.DatabaseError("; ".join(problems))
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
    except DatabaseError as exc:
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


CACHE_KIB = 32 * 1024  # per connection, allocated only as pages are read


def connect(db_path: Path, key: DatabaseKey | None, *, read_only: bool = False
            ) -> sqlite3.Connection:
    """THE way to open a workspace database file — the workspace, a backup, a copy — with the
    workspace's `key` (None only for a plain file from before encryption, to convert it).

    A missing file is created 0600 first, so SQLite (which gives -wal and -shm the database
    file's mode) never makes a readable one. `read_only` opens without writing anything, not
    even -wal/-shm files when the database was closed cleanly. Transactions are explicit
    (isolation_level=None). Raises store.DatabaseError for a wrong key or a damaged file."""
    if read_only:
        # Without a -wal file (closed cleanly, or not ours) read it as immutable: a read-only
        # open of a WAL database would otherwise create -wal/-shm files beside it.
        wal = db_path.with_name(db_path.name + "-wal")
        mode = "mode=ro" if wal.exists() else "immutable=1"
        target, uri = f"{db_path.resolve().as_uri()}?{mode}", True
    else:
        make_private_dir(db_path.parent)
        create_private_file(db_path)
        target, uri = str(db_path), False
    raw = sqlcipher.connect(target, uri=uri, isolation_level=None, check_same_thread=False,
                            timeout=10)
    try:
        # SQLCipher logs a failed page check on stderr; a wrong key is reported as a sentence.
        raw.execute("PRAGMA cipher_log_level = NONE")
        if key is not None:
            raw.execute(f"PRAGMA key = {key.pragma_value()}")
        raw.row_factory = sqlcipher.Row
        # The first read of the file: a wrong key or a damaged first page fails here.
        raw.execute("SELECT count(*) FROM sqlite_master").fetchone()
        raw.execute("PRAGMA foreign_keys = ON")
        raw.execute("PRAGMA busy_timeout = 10000")
        # NORMAL is safe with WAL: a power cut may lose the last commits but never corrupts.
        raw.execute("PRAGMA synchronous = NORMAL")
        # Deleted and overwritten content is zeroed, not left in free space: an erased
        # person's data must not stay readable in the file (dxkit/core/erasure.py).
        raw.execute("PRAGMA secure_delete = ON")
        # SQLCipher decrypts a page each time it enters the cache: with SQLite's 2 MB default
        # a sync batch re-reads (and re-decrypts) the same index pages; 32 MB keeps them.
        raw.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    except BaseException:
        raw.close()
        raise
    # sqlcipher3 has no type information; its connection is the sqlite3 DB-API.
    return cast(sqlite3.Connection, raw)


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


def copy_opener(key: DatabaseKey | None) -> erasure.CopyOpener:
    """Opens a closed copy of the workspace file (a backup) read-only with its key."""
    return lambda path: connect(path, key, read_only=True)


def copy_workspace_file(db_path: Path, target: Path, key: DatabaseKey | None) -> None:
    """Consistent copy of a live database with SQLite's online backup API (dxkit.core.backup
    and tests), encrypted with the same key (the backup API copies pages between two
    databases of one key). The copy is one self-contained file (rollback journal, not WAL):
    nothing appears beside it when it is opened later."""
    source = connect(db_path, key)
    try:
        dest = connect(target, key)
        try:
            source.backup(dest)
            # The backup copies the source's header, WAL flag included.
            dest.execute("PRAGMA journal_mode = DELETE")
        finally:
            dest.close()
    finally:
        source.close()
