"""Backups of a workspace: made, listed, rotated and restored. The one place that knows them.

Every backup lives in the `backups` folder inside the workspace folder, as one self-contained
SQLite file named after why and when it was made, in UTC:

    daily-20261120T093000Z.sqlite          the first open or close of a day
    manual-20261120T093000Z.sqlite         "Back up now" / `dxkit backup create`
    before-import-20261120T093000Z.sqlite  before a risky operation (import, bundle, repair,
    before-0009_lessons-20261120T093000Z.sqlite   restore) or a migration (its first step)

A second backup of the same reason in the same second gets `-2`, `-3`… after the stamp.
Copies are made with SQLite's online backup API, so they are consistent while the app writes.
Files from before this scheme (`before-0007_farm-20261120-093000.sqlite`, local time) are
listed and rotated too: `list_backups` is what an erasure walks to find every copy of a
person.

Rotation keeps every backup younger than the workspace's `backup_keep_days` setting (14 by
default) and always the newest few, whatever their age, so a laptop left unused for a month
still has something to go back to.

A restore checks the chosen file completely before anything is replaced (it opens, passes
integrity_check, is a dxkit workspace of a data version this dxkit understands, and belongs
to this workspace), keeps the current workspace as a backup, and swaps the file in with one
atomic rename.

Backups are encrypted with their workspace's key, so another computer's backup (a lost
laptop's, on the new one) opens only with the team leader's recovery key of the workspace it
comes from. With that key it is checked the same way, then re-encrypted with this workspace's
own key before it is swapped in (see `restore`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import re
import shutil
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dxkit.core import store
from dxkit.core.encryption import KeyNotHere, WorkspaceKeys, rekey_file
from dxkit.core.errors import WorkspaceError
from dxkit.core.i18n import _
from dxkit.core.keys import DatabaseKey

FOLDER_NAME = "backups"
KEEP_DAYS_SETTING = "backup_keep_days"  # a workspace setting (settings.json)
DEFAULT_KEEP_DAYS = 14
KEEP_NEWEST = 3  # kept whatever their age
DAILY = dt.timedelta(days=1)
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
SUFFIX = ".sqlite"
COMPANIONS = ("-wal", "-shm", "-journal")  # SQLite's files beside a database
# The sync team a workspace is enrolled in (sync's meta key: the kernel only compares it).
TEAM_META = "sync_team_id"
SQLITE_NOTADB = 26  # SQLite's result code for a file that is not a database (or another key)

_NAME = re.compile(r"^(?P<reason>[a-z0-9_]+(?:-[a-z0-9_]+)*?)-(?P<stamp>\d{8}T\d{6}Z)"
                   r"(?:-(?P<n>\d+))?\.sqlite$")
_LEGACY_NAME = re.compile(r"^(?P<reason>before-[A-Za-z0-9_]+)-(?P<stamp>\d{8}-\d{6})\.sqlite$")
_REASON = re.compile(r"^[a-z0-9_]+(?:-[a-z0-9_]+)*$")

log = logging.getLogger(__name__)


class RestoreRefused(WorkspaceError):
    """The chosen file cannot replace this workspace; nothing was changed."""


class NeedsRecoveryKey(RestoreRefused):
    """The file does not open with this workspace's key: a backup made on another computer
    (or a damaged file). The recovery key of the workspace it comes from may open it."""


class WrongRecoveryKey(RestoreRefused):
    """The recovery key given does not open the file either: another workspace's key (or a
    damaged file)."""


@dataclass(frozen=True)
class Backup:
    path: Path
    created: dt.datetime  # UTC, from the name (the file's time for names not ours)
    reason: str  # "" for a file in the folder that dxkit did not name
    size: int

    @property
    def named(self) -> bool:
        """Made (and so rotated) by dxkit."""
        return bool(self.reason)

    def files(self) -> list[Path]:
        """The backup and any SQLite file beside it (a moved damaged workspace keeps its WAL)."""
        companions = (self.path.with_name(self.path.name + s) for s in COMPANIONS)
        return [self.path, *(p for p in companions if p.exists())]

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "created": self.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "reason": self.reason, "size": self.size}


@dataclass(frozen=True)
class Restored:
    source: Path
    kept: Backup | None  # the workspace as it was before, if there was one
    # The file was encrypted with another key (another computer's backup, opened with its
    # recovery key) and was re-encrypted with this workspace's key.
    rekeyed: bool = False


def reason_label(reason: str) -> str:
    """Why a backup was made, in words."""
    labels = {"daily": _("daily"), "manual": _("made by hand"),
              "before-import": _("before an import"), "before-bundle": _("before a bundle"),
              "before-repair": _("before a repair"), "before-restore": _("before a restore"),
              "before-restore-damaged": _("damaged, before a restore")}
    if reason in labels:
        return labels[reason]
    if reason.startswith("before-"):  # before a migration: its first step's name
        return _("before an update ({step})").format(step=reason.removeprefix("before-"))
    return _("other")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def folder_of(workspace: Path) -> Path:
    return workspace / FOLDER_NAME


# -- listing -------------------------------------------------------------------------------------
def list_backups(workspace: Path) -> list[Backup]:
    """Every backup file in the workspace's backups folder, newest first."""
    folder = folder_of(workspace)
    if not folder.is_dir():
        return []
    found = [_describe(path) for path in folder.glob("*" + SUFFIX) if path.is_file()]
    return sorted(found, key=_made_order, reverse=True)


def _made_order(item: Backup) -> tuple[dt.datetime, int, str]:
    """By the time in the name; backups made within one second by when they were written."""
    return item.created, item.path.stat().st_mtime_ns, item.path.name


def _describe(path: Path) -> Backup:
    size = path.stat().st_size
    match = _NAME.match(path.name)
    if match:
        created = dt.datetime.strptime(match["stamp"], STAMP_FORMAT).replace(tzinfo=dt.UTC)
        return Backup(path, created, match["reason"], size)
    legacy = _LEGACY_NAME.match(path.name)
    if legacy:  # local time, as the first pre-migration copies were named
        local = dt.datetime.strptime(legacy["stamp"], "%Y%m%d-%H%M%S")
        return Backup(path, local.astimezone(dt.UTC), legacy["reason"], size)
    modified = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).replace(microsecond=0)
    return Backup(path, modified, "", size)


def newest(workspace: Path) -> Backup | None:
    backups = list_backups(workspace)
    return backups[0] if backups else None


# -- making --------------------------------------------------------------------------------------
def create(workspace: Path, reason: str, *, now: dt.datetime | None = None) -> Backup:
    """A consistent copy of the workspace database in its backups folder."""
    if not _REASON.match(reason):
        raise ValueError(f"a backup reason is lower-case words joined by '-': {reason!r}")
    source = _existing_database(workspace)
    folder = folder_of(workspace)
    folder.mkdir(exist_ok=True)
    target = _free_name(folder, reason, now or utc_now())
    _copy(source, target)
    made = _describe(target)
    log.info("backup made: reason=%s size=%d", reason, made.size)
    return made


def copy_to(workspace: Path, target: Path) -> Path:
    """A consistent copy of the workspace database at `target` (outside rotation)."""
    _copy(_existing_database(workspace), target)
    log.info("backup copied to a chosen file: size=%d", target.stat().st_size)
    return target


# A file that does not open: damaged, not a database, or encrypted with another key (or this
# workspace's key is not on this computer).
_UNREADABLE: tuple[type[Exception], ...] = (*store.DatabaseError, WorkspaceError)


def _damaged(path: Path) -> str:
    return _("{path} is damaged or is not a database, so nothing was restored; this "
             "workspace is as it was.").format(path=path)


def _key(workspace: Path) -> DatabaseKey:
    """The workspace's database key (the keyring, or the key file where there is none)."""
    return WorkspaceKeys(workspace).key()


def _existing_database(workspace: Path) -> Path:
    db_path = workspace / store.DB_FILENAME
    if not db_path.is_file():
        raise WorkspaceError(_("There is no workspace in {path} to back up.").format(
            path=workspace))
    return db_path


def _free_name(folder: Path, reason: str, now: dt.datetime) -> Path:
    stamp = now.astimezone(dt.UTC).strftime(STAMP_FORMAT)
    target, number = folder / f"{reason}-{stamp}{SUFFIX}", 1
    while target.exists():
        number += 1
        target = folder / f"{reason}-{stamp}-{number}{SUFFIX}"
    return target


def _copy(source: Path, target: Path) -> None:
    """Copy through a partial file, so a backup that exists under its name is complete."""
    partial = target.with_name(target.name + ".partial")
    try:
        store.copy_workspace_file(source, partial, _key(source.parent))
        os.replace(partial, target)
    finally:
        _remove(partial)


# -- keeping -------------------------------------------------------------------------------------
def rotate(workspace: Path, *, keep_days: int, keep_newest: int = KEEP_NEWEST,
           now: dt.datetime | None = None) -> list[Backup]:
    """Delete dxkit's backups older than `keep_days`, except the newest `keep_newest`."""
    cutoff = (now or utc_now()) - dt.timedelta(days=max(1, keep_days))
    ours = [b for b in list_backups(workspace) if b.named]
    doomed = [b for b in ours[keep_newest:] if b.created < cutoff]
    for backup in doomed:
        for path in backup.files():
            _remove(path)  # another process may have rotated it already
    if doomed:
        log.info("backups rotated: deleted=%d kept=%d", len(doomed), len(ours) - len(doomed))
    return doomed


def daily_due(workspace: Path, *, now: dt.datetime | None = None, fresh: bool = False) -> bool:
    """Whether the newest backup is a day old (or there is none, unless the workspace was
    only just created and holds nothing worth a copy)."""
    last = newest(workspace)
    if last is None:
        return not fresh and (workspace / store.DB_FILENAME).is_file()
    return (now or utc_now()) - last.created >= DAILY


# -- restoring -----------------------------------------------------------------------------------
def restore(workspace: Path, source: Path, *, known: Sequence[str],
            now: dt.datetime | None = None, recovery: DatabaseKey | None = None) -> Restored:
    """Replace the workspace database by the backup at `source`, after checking it.

    The caller holds the workspace's write lock and has closed its own connections. Refused
    files raise RestoreRefused with the workspace untouched: NeedsRecoveryKey when the file
    does not open with this workspace's key, WrongRecoveryKey when `recovery` does not open
    it either.

    `recovery` is the team leader's recovery key of the workspace the backup comes from (a
    lost laptop's backup restored on a new one). Such a file is checked like any other, then
    re-encrypted with this workspace's own key (SQLCipher's rekey, on the staged copy) before
    it is swapped in. This computer does not adopt the backup's key: every backup this
    workspace already has — the "before-restore" copy made a moment later among them — stays
    readable with the key this computer keeps, the recovery key printed for this workspace
    keeps opening it, and one workspace folder never holds files of two keys. The old
    laptop's recovery key still opens that laptop's backups, not this workspace."""
    source = Path(source)
    if not source.is_file():
        raise RestoreRefused(_("There is no file {path}; nothing was restored.").format(
            path=source))
    keys = WorkspaceKeys(workspace)
    own = _own_key(keys, workspace, recovery)
    db_path = workspace / store.DB_FILENAME
    staged = workspace / (store.DB_FILENAME + ".restoring")
    _discard_database(staged)
    # Checks and the clock run on a copy beside the workspace: the chosen file is never
    # written to, and the final rename stays on one file system (atomic).
    shutil.copyfile(source, staged)
    try:
        key = _key_that_opens(staged, source, own, recovery)
        candidate = _inspect(staged, source, known, key)
        current = _current_identity(workspace, own)
        if not _same_workspace(candidate, current):
            raise RestoreRefused(_(
                "{path} is a backup of another workspace (another computer or team), so "
                "nothing was restored; this workspace is as it was.").format(path=source))
        if own is None:  # nothing here yet: the restored file gets this folder's new key
            own = keys.create()
        rekeyed = key != own
        if rekeyed:
            rekey_file(staged, key, own)
        _carry_clock(staged, own, candidate, current)
        with _opened(staged, own) as conn:  # backups are single files; a workspace runs in WAL
            conn.execute("PRAGMA journal_mode = WAL")
        kept = _keep_current(workspace, now or utc_now())
        _swap_in(staged, db_path, own)
    finally:
        _discard_database(staged)
    log.info("backup restored: kept_previous=%s rekeyed=%s", kept is not None, rekeyed)
    return Restored(source, kept, rekeyed)


def _own_key(keys: WorkspaceKeys, workspace: Path, recovery: DatabaseKey | None
             ) -> DatabaseKey | None:
    """This workspace's key; None when the folder has none yet (no workspace was ever made
    here). A workspace whose key is not on this computer is refused with KeyNotHere's
    sentence, unless `recovery` is its own recovery key: then it is unlocked, as
    `dxkit key unlock` would."""
    state = keys.state()
    if state is None:
        return None
    try:
        return keys.key()
    except KeyNotHere:
        if recovery is None or not recovery.matches(state.key_check):
            raise
    keys.unlock(recovery, workspace / store.DB_FILENAME)
    return recovery


def _key_that_opens(staged: Path, source: Path, own: DatabaseKey | None,
                    recovery: DatabaseKey | None) -> DatabaseKey:
    """This workspace's key if it opens the file, else the recovery key if that does."""
    for key in (own, recovery):
        if key is not None and _opens(staged, key):
            return key
    if recovery is not None:
        log.info("restore refused: the recovery key does not open the file")
        raise WrongRecoveryKey(_(
            "This recovery key does not open {path}: it is the recovery key of another "
            "workspace (not of the computer the backup comes from), or the file is damaged. "
            "Nothing was restored; this workspace is as it was.").format(path=source))
    if _may_be_encrypted(staged):
        log.info("restore refused: encrypted with another key")
        raise NeedsRecoveryKey(_(
            "{path} does not open with this workspace's key: it is a backup from another "
            "computer (encrypted with another key), or it is damaged. To restore another "
            "computer's backup, give the team leader's recovery key of the workspace it comes "
            "from. Nothing was restored; this workspace is as it was.").format(path=source))
    log.info("restore refused: not an encrypted database")
    raise RestoreRefused(_damaged(source))


def _opens(path: Path, key: DatabaseKey) -> bool:
    """Whether `key` is the file's key: SQLCipher decrypts its first page. A file that then
    proves damaged further on counts as opened: `_inspect` says it is damaged."""
    try:
        with _opened(path, key, read_only=True):
            return True
    except store.DatabaseError as exc:
        # A wrong key fails on the first page as "file is not a database"; damage further on
        # (a truncated copy) as "malformed".
        return getattr(exc, "sqlite_errorcode", None) != SQLITE_NOTADB


def _may_be_encrypted(path: Path) -> bool:
    """Whether the file looks like a SQLCipher database: not a plain SQLite file, and whole
    pages (every page size SQLCipher uses is a multiple of 512 bytes). A text file or a plain
    database is damaged or foreign whatever the key."""
    size = path.stat().st_size
    return store.file_kind(path) == "encrypted" and size >= 512 and size % 512 == 0


@contextlib.contextmanager
def _opened(path: Path, key: DatabaseKey, *, read_only: bool = False
            ) -> Iterator[sqlite3.Connection]:
    """A workspace file (the workspace, a restore being staged, a backup) opened with `key`."""
    conn = store.connect(path, key, read_only=read_only)
    try:
        yield conn
    finally:
        conn.close()


def _inspect(staged: Path, source: Path, known: Sequence[str], key: DatabaseKey
             ) -> dict[str, str]:
    """The candidate's meta, once it proved whole, ours, and not newer than this dxkit."""
    try:
        with _opened(staged, key) as conn:
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check(5)")]
            if problems != ["ok"]:
                raise sqlite3.DatabaseError("; ".join(problems))
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            ours = app_id == store.APPLICATION_ID and {"meta", "_sqlite_migrations"} <= tables
            applied = [row[0] for row in conn.execute(
                "SELECT name FROM _sqlite_migrations WHERE migration_set = ?",
                (store.MIGRATION_SET,))] if ours else []
            meta = {row[0]: row[1] for row in conn.execute(
                "SELECT key, value FROM meta")} if ours else {}
    except _UNREADABLE as exc:
        log.info("restore refused: damaged file (%s)", type(exc).__name__)
        raise RestoreRefused(_damaged(source)) from exc
    if not ours or "device_id" not in meta:
        log.info("restore refused: not a dxkit workspace")
        raise RestoreRefused(_(
            "{path} is not a backup of a dxkit workspace, so nothing was restored; this "
            "workspace is as it was.").format(path=source))
    if version > len(known) or set(applied) - set(known):
        log.info("restore refused: newer data version %d", version)
        raise RestoreRefused(_(
            "{path} was made by a newer version of dxkit (data version {found}; this version "
            "understands up to {known}). Install the newer dxkit to restore it; nothing was "
            "restored.").format(path=source, found=max(version, len(set(applied))),
                                known=len(known)))
    return meta


def _read_meta(db_path: Path, key: DatabaseKey | None) -> tuple[dict[str, str], bool] | None:
    """A workspace file's meta and whether anyone recorded anything in it; None if the file
    is missing or cannot be read."""
    if not db_path.is_file() or key is None:
        return None
    try:
        with _opened(db_path, key) as conn:
            meta = {row[0]: row[1] for row in conn.execute("SELECT key, value FROM meta")}
            recorded = conn.execute("SELECT 1 FROM audit_log LIMIT 1").fetchone() is not None
    except _UNREADABLE:
        return None
    return meta, recorded


def _current_identity(workspace: Path, key: DatabaseKey | None) -> dict[str, str] | None:
    """The meta a restored file must match: the workspace's own if it holds records, else
    (the file is damaged or gone) that of its newest readable backup. None when there is
    nothing here to mix with: no workspace, or one nobody has recorded anything in yet (a
    new laptop taking over a broken one's backup)."""
    current = _read_meta(workspace / store.DB_FILENAME, key)
    if current is not None:
        meta, recorded = current
        return meta if recorded else None
    for backup in list_backups(workspace):
        found = _read_meta(backup.path, key)
        if found is not None and "device_id" in found[0]:
            return found[0]
    return None


def _same_workspace(candidate: dict[str, str], current: dict[str, str] | None) -> bool:
    if current is None:
        return True
    if candidate.get("device_id") != current.get("device_id"):
        return False
    ours, theirs = current.get(TEAM_META), candidate.get(TEAM_META)
    return not (ours and theirs and ours != theirs)


def _carry_clock(staged: Path, key: DatabaseKey, candidate: dict[str, str],
                 current: dict[str, str] | None) -> None:
    """The restored file keeps the later of the two clocks: edits made after the restore must
    sort after every edit this device already sent."""
    clocks = [m["hlc"] for m in (candidate, current or {}) if m.get("hlc")]
    if not clocks:
        return
    # Same device, so the text order of its timestamps is their time order (dxkit.core.hlc).
    latest = max(clocks)
    if latest == candidate.get("hlc"):
        return
    with _opened(staged, key) as conn:
        conn.execute("INSERT INTO meta (key, value) VALUES ('hlc', ?) ON CONFLICT (key) "
                     "DO UPDATE SET value = excluded.value", (latest,))


def _keep_current(workspace: Path, now: dt.datetime) -> Backup | None:
    db_path = workspace / store.DB_FILENAME
    if not db_path.is_file():
        return None
    try:
        return create(workspace, "before-restore", now=now)
    except _UNREADABLE:
        return _move_damaged(workspace, now)


def _move_damaged(workspace: Path, now: dt.datetime) -> Backup:
    """A workspace too damaged to copy is kept as it is, with its WAL beside it."""
    db_path = workspace / store.DB_FILENAME
    folder = folder_of(workspace)
    folder.mkdir(exist_ok=True)
    target = _free_name(folder, "before-restore-damaged", now)
    for suffix in COMPANIONS:
        companion = db_path.with_name(db_path.name + suffix)
        if companion.exists():
            os.replace(companion, target.with_name(target.name + suffix))
    os.replace(db_path, target)
    log.info("damaged workspace moved to the backups folder")
    return _describe(target)


def _swap_in(staged: Path, db_path: Path, key: DatabaseKey) -> None:
    """Rename the checked copy over the workspace file. The old file's WAL must go first: left
    beside the new file, SQLite would replay it into it. Its content is in the backup just
    made (or moved with the damaged file)."""
    if db_path.is_file():
        with contextlib.suppress(*_UNREADABLE), _opened(db_path, key) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    _discard_companions(db_path)
    with staged.open("rb+") as handle:
        os.fsync(handle.fileno())
    try:
        os.replace(staged, db_path)
    except PermissionError as exc:  # Windows: another program still has the file open
        raise RestoreRefused(_(
            "Another program is using the workspace file, so nothing was restored. Close "
            "other dxkit windows and commands, then try again.")) from exc


def _discard_database(path: Path) -> None:
    _remove(path)
    _discard_companions(path)


def _discard_companions(path: Path) -> None:
    for suffix in COMPANIONS:
        _remove(path.with_name(path.name + suffix))


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
