"""Erasure and consent through the hub (issue "Field safety" §3): the hub merges with the
tables' rules exactly as the laptops do; an erasure that arrives by sync clears the head of
household on the laptop that receives it; and after an erasure no byte of the workspace folder
holds the person's name, phone or citizen ID in any form — not in the database, its journal,
its free pages, the search index, the review lists or a backup."""

from __future__ import annotations

import contextlib
import datetime as dt
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest

from dxkit.core.domain import Domain, Migration
from dxkit.core.encryption import WorkspaceKeys
from dxkit.core.synced import record_of
from dxkit.core.text import folded_key
from dxkit.sync import engine
from dxkit.sync.apply import apply_records
from dxkit.sync.hub.store import HubStore
from dxkit.workspace import DOMAINS, Workspace
from tests.support.derived import assert_derived_agree
from tests.support.places import ensure_hamlet, unique_commune
from tests.support.sqlcipher_pages import plain_bytes
from tests.support.workspace_file import open_file

HUB_BACKENDS = ("sqlite", "postgresql")
SQLITE_ONLY = {"test_no_byte_of_the_workspace_holds_an_erased_person",
               "test_no_byte_of_the_hub_file_holds_an_erased_person",
               "test_an_erasure_by_sync_clears_the_head_on_the_receiving_laptop"}
DONG_THAP, MY_THO = "82", "28261"
HAMLET = "Ấp Mỹ Hưng"
NAME = "Quách Thị Mỹ Xuyến"
PHONES = ("0398765432", "0387654321", "0376543210")
CCCD = "087180573924"
NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def file_tokens(monkeypatch):
    monkeypatch.setenv("DXKIT_TOKEN_STORE", "file")


# -- the hub's merge -------------------------------------------------------------------------------
@pytest.fixture
def hub_store(hub_db: str) -> Iterator[HubStore]:
    hub = HubStore(hub_db, now=lambda: NOW)
    yield hub
    hub.close()


def two_devices(hub: HubStore, make_record):
    """Two devices of the team of HAMLET, and the household "hh-1" its people live in."""
    team = hub.add_team(int(DONG_THAP), int(MY_THO), HAMLET)
    devices = []
    for name in ("a", "b"):
        code, _expires = hub.issue_code(team.id)
        _device_id, token, _team = hub.enroll(code, name)
        devices.append(hub.authenticate(token))
    home = make_record("households", "hh-1", code="MH-001", hamlet_id=team.hamlets[0].id)
    assert hub.push(devices[0], [home]).results[0]["status"] == "applied"
    return devices


def person(make_record, device: str, ms: int, clocks: dict[str, int] | None = None,
           **fields):
    values = {"household_id": "hh-1", "full_name": NAME, "phone": PHONES[0], "cccd": CCCD,
              "consent": 1, **fields}
    return make_record("people", "p-1", device=device, ms=ms, clocks=clocks, **values)


ERASED = {"full_name": "", "name_key": "", "phone": "", "cccd": "", "consent": 0,
          "purged": 1, "deleted": 1}


def test_the_hub_keeps_an_erasure_against_a_later_edit(hub_store, make_record):
    a, b = two_devices(hub_store, make_record)
    hub_store.push(a, [person(make_record, "aaaa", 1)])
    erased = person(make_record, "aaaa", 1, clocks=dict.fromkeys(ERASED, 5), **ERASED)
    hub_store.push(a, [erased])
    later = person(make_record, "bbbb", 1, clocks={"phone": 9, "purged": 9, "deleted": 9},
                   phone=PHONES[1], purged=0, deleted=0)
    assert hub_store.push(b, [later]).results[0]["status"] == "applied"  # newer clocks kept
    [stored] = hub_store.pull(b, "people").records  # back to the editor: it is not theirs
    assert {name: stored["fields"][name] for name in ERASED} == ERASED
    assert stored["clocks"]["phone"].startswith(f"{9:012x}")


@pytest.fixture
def sqlite_without_secure_delete(monkeypatch):
    """SQLite as Python ships it on Windows: built without SECURE_DELETE on by default."""
    from dxkit.sync.hub import database

    plain_connect = database.sqlite3.connect

    def connect(*args, **kwargs):
        conn = plain_connect(*args, **kwargs)
        conn.execute("PRAGMA secure_delete = OFF")
        return conn

    monkeypatch.setattr(database.sqlite3, "connect", connect)


def test_no_byte_of_the_hub_file_holds_an_erased_person(sqlite_without_secure_delete, hub_db,
                                                        make_record):
    """The hub's SQLite file zeroes what an erasure overwrote (secure_delete): the old row's
    page content is not left in free space for anyone who copies the file."""
    hub_store = HubStore(hub_db, now=lambda: NOW)
    assert hub_store.conn.scalar("PRAGMA secure_delete") == 1  # set by the hub itself
    a, _b = two_devices(hub_store, make_record)
    hub_store.push(a, [person(make_record, "aaaa", 1)])
    hub_store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the row is in the file itself
    before = Path(hub_db).read_bytes()
    assert PHONES[0].encode() in before and CCCD.encode() in before  # the scan can see them
    erased = person(make_record, "aaaa", 1, clocks=dict.fromkeys(ERASED, 5), **ERASED)
    hub_store.push(a, [erased])
    hub_store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    hub_store.close()
    held = b"".join(path.read_bytes() for path in Path(hub_db).parent.glob("hub.sqlite*"))
    for secret in (NAME, PHONES[0], CCCD):
        assert secret.encode("utf-8") not in held, secret


def test_the_hub_keeps_no_citizen_id_without_consent(hub_store, make_record):
    a, b = two_devices(hub_store, make_record)
    hub_store.push(a, [person(make_record, "aaaa", 1)])
    hub_store.push(a, [person(make_record, "aaaa", 1, clocks={"consent": 5, "cccd": 5},
                              consent=0, cccd="")])
    corrected = person(make_record, "bbbb", 1, clocks={"cccd": 9}, cccd="087180573925")
    hub_store.push(b, [corrected])
    [stored] = hub_store.pull(b, "people").records
    assert (stored["fields"]["consent"], stored["fields"]["cccd"]) == (0, "")


def test_a_new_row_that_breaks_the_rules_is_stored_ruled_and_sent_back(hub_store, make_record):
    a, _b = two_devices(hub_store, make_record)
    careless = person(make_record, "aaaa", 3, purged=1, deleted=1)  # erased, yet a phone
    assert hub_store.push(a, [careless]).results[0]["status"] == "applied"
    [stored] = hub_store.pull(a, "people").records  # not what it sent: it gets it back
    assert {name: stored["fields"][name] for name in ERASED} == ERASED


# -- laptops through the real hub ------------------------------------------------------------------
@pytest.fixture
def laptops(tmp_path, hub_for_test) -> Iterator[dict[str, Workspace]]:
    province, commune = unique_commune()  # teams of one hamlet share its rows
    team = hub_for_test.admin("team", "add", "--province", province, "--commune", commune,
                              "--hamlet", HAMLET)["team_id"]
    opened = {}
    for name in ("a", "b"):
        code = hub_for_test.admin("enroll-code", "--team", team)["code"]
        ws = Workspace.open(tmp_path / name)
        engine.enroll(ws, hub_for_test.url, code, device_name=name)
        opened[name] = ws
    yield opened
    for ws in opened.values():
        ws.close()


def add_head(ws: Workspace) -> tuple[str, str]:
    ensure_hamlet(ws, HAMLET)
    household = ws.households.add(code="MH-001", head_name=NAME, hamlet=HAMLET,
                                  phone=PHONES[0], address="Số 9, Ấp Mỹ Hưng").value
    made = ws.people.add(household.id, full_name=NAME, sex="Nữ", birth_year=1980,
                         relationship="Chủ hộ", phone=PHONES[0], cccd=CCCD, consent=True)
    return household.id, made.value.id


def sync_all(*laptops: Workspace) -> None:
    for ws in (*laptops, *laptops):
        report = engine.sync(ws)
        assert report.quarantined == 0, report


def test_an_erasure_by_sync_clears_the_head_on_the_receiving_laptop(laptops):
    a, b = laptops["a"], laptops["b"]
    household, head = add_head(a)
    sync_all(a, b)
    b.households.update(household, head_name=NAME.upper(), phone=PHONES[2])  # offline
    a.people.delete(head)
    sync_all(a, b)  # b pulls the erasure before pushing its edit: it clears the head
    for ws in (a, b):
        row = ws.households.get(household)
        assert (row.head_name, row.phone) == ("", ""), ws.path.name
        assert ws.conn.execute("SELECT count(*) FROM sync_conflicts").fetchone()[0] == 0
    assert record_of(a.conn, "households", household) == record_of(
        b.conn, "households", household)
    assert_derived_agree([a, b])


# -- no byte left ------------------------------------------------------------------------------
def forms() -> dict[str, bytes]:
    """Every form the person's data could be stored in: NFC and NFD, lower and folded (as the
    search index keeps words), each distinctive word on its own, and the digits."""
    texts = {"NFC": NAME, "NFD": unicodedata.normalize("NFD", NAME), "lower": NAME.lower(),
             "lower NFD": unicodedata.normalize("NFD", NAME.lower()),
             "folded": folded_key(NAME), "folded word quach": "quach",
             "folded word xuyen": "xuyen", "word Quách": "Quách", "word Xuyến": "Xuyến",
             "NFD word Xuyến": unicodedata.normalize("NFD", "Xuyến"), "CCCD": CCCD}
    texts.update({f"phone {phone}": phone for phone in PHONES})
    return {label: text.encode("utf-8") for label, text in texts.items()}


def traces(folder: Path) -> dict[str, list[str]]:
    """file -> the forms found in its bytes, for every file under the workspace folder: its
    bytes as they are, and its pages decrypted with the workspace key (the database, its log
    and its backups are encrypted; an erasure must leave nothing even to the key's holder)."""
    key = WorkspaceKeys(folder).key()
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if path.suffix == ".sqlite" or path.name.endswith((".sqlite-wal", ".sqlite-shm")):
                data += plain_bytes(path, key)
            hits = [label for label, form in forms().items() if form in data]
            if hits:
                found[str(path.relative_to(folder))] = hits
    return found


def _noop(_db: object) -> None:
    """A later migration: opening the workspace backs it up first."""


def reopen_with_a_migration(ws: Workspace, monkeypatch) -> Workspace:
    folder = ws.path
    ws.close()
    monkeypatch.setattr(Workspace, "domains",
                        (*DOMAINS, Domain("later", migrations=(Migration("9001_later", _noop),))))
    return Workspace.open(folder)


def test_no_byte_of_the_workspace_holds_an_erased_person(laptops, monkeypatch):
    a, b = laptops["a"], laptops["b"]
    household, erased = add_head(a)
    a.people.update(erased, phone=PHONES[1], notes="Bán hàng online")  # an edit
    org = a.farm.orgs.add("HTX Nông nghiệp Mỹ An", address="Xã Mỹ An").value
    member = a.farm.orgs.add_member(org, person_id=erased, role="Xã viên").value  # her name
    sync_all(a, b)
    a.people.update(erased, phone=PHONES[2])
    b.people.update(erased, phone=PHONES[0])
    sync_all(b, a)  # a same-field conflict, listed on a with both phones
    assert a.conn.execute("SELECT count(*) FROM sync_conflicts").fetchone()[0] > 0
    damaged = record_of(a.conn, "people", erased)
    damaged["fields"]["nickname"] = NAME  # a copy nobody can store: quarantined whole
    for ws in (a, b):
        with ws.transaction() as tx:
            assert apply_records(tx, "people", [damaged]) == ["quarantined"]
    a = reopen_with_a_migration(a, monkeypatch)  # a backup before the upgrade holds her
    a.people.update(erased, notes="Hẹn quay lại")  # her row's page in the write-ahead log
    before = traces(a.path)  # the scan sees what is there: in the file, its log, the backup
    assert {"dxkit.sqlite", "dxkit.sqlite-wal"} <= set(before) and traces(b.path)
    assert any(name.startswith("backups/before-9001_later") for name in before)
    a.people.delete(erased)
    sync_all(a, b)
    assert a.households.get(household).head_name == b.households.get(household).head_name == ""
    assert a.farm.orgs.member(member.id).name == b.farm.orgs.member(member.id).name == ""
    for ws in (a, b):
        assert traces(ws.path) == {}, ws.path.name  # open, as the app leaves it
        assert_derived_agree([ws])
    for ws in (a, b):
        ws.close()
        assert traces(ws.path) == {}, ws.path.name
    with contextlib.closing(open_file(a.path)) as check:  # still sound
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
