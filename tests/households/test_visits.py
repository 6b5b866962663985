"""Visits are immutable events: amend and void add corrections; follow-ups come and go."""

from __future__ import annotations

import datetime as dt

import pytest

from dxkit.core.errors import NotFound, ValidationError
from dxkit.core.i18n import set_language
from dxkit.households.visits import VisitItem, outcome_label

NOW = dt.datetime(2026, 11, 20, 9, 30)


@pytest.fixture
def setup(ws):
    household = ws.households.add(code="MH-001", head_name="Nguyễn Văn An",
                                  hamlet="Ấp Mỹ Hưng").value
    other = ws.households.add(code="K3-001", head_name="Trần Văn Bình", hamlet="Khóm 3").value
    an = ws.people.add(household.id, full_name="Nguyễn Văn An", birth_year=1970).value
    binh = ws.people.add(other.id, full_name="Trần Văn Bình", birth_year=1980).value
    hoa = ws.catalog.member("Lê Thị Hoa")
    tam = ws.catalog.member("Phạm Văn Tâm")
    return ws, household, other, an, binh, hoa, tam


def visit(ws, household, member, *items, when=None, follow_up=None, notes=""):
    items = items or (VisitItem("smartphone_basics", "done"),)
    return ws.visits.add(household.id, list(items), member_ids=[member.id],
                         visited_at=when, follow_up_on=follow_up, notes=notes).value


def test_add_visit(setup):
    ws, household, _other, an, _binh, hoa, _tam = setup
    result = ws.visits.add(household.id, [VisitItem("vneid_level2", "done", an.id),
                                          VisitItem("qr_payment", "partly", an.id)],
                           member_ids=[hoa.id], notes=" Đã  hướng dẫn ")
    v = result.value
    assert v.kind == "visit" and v.effective and v.corrects is None
    assert v.visited_at == NOW
    assert v.member_ids == (hoa.id,)
    assert v.notes == "Đã hướng dẫn"
    assert [(i.support_item_code, i.outcome, i.person_id) for i in v.items] == [
        ("vneid_level2", "done", an.id), ("qr_payment", "partly", an.id)]
    assert result.changes.count("created", "visits") == 1
    assert result.changes.count("created", "visit_items") == 2
    assert ws.visits.get(v.id) == v
    assert v.to_dict()["items"][0]["outcome"] == "done"


def test_amend_keeps_both_versions(setup):
    ws, household, _other, an, _binh, hoa, _tam = setup
    original = visit(ws, household, hoa, VisitItem("vneid_level2", "partly", an.id),
                     notes="lần 1")
    amended = ws.visits.amend(original.id, [VisitItem("vneid_level2", "done", an.id)],
                              reason="Ghi nhầm kết quả").value
    assert amended.kind == "amend" and amended.corrects == original.id
    assert amended.reason == "Ghi nhầm kết quả"
    assert amended.visited_at == original.visited_at
    assert amended.member_ids == original.member_ids
    assert amended.notes == "lần 1"
    history = ws.visits.history(household.id)
    assert [v.id for v in history] == [amended.id, original.id]
    old = ws.visits.get(original.id)
    assert not old.effective and old.superseded_by == (amended.id,)
    assert old.items[0].outcome == "partly"  # the original event is unchanged
    assert [v.id for v in ws.visits.list()] == [amended.id]
    assert {v.id for v in ws.visits.list(include_corrected=True)} == {original.id, amended.id}


def test_void(setup):
    ws, household, _other, _an, _binh, hoa, _tam = setup
    original = visit(ws, household, hoa)
    voided = ws.visits.void(original.id, reason="Nhập trùng").value
    assert voided.kind == "void" and not voided.effective and voided.items == ()
    assert not ws.visits.get(original.id).effective
    assert ws.visits.list() == []
    assert [v.kind for v in ws.visits.history(household.id)] == ["void", "visit"]


def test_a_visit_recorded_by_another_teams_member_can_be_voided(setup):
    """A commune team's laptop holds a hamlet team's visits, whose members it does not know
    (each team keeps its own list): the void keeps their ids and is not refused for them."""
    ws, household, _other, _an, _binh, hoa, _tam = setup
    original = visit(ws, household, hoa)
    with ws.transaction() as tx:  # as if Hoa were on another team's list, not this one's
        tx.conn.execute("DELETE FROM team_members WHERE id = ?", (hoa.id,))
    voided = ws.visits.void(original.id, reason="Nhập trùng").value
    assert voided.member_ids == (hoa.id,) and not ws.visits.get(original.id).effective


def test_correcting_an_already_corrected_visit_is_refused(setup):
    ws, household, _other, _an, _binh, hoa, _tam = setup
    original = visit(ws, household, hoa)
    amended = ws.visits.amend(original.id, [VisitItem("online_safety", "done")],
                              reason="sai mục").value
    for action in (
        lambda: ws.visits.amend(original.id, [VisitItem("online_safety", "done")], reason="x"),
        lambda: ws.visits.void(original.id, reason="x"),
    ):
        with pytest.raises(ValidationError) as caught:
            action()
        assert set(caught.value.fields) == {"visit"}
    voided = ws.visits.void(amended.id, reason="không có chuyến thăm").value
    with pytest.raises(ValidationError):
        ws.visits.void(voided.id, reason="x")
    with pytest.raises(ValidationError):
        ws.visits.amend(amended.id, [VisitItem("online_safety", "done")], reason="x")


def test_correction_needs_reason(setup):
    ws, household, _other, _an, _binh, hoa, _tam = setup
    original = visit(ws, household, hoa)
    with pytest.raises(ValidationError) as caught:
        ws.visits.void(original.id, reason="  ")
    assert set(caught.value.fields) == {"reason"}
    with pytest.raises(ValidationError):
        ws.visits.amend(original.id, [VisitItem("online_safety", "done")], reason="")
    assert ws.visits.get(original.id).effective


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"member_ids": []}, "members"),
    ({"member_ids": ["stranger"]}, "members"),
    ({"items": []}, "items"),
    ({"items": [VisitItem("teleportation", "done")]}, "items"),
    ({"items": [VisitItem("smartphone_basics", "maybe")]}, "items"),
    ({"items": [VisitItem("smartphone_basics", "not_done")]}, "items"),
    ({"items": [VisitItem("smartphone_basics", "not_done", reason="  ")]}, "items"),
    ({"visited_at": NOW + dt.timedelta(days=1)}, "visited_at"),
    ({"follow_up_on": dt.date(2026, 11, 19)}, "follow_up_on"),
])
def test_validation(setup, kwargs, field):
    ws, household, _other, _an, _binh, hoa, _tam = setup
    data = {"items": [VisitItem("smartphone_basics", "done")], "member_ids": [hoa.id], **kwargs}
    items = data.pop("items")
    with pytest.raises(ValidationError) as caught:
        ws.visits.add(household.id, items, **data)
    assert field in caught.value.fields
    assert ws.visits.history(household.id) == []


def test_person_not_in_household(setup):
    ws, household, _other, _an, binh, hoa, _tam = setup
    with pytest.raises(ValidationError) as caught:
        visit(ws, household, hoa, VisitItem("vneid_level2", "done", binh.id))
    assert set(caught.value.fields) == {"items"}


def test_not_done_with_reason_and_past_visit_are_fine(setup):
    ws, household, _other, an, _binh, hoa, _tam = setup
    v = visit(ws, household, hoa,
              VisitItem("digital_signature", "not_done", an.id, "Chưa có CCCD gắn chip"),
              when=NOW - dt.timedelta(days=30), follow_up=dt.date(2026, 10, 21))
    assert v.items[0].reason == "Chưa có CCCD gắn chip"
    assert v.follow_up_on == dt.date(2026, 10, 21)


def test_unknown_visit_and_household(setup):
    ws, *_ = setup
    with pytest.raises(NotFound):
        ws.visits.get("nope")
    with pytest.raises(NotFound):
        ws.visits.add("nope", [VisitItem("smartphone_basics", "done")], member_ids=[])
    with pytest.raises(NotFound):
        ws.visits.void("nope", reason="x")


def test_list_filters(setup):
    ws, household, other, _an, _binh, hoa, tam = setup
    a = visit(ws, household, hoa, when=dt.datetime(2026, 11, 1, 8))
    b = visit(ws, other, tam, when=dt.datetime(2026, 11, 10, 8))
    c = visit(ws, household, tam, when=dt.datetime(2026, 11, 15, 8))
    assert [v.id for v in ws.visits.list()] == [c.id, b.id, a.id]
    my_hung = ws.catalog.hamlet("Ấp Mỹ Hưng")
    assert [v.id for v in ws.visits.list(hamlet_id=my_hung.id)] == [c.id, a.id]
    assert [v.id for v in ws.visits.list(member_id=tam.id)] == [c.id, b.id]
    assert [v.id for v in ws.visits.list(since=dt.date(2026, 11, 10),
                                         until=dt.date(2026, 11, 10))] == [b.id]
    assert [v.id for v in ws.visits.list(limit=1)] == [c.id]


def test_outcome_labels():
    outcomes = ("done", "partly", "not_done")
    vi = [outcome_label(o) for o in outcomes]
    set_language("en")
    assert [outcome_label(o) for o in outcomes] == ["done", "partly done", "not done"]
    assert len(set(vi)) == 3
    assert vi != ["done", "partly done", "not done"]


# -- follow-ups --------------------------------------------------------------------------------
def test_follow_ups_due_overdue_and_within(setup):
    ws, household, other, _an, _binh, hoa, tam = setup
    overdue = visit(ws, household, hoa, when=dt.datetime(2026, 11, 1, 8),
                    follow_up=dt.date(2026, 11, 15))
    soon = visit(ws, other, tam, when=dt.datetime(2026, 11, 2, 8),
                 follow_up=dt.date(2026, 11, 25))
    due = ws.visits.follow_ups()
    assert [(f.visit_id, f.overdue_days, f.overdue) for f in due] == [
        (overdue.id, 5, True), (soon.id, -5, False)]
    assert due[0].household_code == "MH-001" and due[0].hamlet == "Ấp Mỹ Hưng"
    assert due[0].to_dict()["due_on"] == "2026-11-15"
    assert [f.visit_id for f in ws.visits.follow_ups(within_days=3)] == [overdue.id]
    assert [f.visit_id for f in ws.visits.follow_ups(within_days=5)] == [overdue.id, soon.id]
    on_day = ws.visits.follow_ups(today=dt.date(2026, 11, 25), within_days=0)
    assert [(f.visit_id, f.overdue_days) for f in on_day] == [(overdue.id, 10), (soon.id, 0)]


def test_follow_up_filters(setup):
    ws, household, other, _an, _binh, hoa, tam = setup
    a = visit(ws, household, hoa, when=dt.datetime(2026, 11, 1, 8),
              follow_up=dt.date(2026, 11, 15))
    b = visit(ws, other, tam, when=dt.datetime(2026, 11, 2, 8), follow_up=dt.date(2026, 11, 16))
    khom = ws.catalog.hamlet("Khóm 3")
    assert [f.visit_id for f in ws.visits.follow_ups(hamlet_id=khom.id)] == [b.id]
    assert [f.visit_id for f in ws.visits.follow_ups(member_id=hoa.id)] == [a.id]
    assert [f.visit_id for f in ws.visits.follow_ups(member_id=tam.id)] == [b.id]


def test_follow_up_met_by_later_visit_and_unmet_when_voided(setup):
    ws, household, _other, _an, _binh, hoa, tam = setup
    first = visit(ws, household, hoa, when=dt.datetime(2026, 11, 1, 8),
                  follow_up=dt.date(2026, 11, 15))
    later = visit(ws, household, tam, when=dt.datetime(2026, 11, 18, 8))
    assert ws.visits.follow_ups() == []
    ws.visits.void(later.id, reason="Ghi nhầm hộ")
    assert [f.visit_id for f in ws.visits.follow_ups()] == [first.id]


def test_follow_up_met_by_amended_later_visit(setup):
    ws, household, _other, _an, _binh, hoa, tam = setup
    visit(ws, household, hoa, when=dt.datetime(2026, 11, 1, 8), follow_up=dt.date(2026, 11, 15))
    later = visit(ws, household, tam, when=dt.datetime(2026, 11, 18, 8))
    ws.visits.amend(later.id, [VisitItem("online_safety", "done")], reason="sai mục")
    assert ws.visits.follow_ups() == []


def test_follow_up_of_voided_visit_disappears(setup):
    ws, household, _other, _an, _binh, hoa, _tam = setup
    first = visit(ws, household, hoa, when=dt.datetime(2026, 11, 1, 8),
                  follow_up=dt.date(2026, 11, 15))
    ws.visits.void(first.id, reason="Nhập trùng")
    assert ws.visits.follow_ups() == []


def test_earlier_visit_does_not_meet_follow_up(setup):
    ws, household, _other, _an, _binh, hoa, tam = setup
    visit(ws, household, tam, when=dt.datetime(2026, 10, 1, 8))
    first = visit(ws, household, hoa, when=dt.datetime(2026, 11, 1, 8),
                  follow_up=dt.date(2026, 11, 15))
    assert [f.visit_id for f in ws.visits.follow_ups()] == [first.id]


def test_follow_up_of_deleted_household_disappears(setup):
    ws, household, _other, _an, _binh, hoa, _tam = setup
    visit(ws, household, hoa, when=dt.datetime(2026, 11, 1, 8), follow_up=dt.date(2026, 11, 15))
    with ws.transaction() as tx:
        tx.delete("households", household.id)
    assert ws.visits.follow_ups() == []


def test_amend_keeps_the_follow_up_unless_cleared(setup):
    ws, household, _other, _an, _binh, hoa, _tam = setup
    due = ws.today() + dt.timedelta(days=7)
    original = visit(ws, household, hoa, follow_up=due)
    kept = ws.visits.amend(original.id, list(original.items), reason="Sửa ghi chú",
                           notes="đã sửa").value
    assert kept.follow_up_on == due
    cleared = ws.visits.amend(kept.id, list(kept.items), reason="Không cần hẹn lại",
                              follow_up_on=None).value
    assert cleared.follow_up_on is None
    assert ws.visits.follow_ups(within_days=30) == []


def _naive_open_follow_ups(ws) -> set[tuple[str, str]]:
    """The rule stated directly: an effective visit's follow-up is open unless a later
    effective visit to the same household exists (same time: the one recorded later)."""
    effective = [v for v in ws.visits.list()]
    open_ones = set()
    for v in effective:
        later = [o for o in effective if o.household_id == v.household_id
                 and (o.visited_at, o.created_at) > (v.visited_at, v.created_at)]
        if v.follow_up_on and not later:
            open_ones.add((v.household_id, v.id))
    return open_ones


def test_open_follow_ups_derived_incrementally_match_the_rule_and_a_rebuild(setup):
    import random

    from dxkit.households.visits import refresh_follow_ups

    ws, household, other, _an, _binh, hoa, tam = setup
    rng = random.Random(7)
    start = ws.now() - dt.timedelta(days=60)
    recorded = []
    for step in range(40):
        target = rng.choice([household, other])
        action = rng.random()
        live = [v for v in ws.visits.list() if v.household_id == target.id]
        if live and action < 0.2:
            ws.visits.void(rng.choice(live).id, reason="nhầm")
        elif live and action < 0.4:
            chosen = rng.choice(live)
            ws.visits.amend(chosen.id, list(chosen.items), reason="sửa",
                            follow_up_on=rng.choice([None, ws.today() + dt.timedelta(days=3)]))
        else:
            when = start + dt.timedelta(days=rng.randint(0, 59), hours=step % 5)
            follow = when.date() + dt.timedelta(days=rng.randint(1, 20)) \
                if rng.random() < 0.6 else None
            recorded.append(visit(ws, target, rng.choice([hoa, tam]), when=when,
                                  follow_up=follow))
    incremental = {(f.household_id, f.visit_id) for f in ws.visits.follow_ups(within_days=400)}
    assert incremental == _naive_open_follow_ups(ws)
    with ws.transaction() as tx:
        refresh_follow_ups(tx.conn)
    rebuilt = {(f.household_id, f.visit_id) for f in ws.visits.follow_ups(within_days=400)}
    assert rebuilt == incremental


def test_migration_0003_derives_the_same_open_follow_ups_as_the_live_code(setup):
    """The shipped migration has its own frozen SQL; it must agree with refresh_follow_ups."""
    from sqlite_utils import Database

    from dxkit.households.schema import m0003_open_follow_ups

    ws, household, other, _an, _binh, hoa, tam = setup
    base = ws.now() - dt.timedelta(days=30)
    first = visit(ws, household, hoa, when=base, follow_up=base.date() + dt.timedelta(days=5))
    visit(ws, household, tam, when=base + dt.timedelta(days=2),
          follow_up=base.date() + dt.timedelta(days=9))
    ws.visits.void(first.id, reason="nhầm")
    later = visit(ws, other, hoa, when=base, follow_up=base.date() + dt.timedelta(days=3))
    ws.visits.amend(later.id, list(later.items), reason="sửa", notes="đã sửa")
    columns = "SELECT household_id, visit_id, due_on FROM open_follow_ups"  # 0003's columns
    live = set(map(tuple, ws.conn.execute(columns)))
    assert len(live) == 2
    with ws.transaction() as tx:
        tx.conn.execute("DROP TABLE open_follow_ups")
        tx.conn.execute("DROP INDEX visits_latest")
        m0003_open_follow_ups(Database(tx.conn))
    assert set(map(tuple, ws.conn.execute(columns))) == live


# -- what is still pending ------------------------------------------------------------------
def test_pending_is_the_latest_outcome_not_done_per_person_and_item(setup):
    ws, household, _other, an, _binh, hoa, _tam = setup
    lan = ws.people.add(household.id, full_name="Trần Thị Lan", birth_year=1972).value
    visit(ws, household, hoa, VisitItem("vneid_level2", "not_done", an.id, "Chưa mang CCCD"),
          VisitItem("vneid_level2", "partly", lan.id),
          VisitItem("qr_payment", "partly", an.id),
          VisitItem("online_safety", "not_done", None, "Nhà vắng"),
          when=dt.datetime(2026, 11, 1, 9, 0))
    later = visit(ws, household, hoa, VisitItem("qr_payment", "done", an.id),
                  VisitItem("payment_account", "partly", lan.id),
                  when=dt.datetime(2026, 11, 10, 9, 0))
    pending = {(p.person_id, p.support_item_code): p for p in ws.visits.pending(household.id)}
    assert set(pending) == {(an.id, "vneid_level2"), (lan.id, "vneid_level2"),
                            (None, "online_safety"), (lan.id, "payment_account")}
    assert pending[(an.id, "vneid_level2")].reason == "Chưa mang CCCD"
    assert pending[(lan.id, "payment_account")].visit_id == later.id
    assert pending[(lan.id, "vneid_level2")].outcome == "partly"
    assert {key for key, p in pending.items() if p.from_last_visit} == {
        (lan.id, "payment_account")}


def test_pending_follows_corrections_voids_and_erased_people(setup):
    ws, household, _other, an, _binh, hoa, _tam = setup
    lan = ws.people.add(household.id, full_name="Trần Thị Lan", birth_year=1972).value
    first = visit(ws, household, hoa, VisitItem("vneid_level2", "partly", an.id),
                  VisitItem("health_app", "partly", lan.id),
                  when=dt.datetime(2026, 11, 1, 9, 0))
    done = visit(ws, household, hoa, VisitItem("vneid_level2", "done", an.id),
                 when=dt.datetime(2026, 11, 5, 9, 0))
    assert {p.support_item_code for p in ws.visits.pending(household.id)} == {"health_app"}
    ws.visits.void(done.id, reason="Ghi nhầm hộ")  # the "done" no longer counts
    assert {p.support_item_code for p in ws.visits.pending(household.id)} == {
        "vneid_level2", "health_app"}
    ws.visits.amend(first.id, [VisitItem("vneid_level2", "done", an.id),
                               VisitItem("health_app", "partly", lan.id)],
                    reason="Ghi nhầm kết quả")
    assert [(p.person_id, p.support_item_code) for p in ws.visits.pending(household.id)] == [
        (lan.id, "health_app")]
    ws.people.delete(lan.id)  # nothing is pending for someone whose data is erased
    assert ws.visits.pending(household.id) == []
