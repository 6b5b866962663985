"""The hub refuses clocks it cannot believe, never lets a stored one beat an honest edit,
repairs those it stored before, and publishes immune to a forged hub clock (dxkit/sync/hub/
clocks.py, clock_repair.py), on SQLite and PostgreSQL with the store's time set by the test."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from dxkit.core.hlc import Timestamp
from dxkit.core.ids import uuid7
from dxkit.core.synced import SHIPPED_CLOCK
from dxkit.sync.hub.clock_repair import repair_stored_clocks
from dxkit.sync.hub.clocks import CLOCK_AHEAD_LIMIT, epoch_ms
from dxkit.sync.hub.reference import publish
from dxkit.sync.hub.store import HubStore, next_seq, stored_json
from tests.sync.test_hub_store import NOW, Clock, enrolled, household

HUB_BACKENDS = ("sqlite", "postgresql")
NOW_MS = epoch_ms(NOW)
MINUTE = 60_000
POISON = "ffffffffffff-ffff-e0e0e0e0e0e0e0e0"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(hub_db: str, clock: Clock):
    hub = HubStore(hub_db, now=clock)
    yield hub
    hub.close()


def uuid7_at(ms: int) -> str:
    """A uuid7 id made at `ms` (the store's time is the test's, not the computer's)."""
    return str(uuid.UUID(int=(ms << 80) | (0x7 << 76) | (0b10 << 62) | 0x1234))


def results(store, device, *records) -> list[tuple[str, str | None]]:
    return [(r["status"], r.get("reason")) for r in store.push(device, list(records)).results]


def stored_clocks(store, row_id: str, table: str = "households") -> dict[str, str]:
    return store.get_record(table, row_id)["clocks"]


def poison_stored(store, row_id: str, **clocks: str) -> None:
    """Write clocks straight into a stored row, as the hub before the checks stored them."""
    record = store.get_record("households", row_id)
    merged = {**record["clocks"], **clocks}
    with store.database.write() as conn:
        conn.execute("UPDATE records SET fields = ?, clocks = ?, seq = ? WHERE row_id = ?",
                     (stored_json({**record["fields"], "notes": "bị đầu độc"}),
                      stored_json(merged), next_seq(conn), row_id))


def test_a_clock_past_the_bound_is_refused_with_its_reason_and_one_within_it_is_taken(
        store, make_record):
    hoa, _token = enrolled(store)
    bound = int(CLOCK_AHEAD_LIMIT.total_seconds() * 1000)
    late = household(make_record, "hh-late", ms=NOW_MS + bound + MINUTE)
    far = household(make_record, "hh-far")
    far["clocks"]["notes"] = POISON
    visit = make_record("visits", uuid7(), household_id="hh-ok", kind="visit",
                        ms=NOW_MS + 2 * bound)
    within = household(make_record, "hh-ok", ms=NOW_MS + bound - MINUTE)
    assert results(store, hoa, late, far, visit, within) == [
        ("rejected", "clock_ahead"), ("rejected", "clock_ahead"), ("rejected", "clock_ahead"),
        ("applied", None)]
    assert store.get_record("households", "hh-far") is None


def test_the_bound_is_the_stores_own_time(store, clock, make_record):
    hoa, _token = enrolled(store)
    record = household(make_record, "hh-1", ms=NOW_MS + 30 * MINUTE)
    assert results(store, hoa, record) == [("rejected", "clock_ahead")]
    clock.now = NOW + dt.timedelta(minutes=26)
    assert results(store, hoa, record) == [("applied", None)]


def test_nobody_poses_as_the_shipped_catalogue_or_the_hub(store, make_record):
    hoa, _token = enrolled(store)
    shipped = household(make_record, "hh-1", device="shipped", ms=NOW_MS)
    untouched = household(make_record, "hh-2", ms=NOW_MS)
    untouched["clocks"]["notes"] = SHIPPED_CLOCK  # a field nobody edited keeps the shipped clock
    hub = household(make_record, "hh-3", device="hub", ms=NOW_MS - MINUTE)
    by_hub = make_record("visits", uuid7(), household_id="hh-2", kind="visit", device="hub")
    said_hub = make_record("visits", uuid7(), household_id="hh-2", kind="visit")
    said_hub["device_id"] = "shipped"
    assert results(store, hoa, shipped, untouched, hub, by_hub, said_hub) == [
        ("rejected", "reserved_device"), ("applied", None), ("rejected", "reserved_device"),
        ("rejected", "reserved_device"), ("rejected", "reserved_device")]


def indicator(make_record, row_id: str, **clocks: str):
    record = make_record("indicators", row_id, code="test_code", name_vi="Thử", name_en="Test",
                         min_age=15, sort_order=99, active=1, target=0.5, ms=NOW_MS - MINUTE)
    record["clocks"].update(clocks)
    return record


def test_a_team_copy_of_a_publication_may_carry_the_hubs_clocks_but_no_newer_one(
        store, make_record):
    hoa, _token = enrolled(store)
    publish(store, [("indicators", [{"id": "ind-1", "code": "test_code", "name_vi": "Thử",
                                     "name_en": "Test", "min_age": 15, "sort_order": 99,
                                     "active": 1, "target": 0.5}])])
    published = stored_clocks(store, "ind-1", "indicators")["name_vi"]
    assert Timestamp.parse(published).device == "hub"
    newer = str(Timestamp(Timestamp.parse(published).ms + 1, 0, "hub"))
    copy = indicator(make_record, "ind-1", name_vi=published, code=published)
    forged = indicator(make_record, "ind-1", name_vi=newer)
    assert results(store, hoa, forged, copy) == [
        ("rejected", "reserved_device"), ("applied", None)]


def test_a_stored_clock_the_hub_cannot_believe_loses_to_an_honest_edit(store, make_record):
    """Before `repair-clocks` runs, an honest edit still wins over a value stored with a clock
    from the far future: a laptop repaired first must not lose its edit."""
    hoa, _token = enrolled(store)
    store.push(hoa, [household(make_record, "hh-1", ms=10)])
    poison_stored(store, "hh-1", notes=POISON)
    honest = household(make_record, "hh-1", ms=10, clocks={"notes": NOW_MS}, notes="Có wifi")
    assert results(store, hoa, honest) == [("applied", None)]
    stored = store.get_record("households", "hh-1")
    assert stored["fields"]["notes"] == "Có wifi"
    assert POISON not in stored["clocks"].values()


def test_repair_restamps_unbelievable_clocks_in_order_and_laptops_pull_them(store, make_record):
    hoa, _token = enrolled(store)
    made = NOW_MS - 60 * MINUTE
    visit_id = uuid7_at(made)
    store.push(hoa, [household(make_record, "hh-1", ms=10),
                     household(make_record, "hh-2", ms=10),
                     make_record("visits", visit_id, household_id="hh-1", kind="visit")])
    poison_stored(store, "hh-1", notes="ffffffffffff-0001-aaaa", phone=POISON,
                  address=f"{NOW_MS:012x}-0000-shipped")
    with store.database.write() as conn:
        conn.execute("UPDATE records SET created_at = ?, seq = ? WHERE row_id = ?",
                     (POISON, next_seq(conn), visit_id))
    before = store.high_water()
    assert store.pull(hoa, "households", after=before).records == []

    report = repair_stored_clocks(store)
    assert report.to_dict() == {"records": {"households": 1, "visits": 1}, "clocks": 4,
                                "total": 2}
    clocks = stored_clocks(store, "hh-1")
    repaired = [clocks[name] for name in ("notes", "phone", "address")]
    limit = epoch_ms(NOW + CLOCK_AHEAD_LIMIT)
    assert all(Timestamp.parse(c).device == "hub" and Timestamp.parse(c).ms <= limit
               for c in repaired)
    # The replacement of the later unbelievable clock is still the later one.
    assert clocks["address"] < clocks["notes"] < clocks["phone"]
    # The event takes the time in its uuid7 id, as the laptops give it.
    assert store.get_record("visits", visit_id)["created_at"] == \
        f"{made:012x}-0000-{POISON.split('-', 2)[2]}"
    # New seq values, and no longer "exactly what its pusher sent": the pusher pulls them too.
    assert {r["id"] for r in store.pull(hoa, "households", after=before).records} == {"hh-1"}
    assert [r["id"] for r in store.pull(hoa, "visits", after=before).records] == [visit_id]
    assert repair_stored_clocks(store).total == 0
    # What it pulls back it may push again: the hub's clocks on its own row.
    again = store.get_record("households", "hh-1")
    assert results(store, hoa, {**again, "kind": "mutable"}) == [("duplicate", None)]


def test_a_forged_hub_clock_stored_before_the_checks_cannot_carry_publications_away(
        store, make_record):
    hoa, _token = enrolled(store)
    row = {"id": "ind-1", "code": "test_code", "name_vi": "Thử", "name_en": "Test",
           "min_age": 15, "sort_order": 99, "active": 1, "target": 0.5}
    publish(store, [("indicators", [row])])
    first = stored_clocks(store, "ind-1", "indicators")["target"]
    store.push(hoa, [indicator(make_record, "ind-1", target=first)])
    with store.database.write() as conn:  # the team copy, as a forger's push left it
        copy = json.loads(conn.execute(
            "SELECT clocks FROM records WHERE row_id = 'ind-1' AND team_id = ?",
            (hoa.team_id,)).fetchone()["clocks"])
        conn.execute("UPDATE records SET clocks = ?, device_id = 'hub' WHERE row_id = 'ind-1' "
                     "AND team_id = ?", (stored_json({**copy, "target": "ffffffffffff-ffff-hub"}),
                                         hoa.team_id))
    publish(store, [("indicators", [{"id": "ind-1", "target": 0.9}])])
    published = json.loads(store.conn.execute(
        "SELECT clocks FROM records WHERE row_id = 'ind-1' AND team_id = '*'").fetchone()[
            "clocks"])["target"]
    stamp = Timestamp.parse(published)  # well-formed: no overflowed counter
    assert published > first and stamp.ms <= epoch_ms(NOW + CLOCK_AHEAD_LIMIT)
