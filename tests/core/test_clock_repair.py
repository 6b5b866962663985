"""A workspace poisoned by a clock from the far future (as the code before the clock checks let
happen) is mended when it opens, and honest edits win again (dxkit/core/clock_repair.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dxkit.core import clock_repair
from dxkit.core.hlc import Timestamp, demoted, system_ms
from dxkit.core.synced import field_clocks, record_of
from dxkit.households.visits import VisitItem
from dxkit.workspace import Workspace
from tests.support.workspace_file import open_file

POISON = "ffffffffffff-ffff-e0e0e0e0e0e0e0e0"  # the largest clock an old hub stored
HOUR = 3600 * 1000


def send(source: Workspace, target: Workspace, table: str, row_id: str) -> str:
    with target.transaction() as tx:
        return tx.apply_remote(record_of(source.conn, table, row_id))


@pytest.fixture
def team(tmp_path: Path):
    """Laptops a and b holding the same household, nothing waiting to be sent."""
    a, b = Workspace.open(tmp_path / "a"), Workspace.open(tmp_path / "b")
    hamlet = a.catalog.add_hamlet("Ấp Mỹ Hưng").value
    household = a.households.add(code="MH-001", head_name="Nguyễn Văn Đồng",
                                 hamlet="Ấp Mỹ Hưng", phone="0912345678").value
    send(a, b, "hamlets", hamlet.id)
    send(a, b, "households", household.id)
    for ws in (a, b):
        ws.conn.execute("DELETE FROM outbox")
    yield a, b, household.id
    a.close()
    b.close()


def poison(path: Path, row_id: str, device: str) -> str:
    """What the old code left on a laptop that pulled POISON into a household's notes and then
    edited its phone: the counter overflowed (a fifth hex digit), the hub refused the edit as
    a bad clock and the laptop quarantined it for ever; a second edit waits in the outbox."""
    overflowed = f"ffffffffffff-10000-{device}"
    later = f"ffffffffffff-10001-{device}"
    conn = open_file(path)
    row = conn.execute("SELECT updated_at, field_clock FROM households WHERE id = ?",
                       (row_id,)).fetchone()
    before = json.loads(row[1]).get("*", row[0])
    clocks = {"*": before, "notes": POISON, "phone": overflowed, "address": later}
    conn.execute("UPDATE households SET notes = 'bị đầu độc', phone = '0999999999', "
                 "address = '7 Lê Lợi', updated_at = ?, field_clock = ? WHERE id = ?",
                 (later, json.dumps(clocks), row_id))
    refused = {"table": "households", "id": row_id, "kind": "mutable",
               "clocks": {"phone": overflowed, "notes": POISON}}
    conn.execute("INSERT INTO sync_quarantine (table_name, row_id, direction, reason, record, "
                 "at) VALUES ('households', ?, 'push', 'bad_clock', ?, '2026-11-20')",
                 (row_id, json.dumps(refused)))
    conn.execute("INSERT INTO outbox (table_name, row_id, op, hlc, fields, base) VALUES "
                 "('households', ?, 'update', ?, '[\"address\"]', ?)",
                 (row_id, later, json.dumps({"address": POISON})))
    conn.execute("UPDATE meta SET value = ? WHERE key = 'hlc'", (later,))
    conn.commit()
    conn.close()
    return before


def test_opening_a_poisoned_workspace_mends_it_so_honest_edits_win(team, tmp_path):
    a, b, row_id = team
    device = b.device_id
    b.close()
    poison(tmp_path / "b", row_id, device)
    b = Workspace.open(tmp_path / "b")
    repaired = b.clock_repair
    assert repaired is not None and repaired.clock_reset
    assert repaired.restamped == {"households": 1} and repaired.requeued == 1
    assert repaired.outbox == 1
    # The clock continues from the wall clock, not from the far future.
    assert abs(Timestamp.parse(b.clock.last).ms - system_ms()) < HOUR
    clocks = field_clocks("households", b.conn.execute(
        "SELECT * FROM households WHERE id = ?", (row_id,)).fetchone())
    # The received value gives way to any real edit; this laptop's own edits (refused, and
    # waiting) got fresh clocks, in their old order, newer than anything it holds.
    assert clocks["notes"] == demoted(POISON) == "000000000001-0000-e0e0e0e0e0e0e0e0"
    assert clocks["code"] < clocks["phone"] < clocks["address"] <= b.clock.last
    assert Timestamp.parse(clocks["address"]).device == device
    # Both edits are queued to go (the refused one again), nothing stays quarantined.
    assert b.conn.execute("SELECT count(*) FROM sync_quarantine").fetchone()[0] == 0
    queued = b.conn.execute("SELECT hlc, base FROM outbox ORDER BY seq").fetchall()
    assert queued[0][0] == clocks["address"] and json.loads(queued[0][1]) == {
        "address": demoted(POISON)}
    assert json.loads(b.meta()[clock_repair.META_REPULL]) == ["households"]
    assert json.loads(b.meta()[clock_repair.META_LAST_REPAIR])["clock_reset"] is True

    # An honest edit of the poisoned field made on a after the repair wins on b, and b's own
    # repaired edits win on a.
    a.households.update(row_id, notes="Có wifi")
    assert send(a, b, "households", row_id) == "applied"
    assert send(b, a, "households", row_id) == "applied"
    for ws in (a, b):
        merged = ws.households.get(row_id)
        assert (merged.notes, merged.phone, merged.address) == (
            "Có wifi", "0999999999", "7 Lê Lợi")
    b.close()


def test_a_healthy_workspace_opens_untouched(team, tmp_path):
    a, _b, row_id = team
    before = record_of(a.conn, "households", row_id)
    last = a.clock.last
    a.close()
    again = Workspace.open(tmp_path / "a")
    assert again.clock_repair is None and again.clock.last == last
    assert record_of(again.conn, "households", row_id) == before
    again.close()


def test_the_explicit_repair_reads_every_row_even_when_the_clock_itself_is_fine(team, tmp_path):
    """A row can hold an unbelievable clock while the workspace clock is fine (a file copied
    in, a clock reset by hand): the cheap check at open does not see it; `repair` does."""
    a, _b, row_id = team
    device = a.device_id
    last = a.clock.last
    a.close()
    poison(tmp_path / "a", row_id, device)
    conn = open_file(tmp_path / "a")
    conn.execute("UPDATE meta SET value = ? WHERE key = 'hlc'", (last,))
    conn.commit()
    conn.close()
    a = Workspace.open(tmp_path / "a")
    assert a.clock_repair is None
    report = clock_repair.repair(a)
    assert not report.clock_reset and report.restamped == {"households": 1}
    assert clock_repair.repair(a).changed is False  # a second run finds nothing
    clocks = field_clocks("households", a.conn.execute(
        "SELECT * FROM households WHERE id = ?", (row_id,)).fetchone())
    assert max(clocks.values()) == clocks["address"] <= a.clock.last
    a.close()


def test_events_take_the_time_of_their_id_and_own_unsent_ones_a_fresh_clock(team, tmp_path):
    """Events never merge by clock: a received one takes the time in its uuid7 id, which the
    hub gives its copy too; one of this laptop's own, not sent yet, a fresh clock."""
    a, b, row_id = team
    member = a.catalog.add_member("Lê Thị Hoa").value.id
    send(a, b, "team_members", member)
    received = a.visits.add(row_id, [VisitItem("vneid_level2", "done")],
                            member_ids=[member]).value.id
    send(a, b, "visits", received)
    own = b.visits.add(row_id, [VisitItem("online_safety", "partly")],
                       member_ids=[member]).value.id
    device = b.device_id
    b.close()
    conn = open_file(tmp_path / "b")
    conn.execute("UPDATE visits SET created_at = ? WHERE id = ?", (POISON, received))
    conn.execute("UPDATE visits SET created_at = ? WHERE id = ?",
                 (f"ffffffffffff-ffff-{device}", own))
    conn.execute("UPDATE meta SET value = ? WHERE key = 'hlc'", (f"ffffffffffff-ffff-{device}",))
    conn.commit()
    conn.close()
    b = Workspace.open(tmp_path / "b")
    assert b.clock_repair is not None and b.clock_repair.events == {"visits": 2}
    stamps = dict(b.conn.execute("SELECT id, created_at FROM visits"))
    made = int(received.replace("-", "")[:12], 16)
    assert stamps[received] == f"{made:012x}-0000-e0e0e0e0e0e0e0e0"
    assert Timestamp.parse(stamps[own]).device == device
    assert abs(Timestamp.parse(stamps[own]).ms - system_ms()) < HOUR
    assert stamps[own] <= b.clock.last
    b.close()
