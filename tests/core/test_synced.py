"""The unit of work: every change writes its outbox and audit entries in the same transaction."""

from __future__ import annotations

import json
import uuid

import pytest

from dxkit.core.hlc import Clock, Timestamp
from dxkit.core.ids import uuid7
from dxkit.core.synced import REGISTRY, Changes, field_clocks, synced_table

MUTABLE_COLUMNS = {"id", "updated_at", "device_id", "field_clock", "deleted"}
EVENT_COLUMNS = {"id", "created_at", "device_id"}


def counts(ws) -> tuple[int, int, int]:
    conn = ws.conn
    return (
        conn.execute("SELECT count(*) FROM hamlets").fetchone()[0],
        conn.execute("SELECT count(*) FROM outbox").fetchone()[0],
        conn.execute("SELECT count(*) FROM audit_log").fetchone()[0],
    )


def outbox_for(ws, row_id: str) -> list[tuple[str, list[str]]]:
    rows = ws.conn.execute("SELECT op, fields FROM outbox WHERE row_id = ? ORDER BY seq",
                           (row_id,))
    return [(r[0], json.loads(r[1])) for r in rows]


def hamlet_row(ws, row_id: str):
    return ws.conn.execute("SELECT * FROM hamlets WHERE id = ?", (row_id,)).fetchone()


def test_insert_writes_row_outbox_and_audit(fresh_ws):
    before = counts(fresh_ws)
    with fresh_ws.transaction() as tx:
        row_id = tx.insert("hamlets", {"name": "Ấp 1", "name_key": "ap 1", "sort_order": 0})
    assert counts(fresh_ws) == (before[0] + 1, before[1] + 1, before[2] + 1)
    assert outbox_for(fresh_ws, row_id) == [("insert", ["name", "name_key", "sort_order"])]
    audit = fresh_ws.conn.execute("SELECT * FROM audit_log WHERE row_id = ?",
                                  (row_id,)).fetchone()
    assert audit["action"] == "insert"
    assert audit["table_name"] == "hamlets"
    assert audit["actor"] == fresh_ws.actor
    assert audit["device_id"] == fresh_ws.device_id
    row = hamlet_row(fresh_ws, row_id)
    assert row["device_id"] == fresh_ws.device_id
    assert row["deleted"] == 0
    assert field_clocks("hamlets", row) == dict.fromkeys(
        ("name", "name_key", "sort_order", "population_15", "population_18", "deleted"),
        row["updated_at"])
    assert row["field_clock"] == "{}"  # compact until the first edit
    assert tx.changes.ids("hamlets") == {row_id}
    assert tx.changes.summary() == {"hamlets": {"created": 1, "updated": 0, "deleted": 0}}


def test_exception_inside_transaction_leaves_nothing(fresh_ws):
    before = counts(fresh_ws)
    pending = fresh_ws.pending_changes()
    with pytest.raises(RuntimeError), fresh_ws.transaction() as tx:
        tx.insert("hamlets", {"name": "Ấp 1", "name_key": "ap 1", "sort_order": 0})
        tx.insert("hamlets", {"name": "Ấp 2", "name_key": "ap 2", "sort_order": 1})
        raise RuntimeError("power cut")
    assert counts(fresh_ws) == before
    assert fresh_ws.pending_changes() == pending
    assert not fresh_ws.conn.in_transaction


def test_failing_operation_inside_outer_transaction_rolls_everything_back(ws):
    before = ws.households.count(), ws.pending_changes()
    with pytest.raises(ValueError), ws.transaction():
        ws.households.add(code="MH-001", head_name="Nguyễn Văn An", hamlet="Ấp Mỹ Hưng")
        ws.households.add(code="MH-002", head_name="Trần Văn Bình", hamlet="Ấp Mỹ Hưng")
        raise ValueError("cancel the import")
    assert (ws.households.count(), ws.pending_changes()) == before


def test_nested_failure_rolls_back_only_the_inner_part(fresh_ws):
    with fresh_ws.transaction() as tx:
        outer_id = tx.insert("hamlets", {"name": "Ấp 1", "name_key": "ap 1", "sort_order": 0})
        with pytest.raises(RuntimeError), fresh_ws.transaction() as inner:
            assert inner is tx
            tx.insert("hamlets", {"name": "Ấp 2", "name_key": "ap 2", "sort_order": 1})
            raise RuntimeError("inner")
    names = [r[0] for r in fresh_ws.conn.execute("SELECT name FROM hamlets")]
    assert names == ["Ấp 1"]
    assert hamlet_row(fresh_ws, outer_id) is not None


def test_update_records_only_changed_fields(fresh_ws):
    with fresh_ws.transaction() as tx:
        row_id = tx.insert("hamlets", {"name": "Ấp 1", "name_key": "ap 1", "sort_order": 0})
    first_clocks = field_clocks("hamlets", hamlet_row(fresh_ws, row_id))
    with fresh_ws.transaction() as tx:
        changed = tx.update("hamlets", row_id, {"name": "Ấp Một", "name_key": "ap mot",
                                                "sort_order": 0})
    assert changed == ["name", "name_key"]
    assert outbox_for(fresh_ws, row_id)[-1] == ("update", ["name", "name_key"])
    row = hamlet_row(fresh_ws, row_id)
    clocks = field_clocks("hamlets", row)
    assert clocks["name"] > first_clocks["name"]
    assert clocks["name_key"] > first_clocks["name_key"]
    assert clocks["sort_order"] == first_clocks["sort_order"]
    assert row["updated_at"] == clocks["name"]
    assert tx.changes.updated["hamlets"] == {row_id}


def test_update_without_change_writes_nothing(fresh_ws):
    with fresh_ws.transaction() as tx:
        row_id = tx.insert("hamlets", {"name": "Ấp 1", "name_key": "ap 1", "sort_order": 0})
    before = counts(fresh_ws)
    updated_at = hamlet_row(fresh_ws, row_id)["updated_at"]
    with fresh_ws.transaction() as tx:
        assert tx.update("hamlets", row_id, {"name": "Ấp 1", "sort_order": 0}) == []
    assert counts(fresh_ws) == before
    assert hamlet_row(fresh_ws, row_id)["updated_at"] == updated_at
    assert not tx.changes


def test_per_field_clocks_advance_on_each_edit(fresh_ws):
    with fresh_ws.transaction() as tx:
        row_id = tx.insert("hamlets", {"name": "Ấp 1", "name_key": "ap 1", "sort_order": 0})
    seen = [field_clocks("hamlets", hamlet_row(fresh_ws, row_id))["sort_order"]]
    for order in range(1, 5):
        with fresh_ws.transaction() as tx:
            tx.update("hamlets", row_id, {"sort_order": order})
        seen.append(field_clocks("hamlets", hamlet_row(fresh_ws, row_id))["sort_order"])
    assert seen == sorted(seen)
    assert len(set(seen)) == len(seen)


def test_delete_is_a_tombstone_with_outbox_entry(fresh_ws):
    with fresh_ws.transaction() as tx:
        row_id = tx.insert("team_members", {"name": "Lê Thị Hoa", "phone": "0912345678",
                                            "active": 1})
    with fresh_ws.transaction() as tx:
        tx.delete("team_members", row_id, purge={"phone": ""})
    row = fresh_ws.conn.execute("SELECT * FROM team_members WHERE id = ?",
                                (row_id,)).fetchone()
    assert row["deleted"] == 1
    assert row["phone"] == ""
    assert outbox_for(fresh_ws, row_id)[-1] == ("delete", ["deleted", "phone"])
    assert tx.changes.deleted["team_members"] == {row_id}
    assert fresh_ws.catalog.members() == []


def test_update_or_delete_of_missing_row_raises(fresh_ws):
    with pytest.raises(KeyError), fresh_ws.transaction() as tx:
        tx.update("hamlets", "nope", {"name": "x"})
    with pytest.raises(KeyError), fresh_ws.transaction() as tx:
        tx.delete("hamlets", "nope")


def test_events_cannot_be_updated_or_deleted(ws):
    household = ws.households.add(code="MH-001", head_name="Nguyễn Văn An",
                                  hamlet="Ấp Mỹ Hưng").value
    with ws.transaction() as tx:
        visit_id = tx.append("visits", {"household_id": household.id, "kind": "visit",
                                        "visited_at": "2026-11-20T09:00:00"})
    assert outbox_for(ws, visit_id) == [("append", [])]
    with pytest.raises(TypeError), ws.transaction() as tx:
        tx.update("visits", visit_id, {"notes": "edited"})
    with pytest.raises(TypeError), ws.transaction() as tx:
        tx.delete("visits", visit_id)
    with pytest.raises(TypeError), ws.transaction() as tx:
        tx.append("households", {"code": "X"})
    assert ws.conn.execute("SELECT notes FROM visits WHERE id = ?",
                           (visit_id,)).fetchone()[0] == ""


def test_unregistered_table_is_refused(fresh_ws):
    with pytest.raises(KeyError), fresh_ws.transaction() as tx:
        tx.insert("meta", {"key": "x", "value": "y"})


def test_registry_tables_exist_with_sync_columns(fresh_ws):
    expected = {"hamlets", "team_members", "indicators", "support_items", "households",
                "people", "visits", "visit_items", "indicator_answers"}
    assert expected <= set(REGISTRY)
    for name, spec in REGISTRY.items():
        assert synced_table(name) is spec
        columns = {r[1] for r in fresh_ws.conn.execute(f"PRAGMA table_info({name})")}
        assert columns, f"{name} is registered but has no table"
        required = MUTABLE_COLUMNS if spec.kind == "mutable" else EVENT_COLUMNS
        assert required <= columns, name
        assert set(spec.fields) <= columns, name
        assert set(spec.personal) <= columns, name


def test_hlc_is_monotonic_when_the_wall_clock_goes_back():
    walls = iter([1_000, 1_000, 900, 500, 1_000, 2_000, 1_500])
    clock = Clock("dev1", wall_ms=lambda: next(walls))
    stamps = [clock.now() for _ in range(7)]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == 7
    parsed = [Timestamp.parse(s) for s in stamps]
    assert parsed[-2].ms == 2_000 and parsed[-1].ms == 2_000  # never goes back to 1_500
    assert parsed[-1].counter == 1


def test_hlc_observe_moves_past_remote_and_resumes_from_saved():
    clock = Clock("aaaa", wall_ms=lambda: 1_000)
    remote = str(Timestamp(5_000, 3, "bbbb"))
    clock.observe(remote)
    assert clock.now() > remote
    restored = Clock("aaaa", clock.last, wall_ms=lambda: 10)
    assert restored.now() > clock.last
    assert Timestamp.parse(str(Timestamp(255, 2, "dev-with-dash"))).device == "dev-with-dash"


def test_uuids_are_v7_and_increase():
    ids = [uuid7() for _ in range(3_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    for value in ids[:50]:
        parsed = uuid.UUID(value)
        assert parsed.version == 7
        assert parsed.variant == uuid.RFC_4122


def test_row_ids_are_v7(ws):
    household = ws.households.add(code="MH-001", head_name="Nguyễn Văn An",
                                  hamlet="Ấp Mỹ Hưng").value
    assert uuid.UUID(household.id).version == 7


def test_changes_helpers():
    changes = Changes()
    assert not changes
    changes.created["people"].add("a")
    changes.deleted["households"].add("b")
    assert changes.touched("people") and not changes.touched("visits")
    assert changes.tables() == {"people", "households"}
    assert changes.ids("households") == {"b"}
    assert changes.summary()["people"] == {"created": 1, "updated": 0, "deleted": 0}


def test_pending_changes_counts_outbox(ws):
    before = ws.pending_changes()
    ws.households.add(code="MH-001", head_name="Nguyễn Văn An", hamlet="Ấp Mỹ Hưng")
    assert ws.pending_changes() == before + 1


def test_actor_is_the_chosen_team_member(ws):
    member = ws.catalog.member("Lê Thị Hoa")
    ws.settings.set("current_member_id", member.id)
    result = ws.households.add(code="MH-001", head_name="Nguyễn Văn An", hamlet="Ấp Mỹ Hưng")
    actor = ws.conn.execute("SELECT actor FROM audit_log WHERE row_id = ?",
                            (result.value.id,)).fetchone()[0]
    assert actor == "Lê Thị Hoa"


def test_events_go_to_the_outbox_and_carry_their_own_audit(ws):
    from dxkit.households.visits import VisitItem

    household = ws.households.add(code="MH-001", head_name="Nguyễn Văn An",
                                  hamlet="Ấp Mỹ Hưng").value
    member = ws.catalog.member("Lê Thị Hoa")
    ws.settings.set("current_member_id", member.id)
    visit = ws.visits.add(household.id, [VisitItem("smartphone_basics", "done")],
                          member_ids=[member.id]).value
    assert [op for op, _fields in outbox_for(ws, visit.id)] == ["append"]
    assert ws.conn.execute("SELECT count(*) FROM audit_log WHERE row_id = ?",
                           (visit.id,)).fetchone()[0] == 0
    assert visit.recorded_by == "Lê Thị Hoa" and visit.created_at


def test_compact_clocks_keep_each_fields_own_history(ws):
    household = ws.households.add(code="MH-001", head_name="Nguyễn Văn An",
                                  hamlet="Ấp Mỹ Hưng").value
    person = ws.people.add(household.id, full_name="Lê Thị Hai", birth_year=1980,
                           phone="0912345678").value
    row = lambda: ws.conn.execute("SELECT * FROM people WHERE id = ?",  # noqa: E731
                                  (person.id,)).fetchone()
    created = field_clocks("people", row())
    ws.people.update(person.id, phone="0987654321")
    after_phone = field_clocks("people", row())
    ws.people.update(person.id, notes="Hay quên mật khẩu")
    after_notes = field_clocks("people", row())
    assert after_phone["phone"] > created["phone"]
    assert after_phone["full_name"] == created["full_name"]
    assert after_notes["phone"] == after_phone["phone"]
    assert after_notes["notes"] > after_phone["phone"]
    assert after_notes["full_name"] == created["full_name"]
    ws.people.delete(person.id)
    purged = field_clocks("people", row())
    assert purged["full_name"] > after_notes["notes"] and purged["purged"] == purged["cccd"]
    assert purged["household_id"] == created["household_id"]


def test_dependency_order_puts_parents_first(fresh_ws):
    from dxkit.core.synced import dependency_order

    order = dependency_order()
    assert set(order) == set(REGISTRY)
    for name in order:
        for parent in REGISTRY[name].depends_on:
            assert order.index(parent) < order.index(name)
    assert order.index("households") < order.index("visits") < order.index("visit_items")
