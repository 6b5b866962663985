"""The kernel's workspace: one folder holding the SQLite file and settings.

Like Anki's Collection, a workspace owns the database and the domains' services. This class
knows no domain: the composition root (`dxkit.workspace.Workspace`) subclasses it with the
tuple of registered `Domain`s, whose services become attributes (`ws.households`, `ws.farm`,
…), whose migrations make the schema and whose hooks run in every write transaction. Each
thread gets its own connection (WAL lets readers run beside the one writer), and every
mutation runs in `ws.transaction()`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar, Self

import platformdirs

from dxkit.core import backup, clock_repair, encryption, erasure, store, synced
from dxkit.core.domain import Domain, Migration
from dxkit.core.errors import ValidationError, WorkspaceError
from dxkit.core.hlc import Clock
from dxkit.core.i18n import _
from dxkit.core.ids import uuid7
from dxkit.core.keys import DatabaseKey
from dxkit.core.lock import WorkspaceLock, WorkspaceLocked, locked_message
from dxkit.core.places import DATA_VERSION, AdminUnit, find_commune, find_province
from dxkit.core.private import make_private_dir, tighten_tree, write_private_text
from dxkit.core.schema import KERNEL_MIGRATIONS
from dxkit.core.synced import Tx

SETTINGS_FILENAME = "settings.json"
# The hub team the workspace enrolled in, in its meta table. Sync writes it at enrollment;
# domains may read it (the farm's trace URLs carry the team's key).
HUB_TEAM_META = "sync_team_id"
# The kind of that team, "hamlet" or "commune" (a hub team's scope: one hamlet, or every
# hamlet of its commune); domains may read it (a hamlet team's laptop adds no hamlet).
HUB_TEAM_KIND_META = "sync_team_kind"

log = logging.getLogger(__name__)


def default_path() -> Path:
    """DXKIT_HOME, else the platform's user data folder (e.g. %LOCALAPPDATA%\\dxkit)."""
    env = os.environ.get("DXKIT_HOME")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("dxkit", appauthor=False)) / "workspace"


def demo_path() -> Path:
    """Where `python3 quickstart.py app` keeps its demo workspace."""
    return Path(platformdirs.user_data_dir("dxkit", appauthor=False)) / "demo"


def _folder(path: str | Path | None) -> Path:
    folder = Path(path).expanduser() if path else default_path()
    if folder.exists() and not folder.is_dir():
        raise WorkspaceError(_("{path} is a file; a workspace is a folder.").format(
            path=folder))
    return folder


def install(domains: tuple[Domain, ...]) -> None:
    """Make the domains' synced tables and shipped rows known to sync (idempotent)."""
    for domain in domains:
        for table in domain.tables:
            synced.register(table)
        for provider in domain.shipped_rows:
            synced.register_shipped(provider)


def migrations(domains: tuple[Domain, ...]) -> list[Migration]:
    return store.ordered([*KERNEL_MIGRATIONS, *(m for d in domains for m in d.migrations)])


class Workspace:
    # Set by the composition root's subclass; the kernel alone has no domains.
    domains: ClassVar[tuple[Domain, ...]] = ()
    # Set by `open()` from the stored device id and last timestamp.
    clock: Clock
    # What `open()` mended when the stored clock could not be believed (dxkit.core.clock_repair).
    clock_repair: clock_repair.ClockRepair | None = None
    # Set by `open()`: the key of this workspace's database and of its backups. Open another
    # file of this workspace (a backup) with `store.connect(path, ws.key)`.
    key: DatabaseKey

    def __init__(self, folder: Path):
        self.path = folder
        self.db_path = folder / store.DB_FILENAME
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._fixed_now: dt.datetime | None = None
        # An erasure's write-ahead log could not be cut yet (a reader was busy): try again.
        self._journal_pending = False
        self._lock = WorkspaceLock(folder)
        self._readonly = False
        self.utc_now: Callable[[], dt.datetime] = backup.utc_now
        self.settings = Settings(folder / SETTINGS_FILENAME)
        self.created = False
        install(self.domains)
        for domain in self.domains:
            for name, service in domain.services.items():
                setattr(self, name, service(self))

    # -- opening ------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path | None = None, *, readonly: bool = False,
             wait: float = 0.0, utc_now: Callable[[], dt.datetime] | None = None,
             daily_backup: bool = True) -> Self:
        """Open (or create) the workspace in `path`.

        A writer (the default) holds the workspace's write lock until `close()`, waiting up to
        `wait` seconds for another writer to finish (WorkspaceLocked after that); it migrates,
        seeds, and makes the daily backup when one is due (unless `daily_backup` is False: the
        app makes it off the UI thread). A reader (`readonly`) takes no lock and can run beside
        a writer; its connections refuse writes. `utc_now` is the wall clock of backups."""
        folder = _folder(path)
        db_path = folder / store.DB_FILENAME
        steps = migrations(cls.domains)
        names = [m.name for m in steps]
        if folder.is_dir():
            encryption.refuse_foreign(folder, db_path, names)  # untouched: not even locked
        make_private_dir(folder)
        ws = cls(folder)
        if utc_now is not None:
            ws.utc_now = utc_now
        try:
            # The key is made, or a plain file from an older dxkit encrypted, under the writer's
            # lock: two processes opening a new folder at once must not make two keys. A reader
            # takes the lock only for that, when there is something to make.
            if readonly and encryption.ready(folder, db_path):
                ws.key = encryption.open_key(folder, db_path, names)
            else:
                ws._lock.acquire(wait)
                ws.key = encryption.open_key(folder, db_path, names)
                if readonly:
                    ws._lock.release()
            tighten_tree(folder)  # what an older dxkit made readable by others
            if readonly:
                ws._open_reader(steps)
            else:
                ws._prepare(steps)
                if daily_backup:
                    ws.backup_if_due()
        except BaseException:
            ws._close_connections()  # no daily backup of a workspace that did not open
            ws._lock.release()
            raise
        log.info("workspace opened: %s, data version %d", "reader" if readonly else "writer",
                 len(steps))
        return ws

    @classmethod
    def unlock(cls, path: str | Path | None, recovery: DatabaseKey, **opening: Any) -> Self:
        """Open a workspace whose key is not on this computer with the team leader's recovery
        key (a new computer, or the keyring was reset): the key is checked against the
        workspace, kept in this computer's key store, and the workspace opened (`opening`:
        the arguments of `open`). RecoveryKeyError when the key belongs to another workspace.
        `dxkit key unlock` and the app's unlock dialog both come here."""
        folder = _folder(path)
        encryption.WorkspaceKeys(folder).unlock(recovery, folder / store.DB_FILENAME)
        return cls.open(folder, **opening)

    def _prepare(self, steps: list[Migration], clock_floor: str | None = None) -> None:
        """Migrate, seed a new workspace, start the clock and run the domains' open hooks.
        Needs the write lock."""
        conn = self.conn
        applied = store.migrate(conn, steps, backup=lambda first: self.backup_before(first))
        if applied:
            log.info("migrations applied: %d", len(applied))
        meta = self.meta()
        self.created = "device_id" not in meta
        if self.created:
            conn.execute("INSERT INTO meta (key, value) VALUES ('device_id', ?), "
                         "('admin_data', ?)", (uuid7().replace("-", "")[:16], DATA_VERSION))
            meta = self.meta()
        self.clock, poisoned = clock_repair.open_clock(
            meta["device_id"], meta.get("hlc"),
            int(meta.get(clock_repair.META_CLOCK_OFFSET, 0)),
            last_wall_ms=clock_repair.last_wall_ms(conn))
        if clock_floor:
            self.clock.observe(clock_floor)
        if poisoned:  # a clock nobody can believe: mend the workspace before anything else
            self.clock_repair = clock_repair.repair(self, clock_before=meta["hlc"])
        for domain in self.domains:
            for hook in domain.on_open:
                hook(self, self.created)

    def _open_reader(self, steps: list[Migration]) -> None:
        """A reader of a workspace nobody writes prepares it like a writer (a new or older
        workspace needs its migrations), then lets the lock go. Beside a writer it can only
        read what that writer already prepared."""
        if self._lock.try_acquire():
            try:
                self._prepare(steps)
            finally:
                self._lock.release()
        else:
            meta = self.meta() if self._has_meta() else {}
            names = {r[0] for r in self.conn.execute(
                "SELECT name FROM _sqlite_migrations WHERE migration_set = ?",
                (store.MIGRATION_SET,))} if meta else set()
            if "device_id" not in meta or names != {m.name for m in steps}:
                raise WorkspaceLocked(locked_message())  # the writer is still preparing it
            self.clock = Clock(meta["device_id"], meta.get("hlc"))
        self._readonly = True
        with self._connections_lock:
            for conn in self._connections:
                conn.execute("PRAGMA query_only = ON")

    def _has_meta(self) -> bool:
        found = self.conn.execute("SELECT count(*) FROM sqlite_master WHERE name IN "
                                  "('meta', '_sqlite_migrations')").fetchone()[0]
        return bool(found == 2)

    @property
    def readonly(self) -> bool:
        return self._readonly

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection (sqlite3 connections must not be shared across threads)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = store.connect(self.db_path, self.key)
            if self._readonly:
                conn.execute("PRAGMA query_only = ON")  # a reader that tries to write fails
            self._local.conn = conn
            with self._connections_lock:
                self._connections.append(conn)
        return conn

    def close(self) -> None:
        """Close every connection and let the write lock go; a writer first makes the daily
        backup if one is due."""
        if self._lock.held and self._prepared():
            with contextlib.suppress(*store.Error, OSError, WorkspaceError):
                self.backup_if_due()
        own = getattr(self._local, "conn", None)
        if own is not None and not self._readonly:
            # Keeps planner statistics current for the next open (SQLite's advice on close);
            # the limit keeps it to a few milliseconds even on a large file.
            with contextlib.suppress(*store.Error):
                own.execute("PRAGMA analysis_limit = 400")
                own.execute("PRAGMA optimize")
        self._close_connections()
        self._lock.release()

    def _prepared(self) -> bool:
        return hasattr(self, "clock")

    def _close_connections(self) -> None:
        with self._connections_lock:
            for conn in self._connections:
                with contextlib.suppress(*store.Error):
                    conn.close()
            self._connections.clear()
        self._local = threading.local()

    # -- backups ------------------------------------------------------------------------
    @property
    def backup_keep_days(self) -> int:
        value = self.settings.get(backup.KEEP_DAYS_SETTING, backup.DEFAULT_KEEP_DAYS)
        return value if isinstance(value, int) and value >= 1 else backup.DEFAULT_KEEP_DAYS

    def set_backup_keep_days(self, days: int) -> None:
        if days < 1:
            raise ValidationError({"keep_days": _("Keep backups for at least one day.")})
        self.settings.set(backup.KEEP_DAYS_SETTING, days)

    def backup_now(self, reason: str = "manual") -> backup.Backup:
        """A backup in the workspace's backups folder, then rotation of the old ones."""
        now = self.utc_now()
        made = backup.create(self.path, reason, now=now)
        backup.rotate(self.path, keep_days=self.backup_keep_days, now=now)
        return made

    def backup_before(self, operation: str) -> backup.Backup:
        """The restore point taken before a risky operation (import, bundle, repair,
        restore) or a migration (named after its first step)."""
        return self.backup_now("before-" + re.sub(r"[^a-z0-9_]+", "_", operation.lower()))

    def backup_if_due(self) -> backup.Backup | None:
        """The daily backup, if the newest backup is a day old."""
        if not backup.daily_due(self.path, now=self.utc_now(), fresh=self.created):
            return None
        return self.backup_now("daily")

    def backups(self) -> list[backup.Backup]:
        return backup.list_backups(self.path)

    def restore(self, source: str | Path, *, recovery: DatabaseKey | None = None
                ) -> backup.Restored:
        """Replace this workspace's data by a backup (checked first, the current data kept
        as a backup), then open it again: migrated if older, the clock never going back.
        `recovery`: the recovery key of another computer's backup (see backup.restore)."""
        if not self._lock.held:
            raise WorkspaceLocked(locked_message())
        clock_floor = self.clock.last
        self._close_connections()
        try:
            restored = backup.restore(self.path, Path(source),
                                      known=[m.name for m in migrations(self.domains)],
                                      now=self.utc_now(), recovery=recovery)
        finally:
            # Refused or done, the workspace is usable again (the restored file may need
            # migrations; its clock continues from this one).
            self._prepare(migrations(self.domains), clock_floor=clock_floor)
        backup.rotate(self.path, keep_days=self.backup_keep_days, now=self.utc_now())
        return restored

    @classmethod
    def restore_into(cls, path: str | Path | None, source: str | Path, *, wait: float = 0.0,
                     utc_now: Callable[[], dt.datetime] | None = None,
                     recovery: DatabaseKey | None = None) -> backup.Restored:
        """Restore a backup into a workspace folder without opening the workspace first: the
        file it replaces may be too damaged to open. Then open it once, which migrates a
        backup made by an older dxkit. `recovery`: the recovery key of another computer's
        backup (see backup.restore)."""
        folder = _folder(path)
        folder.mkdir(parents=True, exist_ok=True)
        clock = utc_now or backup.utc_now
        lock = WorkspaceLock(folder)
        lock.acquire(wait)
        try:
            restored = backup.restore(folder, Path(source),
                                      known=[m.name for m in migrations(cls.domains)],
                                      now=clock(), recovery=recovery)
        finally:
            lock.release()
        with cls.open(folder, wait=wait, utc_now=clock) as ws:
            backup.rotate(folder, keep_days=ws.backup_keep_days, now=clock())
        return restored

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One write transaction; nested use joins the outer one (through a savepoint)."""
        outer: Tx | None = getattr(self._local, "tx", None)
        conn = self.conn
        if outer is not None:
            conn.execute("SAVEPOINT nested")
            try:
                yield outer
            except BaseException:
                conn.execute("ROLLBACK TO nested")
                conn.execute("RELEASE nested")
                raise
            conn.execute("RELEASE nested")
            return
        conn.execute("BEGIN IMMEDIATE")
        tx = Tx(conn, self.clock, self.actor)
        self._local.tx = tx
        try:
            yield tx
            self._before_commit(tx)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            self._local.tx = None
        self._after_commit(tx)

    def _before_commit(self, tx: Tx) -> None:
        """Derived state that must change with the data (each domain's hooks), what the
        tables' rules cleared in the review lists, and the clock."""
        for domain in self.domains:
            for hook in domain.before_commit:
                hook(tx)
        if tx.forgotten:
            erasure.forget_traces(tx.conn, tx.forgotten)
            for review_list in erasure.REVIEW_TABLES:  # the review screen counts them
                tx.changes.updated[review_list].add("")
        if tx.erased:
            erasure.scrub_pages(tx.conn)
        tx.conn.execute("INSERT INTO meta (key, value) VALUES ('hlc', ?) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        (self.clock.last,))

    def _after_commit(self, tx: Tx) -> None:
        """After an erasure: the old pages leave the write-ahead log, and every copy of the
        file that holds an erased row is purged or removed (erasure.py)."""
        erased = {table: set(rows) for table, rows in tx.erased.items() if rows}
        if erased or self._journal_pending:
            self._journal_pending = not erasure.truncate_journal(self.conn)
        if not erased:
            return
        self._drop_backups_holding(erased)
        for hook in erasure.after_erasure_hooks():
            hook(self.path, erased, store.copy_opener(self.key))

    def _drop_backups_holding(self, erased: erasure.ErasedRows) -> None:
        """Backups that still hold an erased row are removed (a copy cannot be purged as the
        live file is: its search index, its derived tables, an older schema), and restoring
        one would bring the person back. A fresh backup takes their place at once, so the
        workspace is never left without a restore point."""
        files = [b.path for b in backup.list_backups(self.path)]
        removed = erasure.drop_copies_holding(files, erased, store.copy_opener(self.key),
                                              store.Error)
        for path in removed:
            for extra in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                extra.unlink(missing_ok=True)
        if removed:
            log.info("backups holding erased rows removed: %d", len(removed))
            self.backup_now("after-erasure")

    # -- context ------------------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        return {r[0]: r[1] for r in self.conn.execute("SELECT key, value FROM meta")}

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) "
                          "DO UPDATE SET value = excluded.value", (key, value))

    @property
    def device_id(self) -> str:
        return self.clock.device

    @property
    def actor(self) -> str:
        """Who is recording: the chosen team member, else this device."""
        member_id = self.settings.get("current_member_id")
        if member_id:
            for domain in self.domains:
                name = domain.member_name(self, member_id) if domain.member_name else None
                if name:
                    return name
        return f"device {self.device_id[:8]}"

    def now(self) -> dt.datetime:
        return self._fixed_now or dt.datetime.now().replace(microsecond=0)

    def today(self) -> dt.date:
        return self.now().date()

    def freeze_time(self, moment: dt.datetime | None) -> None:
        """Tests and the demo generator pin 'now'."""
        self._fixed_now = moment

    # -- team configuration -------------------------------------------------------------
    def configure_team(self, province: str | int, commune: str | int) -> tuple[AdminUnit,
                                                                                AdminUnit]:
        found_province = find_province(province)
        if found_province is None:
            raise WorkspaceError(_("Unknown province “{name}”.").format(name=province))
        found_commune = find_commune(found_province.code, commune)
        if found_commune is None:
            raise WorkspaceError(_("Unknown commune or ward “{name}” in {province}.").format(
                name=commune, province=found_province.name))
        with self.transaction():
            self.set_meta("province_code", str(found_province.code))
            self.set_meta("province_name", found_province.name)
            self.set_meta("commune_code", str(found_commune.code))
            self.set_meta("commune_name", found_commune.name)
        return found_province, found_commune

    def hub_team_id(self) -> str | None:
        """The id of the hub team this workspace enrolled in, or None before enrollment."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?",
                                (HUB_TEAM_META,)).fetchone()
        return str(row[0]) if row and row[0] else None

    def team_place(self) -> tuple[str, str]:
        meta = self.meta()
        return meta.get("province_name", ""), meta.get("commune_name", "")

    def pending_changes(self) -> int:
        """Outbox entries not yet sent (the sync engine drains the outbox)."""
        return int(self.conn.execute("SELECT count(*) FROM outbox").fetchone()[0])


class Settings:
    """Per-workspace preferences in settings.json, written atomically."""

    def __init__(self, path: Path):
        self.path = path
        self._data: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        if self._data is None:
            try:
                self._data = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self._data = {}
        return self._data

    def get(self, key: str, default: Any = None) -> Any:
        return self._load().get(key, default)

    def set(self, key: str, value: Any) -> None:
        data = self._load()
        data[key] = value
        write_private_text(self.path, json.dumps(data, ensure_ascii=False, indent=2))
