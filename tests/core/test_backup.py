"""Automatic backups: names, single-file copies, daily on open and close, rotation, and the
restore point before risky operations."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dxkit.core import backup, store
from dxkit.core.encryption import KeyNotHere, WorkspaceKeys
from dxkit.core.keys import DatabaseKey
from dxkit.workspace import Workspace
from tests.support.workspace_file import open_copy

T0 = dt.datetime(2026, 11, 20, 2, 30, tzinfo=dt.UTC)


def at(moment: dt.datetime):
    return lambda: moment


def make_workspace(folder: Path) -> Path:
    """A workspace with one hamlet, closed (its creation makes no backup: nothing to keep)."""
    with Workspace.open(folder, utc_now=at(T0)) as ws:
        ws.catalog.add_hamlet("Khóm 3")
    return folder


def reasons(folder: Path) -> list[str]:
    return [b.reason for b in backup.list_backups(folder)]


def test_a_backup_is_one_consistent_file_named_by_reason_and_utc_time(ws):
    ws.households.add(code="MH-001", head_name="Nguyễn Văn An", hamlet="Ấp Mỹ Hưng")
    ws.utc_now = at(dt.datetime(2026, 11, 20, 16, 45, 5, tzinfo=dt.timezone(dt.timedelta(hours=7))))
    made = ws.backup_now()
    assert made.path == ws.path / "backups" / "manual-20261120T094505Z.sqlite"
    assert (made.reason, made.created) == ("manual", dt.datetime(2026, 11, 20, 9, 45, 5,
                                                                 tzinfo=dt.UTC))
    copy = open_copy(made.path, ws.path)
    assert [tuple(r) for r in copy.execute("SELECT code FROM households")] == [("MH-001",)]
    assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    copy.close()
    assert sorted(p.name for p in made.path.parent.iterdir()) == [made.path.name]

    again = ws.backup_now()  # same second, same reason: a second file, not an overwrite
    assert again.path.name == "manual-20261120T094505Z-2.sqlite"
    assert [b.path for b in ws.backups()] == [again.path, made.path]
    assert again.to_dict() == {"path": str(again.path), "created": "2026-11-20T09:45:05Z",
                               "reason": "manual", "size": again.path.stat().st_size}


def test_a_new_workspace_gets_no_daily_backup(tmp_path):
    Workspace.open(tmp_path / "ws", utc_now=at(T0)).close()
    assert reasons(tmp_path / "ws") == []


def test_the_first_reopen_makes_a_daily_backup_then_not_again_that_day(tmp_path):
    folder = make_workspace(tmp_path / "ws")
    Workspace.open(folder, utc_now=at(T0 + dt.timedelta(hours=1))).close()
    assert reasons(folder) == ["daily"]
    Workspace.open(folder, utc_now=at(T0 + dt.timedelta(hours=20))).close()
    assert reasons(folder) == ["daily"]


def test_a_daily_backup_is_made_on_open_when_the_last_is_a_day_old(tmp_path):
    folder = make_workspace(tmp_path / "ws")
    backup.create(folder, "before-import", now=T0)
    ws = Workspace.open(folder, utc_now=at(T0 + dt.timedelta(hours=23)))
    assert reasons(folder) == ["before-import"]  # any backup younger than a day will do
    ws.close()
    ws = Workspace.open(folder, utc_now=at(T0 + dt.timedelta(days=2)))
    made = backup.list_backups(folder)[0]
    assert (made.reason, made.created) == ("daily", T0 + dt.timedelta(days=2))
    ws.close()


def test_a_daily_backup_is_made_on_close_when_the_app_ran_past_a_day(tmp_path):
    folder = make_workspace(tmp_path / "ws")
    backup.create(folder, "manual", now=T0)
    ws = Workspace.open(folder, utc_now=at(T0 + dt.timedelta(hours=2)))
    ws.catalog.add_hamlet("Ấp Tân Thuận")
    ws.utc_now = at(T0 + dt.timedelta(days=1, hours=3))
    ws.close()
    assert reasons(folder) == ["daily", "manual"]
    copy = open_copy(backup.list_backups(folder)[0].path, folder)
    assert copy.execute("SELECT count(*) FROM hamlets").fetchone()[0] == 2
    copy.close()


def test_rotation_deletes_only_backups_older_than_the_kept_days(tmp_path):
    folder = make_workspace(tmp_path / "ws")
    ages = (1, 13, 15, 20, 30)
    for days in ages:
        backup.create(folder, "daily", now=T0 - dt.timedelta(days=days))
    (folder / "backups" / "copied-by-hand.sqlite").write_bytes(b"not ours")
    deleted = backup.rotate(folder, keep_days=14, keep_newest=2, now=T0)
    assert sorted(b.created for b in deleted) == [T0 - dt.timedelta(days=30),
                                                  T0 - dt.timedelta(days=20),
                                                  T0 - dt.timedelta(days=15)]
    left = backup.list_backups(folder)
    assert [b.created for b in left if b.named] == [T0 - dt.timedelta(days=1),
                                                    T0 - dt.timedelta(days=13)]
    assert [b.path.name for b in left if not b.named] == ["copied-by-hand.sqlite"]


def test_rotation_always_keeps_the_newest_few_however_old(tmp_path):
    folder = make_workspace(tmp_path / "ws")
    for days in (40, 50, 60, 70, 80):
        backup.create(folder, "daily", now=T0 - dt.timedelta(days=days))
    backup.rotate(folder, keep_days=14, keep_newest=3, now=T0)
    assert [b.created for b in backup.list_backups(folder)] == [
        T0 - dt.timedelta(days=d) for d in (40, 50, 60)]


def test_backups_rotate_by_the_workspace_setting(tmp_path):
    folder = make_workspace(tmp_path / "ws")
    for days in (3, 4, 5, 6, 7):
        backup.create(folder, "daily", now=T0 - dt.timedelta(days=days))
    with Workspace.open(folder, utc_now=at(T0), daily_backup=False) as ws:
        assert ws.backup_keep_days == backup.DEFAULT_KEEP_DAYS == 14
        ws.set_backup_keep_days(4)
        ws.backup_now()
    with Workspace.open(folder, readonly=True) as ws:
        assert ws.backup_keep_days == 4
    # Four days kept (the fourth to the second), older ones go though six backups existed.
    assert [b.created for b in backup.list_backups(folder)] == [
        T0, *(T0 - dt.timedelta(days=d) for d in (3, 4))]


def test_older_pre_migration_copies_are_listed_for_rotation_and_erasure(tmp_path):
    folder = make_workspace(tmp_path / "ws")
    legacy = folder / "backups" / "before-0007_farm-20260301-101500.sqlite"
    legacy.parent.mkdir()
    store.copy_workspace_file(folder / store.DB_FILENAME, legacy,
                              WorkspaceKeys(folder).key())
    found = backup.list_backups(folder)
    assert [(b.path, b.reason) for b in found] == [(legacy, "before-0007_farm")]
    assert found[0].created == dt.datetime(2026, 3, 1, 10, 15).astimezone(dt.UTC)
    backup.rotate(folder, keep_days=14, keep_newest=0, now=T0)
    assert not legacy.exists()


def test_an_import_keeps_the_workspace_as_it_was_before(ws, tmp_path):
    from dxkit.households import importing

    source = tmp_path / "ho.csv"
    source.write_text("Mã hộ,Chủ hộ,Ấp/Khóm\nMH-001,Nguyễn Văn An,Ấp Mỹ Hưng\n",
                      encoding="utf-8")
    importing.apply_import(ws, source)
    assert reasons(ws.path) == ["before-import"]
    copy = open_copy(backup.list_backups(ws.path)[0].path, ws.path)
    assert copy.execute("SELECT count(*) FROM households").fetchone()[0] == 0
    copy.close()
    assert ws.households.count() == 1


# -- another computer's backup, with its recovery key ----------------------------------------------
def lost_laptop(tmp_path: Path, memory_keyring) -> tuple[Path, str]:
    """A backup of a laptop that was then lost (its key gone from every keyring here), and the
    recovery key its team leader printed."""
    old = tmp_path / "old-laptop"
    with Workspace.open(old, utc_now=at(T0)) as ws:
        ws.catalog.add_hamlet("Ấp Mỹ Hưng")
        ws.households.add(code="MH-001", head_name="Nguyễn Văn Đồng", hamlet="Ấp Mỹ Hưng")
        printed = ws.key.recovery_text()
    usb = tmp_path / "usb" / "old-laptop.sqlite"
    usb.parent.mkdir()
    backup.copy_to(old, usb)
    memory_keyring.secrets.clear()  # the old laptop and its keyring are gone
    return usb, printed


def test_another_laptops_backup_is_restored_and_re_encrypted_with_this_key(tmp_path,
                                                                          memory_keyring):
    usb, printed = lost_laptop(tmp_path, memory_keyring)
    new = tmp_path / "new-laptop"
    with Workspace.open(new, utc_now=at(T0)) as ws:
        first = ws.backup_now()  # a backup this laptop made before the restore
    own = WorkspaceKeys(new).key()

    with pytest.raises(backup.NeedsRecoveryKey, match="khóa khôi phục"):
        Workspace.restore_into(new, usb, utc_now=at(T0))
    restored = Workspace.restore_into(new, usb, utc_now=at(T0 + dt.timedelta(minutes=1)),
                                      recovery=DatabaseKey.from_recovery_text(printed))

    assert restored.rekeyed and restored.kept is not None
    assert WorkspaceKeys(new).key() == own  # this laptop kept its key
    with Workspace.open(new, readonly=True) as ws:
        assert [h.code for h in ws.households.list()] == ["MH-001"]
    # Every file in the folder opens with this laptop's key: the workspace, the backup made
    # before, and the copy of the workspace kept by the restore.
    files = [new / store.DB_FILENAME, first.path, restored.kept.path]
    assert {b.path for b in backup.list_backups(new)} == set(files[1:])
    for path in files:
        conn = store.connect(path, own, read_only=True)
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok", path
        conn.close()
    # …and none with the lost laptop's key: the file was re-encrypted, not copied.
    with pytest.raises(store.DatabaseError):
        store.connect(new / store.DB_FILENAME, DatabaseKey.from_recovery_text(printed),
                      read_only=True)
    assert not list(new.glob("*.restoring*"))


def test_a_wrong_recovery_key_is_refused_and_changes_nothing(tmp_path, memory_keyring):
    usb, _printed = lost_laptop(tmp_path, memory_keyring)
    new = make_workspace(tmp_path / "new-laptop")
    before = (new / store.DB_FILENAME).read_bytes()
    another = DatabaseKey.new()  # a recovery key without a typo, of some other workspace
    with pytest.raises(backup.WrongRecoveryKey, match="không mở được"):
        Workspace.restore_into(new, usb, recovery=another)
    assert (new / store.DB_FILENAME).read_bytes() == before
    assert backup.list_backups(new) == []
    assert not list(new.glob("*.restoring*"))


def test_a_backup_restores_into_an_empty_folder_with_its_recovery_key(tmp_path,
                                                                     memory_keyring):
    """A new laptop where dxkit never ran: the folder gets a key of its own."""
    usb, printed = lost_laptop(tmp_path, memory_keyring)
    new = tmp_path / "new-laptop"
    restored = Workspace.restore_into(new, usb, recovery=DatabaseKey.from_recovery_text(printed))
    assert restored.rekeyed and restored.kept is None
    own = WorkspaceKeys(new).key()
    assert own != DatabaseKey.from_recovery_text(printed)
    with Workspace.open(new, readonly=True) as ws:
        assert ws.households.count() == 1 and ws.key == own


def test_a_workspace_whose_key_is_lost_restores_its_own_backup_with_its_recovery_key(
        tmp_path, memory_keyring):
    folder = make_workspace(tmp_path / "ws")
    with Workspace.open(folder, utc_now=at(T0)) as ws:
        made = ws.backup_now()
        ws.catalog.add_hamlet("Ấp Sau")
        printed = ws.key.recovery_text()
    memory_keyring.secrets.clear()  # the keyring was reset
    with pytest.raises(KeyNotHere):
        Workspace.restore_into(folder, made.path)
    restored = Workspace.restore_into(folder, made.path,
                                      recovery=DatabaseKey.from_recovery_text(printed))
    assert not restored.rekeyed
    with Workspace.open(folder, readonly=True) as ws:
        assert [h.name for h in ws.catalog.hamlets()] == ["Khóm 3"]
