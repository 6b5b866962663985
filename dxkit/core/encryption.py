"""A workspace's encryption at rest: its key, where the key is kept, and converting a plain
workspace made by an older dxkit.

Every workspace database (and every backup of it) is a SQLCipher file encrypted with the
workspace's own random 256-bit key (dxkit/core/keys.py). The key is kept in the OS keyring,
or in a private key file outside the data folder when there is no keyring
(dxkit/core/keystore.py), under an id written in `encryption.json` beside the database. That
file holds no secret: the id, a fingerprint of the key (to tell "wrong key" from "damaged
file") and when the recovery key was shown. The team leader's recovery key (the same key
written for paper) opens the workspace on another computer or after the keyring was lost.

A plain workspace is converted when it is first opened: an encrypted copy is made with
`sqlcipher_export`, read back and compared table by table (row counts and a digest of every
row), copied into backups/, and only then put in place of the plain file, whose bytes are
overwritten before it is deleted. Plain backups in backups/ are encrypted the same way. A
crash at any point leaves either the plain file or the verified encrypted one, never neither;
the next open finishes the work.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from dxkit.core import store
from dxkit.core.errors import WorkspaceError
from dxkit.core.i18n import _
from dxkit.core.keys import DatabaseKey, RecoveryKeyError
from dxkit.core.keystore import SecretStore, StoreKind
from dxkit.core.private import (
    create_private_file,
    make_private_dir,
    overwrite_and_remove,
    write_private_text,
)

STATE_FILENAME = "encryption.json"
KEY_SERVICE = "dxkit-workspace-key"
CIPHER = "sqlcipher-4"
PLAIN_LEFTOVER = ".unencrypted"  # the plain file between the swap and its overwriting
ENCRYPTING = ".encrypting"  # the encrypted copy while it is made and checked
JOURNAL_SUFFIXES = ("", "-wal", "-shm", "-journal")


class KeyNotHere(WorkspaceError):
    """The workspace is encrypted and its key is not on this computer."""


@dataclass
class EncryptionState:
    """What encryption.json says (no secret in it)."""

    key_id: str
    key_check: str
    cipher: str = CIPHER
    created_at: str = ""
    recovery_shown_at: str | None = None


class WorkspaceKeys:
    """The key of the workspace in `folder`: made, found, unlocked with the recovery key."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.state_path = folder / STATE_FILENAME
        self.secrets = SecretStore(KEY_SERVICE)

    def state(self) -> EncryptionState | None:
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
            return EncryptionState(**{k: data[k] for k in data
                                      if k in EncryptionState.__dataclass_fields__})
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as exc:
            raise WorkspaceError(_("{path} is damaged ({detail}). Open the workspace with its "
                                   "recovery key: dxkit key unlock.").format(
                                       path=self.state_path, detail=exc)) from exc

    def create(self) -> DatabaseKey:
        """A new key for a new (or a plain) workspace, kept in the key store."""
        key = DatabaseKey.new()
        state = EncryptionState(key_id=uuid.uuid4().hex, key_check=key.check(),
                                created_at=_now())
        self.secrets.save(state.key_id, key.hex())
        self._write(state)
        return key

    def key(self) -> DatabaseKey:
        """The stored key; KeyNotHere (a sentence) when this computer does not have it."""
        state = self.state()
        if state is None:
            raise KeyNotHere(self._locked_sentence())
        stored = self.secrets.load(state.key_id)
        try:
            key = DatabaseKey.from_hex(stored) if stored else None
        except ValueError:
            key = None
        if key is None or not key.matches(state.key_check):
            raise KeyNotHere(self._locked_sentence())
        return key

    def stored_in(self) -> StoreKind | None:
        state = self.state()
        return self.secrets.where(state.key_id) if state else None

    def unlock(self, recovery: DatabaseKey, db_path: Path) -> StoreKind:
        """Keep the key read from the recovery key on this computer, once it is known to be
        this workspace's: its fingerprint, or (encryption.json lost) the database opens."""
        state = self.state()
        if state is not None and not recovery.matches(state.key_check):
            raise RecoveryKeyError(_("This recovery key belongs to another workspace; this "
                                     "workspace stays locked."))
        if state is None:
            _check_opens(db_path, recovery)
            state = EncryptionState(key_id=uuid.uuid4().hex, key_check=recovery.check(),
                                    created_at=_now())
        where = self.secrets.save(state.key_id, recovery.hex())
        self._write(state)
        return where

    def mark_recovery_shown(self) -> None:
        state = self.state()
        if state is not None:
            state.recovery_shown_at = _now()
            self._write(state)

    def _write(self, state: EncryptionState) -> None:
        write_private_text(self.state_path, json.dumps(asdict(state), indent=2) + "\n")

    def _locked_sentence(self) -> str:
        return _("The workspace {path} is encrypted and its key is not on this computer "
                 "(a new computer, or the system keyring was reset). Open it with the team "
                 "leader's recovery key: dxkit --data-dir \"{path}\" key unlock.").format(
                     path=self.folder)


def _check_opens(db_path: Path, key: DatabaseKey) -> None:
    try:
        conn = store.connect(db_path, key, read_only=True)
        conn.close()
    except store.DatabaseError as exc:
        raise RecoveryKeyError(_("This recovery key does not open {path}: it belongs to "
                                 "another workspace, or the file is damaged.").format(
                                     path=db_path)) from exc


def _now() -> str:
    return dt.datetime.now().replace(microsecond=0).isoformat()


# -- opening ----------------------------------------------------------------------------------
def refuse_foreign(folder: Path, db_path: Path, known: list[str]) -> store.FileKind:
    """Refuse, reading only, a file that is not this dxkit's workspace (foreign, damaged, too
    new, or encrypted with its encryption.json lost); the kind of file it is otherwise."""
    kind = store.file_kind(db_path)
    if kind == "encrypted" and WorkspaceKeys(folder).state() is None:
        raise WorkspaceError(_(
            "{path} is not a dxkit workspace (it is not a database, or it is damaged), or it "
            "is an encrypted workspace whose encryption.json was lost: then open it with its "
            "recovery key (dxkit key unlock). It was left untouched.").format(path=db_path))
    if kind == "plain":
        store.check_existing(db_path, known, None)
    return kind


def ready(folder: Path, db_path: Path) -> bool:
    """The workspace has its key and an encrypted file: opening it writes nothing."""
    return WorkspaceKeys(folder).state() is not None and store.file_kind(db_path) == "encrypted"


def open_key(folder: Path, db_path: Path, known: list[str]) -> DatabaseKey:
    """The key to open the workspace database with, after refusing a file that is foreign,
    damaged or too new (untouched). A new workspace gets a key; a plain one is converted."""
    finish_interrupted(db_path)
    keys = WorkspaceKeys(folder)
    state = keys.state()
    kind = refuse_foreign(folder, db_path, known)
    make_private_dir(folder)
    key = keys.key() if state is not None else keys.create()
    if kind == "plain":
        encrypt_workspace_file(db_path, key)
    elif kind == "encrypted":
        store.check_existing(db_path, known, key)
    return key


def finish_interrupted(db_path: Path) -> None:
    """Complete a conversion that stopped half way (see the module's docstring)."""
    leftover = db_path.with_name(db_path.name + PLAIN_LEFTOVER)
    if leftover.exists():
        if db_path.exists():
            overwrite_and_remove(leftover)  # the encrypted file is in place
        else:
            os.replace(leftover, db_path)  # stopped between the two renames: start again
    _remove_database(db_path.with_name(db_path.name + ENCRYPTING))


# -- converting a plain file --------------------------------------------------------------------
def encrypt_workspace_file(db_path: Path, key: DatabaseKey) -> Path:
    """Encrypt the plain workspace database in place, and the plain backups beside it.
    Returns the encrypted backup of the converted database."""
    temporary = _encrypted_copy(db_path, key)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    backup = db_path.parent / store.BACKUP_FOLDER / f"before-encryption-{stamp}.sqlite"
    store.copy_workspace_file(temporary, backup, key)
    _swap(db_path, temporary)
    for old in sorted((db_path.parent / store.BACKUP_FOLDER).glob("*.sqlite")):
        if store.file_kind(old) == "plain":
            _swap(old, _encrypted_copy(old, key))
    return backup


def _encrypted_copy(source: Path, key: DatabaseKey) -> Path:
    """An encrypted copy of the plain database `source`, checked row for row against it."""
    temporary = source.with_name(source.name + ENCRYPTING)
    _remove_database(temporary)
    create_private_file(temporary)
    plain = store.connect(source, None)
    try:
        plain.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        expected = content_digest(plain)
        header = [plain.execute(f"PRAGMA {name}").fetchone()[0]
                  for name in ("user_version", "application_id")]
        plain.execute(f"ATTACH DATABASE ? AS encrypted KEY {key.pragma_value()}",
                      (str(temporary),))
        plain.execute("SELECT sqlcipher_export('encrypted')")
        # sqlcipher_export copies schema and rows, not the header fields dxkit reads.
        plain.execute(f"PRAGMA encrypted.user_version = {int(header[0])}")
        plain.execute(f"PRAGMA encrypted.application_id = {int(header[1])}")
        plain.execute("DETACH DATABASE encrypted")
    finally:
        plain.close()
    _verify_copy(temporary, key, expected)
    return temporary


def _verify_copy(temporary: Path, key: DatabaseKey, expected: dict[str, tuple[int, str]]
                 ) -> None:
    copy = store.connect(temporary, key)
    try:
        copy.execute("PRAGMA journal_mode = WAL")
        problems = [r[0] for r in copy.execute("PRAGMA quick_check(5)")]
        found = content_digest(copy)
    finally:
        copy.close()
    if problems != ["ok"] or found != expected:
        _remove_database(temporary)
        differing = sorted(t for t in {*expected, *found} if expected.get(t) != found.get(t))
        raise WorkspaceError(_(
            "Encrypting the workspace failed: the encrypted copy differs from the original "
            "({detail}). The original was left as it was.").format(
                detail=", ".join(differing) or "; ".join(problems)))


# -- re-encrypting a copy with another key --------------------------------------------------------
def rekey_file(db_path: Path, old: DatabaseKey, new: DatabaseKey) -> None:
    """Re-encrypt the closed database file `db_path` from key `old` to key `new`, in place
    (SQLCipher's `PRAGMA rekey` rewrites every page), then check that it opens with `new` and
    holds the same rows. Meant for a copy being staged (a backup from another computer): a
    crash part way leaves a file that is thrown away, never the workspace itself."""
    conn = store.connect(db_path, old)
    try:
        # A copy of a live workspace file may be in WAL mode; rekey goes through the rollback
        # journal, and a restored file is put back in WAL mode after.
        conn.execute("PRAGMA journal_mode = DELETE")
        expected = content_digest(conn)
        conn.execute(f"PRAGMA rekey = {new.pragma_value()}")
    finally:
        conn.close()
    try:
        copy = store.connect(db_path, new)
        try:
            problems = [r[0] for r in copy.execute("PRAGMA quick_check(5)")]
            found = content_digest(copy)
        finally:
            copy.close()
    except store.DatabaseError as exc:
        problems, found = [str(exc)], {}
    if problems != ["ok"] or found != expected:
        differing = sorted(t for t in {*expected, *found} if expected.get(t) != found.get(t))
        raise WorkspaceError(_(
            "Re-encrypting {path} with this workspace's key failed: the result differs from "
            "the original ({detail}). It was not used.").format(
                path=db_path, detail=", ".join(differing) or "; ".join(problems)))


def _swap(plain: Path, encrypted: Path) -> None:
    """Put the checked encrypted file in place of the plain one, then overwrite the plain."""
    leftover = plain.with_name(plain.name + PLAIN_LEFTOVER)
    os.replace(plain, leftover)
    os.replace(encrypted, plain)
    overwrite_and_remove(leftover)
    for suffix in JOURNAL_SUFFIXES[1:]:
        # A plain journal would be left only by a crash before the export; the new file
        # was closed cleanly and has none.
        overwrite_and_remove(plain.with_name(plain.name + suffix))


def _remove_database(path: Path) -> None:
    for suffix in JOURNAL_SUFFIXES:
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def content_digest(conn: sqlite3.Connection) -> dict[str, tuple[int, str]]:
    """Every table's row count and a SHA-256 of its rows in storage order: equal for two
    files that hold the same data (a virtual table's rows are in its shadow tables)."""
    return {name: _table_digest(conn, name, order) for name, order in _tables(conn)}


def _tables(conn: sqlite3.Connection) -> Iterator[tuple[str, str]]:
    # FTS5 keeps an index's rows in "shadow" tables; the virtual table itself holds none.
    rows = conn.execute("SELECT name, wr FROM pragma_table_list WHERE schema = 'main' "
                        "AND type IN ('table', 'shadow') AND name NOT LIKE 'sqlite_%' "
                        "ORDER BY name")
    for name, without_rowid in rows.fetchall():
        if not without_rowid:
            yield name, "rowid"
            continue
        keys = sorted((r["pk"], r["name"]) for r in conn.execute(
            "SELECT name, pk FROM pragma_table_info(?) WHERE pk > 0", (name,)))
        yield name, ", ".join(f'"{column}"' for _pk, column in keys)


def _table_digest(conn: sqlite3.Connection, table: str, order: str) -> tuple[int, str]:
    digest = hashlib.sha256()
    count = 0
    for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY {order}'):
        digest.update(repr(tuple(row)).encode("utf-8"))
        count += 1
    return count, digest.hexdigest()
