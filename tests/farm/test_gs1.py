"""GTIN check digits, GS1 Digital Link URIs (cross-checked with biip) and dxkit lot codes."""

from __future__ import annotations

import datetime as dt

import pytest
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gtin import Gtin
from hypothesis import given
from hypothesis import strategies as st

from dxkit.core.errors import ValidationError
from dxkit.farm.gs1 import (
    LOT_ALPHABET,
    LotCode,
    digital_link,
    gtin14,
    gtin_check_digit,
    has_valid_check_char,
    is_valid_gtin,
    is_valid_lot_code,
    lot_check_char,
    lot_trace_url,
    make_gtin14,
    make_lot_code,
    normalize_lot_code,
    normalize_org_short,
    parse_lot_code,
    qr_payload,
    suggest_org_short,
    validate_lot_for_gs1,
    validate_serial_for_gs1,
)
from dxkit.farm.trace_ids import TEAM_KEY_LENGTH, normalize_team_key, team_trace_key

# Published GTINs (GS1 examples and retail products) with their check digits.
KNOWN_GTINS = ["4006381333931", "96385074", "036000291452", "00614141123452",
               "10614141000415", "5901234123457", "9780306406157"]


@pytest.mark.parametrize("code", KNOWN_GTINS)
def test_known_gtins_have_the_check_digit_we_compute(code):
    assert gtin_check_digit(code[:-1]) == int(code[-1])
    assert is_valid_gtin(code)
    Gtin.parse(code)      # biip agrees these are GTINs


@pytest.mark.parametrize("code", ["4006381333932", "96385075", "1234567", "123456789012345",
                                  "40063813339a1", "", "４００６３８１３３３９３１"])
def test_invalid_gtins(code):
    assert not is_valid_gtin(code)


def test_gtin_check_digit_rejects_non_digits():
    with pytest.raises(ValidationError):
        gtin_check_digit("12a4")


@given(st.text(alphabet="0123456789", min_size=7, max_size=13).filter(
    lambda body: len(body) + 1 in (8, 12, 13, 14)))
def test_check_digit_agrees_with_biip(body):
    code = body + str(gtin_check_digit(body))
    assert is_valid_gtin(code)
    assert Gtin.parse(code).check_digit == int(code[-1])
    wrong = body + str((gtin_check_digit(body) + 1) % 10)
    assert not is_valid_gtin(wrong)


def test_make_gtin14():
    code = make_gtin14("8930000", "123")
    assert code == "08930000001238"
    assert is_valid_gtin(code)
    assert Gtin.parse(code).value == code
    assert make_gtin14("893123456", 7, indicator="1").startswith("1893123456007")
    assert gtin14("4006381333931") == "04006381333931"


@pytest.mark.parametrize(("prefix", "reference", "indicator", "field"), [
    ("89", "1", "0", "company_prefix"), ("8930000x", "1", "0", "company_prefix"),
    ("8930000", "123456", "0", "item_reference"), ("8930000", "1", "9", "indicator"),
])
def test_make_gtin14_rejects(prefix, reference, indicator, field):
    with pytest.raises(ValidationError) as caught:
        make_gtin14(prefix, reference, indicator)
    assert field in caught.value.fields


def test_digital_link_shape():
    gtin = make_gtin14("8930000", "123")
    assert digital_link(gtin, "MD-261122-007-5") == \
        "https://id.gs1.org/01/08930000001238/10/MD-261122-007-5"
    uri = digital_link("4006381333931", "A/B", resolver="https://trace.dongthap.gov.vn/",
                       pack_date=dt.date(2026, 11, 22), serial="0001")
    assert uri == ("https://trace.dongthap.gov.vn/01/04006381333931/10/A%2FB/21/0001"
                   "?13=261122")


def test_digital_link_rejects_bad_lots_and_gtins():
    with pytest.raises(ValidationError):
        digital_link("4006381333932", "LOT1")
    for lot in ("", "X" * 21, "LÔ 1", "lot 1", "a~b"):
        with pytest.raises(ValidationError) as caught:
            digital_link("4006381333931", lot)
        assert "lot" in caught.value.fields
    with pytest.raises(ValidationError) as caught:
        validate_serial_for_gs1("S" * 21)
    assert "serial" in caught.value.fields


_SET_82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"


def _element(uri: GS1DigitalLinkURI, ai: str):
    return next(e for e in uri.element_strings if e.ai.ai == ai)


@given(body=st.text(alphabet="0123456789", min_size=12, max_size=12),
       lot=st.text(alphabet=_SET_82, min_size=1, max_size=20),
       serial=st.none() | st.text(alphabet=_SET_82, min_size=1, max_size=20),
       pack_date=st.none() | st.dates(min_value=dt.date(2000, 1, 1),
                                      max_value=dt.date(2049, 12, 31)))
def test_digital_link_parses_back_with_biip(body, lot, serial, pack_date):
    gtin = body + str(gtin_check_digit(body))
    uri = GS1DigitalLinkURI.parse(digital_link(gtin, lot, pack_date=pack_date, serial=serial))
    assert _element(uri, "01").value == gtin.zfill(14)
    assert _element(uri, "10").value == lot
    if serial is None:
        assert all(e.ai.ai != "21" for e in uri.element_strings)
    else:
        assert _element(uri, "21").value == serial
    if pack_date is None:
        assert all(e.ai.ai != "13" for e in uri.element_strings)
    else:
        assert _element(uri, "13").date == pack_date


def test_trace_url_and_qr_payload():
    code = make_lot_code("MD", dt.date(2026, 11, 22), 7)
    base = "https://truyxuat.dongthap.gov.vn/lo/"
    assert lot_trace_url(base, code) == f"https://truyxuat.dongthap.gov.vn/lo/{code}"
    assert qr_payload(code, trace_base_url=base) == lot_trace_url(base, code)
    assert qr_payload(code, trace_base_url=base, serial="12").endswith("?serial=12")
    gtin = make_gtin14("8930000", "123")
    payload = qr_payload(code, trace_base_url=base, gtin=gtin, pack_date=dt.date(2026, 11, 22))
    assert payload == digital_link(gtin, code, pack_date=dt.date(2026, 11, 22))


def test_payloads_name_the_team_when_given_its_key():
    code = make_lot_code("MD", dt.date(2026, 11, 22), 7)
    base = "https://truyxuat.dongthap.gov.vn/t/"
    key = team_trace_key("team-1")
    assert lot_trace_url(base, code, key) == f"{base}{key}/{code}"
    assert qr_payload(code, trace_base_url=base, team_key=key, serial="3") == \
        f"{base}{key}/{code}?serial=3"
    gtin = make_gtin14("8930000", "123")
    plain = qr_payload(code, trace_base_url=base, gtin=gtin)
    assert qr_payload(code, trace_base_url=base, gtin=gtin, team_key=key) == f"{plain}?t={key}"
    dated = qr_payload(code, trace_base_url=base, gtin=gtin, team_key=key, serial="4",
                       pack_date=dt.date(2026, 11, 22))
    assert dated.endswith(f"/21/4?13=261122&t={key}")
    # Still a GS1 Digital Link to an independent parser: the key is an extra parameter.
    uri = GS1DigitalLinkURI.parse(dated)
    assert _element(uri, "10").value == code and _element(uri, "21").value == "4"


def test_team_keys_are_short_distinct_and_read_back_as_typed():
    keys = {team_trace_key(f"team-{n}") for n in range(2000)}
    assert len(keys) == 2000
    key = team_trace_key("0f6e2b9a-3c1d-4e5f-8a7b-9c0d1e2f3a4b")
    assert key == team_trace_key("0f6e2b9a-3c1d-4e5f-8a7b-9c0d1e2f3a4b")  # stable
    assert len(key) == TEAM_KEY_LENGTH and set(key) <= set(LOT_ALPHABET)
    assert normalize_team_key(key.lower()) == key
    assert normalize_team_key(f" {key[:4]}-{key[4:]} ") == key
    assert normalize_team_key("K7M2Q9XO") == "K7M2Q9X0"  # O read as 0
    for bad in ("", "K7M2Q9X", "K7M2Q9XAB", "K7M2Q9X!", "K7M2Q9XĐ"):
        assert normalize_team_key(bad) is None


# --- lot codes ---------------------------------------------------------------------------


def test_make_lot_code_shape():
    code = make_lot_code("md", dt.date(2026, 11, 22), 7)
    assert code.startswith("MD-261122-007-")
    assert len(code) == 15
    assert code[-1] in LOT_ALPHABET
    assert is_valid_lot_code(code)
    assert parse_lot_code(code) == LotCode("MD", dt.date(2026, 11, 22), 7, code[-1])
    assert str(parse_lot_code(code)) == code


def test_longest_lot_code_is_gs1_safe():
    code = make_lot_code("ABCDE", dt.date(2099, 12, 31), 9999)
    assert len(code) <= 20
    assert validate_lot_for_gs1(code) == code
    assert not set(code) & set("ILOU")


@pytest.mark.parametrize(("org", "sequence", "year"), [
    ("M", 1, 2026), ("ABCDEF", 1, 2026), ("MĐI", 1, 2026), ("M2", 1, 2026), ("MD", 0, 2026),
    ("MD", 10000, 2026), ("MD", 1, 1999), ("MD", 1, 2100)])
def test_make_lot_code_rejects(org, sequence, year):
    with pytest.raises(ValidationError):
        make_lot_code(org, dt.date(year, 11, 22), sequence)


def test_org_short_is_folded_and_explained():
    assert normalize_org_short("m đ") == "MD"
    with pytest.raises(ValidationError) as caught:
        normalize_org_short("LH")
    assert "org_short" in caught.value.fields
    assert "I, L, O" in caught.value.message


@pytest.mark.parametrize(("name", "short"), [
    ("HTX Mỹ Đông", "MD"), ("Hợp tác xã Nông nghiệp Mỹ Đông II", "NNMDY"),
    ("HTX Long Hòa", "RH"), ("Sen", "SX"),
])
def test_suggest_org_short_gives_valid_short_names(name, short):
    assert suggest_org_short(name) == short
    assert normalize_org_short(short) == short


def test_normalize_lot_code_tolerates_typing():
    code = make_lot_code("MD", dt.date(2026, 11, 22), 7)
    for typed in (code.lower(), code.replace("-", " "), code.replace("-", ""),
                  f"  {code.lower().replace('-', '')} ", code.replace("0", "o"),
                  code.replace("1", "l"), code.replace("1", "I").replace("-", "")):
        assert normalize_lot_code(typed) == code
        assert is_valid_lot_code(typed)


def test_normalize_leaves_other_text_alone():
    assert normalize_lot_code("hello") == "HELLO"
    assert not is_valid_lot_code("hello")


def test_parse_lot_code_errors_say_why():
    code = make_lot_code("MD", dt.date(2026, 11, 22), 7)
    wrong = code[:-1] + ("A" if code[-1] != "A" else "B")
    with pytest.raises(ValidationError) as caught:
        parse_lot_code(wrong)
    assert "ký tự kiểm tra" in caught.value.message
    with pytest.raises(ValidationError) as caught:
        parse_lot_code("MD-261322-007-5")
    assert "261322" in caught.value.message
    with pytest.raises(ValidationError):
        parse_lot_code("MD-261122-0007-" + lot_check_char("MD2611220007"))


def test_lot_check_char_rejects_ambiguous_letters():
    with pytest.raises(ValidationError):
        lot_check_char("MO261122007")


_BODIES = st.text(alphabet=LOT_ALPHABET, min_size=1, max_size=19)


@given(body=_BODIES)
def test_check_char_detects_every_single_substitution(body):
    code = body + lot_check_char(body)
    assert has_valid_check_char(code)
    for position in range(len(code)):
        for replacement in LOT_ALPHABET:
            if replacement != code[position]:
                changed = code[:position] + replacement + code[position + 1:]
                assert not has_valid_check_char(changed)


@given(body=_BODIES)
def test_check_char_detects_every_adjacent_transposition(body):
    code = body + lot_check_char(body)
    for index in range(len(code) - 1):
        if code[index] != code[index + 1]:
            swapped = code[:index] + code[index + 1] + code[index] + code[index + 2:]
            assert not has_valid_check_char(swapped)


def test_check_char_exhaustively_on_two_character_bodies():
    for first in LOT_ALPHABET:
        for second in LOT_ALPHABET:
            code = first + second + lot_check_char(first + second)
            assert has_valid_check_char(code)
            if first != second:
                assert not has_valid_check_char(second + first + code[2])
            if second != code[2]:
                assert not has_valid_check_char(first + code[2] + second)


@given(org=st.text(alphabet=LOT_ALPHABET[10:], min_size=2, max_size=5),
       pack_date=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31)),
       sequence=st.integers(min_value=1, max_value=9999))
def test_lot_codes_round_trip(org, pack_date, sequence):
    code = make_lot_code(org, pack_date, sequence)
    assert len(code) <= 20 and validate_lot_for_gs1(code) == code
    assert parse_lot_code(code) == LotCode(org, pack_date, sequence, code[-1])
    assert normalize_lot_code(code.lower().replace("-", "")) == code
    assert normalize_lot_code(" ".join(code.split("-"))) == code
