"""A faster doorstep: the standard return visit from the main window, keyboard only, counted;
the grid's keys; what is pending; the saved notice; the people and household forms.

Keys go to whichever widget has the focus (`QApplication.focusWidget()`), as a person's
keyboard would: a test that typed into a widget it named could pass while the focus was
somewhere else.
"""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QWidget

from dxkit.households.visits import VisitItem
from dxkit.ui.app import create_main_window
from dxkit.ui.household_forms import HouseholdForm, PersonForm
from dxkit.ui.household_view import HouseholdView
from dxkit.ui.visit_form import VisitDialog
from tests.ui.conftest import settle

CTRL = Qt.KeyboardModifier.ControlModifier
ALT = Qt.KeyboardModifier.AltModifier
NONE = Qt.KeyboardModifier.NoModifier
LAST_VISIT = dt.datetime(2026, 11, 13, 9, 0)  # a week before the tests' "now"


class Keyboard:
    """Presses keys on the focused widget and counts the user's actions: a key press (with
    its modifiers) is one action, a whole typed text is one."""

    def __init__(self) -> None:
        self.actions: list[str] = []

    def press(self, key: Qt.Key, modifier: Qt.KeyboardModifier = NONE, name: str = "") -> None:
        QTest.keyClick(self.focus(), key, modifier)
        self.actions.append(name or key.name)
        QApplication.processEvents()

    def type(self, text: str) -> None:
        QTest.keyClicks(self.focus(), text)
        self.actions.append(f"type {text!r}")
        QApplication.processEvents()

    @staticmethod
    def focus() -> QWidget:
        widget = QApplication.focusWidget()
        assert widget is not None, "nothing has the keyboard focus"
        return widget


@pytest.fixture
def return_visit(ws):
    """MH-0123, two adults; a week ago their VNeID (both) and his bank account were left
    open, and a follow-up set for today. Hoa is the member using this laptop."""
    hoa = ws.catalog.member("Lê Thị Hoa")
    ws.settings.set("current_member_id", hoa.id)
    household = ws.households.add(code="MH-0123", head_name="Nguyễn Văn Bình",
                                  hamlet="Ấp Mỹ Hưng").value
    ws.households.add(code="MH-0122", head_name="Trần Văn An", hamlet="Ấp Mỹ Hưng")
    father = ws.people.add(household.id, full_name="Nguyễn Văn Bình", birth_date="1968").value
    mother = ws.people.add(household.id, full_name="Trần Thị Lan", birth_date="1972").value
    ws.visits.add(household.id, [
        VisitItem("vneid_level2", "not_done", father.id, "Chưa mang CCCD"),
        VisitItem("payment_account", "partly", father.id),
        VisitItem("vneid_level2", "not_done", mother.id, "Chưa mang CCCD"),
        VisitItem("smartphone_basics", "done", mother.id),
    ], member_ids=[hoa.id], visited_at=LAST_VISIT, follow_up_on=dt.date(2026, 11, 20))
    return household, father, mother, hoa


def open_main_window(ws, qtbot):
    window = create_main_window(ws)
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)  # shortcuts need an active window
    return window


def active_dialog(qtbot, cls: type[QDialog]) -> QDialog:
    qtbot.waitUntil(lambda: isinstance(QApplication.activeWindow(), cls))
    dialog = QApplication.activeWindow()
    qtbot.addWidget(dialog)
    return dialog


def test_the_standard_return_visit_takes_six_actions(ws, qtbot, return_visit):
    """Known household, three items done for its people, a follow-up in 7 days.

    Before this change (main at f5dc42e) the same visit, counted the same way, took 50:
    Ctrl+F, type, Enter, a click on "Record a visit" (Tab walked the table's cells and moved
    the selection), 13 Right arrows and 3 Spaces for the three cells, 28 Tabs and a Space
    for "+7 days", Ctrl+Enter; or 9 with a mouse (the three cells, "+7 days" and Save each
    clicked)."""
    household, father, mother, hoa = return_visit
    window = open_main_window(ws, qtbot)
    keys = Keyboard()
    try:
        keys.press(Qt.Key.Key_F, CTRL, "Ctrl+F")  # the households search
        keys.type("MH-0123")
        keys.press(Qt.Key.Key_Return, name="Enter")  # the first match, selected
        keys.press(Qt.Key.Key_R, CTRL, "Ctrl+R")  # record a visit to it
        dialog = active_dialog(qtbot, VisitDialog)
        assert dialog.household == household
        keys.press(Qt.Key.Key_7, ALT, "Alt+7")  # follow-up in 7 days
        keys.press(Qt.Key.Key_Return, CTRL, "Ctrl+Enter")  # save
        settle(qtbot, window.ctx, lambda: dialog.saved is not None)
    finally:
        window.ctx.tasks.shutdown()

    assert keys.actions == ["Ctrl+F", "type 'MH-0123'", "Enter", "Ctrl+R", "Alt+7",
                            "Ctrl+Enter"]
    assert len(keys.actions) <= 6
    latest = ws.visits.history(household.id)[0]
    assert latest.id == dialog.saved.id and latest.kind == "visit"
    assert {(i.person_id, i.support_item_code, i.outcome) for i in latest.items} == {
        (father.id, "vneid_level2", "done"), (father.id, "payment_account", "done"),
        (mother.id, "vneid_level2", "done")}
    assert latest.follow_up_on == dt.date(2026, 11, 27)
    assert latest.member_ids == (hoa.id,)
    assert latest.recorded_by == "Lê Thị Hoa"
    assert ws.visits.pending(household.id) == []
    message = window.statusBar().currentMessage()
    assert message == "Lượt thăm hộ MH-0123 đã lưu: 3 đã xong. Hẹn quay lại ngày 27/11/2026."


def test_the_form_shows_what_was_left_open_and_who_records(ctx, qtbot, ws, return_visit):
    household, father, mother, hoa = return_visit
    dialog = VisitDialog(ctx, household.id)
    qtbot.addWidget(dialog)
    assert dialog.member_ids() == [hoa.id]
    assert dialog.grid.given() == {(father.id, "vneid_level2"): "done",
                                   (father.id, "payment_account"): "done",
                                   (mother.id, "vneid_level2"): "done"}
    text = dialog.pending_label.text()
    assert not dialog.pending_label.isHidden()
    assert "Trần Thị Lan — Kích hoạt định danh điện tử mức 2: chưa xong ngày 13/11/2026 " \
           "(Chưa mang CCCD)" in text
    assert "Mở tài khoản ngân hàng / ví điện tử: xong một phần ngày 13/11/2026" in text
    cell = dialog.grid.cells[(father.id, "payment_account")]
    assert cell.pending_note and "xong một phần" in cell.toolTip()
    assert not dialog.grid.cells[(mother.id, "smartphone_basics")].pending_note  # done then


def test_older_leftovers_are_marked_but_not_ticked(ctx, qtbot, ws, return_visit):
    """Only what the latest visit left open is ticked as done; what an earlier one left
    (and the latest did not touch) is shown, for the recorder to decide."""
    household, father, mother, hoa = return_visit
    ws.visits.add(household.id, [VisitItem("vneid_level2", "done", father.id),
                                 VisitItem("health_app", "partly", mother.id)],
                  member_ids=[hoa.id], visited_at=dt.datetime(2026, 11, 18, 9, 0))
    dialog = VisitDialog(ctx, household.id)
    qtbot.addWidget(dialog)
    assert dialog.grid.given() == {(mother.id, "health_app"): "done"}
    older = dialog.grid.cells[(mother.id, "vneid_level2")]
    assert older.outcome is None and "13/11/2026" in older.pending_note
    text = dialog.pending_label.text()
    assert text.index("tô màu vàng") > text.index("Cài đặt VssID")
    assert "Trần Thị Lan — Kích hoạt định danh điện tử mức 2" in text.split("tô màu vàng")[1]
    assert dialog.grid.current is dialog.grid.cells[(mother.id, "health_app")]


def test_a_correction_starts_from_the_visit_not_from_what_is_open(ctx, qtbot, ws,
                                                                  return_visit):
    household, father, _mother, _hoa = return_visit
    [earlier] = ws.visits.history(household.id)
    dialog = VisitDialog.amend(ctx, earlier.id)
    qtbot.addWidget(dialog)
    assert dialog.pending_label.isHidden()
    assert dialog.grid.outcome((father.id, "vneid_level2")) == "not_done"
    assert dialog.details[(father.id, "vneid_level2")].reason.text() == "Chưa mang CCCD"


def test_grid_keys_move_in_four_directions_cycle_and_move_on(ctx, qtbot, ws, return_visit):
    household, father, mother, _hoa = return_visit
    ws.visits.add(household.id, [VisitItem("vneid_level2", "done", father.id),
                                 VisitItem("payment_account", "done", father.id),
                                 VisitItem("vneid_level2", "done", mother.id)],
                  member_ids=[return_visit[3].id])  # nothing left open now
    dialog = VisitDialog(ctx, household.id)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    grid, keys = dialog.grid, Keyboard()
    assert keys.focus() is grid.cells[(father.id, "smartphone_basics")]

    for key in (Qt.Key.Key_Right, Qt.Key.Key_Right, Qt.Key.Key_Down, Qt.Key.Key_Left,
                Qt.Key.Key_Up, Qt.Key.Key_Down):
        keys.press(key)
    assert keys.focus() is grid.cells[(mother.id, "vneid_install")]
    for expected in ("done", "partly", "not_done", None, "done"):
        keys.press(Qt.Key.Key_Space)
        assert grid.outcome((mother.id, "vneid_install")) == expected
    assert dialog.details[(mother.id, "vneid_install")].outcome.currentData() == "done"
    keys.press(Qt.Key.Key_Left)
    keys.press(Qt.Key.Key_Left)  # the edge: stays
    assert keys.focus() is grid.cells[(mother.id, "smartphone_basics")]

    keys.press(Qt.Key.Key_Return)  # down a row
    assert keys.focus() is grid.cells[(None, "smartphone_basics")]
    keys.press(Qt.Key.Key_Return)  # from the last row: on to the next field
    assert keys.focus() is dialog.details[(mother.id, "vneid_install")].outcome
    assert dialog.isVisible()  # Enter never closes the form

    grid.focus_cell((father.id, "online_safety"))
    keys.press(Qt.Key.Key_Tab)  # leaves the grid at once
    assert keys.focus() is dialog.details[(mother.id, "vneid_install")].outcome
    keys.press(Qt.Key.Key_Backtab)  # and comes back where it left
    assert keys.focus() is grid.cells[(father.id, "online_safety")]


def test_headers_use_the_app_font_and_name_the_item_in_full(ctx, qtbot, ws, return_visit):
    dialog = VisitDialog(ctx, return_visit[0].id)
    qtbot.addWidget(dialog)
    app_size = QFont(QApplication.font()).pointSizeF()
    names = {item.name for item in ws.catalog.support_items()}
    headers = [label for label in dialog.grid.findChildren(QLabel) if label.toolTip() in names]
    assert len(headers) == len(names)
    assert all(label.font().pointSizeF() >= app_size for label in headers)
    shortened = [label for label in headers if label.text().replace("\n", " ") != label.toolTip()]
    assert shortened  # the long Vietnamese names do not fit three lines of a column
    for label in shortened:
        assert label.text().endswith("…") and label.text().count("\n") <= 2
        words = label.text().rstrip("…").split()
        assert label.toolTip().startswith(" ".join(words[:-1]))


def test_record_visit_from_the_household_page_says_what_was_saved(ctx, qtbot, ws,
                                                                  return_visit):
    household, *_rest = return_visit
    view = HouseholdView(ctx, household.id)
    qtbot.addWidget(view)
    view.show()
    view.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is view)
    notices = []
    ctx.notice.connect(notices.append)
    QTest.keyClick(view, Qt.Key.Key_R, CTRL)
    dialog = active_dialog(qtbot, VisitDialog)
    assert dialog.household == household
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return, CTRL)
    settle(qtbot, ctx, lambda: dialog.saved is not None)
    assert not view.notice.isHidden()
    assert view.notice.text() == notices[0] == (
        "Lượt thăm hộ MH-0123 đã lưu: 3 đã xong.")


def test_tab_leaves_the_households_list_keeping_the_selection(ws, qtbot, return_visit):
    window = open_main_window(ws, qtbot)
    page, keys = window.pages["households"], Keyboard()
    try:
        keys.press(Qt.Key.Key_F, CTRL)
        keys.type("MH-0123")
        keys.press(Qt.Key.Key_Return)
        keys.press(Qt.Key.Key_Tab)
        assert keys.focus() is page.add_button
        assert page.selected_household().code == "MH-0123"
    finally:
        window.ctx.tasks.shutdown()


def test_ctrl_r_with_no_household_selected_opens_the_picker(ws, qtbot, return_visit):
    window = open_main_window(ws, qtbot)
    try:
        window.show_section("settings")
        QTest.keyClick(window, Qt.Key.Key_R, CTRL)
        dialog = active_dialog(qtbot, VisitDialog)
        assert window.current_section() == "households"
        assert dialog.household is None and dialog.household_search.hasFocus()
        dialog.reject()
    finally:
        window.ctx.tasks.shutdown()


def test_save_and_add_another_person(ctx, qtbot, ws, return_visit):
    household, *_rest = return_visit
    form = PersonForm(ctx, household.id)
    qtbot.addWidget(form)
    form.show()
    form.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is form)
    for name in ("Nguyen Van Hung", "Nguyen Thi Mai"):
        assert form.full_name.hasFocus()
        QTest.keyClicks(form.full_name, name)
        QTest.keyClick(form.full_name, Qt.Key.Key_Return, CTRL)  # save and add another
        settle(qtbot, ctx, lambda: not form.saving and form.full_name.text() == "")
    assert form.isVisible()
    assert form.added_label.text() == "Đã lưu: Nguyen Van Hung, Nguyen Thi Mai. Người tiếp theo:"
    names = [p.full_name for p in ws.people.in_household(household.id)]
    assert names[-2:] == ["Nguyen Van Hung", "Nguyen Thi Mai"]

    form.save_and_add_another()  # an empty name is refused, the form stays
    settle(qtbot, ctx, lambda: form.errors.fields["full_name"].error_text() != "")
    assert len(ws.people.in_household(household.id)) == 4


def test_editing_a_person_offers_no_add_another(ctx, qtbot, ws, return_visit):
    household, father, *_rest = return_visit
    form = PersonForm(ctx, household.id, father)
    qtbot.addWidget(form)
    assert not hasattr(form, "add_another")


def test_the_household_form_suggests_the_next_code(ctx, qtbot, ws, return_visit):
    form = HouseholdForm(ctx, hamlet_id=ws.catalog.hamlet("Ấp Mỹ Hưng").id)
    qtbot.addWidget(form)
    settle(qtbot, ctx, lambda: form.code.text() == "MH-0124")
    assert form.code.selectedText() == "MH-0124"  # typing replaces it
    form.hamlet.setCurrentIndex(form.hamlet.findText("Ấp Đông Hòa"))
    settle(qtbot, ctx, lambda: form.code.text() == "DH-0001")

    form.code.setText("DH-0500")  # the user's own code stands
    form.hamlet.setCurrentIndex(form.hamlet.findText("Ấp Mỹ Hưng"))
    ctx.tasks.wait_idle()
    QApplication.processEvents()
    assert form.code.text() == "DH-0500"
    assert HouseholdForm(ctx, return_visit[0]).code.text() == "MH-0123"  # editing: as it is
