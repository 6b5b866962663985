"""End to end: laptops sync through the REAL hub process (tests/sync/conftest.py: the module's
shared hub, each test with teams of its own; a hub of its own for a test that revokes or stops
it), in-process through the engine and through the `dxkit` entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dxkit.core.errors import NotFound
from dxkit.core.synced import dependency_order, record_of
from dxkit.households.search import search
from dxkit.households.visits import VisitItem
from dxkit.sync import engine
from dxkit.sync.client import DeviceRevoked
from dxkit.workspace import Workspace
from tests.support.derived import assert_derived_agree
from tests.support.places import ensure_hamlet, unique_commune

# The command line runs in processes of its own: workspace keys go to files they can read.
pytestmark = pytest.mark.usefixtures("key_files")

SEEDED = {"indicators", "support_items",  # every new workspace seeds the same ids
          "pesticide_products", "pesticide_bans"}
HUB_BACKENDS = ("sqlite", "postgresql")  # tests/sync/conftest.py: each test on both hubs,
SQLITE_ONLY = {  # except those about the command line and the client, not the hub's database
    "test_enroll_sync_and_status_from_the_command_line",
    "test_a_bad_code_and_an_unreachable_hub_are_sentences",
    "test_a_hub_that_went_away_is_offline_and_nothing_is_lost"}


@pytest.fixture(autouse=True)
def file_tokens(monkeypatch):
    monkeypatch.setenv("DXKIT_TOKEN_STORE", "file")


@pytest.fixture
def hub(hub_for_test):
    return hub_for_test


def new_team(hub, hamlet: str = "Ấp Mỹ Hưng") -> str:
    """A team of that hamlet, in a commune of its own (teams of one hamlet share its rows)."""
    province, commune = unique_commune()
    return hub.admin("team", "add", "--province", province, "--commune", commune,
                     "--hamlet", hamlet)["team_id"]


@pytest.fixture
def laptops(tmp_path, hub):
    opened: list[Workspace] = []

    def make(name: str, team_id: str) -> Workspace:
        code = hub.admin("enroll-code", "--team", team_id)["code"]
        ws = Workspace.open(tmp_path / name)
        engine.enroll(ws, hub.url, code, device_name=name)
        opened.append(ws)
        return ws

    yield make
    for ws in opened:
        ws.close()


def rows(ws: Workspace, skip: set[str] = frozenset()) -> dict[tuple[str, str], dict]:
    return {(table, row_id): record_of(ws.conn, table, row_id)
            for table in dependency_order() if table not in skip
            for (row_id,) in ws.conn.execute(f"SELECT id FROM {table}")}


def fill(ws: Workspace) -> dict[str, str]:
    """A hamlet (the one an enrolled laptop got), members, households, people, visits with
    a follow-up, an answer."""
    ensure_hamlet(ws, "Ấp Mỹ Hưng")
    hoa = ws.catalog.add_member("Lê Thị Hoa").value
    ws.catalog.add_member("Phạm Văn Tâm")
    dong = ws.households.add(code="MH-001", head_name="Nguyễn Văn Đồng", hamlet="Ấp Mỹ Hưng",
                             phone="0912345678", address="12 Đường Lê Lợi").value
    ws.households.add(code="MH-002", head_name="Trần Thị Lan", hamlet="Ấp Mỹ Hưng")
    huong = ws.people.add(dong.id, full_name="Trần Thị Hương", sex="Nữ", birth_year=1968,
                          relationship="Vợ", consent=True).value
    ws.people.add(dong.id, full_name="Nguyễn Văn Đồng", sex="Nam", birth_year=1965,
                  relationship="Chủ hộ", consent=True)
    visit = ws.visits.add(dong.id, [VisitItem("vneid_level2", "done", huong.id),
                                    VisitItem("online_safety", "partly", huong.id)],
                          member_ids=[hoa.id], follow_up_on=ws.today(),
                          notes="Hẹn quay lại").value
    ws.indicators.answer(huong.id, "smartphone", True)
    return {"household": dong.id, "person": huong.id, "visit": visit.id}


def test_a_team_shares_everything_and_a_quiet_sync_moves_nothing(hub, laptops):
    team = new_team(hub)
    a, b = laptops("a", team), laptops("b", team)
    made = fill(a)
    first = engine.sync(a)
    # The shipped catalogue is never sent: every device has it with the same clock; nor is
    # the hamlet, which came with the enrollment.
    made_here = {key for key, record in rows(a, skip=SEEDED).items()
                 if record["device_id"] != "hub"}
    assert first.pushed == len(made_here) == len(rows(a, skip=SEEDED)) - 1
    assert first.quarantined == 0
    received = engine.sync(b)
    assert rows(b) == rows(a)
    assert received.changes.ids("households") == {made["household"]} | {
        h.id for h in b.households.list()}  # what the screens are told to refresh
    assert search(b.conn, "nguyen van dong") and \
        b.households.by_local_ids([h.local_id for h in search(b.conn, "nguyen van dong")])[0] \
        .id == made["household"]
    assert [f.visit_id for f in b.visits.follow_ups()] == [made["visit"]]
    assert {i.code for i in b.indicators.for_person(made["person"])} == \
        {i.code for i in a.indicators.for_person(made["person"])} >= {"vneid_level2"}
    engine.sync(a)  # catches up with b's copy of the seeded catalogue
    assert rows(a) == rows(b)
    assert_derived_agree([a, b])  # search index, follow-ups, indicators: digests miss them
    for ws in (a, b):
        assert ws.conn.execute("SELECT count(*) FROM sync_conflicts").fetchone()[0] == 0
        assert ws.conn.execute("SELECT count(*) FROM sync_quarantine").fetchone()[0] == 0
    quiet = [engine.sync(b), engine.sync(a)]
    assert [(r.pushed, r.pulled, r.conflicts) for r in quiet] == [(0, 0, 0), (0, 0, 0)]
    assert quiet[1].requests == 1 and quiet[1].bytes_received < 1024


def test_offline_edits_merge_per_field_and_same_field_edits_are_listed(hub, laptops):
    team = new_team(hub)
    a, b = laptops("a", team), laptops("b", team)
    household = fill(a)["household"]
    for ws in (a, b, a):
        engine.sync(ws)
    a.households.update(household, notes="Có wifi", phone="0987654321")
    b.households.update(household, address="Số 7, Ấp Mỹ Hưng", phone="0911111111")
    for ws in (a, b, a):
        engine.sync(ws)
    for ws in (a, b):
        merged = ws.households.get(household)
        assert (merged.notes, merged.address, merged.phone) == (
            "Có wifi", "Số 7, Ấp Mỹ Hưng", "0911111111")
    assert_derived_agree([a, b])
    listed = b.conn.execute("SELECT field, local_value, remote_value, winner FROM "
                            "sync_conflicts WHERE field = 'phone'").fetchall()
    assert [tuple(r) for r in listed] == [("phone", '"0911111111"', '"0987654321"', "local")]
    assert engine.status(b)["open_conflicts"] >= 1


def test_a_device_of_another_team_sees_none_of_its_rows(hub, laptops):
    a = laptops("a", new_team(hub))
    fill(a)
    engine.sync(a)
    other = laptops("c", new_team(hub, "Khóm 3"))
    engine.sync(other)
    for table in ("team_members", "households", "people", "visits",
                  "visit_items", "indicator_answers"):
        assert other.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
    assert [h.name for h in other.catalog.hamlets()] == ["Khóm 3"]  # its own, from the hub
    with pytest.raises(NotFound):
        other.households.by_code("MH-001")
    assert a.conn.execute("SELECT count(*) FROM sync_quarantine").fetchone()[0] == 0


def test_a_second_team_pushes_its_seeded_catalogue_without_refusals(hub, laptops):
    engine.sync(laptops("a", new_team(hub)))
    other = laptops("c", new_team(hub, "Khóm 3"))
    report = engine.sync(other)
    assert report.quarantined == 0


@pytest.mark.fresh_hub
def test_a_revoked_device_is_told_and_keeps_its_data(hub, laptops):
    a = laptops("a", new_team(hub))
    fill(a)
    engine.sync(a)
    a.households.update(fill_household(a), notes="chưa gửi")
    before = rows(a)
    hub.admin("devices", "revoke", a.meta()["sync_device_id"])
    with pytest.raises(DeviceRevoked) as caught:
        engine.sync(a)
    assert caught.value.message
    assert rows(a) == before and a.pending_changes() == 1
    assert engine.status(a)["revoked"] is True


def fill_household(ws: Workspace) -> str:
    return ws.households.list()[0].id


# -- the command line through the real entry point -------------------------------------------
def dxkit(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DXKIT_TOKEN_STORE": "file", "DXKIT_LANG": "en"}
    return subprocess.run([sys.executable, "-m", "dxkit.ui.entry", "--data-dir", str(data_dir),
                           *args], capture_output=True, text=True, timeout=120, env=env,
                          check=False)


@pytest.mark.fresh_hub
def test_enroll_sync_and_status_from_the_command_line(hub, tmp_path):
    team = new_team(hub)
    folder = tmp_path / "cli-laptop"
    with Workspace.open(folder) as ws:
        fill(ws)
    code = hub.cli("enroll-code", "--team", team)["code"]
    enrolled = dxkit("enroll", "--server", hub.url, "--code", code, "--name", "Máy Hoa",
                     data_dir=folder)
    assert enrolled.returncode == 0, enrolled.stderr
    assert "Enrolled" in enrolled.stdout
    done = dxkit("sync", "--json", data_dir=folder)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["pushed"] >= 10 and report["quarantined"] == 0
    assert {"pushed", "pulled", "conflicts", "quarantined"} <= set(report)
    text = dxkit("sync", data_dir=folder)
    assert text.returncode == 0 and "Sent: 0 records" in text.stdout
    state = json.loads(dxkit("sync", "status", "--json", data_dir=folder).stdout)
    assert state["enrolled"] and state["pending"] == 0 and state["last_sync_at"]
    assert state["team"]["hamlet"] == "Ấp Mỹ Hưng"
    devices = hub.cli("devices", "list")
    [device] = [d for d in devices if d["name"] == "Máy Hoa"]
    assert device["id"] == state["device_id"]
    hub.cli("devices", "revoke", device["id"])
    refused = dxkit("sync", "--json", data_dir=folder)
    assert refused.returncode != 0 and "revoked" in refused.stderr
    assert refused.stdout == ""
    with Workspace.open(folder) as ws:
        assert ws.households.count() == 2 and ws.people.count() == 2


def test_a_bad_code_and_an_unreachable_hub_are_sentences(hub, tmp_path):
    folder = tmp_path / "x"
    wrong = dxkit("enroll", "--server", hub.url, "--code", "AAAA-BBBB-CC", data_dir=folder)
    assert wrong.returncode != 0 and "enrollment code" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    nowhere = dxkit("sync", data_dir=folder)
    assert nowhere.returncode != 0 and "enroll" in nowhere.stderr


@pytest.mark.fresh_hub
def test_a_hub_that_went_away_is_offline_and_nothing_is_lost(hub, laptops, tmp_path):
    a = laptops("a", new_team(hub))
    fill(a)
    waiting = a.pending_changes()
    folder = a.path
    a.close()
    hub.stop()
    failed = dxkit("sync", "--json", data_dir=folder)
    assert failed.returncode != 0 and "Could not reach the hub" in failed.stderr
    assert failed.stdout == ""
    with Workspace.open(folder) as ws:
        assert ws.pending_changes() == waiting and "last_sync_at" not in ws.meta()


def test_an_erasure_by_sync_leaves_no_derived_row_behind(hub, laptops):
    """The receiving laptop's indicators, search index and follow-ups follow the erasure as
    they follow new visits: the erased person no longer counts anywhere."""
    team = new_team(hub)
    a, b = laptops("a", team), laptops("b", team)
    made = fill(a)
    for ws in (a, b):
        engine.sync(ws)
    assert b.indicators.for_person(made["person"])
    a.people.delete(made["person"])
    for ws in (a, b):
        engine.sync(ws)
    assert b.indicators.for_person(made["person"]) == []
    assert {r.code: r.reached for r in b.indicators.rollup()}["vneid_level2"] == 0
    assert search(b.conn, "tran thi huong") == []
    assert rows(a) == rows(b)
    assert_derived_agree([a, b])
