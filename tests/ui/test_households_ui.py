"""The households page and its forms: add, validate, search as you type, filter by hamlet."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from dxkit.core import i18n
from dxkit.ui.household_forms import HouseholdForm
from dxkit.ui.households_page import HouseholdsPage
from tests.ui.conftest import settle


def make_page(ctx, qtbot) -> HouseholdsPage:
    page = HouseholdsPage(ctx)
    qtbot.addWidget(page)
    page.show()
    return page


def add(ws, code, head, hamlet="Ấp Mỹ Hưng", **extra):
    return ws.households.add(code=code, head_name=head, hamlet=hamlet, **extra).value


def test_add_household_shows_errors_next_to_fields_then_saves(ctx, qtbot, ws):
    page = make_page(ctx, qtbot)
    form = page.add_household()
    qtbot.addWidget(form)
    form.head_name.setText("Nguyễn Văn Bình")  # keyClicks types ASCII only
    qtbot.keyClicks(form.phone, "12345")
    form.save()
    settle(qtbot, ctx, lambda: form.errors.fields["code"].error_text() != "")

    assert form.errors.fields["code"].error_text() == "Hộ cần có mã hộ."
    assert "điện thoại" in form.errors.fields["phone"].error_text()
    assert form.errors.fields["hamlet"].error_text() == "Chọn ấp/khóm của hộ này."
    assert form.errors.fields["head_name"].error_text() == ""
    assert form.isVisible() and form.result() != QDialog.DialogCode.Accepted
    assert form.code.hasFocus() or not form.isActiveWindow()
    assert ws.households.count() == 0

    qtbot.keyClicks(form.code, "mh-001")
    form.phone.clear()
    qtbot.keyClicks(form.phone, "0912 345 678")
    form.hamlet.setCurrentIndex(form.hamlet.findText("Khóm 3"))
    form.save()
    settle(qtbot, ctx, lambda: form.result() == QDialog.DialogCode.Accepted)

    saved = ws.households.by_code("MH-001")
    assert (saved.head_name, saved.hamlet, saved.phone) == ("Nguyễn Văn Bình", "Khóm 3",
                                                            "0912345678")
    qtbot.waitUntil(lambda: page.model.rowCount() == 1)
    assert page.model.data(page.model.index(0, 4)) == "0912•••678"  # masked in the list
    assert page.count_label.text() == "1 hộ"


def test_edit_household_keeps_dialog_open_on_duplicate_code(ctx, qtbot, ws):
    add(ws, "MH-001", "Nguyễn Văn Bình")
    second = add(ws, "MH-002", "Trần Thị Lan")
    form = HouseholdForm(ctx, second)
    qtbot.addWidget(form)
    assert form.hamlet.currentText() == "Ấp Mỹ Hưng"
    form.code.setText("mh-001")
    form.save()
    settle(qtbot, ctx, lambda: form.errors.fields["code"].error_text() != "")
    assert "MH-001" in form.errors.fields["code"].error_text()
    assert ws.households.get(second.id).code == "MH-002"


def test_search_without_diacritics_as_you_type(ctx, qtbot, ws):
    add(ws, "MH-001", "Nguyễn Văn Đồng")
    add(ws, "MH-002", "Trần Thị Lan")
    add(ws, "K3-001", "Lê Văn Tám", hamlet="Khóm 3")
    page = make_page(ctx, qtbot)
    assert page.model.rowCount() == 3
    assert page.search_box.placeholderText() == (
        "Tìm theo tên, mã hộ, số điện thoại… (gõ không dấu cũng được)")

    qtbot.keyClicks(page.search_box, "nguyen van dong")
    assert page.model.rowCount() == 3  # debounced: nothing happens per keystroke
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=2000)
    assert page.model.household_at(0).head_name == "Nguyễn Văn Đồng"

    page.search_box.clear()
    qtbot.waitUntil(lambda: page.model.rowCount() == 3, timeout=2000)


def test_hamlet_filter(ctx, qtbot, ws):
    add(ws, "MH-001", "Nguyễn Văn Bình")
    add(ws, "K3-001", "Lê Văn Tám", hamlet="Khóm 3")
    add(ws, "K3-002", "Lê Thị Mai", hamlet="Khóm 3")
    page = make_page(ctx, qtbot)
    assert page.hamlet_combo.itemText(0) == "Tất cả ấp/khóm"
    page.hamlet_combo.setCurrentIndex(page.hamlet_combo.findText("Khóm 3"))
    assert [page.model.household_at(r).code for r in range(page.model.rowCount())] == [
        "K3-001", "K3-002"]
    assert page.count_label.text() == "2 hộ"
    # The filter also narrows a search.
    page.search_box.setText("le thi")
    page.apply_search()
    assert [page.model.household_at(r).code for r in range(page.model.rowCount())] == [
        "K3-002"]
    page.hamlet_combo.setCurrentIndex(0)
    page.search_box.clear()
    page.apply_search()
    assert page.model.rowCount() == 3


def test_enter_opens_the_selected_household(ctx, qtbot, ws):
    add(ws, "MH-001", "Nguyễn Văn Bình")
    page = make_page(ctx, qtbot)
    page.table.setFocus()
    page.table.selectRow(0)
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    assert len(page.open_views) == 1
    view = page.open_views[0]
    qtbot.addWidget(view)
    assert view.heading.text() == "MH-001 — Nguyễn Văn Bình"


def test_visit_button_opens_the_visit_dialog_for_the_selection(ctx, qtbot, ws):
    add(ws, "MH-001", "Nguyễn Văn Bình")
    page = make_page(ctx, qtbot)
    assert page.visit_button is not None  # dxkit.ui.visit_form exists in this tree
    page.table.selectRow(0)
    dialog = page.record_visit()
    qtbot.addWidget(dialog)
    assert dialog.isVisible()
    dialog.reject()


def test_the_count_says_one_household_and_many_households_in_english(ctx, qtbot, ws):
    add(ws, "MH-001", "Nguyễn Văn Bình")
    try:
        i18n.set_language("en")
        page = make_page(ctx, qtbot)
        assert page.count_label.text() == "1 household"
        ctx.notify(ws.households.add(code="MH-002", head_name="Trần Thị Lan",
                                     hamlet="Ấp Mỹ Hưng").changes)
        settle(qtbot, ctx, lambda: page.count_label.text() == "2 households")
    finally:
        i18n.set_language("vi")


def test_only_added_or_removed_households_recount_for_the_welcome(ctx, qtbot, ws, monkeypatch):
    household = add(ws, "MH-001", "Nguyễn Văn Bình")
    page = make_page(ctx, qtbot)
    assert not page.is_empty_state()
    counts = []
    real_count = ws.households.count
    monkeypatch.setattr(ws.households, "count", lambda: counts.append(True) or real_count())
    ctx.notify(ws.households.update(household.id, phone="0912345678").changes)
    assert counts == []  # an edit cannot empty the list
    ctx.notify(ws.households.add(code="MH-002", head_name="Trần Thị Lan",
                                 hamlet="Ấp Mỹ Hưng").changes)
    assert counts == [True]



def test_a_hamlet_missing_from_the_list_is_added_from_the_household_form(
        fresh_ws, qtbot, monkeypatch):
    """A new team with no hamlet yet: "Thêm hộ" must not dead-end on a required hamlet."""
    from dxkit.ui.context import AppContext
    from dxkit.ui.household_forms import QInputDialog

    ctx = AppContext(fresh_ws)
    try:
        form = HouseholdForm(ctx)
        qtbot.addWidget(form)
        assert form.hamlet.count() == 1  # only "— choose a hamlet —"
        monkeypatch.setattr(QInputDialog, "getText",
                            staticmethod(lambda *_args, **_kw: ("Ấp Mỹ Đông", True)))
        qtbot.mouseClick(form.new_hamlet_button, Qt.MouseButton.LeftButton)
        settle(qtbot, ctx, lambda: form.hamlet.currentText() == "Ấp Mỹ Đông")
        assert [h.name for h in fresh_ws.catalog.hamlets()] == ["Ấp Mỹ Đông"]
        form.add_hamlet("ap my dong")  # the same hamlet typed again: said, not duplicated
        settle(qtbot, ctx, lambda: form.errors.fields["hamlet"].error_text() != "")
        assert "Ấp Mỹ Đông" in form.errors.fields["hamlet"].error_text() or \
            "ap my dong" in form.errors.fields["hamlet"].error_text()
        assert len(fresh_ws.catalog.hamlets()) == 1
        form.code.setText("MD-001")
        form.head_name.setText("Nguyễn Văn Bình")
        form.save()
        settle(qtbot, ctx, lambda: form.result() == QDialog.DialogCode.Accepted)
        assert fresh_ws.households.by_code("MD-001").hamlet == "Ấp Mỹ Đông"
    finally:
        ctx.tasks.shutdown()
