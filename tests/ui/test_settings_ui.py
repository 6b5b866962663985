"""Settings: the recorder, team members, hamlets, and the team's place."""

from __future__ import annotations

from dxkit.ui.settings_page import SettingsPage
from tests.ui.conftest import settle


def make_page(ctx, qtbot) -> SettingsPage:
    page = SettingsPage(ctx)
    qtbot.addWidget(page)
    return page


def test_shows_place_and_admin_data_version(ctx, qtbot, ws):
    page = make_page(ctx, qtbot)
    assert page.place_label.text() == "Phường Mỹ Tho, Đồng Tháp"
    assert page.admin_data_label.text() == ws.meta()["admin_data"] != ""


def test_choose_recorder_and_add_member(ctx, qtbot, ws):
    page = make_page(ctx, qtbot)
    assert page.member_combo.currentText() == "— chưa chọn —"
    page.member_combo.setCurrentIndex(page.member_combo.findText("Phạm Văn Tâm"))
    assert ws.settings.get("current_member_id") == ws.catalog.member("Phạm Văn Tâm").id
    assert ws.actor == "Phạm Văn Tâm"

    page.new_member.setText("Võ Thị Bé")
    page.add_member()
    settle(qtbot, ctx, lambda: page.member_combo.findText("Võ Thị Bé") >= 0)
    assert page.member_combo.currentText() == "Phạm Văn Tâm"  # choice kept across refills
    assert page.new_member.text() == ""


def test_add_and_rename_hamlets_with_errors_in_place(ctx, qtbot, ws):
    page = make_page(ctx, qtbot)
    assert page.hamlet_list.count() == 3
    page.new_hamlet.setText("khom 3")
    page.add_hamlet()
    settle(qtbot, ctx, lambda: not page.hamlet_error.isHidden())
    assert "Khóm 3" in page.hamlet_error.text() or "khom 3" in page.hamlet_error.text()
    assert len(ws.catalog.hamlets()) == 3

    page.new_hamlet.setText("Ấp Tân Thuận")
    page.add_hamlet()
    settle(qtbot, ctx, lambda: page.hamlet_list.count() == 4)
    assert page.hamlet_error.isHidden()

    page.hamlet_list.setCurrentRow(0)
    page.rename_selected_hamlet("Ấp Mỹ Hưng A")
    settle(qtbot, ctx, lambda: page.hamlet_list.item(0).text() == "Ấp Mỹ Hưng A")
    assert ws.catalog.hamlets()[0].name == "Ấp Mỹ Hưng A"
