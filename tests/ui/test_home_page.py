"""The home page "Hôm nay": the day's follow-ups, sync state, indicators against targets and the
latest visits, each leading to its section; Ctrl+1…9 switch sections."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt

from dxkit.core import i18n
from dxkit.households.today import today_summary
from dxkit.households.visits import VisitItem
from dxkit.ui.home_page import HomePage
from dxkit.ui.sections import SECTIONS
from tests.ui.conftest import settle

TODAY = dt.date(2026, 11, 20)  # the frozen day of the test workspace


@pytest.fixture
def day(ws):
    """Bình 5 days overdue, Lan due today, Hậu due in 10 days; Lan had a visit this week."""
    hoa = ws.catalog.member("Lê Thị Hoa").id
    plans = (("MH-001", "Ấp Mỹ Hưng", "Nguyễn Văn Bình", dt.date(2026, 11, 15),
              dt.datetime(2026, 11, 1, 8)),
             ("K3-002", "Khóm 3", "Trần Thị Lan", TODAY, dt.datetime(2026, 11, 18, 9)),
             ("DH-003", "Ấp Đông Hòa", "Võ Văn Hậu", dt.date(2026, 11, 30),
              dt.datetime(2026, 10, 2, 9)))
    for code, hamlet, name, due, when in plans:
        household = ws.households.add(code=code, head_name=name, hamlet=hamlet).value
        person = ws.people.add(household.id, full_name=name, birth_date="1970").value
        ws.visits.add(household.id, [VisitItem("vneid_level2", "done", person.id)],
                      visited_at=when, member_ids=[hoa], follow_up_on=due)
    ws.catalog.set_target("vneid_level2", "80%")
    return ws


def test_the_summary_counts_what_the_day_holds(day):
    summary = today_summary(day, TODAY)
    assert [f.household_code for f in summary.overdue] == ["MH-001"]
    assert [f.household_code for f in summary.due_today] == ["K3-002"]
    assert (summary.visits_this_week, summary.households_this_week) == (1, 1)
    assert [v.household_code for v in summary.recent] == ["K3-002", "MH-001", "DH-003"]
    assert summary.recent[0].recorders == ("Lê Thị Hoa",) and summary.recent[0].items == 1
    vneid = next(r for r in summary.indicators_with_target if r.code == "vneid_level2")
    assert (vneid.reached, vneid.population, vneid.target) == (3, 3, 0.8)


def test_the_page_shows_the_day_and_leads_to_the_sections(ctx, qtbot, day):
    page = HomePage(ctx)
    qtbot.addWidget(page)
    settle(qtbot, ctx, lambda: page.summary is not None)
    assert page.heading.text() == "Hôm nay, 20/11/2026"
    assert "1 quá hạn" in page.follow_ups_count.text()
    assert "1 đến hạn hôm nay" in page.follow_ups_count.text()
    listed = page.follow_ups_list.text().splitlines()
    assert listed[0] == "Nguyễn Văn Bình (MH-001) — quá hạn 5 ngày"  # most overdue first
    assert "Võ Văn Hậu" not in page.follow_ups_list.text()  # not due yet
    assert page.week_label.text() == "1 lượt thăm tới 1 hộ."
    assert "Trần Thị Lan" in page.recent_label.text()
    labels = [page.indicator_grid.itemAtPosition(r, 0).widget().text()
              for r in range(page.indicator_grid.rowCount())
              if page.indicator_grid.itemAtPosition(r, 0) is not None]
    assert any(text.endswith("100 % (mục tiêu 80 %)") for text in labels)
    assert page.pending_label.text() == "Máy này chưa đăng ký với máy chủ."
    assert page.sync_button.isHidden()
    asked = []
    page.section_requested.connect(asked.append)
    qtbot.mouseClick(page.follow_ups_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(page.indicators_button, Qt.MouseButton.LeftButton)
    assert asked == ["followups", "indicators"]


def test_a_new_visit_updates_the_page(ctx, qtbot, day):
    page = HomePage(ctx)
    qtbot.addWidget(page)
    settle(qtbot, ctx, lambda: page.summary is not None)
    household = day.households.by_code("MH-001")
    person = day.people.in_household(household.id)[0]
    result = day.visits.add(household.id, [VisitItem("vneid_install", "done", person.id)],
                            visited_at=dt.datetime(2026, 11, 20, 8),
                            member_ids=[day.catalog.member("Lê Thị Hoa").id])
    ctx.changed.emit(result.changes)
    settle(qtbot, ctx, lambda: page.week_label.text() == "2 lượt thăm tới 2 hộ.")
    assert "quá hạn" not in page.follow_ups_count.text()  # the visit met Bình's follow-up


def test_english_counts_are_singular_and_plural(ctx, qtbot, day):
    i18n.set_language("en")
    try:
        page = HomePage(ctx)
        qtbot.addWidget(page)
        settle(qtbot, ctx, lambda: page.summary is not None)
        assert page.week_label.text() == "1 visit to 1 household."
        assert "1 overdue" in page.follow_ups_count.text()
    finally:
        i18n.set_language("vi")


def test_ctrl_and_a_number_switch_sections(window, qtbot):
    numbered = [s for s in SECTIONS if not s.shortcut]  # a section with its own key has no digit
    for number, section in enumerate(numbered[:9], start=1):
        qtbot.keyClick(window, Qt.Key(Qt.Key.Key_0 + number), Qt.KeyboardModifier.ControlModifier)
        assert window.current_section() == section.key
    assert not window.nav.item(0).icon().isNull()  # every section has its icon
    assert all(not window.nav.item(i).icon().isNull() for i in range(window.nav.count()))
