"""Households: every field's validation, NFC storage, updates that touch only what changed."""

from __future__ import annotations

import json
import unicodedata

import pytest

from dxkit.core.errors import NotFound, ValidationError
from dxkit.core.i18n import set_language
from dxkit.households.search import search


def add(ws, **fields):
    data = {"code": "MH-001", "head_name": "Nguyễn Văn An", "hamlet": "Ấp Mỹ Hưng", **fields}
    return ws.households.add(**data).value


def errors_of(ws, **fields) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        add(ws, **fields)
    return caught.value.fields


def test_add_and_read_back(ws):
    result = ws.households.add(code="mh-001", head_name="Nguyễn Văn An", hamlet="my hung",
                               address="Số 12, Ấp Mỹ Hưng", phone="0912 345 678",
                               notes="Nhà có 2 thế hệ", latitude="10,3541", longitude=106.3432)
    household = result.value
    assert household.code == "MH-001"
    assert household.hamlet == "Ấp Mỹ Hưng"
    assert household.phone == "0912345678"
    assert household.latitude == pytest.approx(10.3541)
    assert household.longitude == pytest.approx(106.3432)
    assert result.changes.ids("households") == {household.id}
    assert ws.households.get(household.id) == household
    assert ws.households.by_code("MH-001") == household
    assert ws.households.find("mh 001") == household
    assert ws.households.find(household.id) == household
    assert ws.households.count() == 1
    assert "local_id" not in household.to_dict()


def test_all_bad_fields_are_reported_at_once(ws):
    fields = errors_of(ws, code="", head_name="  ", hamlet="Ấp Không Có", phone="abc",
                       latitude="91", longitude="x")
    assert set(fields) == {"code", "head_name", "hamlet", "phone", "latitude", "longitude"}
    assert all(isinstance(m, str) and m for m in fields.values())
    assert ws.households.count() == 0


def test_code_missing(ws):
    assert set(errors_of(ws, code="")) == {"code"}
    assert set(errors_of(ws, code=None)) == {"code"}


def test_code_too_long(ws):
    assert set(errors_of(ws, code="X" * 41)) == {"code"}


@pytest.mark.parametrize("second", ["MH-001", "mh-001", "Mh 001", "MH/001"])
def test_code_duplicate_case_insensitive(ws, second):
    add(ws)
    fields = errors_of(ws, code=second)
    assert set(fields) == {"code"}
    assert "MH" in fields["code"]


def test_code_duplicate_diacritic_insensitive(ws):
    add(ws, code="ĐH-01")
    assert set(errors_of(ws, code="dh-01")) == {"code"}


def test_code_of_deleted_household_can_be_reused(ws):
    first = add(ws)
    with ws.transaction() as tx:
        tx.delete("households", first.id)
    second = add(ws)
    assert second.id != first.id


def test_head_name_required(ws):
    assert set(errors_of(ws, head_name="")) == {"head_name"}


def test_unknown_hamlet_lists_known_ones(ws):
    message = errors_of(ws, hamlet="Ấp Tân Hòa")["hamlet"]
    for known in ("Ấp Mỹ Hưng", "Khóm 3", "Ấp Đông Hòa"):
        assert known in message
    assert "Ấp Tân Hòa" in message


@pytest.mark.parametrize("typed", ["Ấp Mỹ Hưng", "ap my hung", "my hung", "MY HUNG"])
def test_hamlet_folded_lookup(ws, typed):
    assert add(ws, hamlet=typed).hamlet == "Ấp Mỹ Hưng"


@pytest.mark.parametrize(("raw", "stored"), [
    ("0162 345 6789", "0323456789"),
    ("01693456789", "0393456789"),
    ("0120.123.4567", "0701234567"),
    ("0123 456 7890", "0834567890"),
    ("0186 123 4567", "0561234567"),
    ("0199 123 4567", "0591234567"),
    ("+84 912 345 678", "0912345678"),
    ("84912345678", "0912345678"),
    ("0912.345.678", "0912345678"),
    ("", ""),
])
def test_household_phone_normalised(ws, raw, stored):
    assert add(ws, phone=raw).phone == stored


@pytest.mark.parametrize("raw", ["12345", "0912 34a 678", "091234567890123", "0000000000"])
def test_household_phone_invalid(ws, raw):
    fields = errors_of(ws, phone=raw)
    assert set(fields) == {"phone"}


@pytest.mark.parametrize(("lat", "lon", "bad"), [
    ("10.35", None, {"latitude"}),
    (None, "106.34", {"latitude"}),
    ("50", "106.34", {"latitude"}),
    ("10.35", "150", {"longitude"}),
    ("abc", "106.34", {"latitude"}),
])
def test_gps_range_and_pair_rule(ws, lat, lon, bad):
    assert set(errors_of(ws, latitude=lat, longitude=lon)) == bad


def test_gps_both_empty_is_fine(ws):
    household = add(ws, latitude="", longitude=None)
    assert household.latitude is None and household.longitude is None


def test_nfd_input_is_stored_nfc(ws):
    head = unicodedata.normalize("NFD", "Huỳnh Thị Mỹ Duyên")
    address = unicodedata.normalize("NFD", "Đường Ấp Bắc,  phường Mỹ Tho")
    household = add(ws, head_name=head, address=address)
    stored = ws.conn.execute("SELECT head_name, address FROM households WHERE id = ?",
                             (household.id,)).fetchone()
    assert stored["head_name"] == "Huỳnh Thị Mỹ Duyên"
    assert stored["address"] == "Đường Ấp Bắc, phường Mỹ Tho"
    assert unicodedata.is_normalized("NFC", stored["head_name"])
    assert [h.local_id for h in search(ws.conn, "huynh thi my")] == [household.local_id]


def test_update_changes_only_given_fields(ws):
    household = add(ws, address="Số 1", phone="0912345678", latitude=10.35, longitude=106.34)
    result = ws.households.update(household.id, phone="0987 654 321")
    updated = result.value
    assert updated.phone == "0987654321"
    assert (updated.code, updated.head_name, updated.address, updated.hamlet_id,
            updated.latitude) == (household.code, household.head_name, household.address,
                                  household.hamlet_id, household.latitude)
    fields = ws.conn.execute("SELECT fields FROM outbox WHERE row_id = ? ORDER BY seq DESC",
                             (household.id,)).fetchone()[0]
    assert json.loads(fields) == ["phone"]
    assert result.changes.updated["households"] == {household.id}


def test_update_without_change_writes_nothing(ws):
    household = add(ws, latitude="10.35", longitude="106.34", phone="0912345678")
    before = ws.pending_changes()
    result = ws.households.update(household.id, head_name="Nguyễn  Văn An", code="mh-001")
    assert not result.changes
    assert ws.pending_changes() == before


def test_update_can_move_to_another_hamlet_and_validates(ws):
    household = add(ws)
    moved = ws.households.update(household.id, hamlet="khom 3").value
    assert moved.hamlet == "Khóm 3"
    other = add(ws, code="MH-002")
    with pytest.raises(ValidationError) as caught:
        ws.households.update(other.id, code="MH-001")
    assert set(caught.value.fields) == {"code"}
    assert ws.households.update(household.id, code="MH-001").value.code == "MH-001"


def test_list_local_ids_and_hamlet_filter(ws):
    a = add(ws, code="MH-002")
    b = add(ws, code="MH-001")
    c = add(ws, code="K3-001", hamlet="Khóm 3")
    assert [h.code for h in ws.households.list()] == ["K3-001", "MH-001", "MH-002"]
    hamlet = ws.catalog.hamlet("Ấp Mỹ Hưng")
    assert [h.id for h in ws.households.list(hamlet_id=hamlet.id)] == [b.id, a.id]
    keys = ws.households.local_ids(hamlet_id=hamlet.id)
    assert [h.id for h in ws.households.by_local_ids(keys)] == [b.id, a.id]
    assert ws.households.by_local_ids([c.local_id, 9999]) == [c]
    assert ws.households.by_local_ids([]) == []


def test_missing_household(ws):
    with pytest.raises(NotFound):
        ws.households.get("nope")
    with pytest.raises(NotFound):
        ws.households.by_code("ZZ-9")
    with pytest.raises(NotFound):
        ws.households.find("ZZ-9")


def test_messages_follow_the_language(ws):
    vi = errors_of(ws, code="")["code"]
    set_language("en")
    en = errors_of(ws, code="")["code"]
    assert en == "A household needs a code."
    assert vi != en


def test_household_update_writes_only_the_fields_given(ws):
    household = ws.households.add(code="MH-001", head_name="Nguyễn Văn An",
                                  hamlet="Ấp Mỹ Hưng", phone="0912345678").value
    with ws.transaction() as tx:  # an edit made meanwhile by another process
        tx.update("households", household.id, {"address": "Số 9, Ấp Mỹ Hưng"})
    ws.households.update(household.id, phone="0987654321")
    again = ws.households.get(household.id)
    assert again.address == "Số 9, Ấp Mỹ Hưng" and again.phone == "0987654321"


def test_overlong_text_is_refused_next_to_its_field(ws):
    from dxkit.core.errors import ValidationError

    with pytest.raises(ValidationError) as error:
        ws.households.add(code="MH-002", head_name="A" * 201, hamlet="Ấp Mỹ Hưng",
                          address="x" * 501)
    assert set(error.value.fields) == {"head_name", "address"}
    assert ws.households.count() == 0
