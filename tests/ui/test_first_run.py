"""The first-run assistant: place → hamlets → members → who am I on a laptop that is neither
enrolled nor set up, each step saved as it is left; "who am I" remembered and pre-selected."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from dxkit.ui import app as app_module
from dxkit.ui.app import create_main_window
from dxkit.ui.context import AppContext
from dxkit.ui.first_run import DONE_SETTING, FirstRunAssistant, first_run_due
from dxkit.ui.visit_form import VisitDialog
from tests.ui.conftest import settle


@pytest.fixture
def new_ctx(fresh_ws, qtbot):
    """The app's context over an empty workspace (the `ctx` fixture's has a team)."""
    context = AppContext(fresh_ws)
    yield context
    context.tasks.shutdown()


@pytest.fixture
def assistant(new_ctx, qtbot):
    dialog = FirstRunAssistant(new_ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def type_and_add(qtbot, edit, text) -> None:
    edit.setText(text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def test_a_new_laptop_is_walked_through_and_each_step_is_saved(assistant, fresh_ws, new_ctx,
                                                               qtbot):
    ctx = new_ctx
    assert first_run_due(ctx)
    assert assistant.current_step() == "welcome"
    assistant.next()
    assert assistant.current_step() == "place"
    assistant.next()  # nothing chosen
    assert assistant.place_error.text() == "Chọn tỉnh/thành phố và xã/phường."
    picker = assistant.place_picker
    picker.province_combo.lineEdit().setText("dong thap")
    picker.province_combo.lineEdit().editingFinished.emit()
    picker.commune_combo.setCurrentIndex(picker.commune_combo.findText("Phường Mỹ Tho"))
    assistant.next()
    settle(qtbot, ctx, lambda: assistant.current_step() == "hamlets")
    assert fresh_ws.team_place() == ("Đồng Tháp", "Phường Mỹ Tho")

    assistant.next()  # no hamlet yet
    assert assistant.hamlet_error.text() == "Hãy thêm ít nhất một ấp."
    for name in ("Ấp Mỹ Hưng", "Khóm 3"):
        type_and_add(qtbot, assistant.new_hamlet, name)
        settle(qtbot, ctx, lambda: assistant.new_hamlet.text() == "")
    type_and_add(qtbot, assistant.new_hamlet, "ap my hung")  # the same hamlet again
    settle(qtbot, ctx, lambda: assistant.hamlet_error.isVisible())
    assert [h.name for h in fresh_ws.catalog.hamlets()] == ["Ấp Mỹ Hưng", "Khóm 3"]
    settle(qtbot, ctx, lambda: assistant.hamlet_list.count() == 2)
    assistant.next()
    assert assistant.current_step() == "members"

    type_and_add(qtbot, assistant.new_member, "Lê Thị Hoa")
    settle(qtbot, ctx, lambda: len(fresh_ws.catalog.members()) == 1)
    assistant.next()
    assert assistant.current_step() == "me"
    assert assistant.me_combo.currentText() == "Lê Thị Hoa"  # a team of one: pre-selected
    assert assistant.next_button.text() == "Xong"
    assistant.next()
    assert assistant.result() == FirstRunAssistant.DialogCode.Accepted
    hoa = fresh_ws.catalog.member("Lê Thị Hoa").id
    assert fresh_ws.settings.get("current_member_id") == hoa
    assert not first_run_due(ctx)


def test_who_am_i_is_asked_when_the_team_has_several_members(ws, ctx, qtbot):
    dialog = FirstRunAssistant(ctx)
    qtbot.addWidget(dialog)
    dialog.show_step("me")
    assert dialog.me_combo.currentData() is None
    dialog.next()
    assert dialog.me_error.text() == "Hãy chọn tên của bạn."
    dialog.me_combo.setCurrentIndex(dialog.me_combo.findText("Phạm Văn Tâm"))
    dialog.next()
    tam = ws.catalog.member("Phạm Văn Tâm").id
    assert ws.settings.get("current_member_id") == tam
    # The visit form signs with the remembered name.
    household = ws.households.add(code="MH-001", head_name="Nguyễn Văn Bình",
                                  hamlet="Ấp Mỹ Hưng").value
    visit = VisitDialog(ctx, household.id)
    qtbot.addWidget(visit)
    assert visit.member_ids() == [tam]


def test_later_closes_for_good_and_the_app_offers_it_only_when_due(fresh_ws, qtbot):
    window = create_main_window(fresh_ws)
    qtbot.addWidget(window)
    shown = app_module.offer_first_run(window)
    assert isinstance(shown, FirstRunAssistant) and shown.isVisible()
    shown.later_button.click()
    assert fresh_ws.settings.get(DONE_SETTING) == "1"
    assert app_module.offer_first_run(window) is None
    window.ctx.tasks.shutdown()


def test_a_set_up_or_demo_workspace_is_not_asked(ws, ctx):
    ws.settings.set("current_member_id", ws.catalog.member("Lê Thị Hoa").id)
    assert not first_run_due(ctx)


def test_an_enrolled_laptop_is_not_asked(fresh_ws, new_ctx):
    with fresh_ws.transaction():
        fresh_ws.set_meta("sync_server", "https://hub.example.vn")
        fresh_ws.set_meta("sync_device_id", "d1")
    assert not first_run_due(new_ctx)


def test_closing_half_way_keeps_what_was_done(assistant, fresh_ws, new_ctx, qtbot):
    ctx = new_ctx
    fresh_ws.configure_team("Đồng Tháp", "Mỹ Tho")
    assistant.show_step("hamlets")
    type_and_add(qtbot, assistant.new_hamlet, "Ấp Đông Hòa")
    settle(qtbot, ctx, lambda: assistant.new_hamlet.text() == "")
    assistant.close()
    assert [h.name for h in fresh_ws.catalog.hamlets()] == ["Ấp Đông Hòa"]
    assert first_run_due(ctx)  # not finished: asked again next time


def test_enter_adds_a_name_and_enter_on_an_empty_field_moves_on(assistant, fresh_ws, new_ctx,
                                                                 qtbot):
    assistant.show_step("members")
    type_and_add(qtbot, assistant.new_member, "Võ Văn Hậu")
    settle(qtbot, new_ctx, lambda: assistant.member_list.count() == 1)
    assert assistant.current_step() == "members"  # Enter added the name, nothing more
    qtbot.keyClick(assistant.new_member, Qt.Key.Key_Return)
    assert assistant.current_step() == "me"
