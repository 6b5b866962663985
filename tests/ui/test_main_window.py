"""The shell: navigation, status bar, shortcuts, language switch, and starting the app."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from dxkit.core import i18n
from dxkit.ui import app as app_module
from dxkit.ui.sections import SECTIONS
from tests.ui.conftest import settle


def test_navigation_lists_working_sections_and_title_names_the_commune(window):
    titles = window.nav_titles()
    assert titles[:2] == ["Hôm nay", "Hộ gia đình"]
    assert titles[-1] == "Cài đặt"
    assert len(titles) == len(SECTIONS)
    assert window.windowTitle() == "dxkit — Phường Mỹ Tho"
    window.nav.setCurrentRow(len(titles) - 1)
    assert window.shown_page() is window.pages["settings"]


def test_status_bar_is_honest_about_sync_and_counts_pending_changes(window, ws, qtbot):
    assert window.online_label.text() == "● Ngoại tuyến"
    assert window.last_sync_label.text() == "Đồng bộ lần cuối: chưa đồng bộ"
    before = ws.pending_changes()
    # Counted on the database thread: the label follows once the count comes back.
    settle(qtbot, window.ctx,
           lambda: window.pending_label.text() == f"{before} thay đổi chờ đồng bộ")
    page = window.pages["households"]
    form = page.add_household()
    form.code.setText("MH-001")
    form.head_name.setText("Nguyễn Văn Bình")
    form.hamlet.setCurrentIndex(1)
    form.save()
    settle(qtbot, window.ctx, lambda: ws.pending_changes() > before
           and window.pending_label.text() == f"{ws.pending_changes()} thay đổi chờ đồng bộ")


def test_pending_changes_say_one_change_and_many_changes_in_english(window, ws, qtbot):
    settle(qtbot, window.ctx, lambda: window.pending_label.text()
           == f"{ws.pending_changes()} thay đổi chờ đồng bộ")
    try:
        i18n.set_language("en")
        window._show_pending((1, 0))
        assert window.pending_label.text() == "1 change waiting to sync"
        window._show_pending((1234, 0))
        assert window.pending_label.text() == "1,234 changes waiting to sync"
    finally:
        i18n.set_language("vi")
    window._show_pending((1234, 0))
    assert window.pending_label.text() == "1.234 thay đổi chờ đồng bộ"


def test_pending_changes_are_counted_off_the_ui_thread_one_count_at_a_time(
        window, ws, qtbot, monkeypatch):
    import threading

    ctx = window.ctx
    settle(qtbot, ctx, lambda: window.pending_label.text().startswith(
        f"{ws.pending_changes()} "))
    counted = []
    real_count = ws.pending_changes

    def count():
        counted.append(threading.current_thread() is threading.main_thread())
        return real_count()

    monkeypatch.setattr(ws, "pending_changes", count)
    gate = threading.Event()
    ctx.tasks.run(lambda _progress: gate.wait(10), cancellable=False)
    for number in range(5):  # five saves while the database thread is busy
        result = ws.households.add(code=f"MH-00{number}", head_name="Nguyễn Văn Bình",
                                   hamlet="Ấp Mỹ Hưng")
        ctx.notify(result.changes)
    assert counted == []  # nothing counted on the UI thread
    gate.set()
    final = f"{real_count()} thay đổi chờ đồng bộ"
    settle(qtbot, ctx, lambda: len(counted) == 2 and window.pending_label.text() == final)
    ctx.tasks.wait_idle()
    # The count in flight, then one more for the changes made meanwhile; never on the UI thread.
    assert counted == [False, False]


def test_running_task_shows_progress_and_can_be_cancelled(window, qtbot):
    import threading

    from dxkit.core.errors import Cancelled

    release = threading.Event()
    outcome = []

    def slow(progress):
        progress.update(value=1, maximum=4, label="Đang nhập…")
        release.wait(5)
        progress.check()

    window.ctx.tasks.run(slow, label="Nhập dữ liệu", on_failure=outcome.append)
    assert window.task_area.isVisibleTo(window)
    qtbot.waitUntil(lambda: window.task_progress.maximum() == 4)
    assert window.task_label.text() == "Đang nhập…"
    qtbot.mouseClick(window.cancel_button, Qt.MouseButton.LeftButton)
    release.set()
    settle(qtbot, window.ctx, lambda: bool(outcome))
    assert isinstance(outcome[0], Cancelled)
    assert not window.task_area.isVisibleTo(window)


def test_shortcuts_focus_search_and_open_a_new_household_form(window, qtbot):
    window.show_section("settings")
    window.activateWindow()
    window.focus_search()  # Ctrl+F
    page = window.pages["households"]
    assert window.stack.currentWidget() is page
    qtbot.waitUntil(lambda: page.search_box.hasFocus() or not window.isActiveWindow())
    window.new_household()  # Ctrl+N
    forms = [w for w in QApplication.topLevelWidgets()
             if w.__class__.__name__ == "HouseholdForm" and w.isVisible()]
    assert len(forms) == 1
    forms[0].reject()


def test_language_switch_retranslates_the_pages(window, ws, qtbot):
    settings = window.show_section("settings")
    settings.language_combo.setCurrentIndex(settings.language_combo.findData("en"))
    assert i18n.language() == "en"
    assert ws.settings.get("language") == "en"
    assert window.nav_titles()[:2] == ["Today", "Households"]
    assert window.nav_titles()[-1] == "Settings"
    assert window.current_section() == "settings"
    assert window.online_label.text() == "● Offline"
    page = window.pages["households"]
    assert page.model.column_titles()[0] == "Household code"
    assert page.search_box.placeholderText().startswith("Search by name")

    window.pages["settings"].language_combo.setCurrentIndex(0)
    assert window.nav_titles()[:2] == ["Hôm nay", "Hộ gia đình"]


def test_run_app_explains_a_workspace_it_cannot_open(tmp_path, monkeypatch, qtbot):
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x")
    shown = []
    monkeypatch.setattr(QMessageBox, "critical",
                        staticmethod(lambda parent, title, text: shown.append(text)))
    assert app_module.run_app(str(not_a_folder)) == 1
    assert shown and "thư mục" in shown[0]


def test_saved_language_is_applied_at_start(ws):
    ws.settings.set("language", "en")
    app_module.apply_language(ws)
    assert i18n.language() == "en"
