"""Where the hub keeps its data: an embedded SQLite file, or a PostgreSQL server (psycopg 3).

HubStore writes plain SQL with `?` placeholders against a `Conn`; this module hides the rest:
placeholders, how writers are serialised, how a read gets one snapshot, and how migrations
are recorded. `open_database("hub.sqlite")` or `open_database("postgresql://…")`.

- Writers are serialised on both: BEGIN IMMEDIATE on SQLite; on PostgreSQL a transaction-wide
  advisory lock taken first, so a writer reads what the previous one committed and the hub's
  seq values become visible in order.
- A snapshot is BEGIN (SQLite, WAL) or REPEATABLE READ READ ONLY (PostgreSQL): several
  SELECTs see one state of the database.
- One connection per thread, as the ASGI app runs every store call in its thread pool.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlite_utils import Database, Migrations

from dxkit.core.errors import DxError
from dxkit.core.i18n import _
from dxkit.core.private import create_private_file, make_private_dir, tighten

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
WRITER_LOCK = 7_301_946  # the advisory lock key every hub writer takes on PostgreSQL


def is_postgres_url(db: str | Path) -> bool:
    return isinstance(db, str) and db.startswith(POSTGRES_SCHEMES)


@dataclass(frozen=True)
class Migration:
    """One numbered step of the hub schema; `apply` runs inside the migration's transaction."""

    name: str
    apply: Callable[[Conn], None]


class Conn:
    """One database connection speaking `?` placeholders whatever the engine."""

    def __init__(self, raw: Any, postgres: bool):
        self.raw = raw
        self.postgres = postgres

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        if self.postgres:
            return self.raw.execute(_pg_sql(sql), params) if params is not None else \
                self.raw.execute(sql)
        return self.raw.execute(sql, params or ())

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if self.postgres:
            with self.raw.cursor() as cursor:
                cursor.executemany(_pg_sql(sql), rows)
        else:
            self.raw.executemany(sql, rows)

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        return self.execute(sql, params).fetchone()[0]

    def script(self, text: str) -> None:
        """Run several `;`-terminated statements one by one (no parameters)."""
        statement = ""
        for line in text.splitlines(keepends=True):
            if line.strip().startswith("--") and not statement.strip():
                continue
            statement += line
            if sqlite3.complete_statement(statement):
                self.execute(statement)
                statement = ""
        if statement.strip():
            raise ValueError(f"incomplete SQL statement: {statement[:80]!r}")


@lru_cache(maxsize=256)
def _pg_sql(sql: str) -> str:
    if "%" in sql:
        raise ValueError("hub SQL must not contain % (psycopg placeholders)")
    return sql.replace("?", "%s")


class HubDatabase:
    """Per-thread connections and transactions; see the subclasses."""

    postgres = False

    def __init__(self) -> None:
        self._local = threading.local()
        self._open: list[Conn] = []
        self._lock = threading.Lock()

    @property
    def conn(self) -> Conn:
        conn: Conn | None = getattr(self._local, "conn", None)
        if conn is None or self._is_broken(conn):
            conn = Conn(self._connect(), self.postgres)
            self._local.conn = conn
            with self._lock:
                self._open.append(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            for conn in self._open:
                with contextlib.suppress(Exception):
                    conn.raw.close()
            self._open.clear()
        self._local = threading.local()

    @contextlib.contextmanager
    def write(self) -> Iterator[Conn]:
        """One serialised write transaction."""
        conn = self.conn
        self._begin_write(conn)
        try:
            yield conn
        except BaseException:
            with contextlib.suppress(Exception):
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Conn]:
        """Several SELECTs that see one state of the database."""
        conn = self.conn
        conn.execute(self._begin_snapshot_sql)
        try:
            yield conn
        except BaseException:
            with contextlib.suppress(Exception):
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    _begin_snapshot_sql = "BEGIN"

    def migrate(self, migrations: Sequence[Migration]) -> None:
        raise NotImplementedError

    def _connect(self) -> Any:
        raise NotImplementedError

    def _is_broken(self, conn: Conn) -> bool:
        return False

    def _begin_write(self, conn: Conn) -> None:
        raise NotImplementedError


class SqliteDatabase(HubDatabase):
    """One SQLite file in WAL mode; migrations recorded by sqlite-utils as before.

    The file holds every team's records, so it is private like a workspace: created 0600 (its
    -wal and -shm take the same mode) in a folder created 0700, and an older, readable file
    is tightened at the first connection. A folder that already exists is left as it is (it
    may be the administrator's working folder). The hub is a server: its disk, not this
    file, is where encryption belongs (docs/security.md)."""

    def __init__(self, path: str | Path):
        super().__init__()
        self.path = Path(path)
        self.description = str(self.path)
        self._private = False

    def _make_private(self) -> None:
        if self._private or str(self.path) == ":memory:":
            return
        make_private_dir(self.path.parent)
        create_private_file(self.path)
        for suffix in ("", "-wal", "-shm"):
            tighten(self.path.with_name(self.path.name + suffix))
        self._private = True

    def _connect(self) -> sqlite3.Connection:
        self._make_private()
        raw = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                              timeout=30)
        raw.row_factory = sqlite3.Row
        raw.execute("PRAGMA foreign_keys = ON")
        raw.execute("PRAGMA busy_timeout = 30000")
        raw.execute("PRAGMA synchronous = NORMAL")  # safe with WAL
        # Overwritten and deleted record content is zeroed, not left in free space (an erased
        # person, a replaced phone). Debian's SQLite does it by default; Python's on Windows
        # and macOS does not.
        raw.execute("PRAGMA secure_delete = ON")
        return raw

    def _begin_write(self, conn: Conn) -> None:
        conn.execute("BEGIN IMMEDIATE")

    def migrate(self, migrations: Sequence[Migration]) -> None:
        conn = self.conn
        if conn.scalar("PRAGMA journal_mode") != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        recorder = Migrations("dxkit-hub")
        for step in migrations:
            recorder(name=step.name)(_sqlite_step(step))
        db = Database(conn.raw)
        for pending in recorder.pending(db):
            with self.write():
                recorder.ensure_migrations_table(db)
                pending.fn(db)
                recorder._record_applied(db, pending.name)


def _sqlite_step(step: Migration) -> Callable[[Database], None]:
    def run(db: Database) -> None:
        step.apply(Conn(db.conn, postgres=False))
    return run


class PostgresDatabase(HubDatabase):
    """A PostgreSQL database at `url`; migrations recorded in its own hub_migrations table."""

    postgres = True
    _begin_snapshot_sql = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"

    def __init__(self, url: str):
        super().__init__()
        import psycopg  # only a PostgreSQL hub needs it

        self._psycopg = psycopg
        self.url = url
        self.description = _without_password(url)

    def _connect(self) -> Any:
        try:
            return self._psycopg.connect(self.url, autocommit=True, row_factory=_pg_rows)
        except self._psycopg.OperationalError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DxError(_("Could not connect to the hub's PostgreSQL database {url}: "
                            "{reason}").format(url=self.description, reason=reason)) from exc

    def _is_broken(self, conn: Conn) -> bool:
        return bool(conn.raw.closed or conn.raw.broken)

    def _begin_write(self, conn: Conn) -> None:
        conn.execute("BEGIN")
        try:
            conn.execute("SELECT pg_advisory_xact_lock(?)", (WRITER_LOCK,))
        except BaseException:
            with contextlib.suppress(Exception):
                conn.execute("ROLLBACK")
            raise

    def migrate(self, migrations: Sequence[Migration]) -> None:
        with self.write() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS hub_migrations ("
                         "name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
            done = {row["name"] for row in conn.execute("SELECT name FROM hub_migrations")}
        for step in migrations:
            if step.name in done:
                continue
            with self.write() as conn:
                if conn.execute("SELECT 1 FROM hub_migrations WHERE name = ?",
                                (step.name,)).fetchone():
                    continue  # another process applied it meanwhile
                step.apply(conn)
                conn.execute("INSERT INTO hub_migrations (name, applied_at) "
                             "VALUES (?, CAST(now() AS TEXT))", (step.name,))


class PgRow:
    """A PostgreSQL row readable like sqlite3.Row: by column name or position."""

    __slots__ = ("_names", "_values")

    def __init__(self, names: dict[str, int], values: Sequence[Any]):
        self._names = names
        self._values = values

    def __getitem__(self, key: str | int) -> Any:
        if isinstance(key, str):
            return self._values[self._names[key]]
        return self._values[key]

    def __len__(self) -> int:
        return len(self._values)

    def keys(self) -> list[str]:
        return list(self._names)


def _pg_rows(cursor: Any) -> Callable[[Sequence[Any]], PgRow]:
    names = {column.name: index for index, column in enumerate(cursor.description or ())}
    return lambda values: PgRow(names, values)


def _without_password(url: str) -> str:
    scheme, _sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}@{host}"


def open_database(db: str | Path) -> HubDatabase:
    """A PostgreSQL database for a postgresql:// URL, else the SQLite file at that path."""
    if is_postgres_url(db):
        return PostgresDatabase(str(db))
    return SqliteDatabase(db)
