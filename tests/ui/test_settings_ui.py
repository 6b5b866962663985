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


def test_farm_settings_show_errors_next_to_fields_and_save(ctx, qtbot, ws):
    page = make_page(ctx, qtbot)
    box = page.farm_box
    assert box.edits["cong_m2"].text() == "" and box.edits["cong_m2"].placeholderText() == "1000"
    box.edits["trace_base_url"].setText("truyxuat.dongthap")
    box.edits["cong_m2"].setText("5")
    box.save()
    settle(qtbot, ctx, lambda: not ctx.tasks.active)
    assert "https://" in box.errors["trace_base_url"].text()
    assert "công" in box.errors["cong_m2"].text()
    assert ws.farm.trace_base_url != "truyxuat.dongthap"  # nothing saved
    box.edits["trace_base_url"].setText("https://tx.example.vn/lo/")
    box.edits["cong_m2"].setText("1296")
    box.save()
    settle(qtbot, ctx, lambda: not ctx.tasks.active)
    assert (ws.farm.trace_base_url, ws.farm.cong_m2) == ("https://tx.example.vn/lo/", 1296.0)
    assert box.edits["gs1_resolver"].placeholderText() == "https://tx.example.vn"
    assert box.errors["cong_m2"].isHidden()
