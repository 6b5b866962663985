"""Vietnamese phone numbers: normalise to the 10/11-digit national form and validate."""

from __future__ import annotations

import functools
import re
import unicodedata

import phonenumbers

from dxkit.core.errors import ValidationError
from dxkit.core.i18n import _

# Mobile prefixes renumbered in 2018-2019 (11 digits -> 10 digits), from DOMAIN.md.
OLD_MOBILE_PREFIXES = {
    **{f"016{d}": f"03{d}" for d in "23456789"},
    "0120": "070", "0121": "079", "0122": "077", "0126": "076", "0128": "078",
    "0123": "083", "0124": "084", "0125": "085", "0127": "081", "0129": "082",
    "0186": "056", "0188": "058", "0199": "059",
}
_SEPARATORS = re.compile(r"[\s.\-()/]")


def normalize_phone(raw: str | None, field: str = "phone") -> str:
    """'+84 162 345 6789' -> '0323456789'. Empty stays empty; anything invalid raises."""
    # NFKC turns full-width digits (some keyboards and PDFs) into ASCII ones before storing.
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw or "").strip())
    if not text:
        return ""
    if text.startswith("+84"):
        text = "0" + text[3:]
    elif text.startswith("84") and len(text) in (11, 12):
        text = "0" + text[2:]
    if not (text.isascii() and text.isdigit()):
        raise ValidationError({field: _("The phone number {value} has characters that are not "
                                        "digits.").format(value=raw)})
    if not text.startswith("0") and len(text) in (9, 10):
        # A number kept as a number in a spreadsheet lost its leading zero: 912345678 (a
        # mobile), 1682345678 (an old 11-digit mobile), 2773851234 (a landline). The zero
        # goes back; what is left must still be a valid number below.
        text = "0" + text
    if len(text) == 11:
        text = renumbered_prefix(text)
    if not _is_valid(text):
        raise ValidationError({field: _("{value} is not a valid Vietnamese phone number "
                                        "(mobile numbers have 10 digits, e.g. 0912 345 678)."
                                        ).format(value=raw)})
    return text


@functools.lru_cache(maxsize=8192)
def _is_valid(digits: str) -> bool:
    """libphonenumber's check (the slow part of an import: a list gives each number on
    every row of its household)."""
    if len(digits) < 3 or digits[0] != "0" or digits[1] == "0":  # "00…" dials abroad
        return False
    # The national digits after the trunk 0, as parse("0…", "VN") gives them, without its cost.
    number = phonenumbers.PhoneNumber(country_code=84, national_number=int(digits[1:]))
    return bool(phonenumbers.is_valid_number(number))


def renumbered_prefix(digits: str) -> str:
    """The new form of an old mobile number, or of the start of one as it is being typed."""
    if len(digits) >= 4 and digits[:4] in OLD_MOBILE_PREFIXES:
        return OLD_MOBILE_PREFIXES[digits[:4]] + digits[4:]
    return digits


def mask_phone(phone: str) -> str:
    """Lists show only the last three digits: '0912345678' -> '0912•••678'."""
    if len(phone) < 7:
        return phone
    return phone[:4] + "•" * (len(phone) - 7) + phone[-3:]


def spaced_phone(phone: str) -> str:
    """A stored number as it is read out and dialled: '0912345678' -> '0912 345 678',
    '02773851234' -> '0277 385 1234'. Anything else is shown as it is."""
    if phone.isdigit() and len(phone) in (10, 11):
        return f"{phone[:4]} {phone[4:7]} {phone[7:]}"
    return phone
