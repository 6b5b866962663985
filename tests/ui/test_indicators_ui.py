"""The indicators page: reached and counted people per indicator, by hamlet, kept current."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from dxkit.core import i18n
from dxkit.households.catalog import catalog_id
from dxkit.households.visits import VisitItem
from dxkit.ui.indicators_page import BAR_COLOUR, BAR_COLUMN, IndicatorsPage
from tests.households.test_catalog import publish_from_hub
from tests.ui.conftest import settle

VISITED = dt.datetime(2026, 11, 10, 8, 0)


def hoa(ws) -> str:
    return ws.catalog.member("Lê Thị Hoa").id


@pytest.fixture
def scene(ws):
    """Mỹ Hưng: An (1970), Bé (2015, too young), Cường (2008, just 18), Dung (1985).
    Khóm 3: Em (1990), Phúc (2010, 16). Ấp Đông Hòa: nobody.
    Done: An and Bé VNeID level 2, Cường a payment account, Em VNeID level 2, Phúc a digital
    signature (counted from 18, so not counted); An's online service only partly."""
    people = {}
    for code, hamlet, members in (
            ("MH-001", "Ấp Mỹ Hưng", (("An", "1970"), ("Bé", "2015"), ("Cường", "2008"))),
            ("MH-002", "Ấp Mỹ Hưng", (("Dung", "1985"),)),
            ("K3-001", "Khóm 3", (("Em", "1990"), ("Phúc", "2010")))):
        household = ws.households.add(code=code, head_name=members[0][0], hamlet=hamlet).value
        for name, born in members:
            people[name] = ws.people.add(household.id, full_name=name, birth_date=born).value
    ws.visits.add(people["An"].household_id, [
        VisitItem("vneid_level2", "done", people["An"].id),
        VisitItem("online_public_service", "partly", people["An"].id, "Thiếu giấy tờ"),
        VisitItem("vneid_level2", "done", people["Bé"].id),
        VisitItem("payment_account", "done", people["Cường"].id)],
        visited_at=VISITED, member_ids=[hoa(ws)])
    ws.visits.add(people["Em"].household_id, [
        VisitItem("vneid_level2", "done", people["Em"].id),
        VisitItem("digital_signature", "done", people["Phúc"].id)],
        visited_at=VISITED, member_ids=[hoa(ws)])
    return people


def make_page(ctx, qtbot) -> IndicatorsPage:
    page = IndicatorsPage(ctx)
    qtbot.addWidget(page)
    settle(qtbot, ctx, lambda: page.loaded)
    return page


def table(page) -> dict[str, list[str]]:
    """Indicator code -> the texts of its row (the bar column has none)."""
    model = page.model
    return {model.rows[r].code: [model.index(r, c).data() for c in range(BAR_COLUMN)]
            for r in range(model.rowCount())}


def counts(page, code: str) -> tuple[str, str, str]:
    return tuple(table(page)[code][1:4])


def choose_hamlet(page, ctx, qtbot, name: str | None) -> None:
    page.set_hamlet(ctx.ws.catalog.hamlet(name).id if name else None)
    settle(qtbot, ctx, lambda: not ctx.tasks.active)  # the answer reached the table


def test_shows_reached_and_counted_people_per_indicator(ctx, qtbot, scene):
    page = make_page(ctx, qtbot)
    assert page.model.headers() == [
        "Chỉ tiêu", "Số người đạt", "Số người được tính", "Tỷ lệ trên\nngười đã đăng ký",
        "Tỷ lệ trên\ndân số chính thức", "Mục tiêu", ""]
    rows = table(page)
    assert list(rows) == [i.code for i in ctx.ws.catalog.indicators()]
    assert rows["vneid_level2"] == ["Có định danh điện tử VNeID mức 2", "2", "5 (từ 15 tuổi)",
                                    "40,0 %", "", ""]
    assert counts(page, "payment_account") == ("1", "5 (từ 15 tuổi)", "20,0 %")
    ctx.ws.catalog.set_target("vneid_level2", "80%")
    page.refresh()
    settle(qtbot, ctx, lambda: not ctx.tasks.active)
    assert table(page)["vneid_level2"][5] == "80,0 % ✗"  # 40 % reached of an 80 % target
    assert counts(page, "smartphone") == ("0", "5 (từ 15 tuổi)", "0,0 %")
    # Counted from 18: Cường (born 2008) is in, Phúc's signature at 16 is not.
    assert counts(page, "online_public_services") == ("0", "4 (từ 18 tuổi)", "0,0 %")
    assert counts(page, "digital_signature") == ("0", "4 (từ 18 tuổi)", "0,0 %")
    assert page.hamlet_filter.itemText(0) == "Tất cả ấp/khóm"
    assert page.as_of_label.text().startswith("Tính đến ngày 20/11/2026.")
    assert "lượt thăm và câu trả lời" in page.as_of_label.text()
    numbers = page.model.index(0, 1).data(Qt.ItemDataRole.TextAlignmentRole)
    assert numbers & Qt.AlignmentFlag.AlignRight


def test_hamlet_filter_narrows_the_counts(ctx, qtbot, scene):
    page = make_page(ctx, qtbot)
    assert [page.hamlet_filter.itemText(i) for i in range(page.hamlet_filter.count())] == [
        "Tất cả ấp/khóm", "Ấp Mỹ Hưng", "Khóm 3", "Ấp Đông Hòa"]

    choose_hamlet(page, ctx, qtbot, "Ấp Mỹ Hưng")
    assert counts(page, "vneid_level2") == ("1", "3 (từ 15 tuổi)", "33,3 %")
    assert counts(page, "payment_account") == ("1", "3 (từ 15 tuổi)", "33,3 %")

    choose_hamlet(page, ctx, qtbot, "Khóm 3")
    assert counts(page, "vneid_level2") == ("1", "2 (từ 15 tuổi)", "50,0 %")
    assert counts(page, "digital_signature") == ("0", "1 (từ 18 tuổi)", "0,0 %")

    choose_hamlet(page, ctx, qtbot, "Ấp Đông Hòa")
    assert counts(page, "vneid_level2") == ("0", "0 (từ 15 tuổi)", "0,0 %")
    assert page.as_of_label.text().startswith("Chưa ghi nhận người dân nào ở đây.")

    choose_hamlet(page, ctx, qtbot, None)
    assert counts(page, "vneid_level2") == ("2", "5 (từ 15 tuổi)", "40,0 %")


def test_only_the_latest_question_reaches_the_table(ctx, qtbot, scene, monkeypatch):
    page = make_page(ctx, qtbot)
    shown = []
    real_set_rollup = page.model.set_rollup

    def spy(rollup):
        shown.append({r.code: r.population for r in rollup.rows})
        real_set_rollup(rollup)

    monkeypatch.setattr(page.model, "set_rollup", spy)
    # Two questions before either answer arrives: the first answer is out of date.
    page.set_hamlet(ctx.ws.catalog.hamlet("Ấp Mỹ Hưng").id)
    page.set_hamlet(ctx.ws.catalog.hamlet("Khóm 3").id)
    settle(qtbot, ctx, lambda: not ctx.tasks.active)
    assert [s["vneid_level2"] for s in shown] == [2]  # Khóm 3 only, never Mỹ Hưng's 3


def test_a_new_visit_updates_the_page(ctx, qtbot, scene):
    page = make_page(ctx, qtbot)
    dung = scene["Dung"]
    result = ctx.ws.visits.add(dung.household_id, [VisitItem("vneid_level2", "done", dung.id)],
                               visited_at=VISITED, member_ids=[hoa(ctx.ws)])
    ctx.notify(result.changes)
    settle(qtbot, ctx, lambda: counts(page, "vneid_level2") == ("3", "5 (từ 15 tuổi)", "60,0 %"))

    answer = ctx.ws.indicators.answer(dung.id, "smartphone", True)
    ctx.notify(answer.changes)
    settle(qtbot, ctx, lambda: counts(page, "smartphone")[0] == "1")


def test_new_hamlet_joins_the_filter_keeping_the_choice(ctx, qtbot, scene):
    page = make_page(ctx, qtbot)
    choose_hamlet(page, ctx, qtbot, "Khóm 3")
    ctx.notify(ctx.ws.catalog.add_hamlet("Ấp Tân Long").changes)
    settle(qtbot, ctx, lambda: page.hamlet_filter.findText("Ấp Tân Long") > 0)
    assert page.hamlet_filter.currentText() == "Khóm 3"


def test_bar_is_as_long_as_the_share(ctx, qtbot, scene):
    page = make_page(ctx, qtbot)
    page.resize(1000, 500)
    page.show()
    qtbot.waitExposed(page)
    row = [r.code for r in page.model.rows].index("vneid_level2")
    cell = page.table.visualRect(page.model.index(row, BAR_COLUMN))
    image = page.table.viewport().grab(cell).toImage()
    middle = image.height() // 2
    filled = [x for x in range(image.width())
              if image.pixelColor(x, middle).name() == BAR_COLOUR.name()]
    assert filled, "no bar painted"
    track = image.width() - 12  # the delegate leaves 6 px either side
    assert abs(len(filled) - round(track * 0.4)) <= 2


def test_english_labels(ctx, qtbot, scene):
    i18n.set_language("en")
    page = make_page(ctx, qtbot)
    assert page.model.headers() == [
        "Indicator", "People reached", "People counted", "Share of\npeople registered",
        "Share of\nofficial population", "Target", ""]
    assert page.hamlet_label.text() == "Hamlet:"
    assert page.hamlet_filter.itemText(0) == "All hamlets"
    assert table(page)["vneid_level2"] == ["Has VNeID level 2", "2", "5 (aged 15 and over)",
                                           "40.0%", "", ""]
    assert page.as_of_label.text().startswith("As of Nov 20, 2026.")


def test_main_window_lists_it_after_follow_ups(window):
    keys = [section.key for section in window.sections]
    assert keys.index("indicators") == keys.index("followups") + 1
    assert window.nav_titles()[keys.index("indicators")] == "Chỉ tiêu số"
    assert isinstance(window.show_section("indicators"), IndicatorsPage)


# -- targets and official population ------------------------------------------------------------
def saved(qtbot, dialog, action) -> None:
    """Run `action` (Save) and wait until the dialog accepted (it then deletes itself)."""
    with qtbot.waitSignal(dialog.accepted, timeout=3000):
        action()


def target_of(ws, code: str):
    return next(i for i in ws.catalog.indicators() if i.code == code)


def test_the_team_sets_and_removes_a_target(ctx, qtbot, scene):
    page = make_page(ctx, qtbot)
    assert not page.target_button.isEnabled()  # no indicator chosen yet
    assert page.edit_target() is None
    page.select_indicator("vneid_level2")
    assert page.target_button.isEnabled() and page.lock_label.isHidden()
    dialog = page.edit_target()
    assert dialog.share.text() == "" and not dialog.remove_button.isEnabled()
    dialog.share.setText("80")  # percent, as the field's label says
    saved(qtbot, dialog, dialog.save)
    assert target_of(ctx.ws, "vneid_level2").target == 0.8
    settle(qtbot, ctx, lambda: table(page)["vneid_level2"][5] == "80,0 % ✗")
    assert page.selected_code() == "vneid_level2"  # the refresh kept the choice

    again = page.edit_target()
    assert again.share.text() == "80" and again.remove_button.isEnabled()
    again.share.setText("82,5")
    saved(qtbot, again, again.save)
    assert target_of(ctx.ws, "vneid_level2").target == 0.825

    third = page.edit_target()
    saved(qtbot, third, third.remove_button.click)
    assert target_of(ctx.ws, "vneid_level2").target is None
    settle(qtbot, ctx, lambda: table(page)["vneid_level2"][5] == "")


def test_a_wrong_target_is_one_sentence_and_nothing_is_saved(ctx, qtbot, scene):
    page = make_page(ctx, qtbot)
    page.select_indicator("smartphone")
    dialog = page.edit_target()
    dialog.share.setText("150")
    dialog.save()
    field = dialog.errors.fields["target"]
    settle(qtbot, ctx, lambda: field.error_text() != "")
    assert field.error_text() == "Mục tiêu là tỷ lệ từ 0 đến 100%, ví dụ 80%; “150%” không hợp lệ."
    assert dialog.isVisible() and target_of(ctx.ws, "smartphone").target is None


def test_a_published_target_is_locked(ctx, qtbot, scene):
    publish_from_hub(ctx.ws, "indicators", catalog_id("indicator", "vneid_level2"),
                     {"target": 0.8})
    page = make_page(ctx, qtbot)
    page.show()
    page.select_indicator("vneid_level2")
    assert not page.target_button.isEnabled()
    assert page.lock_label.isVisible()
    assert page.lock_label.text() == ("Mục tiêu của chỉ tiêu này do tỉnh công bố: không "
                                      "thay đổi được ở đây.")
    assert page.edit_target() is None
    row = [r.code for r in page.model.rows].index("vneid_level2")
    cell = page.model.index(row, 5)
    assert cell.data() == "80,0 % ✗"
    assert cell.data(Qt.ItemDataRole.ToolTipRole) == "80,0 % ✗ (do tỉnh công bố)"
    assert cell.data(Qt.ItemDataRole.FontRole).italic()
    page.select_indicator("smartphone")  # the team's own: editable
    assert page.target_button.isEnabled() and page.lock_label.isHidden()


def test_the_official_population_of_a_hamlet(ctx, qtbot, scene):
    page = make_page(ctx, qtbot)
    assert not page.population_button.isEnabled()  # "All hamlets": choose one first
    assert page.edit_population() is None
    choose_hamlet(page, ctx, qtbot, "Khóm 3")
    assert page.population_button.isEnabled()
    assert page.as_of_label.text().endswith("Chưa nhập dân số chính thức của Khóm 3.")
    dialog = page.edit_population()
    assert (dialog.aged_15.text(), dialog.adults.text()) == ("", "")
    dialog.aged_15.setText("812")
    dialog.adults.setText("900")  # more adults than people aged 15 and over
    dialog.save()
    adults = dialog.errors.fields["population_18"]
    settle(qtbot, ctx, lambda: adults.error_text() != "")
    assert adults.error_text() == "Số người từ 18 tuổi không thể nhiều hơn số người từ 15 tuổi."
    assert ctx.ws.catalog.hamlet("Khóm 3").population_15 is None  # nothing written
    dialog.adults.setText("7,5")
    dialog.save()
    settle(qtbot, ctx, lambda: adults.error_text().startswith("Dân số là số nguyên"))
    dialog.adults.setText("745")
    saved(qtbot, dialog, dialog.save)
    hamlet = ctx.ws.catalog.hamlet("Khóm 3")
    assert (hamlet.population_15, hamlet.population_18) == (812, 745)
    settle(qtbot, ctx, lambda: page.as_of_label.text().endswith(
        "Dân số chính thức của Khóm 3: dân số từ 15 tuổi 812; người từ 18 tuổi 745."))


def test_a_published_population_figure_is_locked(ctx, qtbot, scene):
    hamlet = ctx.ws.catalog.hamlet("Khóm 3")
    publish_from_hub(ctx.ws, "hamlets", hamlet.id, {"population_15": 812})
    page = make_page(ctx, qtbot)
    choose_hamlet(page, ctx, qtbot, "Khóm 3")
    assert "812 (do tỉnh công bố)" in page.as_of_label.text()
    dialog = page.edit_population()
    assert not dialog.aged_15.isEnabled() and dialog.adults.isEnabled()
    assert not dialog.lock_label.isHidden()
    save = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save)
    assert save.isEnabled()
    dialog.adults.setText("700")
    saved(qtbot, dialog, dialog.save)
    again = ctx.ws.catalog.hamlet("Khóm 3")
    assert (again.population_15, again.population_18) == (812, 700)
    assert again.population_15_published  # sent unchanged: still the province's
    publish_from_hub(ctx.ws, "hamlets", hamlet.id, {"population_18": 650})
    both = page.edit_population()
    assert not both.adults.isEnabled()
    save = both.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save)
    assert not save.isEnabled()


def test_targets_and_population_in_english(ctx, qtbot, scene):
    i18n.set_language("en")
    publish_from_hub(ctx.ws, "indicators", catalog_id("indicator", "vneid_level2"),
                     {"target": 0.8})
    page = make_page(ctx, qtbot)
    assert (page.target_button.text(), page.population_button.text()) == (
        "Set target…", "Official population…")
    page.select_indicator("vneid_level2")
    assert page.lock_label.text() == ("The target of this indicator was published by the "
                                      "province: it cannot be changed here.")


def test_the_share_of_the_official_population_besides_the_people_registered(ctx, qtbot, scene):
    """Mỹ Hưng has 3 people of 15+ registered, Khóm 3 two; their official figures are larger.
    A share of the official population needs every hamlet shown to have its figure."""
    catalog = ctx.ws.catalog
    catalog.set_population(catalog.hamlet("Ấp Mỹ Hưng").id, 40, 30)
    catalog.set_population(catalog.hamlet("Khóm 3").id, 10, 8)
    page = make_page(ctx, qtbot)
    assert table(page)["vneid_level2"][3:5] == ["40,0 %", ""]  # Đông Hòa has no figure
    assert page.table.isColumnHidden(4)  # nothing to show in it
    row = [r.code for r in page.model.rows].index("vneid_level2")
    assert page.model.index(row, 4).data(Qt.ItemDataRole.ToolTipRole) == (
        "Chưa nhập dân số chính thức.")
    choose_hamlet(page, ctx, qtbot, "Ấp Mỹ Hưng")
    assert table(page)["vneid_level2"][3:5] == ["33,3 %", "2,5 %"]  # 1 of 3; 1 of 40
    assert not page.table.isColumnHidden(4)
    assert page.model.index(row, 4).data(Qt.ItemDataRole.ToolTipRole) == (
        "1 trên dân số chính thức 40 người từ 15 tuổi")
    assert table(page)["payment_account"][4] == "2,5 %"  # Cường, 1 of 40
    # Counted from 18: a share of the hamlet's adults.
    online = [r.code for r in page.model.rows].index("online_public_services")
    assert table(page)["online_public_services"][4] == "0,0 %"
    assert page.model.index(online, 4).data(Qt.ItemDataRole.ToolTipRole) == (
        "0 trên dân số chính thức 30 người từ 18 tuổi")
    ctx.notify(catalog.set_population(catalog.hamlet("Ấp Đông Hòa").id, 50, 45).changes)
    choose_hamlet(page, ctx, qtbot, None)
    settle(qtbot, ctx, lambda: table(page)["vneid_level2"][4] == "2,0 %")  # 2 of 100

