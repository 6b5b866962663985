"""The follow-ups page: due state, filters, per-hamlet summary, and the visit one step away."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QRadioButton

from dxkit.core import i18n
from dxkit.households.visits import VisitItem
from dxkit.ui.followups_page import CloseFollowUpDialog, FollowUpsPage
from dxkit.ui.visit_form import VisitDialog
from tests.ui.conftest import settle


def household_with_person(ws, code, hamlet, name):
    household = ws.households.add(code=code, head_name=name, hamlet=hamlet).value
    person = ws.people.add(household.id, full_name=name, birth_date="1970").value
    return household, person


@pytest.fixture
def scene(ws):
    """MH-001 overdue by 5 days (Hoa), K3-002 due in 5 days (Tâm), DH-003 not due for 20."""
    hoa, tam = ws.catalog.member("Lê Thị Hoa").id, ws.catalog.member("Phạm Văn Tâm").id
    ws.settings.set("current_member_id", hoa)
    plans = (("MH-001", "Ấp Mỹ Hưng", "Nguyễn Văn Bình", hoa, dt.date(2026, 11, 15)),
             ("K3-002", "Khóm 3", "Trần Thị Lan", tam, dt.date(2026, 11, 25)),
             ("DH-003", "Ấp Đông Hòa", "Võ Văn Hậu", hoa, dt.date(2026, 12, 10)))
    made = {}
    for code, hamlet, name, member, due in plans:
        household, person = household_with_person(ws, code, hamlet, name)
        ws.visits.add(household.id, [VisitItem("vneid_level2", "not_done", person.id,
                                               "Chưa mang CCCD")],
                      visited_at=dt.datetime(2026, 11, 10, 8, 0), member_ids=[member],
                      notes=f"hẹn lại {code}", follow_up_on=due)
        made[code] = (household, person)
    return made


def make_page(ctx, qtbot) -> FollowUpsPage:
    page = FollowUpsPage(ctx)
    qtbot.addWidget(page)
    settle(qtbot, ctx, lambda: page.loaded)
    return page


def codes(page) -> list[str]:
    return [row[2] for row in shown(page)]


def shown(page):
    model = page.model
    return [[model.index(r, c).data() for c in range(model.columnCount())]
            for r in range(model.rowCount())]


def test_lists_overdue_and_upcoming_with_their_state(ctx, qtbot, scene):
    page = make_page(ctx, qtbot)
    rows = shown(page)
    assert [r[2] for r in rows] == ["MH-001", "K3-002"]  # DH-003 is beyond 7 days
    assert rows[0][:2] == ["15/11/2026", "quá hạn 5 ngày"]
    assert rows[1][:2] == ["25/11/2026", "còn 5 ngày"]
    assert rows[0][3:] == ["Nguyễn Văn Bình", "", "Kích hoạt định danh điện tử mức 2",
                           "Ấp Mỹ Hưng", "Lê Thị Hoa", "hẹn lại MH-001"]
    red = page.model.index(0, 1).data(Qt.ItemDataRole.ForegroundRole)
    assert red is not None and red.color().name() == "#b3261e"
    assert page.model.index(1, 1).data(Qt.ItemDataRole.ForegroundRole) is None
    assert page.summary_lines == ["Ấp Mỹ Hưng: 1 quá hạn, 0 sắp đến hạn",
                                  "Khóm 3: 0 quá hạn, 1 sắp đến hạn"]
    assert "<b>Ấp Mỹ Hưng</b>" in page.summary.text()

    page.within_days.setValue(30)
    settle(qtbot, ctx, lambda: codes(page) == ["MH-001", "K3-002", "DH-003"])


def test_stepping_the_horizon_asks_the_database_once(ctx, qtbot, scene, monkeypatch):
    page = make_page(ctx, qtbot)
    asked = []
    real_follow_ups = ctx.ws.visits.follow_ups

    def counting(**options):
        asked.append(options)
        return real_follow_ups(**options)

    monkeypatch.setattr(ctx.ws.visits, "follow_ups", counting)
    for days in range(8, 31):  # holding the arrow key down
        page.within_days.setValue(days)
    assert asked == []  # nothing asked while stepping...
    settle(qtbot, ctx, lambda: codes(page) == ["MH-001", "K3-002", "DH-003"])
    # ...then one query for every hamlet; the hamlet filter narrows it without asking again.
    assert asked == [{"within_days": 30, "member_id": None, "include_closed": False}]
    page.set_hamlet(ctx.ws.catalog.hamlet("Ấp Đông Hòa").id)
    assert codes(page) == ["DH-003"] and len(asked) == 1


def test_filters_by_hamlet_and_member(ctx, qtbot, scene, ws):
    page = make_page(ctx, qtbot)
    page.set_hamlet(ws.catalog.hamlet("Khóm 3").id)
    assert codes(page) == ["K3-002"]
    assert len(page.summary_lines) == 2  # the summary still covers every hamlet
    page.set_hamlet(ws.catalog.hamlet("Ấp Đông Hòa").id)
    assert shown(page) == [] and not page.empty_label.isHidden()
    page.set_hamlet(None)
    page.set_member(ws.catalog.member("Lê Thị Hoa").id)
    settle(qtbot, ctx, lambda: codes(page) == ["MH-001"])


def test_logged_visit_with_follow_up_appears_and_meeting_it_clears_it(ctx, qtbot, ws):
    household, person = household_with_person(ws, "MH-010", "Ấp Mỹ Hưng", "Lê Văn Sáu")
    ws.settings.set("current_member_id", ws.catalog.member("Lê Thị Hoa").id)
    page = make_page(ctx, qtbot)
    assert shown(page) == []

    dialog = VisitDialog(ctx, household.id)
    qtbot.addWidget(dialog)
    dialog.tick(person.id, "payment_account", outcome="partly")
    dialog.set_follow_up_in(7)
    assert dialog.save()
    settle(qtbot, ctx, lambda: len(shown(page)) == 1)  # refreshed through ctx.changed
    [row] = shown(page)
    assert row[:3] == ["27/11/2026", "còn 7 ngày", "MH-010"]

    ws.freeze_time(dt.datetime(2026, 11, 30, 8, 0))
    page.refresh()
    settle(qtbot, ctx, lambda: shown(page)[0][1] == "quá hạn 3 ngày")

    # Double-clicking opens the visit form for that household; the visit meets the follow-up.
    page.show()
    qtbot.waitExposed(page)
    rect = page.table.visualRect(page.model.index(0, 2))
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    visit_form = page.visit_dialog
    assert isinstance(visit_form, VisitDialog) and visit_form.household == household
    visit_form.tick(person.id, "payment_account")
    assert visit_form.save()
    settle(qtbot, ctx, lambda: shown(page) == [])


def test_english_labels(ctx, qtbot, scene):
    i18n.set_language("en")
    page = make_page(ctx, qtbot)
    assert shown(page)[0][1] == "5 days overdue"
    assert shown(page)[1][1] == "due in 5 days"
    assert page.model.headerData(0, Qt.Orientation.Horizontal) == "Due date"


# -- working the list: phone, what is pending, close, reopen, print ------------------------------
CTRL, ALT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.AltModifier


def press(key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """A key on whichever widget has the focus, as a person's keyboard would."""
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    QTest.keyClick(widget, key, modifier)
    QApplication.processEvents()


@pytest.fixture
def phoned(ws, scene):
    """MH-001 has a phone: the list shows it in full, spaced as it is dialled."""
    household = scene["MH-001"][0]
    ws.households.update(household.id, phone="0912345678")
    return household


def test_rows_show_the_phone_in_full_and_pending_item_names(ctx, qtbot, phoned):
    page = make_page(ctx, qtbot)
    row = shown(page)[0]
    assert row[2] == "MH-001" and row[4] == "0912 345 678"
    assert row[5] == "Kích hoạt định danh điện tử mức 2"  # a name, never the code
    tip = page.model.index(0, 5).data(Qt.ItemDataRole.ToolTipRole)
    assert tip == "Kích hoạt định danh điện tử mức 2"


def test_close_from_the_keyboard_with_a_reason_then_reopen(ctx, qtbot, ws, phoned):
    page = make_page(ctx, qtbot)
    page.show()
    page.activateWindow()
    qtbot.waitUntil(page.isActiveWindow)  # shortcuts need an active window
    page.table.setFocus()
    page.table.selectRow(0)
    assert page.close_button.isEnabled() and "Ctrl+D" in page.close_button.text()
    press(Qt.Key.Key_D, CTRL)
    dialog = page.close_dialog
    assert isinstance(dialog, CloseFollowUpDialog)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    assert dialog.follow_up.household_code == "MH-001"
    assert isinstance(QApplication.focusWidget(), QRadioButton)  # the first reason
    # Enter with no reason chosen: the reason is asked for, nothing is written.
    press(Qt.Key.Key_Return)
    settle(qtbot, ctx, lambda: dialog.reason_field.error_text() != "")
    assert ws.conn.execute("SELECT count(*) FROM follow_up_closures").fetchone()[0] == 0
    # Alt+2: the household moved away; Enter closes it.
    press(Qt.Key.Key_2, ALT)
    assert dialog.reason() == "moved_away"
    press(Qt.Key.Key_Return)
    settle(qtbot, ctx, lambda: dialog.closed_ok and codes(page) == ["K3-002"])
    [close] = [f.closed for f in ws.visits.follow_ups(include_closed=True) if f.closed]
    assert close.reason == "moved_away"

    # Shown again with the closed ones: greyed, with its reason; Ctrl+D reopens it.
    page.show_closed.setChecked(True)
    settle(qtbot, ctx, lambda: codes(page) == ["MH-001", "K3-002"])
    assert shown(page)[0][1] == "Đã đóng: Hộ đã chuyển đi"
    grey = page.model.index(0, 3).data(Qt.ItemDataRole.ForegroundRole)
    assert grey is not None and grey.color().name() == "#6b6b6b"
    assert page.summary_lines == ["Khóm 3: 0 quá hạn, 1 sắp đến hạn"]  # nothing left to do
    page.table.selectRow(0)
    assert page.close_button.text().startswith("Mở lại")
    page.activateWindow()
    qtbot.waitUntil(page.isActiveWindow)
    page.table.setFocus()
    press(Qt.Key.Key_D, CTRL)
    settle(qtbot, ctx, lambda: shown(page)[0][1] == "quá hạn 5 ngày")
    assert page.close_dialog is None
    assert ws.visits.follow_ups()[0].closed is None


def test_other_needs_a_note(ctx, qtbot, ws, scene):
    page = make_page(ctx, qtbot)
    page.table.selectRow(0)
    dialog = page.close_or_reopen()
    assert isinstance(dialog, CloseFollowUpDialog)
    dialog.choose("other")
    assert dialog.save()
    settle(qtbot, ctx, lambda: dialog.note_field.error_text() != "")
    assert "ghi chú" in dialog.note_field.error_text()
    dialog.note.setText("Con gái đã hướng dẫn qua điện thoại")
    assert dialog.save()
    settle(qtbot, ctx, lambda: dialog.closed_ok)
    closed = ws.visits.follow_ups(include_closed=True)[0].closed
    assert closed is not None and closed.reason_text == "Khác: Con gái đã hướng dẫn qua điện thoại"
    # The list shows the reason; the note, which may be long, is in the tooltip.
    page.show_closed.setChecked(True)
    settle(qtbot, ctx, lambda: shown(page)[0][1] == "Đã đóng: Khác")
    tip = page.model.index(0, 1).data(Qt.ItemDataRole.ToolTipRole)
    assert tip == "Đã đóng: Khác: Con gái đã hướng dẫn qua điện thoại"


def test_print_saves_the_call_list_and_opens_it(ctx, qtbot, ws, phoned, tmp_path,
                                                monkeypatch):
    page = make_page(ctx, qtbot)
    asked, opened = [], []
    monkeypatch.setattr(page, "ask_where_to_save",
                        lambda suggested: asked.append(suggested) or str(tmp_path / "goi"))
    monkeypatch.setattr(page, "open_file", opened.append)
    page.show()
    page.activateWindow()
    qtbot.waitUntil(page.isActiveWindow)  # shortcuts need an active window
    page.table.setFocus()
    press(Qt.Key.Key_P, CTRL)
    settle(qtbot, ctx, lambda: page.last_call_list is not None)
    assert asked[0].name == "danh-sach-goi-2026-11-20.pdf"
    assert opened == [tmp_path / "goi.pdf"]
    written = page.last_call_list
    assert written is not None and written.households == 1  # K3-002 is not due yet
    from dxkit.labels.verify import page_texts

    [text] = page_texts(written.path)
    assert "MH-001" in text and "0912 345 678" in text and "K3-002" not in text
