"""The follow-ups page: due state, filters, per-hamlet summary, and the visit one step away."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt

from dxkit.core import i18n
from dxkit.households.visits import VisitItem
from dxkit.ui.followups_page import FollowUpsPage
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
    assert rows[0][3:] == ["Nguyễn Văn Bình", "Ấp Mỹ Hưng", "Lê Thị Hoa", "hẹn lại MH-001"]
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
    assert asked == [{"within_days": 30, "member_id": None}]
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
