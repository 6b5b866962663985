"""Encryption at rest: a lost laptop's workspace files reveal no name, phone or citizen ID;
without the key nothing opens; the recovery key opens it anywhere; a plain workspace from an
older dxkit is converted without losing a row; the files are private (POSIX)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

from dxkit.core import store
from dxkit.core.encryption import (
    PLAIN_LEFTOVER,
    STATE_FILENAME,
    KeyNotHere,
    WorkspaceKeys,
    content_digest,
)
from dxkit.core.errors import WorkspaceError
from dxkit.core.keys import DatabaseKey, RecoveryKeyError
from dxkit.core.keystore import key_folder
from dxkit.households.search import search
from dxkit.workspace import Workspace

CCCD = "087168012345"
NAME = "Trần Thị Bích"
PHONE = "0323456789"
SECRETS = (CCCD.encode(), NAME.encode("utf-8"), b"tran thi bich", PHONE.encode())
POSIX_ONLY = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def add_person(ws: Workspace) -> None:
    if not ws.catalog.hamlets():
        ws.catalog.add_hamlet("Ấp Mỹ Hưng")
    household = ws.households.add(code="MH-001", head_name="Nguyễn Văn Đồng",
                                  hamlet="Ấp Mỹ Hưng").value
    ws.people.add(household.id, full_name=NAME, sex="Nữ", birth_date="05/09/1968",
                  phone=PHONE, cccd=CCCD, consent=True)


def cccds(ws: Workspace) -> list[str]:
    return [row[0] for row in ws.conn.execute("SELECT cccd FROM people")]


def revealed(path: Path) -> list[bytes]:
    """The personal data readable in the file's bytes."""
    data = path.read_bytes()
    return [secret for secret in SECRETS if secret in data]


def plain_copy(ws: Workspace, target: Path) -> Path:
    """The workspace as an older dxkit kept it: the same database, not encrypted."""
    ws.conn.execute("ATTACH DATABASE ? AS plain KEY ''", (str(target),))
    ws.conn.execute("SELECT sqlcipher_export('plain')")
    for name in ("user_version", "application_id"):
        value = ws.conn.execute(f"PRAGMA {name}").fetchone()[0]
        ws.conn.execute(f"PRAGMA plain.{name} = {int(value)}")
    ws.conn.execute("DETACH DATABASE plain")
    return target


def plain_workspace(tmp_path: Path) -> Path:
    """A folder holding a plain workspace with a person in it (and a plain backup)."""
    ws = Workspace.open(tmp_path / "source")
    add_person(ws)
    folder = tmp_path / "old"
    (folder / "backups").mkdir(parents=True)
    plain_copy(ws, folder / store.DB_FILENAME)
    plain_copy(ws, folder / "backups" / "before-0009_lessons-20260101-000000.sqlite")
    ws.close()
    return folder


# -- nothing readable ----------------------------------------------------------------------------
def test_the_database_and_its_wal_reveal_no_personal_data(fresh_ws):
    add_person(fresh_ws)
    wal = fresh_ws.db_path.with_name(store.DB_FILENAME + "-wal")
    assert wal.stat().st_size > 0  # the person is in the -wal until a checkpoint
    assert revealed(wal) == []
    fresh_ws.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert revealed(fresh_ws.db_path) == []


def test_the_same_scan_finds_the_data_in_a_plain_copy(fresh_ws, tmp_path):
    add_person(fresh_ws)
    copy = plain_copy(fresh_ws, tmp_path / "plain.sqlite")
    assert revealed(copy) == list(SECRETS)  # so the scans above can fail


def test_backups_are_encrypted_with_the_workspace_key(fresh_ws, tmp_path):
    add_person(fresh_ws)
    backup = fresh_ws.path / store.BACKUP_FOLDER / "copy.sqlite"
    store.copy_workspace_file(fresh_ws.db_path, backup, fresh_ws.key)
    assert revealed(backup) == []
    conn = store.connect(backup, fresh_ws.key, read_only=True)
    assert conn.execute("SELECT cccd FROM people").fetchone()[0] == CCCD
    conn.close()


def test_full_text_search_works_on_an_encrypted_workspace(ws):
    add_person(ws)
    assert not ws.db_path.read_bytes().startswith(store.SQLITE_MAGIC)
    hits = search(ws.conn, "tran thi")
    assert len(hits) == 1 and hits[0].tier == 2
    assert ws.conn.execute("SELECT json_extract('{\"a\": 7}', '$.a')").fetchone()[0] == 7


# -- without the key ------------------------------------------------------------------------------
def test_without_the_key_the_workspace_does_not_open(fresh_ws, memory_keyring):
    add_person(fresh_ws)
    fresh_ws.close()
    memory_keyring.secrets.clear()  # a new computer, or the keyring was reset
    with pytest.raises(KeyNotHere) as refused:
        Workspace.open(fresh_ws.path)
    assert "dxkit" in refused.value.message and "key unlock" in refused.value.message
    assert "khóa khôi phục" in refused.value.message  # in Vietnamese: the recovery key


def test_without_the_key_sqlite_reads_nothing(fresh_ws):
    add_person(fresh_ws)
    fresh_ws.close()
    for key in (None, DatabaseKey.new()):
        with pytest.raises(store.DatabaseError):
            store.connect(fresh_ws.db_path, key, read_only=True)
    with pytest.raises(sqlite3.DatabaseError):  # nor does Python's own sqlite3
        sqlite3.connect(fresh_ws.db_path).execute("SELECT * FROM sqlite_master").fetchall()


# -- the recovery key -----------------------------------------------------------------------------
def test_the_recovery_key_opens_the_workspace_on_another_computer(fresh_ws, memory_keyring):
    add_person(fresh_ws)
    printed = fresh_ws.key.recovery_text()
    fresh_ws.close()
    memory_keyring.secrets.clear()
    typed = printed.lower().replace("-", " ")  # as a person types it
    WorkspaceKeys(fresh_ws.path).unlock(DatabaseKey.from_recovery_text(typed), fresh_ws.db_path)
    again = Workspace.open(fresh_ws.path)
    assert cccds(again) == [CCCD]
    again.close()


def test_the_recovery_key_works_when_encryption_json_is_lost(fresh_ws, memory_keyring):
    add_person(fresh_ws)
    printed = fresh_ws.key.recovery_text()
    fresh_ws.close()
    memory_keyring.secrets.clear()
    (fresh_ws.path / STATE_FILENAME).unlink()
    with pytest.raises(WorkspaceError, match="dxkit key unlock"):
        Workspace.open(fresh_ws.path)
    keys = WorkspaceKeys(fresh_ws.path)
    with pytest.raises(RecoveryKeyError):
        keys.unlock(DatabaseKey.new(), fresh_ws.db_path)
    keys.unlock(DatabaseKey.from_recovery_text(printed), fresh_ws.db_path)
    Workspace.open(fresh_ws.path).close()


def test_a_mistyped_or_foreign_recovery_key_is_refused(fresh_ws, tmp_path):
    printed = fresh_ws.key.recovery_text()
    assert len(printed.split("-")) == 14
    wrong = printed[:5] + ("A" if printed[5] != "A" else "B") + printed[6:]
    with pytest.raises(RecoveryKeyError, match="nhầm"):
        DatabaseKey.from_recovery_text(wrong)
    with pytest.raises(RecoveryKeyError):
        DatabaseKey.from_recovery_text(printed[:-5])
    other = Workspace.open(tmp_path / "other")
    with pytest.raises(RecoveryKeyError, match="thư mục dữ liệu khác"):
        WorkspaceKeys(fresh_ws.path).unlock(other.key, fresh_ws.db_path)
    other.close()


def test_the_key_never_appears_in_a_repr(fresh_ws):
    assert fresh_ws.key.hex() not in repr(fresh_ws.key)


# -- converting a plain workspace -----------------------------------------------------------------
def test_a_plain_workspace_is_converted_keeping_every_row_with_a_backup(tmp_path):
    folder = plain_workspace(tmp_path)
    db_path = folder / store.DB_FILENAME
    before = content_digest(store.connect(db_path, None, read_only=True))
    assert revealed(db_path)

    ws = Workspace.open(folder)
    assert cccds(ws) == [CCCD]
    ws.close()
    after = content_digest(store.connect(db_path, ws.key, read_only=True))
    assert after == before and after["people"][0] == 1
    assert revealed(db_path) == []
    assert not db_path.with_name(store.DB_FILENAME + PLAIN_LEFTOVER).exists()
    backups = sorted((folder / store.BACKUP_FOLDER).iterdir())
    assert [b.name.startswith("before-encryption-") for b in backups] == [False, True]
    for backup in backups:  # the older plain backup is encrypted too
        assert revealed(backup) == []
        assert content_digest(store.connect(backup, ws.key, read_only=True)) == before


def test_a_conversion_stopped_between_its_renames_resumes(tmp_path):
    folder = plain_workspace(tmp_path)
    db_path = folder / store.DB_FILENAME
    os.replace(db_path, db_path.with_name(store.DB_FILENAME + PLAIN_LEFTOVER))
    ws = Workspace.open(folder)
    assert cccds(ws) == [CCCD]
    ws.close()
    assert revealed(db_path) == [] and sorted(p.name for p in folder.iterdir()) == [
        "backups", "dxkit.lock", store.DB_FILENAME, STATE_FILENAME]


# -- where the key is kept ------------------------------------------------------------------------
def test_the_key_is_in_the_keyring_and_not_in_the_workspace(fresh_ws, memory_keyring):
    assert WorkspaceKeys(fresh_ws.path).stored_in() == "keyring"
    assert fresh_ws.key.hex() in memory_keyring.secrets.values()
    fresh_ws.close()
    for path in fresh_ws.path.rglob("*"):
        if path.is_file():
            assert fresh_ws.key.hex().encode() not in path.read_bytes(), path


def test_without_a_keyring_the_key_file_is_private_and_outside_the_workspace(tmp_path,
                                                                             key_files):
    ws = Workspace.open(tmp_path / "ws")
    assert WorkspaceKeys(ws.path).stored_in() == "file"
    (found,) = [p for p in key_folder().rglob("*") if p.is_file()
                and p.read_text(encoding="utf-8") == ws.key.hex()]
    assert ws.path not in found.parents
    if os.name == "posix":
        assert stat.S_IMODE(found.stat().st_mode) == 0o600
        assert stat.S_IMODE(found.parent.stat().st_mode) == 0o700
    ws.close()


# -- private files --------------------------------------------------------------------------------
def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@POSIX_ONLY
def test_a_new_workspace_is_private_even_with_a_permissive_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        ws = Workspace.open(tmp_path / "parent" / "ws")
        add_person(ws)
        ws.settings.set("current_member_id", "m1")
        store.copy_workspace_file(ws.db_path, ws.path / store.BACKUP_FOLDER / "b.sqlite", ws.key)
        files = [p for p in ws.path.rglob("*") if p.is_file()]
        names = {p.name for p in files}
        assert {store.DB_FILENAME, f"{store.DB_FILENAME}-wal", f"{store.DB_FILENAME}-shm",
                STATE_FILENAME, "settings.json", "b.sqlite"} <= names
        assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
        assert mode(ws.path) == mode(ws.path / store.BACKUP_FOLDER) == 0o700
        assert mode(ws.path.parent) == 0o700  # made by dxkit too
        ws.close()
    finally:
        os.umask(previous)


@POSIX_ONLY
def test_an_older_workspace_is_made_private_when_opened(tmp_path):
    folder = plain_workspace(tmp_path)
    (folder / "settings.json").write_text("{}", encoding="utf-8")
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    Workspace.open(folder).close()
    for path in [folder, *folder.rglob("*")]:
        assert mode(path) == (0o700 if path.is_dir() else 0o600), path


def test_copying_the_folder_to_another_computer_needs_the_recovery_key(fresh_ws, tmp_path,
                                                                      memory_keyring):
    add_person(fresh_ws)
    fresh_ws.close()
    stick = tmp_path / "stick"
    shutil.copytree(fresh_ws.path, stick)
    memory_keyring.secrets.clear()  # the other computer's keyring
    with pytest.raises(KeyNotHere):
        Workspace.open(stick)
    for path in stick.rglob("*"):
        if path.is_file():
            assert revealed(path) == [], path
