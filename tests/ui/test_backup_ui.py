"""Settings → Backups: the list, "Back up now", "Restore…" (confirmed, off the UI thread, with
every screen refreshed), a refused restore, and "Export diagnostics…"."""

from __future__ import annotations

import gc
import zipfile

import pytest
from PySide6.QtWidgets import QMessageBox

from dxkit.core import backup, i18n
from dxkit.ui.settings_page import SettingsPage
from tests.ui.conftest import settle


@pytest.fixture(autouse=True)
def _garbage_collected_on_the_main_thread():
    """Earlier tests leave app contexts (with timers) in reference cycles. A restore allocates
    a lot on the database thread; were the garbage collector to run first there, Qt would
    destroy those objects on the wrong thread. Collect them here, before and after, on the
    main thread."""
    gc.collect()
    yield
    gc.collect()


@pytest.fixture
def page(ctx, qtbot):
    settings = SettingsPage(ctx)
    qtbot.addWidget(settings)
    return settings


def rows(page: SettingsPage) -> list[str]:
    box = page.backups_box.backup_list
    return [box.item(i).text() for i in range(box.count())]


def test_back_up_now_lists_the_new_backup(page, ctx, qtbot, ws, messages):
    box = page.backups_box
    settle(qtbot, ctx, lambda: rows(page) == ["Chưa có bản sao lưu."])
    assert not box.restore_button.isEnabled()
    box.back_up_now()
    settle(qtbot, ctx, lambda: len(rows(page)) == 1 and "làm thủ công" in rows(page)[0])
    made = backup.list_backups(ws.path)
    assert [b.reason for b in made] == ["manual"]
    assert messages == [f"Đã sao lưu dữ liệu vào {made[0].path}."]
    assert box.keep_days.value() == 14
    box.keep_days.setValue(30)
    assert ws.backup_keep_days == 30


def test_the_kept_days_say_one_day_and_many_days(page, ws):
    box = page.backups_box
    assert box.keep_days.suffix() == " ngày"
    try:
        i18n.set_language("en")
        box.keep_days.setValue(1)
        assert box.keep_days.suffix() == " day" and ws.backup_keep_days == 1
        box.keep_days.setValue(2)
        assert box.keep_days.suffix() == " days"
    finally:
        i18n.set_language("vi")


def test_restore_asks_then_restores_and_every_screen_refreshes(page, ctx, qtbot, ws, messages,
                                                              monkeypatch):
    box = page.backups_box
    box.back_up_now()
    settle(qtbot, ctx, lambda: len(rows(page)) == 1)
    page.new_hamlet.setText("Ấp Tân Thuận")
    page.add_hamlet()
    settle(qtbot, ctx, lambda: page.hamlet_list.count() == 4)

    # The list reloads after the change (on the database thread): choose once it has.
    qtbot.waitUntil(lambda: box.backup_list.setCurrentRow(0) or box.restore_button.isEnabled(),
                    timeout=3000)
    asked: list[str] = []

    def answer(_parent, _title, text, *_args):
        asked.append(text)
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", answer)
    box.restore_selected()
    assert asked and "manual-" in asked[0]
    assert len(ws.catalog.hamlets()) == 4  # said no: nothing happened

    monkeypatch.setattr(QMessageBox, "question",
                        lambda *_args: QMessageBox.StandardButton.Yes)
    box.restore_selected()
    settle(qtbot, ctx, lambda: page.hamlet_list.count() == 3)  # refreshed by the announcement
    assert [h.name for h in ws.catalog.hamlets()] == ["Ấp Mỹ Hưng", "Khóm 3", "Ấp Đông Hòa"]
    settle(qtbot, ctx, lambda: len(rows(page)) == 2)
    assert "trước khi khôi phục" in rows(page)[0]
    assert messages[-1].startswith("Đã khôi phục dữ liệu từ manual-")
    ws.catalog.add_hamlet("Ấp Sau")  # the workspace keeps working after a restore
    assert len(ws.catalog.hamlets()) == 4


def test_a_refused_restore_says_why_and_changes_nothing(page, ctx, qtbot, ws, messages,
                                                        tmp_path):
    damaged = tmp_path / "hong.sqlite"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\x01" * 5000)
    page.backups_box.restore_from_file(damaged, confirmed=True)
    settle(qtbot, ctx, lambda: bool(messages))
    assert "hong.sqlite" in messages[0] and "hỏng" in messages[0]
    assert len(ws.catalog.hamlets()) == 3
    assert backup.list_backups(ws.path) == []


def test_export_diagnostics_writes_a_zip_without_the_database(page, ctx, qtbot, ws, messages,
                                                             tmp_path):
    target = tmp_path / "chan-doan.zip"
    page.backups_box.export_diagnostics(target)
    settle(qtbot, ctx, lambda: bool(messages))
    with zipfile.ZipFile(target) as archive:
        assert "diagnostics.json" in archive.namelist()
        assert not any(name.endswith(".sqlite") for name in archive.namelist())
        assert '"qt":' in archive.read("diagnostics.json").decode()
    assert str(target) in messages[0]


def test_the_app_says_in_a_dialog_when_the_workspace_is_open_elsewhere(ws, qtbot, monkeypatch):
    from dxkit.core.lock import locked_message
    from dxkit.ui import app

    shown: list[str] = []
    monkeypatch.setattr(app, "start_logging", lambda _data_dir: None)  # no global hooks here
    monkeypatch.setattr(app, "create_main_window",
                        lambda _ws: pytest.fail("opened a workspace another process writes"))
    monkeypatch.setattr(QMessageBox, "critical", lambda _parent, _title, text: shown.append(text))
    assert app.run_app(str(ws.path)) == 1  # the `ws` fixture is the writer holding the lock
    assert shown == [locked_message()]


def test_qt_warnings_go_to_the_log_redacted(tmp_path):
    from PySide6.QtCore import QMessageLogContext, QtMsgType

    from dxkit.core import logs
    from dxkit.ui import app

    path = logs.setup(tmp_path)
    try:
        app._qt_message(QtMsgType.QtWarningMsg, QMessageLogContext(),
                        "QFont: cannot render 0912345678")
    finally:
        logs.setup(tmp_path / "elsewhere")
    text = path.read_text(encoding="utf-8")
    assert "WARNING dxkit.ui.qt" in text and "cannot render […]" in text
