"""A first start: the empty households list offers add, import and demo data (made in the
background, cancellable), and Settings asks where the team works."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt

from dxkit import demo
from dxkit.core.errors import DxError
from dxkit.core.progress import Progress
from dxkit.demo import COMMUNE, HAMLETS, PROVINCE
from dxkit.households import demo as households_demo
from dxkit.ui.app import create_main_window
from dxkit.ui.context import AppContext
from dxkit.ui.household_forms import HouseholdForm
from dxkit.ui.households_page import HouseholdsPage
from dxkit.ui.settings_page import SettingsPage
from tests.ui.conftest import settle


@pytest.fixture
def first_start(fresh_ws, qtbot):
    """The main window over an empty, unconfigured workspace."""
    main = create_main_window(fresh_ws)
    qtbot.addWidget(main)
    main.show()
    yield main
    main.ctx.tasks.shutdown()


def households_page(window) -> HouseholdsPage:
    return window.pages["households"]


def test_empty_workspace_shows_the_welcome_with_three_actions(first_start):
    page = households_page(first_start)
    assert page.is_empty_state()
    assert page.empty_heading.text() == "Chưa có hộ nào"
    assert [b.text() for b in (page.empty_add_button, page.empty_import_button,
                               page.demo_button)] == [
        "Thêm hộ", "Nhập từ Excel/CSV", "Tạo dữ liệu mẫu để làm quen"]
    assert page.demo_button.isVisible() and page.demo_note.isVisible()
    assert first_start.windowTitle() == "dxkit"


def test_add_and_import_actions(first_start, qtbot):
    page = households_page(first_start)
    qtbot.mouseClick(page.empty_import_button, Qt.MouseButton.LeftButton)
    assert first_start.current_section() == "transfer"
    first_start.show_section("households")
    page.empty_add_button.click()
    forms = page.findChildren(HouseholdForm)
    assert len(forms) == 1 and forms[0].isVisible()
    forms[0].reject()


def test_demo_is_created_in_the_background_and_the_list_shows_it(first_start, fresh_ws, qtbot):
    page = households_page(first_start)
    qtbot.mouseClick(page.demo_button, Qt.MouseButton.LeftButton)
    assert page.demo_task is not None and page.demo_task.cancellable
    assert not page.demo_button.isEnabled() and page.demo_busy.isVisible()
    assert first_start.task_area.isVisible() and first_start.cancel_button.isVisible()

    settle(qtbot, first_start.ctx, lambda: not page.is_empty_state())
    assert fresh_ws.households.count() == 600 == page.model.rowCount()
    assert page.count_label.text() == "600 hộ"
    assert fresh_ws.meta()["demo"] == "1"
    assert fresh_ws.team_place() == (PROVINCE, COMMUNE)
    assert first_start.windowTitle() == f"dxkit — {COMMUNE}"
    assert first_start.task_area.isHidden()
    assert page.hamlet_combo.count() == 1 + len(HAMLETS)  # "all hamlets" and the demo's
    settings: SettingsPage = first_start.pages["settings"]
    assert settings.place_box.isHidden()
    assert settings.place_label.text() == f"{COMMUNE}, {PROVINCE}"
    assert settings.hamlet_list.count() == len(HAMLETS)


def test_cancelling_the_demo_leaves_the_workspace_empty(first_start, fresh_ws, qtbot):
    page = households_page(first_start)
    ctx = first_start.ctx
    # Hold the database thread so the demo is still queued when Cancel is pressed.
    gate = threading.Event()
    ctx.tasks.run(lambda _progress: gate.wait(10), cancellable=False)
    page.demo_button.click()
    qtbot.mouseClick(first_start.cancel_button, Qt.MouseButton.LeftButton)
    gate.set()
    settle(qtbot, ctx, lambda: page.demo_task is None)

    assert fresh_ws.households.count() == 0 and fresh_ws.people.count() == 0
    assert "demo" not in fresh_ws.meta() and fresh_ws.team_place() == ("", "")
    assert fresh_ws.catalog.hamlets() == []
    assert page.is_empty_state() and page.demo_button.isVisible()
    assert page.demo_button.isEnabled() and page.demo_busy.isHidden()
    assert page.demo_message.text() == "Đã hủy; không có gì bị thay đổi."
    qtbot.waitUntil(first_start.task_area.isHidden)


def test_cancel_halfway_rolls_back_what_was_written(first_start, fresh_ws, qtbot,
                                                    monkeypatch):
    """Generation pauses after 100 households (uncommitted) until Cancel has been pressed."""
    page = households_page(first_start)
    halfway, pressed = threading.Event(), threading.Event()
    real_generate = demo.generate

    def generate_pausing_halfway(ws, *, progress, **options):
        def report(value, maximum, label):
            if value >= 100 and not halfway.is_set():
                halfway.set()
                pressed.wait(10)
            progress.update(value=value, maximum=maximum, label=label)  # Cancelled from here
        return real_generate(ws, progress=Progress(on_change=report), **options)

    monkeypatch.setattr(households_demo, "generate", generate_pausing_halfway)
    page.create_demo()
    qtbot.waitUntil(halfway.is_set)
    assert fresh_ws.households.count() == 0  # written, not committed
    page.cancel_demo()
    assert not page.demo_cancel_button.isEnabled()
    pressed.set()
    settle(qtbot, first_start.ctx, lambda: page.demo_task is None)
    assert fresh_ws.households.count() == 0 and fresh_ws.people.count() == 0
    assert "demo" not in fresh_ws.meta() and fresh_ws.team_place() == ("", "")
    assert page.is_empty_state() and page.demo_button.isEnabled()


def test_a_workspace_with_households_is_never_offered_the_demo(ctx, ws, qtbot):
    ws.households.add(code="MH-001", head_name="Nguyễn Văn Bình", hamlet="Ấp Mỹ Hưng")
    page = HouseholdsPage(ctx)
    qtbot.addWidget(page)
    page.show()
    assert not page.is_empty_state()
    assert not page.demo_button.isVisible()
    assert page.create_demo() is None
    with pytest.raises(DxError) as raised:
        demo.generate_into_empty(ws, households=10, progress=Progress())
    assert "đã có hộ" in raised.value.message
    assert ws.households.count() == 1 and "demo" not in ws.meta()


def test_demo_keeps_the_place_a_team_already_configured(fresh_ws, qtbot):
    fresh_ws.configure_team("Đồng Tháp", "Mỹ Tho")
    ctx = AppContext(fresh_ws)
    try:
        page = HouseholdsPage(ctx)
        qtbot.addWidget(page)
        assert page.is_empty_state() and page.demo_button.isVisibleTo(page)
        page.create_demo()
        settle(qtbot, ctx, lambda: not page.is_empty_state())
        assert fresh_ws.households.count() == 600
        assert fresh_ws.team_place() == ("Đồng Tháp", "Phường Mỹ Tho")
    finally:
        ctx.tasks.shutdown()


def test_no_demo_over_the_team_s_own_hamlets_and_members(ctx, ws, qtbot):
    """A refill would wipe them, so a team that has started entering its own lists gets no
    demo button."""
    page = HouseholdsPage(ctx)
    qtbot.addWidget(page)
    assert page.is_empty_state() and not page.demo_button.isVisibleTo(page)
    with pytest.raises(DxError):
        demo.fill(ws.path)


def test_settings_asks_where_the_team_works_and_the_title_follows(first_start, fresh_ws, qtbot):
    page: SettingsPage = first_start.pages["settings"]
    first_start.show_section("settings")
    assert page.place_box.isVisible()
    assert page.place_label.text() == "chưa thiết lập"
    assert not page.commune_combo.isEnabled()

    # Typed without diacritics, the completer still offers the province...
    completer = page.province_combo.completer()
    completer.setCompletionPrefix("dong th")
    assert completer.currentCompletion() == "Đồng Tháp"
    # ...and finishing the typing selects it.
    page.province_combo.lineEdit().setText("dong thap")
    page.province_combo.lineEdit().editingFinished.emit()
    assert page.province_combo.currentText() == "Đồng Tháp"
    assert page.commune_combo.isEnabled() and page.commune_combo.count() > 50
    communes = page.commune_combo.completer()
    communes.setCompletionPrefix("my tho")
    offered = {communes.completionModel().index(row, 0).data()
               for row in range(communes.completionCount())}
    assert {"Phường Mỹ Tho", "Xã Mỹ Thọ"} <= offered

    page.commune_combo.setCurrentIndex(page.commune_combo.findText("Phường Mỹ Tho"))
    qtbot.mouseClick(page.save_place_button, Qt.MouseButton.LeftButton)
    settle(qtbot, first_start.ctx, page.place_box.isHidden)
    assert fresh_ws.team_place() == ("Đồng Tháp", "Phường Mỹ Tho")
    assert page.place_label.text() == "Phường Mỹ Tho, Đồng Tháp"
    assert first_start.windowTitle() == "dxkit — Phường Mỹ Tho"


def test_settings_place_errors_stay_in_the_form(first_start, fresh_ws, qtbot):
    page: SettingsPage = first_start.pages["settings"]
    page.save_place()
    assert page.place_error.text() == "Chọn tỉnh/thành phố và xã/phường."

    page.province_combo.setCurrentIndex(page.province_combo.findText("Đồng Tháp"))
    page.commune_combo.lineEdit().setText("Xã Không Có")
    page.save_place()
    settle(qtbot, first_start.ctx, lambda: "Xã Không Có" in page.place_error.text())
    assert page.place_error.text().startswith("Không tìm thấy xã/phường")
    assert page.place_box.isVisibleTo(page) and fresh_ws.team_place() == ("", "")


def test_configured_workspace_shows_no_place_form(ctx, qtbot):
    page = SettingsPage(ctx)
    qtbot.addWidget(page)
    page.show()
    assert page.place_box.isHidden()
    assert page.place_label.text() == "Phường Mỹ Tho, Đồng Tháp"
