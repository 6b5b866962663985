"""People: validation, consent, citizen IDs, masking, and the rights to export and delete."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest

from dxkit.core.errors import NotFound, ValidationError
from dxkit.households.search import search
from dxkit.households.visits import VisitItem


@pytest.fixture
def household(ws):
    return ws.households.add(code="MH-001", head_name="Nguyễn Văn An",
                             hamlet="Ấp Mỹ Hưng").value


def person_errors(ws, household, **fields) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        ws.people.add(household.id, **{"full_name": "Trần Thị Bích", **fields})
    return caught.value.fields


def test_add_person_with_all_fields(ws, household):
    result = ws.people.add(household.id, full_name="Trần Thị Bích", sex="Nữ",
                           birth_date="05/09/1968", relationship="Vợ", phone="0162 345 6789",
                           cccd="087 1 68 012345", consent=True, notes="Bán hàng online")
    person = result.value
    assert person.sex == "F"
    assert person.birth_date == dt.date(1968, 9, 5)
    assert person.birth_year == 1968
    assert person.phone == "0323456789"
    assert person.cccd == "087168012345"
    assert person.consent is True
    assert person.age_on(dt.date(2026, 9, 4)) == 57
    assert person.age_on(dt.date(2026, 9, 5)) == 58
    assert ws.people.in_household(household.id) == [person]
    assert ws.people.count() == 1
    assert result.changes.created["people"] == {person.id}


@pytest.mark.parametrize(("raw", "code"), [("Nam", "M"), ("nữ", "F"), ("NU", "F"), ("M", "M"),
                                            ("f", "F"), ("", None), (None, None)])
def test_sex_values(ws, household, raw, code):
    assert ws.people.add(household.id, full_name="A", sex=raw).value.sex == code


@pytest.mark.parametrize(("birth", "date", "year"), [
    ("05/09/1968", dt.date(1968, 9, 5), 1968),
    ("5.9.1968", dt.date(1968, 9, 5), 1968),
    ("05-09-1968", dt.date(1968, 9, 5), 1968),  # as many commune lists write it
    ("5-9-1968", dt.date(1968, 9, 5), 1968),
    ("1968-09-05", dt.date(1968, 9, 5), 1968),
    ("1968", None, 1968),
    (1968, None, 1968),
    (dt.date(2001, 2, 3), dt.date(2001, 2, 3), 2001),
])
def test_birth_forms(ws, household, birth, date, year):
    person = ws.people.add(household.id, full_name="A", birth_date=birth).value
    assert (person.birth_date, person.birth_year) == (date, year)


def test_birth_year_alone(ws, household):
    person = ws.people.add(household.id, full_name="A", birth_year=1950).value
    assert (person.birth_date, person.birth_year) == (None, 1950)
    assert person.age_on(dt.date(2026, 1, 1)) == 76


@pytest.mark.parametrize("birth", ["31/02/1990", "abc", "1850", "2030", "21/11/2026",
                                   "31-02-1990", "05/09-68", "1968-9-5x"])
def test_bad_birth(ws, household, birth):
    # The fixture's today is 20/11/2026, so 21/11/2026 is in the future.
    assert set(person_errors(ws, household, birth_date=birth)) == {"birth"}


def test_all_person_errors_at_once(ws, household):
    fields = person_errors(ws, household, full_name="", sex="x", birth_date="32/13/1990",
                           phone="12", cccd="123")
    assert set(fields) == {"full_name", "sex", "birth", "phone", "cccd"}


def test_person_in_unknown_household(ws):
    with pytest.raises(NotFound):
        ws.people.add("nope", full_name="A")


def test_nfd_name_is_stored_nfc(ws, household):
    person = ws.people.add(household.id, full_name=unicodedata.normalize("NFD", "Lê Thị Ngọc Ánh")
                           ).value
    assert person.full_name == "Lê Thị Ngọc Ánh"
    assert unicodedata.is_normalized("NFC", person.full_name)


# -- consent -----------------------------------------------------------------------------------
@pytest.mark.parametrize("consent", [None, False, 0, "", "Không", "no"])
def test_consent_never_defaults_on(ws, household, consent):
    data = {} if consent is None else {"consent": consent}
    person = ws.people.add(household.id, full_name="A", **data).value
    assert person.consent is False
    assert person.consent_on is None
    assert person.consent_by == ""


@pytest.mark.parametrize("consent", [True, 1, "1", "Có", "yes"])
def test_a_clear_yes_in_any_form_is_consent(ws, household, consent):
    assert ws.people.add(household.id, full_name="A", consent=consent).value.consent is True


@pytest.mark.parametrize("consent", ["maybe", 2, "có lẽ"])
def test_an_unclear_consent_is_refused_not_guessed(ws, household, consent):
    before = ws.people.count()
    with pytest.raises(ValidationError) as error:
        ws.people.add(household.id, full_name="A", consent=consent)
    assert "consent" in error.value.fields
    assert ws.people.count() == before


def test_an_update_writes_only_the_fields_given(ws, household):
    """A stale copy of the other fields must not revert an edit made meanwhile."""
    person = ws.people.add(household.id, full_name="Lê Thị Hai", phone="0912345678").value
    with ws.transaction() as tx:  # another writer changes the phone behind our back
        tx.update("people", person.id, {"phone": "0987654321"})
    ws.people.update(person.id, notes="Cần hỗ trợ thêm")
    assert ws.people.get(person.id).phone == "0987654321"
    with pytest.raises(TypeError):
        ws.people.update(person.id, favourite_colour="xanh")


def test_consent_records_date_and_actor(ws, household):
    ws.settings.set("current_member_id", ws.catalog.member("Phạm Văn Tâm").id)
    person = ws.people.add(household.id, full_name="A").value
    given = ws.people.update(person.id, consent=True).value
    assert given.consent is True
    assert given.consent_on == dt.date(2026, 11, 20)
    assert given.consent_by == "Phạm Văn Tâm"


def test_consent_given_at_creation_is_recorded(ws, household):
    person = ws.people.add(household.id, full_name="A", consent=True).value
    assert person.consent_on == dt.date(2026, 11, 20)
    assert person.consent_by == ws.actor


# -- citizen ID --------------------------------------------------------------------------------
def test_cccd_refused_without_consent(ws, household):
    fields = person_errors(ws, household, sex="Nữ", birth_year=1968, cccd="087168012345")
    assert set(fields) == {"cccd"}
    person = ws.people.add(household.id, full_name="A").value
    with pytest.raises(ValidationError) as caught:
        ws.people.update(person.id, cccd="087168012345")
    assert set(caught.value.fields) == {"cccd"}
    assert ws.people.get(person.id).cccd == ""


@pytest.mark.parametrize(("sex", "birth"), [("Nữ", "1968"), ("F", "01/01/1968"), (None, None)])
def test_cccd_consistent_with_sex_and_birth(ws, household, sex, birth):
    person = ws.people.add(household.id, full_name="A", sex=sex, birth_date=birth,
                           cccd="087168012345", consent=True).value
    assert person.cccd == "087168012345"


@pytest.mark.parametrize(("sex", "birth"), [("Nam", "1968"), ("Nữ", "1969"), ("Nữ", "2068")])
def test_cccd_inconsistent_with_sex_or_birth(ws, household, sex, birth):
    fields = person_errors(ws, household, sex=sex, birth_date=birth, cccd="087168012345",
                           consent=True)
    assert "cccd" in fields


def test_cccd_2000s_digits(ws, household):
    boy = ws.people.add(household.id, full_name="A", sex="Nam", birth_year=2003,
                        cccd="082203001234", consent=True).value
    girl = ws.people.add(household.id, full_name="B", sex="Nữ", birth_year=2005,
                         cccd="079305001234", consent=True).value
    assert (boy.cccd, girl.cccd) == ("082203001234", "079305001234")
    assert set(person_errors(ws, household, sex="Nam", birth_year=1903, cccd="082203001234",
                             consent=True)) == {"cccd"}


def test_consent_withdrawal_clears_cccd(ws, household):
    person = ws.people.add(household.id, full_name="A", sex="Nữ", birth_year=1968,
                           cccd="087168012345", consent=True).value
    withdrawn = ws.people.update(person.id, consent=False).value
    assert withdrawn.consent is False
    assert withdrawn.cccd == ""
    assert withdrawn.consent_on == dt.date(2026, 11, 20)
    stored = ws.conn.execute("SELECT cccd FROM people WHERE id = ?", (person.id,)).fetchone()[0]
    assert stored == ""


def test_masks(ws, household):
    person = ws.people.add(household.id, full_name="A", sex="Nữ", birth_year=1968,
                           phone="0912345678", cccd="087168012345", consent=True).value
    assert person.masked_cccd == "087•••••••45"
    assert person.masked_phone == "0912•••678"
    assert "168012" not in person.masked_cccd
    assert "345" not in person.masked_phone


def test_update_changes_only_given_fields(ws, household):
    person = ws.people.add(household.id, full_name="A", sex="Nữ", birth_date="05/09/1968",
                           phone="0912345678", relationship="Vợ").value
    updated = ws.people.update(person.id, relationship="Chủ hộ").value
    assert updated.relationship == "Chủ hộ"
    assert (updated.full_name, updated.sex, updated.birth_date, updated.phone) == (
        person.full_name, person.sex, person.birth_date, person.phone)
    fields = ws.conn.execute("SELECT fields FROM outbox WHERE row_id = ? ORDER BY seq DESC",
                             (person.id,)).fetchone()[0]
    assert fields == '["relationship"]'
    assert not ws.people.update(person.id, full_name="A").changes


def test_update_keeps_birth_year_only(ws, household):
    person = ws.people.add(household.id, full_name="A", birth_year=1950).value
    updated = ws.people.update(person.id, notes="x").value
    assert (updated.birth_date, updated.birth_year) == (None, 1950)


# -- export and delete ----------------------------------------------------------------------------
def _person_with_history(ws, household):
    person = ws.people.add(household.id, full_name="Trần Thị Bích", sex="Nữ", birth_year=1968,
                           phone="0912345678", cccd="087168012345", consent=True).value
    member = ws.catalog.member("Lê Thị Hoa")
    visit = ws.visits.add(household.id, [VisitItem("vneid_level2", "done", person.id)],
                          member_ids=[member.id]).value
    ws.indicators.answer(person.id, "smartphone", True)
    return person, visit


def test_export_contains_everything(ws, household):
    person, visit = _person_with_history(ws, household)
    exported = ws.people.export(person.id)
    assert exported["person"]["full_name"] == "Trần Thị Bích"
    assert exported["person"]["cccd"] == "087168012345"
    assert exported["person"]["phone"] == "0912345678"
    assert exported["person"]["consent_on"] == "2026-11-20"
    assert exported["household"] == {"code": "MH-001", "hamlet": "Ấp Mỹ Hưng", "address": ""}
    assert [(s["visit_id"], s["support_item_code"], s["outcome"])
            for s in exported["support_received"]] == [(visit.id, "vneid_level2", "done")]
    assert [(a["indicator_code"], a["value"]) for a in exported["indicator_answers"]] == [
        ("smartphone", 1)]
    assert {i["indicator_code"] for i in exported["indicators"]} == {"smartphone",
                                                                     "vneid_level2"}
    assert [c["action"] for c in exported["changes"]] == ["insert"]


def test_delete_purges_personal_fields(ws, household):
    person, visit = _person_with_history(ws, household)
    result = ws.people.delete(person.id)
    assert result.changes.deleted["people"] == {person.id}
    row = ws.conn.execute("SELECT * FROM people WHERE id = ?", (person.id,)).fetchone()
    assert row["deleted"] == 1 and row["purged"] == 1
    for name in ("full_name", "name_key", "phone", "cccd", "relationship", "notes"):
        assert row[name] == "", name
    for name in ("sex", "birth_date", "birth_year", "consent_on", "consent_by"):
        assert row[name] is None, name
    assert row["consent"] == 0
    assert ws.people.get(person.id).deleted
    assert ws.people.in_household(household.id) == []
    assert ws.people.count() == 0
    # Visit items keep pointing at the tombstone; the event history stays intact.
    items = ws.visits.get(visit.id).items
    assert [(i.person_id, i.support_item_code) for i in items] == [(person.id, "vneid_level2")]
    outbox = ws.conn.execute("SELECT op FROM outbox WHERE row_id = ? ORDER BY seq DESC",
                             (person.id,)).fetchone()[0]
    assert outbox == "delete"


def test_delete_removes_from_search_and_indicators(ws, household):
    person, _visit = _person_with_history(ws, household)
    assert [h.tier for h in search(ws.conn, "tran thi bich")] == [2]
    assert search(ws.conn, "0912345")
    ws.people.delete(person.id)
    assert search(ws.conn, "tran thi bich") == []
    assert search(ws.conn, "bich") == []
    assert search(ws.conn, "0912345") == []
    assert ws.indicators.for_person(person.id) == []
    rollup = {r.code: r for r in ws.indicators.rollup()}
    assert rollup["smartphone"].reached == 0
    assert rollup["smartphone"].population == 0
    ws.indicators.recompute()
    assert ws.indicators.for_person(person.id) == []
    with pytest.raises(NotFound):
        ws.people.update(person.id, full_name="Back")
    with pytest.raises(ValidationError):
        ws.indicators.answer(person.id, "smartphone", True)


def test_deleted_person_cannot_be_in_a_new_visit(ws, household):
    person, _visit = _person_with_history(ws, household)
    ws.people.delete(person.id)
    member = ws.catalog.member("Lê Thị Hoa")
    with pytest.raises(ValidationError):
        ws.visits.add(household.id, [VisitItem("smartphone_basics", "done", person.id)],
                      member_ids=[member.id])


def test_update_birth_year_replaces_birth_date(ws, household):
    person = ws.people.add(household.id, full_name="A", birth_date="05/09/1968").value
    updated = ws.people.update(person.id, birth_year=1970).value
    assert (updated.birth_date, updated.birth_year) == (None, 1970)
    redated = ws.people.update(person.id, birth_date="01/02/1971").value
    assert (redated.birth_date, redated.birth_year) == (dt.date(1971, 2, 1), 1971)
