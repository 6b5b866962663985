"""Values outside their fields' declared types against the REAL hub process (on SQLite and on
PostgreSQL, which refuses NUL in text): each bad record of a push is rejected with its reason
and field, the good records of the same batch are stored, and teammates keep syncing. And the
laptop's side: rows a hub stored before it checked types, or a laptop before it did, are
quarantined one by one and never stop a sync."""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from dxkit import demo
from dxkit.core import fields as f
from dxkit.core.synced import REGISTRY, dependency_order, records_of
from dxkit.sync import engine
from dxkit.sync.hub.areas import SHARED, register_hamlet
from dxkit.sync.hub.store import HubStore, next_seq
from dxkit.workspace import Workspace
from tests.support import field_values
from tests.support.places import unique_commune

HUB_BACKENDS = ("sqlite", "postgresql")
NOW = dt.datetime(2026, 11, 20, 9, 30)
# The demo cooperative's lot codes (the ids of published traces, one hub-wide) follow the
# date: each test writes its demo in a year of its own on the module's shared hub.
YEARS = {"attack": NOW, "stored": NOW.replace(year=2027), "held": NOW.replace(year=2028)}


@pytest.fixture(autouse=True)
def file_tokens(monkeypatch):
    monkeypatch.setenv("DXKIT_TOKEN_STORE", "file")


@pytest.fixture
def hub(hub_for_test):
    return hub_for_test


@pytest.fixture
def team(hub) -> str:
    """A commune team (the demo commune has seven hamlets), in a commune of its own on the
    module's shared hub."""
    province, commune = unique_commune()
    return hub.admin("team", "add", "--province", province, "--commune", commune
                     )["team_id"]


@pytest.fixture
def laptops(tmp_path, hub, team) -> Iterator[Any]:
    opened: list[Workspace] = []

    def make(name: str, now: dt.datetime = NOW) -> Workspace:
        ws = Workspace.open(tmp_path / name)
        ws.freeze_time(now)
        engine.enroll(ws, hub.url, hub.admin("enroll-code", "--team", team)["code"],
                      device_name=name)
        opened.append(ws)
        return ws

    yield make
    for ws in opened:
        ws.close()


def raw_device(hub, team: str) -> httpx.Client:
    """A device of the team that pushes whatever it is given (no dxkit client in between)."""
    code = hub.admin("enroll-code", "--team", team)["code"]
    token = httpx.post(f"{hub.url}/v1/enroll", json={"code": code, "device_name": "raw"},
                       timeout=30).json()["token"]
    return httpx.Client(base_url=hub.url, headers={"Authorization": f"Bearer {token}"},
                        timeout=60)


def push_raw(device: httpx.Client, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """POST /v1/push as JSON text. Infinity goes as 1e999 (a JSON number that overflows to
    infinity): JSON has no NaN or Infinity, and the hub refuses those words as a whole bad
    request before any record is read."""
    text = json.dumps({"records": records}, allow_nan=True)
    text = text.replace("-Infinity", "-1e999").replace("Infinity", "1e999")
    answer = device.post("/v1/push", content=text.encode(),
                         headers={"Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]


def laptop_records(ws: Workspace) -> list[dict[str, Any]]:
    """The laptop's records waiting to be sent, parents first (as a laptop sends them: the
    hub places a person by its household)."""
    order = {table: number for number, table in enumerate(dependency_order())}
    keys = sorted(ws.conn.execute("SELECT DISTINCT table_name, row_id FROM outbox").fetchall(),
                  key=lambda key: (order[key[0]], key[1]))
    return [record for table, row_id in keys
            for record in records_of(ws.conn, table, [row_id]).values()]


def representatives(records: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """For each kind of field type (text with and without a pattern, JSON text, integer,
    boolean, real, one-of, date, timestamp, id), the field of a table the laptop wrote with
    the shortest limit (it keeps the requests small)."""
    written = {record["table"] for record in records}
    chosen: dict[str, tuple[int, str, str]] = {}
    for table in sorted(written):
        for name, kind in REGISTRY[table].wire_types.items():
            label = type(kind).__name__ + (
                "+pattern" if isinstance(kind, f.Text) and kind.pattern is not None
                and not isinstance(kind, f.JsonText) else "")
            size = kind.max_len if isinstance(kind, f.Text) else 0
            if label not in chosen or size < chosen[label][0]:
                chosen[label] = (size, table, name)
    return {label: (table, name) for label, (_size, table, name) in chosen.items()}


def spoilt(record: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    bad = json.loads(json.dumps(record))
    bad["id"] = str(uuid.uuid4())
    bad["fields"][name] = value
    return bad


def test_each_bad_value_is_rejected_alone_and_teammates_keep_syncing(hub, team, laptops):
    author = laptops("author", YEARS["attack"])
    demo.generate(author, seed=3, households=6)
    good = laptop_records(author)
    with raw_device(hub, team) as attacker:
        push_each_kind_of_bad_value(attacker, good)

    teammate = laptops("teammate")
    report = engine.sync(teammate)
    assert report.quarantined == 0
    for table in ("households", "people", "visits", "plots", "diary_entries", "lots"):
        assert count(teammate, table) == count(author, table), table
    household = teammate.households.list()[0]
    teammate.households.update(household.id, notes="Đã gọi điện hẹn lại")
    assert engine.sync(teammate).pushed == 1
    assert engine.sync(author).quarantined == 0  # the author's own records: already there
    assert author.households.get(household.id).notes == "Đã gọi điện hẹn lại"


def push_each_kind_of_bad_value(attacker: httpx.Client, good: list[dict[str, Any]]) -> None:
    """Every good record, in batches each holding the bad values of one kind of field type;
    then records whose id or table name no database can store."""
    kinds = representatives(good)
    assert set(kinds) >= {"Text", "Text+pattern", "JsonText", "Integer", "Boolean", "Real",
                          "OneOf", "Date", "Timestamp", "Ref"}
    by_table = {record["table"]: record for record in good}
    pending = list(good)
    for label, (table, name) in sorted(kinds.items()):
        cases = [case for case in field_values.invalid(REGISTRY[table].wire_types[name])
                 if not (isinstance(case[1], float) and math.isnan(case[1]))]  # not JSON
        bad = [spoilt(by_table[table], name, value) for _what, value, _reason in cases]
        share, pending = pending[:40], pending[40:]
        batch = [*share[:20], *bad, *share[20:]]  # good records before and after the bad
        results = {result["id"]: result for result in push_raw(attacker, batch)}
        for (what, _value, reason), record in zip(cases, bad, strict=True):
            result = results[record["id"]]
            assert (result["status"], result["reason"], result["field"]) == (
                "rejected", reason, name), f"{label} {table}.{name}: {what}"
        assert all(results[record["id"]]["status"] == "applied" for record in share), (
            label, [results[r["id"]] for r in share if results[r["id"]]["status"] != "applied"])
    for start in range(0, len(pending), 500):  # a push holds at most 500 records
        assert all(r["status"] == "applied" for r in push_raw(attacker, pending[start:start + 500]))
    # Ids and table names neither database can store are named in no result: the answer
    # itself could not be encoded (a lone surrogate made the whole batch a 500).
    nameless = [{**good[0], "id": "hh-\ud800"}, {**good[0], "table": "hh\x00"}, good[0]]
    assert push_raw(attacker, nameless) == [
        {"table": good[0]["table"], "id": None, "status": "rejected", "reason": "bad_id"},
        {"table": None, "id": good[0]["id"], "status": "rejected", "reason": "unknown_table"},
        {"table": good[0]["table"], "id": good[0]["id"], "status": "duplicate"}]


def count(ws: Workspace, table: str) -> int:
    return int(ws.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def held_back(ws: Workspace) -> dict[str, tuple[str, str]]:
    return {row["row_id"]: (row["direction"], row["reason"]) for row in ws.conn.execute(
        "SELECT row_id, direction, reason FROM sync_quarantine")}


# -- rows stored before types were checked ------------------------------------------------------
def store_directly(hub, team: str, records: list[dict[str, Any]]) -> None:
    """Write records into the hub's database as a hub without type checks stored them (or a
    damaged one: the JSON is ASCII, so a lone surrogate is stored as its escape)."""
    store = HubStore(hub.db_path)
    try:
        with store.database.write() as conn:
            for record in records:
                scope, area = team, team
                placed = REGISTRY[record["table"]].placed
                if placed.shared:  # kept once, in the area of its hamlet (hub/areas.py)
                    scope, fields = SHARED, record["fields"]
                    area = record["id"] if placed.kind == "hamlet" else fields[placed.field]
                    if placed.kind == "hamlet":  # one of the commune team's hamlets
                        commune = conn.execute("SELECT province_code, commune_code FROM teams "
                                               "WHERE id = ?", (team,)).fetchone()
                        register_hamlet(conn, area, commune[0], commune[1], "", "2026-11-20")
                    if placed.kind == "via":
                        area = conn.execute(
                            "SELECT area FROM records WHERE table_name = ? AND row_id = ? AND "
                            "team_id = ?", (placed.table, area, SHARED)).fetchone()[0]
                conn.execute(
                    "INSERT INTO records (table_name, row_id, team_id, kind, fields, clocks, "
                    "created_at, device_id, pushed_by, pushed_exact, seq, area) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'old-device', 0, ?, ?)",
                    (record["table"], record["id"], scope, record["kind"],
                     json.dumps(record["fields"], sort_keys=True),
                     json.dumps(record["clocks"], sort_keys=True) if "clocks" in record
                     else None,
                     record.get("created_at"), record["device_id"], next_seq(conn), area))
    finally:
        store.close()


def test_bad_rows_a_hub_already_holds_are_quarantined_and_sync_goes_on(hub, team, laptops):
    author = laptops("author", YEARS["stored"])
    demo.generate(author, seed=5, households=4)
    by_table = {record["table"]: record for record in laptop_records(author)}
    assert engine.sync(author).quarantined == 0
    stored_bad = {  # what each does to a laptop without the check, applied on its own
        "out_of_range:birth_year": spoilt(by_table["people"], "birth_year", 2**64),  # Overflow
        "unknown_value:outcome": spoilt(by_table["visit_items"], "outcome", "maybe"),  # CHECK
        "too_long:head_name": spoilt(by_table["households"], "head_name", "A" * 5000),
        "wrong_type:notes": spoilt(by_table["households"], "notes", ["a", "list"]),
        "bad_text:name": spoilt(by_table["hamlets"], "name", "Ấp \ud800"),  # UnicodeEncode
        "out_of_range:sort_order": spoilt(by_table["hamlets"], "sort_order", -(2**70)),
    }
    store_directly(hub, team, list(stored_bad.values()))

    teammate = laptops("teammate")
    teammate.catalog.add_hamlet("Ấp Kinh Mới")  # the teammate's own change, to push
    report = engine.sync(teammate)
    assert report.quarantined == len(stored_bad), held_back(teammate)
    assert held_back(teammate) == {record["id"]: ("pull", reason)
                                   for reason, record in stored_bad.items()}
    assert report.pushed == 1
    for table in ("households", "people", "visit_items", "plots", "lots"):
        assert count(teammate, table) == count(author, table), table
    assert engine.sync(author).quarantined == len(stored_bad)  # the author meets them too
    assert "Ấp Kinh Mới" in {h.name for h in author.catalog.hamlets()}
    again = engine.sync(teammate)
    assert (again.quarantined, again.pushed, again.received) == (0, 0, 0)


def test_a_row_stored_before_types_were_checked_is_held_back_unsent(hub, team, laptops):
    laptop = laptops("laptop", YEARS["held"])
    demo.generate(laptop, seed=9, households=3)
    plot = laptop.farm.orgs.plots()[0]
    member = laptop.catalog.members()[0]
    # An infinite latitude (the plot form once took "inf") and a name over the limit.
    laptop.conn.execute("UPDATE plots SET latitude = 9e999 WHERE id = ?", (plot.id,))
    laptop.conn.execute("UPDATE team_members SET name = ? WHERE id = ?", ("B" * 300, member.id))
    waiting = len(laptop_records(laptop))
    report = engine.sync(laptop)
    assert held_back(laptop) == {plot.id: ("push", "not_finite:latitude"),
                                 member.id: ("push", "too_long:name")}
    assert report.quarantined == 2 and report.pushed == waiting - 2
    assert laptop.pending_changes() == 0
    teammate = laptops("teammate")
    engine.sync(teammate)
    assert count(teammate, "households") == count(laptop, "households")
    assert plot.id not in {p.id for p in teammate.farm.orgs.plots()}
