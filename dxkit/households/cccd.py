"""Citizen ID (Căn cước / CCCD): 12 digits, century/sex digit consistent with the birth date."""

from __future__ import annotations

import unicodedata

from dxkit.core.errors import ValidationError
from dxkit.core.i18n import _


def century_and_sex(cccd: str) -> tuple[int, str]:
    """The 4th digit: 0/1 -> 1900s male/female, 2/3 -> 2000s, 4/5 -> 2100s, ..."""
    digit = int(cccd[3])
    return 1900 + (digit // 2) * 100, "M" if digit % 2 == 0 else "F"


def birth_year_from_cccd(cccd: str) -> int:
    century, _sex = century_and_sex(cccd)
    return century + int(cccd[4:6])


def validate_cccd(
    cccd: str | None, birth_year: int | None = None, sex: str | None = None, field: str = "cccd"
) -> str:
    """Return the cleaned number ('' if none) or raise with a sentence for the form."""
    # NFKC: full-width digits become ASCII; other scripts' digits stay and are refused.
    value = "".join(unicodedata.normalize("NFKC", cccd or "").split())
    if not value:
        return ""
    if len(value) != 12 or not (value.isascii() and value.isdigit()):
        raise ValidationError({field: _("A citizen ID (CCCD) has exactly 12 digits.")})
    year = birth_year_from_cccd(value)
    _century, id_sex = century_and_sex(value)
    if birth_year is not None and birth_year != year:
        raise ValidationError({field: _(
            "This citizen ID belongs to someone born in {id_year}, but the birth year given is "
            "{year}.").format(id_year=year, year=birth_year)})
    if sex in ("M", "F") and sex != id_sex:
        raise ValidationError({field: _(
            "The sex digit of this citizen ID says {id_sex}, but the person is recorded as "
            "{sex}.").format(id_sex=sex_label(id_sex), sex=sex_label(sex))})
    return value


def mask_cccd(cccd: str) -> str:
    """Lists never show a full ID: '087195012345' -> '087•••••••45'."""
    if not cccd:
        return ""
    return cccd[:3] + "•" * (len(cccd) - 5) + cccd[-2:]


def sex_label(sex: str | None) -> str:
    return {"M": _("male"), "F": _("female")}.get(sex or "", "")
