"""Units of the farm diary: exact conversions, typed spellings, Vietnamese formatting."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dxkit.core import i18n
from dxkit.core.errors import DxError, ValidationError
from dxkit.farm.units import (
    UNITS,
    Dose,
    Quantity,
    convert,
    format_quantity,
    parse_amount,
    parse_unit,
    to_ha,
    to_kg,
    to_liters,
    to_m2,
)


@pytest.mark.parametrize(("value", "source", "target", "expected"), [
    (1, "tan", "kg", "1000"),
    (1, "ta", "kg", "100"),
    (1, "yen", "kg", "10"),
    (2500, "g", "kg", "2.5"),
    (3, "ta", "tan", "0.3"),
    (7, "yen", "ta", "0.7"),
    (1.2, "tan", "yen", "120"),
    (1500, "ml", "l", "1.5"),
    (2, "l", "ml", "2000"),
    (1, "ha", "m2", "10000"),
    (1, "cong", "m2", "1000"),
    (10, "cong", "ha", "1"),
    (2500, "m2", "cong", "2.5"),
])
def test_conversions(value, source, target, expected):
    assert convert(value, source, target) == Decimal(expected)


def test_floats_convert_as_written_not_as_binary():
    assert convert(1.1, "tan", "kg") == Decimal("1100")
    assert to_kg(0.1, "ta") == Decimal("10")


def test_cong_size_is_configurable():
    assert to_ha(1, "cong") == Decimal("0.1")
    assert to_ha(1, "cong", cong_m2=1296) == Decimal("0.1296")
    assert to_m2(1, "cong", cong_m2=500) == Decimal("500")
    assert convert(1, "ha", "cong", cong_m2=500) == Decimal("20")
    with pytest.raises(ValidationError) as caught:
        to_ha(1, "cong", cong_m2=0)
    assert "cong_m2" in caught.value.fields


def test_shortcuts():
    assert to_kg(2, "tấn") == Decimal("2000")
    assert to_liters(250, "ml") == Decimal("0.25")
    assert to_ha(5000, "m²") == Decimal("0.5")


@pytest.mark.parametrize(("text", "code"), [
    ("tấn", "tan"), ("tan", "tan"), ("T", "tan"), ("Tấn", "tan"), ("tonne", "tan"),
    ("tạ", "ta"), ("ta", "ta"), ("yến", "yen"), ("kg", "kg"), ("Kg", "kg"), ("ký", "kg"),
    ("g", "g"), ("gam", "g"), ("l", "l"), ("L", "l"), ("lít", "l"), ("litre", "l"),
    ("ml", "ml"), ("mL", "ml"), ("ha", "ha"), ("héc-ta", "ha"), ("hecta", "ha"),
    ("công", "cong"), ("cong", "cong"), ("CÔNG", "cong"), ("m²", "m2"), ("m2", "m2"),
    ("mét vuông", "m2"), ("  kg ", "kg"),
])
def test_parse_unit_accepts_what_people_type(text, code):
    assert parse_unit(text) == code


def test_unknown_unit_is_a_sentence_listing_the_units():
    with pytest.raises(ValidationError) as caught:
        parse_unit("thúng")
    assert "thúng" in caught.value.message
    assert "tấn" in caught.value.message and "công" in caught.value.message
    assert set(caught.value.fields) == {"unit"}


@pytest.mark.parametrize(("source", "target"), [("kg", "ha"), ("l", "kg"), ("cong", "ml")])
def test_mass_volume_and_area_do_not_mix(source, target):
    with pytest.raises(DxError) as caught:
        convert(1, source, target)
    assert isinstance(caught.value, ValidationError)
    assert "unit" in caught.value.fields


def test_mixing_message_in_both_languages():
    with pytest.raises(ValidationError) as caught:
        convert(1, "kg", "ha")
    assert caught.value.message == "Không thể đổi kg sang ha: khối lượng không phải là diện tích."
    i18n.set_language("en")
    with pytest.raises(ValidationError) as caught:
        convert(1, "l", "tan")
    assert caught.value.message == "l cannot be converted to t: a volume is not a mass."


def test_format_quantity_vietnamese_and_english():
    assert format_quantity(1200, "kg") == "1.200 kg"
    assert format_quantity(Decimal("1.5"), "tan") == "1,5 tấn"
    assert format_quantity(Decimal("1200.000"), "kg") == "1.200 kg"
    assert format_quantity(3, "cong") == "3 công"
    assert format_quantity(250, "m2") == "250 m²"
    assert format_quantity(1, "ha", decimals=2) == "1,00 ha"
    i18n.set_language("en")
    assert format_quantity(1200, "kg") == "1,200 kg"
    assert format_quantity(2.5, "tan") == "2.5 t"


@pytest.mark.parametrize(("text", "expected"), [
    ("1200", "1200"), ("1.200", "1200"), ("1.234.567", "1234567"), ("1,5", "1.5"),
    ("1.5", "1.5"), ("0,25", "0.25"), ("1.234,5", "1234.5"), ("1,234.5", "1234.5"),
    ("12.50", "12.50"), (" 7 ", "7"), ("-2", "-2"),
])
def test_parse_amount_reads_vietnamese_numbers(text, expected):
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["", "abc", "1,2,3.4.5", "1..2,3,4"])
def test_parse_amount_rejects_non_numbers(text):
    with pytest.raises(ValidationError):
        parse_amount(text)


def test_quantity():
    quantity = Quantity(1.5, "tấn")
    assert quantity.unit == "tan" and quantity.value == Decimal("1.5")
    assert quantity.kind == "mass"
    assert quantity.to("kg") == Quantity(1500, "kg")
    assert quantity.in_base() == Decimal("1500")
    assert str(quantity) == "1,5 tấn"
    assert Quantity.parse("1.200 kg") == Quantity(1200, "kg")
    assert Quantity.parse("1,5tạ") == Quantity(Decimal("1.5"), "ta")
    assert Quantity.parse("3 công").to("ha") == Quantity(Decimal("0.3"), "ha")
    with pytest.raises(ValidationError):
        Quantity.parse("kg")


def test_dose():
    dose = Dose(1.5, "l", "ha")
    assert dose.format() == "1,5 l/ha"
    assert Dose.parse("1,5 l/ha") == dose
    assert Dose.parse("500 ml / công") == Dose(500, "ml", "cong")
    assert Dose.parse("25 kg per ha") == Dose(25, "kg", "ha")
    assert str(Dose(500, "ml", "công")) == "500 ml/công"
    assert Dose(500, "ml", "cong").per_ha() == Dose(5000, "ml", "ha")
    assert Dose(500, "ml", "cong").per_ha(cong_m2=1296).amount.quantize(Decimal("0.01")) \
        == Decimal("3858.02")
    assert Dose(1.5, "l", "ha").total_for(Quantity(3, "cong")) == Quantity(Decimal("0.45"), "l")
    with pytest.raises(ValidationError):
        Dose(1, "ha", "ha")
    with pytest.raises(ValidationError):
        Dose(1, "l", "kg")
    with pytest.raises(ValidationError):
        Dose.parse("1,5 l")


def test_every_unit_has_names_in_both_languages():
    for unit in UNITS.values():
        assert unit.symbol_vi and unit.symbol_en and unit.name_vi and unit.name_en


_DECIMALS = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("1000000"), places=3,
                        allow_nan=False, allow_infinity=False)
_KINDS = {kind: [u.code for u in UNITS.values() if u.kind == kind]
          for kind in ("mass", "volume", "area")}
_PAIRS = st.sampled_from(list(_KINDS.values())).flatmap(
    lambda codes: st.tuples(st.sampled_from(codes), st.sampled_from(codes)))


@given(value=_DECIMALS, pair=_PAIRS)
def test_convert_round_trips_exactly(value, pair):
    source, target = pair
    assert convert(convert(value, source, target), target, source) == value


@given(value=_DECIMALS, cong_m2=st.integers(min_value=300, max_value=2000),
       target=st.sampled_from(["ha", "m2"]))
def test_convert_round_trips_with_any_cong_size(value, cong_m2, target):
    back = convert(convert(value, "cong", target, cong_m2), target, "cong", cong_m2)
    assert abs(back - value) <= Decimal("1e-20") * max(value, 1)


@given(value=_DECIMALS)
def test_conversion_through_kg_agrees_with_direct(value):
    assert convert(value, "tan", "yen") == to_kg(value, "tan") / 10


@given(value=st.decimals(min_value=Decimal("-1000000000"), max_value=Decimal("1000000000"),
                         places=3, allow_nan=False, allow_infinity=False))
def test_vietnamese_formatting_parses_back(value):
    text = format_quantity(value, "kg")
    assert text.endswith(" kg")
    assert parse_amount(text[:-3]) == value
    assert Quantity.parse(text) == Quantity(value, "kg")
