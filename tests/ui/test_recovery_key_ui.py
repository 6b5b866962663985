"""The recovery key in the app: the unlock dialog at start (typo, another workspace's key, the
right key opens the workspace; Quit opens nothing), restoring another computer's backup from
Settings (asks for the key, says a wrong one and asks again, then restores), and showing the
key once (Print, and recorded only when the team leader says it is kept)."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog

from dxkit.core import backup, store
from dxkit.core.encryption import KEY_SERVICE, KeyNotHere, WorkspaceKeys
from dxkit.core.keys import DatabaseKey
from dxkit.ui import app
from dxkit.ui.context import AppContext
from dxkit.ui.recovery_key import RecoverySheetDialog, RestoreKeyDialog, UnlockDialog
from dxkit.ui.settings_page import SettingsPage
from dxkit.workspace import Workspace
from tests.ui.conftest import settle


@pytest.fixture(autouse=True)
def _garbage_collected_on_the_main_thread():
    """As in test_backup_ui: a restore allocates a lot on the database thread; earlier
    tests' widgets must not be collected there."""
    gc.collect()
    yield
    gc.collect()


def forget_key(folder: Path, memory_keyring) -> None:
    """This computer's keyring no longer has the key of the workspace in `folder`."""
    state = WorkspaceKeys(folder).state()
    assert state is not None
    del memory_keyring.secrets[(KEY_SERVICE, state.key_id)]


def mistyped(printed: str) -> str:
    return printed.replace(printed[0], "A" if printed[0] != "A" else "B", 1)


@pytest.fixture
def locked(tmp_path, memory_keyring) -> tuple[Path, str]:
    """A workspace with a household, whose key this computer lost, and its recovery key."""
    folder = tmp_path / "ws"
    with Workspace.open(folder) as ws:
        ws.catalog.add_hamlet("Ấp Mỹ Hưng")
        ws.households.add(code="MH-001", head_name="Nguyễn Văn Đồng", hamlet="Ấp Mỹ Hưng")
        printed = ws.key.recovery_text()
    memory_keyring.secrets.clear()
    return folder, printed


# -- the unlock dialog ----------------------------------------------------------------------
def test_the_unlock_dialog_says_a_typo_then_another_workspaces_key_then_opens(locked, qtbot):
    folder, printed = locked
    dialog = UnlockDialog(folder)
    qtbot.addWidget(dialog)
    dialog.show()
    field = dialog.key_input

    field.set_text(mistyped(printed))
    assert not dialog.try_key()
    assert field.error.isVisible() and field.error.text().startswith(
        "Khóa khôi phục này bị gõ nhầm")
    field.set_text(printed[:20])
    assert field.count.text() == "16/56 chữ và số"
    assert not dialog.try_key()
    assert "có 16" in field.error.text()

    field.set_text(DatabaseKey.new().recovery_text())  # no typo, another workspace's
    assert not dialog.try_key()
    assert "thuộc về một thư mục dữ liệu khác" in field.error.text()
    assert dialog.workspace is None
    with pytest.raises(KeyNotHere):
        WorkspaceKeys(folder).key()  # still locked

    field.set_text(printed.lower().replace("-", " "))  # as a person types it
    assert not field.error.isVisible()  # typing again clears the last sentence
    assert dialog.try_key()
    assert dialog.result() == QDialog.DialogCode.Accepted
    ws = dialog.workspace
    assert ws is not None
    try:
        assert ws.households.count() == 1
    finally:
        ws.close()
    Workspace.open(folder).close()  # the key is kept on this computer now


def test_the_key_field_tidies_what_was_typed_into_groups(qtbot):
    dialog = RestoreKeyDialog(Path("may-cu.sqlite"))
    qtbot.addWidget(dialog)
    dialog.key_input.set_text("abcd efgh-ijkl mn")
    dialog.key_input._tidy()
    assert dialog.key_input.text() == "ABCD-EFGH-IJKL-MN"


def test_the_app_asks_for_the_recovery_key_instead_of_an_error(locked, monkeypatch, qtbot):
    folder, printed = locked

    def type_the_key(dialog: UnlockDialog) -> int:
        assert dialog.windowTitle() == "Mở khóa dữ liệu" and str(folder) in dialog.detail.text()
        dialog.key_input.set_text(printed)
        assert dialog.try_key()
        return dialog.result()

    monkeypatch.setattr(UnlockDialog, "exec", type_the_key)
    ws = app.open_workspace(str(folder))
    assert ws is not None
    try:
        assert ws.households.count() == 1 and not ws.readonly
    finally:
        ws.close()


def test_quitting_the_unlock_dialog_quits_the_app_cleanly(locked, monkeypatch, qtbot):
    folder, _printed = locked
    monkeypatch.setattr(app, "start_logging", lambda _data_dir: None)  # no global hooks here
    monkeypatch.setattr(app, "create_main_window",
                        lambda _ws: pytest.fail("opened a window without a workspace"))
    monkeypatch.setattr(UnlockDialog, "exec", lambda _self: QDialog.DialogCode.Rejected)
    assert app.run_app(str(folder)) == 0
    with pytest.raises(KeyNotHere):
        WorkspaceKeys(folder).key()


# -- restoring another computer's backup in Settings ----------------------------------------
@pytest.fixture
def new_laptop(fresh_ws, qtbot):
    """The Settings page of a new laptop's workspace (made at the app's first start)."""
    ctx = AppContext(fresh_ws)
    page = SettingsPage(ctx)
    qtbot.addWidget(page)
    yield page
    ctx.tasks.shutdown()


def lost_laptops_backup(tmp_path: Path, memory_keyring) -> tuple[Path, str]:
    old = tmp_path / "old-laptop"
    with Workspace.open(old) as ws:
        ws.catalog.add_hamlet("Ấp Cũ")
        printed = ws.key.recovery_text()
    usb = backup.copy_to(old, tmp_path / "usb.sqlite")
    forget_key(old, memory_keyring)  # the old laptop is lost
    return usb, printed


def open_key_dialog(box, qtbot, previous=None) -> RestoreKeyDialog:
    qtbot.waitUntil(lambda: box.key_dialog is not None and box.key_dialog is not previous
                    and box.key_dialog.isVisible(), timeout=5000)
    return box.key_dialog


def test_restoring_another_computers_backup_asks_for_its_recovery_key(
        new_laptop, qtbot, messages, tmp_path, memory_keyring):
    usb, printed = lost_laptops_backup(tmp_path, memory_keyring)
    page, box = new_laptop, new_laptop.backups_box
    ws = page.ctx.ws
    box.restore_from_file(usb, confirmed=True)
    dialog = open_key_dialog(box, qtbot)
    assert str(usb) in dialog.detail.text() and not messages  # asked, not an error box

    dialog.key_input.set_text(mistyped(printed))  # a typo is said at once, in the dialog
    assert not dialog.try_key() and dialog.isVisible()
    assert "bị gõ nhầm" in dialog.key_input.error.text()

    wrong = DatabaseKey.new().recovery_text()
    dialog.key_input.set_text(wrong)
    assert dialog.try_key()
    again = open_key_dialog(box, qtbot, previous=dialog)  # asked again, saying why
    assert "không mở được" in again.key_input.error.text()
    assert again.key_input.text() == wrong  # to correct, not to type again
    assert [h.name for h in ws.catalog.hamlets()] == []  # nothing restored yet

    again.key_input.set_text(printed)
    assert again.try_key()
    settle(qtbot, page.ctx, lambda: bool(messages))
    assert messages[-1].startswith("Đã khôi phục dữ liệu từ usb.sqlite")
    assert [h.name for h in ws.catalog.hamlets()] == ["Ấp Cũ"]
    ws.catalog.add_hamlet("Ấp Mới")  # the workspace keeps working, with this laptop's key
    for path in [ws.db_path, *(b.path for b in backup.list_backups(ws.path))]:
        store.connect(path, ws.key, read_only=True).close()
    assert WorkspaceKeys(ws.path).key() == ws.key


def test_cancelling_the_recovery_key_restores_nothing(new_laptop, qtbot, messages, tmp_path,
                                                      memory_keyring):
    usb, _printed = lost_laptops_backup(tmp_path, memory_keyring)
    box = new_laptop.backups_box
    box.restore_from_file(usb, confirmed=True)
    dialog = open_key_dialog(box, qtbot)
    dialog.reject()
    settle(qtbot, new_laptop.ctx, lambda: not dialog.isVisible())
    assert backup.list_backups(new_laptop.ctx.ws.path) == [] and not messages


# -- showing the recovery key once ----------------------------------------------------------
def test_settings_shows_the_recovery_key_once_and_records_it_only_when_kept(
        new_laptop, qtbot, monkeypatch):
    box, ws = new_laptop.backups_box, new_laptop.ctx.ws
    assert not box.recovery_button.isHidden()
    assert "chưa được hiện" in box.recovery_label.text()

    box.recovery_button.click()
    sheet = box.sheet_dialog
    assert isinstance(sheet, RecoverySheetDialog) and sheet.isVisible()
    lines = ws.key.recovery_lines()
    assert sheet.key_label.text() == "\n".join(lines) and len(lines) == 2
    printed: list[str] = []
    monkeypatch.setattr("dxkit.ui.recovery_key.print_plain_text",
                        lambda _parent, text: printed.append(text) or True)
    sheet.print_button.click()
    assert len(printed) == 1 and all(line in printed[0] for line in lines)
    assert str(ws.path) in printed[0] and "khóa khôi phục" in printed[0]
    sheet.later_button.click()  # closed without saying it was kept: not recorded
    assert WorkspaceKeys(ws.path).state().recovery_shown_at is None
    assert not box.recovery_button.isHidden()

    box.recovery_button.click()
    box.sheet_dialog.done_button.click()
    assert WorkspaceKeys(ws.path).state().recovery_shown_at
    assert box.recovery_button.isHidden()
    assert "đã được hiện lúc" in box.recovery_label.text()
    # A new Settings page (the next start) says the same.
    again = SettingsPage(new_laptop.ctx)
    qtbot.addWidget(again)
    assert again.backups_box.recovery_button.isHidden()
