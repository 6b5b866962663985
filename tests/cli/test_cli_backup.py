"""`dxkit backup`: create, list and restore, and restores that are refused without touching
the workspace."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from dxkit.core import backup, store
from dxkit.core.encryption import WorkspaceKeys
from dxkit.core.errors import WorkspaceError
from dxkit.core.keys import DatabaseKey
from dxkit.workspace import Workspace
from tests.cli.conftest import VALID_CCCD, as_json
from tests.support.workspace_file import open_copy


def hamlet_names(folder: Path) -> list[str]:
    with Workspace.open(folder, readonly=True) as ws:
        return [h.name for h in ws.catalog.hamlets()]


def state(folder: Path) -> tuple[str, list[str], list[str]]:
    """The workspace file's bytes, the backups folder, and what the workspace holds."""
    digest = hashlib.sha256((folder / store.DB_FILENAME).read_bytes()).hexdigest()
    backups = sorted(p.name for p in (folder / "backups").iterdir())
    return digest, backups, hamlet_names(folder)


def make_backup(dxkit, folder: Path) -> Path:
    made = as_json(dxkit(folder, "backup", "create", "--json"))
    return Path(made["path"])


def test_create_list_and_restore_round_trip(dxkit, filled_dir: Path, tmp_path: Path):
    made = make_backup(dxkit, filled_dir)
    assert made.parent == filled_dir / "backups" and made.is_file()
    listed = as_json(dxkit(filled_dir, "backup", "list", "--json"))
    assert listed == [{"path": str(made), "created": listed[0]["created"], "reason": "manual",
                       "size": made.stat().st_size}]
    assert listed[0]["created"].endswith("Z")
    out = tmp_path / "usb" / "copy.sqlite"
    out.parent.mkdir()
    assert as_json(dxkit(filled_dir, "backup", "create", "--out", str(out), "--json")) == {
        "path": str(out)}

    assert dxkit(filled_dir, "hamlets", "add", "Ấp Tân Thuận").exit_code == 0
    with Workspace.open(filled_dir, readonly=True) as ws:
        clock_before = ws.clock.last
    restored = as_json(dxkit(filled_dir, "backup", "restore", str(made), "--yes", "--json"))
    assert restored["restored"] == str(made)
    kept = Path(restored["kept"])
    assert kept.name.startswith("before-restore-")

    assert "Ấp Tân Thuận" not in hamlet_names(filled_dir)
    with Workspace.open(filled_dir, readonly=True) as ws:
        assert ws.households.count() == 3
        assert ws.clock.last >= clock_before  # edits after a restore sort after earlier ones
        assert ws.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # The workspace as it was before the restore is kept and can itself be restored.
    assert "Ấp Tân Thuận" in [r[0] for r in open_copy(kept, filled_dir).execute(
        "SELECT name FROM hamlets")]
    reasons = [b["reason"] for b in as_json(dxkit(filled_dir, "backup", "list", "--json"))]
    assert sorted(reasons) == ["before-restore", "manual"]
    dxkit(filled_dir, "backup", "restore", str(kept), "--yes")
    assert "Ấp Tân Thuận" in hamlet_names(filled_dir)


def test_restore_asks_first(dxkit, filled_dir: Path):
    made = make_backup(dxkit, filled_dir)
    dxkit(filled_dir, "hamlets", "add", "Ấp Tân Thuận")
    before = state(filled_dir)
    from click.testing import CliRunner

    from dxkit.cli import cli

    answered = CliRunner().invoke(cli, ["--data-dir", str(filled_dir), "backup", "restore",
                                        str(made)], input="n\n")
    assert answered.exit_code == 1
    assert state(filled_dir) == before


def _truncated(source: Path, target: Path) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    return target


def _overwritten(source: Path, target: Path) -> Path:
    data = bytearray(source.read_bytes())
    data[8192:16384] = b"\xa5" * 8192  # two pages of the middle: a bad sector, a bad copy
    target.write_bytes(bytes(data))
    return target


def _from_another_workspace(_source: Path, target: Path) -> Path:
    with Workspace.open(target.parent / "other-ws") as other:
        other.catalog.add_hamlet("Ấp Khác")
    backup.copy_to(target.parent / "other-ws", target)
    return target


def _newer(source: Path, target: Path) -> Path:
    shutil.copyfile(source, target)
    conn = open_copy(target, source.parent.parent)  # the backup's workspace has its key
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                 "VALUES ('dxkit', '9999_from_the_future', '2027-01-01')")
    conn.execute("PRAGMA user_version = 9999")
    conn.commit()
    conn.close()
    return target


def _another_apps_database(_source: Path, target: Path) -> Path:
    conn = sqlite3.connect(target)
    conn.execute("CREATE TABLE notes (text TEXT)")
    conn.close()
    return target


def _text(_source: Path, target: Path) -> Path:
    target.write_text("Danh sách hộ\n" * 100, encoding="utf-8")
    return target


@pytest.mark.parametrize(("make_file", "words"), [
    (_truncated, "hỏng"), (_overwritten, "hỏng"), (_from_another_workspace, "khác"),
    (_newer, "9999"), (_another_apps_database, "không phải"), (_text, "hỏng"),
])
def test_a_refused_restore_leaves_the_workspace_untouched(dxkit, filled_dir: Path,
                                                         tmp_path: Path, make_file, words):
    made = make_backup(dxkit, filled_dir)
    candidate = make_file(made, tmp_path / "candidate.sqlite")
    dxkit(filled_dir, "hamlets", "add", "Ấp Tân Thuận")
    before = state(filled_dir)
    candidate_bytes = candidate.read_bytes()

    refused = dxkit(filled_dir, "backup", "restore", str(candidate), "--yes")
    assert refused.exit_code == 1
    sentence = refused.stderr.strip()
    assert "\n" not in sentence and str(candidate) in sentence and words in sentence
    assert state(filled_dir) == before  # same bytes, no pre-restore backup, same data
    assert candidate.read_bytes() == candidate_bytes  # the chosen file is only read
    assert not list(filled_dir.glob("*.restoring*"))


def test_a_workspace_too_damaged_to_open_can_be_restored(dxkit, filled_dir: Path):
    made = make_backup(dxkit, filled_dir)
    _overwritten(filled_dir / store.DB_FILENAME, filled_dir / store.DB_FILENAME)
    with pytest.raises(WorkspaceError):
        Workspace.open(filled_dir)
    listed = as_json(dxkit(filled_dir, "backup", "list", "--json"))  # the folder still lists
    assert [b["path"] for b in listed] == [str(made)]

    result = dxkit(filled_dir, "backup", "restore", str(made), "--yes")
    assert result.exit_code == 0, result.output
    assert hamlet_names(filled_dir) == ["Ấp Mỹ Hưng", "Khóm 3", "Ấp Đông Hòa"]
    kept = [b for b in backup.list_backups(filled_dir) if b.reason.startswith("before-restore")]
    assert len(kept) == 1  # the damaged file is kept too, never thrown away


def test_another_laptops_backup_does_not_open_without_its_key(dxkit, filled_dir: Path,
                                                               tmp_path: Path):
    """Backups are encrypted with their workspace's key: on a new laptop, another laptop's
    backup is refused in one sentence and the new workspace stays as it was."""
    old_laptop_copy = tmp_path / "usb.sqlite"
    dxkit(filled_dir, "backup", "create", "--out", str(old_laptop_copy))
    new_laptop = tmp_path / "new-laptop"
    Workspace.open(new_laptop).close()  # the app's first start made an empty workspace
    result = dxkit(new_laptop, "backup", "restore", str(old_laptop_copy), "--yes")
    assert result.exit_code == 1
    assert "khóa khác" in result.stderr and "\n" not in result.stderr.strip()
    assert "--recovery-key -" in result.stderr and str(old_laptop_copy) in result.stderr
    with Workspace.open(new_laptop, readonly=True) as ws:
        assert ws.households.count() == 0


@pytest.fixture
def lost_laptop(dxkit, filled_dir: Path, tmp_path: Path, memory_keyring) -> tuple[Path, str]:
    """A backup of a laptop that was then lost (its key is in no keyring here), and the
    recovery key its team leader printed."""
    printed = WorkspaceKeys(filled_dir).key().recovery_text()
    usb = tmp_path / "usb.sqlite"
    assert dxkit(filled_dir, "backup", "create", "--out", str(usb)).exit_code == 0
    memory_keyring.secrets.clear()
    return usb, printed


@pytest.fixture
def new_laptop(tmp_path: Path) -> Path:
    """The app's first start on the new laptop made an empty workspace, and a backup of it."""
    folder = tmp_path / "new-laptop"
    with Workspace.open(folder) as ws:
        ws.backup_now()
    return folder


def test_another_laptops_backup_restores_with_its_recovery_key(dxkit, lost_laptop,
                                                                new_laptop: Path):
    usb, printed = lost_laptop
    own = WorkspaceKeys(new_laptop).key()
    typed = printed.lower().replace("-", " ")  # as a person types it from the sheet
    result = dxkit(new_laptop, "backup", "restore", str(usb), "--yes", "--recovery-key", typed)
    assert result.exit_code == 0, result.output
    assert "mã hóa lại bằng khóa của máy này" in result.stdout
    with Workspace.open(new_laptop, readonly=True) as ws:
        assert ws.households.count() == 3
        assert [row[0] for row in ws.conn.execute(
            "SELECT cccd FROM people WHERE cccd <> ''")] == [VALID_CCCD]
    # The workspace reopens on this laptop as usual, with this laptop's key, and so does
    # every backup in its folder, the one kept by the restore among them.
    people = as_json(dxkit(new_laptop, "people", "list", "MH-001", "--json"))
    assert [p["full_name"] for p in people if p["cccd"]] == ["Nguyễn Văn Đồng"]
    assert WorkspaceKeys(new_laptop).key() == own
    listed = as_json(dxkit(new_laptop, "backup", "list", "--json"))
    assert sorted(b["reason"] for b in listed) == ["before-restore", "manual"]
    for item in listed:
        open_copy(Path(item["path"]), new_laptop).close()


def test_the_recovery_key_can_be_typed_at_a_hidden_prompt(lost_laptop, new_laptop: Path):
    from click.testing import CliRunner

    from dxkit.cli import cli

    usb, printed = lost_laptop
    result = CliRunner().invoke(cli, ["--data-dir", str(new_laptop), "backup", "restore",
                                      str(usb), "--yes", "--recovery-key", "-", "--json"],
                                input=printed + "\n")
    assert result.exit_code == 0, result.output
    assert printed not in result.output  # not echoed
    answer = json.loads(result.stdout)
    assert answer == {"restored": str(usb), "kept": answer["kept"]}  # the same form as before
    assert Path(answer["kept"]).name.startswith("before-restore-")
    with Workspace.open(new_laptop, readonly=True) as ws:
        assert ws.households.count() == 3


def _wrong_key(printed: str) -> str:
    return DatabaseKey.new().recovery_text()  # no typo: some other workspace's key


def _mistyped(printed: str) -> str:
    return printed.replace(printed[0], "A" if printed[0] != "A" else "B", 1)


@pytest.mark.parametrize(("key_of", "words"), [
    (_wrong_key, "đây là khóa khôi phục của dữ liệu khác"),
    (_mistyped, "bị gõ nhầm"),
])
def test_a_wrong_or_mistyped_recovery_key_is_refused_in_one_sentence(
        dxkit, lost_laptop, new_laptop: Path, key_of, words):
    usb, printed = lost_laptop
    before = state(new_laptop)
    refused = dxkit(new_laptop, "backup", "restore", str(usb), "--yes",
                    "--recovery-key", key_of(printed))
    assert refused.exit_code == 1
    sentence = refused.stderr.strip()
    assert "\n" not in sentence and words in sentence
    assert state(new_laptop) == before
    assert not list(new_laptop.glob("*.restoring*"))


def test_backup_settings_change_the_kept_days(dxkit, team_dir: Path):
    shown = as_json(dxkit(team_dir, "backup", "settings", "--json"))
    assert shown == {"keep_days": 14, "keep_newest": 3, "folder": str(team_dir / "backups")}
    dxkit(team_dir, "backup", "settings", "--keep-days", "30")
    assert as_json(dxkit(team_dir, "backup", "settings", "--json"))["keep_days"] == 30
    assert dxkit(team_dir, "backup", "settings", "--keep-days", "0").exit_code == 2


def test_backup_list_in_words(dxkit, team_dir: Path):
    assert dxkit(team_dir, "backup", "list").output.strip() == "Chưa có bản sao lưu nào."
    make_backup(dxkit, team_dir)
    line = dxkit(team_dir, "backup", "list").output.strip()
    assert "làm thủ công" in line and "manual-" in line and " MB" in line
    assert json.loads(dxkit(team_dir, "backup", "list", "--json").stdout)[0]["reason"] == (
        "manual")
