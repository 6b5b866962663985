"""Erasure sticks and consent means consent (issue "Field safety" §3), on one laptop and
between two laptops that exchange records as a sync does (dxkit.sync.apply, no hub): an
erasure wins over any edit whatever the clocks, no citizen ID stays without consent, derived
rows and the review lists follow, the household loses its erased head, and old copies of the
file that hold the person go."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest

from dxkit.core import erasure, store
from dxkit.core.domain import Domain, Migration
from dxkit.core.synced import dependency_order, record_of, synced_table
from dxkit.households.search import search
from dxkit.households.visits import VisitItem
from dxkit.sync.apply import apply_records
from dxkit.workspace import DOMAINS, Workspace

NAME = "Quách Thị Mỹ Xuyến"
PHONE, OTHER_PHONE = "0398765432", "0387654321"
CCCD, CORRECTED_CCCD = "087180573924", "087180573925"
FROZEN = dt.datetime(2026, 11, 20, 9, 30)


def open_laptop(folder: Path) -> Workspace:
    ws = Workspace.open(folder)
    ws.freeze_time(FROZEN)
    return ws


def send(source: Workspace, target: Workspace, tables: tuple[str, ...] | None = None) -> None:
    """Every row of `tables` (default: all) as a pull would bring it, in dependency order."""
    with target.transaction() as tx:
        for table in dependency_order():
            if tables is None or table in tables:
                ids = [r[0] for r in source.conn.execute(f"SELECT id FROM {table}")]
                apply_records(tx, table, [record_of(source.conn, table, i) for i in ids])


@pytest.fixture
def here(tmp_path: Path):
    ws = open_laptop(tmp_path / "here")
    ws.catalog.add_hamlet("Ấp Mỹ Hưng")
    ws.catalog.add_member("Lê Thị Hoa")
    yield ws
    ws.close()


@pytest.fixture
def there(tmp_path: Path):
    ws = open_laptop(tmp_path / "there")
    yield ws
    ws.close()


def add_head(ws: Workspace, **person: object) -> tuple[str, str]:
    """A household headed by NAME, and NAME in it with consent, phone and citizen ID."""
    household = ws.households.add(code="MH-001", head_name=NAME, hamlet="Ấp Mỹ Hưng",
                                  phone=PHONE).value
    values = {"full_name": NAME, "sex": "Nữ", "birth_year": 1980, "relationship": "Chủ hộ",
              "phone": PHONE, "cccd": CCCD, "consent": True, **person}
    return household.id, ws.people.add(household.id, **values).value.id


def person_row(ws: Workspace, person_id: str) -> sqlite3.Row:
    return ws.conn.execute("SELECT * FROM people WHERE id = ?", (person_id,)).fetchone()


def count(ws: Workspace, sql: str, *args: object) -> int:
    return int(ws.conn.execute(sql, args).fetchone()[0])


def assert_erased(ws: Workspace, person_id: str) -> None:
    row = person_row(ws, person_id)
    assert (row["deleted"], row["purged"], row["consent"]) == (1, 1, 0)
    for name in ("full_name", "name_key", "phone", "cccd", "relationship", "notes"):
        assert row[name] == "", name
    for name in ("sex", "birth_date", "birth_year", "consent_on", "consent_by"):
        assert row[name] is None, name


# -- an erasure wins -----------------------------------------------------------------------------
def test_an_erasure_wins_over_a_later_edit_of_the_phone_on_both_laptops(here, there):
    _household, person = add_head(here)
    send(here, there)
    here.people.delete(person)
    there.people.update(person, phone=OTHER_PHONE)  # offline, after the erasure
    send(here, there, ("people",))  # the erasure reaches the laptop with the edit
    send(there, here, ("people",))  # and the later edit reaches the erasing laptop
    for ws in (here, there):
        assert_erased(ws, person)
        assert record_of(ws.conn, "people", person)["fields"]["phone"] == ""
    assert record_of(here.conn, "people", person) == record_of(there.conn, "people", person)
    assert count(there, "SELECT count(*) FROM sync_conflicts") == 0  # the phone is not listed


def test_an_erased_person_cannot_be_edited_back_locally(here):
    _household, person = add_head(here)
    here.people.delete(person)
    with here.transaction() as tx:  # past the service's refusal: the kernel's rule holds
        assert tx.update("people", person, {"phone": OTHER_PHONE, "purged": 0}) == []
    assert_erased(here, person)


# -- consent -----------------------------------------------------------------------------------
def test_a_citizen_id_corrected_while_consent_was_withdrawn_elsewhere_is_cleared(here, there):
    _household, person = add_head(here)
    send(here, there)
    here.people.update(person, consent=False)
    there.people.update(person, cccd=CORRECTED_CCCD)  # later clock, still with consent there
    send(here, there, ("people",))
    send(there, here, ("people",))
    for ws in (here, there):
        row = person_row(ws, person)
        assert (row["consent"], row["cccd"]) == (0, "")
        assert count(ws, "SELECT count(*) FROM sync_conflicts WHERE field = 'cccd'") == 0
    assert record_of(here.conn, "people", person) == record_of(there.conn, "people", person)


def test_withdrawing_consent_takes_the_citizen_id_out_of_the_review_list(here, there):
    _household, person = add_head(here)
    send(here, there)
    here.people.update(person, cccd=CORRECTED_CCCD)
    there.people.update(person, cccd=CCCD.replace("924", "926"))
    send(here, there, ("people",))  # a same-field conflict: both IDs listed on `there`
    assert count(there, "SELECT count(*) FROM sync_conflicts WHERE field = 'cccd'") == 1
    there.people.update(person, consent=False)
    assert count(there, "SELECT count(*) FROM sync_conflicts WHERE field = 'cccd'") == 0


def test_a_quarantined_record_keeps_no_citizen_id_without_consent(here, there):
    _household, person = add_head(here)
    send(here, there, ("hamlets", "households"))
    record = record_of(here.conn, "people", person)
    record["fields"].update(consent=0, surprise="x")  # unknown field: quarantined
    with there.transaction() as tx:
        assert apply_records(tx, "people", [record]) == ["quarantined"]
    kept = there.conn.execute("SELECT record FROM sync_quarantine").fetchone()[0]
    assert CCCD not in kept and NAME in kept


# -- derived rows, review lists, the head of household ------------------------------------------
def with_history(ws: Workspace, person: str, household: str) -> None:
    member = ws.catalog.member("Lê Thị Hoa")
    ws.visits.add(household, [VisitItem("vneid_level2", "done", person)],
                  member_ids=[member.id])
    ws.indicators.answer(person, "smartphone", True)


def test_an_erasure_received_by_sync_takes_the_derived_rows_with_it(here, there):
    household, person = add_head(here)
    with_history(here, person, household)
    send(here, there)
    assert {i.code for i in there.indicators.for_person(person)} == {"smartphone",
                                                                      "vneid_level2"}
    here.people.delete(person)
    send(here, there, ("people",))
    assert there.indicators.for_person(person) == []
    assert {r.code: r.reached for r in there.indicators.rollup()}["smartphone"] == 0
    assert search(there.conn, "xuyen") == [] and search(there.conn, PHONE) == []


def test_an_erasure_clears_the_review_lists_here_and_where_it_arrives(here, there):
    _household, person = add_head(here)
    send(here, there)
    here.people.update(person, phone=OTHER_PHONE)
    there.people.update(person, phone="0911111111")
    send(here, there, ("people",))  # the phone conflict is listed on `there`
    bad = record_of(here.conn, "people", person)
    bad["fields"]["surprise"] = NAME  # a field nobody knows: the copy is quarantined
    with there.transaction() as tx:
        apply_records(tx, "people", [bad])  # and a damaged copy is quarantined
    with here.transaction() as tx:
        apply_records(tx, "people", [bad])
    assert count(there, "SELECT count(*) FROM sync_conflicts WHERE row_id = ?", person) == 1
    assert count(there, "SELECT count(*) FROM sync_quarantine WHERE row_id = ?", person) == 1
    here.people.delete(person)
    assert count(here, "SELECT count(*) FROM sync_quarantine WHERE row_id = ?", person) == 0
    send(here, there, ("people",))
    for ws in (here, there):
        assert count(ws, "SELECT count(*) FROM sync_conflicts WHERE row_id = ?", person) == 0
        assert count(ws, "SELECT count(*) FROM sync_quarantine WHERE row_id = ?", person) == 0


def test_the_erased_head_takes_the_household_head_fields(here):
    household, person = add_head(here)
    here.people.delete(person)
    head = here.households.get(household)
    assert (head.head_name, head.phone) == ("", "")
    assert count(here, "SELECT count(*) FROM households WHERE head_key != ''") == 0
    assert search(here.conn, "quach") == []
    # The household stays editable until a new head is entered.
    assert here.households.update(household, address="Số 7").value.address == "Số 7"
    assert here.households.update(household, head_name="Trần Văn Tư").value.head_name == (
        "Trần Văn Tư")


def test_another_member_erased_leaves_the_head_but_takes_their_phone(here):
    household, _head = add_head(here)
    other = here.people.add(household, full_name="Lê Văn Bảy", relationship="Con",
                            phone="0911222333").value
    here.households.update(household, phone="0911222333")
    here.people.delete(other.id)
    kept = here.households.get(household)
    assert (kept.head_name, kept.phone) == (NAME, "")


def test_an_erasure_received_clears_a_head_name_typed_meanwhile(here, there):
    household, person = add_head(here)
    send(here, there)
    there.households.update(household, head_name=NAME.upper())  # offline, unsent
    here.people.delete(person)
    send(here, there)
    head = there.households.get(household)
    assert (head.head_name, head.phone) == ("", "")
    assert count(there, "SELECT count(*) FROM sync_conflicts WHERE row_id = ?", household) == 0
    assert there.pending_changes() > 0  # the clearing goes to the other laptops in turn
    send(there, here, ("households",))
    assert here.households.get(household).head_name == ""


# -- copies of the file --------------------------------------------------------------------------
def _noop(_db: object) -> None:
    """A migration that changes nothing: enough for the open to back the file up first."""


def test_backups_that_hold_the_person_are_replaced_by_one_without_them(tmp_path, monkeypatch):
    folder = tmp_path / "ws"
    ws = open_laptop(folder)
    ws.catalog.add_hamlet("Ấp Mỹ Hưng")
    _household, person = add_head(ws)
    ws.close()
    monkeypatch.setattr(Workspace, "domains",
                        (*DOMAINS, Domain("later", migrations=(Migration("9001_later", _noop),))))
    ws = open_laptop(folder)
    holding = {b.path.name for b in ws.backups()}
    assert any(name.startswith("before-9001_later-") for name in holding)
    unrelated = ws.path / "backups" / "before-9000_older-20260101T000000Z.sqlite"
    store.connect(unrelated, ws.key).close()  # an empty copy: made before the person existed
    ws.people.delete(person)
    left = {b.path.name for b in ws.backups()}
    ws.close()
    assert unrelated.name in left and not holding & left
    assert any(name.startswith("after-erasure-") for name in left)


def test_after_erasure_hooks_hear_of_every_erased_row(here, monkeypatch):
    heard: list[tuple[Path, dict[str, set[str]]]] = []
    monkeypatch.setattr(erasure, "_AFTER_ERASURE", [])
    erasure.register_after_erasure(
        lambda folder, rows, _opener: heard.append((folder, dict(rows))))
    _household, person = add_head(here)
    here.people.update(person, notes="x")
    assert heard == []
    here.people.delete(person)
    assert heard == [(here.path, {"people": {person}})]


def test_a_copy_that_cannot_be_read_is_removed_and_one_without_the_rows_stays(tmp_path):
    damaged, clean = tmp_path / "damaged.sqlite", tmp_path / "clean.sqlite"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    sqlite3.connect(clean).close()
    def opener(path: Path) -> sqlite3.Connection:
        return sqlite3.connect(f"{path.resolve().as_uri()}?immutable=1", uri=True)

    assert erasure.drop_copies_holding([damaged, clean], {"people": {"p-1"}}, opener) == [
        damaged]
    assert clean.exists()


def test_the_audit_log_names_fields_and_keeps_no_value(here, there):
    _household, person = add_head(here)
    here.people.update(person, phone=OTHER_PHONE)
    send(here, there)
    here.people.delete(person)
    send(here, there, ("people",))
    known = {*synced_table("people").fields, "deleted"}
    for ws in (here, there):
        rows = ws.conn.execute("SELECT fields FROM audit_log WHERE row_id = ?", (person,))
        logged = [json.loads(fields) for (fields,) in rows]
        assert logged and all(set(names) <= known for names in logged)
