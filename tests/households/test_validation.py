"""Phone numbers and citizen IDs, checked without a workspace."""

from __future__ import annotations

import pytest

from dxkit.core.errors import ValidationError
from dxkit.core.phones import OLD_MOBILE_PREFIXES, mask_phone, normalize_phone
from dxkit.households.cccd import birth_year_from_cccd, century_and_sex, mask_cccd, validate_cccd


# -- phones ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("old", "new"), [
    ("0162", "032"), ("0163", "033"), ("0164", "034"), ("0165", "035"), ("0166", "036"),
    ("0167", "037"), ("0168", "038"), ("0169", "039"),
    ("0120", "070"), ("0121", "079"), ("0122", "077"), ("0126", "076"), ("0128", "078"),
    ("0123", "083"), ("0124", "084"), ("0125", "085"), ("0127", "081"), ("0129", "082"),
    ("0186", "056"), ("0188", "058"), ("0199", "059"),
])
def test_every_old_mobile_prefix_is_renumbered(old, new):
    assert OLD_MOBILE_PREFIXES[old] == new
    assert normalize_phone(old + "2345678") == new + "2345678"


@pytest.mark.parametrize(("raw", "normal"), [
    ("0912345678", "0912345678"),
    ("0912 345 678", "0912345678"),
    ("0912.345.678", "0912345678"),
    ("0912-345-678", "0912345678"),
    ("(0912) 345 678", "0912345678"),
    ("+84 912 345 678", "0912345678"),
    ("+84912345678", "0912345678"),
    ("84912345678", "0912345678"),
    ("+84 162 345 6789", "0323456789"),
    ("0277 3851 234", "02773851234"),  # Đồng Tháp landline keeps its 11 digits
    # Kept as numbers in a spreadsheet, they lost their leading zero: it goes back.
    ("912345678", "0912345678"),
    ("912 345 678", "0912345678"),
    ("1682345678", "0382345678"),  # an old 11-digit mobile, then renumbered
    ("2773851234", "02773851234"),  # a landline
    ("  ", ""),
    (None, ""),
])
def test_normalize_phone(raw, normal):
    assert normalize_phone(raw) == normal


@pytest.mark.parametrize("raw", ["091234567", "09123456789", "0912a45678", "abc", "+1 202 555 0100",
                                 "0012345678", "01612345678", "112345678", "9123456789",
                                 "12345"])
def test_invalid_phone(raw):
    with pytest.raises(ValidationError) as caught:
        normalize_phone(raw)
    assert set(caught.value.fields) == {"phone"}
    assert caught.value.fields["phone"]


def test_phone_error_uses_given_field():
    with pytest.raises(ValidationError) as caught:
        normalize_phone("12", field="member_phone")
    assert set(caught.value.fields) == {"member_phone"}


def test_mask_phone():
    assert mask_phone("0912345678") == "0912•••678"
    assert mask_phone("02773851234") == "0277••••234"
    assert mask_phone("") == ""


# -- citizen IDs -------------------------------------------------------------------------------
@pytest.mark.parametrize(("cccd", "year", "sex"), [
    ("087168012345", 1968, "F"),   # 087 Đồng Tháp, 1 = 1900s female, 68
    ("082068012345", 1968, "M"),   # 0 = 1900s male
    ("079203012345", 2003, "M"),   # 2 = 2000s male
    ("001305012345", 2005, "F"),   # 3 = 2000s female
    ("001300012345", 2000, "F"),
    ("087199012345", 1999, "F"),
])
def test_century_sex_and_year(cccd, year, sex):
    assert birth_year_from_cccd(cccd) == year
    assert century_and_sex(cccd)[1] == sex
    assert validate_cccd(cccd, year, sex) == cccd
    assert validate_cccd(cccd) == cccd


@pytest.mark.parametrize("raw", ["08716801234", "0871680123456", "08716801234x", "087-168-012345",
                                 "٠٨٧١٦٨٠١٢٣٤٥"])
def test_cccd_needs_12_digits(raw):
    with pytest.raises(ValidationError) as caught:
        validate_cccd(raw)
    assert set(caught.value.fields) == {"cccd"}


def test_full_width_digits_become_ascii():
    assert validate_cccd("０８７１６８０１２３４５") == "087168012345"
    assert normalize_phone("０９１２ ３４５ ６７８") == "0912345678"


def test_cccd_spaces_are_removed():
    assert validate_cccd(" 087 1 68 012345 ") == "087168012345"
    assert validate_cccd("") == "" and validate_cccd(None) == ""


@pytest.mark.parametrize(("year", "sex"), [(1969, "F"), (2068, "F"), (1968, "M")])
def test_cccd_contradicting_birth_or_sex(year, sex):
    with pytest.raises(ValidationError) as caught:
        validate_cccd("087168012345", year, sex)
    message = caught.value.fields["cccd"]
    assert message
    if year != 1968:
        assert "1968" in message and str(year) in message


def test_cccd_province_prefix_is_not_checked_against_34_provinces():
    # 087 (old Đồng Tháp) and 082 (old Tiền Giang) are pre-2025 codes and must stay valid.
    assert validate_cccd("082168012345", 1968, "F") == "082168012345"
    assert validate_cccd("095168012345") == "095168012345"


def test_mask_cccd():
    assert mask_cccd("087168012345") == "087•••••••45"
    assert mask_cccd("") == ""
