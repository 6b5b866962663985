"""Attacks on the clocks, against the REAL hub process (tests/sync/conftest.py): a device that
pushes a clock from the future or poses as the hub or the shipped catalogue is refused and its
team never notices; a team that the old code let be poisoned comes back through the automatic
check and the repair commands (docs/sync-protocol.md, Clocks)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dxkit.core.hlc import DEMOTED_MS, HUB_AHEAD_MS, SKEW_TOLERANCE_MS, Timestamp, system_ms
from dxkit.core.synced import REGISTRY, field_clocks, record_of
from dxkit.sync import clocks, engine
from dxkit.sync.apply import apply_records
from dxkit.sync.hub.areas import SHARED
from dxkit.sync.hub.store import HubStore, next_seq, stored_json
from dxkit.workspace import Workspace
from tests.core.test_clock_repair import POISON, poison
from tests.support.places import ensure_hamlet
from tests.support.workspace_file import open_file
from tests.sync.test_e2e_sync import (  # noqa: F401  (fixtures: file tokens, hub, laptops)
    dxkit,
    file_tokens,
    hub,
    laptops,
    new_team,
)
from tests.sync.test_reference_data import indicator_id, publish

HUB_BACKENDS = ("sqlite", "postgresql")
SQLITE_ONLY = {"test_a_poisoned_team_comes_back_through_the_automatic_check_and_the_commands"}
HOUR = 3600 * 1000
DAY = 24 * HOUR


def household(ws: Workspace) -> str:
    ensure_hamlet(ws, "Ấp Mỹ Hưng")
    return ws.households.add(code="MH-001", head_name="Nguyễn Văn Đồng", hamlet="Ấp Mỹ Hưng",
                             phone="0912345678").value.id


def sync_all(*laptops: Workspace) -> None:
    for ws in laptops:
        report = engine.sync(ws)
        assert report.quarantined == 0, report


def forged(ws: Workspace, table: str, row_id: str, field: str, value, clock: str) -> dict:
    """This laptop's record of a row with one field changed under a clock of its choosing."""
    record = record_of(ws.conn, table, row_id)
    record["fields"][field] = value
    record["clocks"][field] = clock
    return record


def push(ws: Workspace, *records: dict) -> list[tuple[str, str | None]]:
    with engine.client_for(ws) as client:
        answer = client.push(list(records))
    return [(result["status"], result.get("reason")) for result in answer["results"]]


def sane(stamp: str) -> bool:
    """A clock of the present (or a repaired one), not of the far future."""
    return Timestamp.parse(stamp).ms < system_ms() + HOUR


def every_clock(ws: Workspace, table: str, row_id: str) -> list[str]:
    return list(field_clocks(table, ws.conn.execute(
        f"SELECT * FROM {table} WHERE id = ?", (row_id,)).fetchone()).values())


def test_a_device_pushing_a_clock_from_the_future_is_refused_and_its_team_unaffected(
        hub, laptops):
    team = new_team(hub)
    a, b, evil = laptops("a", team), laptops("b", team), laptops("evil", team)
    row_id = household(a)
    sync_all(a, b, evil)
    far = forged(evil, "households", row_id, "notes", "Kẻ xấu",
                 f"ffffffffffff-ffff-{evil.device_id}")
    soon = forged(evil, "households", row_id, "address", "Nhà kẻ xấu",
                  str(Timestamp(system_ms() + HOUR, 0, evil.device_id)))
    assert push(evil, far, soon) == [("rejected", "clock_ahead"), ("rejected", "clock_ahead")]

    sync_all(b)
    assert all(sane(stamp) for stamp in (b.clock.last, *every_clock(b, "households", row_id)))
    a.households.update(row_id, notes="Có wifi")
    sync_all(a, b)
    got = b.households.get(row_id)
    assert (got.notes, got.address) == ("Có wifi", "")


def test_a_device_posing_as_the_hub_or_the_shipped_catalogue_is_refused(hub, laptops, tmp_path):
    team = new_team(hub)
    a, evil = laptops("a", team), laptops("evil", team)
    target = indicator_id(a, "smartphone")
    publish(hub, tmp_path, {"table": "indicators", "rows": [{"id": target, "target": 0.6}]})
    sync_all(a, evil)
    now = system_ms()
    as_hub = forged(evil, "indicators", target, "target", 0.01, str(Timestamp(now, 0, "hub")))
    item = evil.conn.execute("SELECT id FROM support_items LIMIT 1").fetchone()[0]
    as_shipped = forged(evil, "support_items", item, "active", 0,
                        str(Timestamp(now, 0, "shipped")))
    assert push(evil, as_hub, as_shipped) == [("rejected", "reserved_device")] * 2

    sync_all(a)
    assert {i.code: i.target for i in a.catalog.indicators()}["smartphone"] == 0.6
    publish(hub, tmp_path, {"table": "indicators", "rows": [{"id": target, "target": 0.7}]})
    sync_all(a, evil)
    for ws in (a, evil):
        assert {i.code: i.target for i in ws.catalog.indicators()}["smartphone"] == 0.7


def poison_hub(hub, table: str, row_id: str, team: str, **clocks: str) -> None:
    """Write what the hub before the checks stored for a forged push: a value under a clock
    from the far future (or, for `team` "*"... any scope the row is kept in; a household's
    is the shared one, "@", whatever `team`)."""
    if REGISTRY[table].placed.shared:
        team = SHARED
    store = HubStore(str(hub.db_path))
    try:
        with store.database.write() as conn:
            row = conn.execute("SELECT fields, clocks FROM records WHERE table_name = ? AND "
                               "row_id = ? AND team_id = ?", (table, row_id, team)).fetchone()
            fields = json.loads(row["fields"])
            if table == "households":
                fields["notes"] = "bị đầu độc"
            conn.execute("UPDATE records SET fields = ?, clocks = ?, device_id = ?, seq = ? "
                         "WHERE table_name = ? AND row_id = ? AND team_id = ?",
                         (stored_json(fields), stored_json({**json.loads(row["clocks"]),
                                                            **clocks}),
                          Timestamp.parse(max(clocks.values())).device, next_seq(conn),
                          table, row_id, team))
    finally:
        store.close()


def pulled_poison(folder: Path, row_id: str) -> None:
    """What the old code left on a laptop that pulled the poisoned value: the value under its
    clock, and the laptop's own clock jumped there."""
    conn = open_file(folder)
    row = conn.execute("SELECT updated_at, field_clock FROM households WHERE id = ?",
                       (row_id,)).fetchone()
    clocks = {"*": json.loads(row[1]).get("*", row[0]), **json.loads(row[1]), "notes": POISON}
    conn.execute("UPDATE households SET notes = 'bị đầu độc', updated_at = ?, field_clock = ? "
                 "WHERE id = ?", (POISON, json.dumps(clocks), row_id))
    conn.execute("UPDATE meta SET value = ? WHERE key = 'hlc'", (POISON,))
    conn.commit()
    conn.close()


def test_a_poisoned_team_comes_back_through_the_automatic_check_and_the_commands(
        hub, laptops, tmp_path, key_files):
    team = new_team(hub)
    a, b = laptops("a", team), laptops("b", team)
    row_id = household(a)
    sync_all(a, b, a)
    a_device = a.device_id
    a.close()
    b.close()
    poison_hub(hub, "households", row_id, team, notes=POISON)
    poison(tmp_path / "a", row_id, a_device)  # pulled it, then an edit refused for ever
    pulled_poison(tmp_path / "b", row_id)

    assert hub.cli("repair-clocks") == {"records": {"households": 1}, "clocks": 1, "total": 1}
    done = dxkit("sync", "repair-clock", "--json", data_dir=tmp_path / "a")
    assert done.returncode == 0, done.stderr
    told = json.loads(done.stdout)
    assert told["at_open"]["clock_reset"] and told["at_open"]["restamped"] == {"households": 1}
    assert told["at_open"]["requeued"] == 1 and told["pull_again"] == ["households"]
    text = dxkit("sync", "repair-clock", data_dir=tmp_path / "a")
    assert "nothing was changed" in text.stdout  # mended once and for all
    a = Workspace.open(tmp_path / "a")
    b = Workspace.open(tmp_path / "b")  # the automatic check alone
    assert b.clock_repair is not None and b.clock_repair.demoted == {"households": 1}
    try:
        sync_all(a, b)
        b.households.update(row_id, notes="Có wifi")  # an honest edit after the repair
        sync_all(b, a)
        for ws in (a, b):
            got = ws.households.get(row_id)
            assert (got.notes, got.phone, got.address) == ("Có wifi", "0999999999",
                                                           "7 Lê Lợi")
            assert all(sane(s) for s in (ws.clock.last, *every_clock(ws, "households", row_id)))
            assert ws.conn.execute("SELECT count(*) FROM sync_quarantine").fetchone()[0] == 0
            assert ws.pending_changes() == 0
        assert record_of(a.conn, "households", row_id) == record_of(b.conn, "households", row_id)
    finally:
        a.close()
        b.close()


def test_an_honest_edit_made_before_the_hub_is_repaired_still_wins(hub, laptops, tmp_path):
    team = new_team(hub)
    a, b = laptops("a", team), laptops("b", team)
    row_id = household(a)
    sync_all(a, b)
    b.close()
    poison_hub(hub, "households", row_id, team, notes=POISON)
    pulled_poison(tmp_path / "b", row_id)
    b = Workspace.open(tmp_path / "b")
    try:
        b.households.update(row_id, notes="Có wifi")
        # The hub still holds the poisoned clock: b holds its copy back, and its honest
        # edit replaces it on the hub all the same.
        assert engine.sync(b).quarantined == 1
        assert hub.admin("repair-clocks")["total"] == 0
        sync_all(a)
        assert a.households.get(row_id).notes == "Có wifi"
        assert all(sane(stamp) for stamp in every_clock(a, "households", row_id))
    finally:
        b.close()


def test_a_forged_hub_clock_on_a_reference_row_cannot_break_the_next_publication(
        hub, laptops, tmp_path):
    forger_team, other_team = new_team(hub), new_team(hub, "Khóm 3")
    a, c = laptops("a", forger_team), laptops("c", other_team)
    target = indicator_id(a, "smartphone")
    a.catalog.set_target("smartphone", "60%")
    sync_all(a)  # the team's own copy of the shipped row
    poison_hub(hub, "indicators", target, forger_team, target="ffffffffffff-ffff-hub")
    publish(hub, tmp_path, {"table": "indicators", "rows": [{"id": target, "target": 0.8}]})
    sync_all(c)
    assert {i.code: i.target for i in c.catalog.indicators()}["smartphone"] == 0.8
    stamps = every_clock(c, "indicators", target)
    assert all(sane(stamp) for stamp in (c.clock.last, *stamps))
    assert max(stamps).endswith("-hub") and Timestamp.parse(max(stamps)).ms > DEMOTED_MS


def skew(ws: Workspace, offset_ms: int) -> None:
    ws.clock._wall_ms = lambda: system_ms() + offset_ms


def test_laptops_whose_dates_are_days_off_still_sync_with_the_hubs_time(hub, laptops):
    team = new_team(hub)
    ahead, behind = laptops("ahead", team), laptops("behind", team)
    skew(ahead, 2 * DAY)
    skew(behind, -2 * DAY)
    row_id = household(ahead)  # stamped two days ahead, before the laptop learned better
    sync_all(ahead, behind)
    assert behind.households.get(row_id).phone == "0912345678"
    behind.households.update(row_id, notes="Có wifi")
    ahead.households.update(row_id, phone="0987654321")
    sync_all(behind, ahead, behind)
    for ws in (ahead, behind):
        got = ws.households.get(row_id)
        assert (got.notes, got.phone) == ("Có wifi", "0987654321")
        assert all(sane(stamp) for stamp in every_clock(ws, "households", row_id))
    assert record_of(ahead.conn, "households", row_id) == record_of(
        behind.conn, "households", row_id)


@pytest.mark.parametrize("ahead_ms", [HUB_AHEAD_MS - SKEW_TOLERANCE_MS // 2,
                                      HUB_AHEAD_MS + 200, HUB_AHEAD_MS + SKEW_TOLERANCE_MS // 2])
def test_edits_stamped_just_past_the_hubs_bound_go_up_in_one_sync(hub, laptops, ahead_ms):
    """A date a few minutes fast, near the hub's bound: the edits made before the sync learned
    the hub's time are taken at once (none refused, so none waits for time to catch up)."""
    team = new_team(hub)
    fast, other = laptops("fast", team), laptops("other", team)
    skew(fast, ahead_ms)
    row_id = household(fast)
    report = engine.sync(fast)
    assert report.pushed >= 1 and fast.conn.execute(
        "SELECT count(*) FROM sync_quarantine").fetchone()[0] == 0
    sync_all(other)
    assert other.households.get(row_id).phone == "0912345678"


def test_a_record_received_with_a_clock_too_far_ahead_waits_until_it_can_be_believed(
        hub, laptops):
    """From a bundle (the hub refuses such clocks now): held back, the clock unmoved; applied
    by the next sync once this computer's time catches up."""
    team = new_team(hub)
    a, b = laptops("a", team), laptops("b", team)
    row_id = household(a)
    sync_all(a, b)
    later = str(Timestamp(system_ms() + 3 * DAY, 0, a.device_id))
    record = forged(a, "households", row_id, "notes", "Ba ngày sau", later)
    before = b.clock.last
    with b.transaction() as tx:
        assert apply_records(tx, "households", [record]) == ["quarantined"]
    assert b.clock.last == before
    [(why,)] = b.conn.execute("SELECT reason FROM sync_quarantine").fetchall()
    assert why.startswith("clock_ahead:")
    skew(b, 3 * DAY)  # time caught up (or the computer's date was corrected)
    b.clock.offset_ms = 0
    assert clocks.before_sync(b).retried == 1
    assert b.households.get(row_id).notes == "Ba ngày sau"
    assert b.conn.execute("SELECT count(*) FROM sync_quarantine").fetchone()[0] == 0


def test_a_change_refused_for_its_clock_goes_again_once_the_hub_would_take_it(hub, laptops):
    """A change the hub refused as too far ahead (a laptop a few minutes fast, its answer
    quarantined and taken out of the outbox) is sent again by a later sync once its clocks
    are within the hub's bound: never quarantined for ever."""
    team = new_team(hub)
    a, b = laptops("a", team), laptops("b", team)
    row_id = household(a)
    sync_all(a, b)
    a.households.update(row_id, notes="Có wifi")
    refused = record_of(a.conn, "households", row_id)
    with a.transaction() as tx:  # what a push answered "rejected: clock_ahead" leaves
        tx.conn.execute("DELETE FROM outbox")
        tx.conn.execute("INSERT INTO sync_quarantine (table_name, row_id, direction, reason, "
                        "record, at) VALUES ('households', ?, 'push', 'clock_ahead', ?, "
                        "'2026-12-01')", (row_id, json.dumps(refused)))
    report = engine.sync(a)
    assert report.pushed == 1 and report.quarantined == 0
    assert a.conn.execute("SELECT count(*) FROM sync_quarantine").fetchone()[0] == 0
    sync_all(b)
    assert b.households.get(row_id).notes == "Có wifi"
