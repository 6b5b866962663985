"""Records move between workspaces with the merge rules of docs/sync-protocol.md.

Two laptops exchange records directly (the hub applies the same rules in dxkit/core/merge.py).
"""

from __future__ import annotations

import json

import pytest

from dxkit.core.hlc import BadClock
from dxkit.core.synced import record_of
from dxkit.households.visits import VisitItem
from dxkit.workspace import Workspace

SHARED = ("hamlets", "team_members", "households", "people", "visits", "visit_items",
          "indicator_answers")


def send(source: Workspace, target: Workspace) -> dict[str, int]:
    """Everything in the source's outbox, applied in order to the target."""
    outcomes: dict[str, int] = {}
    marks = ",".join("?" * len(SHARED))
    rows = source.conn.execute("SELECT table_name, row_id FROM outbox WHERE table_name IN "
                               f"({marks}) GROUP BY table_name, row_id ORDER BY min(seq)",
                               SHARED).fetchall()
    with target.transaction() as tx:
        for table, row_id in rows:
            outcome = tx.apply_remote(record_of(source.conn, table, row_id))
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def acknowledge(ws: Workspace) -> None:
    """What a successful push does: the outbox is drained."""
    ws.conn.execute("DELETE FROM outbox")


@pytest.fixture
def laptops(tmp_path):
    a, b = Workspace.open(tmp_path / "a"), Workspace.open(tmp_path / "b")
    a.catalog.add_hamlet("Ấp Mỹ Hưng")
    member = a.catalog.add_member("Lê Thị Hoa").value
    household = a.households.add(code="MH-001", head_name="Nguyễn Văn Đồng",
                                 hamlet="Ấp Mỹ Hưng", phone="0912345678").value
    person = a.people.add(household.id, full_name="Trần Thị Hương", birth_year=1968,
                          consent=True).value
    send(a, b)
    acknowledge(a)
    acknowledge(b)  # its own seeded catalogue
    yield a, b, household, person, member
    a.close()
    b.close()


def test_records_arrive_whole_without_outbox_and_with_derived_state(laptops):
    a, b, household, person, member = laptops
    assert b.households.get(household.id).head_name == "Nguyễn Văn Đồng"
    assert b.households.search("nguyen van dong")[0].id == household.id
    assert b.pending_changes() == 0  # received rows are not sent back
    visit = a.visits.add(household.id, [VisitItem("vneid_level2", "done", person.id)],
                         member_ids=[member.id], follow_up_on=a.today()).value
    assert send(a, b) == {"applied": 2}
    assert [i.code for i in b.indicators.for_person(person.id)] == ["vneid_level2"]
    assert [f.visit_id for f in b.visits.follow_ups()] == [visit.id]


def test_the_same_records_twice_change_nothing(laptops):
    a, b, household, _person, member = laptops
    a.visits.add(household.id, [VisitItem("online_safety", "done")], member_ids=[member.id])
    send(a, b)
    before = b.conn.execute("SELECT count(*) FROM visits").fetchone()[0]
    assert send(a, b) == {"duplicate": 2}
    assert b.conn.execute("SELECT count(*) FROM visits").fetchone()[0] == before


def test_edits_to_different_fields_both_survive(laptops):
    a, b, household, _person, _member = laptops
    a.households.update(household.id, phone="0987654321")
    b.households.update(household.id, address="Số 7, Ấp Mỹ Hưng")
    send(a, b)
    send(b, a)
    for ws in (a, b):
        merged = ws.households.get(household.id)
        assert (merged.phone, merged.address) == ("0987654321", "Số 7, Ấp Mỹ Hưng")
    for ws in (a, b):  # an old value coming back is not a rival edit
        assert ws.conn.execute("SELECT count(*) FROM sync_conflicts").fetchone()[0] == 0


def test_same_field_edits_keep_the_newer_and_list_the_pair(laptops):
    a, b, household, _person, _member = laptops
    a.households.update(household.id, phone="0987654321")
    b.households.update(household.id, phone="0911111111")  # later HLC
    send(a, b)
    send(b, a)
    assert a.households.get(household.id).phone == b.households.get(household.id).phone \
        == "0911111111"
    on_a = a.conn.execute("SELECT field, local_value, remote_value, winner "
                          "FROM sync_conflicts").fetchall()
    on_b = b.conn.execute("SELECT field, local_value, remote_value, winner "
                          "FROM sync_conflicts").fetchall()
    assert [tuple(r) for r in on_a] == [("phone", '"0987654321"', '"0911111111"', "remote")]
    assert [tuple(r) for r in on_b] == [("phone", '"0911111111"', '"0987654321"', "local")]


def test_an_event_resent_with_other_content_is_a_conflict_not_an_overwrite(laptops):
    a, b, household, _person, member = laptops
    visit = a.visits.add(household.id, [VisitItem("online_safety", "done")],
                         member_ids=[member.id]).value
    record = record_of(a.conn, "visits", visit.id)
    with b.transaction() as tx:
        assert tx.apply_remote(record) == "applied"
        tampered = {**record, "fields": {**record["fields"], "notes": "sửa lén"}}
        assert tx.apply_remote(tampered) == "conflict"
    assert b.visits.get(visit.id).notes == ""


def test_a_deleted_person_is_purged_on_the_other_laptop(laptops):
    a, b, _household, person, _member = laptops
    a.people.delete(person.id)
    send(a, b)
    gone = b.people.get(person.id)
    assert gone.deleted and gone.full_name == "" and gone.birth_year is None
    assert b.households.search("huong") == []


def test_clock_skew_does_not_misorder_edits(laptops):
    """B's wall clock runs twenty hours ahead. Once A has seen B's edit, A's next edit of the
    same field still wins, because A's clock moves past every clock it receives."""
    a, b, household, _person, _member = laptops
    real = b.clock._wall_ms
    b.clock._wall_ms = lambda: real() + 20 * 3600 * 1000
    b.households.update(household.id, notes="ghi từ máy B")
    send(b, a)
    acknowledge(b)
    a.households.update(household.id, notes="sửa sau ở máy A")
    send(a, b)
    for ws in (a, b):
        assert ws.households.get(household.id).notes == "sửa sau ở máy A"


def test_a_clock_more_than_a_day_ahead_is_refused_and_not_followed(laptops):
    """B's wall clock runs two days ahead (docs/sync-protocol.md, Clocks): A refuses the
    record instead of following it (over the hub, B stamps the hub's time and never sends
    such a clock)."""
    a, b, household, _person, _member = laptops
    real = b.clock._wall_ms
    b.clock._wall_ms = lambda: real() + 2 * 24 * 3600 * 1000
    b.households.update(household.id, notes="ghi từ máy B")
    before = a.clock.last
    with a.transaction() as tx, pytest.raises(BadClock) as refused:
        tx.apply_remote(record_of(b.conn, "households", household.id))
    assert refused.value.reason == "clock_ahead" and a.clock.last == before
    assert a.households.get(household.id).notes != "ghi từ máy B"


def test_malformed_records_are_refused(laptops):
    a, b, household, _person, _member = laptops
    record = record_of(a.conn, "households", household.id)
    with b.transaction() as tx:
        with pytest.raises(ValueError):
            tx.apply_remote({**record, "fields": {"code": "X"}})
        with pytest.raises(ValueError):
            tx.apply_remote({**record, "clocks": {}})
    assert json.loads(json.dumps(record))["kind"] == "mutable"
