"""The visit dialog: ticking support per person, outcomes and reasons, corrections and voids."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from dxkit.ui.visit_form import VisitDialog, void_visit
from tests.ui.conftest import settle


@pytest.fixture
def family(ws):
    """A household in Ấp Mỹ Hưng with two adults; Hoa is the member using this laptop."""
    ws.settings.set("current_member_id", ws.catalog.member("Lê Thị Hoa").id)
    household = ws.households.add(code="MH-001", head_name="Nguyễn Văn Bình",
                                  hamlet="Ấp Mỹ Hưng").value
    father = ws.people.add(household.id, full_name="Nguyễn Văn Bình", sex="Nam",
                           birth_date="1968").value
    mother = ws.people.add(household.id, full_name="Trần Thị Lan", sex="Nữ",
                           birth_date="12/03/1972").value
    return household, father, mother


def make_dialog(ctx, qtbot, household_id=None) -> VisitDialog:
    dialog = VisitDialog(ctx, household_id)
    qtbot.addWidget(dialog)
    return dialog


def save(ctx, qtbot, dialog) -> bool:
    """Press Save and wait for the database thread's answer: True once the visit is saved."""
    if not dialog.save():
        return False
    settle(qtbot, ctx, lambda: not dialog.saving)
    return dialog.saved is not None


def test_household_is_picked_by_typing_without_diacritics(ctx, qtbot, family):
    household, father, mother = family
    dialog = make_dialog(ctx, qtbot)
    assert dialog.household is None
    qtbot.keyClicks(dialog.household_search, "nguyen van binh")
    assert dialog.household_results.count() == 1
    qtbot.keyClick(dialog.household_search, Qt.Key.Key_Return)
    assert dialog.household == household
    assert "MH-001" in dialog.household_label.text()
    people_rows = {key[0] for key in dialog.grid.cells}
    assert people_rows == {father.id, mother.id, None}


def test_defaults_now_and_the_current_member(ctx, qtbot, family, ws):
    dialog = make_dialog(ctx, qtbot, family[0].id)
    assert dialog.visit_time() == dt.datetime(2026, 11, 20, 9, 30)
    hoa, tam = ws.catalog.member("Lê Thị Hoa"), ws.catalog.member("Phạm Văn Tâm")
    assert dialog.member_ids() == [hoa.id]
    assert not dialog.member_boxes[tam.id].isChecked()
    assert dialog.follow_up_on() is None


def test_not_done_needs_a_reason_then_the_visit_is_saved(ctx, qtbot, family, ws):
    household, father, mother = family
    seen = []
    ctx.changed.connect(seen.append)
    dialog = make_dialog(ctx, qtbot, household.id)
    dialog.tick(father.id, "vneid_level2")
    dialog.tick(mother.id, "payment_account", outcome="not_done")  # no reason yet
    dialog.tick(None, "online_safety", outcome="partly")
    dialog.set_follow_up_in(7)
    dialog.notes.setPlainText("Chị Lan hẹn tuần sau mang CCCD")

    assert save(ctx, qtbot, dialog) is False
    missing = dialog.details[(mother.id, "payment_account")]
    assert not missing.error.isHidden()
    assert not dialog.errors["items"].isHidden()
    assert "lý do" in dialog.errors["items"].text().lower()
    assert dialog.details[(father.id, "vneid_level2")].error.isHidden()
    assert ws.visits.history(household.id) == []
    assert seen == []

    qtbot.keyClicks(missing.reason, "Chua")  # QTest types ASCII only
    assert missing.error.isHidden()  # typing clears the mark
    missing.reason.setText("Chưa mang CCCD")
    assert save(ctx, qtbot, dialog) is True
    assert dialog.result() == dialog.DialogCode.Accepted

    [visit] = ws.visits.history(household.id)
    assert visit.follow_up_on == dt.date(2026, 11, 27)
    assert visit.notes == "Chị Lan hẹn tuần sau mang CCCD"
    assert visit.member_ids == (ws.catalog.member("Lê Thị Hoa").id,)
    assert {(i.person_id, i.support_item_code, i.outcome, i.reason) for i in visit.items} == {
        (father.id, "vneid_level2", "done", ""),
        (mother.id, "payment_account", "not_done", "Chưa mang CCCD"),
        (None, "online_safety", "partly", ""),
    }
    assert [v.code for v in ws.indicators.for_person(father.id) if v.value] == ["vneid_level2"]
    assert ws.indicators.for_person(mother.id) == []
    assert len(seen) == 1 and seen[0].touched("visits")


def test_clicks_cycle_a_cell_and_its_outcome_line_follows(ctx, qtbot, family):
    household, father, _mother = family
    dialog = make_dialog(ctx, qtbot, household.id)
    key = (father.id, "qr_payment")
    cell = dialog.grid.cells[key]
    seen = []
    for _click in range(4):
        qtbot.mouseClick(cell, Qt.MouseButton.LeftButton, pos=cell.rect().center())
        detail = dialog.details.get(key)
        seen.append((cell.outcome, detail.outcome.currentData() if detail else None))
    assert seen == [("done", "done"), ("partly", "partly"), ("not_done", "not_done"),
                    (None, None)]
    assert dialog.details == {}

    qtbot.mouseClick(cell, Qt.MouseButton.LeftButton, pos=cell.rect().center())
    dialog.details[key].outcome.setCurrentIndex(2)  # the line's choice shows in the cell
    assert cell.outcome == "not_done"
    assert cell.accessibleName().endswith(": chưa xong")  # what a screen reader says


def test_members_and_household_errors_are_shown_next_to_them(ctx, qtbot, family, ws):
    dialog = make_dialog(ctx, qtbot)
    assert save(ctx, qtbot, dialog) is False
    assert not dialog.errors["household"].isHidden()

    dialog.choose_household(family[0].id)
    for box in dialog.member_boxes.values():
        box.setChecked(False)
    dialog.tick(family[1].id, "smartphone_basics")
    assert save(ctx, qtbot, dialog) is False
    assert not dialog.errors["members"].isHidden()
    assert dialog.errors["items"].isHidden()
    assert ws.visits.history(family[0].id) == []


def test_ctrl_enter_saves_and_plain_enter_does_not(ctx, qtbot, family, ws):
    household, father, _mother = family
    dialog = make_dialog(ctx, qtbot, household.id)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)  # shortcuts need focus
    dialog.tick(father.id, "smartphone_basics")
    dialog.notes.setFocus()
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert dialog.isVisible() and ws.visits.history(household.id) == []
    qtbot.keyClick(dialog.notes, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, ctx, lambda: dialog.saved is not None)
    assert len(ws.visits.history(household.id)) == 1


def test_amend_prefills_and_needs_a_reason(ctx, qtbot, family, ws):
    household, father, mother = family
    hoa = ws.catalog.member("Lê Thị Hoa").id
    original = ws.visits.add(household.id, [
        ws_item("vneid_level2", father.id), ws_item("payment_account", mother.id)],
        member_ids=[hoa], notes="lần đầu", follow_up_on=dt.date(2026, 12, 1)).value

    dialog = VisitDialog.amend(ctx, original.id)
    qtbot.addWidget(dialog)
    assert dialog.household == household
    assert set(dialog.details) == {(father.id, "vneid_level2"), (mother.id, "payment_account")}
    assert dialog.notes.toPlainText() == "lần đầu"
    assert dialog.follow_up_on() == dt.date(2026, 12, 1)
    assert dialog.reason_row.isVisibleTo(dialog)

    dialog.tick(mother.id, "payment_account", None)
    dialog.tick(mother.id, "qr_payment", outcome="partly")
    assert save(ctx, qtbot, dialog) is False
    assert not dialog.errors["reason"].isHidden()

    dialog.reason_edit.setText("Nhầm mục hỗ trợ")
    assert save(ctx, qtbot, dialog) is True
    history = ws.visits.history(household.id)
    assert [v.kind for v in history] == ["amend", "visit"]
    latest, first = history
    assert latest.corrects == first.id and not first.effective
    assert latest.reason == "Nhầm mục hỗ trợ"
    assert {(i.person_id, i.support_item_code, i.outcome) for i in latest.items} == {
        (father.id, "vneid_level2", "done"), (mother.id, "qr_payment", "partly")}
    assert latest.follow_up_on == dt.date(2026, 12, 1)


def test_void_helper_records_a_void_with_the_reason(ctx, qtbot, family, ws):
    household, father, _mother = family
    hoa = ws.catalog.member("Lê Thị Hoa").id
    visit = ws.visits.add(household.id, [ws_item("vneid_level2", father.id)],
                          member_ids=[hoa]).value
    assert [v.code for v in ws.indicators.for_person(father.id)] == ["vneid_level2"]
    seen = []
    ctx.changed.connect(seen.append)

    voided = []
    assert void_visit(ctx, visit.id, reason="Ghi nhầm hộ", on_voided=voided.append)
    settle(qtbot, ctx, lambda: bool(voided))
    [void] = voided
    assert void.kind == "void" and void.reason == "Ghi nhầm hộ"
    assert not ws.visits.get(visit.id).effective
    assert ws.indicators.for_person(father.id) == []
    assert len(seen) == 1


def test_saving_does_not_wait_for_a_task_holding_the_database(ctx, qtbot, family, ws):
    """An import or the demo holds the write lock on the database thread: pressing Save
    must neither freeze the form nor fail; the visit is written once the task is done."""
    household, father, _mother = family
    holding, release = threading.Event(), threading.Event()

    def hold_the_write_lock(_progress):
        with ws.transaction():
            holding.set()
            release.wait(10)

    ctx.tasks.run(hold_the_write_lock, cancellable=False)
    assert holding.wait(5)
    dialog = make_dialog(ctx, qtbot, household.id)
    dialog.tick(father.id, "vneid_level2")
    try:
        assert dialog.save() is True  # returns at once: the write waits its turn
        assert dialog.saving and not dialog.save_button.isEnabled()
        assert dialog.saved is None and ws.visits.history(household.id) == []
        assert dialog.save() is False  # a second press does not record it twice
    finally:
        release.set()
    settle(qtbot, ctx, lambda: dialog.saved is not None)
    assert dialog.result() == dialog.DialogCode.Accepted
    [visit] = ws.visits.history(household.id)
    assert visit.id == dialog.saved.id
    assert [(i.person_id, i.support_item_code) for i in visit.items] == [
        (father.id, "vneid_level2")]


def ws_item(code, person_id, outcome="done", reason=""):
    from dxkit.households.visits import VisitItem

    return VisitItem(code, outcome, person_id, reason)


def next_tab_stop(dialog, widget):
    """Where Tab goes from a widget: the next enabled, visible widget that takes Tab focus."""
    candidate = widget.nextInFocusChain()
    while not (candidate.focusPolicy() & Qt.FocusPolicy.TabFocus and candidate.isEnabled()
               and candidate.isVisibleTo(dialog)) or candidate.focusProxy() is not None:
        candidate = candidate.nextInFocusChain()
    return candidate


def test_tab_order_runs_members_grid_outcomes_notes_follow_up_save(ctx, qtbot, family):
    """The grid is one Tab stop, as a table is: Tab leaves it from any cell."""
    household, father, _mother = family
    dialog = make_dialog(ctx, qtbot, household.id)
    dialog.tick(father.id, "vneid_level2")
    cells = list(dialog.grid.cells.values())
    detail = dialog.details[(father.id, "vneid_level2")]
    members = list(dialog.member_boxes.values())
    assert next_tab_stop(dialog, dialog.visited_at) is members[0]
    assert next_tab_stop(dialog, members[-1]) is cells[0]
    assert next_tab_stop(dialog, cells[0]) is detail.outcome
    dialog.grid.focus_cell((None, "online_safety"))  # the last cell visited is the stop
    assert next_tab_stop(dialog, members[-1]) is cells[-1]
    assert next_tab_stop(dialog, cells[-1]) is detail.outcome
    assert next_tab_stop(dialog, detail.reason) is dialog.notes
    assert next_tab_stop(dialog, dialog.notes) is dialog.follow_up_box
    assert next_tab_stop(dialog, dialog.quick_buttons[-1]) is dialog.save_button
