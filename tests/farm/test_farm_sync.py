"""The farm tables sync like every other: written rows land in the outbox, records round-trip
through record_of / Tx.apply_remote, shipped registry rows are never sent, and an older
workspace gains the farm tables when it is opened."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from dxkit.core import store
from dxkit.core.synced import REGISTRY, SHIPPED_CLOCK, dependency_order, record_of
from dxkit.farm.registry import shipped_ban_id
from dxkit.farm.tables import FARM_TABLES
from dxkit.households.domain import DOMAIN as HOUSEHOLDS
from dxkit.workspace import Workspace
from tests.farm import farm_setup

# The shared fixtures (pytest finds them as names of this module).
farm, spray, harvest = farm_setup.farm, farm_setup.spray, farm_setup.harvest
D = dt.date


def outbox_tables(ws: Workspace) -> set[str]:
    return {r[0] for r in ws.conn.execute("SELECT DISTINCT table_name FROM outbox")}


def send(source: Workspace, target: Workspace) -> dict[str, int]:
    """The source's outbox, table by table in dependency order, applied to the target."""
    outcomes: dict[str, int] = {}
    with target.transaction() as tx:
        for table in dependency_order():
            rows = source.conn.execute("SELECT DISTINCT row_id FROM outbox WHERE table_name = ?"
                                       " ORDER BY seq", (table,)).fetchall()
            for (row_id,) in rows:
                outcome = tx.apply_remote(record_of(source.conn, table, row_id))
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


@pytest.fixture
def printed(farm, spray, harvest):
    f = farm.ws.farm
    f.orgs.add_member(farm.org, "Nguyễn Văn Tám")
    f.registry.add_product("Chế phẩm sinh học HTX", ["Bacillus subtilis"], {"rice": 0})
    spray(farm.rice, D(2027, 2, 1))
    cut = harvest(farm.rice, D(2027, 3, 1)).value
    f.diary.amend(cut.id, reason="Cân lại", quantity="6,3 tấn")
    lot = f.lots.create([f.diary.timeline(farm.rice, effective_only=True)[-1].id]).value
    f.lots.record_print(lot, template="L7160", copies=3, serials=True)
    return lot


def test_farm_tables_are_registered_in_a_working_order(fresh_ws):
    order = dependency_order()
    for name in FARM_TABLES:
        assert name in REGISTRY
        for parent in REGISTRY[name].depends_on:
            assert order.index(parent) < order.index(name)
    assert order.index("plots") < order.index("diary_entries") < order.index("lot_harvests")


def test_everything_written_lands_in_the_outbox(farm, printed):
    expected = set(FARM_TABLES) - {"pesticide_bans"}
    assert expected <= outbox_tables(farm.ws)


def test_shipped_registry_rows_are_the_same_everywhere_and_never_sent(tmp_path):
    a, b = Workspace.open(tmp_path / "a"), Workspace.open(tmp_path / "b")
    try:
        for ws in (a, b):
            assert not {"pesticide_products", "pesticide_bans"} & outbox_tables(ws)
        ids = [sorted(r[0] for r in ws.conn.execute("SELECT id FROM pesticide_products"))
               for ws in (a, b)]
        assert ids[0] == ids[1] and len(ids[0]) >= 40
        row = a.conn.execute("SELECT updated_at, device_id FROM pesticide_bans WHERE id = ?",
                             (shipped_ban_id("fipronil"),)).fetchone()
        assert tuple(row) == (SHIPPED_CLOCK, "shipped")
    finally:
        a.close()
        b.close()


def test_a_province_update_by_sync_beats_the_shipped_row(tmp_path):
    a, b = Workspace.open(tmp_path / "a"), Workspace.open(tmp_path / "b")
    try:
        regent = a.farm.registry.product("Regent 800WG")
        with a.transaction() as tx:
            tx.update("pesticide_products", regent.id, {"active": 0})
        send(a, b)
        assert "Regent 800WG" not in [p.name for p in b.farm.registry.products()]
        b.close()
        b = Workspace.open(tmp_path / "b")  # refreshing shipped rows leaves the edit alone
        assert "Regent 800WG" not in [p.name for p in b.farm.registry.products()]
    finally:
        a.close()
        b.close()


def test_records_round_trip_to_another_laptop(farm, printed, tmp_path):
    a = farm.ws
    b = Workspace.open(tmp_path / "b")
    try:
        b.freeze_time(a.now())
        outcomes = send(a, b)
        assert outcomes == {"applied": outcomes["applied"]}
        assert b.pending_changes() == 0  # received rows are not sent back
        assert send(a, b) == {"duplicate": outcomes["applied"]}
        for table in FARM_TABLES:
            for (row_id,) in a.conn.execute(f"SELECT id FROM {table} WHERE device_id != "
                                            "'shipped'"):
                assert record_of(b.conn, table, row_id) == record_of(a.conn, table, row_id)
        assert [e.id for e in b.farm.diary.timeline()] == [e.id for e in a.farm.diary.timeline()]
        assert b.farm.lots.get(printed.code).to_dict() == a.farm.lots.get(printed.code).to_dict()
        assert b.farm.lots.trace_record(printed.code) == a.farm.lots.trace_record(printed.code)
        assert b.farm.lots.published_trace(printed.code) == a.farm.lots.trace_record(printed.code)
        assert b.farm.lots.qr_payloads(printed, 1)[0].endswith("?serial=4")  # 1-3 were used
    finally:
        b.close()


def test_an_older_workspace_gains_the_farm_tables(tmp_path, monkeypatch):
    folder = tmp_path / "old"
    # dxkit before farms: no farm domain, and only the households migrations of that time
    # (and the hamlets' own later one, which today's hamlet code reads).
    older = dataclasses.replace(HOUSEHOLDS, migrations=tuple(
        m for m in HOUSEHOLDS.migrations if m.name < "0007" or m.name == "0011_hamlet_areas"))
    monkeypatch.setattr(Workspace, "domains", (older,))
    ws = Workspace.open(folder)
    ws.catalog.add_hamlet("Khóm 3")
    ws.households.add(code="K3-001", head_name="Nguyễn Văn An", hamlet="Khóm 3")
    ws.close()
    assert store.connect(folder / "dxkit.sqlite", ws.key).execute(
        "SELECT count(*) FROM sqlite_master WHERE name = 'plots'").fetchone()[0] == 0
    monkeypatch.undo()

    ws = Workspace.open(folder)
    try:
        assert not ws.created and ws.households.count() == 1
        assert ws.farm.registry.products() and ws.farm.registry.bans()
        assert not {"pesticide_products", "pesticide_bans"} & outbox_tables(ws)
        org = ws.farm.orgs.add("HTX Mỹ Đông").value
        assert ws.farm.orgs.all() == [org]
        assert list((folder / "backups").glob("before-0007_farm-*.sqlite"))
    finally:
        ws.close()


def test_opening_brings_unedited_shipped_rows_up_to_date(tmp_path):
    """A newer dxkit may ship corrected registry values: rows nobody edited take them."""
    ws = Workspace.open(tmp_path / "ws")
    virtako = ws.farm.registry.product("Virtako 40WG")
    ws.conn.execute("UPDATE pesticide_products SET phi_days = '{\"rice\": 99}' WHERE id = ?",
                    (virtako.id,))
    ws.conn.execute("DELETE FROM pesticide_bans WHERE id = ?", (shipped_ban_id("paraquat"),))
    ws.close()
    ws = Workspace.open(tmp_path / "ws")
    try:
        assert ws.farm.registry.product(virtako.id).phi_days == {"rice": 7}
        assert "paraquat" in {b.ingredient for b in ws.farm.registry.bans()}
        assert ws.pending_changes() == 0
    finally:
        ws.close()
