"""The workspace file: pragmas, migrations, and refusing files that are not ours or are damaged."""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from dxkit.core import backup, store
from dxkit.core.domain import Domain, Migration
from dxkit.core.encryption import WorkspaceKeys
from dxkit.core.errors import WorkspaceError
from dxkit.core.workspace import migrations
from dxkit.workspace import DOMAINS, Workspace


def latest_version() -> int:
    return len(migrations(DOMAINS))


def add_migration(monkeypatch: pytest.MonkeyPatch, step: Migration) -> None:
    """A later dxkit: one more domain migration than this workspace has."""
    monkeypatch.setattr(Workspace, "domains", (*DOMAINS, Domain("later", migrations=(step,))))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def open_file(db_path: Path, folder: Path | None = None) -> sqlite3.Connection:
    """A workspace file (or a backup) opened with its workspace's key, as dxkit opens it."""
    return store.connect(db_path, WorkspaceKeys(folder or db_path.parent).key())


def folder_listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def make_workspace(folder: Path, households: int = 3) -> Path:
    ws = Workspace.open(folder)
    ws.catalog.add_hamlet("Khóm 3")
    with ws.transaction():
        for n in range(households):
            ws.households.add(code=f"K3-{n:04d}", head_name=f"Nguyễn Văn {n}", hamlet="Khóm 3",
                              address="Đường Nguyễn Huệ, phường Mỹ Tho " * 3)
    ws.close()
    return folder / store.DB_FILENAME


def assert_refused_untouched(folder: Path, *fragments: str) -> WorkspaceError:
    db_path = folder / store.DB_FILENAME
    before_hash, before_files = sha256(db_path), folder_listing(folder)
    with pytest.raises(WorkspaceError) as caught:
        Workspace.open(folder)
    assert sha256(db_path) == before_hash
    assert folder_listing(folder) == before_files  # no -wal, -shm or settings created
    for fragment in fragments:
        assert fragment in caught.value.message
    return caught.value


# -- a new workspace ---------------------------------------------------------------------------
def test_new_workspace_pragmas(fresh_ws):
    conn = fresh_ws.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA application_id").fetchone()[0] == store.APPLICATION_ID
    assert conn.execute("PRAGMA user_version").fetchone()[0] == latest_version()
    assert latest_version() >= 1
    assert fresh_ws.created


def test_application_id_is_in_the_encrypted_file_header(fresh_ws):
    assert not fresh_ws.db_path.read_bytes().startswith(store.SQLITE_MAGIC)  # all encrypted
    fresh_ws.close()
    conn = store.connect(fresh_ws.db_path, fresh_ws.key, read_only=True)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == store.APPLICATION_ID
    conn.close()


def test_foreign_keys_are_enforced(fresh_ws):
    with pytest.raises(store.IntegrityError), fresh_ws.transaction() as tx:
        tx.insert("households", {"code": "X", "code_key": "x", "head_name": "A",
                                 "head_key": "a", "hamlet_id": "no-such-hamlet"})
    assert fresh_ws.households.count() == 0


def test_reopening_is_idempotent(tmp_path):
    folder = tmp_path / "ws"
    first = Workspace.open(folder)
    device, indicators = first.device_id, len(first.catalog.indicators())
    items = len(first.catalog.support_items())
    first.close()
    for _ in range(2):
        again = Workspace.open(folder)
        assert not again.created
        assert again.device_id == device
        assert len(again.catalog.indicators()) == indicators
        assert len(again.catalog.support_items()) == items
        assert again.conn.execute("PRAGMA user_version").fetchone()[0] == latest_version()
        applied = again.conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0]
        assert applied == latest_version()
        again.close()
    # Nothing to migrate: the only copy is the daily backup of the first reopen.
    assert [b.reason for b in backup.list_backups(folder)] == ["daily"]


def test_clock_survives_reopen(tmp_path):
    folder = tmp_path / "ws"
    ws = Workspace.open(folder)
    ws.catalog.add_hamlet("Ấp 1")
    last = ws.clock.last
    ws.close()
    again = Workspace.open(folder)
    assert again.clock.now() > last
    again.close()


def test_a_file_path_is_not_a_workspace(tmp_path):
    plain = tmp_path / "notes.txt"
    plain.write_text("hello", encoding="utf-8")
    with pytest.raises(WorkspaceError):
        Workspace.open(plain)
    assert plain.read_text(encoding="utf-8") == "hello"


# -- files that are not ours -------------------------------------------------------------------
def test_random_bytes_are_refused_untouched(tmp_path):
    folder = tmp_path / "ws"
    folder.mkdir()
    (folder / store.DB_FILENAME).write_bytes(random.Random(7).randbytes(8192))
    assert_refused_untouched(folder, str(folder / store.DB_FILENAME))


def test_text_file_named_like_a_workspace_is_refused_untouched(tmp_path):
    folder = tmp_path / "ws"
    folder.mkdir()
    (folder / store.DB_FILENAME).write_text("Danh sách hộ gia đình\nMH-001;Nguyễn Văn An\n",
                                            encoding="utf-8")
    assert_refused_untouched(folder)


@pytest.mark.parametrize("journal", ["delete", "wal"])
def test_another_apps_sqlite_file_is_refused_untouched(tmp_path, journal):
    folder = tmp_path / "ws"
    folder.mkdir()
    other = sqlite3.connect(folder / store.DB_FILENAME)
    other.execute(f"PRAGMA journal_mode = {journal}")
    other.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    other.execute("INSERT INTO notes (body) VALUES ('not dxkit')")
    other.commit()
    other.close()
    error = assert_refused_untouched(folder)
    assert "dxkit" in error.message


def test_truncated_workspace_is_refused_untouched(tmp_path):
    db_path = make_workspace(tmp_path / "ws", households=400)
    size = db_path.stat().st_size
    assert size > 20 * 4096
    os.truncate(db_path, size // 2)
    assert_refused_untouched(db_path.parent)


def test_workspace_with_overwritten_pages_is_refused_untouched(tmp_path):
    db_path = make_workspace(tmp_path / "ws", households=400)
    page = 4096
    pages = db_path.stat().st_size // page
    with db_path.open("r+b") as handle:
        handle.seek((pages // 2) * page)
        handle.write(random.Random(3).randbytes(3 * page))
    assert_refused_untouched(db_path.parent)


def test_newer_user_version_is_refused_naming_versions(tmp_path):
    db_path = make_workspace(tmp_path / "ws")
    conn = open_file(db_path)
    conn.execute("PRAGMA user_version = 42")
    conn.close()
    error = assert_refused_untouched(db_path.parent, "42", str(latest_version()))
    assert "dxkit" in error.message


def test_unknown_applied_migration_is_refused_naming_versions(tmp_path):
    db_path = make_workspace(tmp_path / "ws")
    conn = open_file(db_path)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                 "VALUES ('dxkit', '0099_from_the_future', '2030-01-01')")
    conn.close()
    assert_refused_untouched(db_path.parent, str(latest_version()),
                             str(latest_version() + 1))


def test_other_migration_sets_do_not_count(tmp_path):
    db_path = make_workspace(tmp_path / "ws")
    conn = open_file(db_path)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                 "VALUES ('plugin', '0001_plugin', '2026-01-01')")
    conn.close()
    Workspace.open(db_path.parent).close()


# -- migrating an older workspace ----------------------------------------------------------------
def _add_region_column(db: Database) -> None:
    db["households"].add_column("region", str)
    db.execute("UPDATE households SET region = 'Mekong'")


def test_pending_migration_applies_keeps_data_and_writes_backup(tmp_path, monkeypatch):
    db_path = make_workspace(tmp_path / "ws", households=5)
    old_version = latest_version()
    add_migration(monkeypatch, Migration("9001_test_region", _add_region_column))

    ws = Workspace.open(db_path.parent)
    conn = ws.conn
    assert not ws.created
    assert conn.execute("PRAGMA user_version").fetchone()[0] == old_version + 1
    assert ws.households.count() == 5
    regions = {r[0] for r in conn.execute("SELECT region FROM households")}
    assert regions == {"Mekong"}
    names = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
    assert names[-1] == "9001_test_region"
    ws.close()

    backups = list((db_path.parent / "backups").glob("*.sqlite"))
    assert len(backups) == 1
    assert "9001_test_region" in backups[0].name
    assert not backups[0].read_bytes().startswith(store.SQLITE_MAGIC)  # encrypted too
    copy = open_file(backups[0], db_path.parent)
    assert copy.execute("PRAGMA user_version").fetchone()[0] == old_version
    assert copy.execute("SELECT count(*) FROM households").fetchone()[0] == 5
    columns = {r[1] for r in copy.execute("PRAGMA table_info(households)")}
    assert "region" not in columns
    copy.close()

    Workspace.open(db_path.parent).close()  # nothing pending: no second backup
    assert len(list((db_path.parent / "backups").glob("*.sqlite"))) == 1


def test_failing_migration_rolls_back_and_keeps_data(tmp_path, monkeypatch):
    db_path = make_workspace(tmp_path / "ws", households=5)
    old_version = latest_version()

    def broken(db: Database) -> None:
        db.execute("ALTER TABLE households ADD COLUMN half_done TEXT")
        raise RuntimeError("migration bug")

    add_migration(monkeypatch, Migration("9002_broken", broken))
    with pytest.raises(RuntimeError):
        Workspace.open(db_path.parent)
    monkeypatch.undo()

    ws = Workspace.open(db_path.parent)
    conn = ws.conn
    assert conn.execute("PRAGMA user_version").fetchone()[0] == old_version
    assert "half_done" not in {r[1] for r in conn.execute("PRAGMA table_info(households)")}
    assert ws.households.count() == 5
    ws.close()


def test_copy_workspace_file_is_a_consistent_copy(ws, tmp_path):
    ws.households.add(code="MH-001", head_name="Nguyễn Văn An", hamlet="Ấp Mỹ Hưng")
    target = tmp_path / "copy.sqlite"
    store.copy_workspace_file(ws.db_path, target, ws.key)
    assert not target.read_bytes().startswith(store.SQLITE_MAGIC)
    copy = store.connect(target, ws.key)
    assert [tuple(r) for r in copy.execute("SELECT code FROM households")] == [("MH-001",)]
    copy.close()


def test_new_workspace_with_several_migrations_is_seeded(tmp_path, monkeypatch):
    add_migration(monkeypatch, Migration("9001_test_region", _add_region_column))
    ws = Workspace.open(tmp_path / "ws")
    assert ws.created
    assert ws.catalog.indicators() and ws.catalog.support_items()
    assert ws.conn.execute("PRAGMA user_version").fetchone()[0] == latest_version() + 1
    assert not (tmp_path / "ws" / "backups").exists()  # nothing to back up on a new workspace
    ws.close()
