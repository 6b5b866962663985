"""Reordered deliveries (issue 3): the fault proxy holds one push and lets a later one pass,
so the REAL hub receives them in the opposite order to the one they were made in. Whatever
the order, every side ends with the same rows, each once, and an older edit arriving late
never overwrites a newer one (per-field HLC)."""

from __future__ import annotations

import threading
import time

import pytest

from dxkit.households.visits import VisitItem
from dxkit.sync import engine
from dxkit.sync.client import HubUnreachable
from dxkit.workspace import Workspace
from tests.sync import test_faults as faults

# The fault tests' fixtures: the proxy in front of the real hub, a team, enrolled laptops.
file_tokens, small_batches = faults.file_tokens, faults.small_batches
proxy, team, laptops = faults.proxy, faults.team, faults.laptops
hamlet_team = faults.hamlet_team
PUSH = faults.PUSH
ITEMS = [VisitItem("vneid_level2", "done")]


def hub_record(hub_server, team: str, table: str, row_id: str) -> dict:
    """The hub's copy of one row, read through the API (whatever the hub's backend)."""
    with faults.hub_reader(hub_server, team) as reader:
        [found] = [r for r in faults.hub_records(reader, table) if r["id"] == row_id]
    return found


def later_wall_clock() -> None:
    """Let the wall clock move on, so the next edit's HLC is surely newer."""
    time.sleep(0.005)


class Background:
    """A sync on its own thread: it blocks while the proxy holds its push."""

    def __init__(self, proxy, ws: Workspace, timeout: float = 20.0):
        self.error: BaseException | None = None
        self.report: engine.SyncReport | None = None
        # The workspace's connection is per thread: the sync opens its own on this thread.
        self._thread = threading.Thread(target=self._run, args=(proxy, ws, timeout))
        self._thread.start()

    def _run(self, proxy, ws: Workspace, timeout: float) -> None:
        try:
            self.report = faults.sync_via(proxy, ws, timeout)
        except BaseException as exc:  # handed to the test thread
            self.error = exc

    def join(self) -> engine.SyncReport:
        self._thread.join(30)
        assert not self._thread.is_alive(), "the background sync never ended"
        if self.error is not None:
            raise self.error
        assert self.report is not None
        return self.report


def shared_household(proxy, a: Workspace, b: Workspace) -> str:
    faults.fill(a, households=2)
    faults.sync_via(proxy, a)
    faults.sync_via(proxy, b)
    return a.households.by_code("MH-001").id


# -- two devices, their pushes swapped -----------------------------------------------------------
@pytest.mark.parametrize("held", ["older", "newer"])
def test_two_devices_pushes_delivered_in_either_order_converge(proxy, laptops, hub_server,
                                                                 team, held):
    a, b = laptops("a"), laptops("b")
    home = shared_household(proxy, a, b)
    # a edits first (older clock), b later (newer clock); both touch phone, each one more.
    a.households.update(home, phone="0911111111", notes="Có wifi")
    hoa = a.catalog.member("Lê Thị Hoa").id
    a_visit = a.visits.add(home, ITEMS, member_ids=[hoa], notes="Thăm từ máy a").value.id
    later_wall_clock()
    b.households.update(home, phone="0987654321", address="Số 9, Ấp Mỹ Hưng")
    b_visit = b.visits.add(home, ITEMS, member_ids=[hoa], notes="Thăm từ máy b").value.id
    first, second = (a, b) if held == "older" else (b, a)

    gate = proxy.plan("hold", *PUSH, nth=1)
    waiting = Background(proxy, first)
    assert gate.arrived.wait(20), "the first push never reached the proxy"
    faults.sync_via(proxy, second)  # overtakes the held push
    late = gate.release()
    waiting.join()
    assert late.status == 200
    [overtaking] = [e for e in proxy.seen(*PUSH) if e is not late][-1:]
    assert overtaking.answer["cursor"] < late.answer["cursor"]  # the hub saw them swapped

    on_hub = hub_record(hub_server, team, "households", home)["fields"]
    assert (on_hub["phone"], on_hub["notes"], on_hub["address"]) == (
        "0987654321", "Có wifi", "Số 9, Ấp Mỹ Hưng")  # the newer phone, each side's other edit
    faults.assert_converged(proxy, a, b)
    for ws in (a, b):
        household = ws.households.get(home)
        assert (household.phone, household.notes, household.address) == (
            "0987654321", "Có wifi", "Số 9, Ấp Mỹ Hưng")
        visits = [v.id for v in ws.visits.history(home)]
        assert sorted(visits) == sorted({a_visit, b_visit}) and len(visits) == 2


# -- a retried push overtaking its original ------------------------------------------------------
def test_a_stale_push_arriving_after_its_retry_never_overwrites_the_newer_value(
        proxy, laptops, hub_server, team):
    a, b = laptops("a"), laptops("b")
    home = shared_household(proxy, a, b)
    a.households.update(home, phone="0911111111")
    gate = proxy.plan("hold", *PUSH, nth=1)
    with pytest.raises(HubUnreachable):
        faults.sync_via(proxy, a, timeout=0.5)  # the client gives up; the request is held
    assert gate.arrived.is_set()
    later_wall_clock()
    a.households.update(home, phone="0987654321")
    faults.sync_via(proxy, a)  # the retry carries the newer value and arrives first
    assert hub_record(hub_server, team, "households", home)["fields"]["phone"] == "0987654321"

    late = gate.release()  # the original, with the older phone, reaches the hub now
    [result] = late.answer["results"]
    assert result["status"] == "duplicate"  # nothing newer in it: the hub changed nothing
    assert hub_record(hub_server, team, "households", home)["fields"]["phone"] == "0987654321"
    faults.assert_converged(proxy, a, b)
    assert b.households.get(home).phone == a.households.get(home).phone == "0987654321"


def test_a_stale_push_arriving_after_a_deletion_never_brings_the_person_back(
        proxy, laptops, hub_server, team):
    a, b = laptops("a"), laptops("b")
    home = shared_household(proxy, a, b)
    person = a.people.add(home, full_name="Võ Thị Mai", sex="Nữ", birth_year=1990,
                          relationship="Con", phone="0912345678", consent=True).value.id
    gate = proxy.plan("hold", *PUSH, nth=1)
    with pytest.raises(HubUnreachable):
        faults.sync_via(proxy, a, timeout=0.5)  # the new person is held on the way
    later_wall_clock()
    a.people.delete(person)  # purge: personal fields emptied, tombstone
    faults.sync_via(proxy, a)
    late = gate.release()  # the person as first written arrives after the deletion
    assert late.status == 200
    stored = hub_record(hub_server, team, "people", person)["fields"]
    assert stored["deleted"] == 1 and stored["full_name"] == "" and stored["phone"] == ""
    faults.assert_converged(proxy, a, b)
    row = b.conn.execute("SELECT deleted, full_name, phone FROM people WHERE id = ?",
                         (person,)).fetchone()
    assert tuple(row) == (1, "", "")
