"""GS1 identifiers for lots: GTIN check digits, Digital Link URIs, and dxkit's own lot codes.

Lot codes look like "MDX-261122-007-K": the cooperative's short name, the pack date (YYMMDD),
a sequence number and one check character. They use only the 32 characters of Crockford's
Base32 alphabet (digits and the letters without I, L, O and U), so nothing printed can be
mistaken for something else, and a code typed with "o", "i" or "l" where a digit belongs still
reads correctly. Every character is in the GS1 AI 10 character set and codes stay within its
20 characters, so the same code is the GS1 batch/lot number.

The check character is Damm's algorithm over the field GF(32): with the quasigroup
x ∘ y = 2·x + y (multiplication in GF(2⁵) modulo x⁵ + x² + 1, addition = XOR) the running
value over the body followed by its check character is 0. Rows and columns of ∘ are
permutations, so any single substituted character changes the result, and
(c∘x)∘y = (c∘y)∘x forces x = y (because 2 + 1 ≠ 0), so any swap of two adjacent different
characters does too (H. M. Damm, "Total anti-symmetrische Quasigruppen", 2004).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import quote

from dxkit.core.errors import ValidationError
from dxkit.core.i18n import _
from dxkit.core.text import fold

# ---------------------------------------------------------------------------------------------
# GTIN

GTIN_LENGTHS = (8, 12, 13, 14)


def gtin_check_digit(body: str) -> int:
    """The GS1 check digit for the digits before it: weights 3, 1, 3, 1… from the right,
    (10 − sum mod 10) mod 10."""
    if not body.isdigit() or not body.isascii():
        raise ValidationError({"gtin": _("A GTIN has digits only.")})
    total = sum(int(digit) * (3 if index % 2 == 0 else 1)
                for index, digit in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def is_valid_gtin(code: str) -> bool:
    """True for a GTIN-8, -12, -13 or -14 whose last digit is its check digit."""
    code = (code or "").strip()
    if len(code) not in GTIN_LENGTHS or not code.isdigit() or not code.isascii():
        return False
    return gtin_check_digit(code[:-1]) == int(code[-1])


def gtin14(code: str) -> str:
    """A valid GTIN in its 14-digit form (zeros on the left), the form Digital Link uses."""
    code = (code or "").strip()
    if not is_valid_gtin(code):
        raise ValidationError({"gtin": _(
            "“{gtin}” is not a valid GTIN (8, 12, 13 or 14 digits with a correct check digit)."
        ).format(gtin=code)})
    return code.zfill(14)


def make_gtin14(company_prefix: str, item_reference: str | int, indicator: str = "0") -> str:
    """The GTIN-14 for an item of a GS1 company prefix: indicator digit, prefix, item reference
    (zero-padded to fill 12 digits) and check digit. Vietnam's prefixes start with 893."""
    prefix = (company_prefix or "").strip()
    reference = str(item_reference).strip()
    if not (prefix.isdigit() and prefix.isascii() and 4 <= len(prefix) <= 12):
        raise ValidationError({"company_prefix": _(
            "A GS1 company prefix has 4 to 12 digits.")})
    room = 12 - len(prefix)
    if not (reference.isdigit() and reference.isascii() and len(reference) <= room):
        raise ValidationError({"item_reference": _(
            "With this company prefix the item reference has at most {digits} digits."
        ).format(digits=room)})
    if indicator not in tuple("012345678"):
        raise ValidationError({"indicator": _("The GTIN indicator digit is 0 to 8.")})
    body = indicator + prefix + reference.zfill(room)
    return body + str(gtin_check_digit(body))


# ---------------------------------------------------------------------------------------------
# GS1 Digital Link

# GS1 AI encodable character set 82 (GS1 General Specifications, figure 7.11-1).
_SET_82 = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]+$")
MAX_LOT_LENGTH = 20
MAX_SERIAL_LENGTH = 20
DEFAULT_RESOLVER = "https://id.gs1.org"


def _validate_ai_text(value: str, field: str, label: str, max_length: int) -> str:
    if not value or len(value) > max_length or not _SET_82.match(value):
        raise ValidationError({field: _(
            "{label} “{value}” must be 1 to {max} characters from the GS1 set (letters A–Z, "
            "digits and simple punctuation, no spaces or accents)."
        ).format(label=label, value=value, max=max_length)})
    return value


def validate_lot_for_gs1(lot: str) -> str:
    """The lot as GS1 AI 10 accepts it (≤ 20 characters of set 82); a ValidationError keyed
    "lot" otherwise."""
    return _validate_ai_text(lot, "lot", _("The lot number"), MAX_LOT_LENGTH)


def validate_serial_for_gs1(serial: str) -> str:
    """A serial number as GS1 AI 21 accepts it (≤ 20 characters of set 82)."""
    return _validate_ai_text(serial, "serial", _("The serial number"), MAX_SERIAL_LENGTH)


def digital_link(gtin: str, lot: str, *, resolver: str = DEFAULT_RESOLVER,
                 pack_date: dt.date | None = None, serial: str | None = None) -> str:
    """A GS1 Digital Link URI: <resolver>/01/<GTIN-14>/10/<lot>[/21/<serial>][?13=YYMMDD].
    Lot and serial are percent-encoded where they hold characters outside URI's unreserved
    set, as the Digital Link standard requires."""
    path = f"/01/{gtin14(gtin)}/10/{quote(validate_lot_for_gs1(lot), safe='')}"
    if serial is not None:
        path += f"/21/{quote(validate_serial_for_gs1(serial), safe='')}"
    query = f"?13={pack_date:%y%m%d}" if pack_date is not None else ""
    return resolver.rstrip("/") + path + query


def lot_trace_url(base_url: str, lot_code: str, team_key: str | None = None) -> str:
    """The provincial trace page of a lot when there is no GTIN: <base>/<team key>/<lot code>
    (the team's key, dxkit.farm.trace_ids: lot codes are unique within a team only), or
    <base>/<lot code> for a workspace that has not joined a hub team."""
    team_part = f"{quote(team_key, safe='')}/" if team_key else ""
    return f"{base_url.rstrip('/')}/{team_part}{quote(lot_code, safe='')}"


def qr_payload(lot_code: str, *, trace_base_url: str, gtin: str | None = None,
               resolver: str = DEFAULT_RESOLVER, pack_date: dt.date | None = None,
               serial: str | None = None, team_key: str | None = None) -> str:
    """What a label's QR code holds: the Digital Link URI when the lot has a GTIN (the team's
    key as the extra query parameter t=, which GS1 resolvers pass on), else the trace URL (a
    serial is then appended as ?serial= so unit labels still differ)."""
    if gtin:
        link = digital_link(gtin, lot_code, resolver=resolver, pack_date=pack_date,
                            serial=serial)
        if not team_key:
            return link
        return f"{link}{'&' if '?' in link else '?'}t={quote(team_key, safe='')}"
    url = lot_trace_url(trace_base_url, lot_code, team_key)
    if serial is not None:
        url += f"?serial={quote(validate_serial_for_gs1(serial), safe='')}"
    return url


# ---------------------------------------------------------------------------------------------
# Lot codes

LOT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"      # Crockford Base32: no I, L, O, U
_ORG_LETTERS = LOT_ALPHABET[10:]
_VALUE = {char: index for index, char in enumerate(LOT_ALPHABET)}
# What people type for a character that is not in the alphabet (Crockford's reading rules).
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})
_GF32_MODULUS = 0b100101                                 # x⁵ + x² + 1, irreducible over GF(2)
ORG_MIN, ORG_MAX = 2, 5
MAX_SEQUENCE = 9999


def _times_two(value: int) -> int:
    value <<= 1
    return value ^ _GF32_MODULUS if value & 0b100000 else value


def _damm(chars: str) -> int:
    interim = 0
    for char in chars:
        interim = _times_two(interim) ^ _VALUE[char]
    return interim


def _check_alphabet(body: str) -> None:
    bad = sorted({char for char in body if char not in _VALUE})
    if bad:
        raise ValidationError({"lot": _(
            "A lot code cannot contain {chars}: only digits and the letters {letters}."
        ).format(chars=", ".join(f"“{c}”" for c in bad), letters=LOT_ALPHABET[10:])})


def lot_check_char(body: str) -> str:
    """The check character for `body` (characters of LOT_ALPHABET; dashes are ignored)."""
    chars = body.replace("-", "").upper()
    _check_alphabet(chars)
    return LOT_ALPHABET[_times_two(_damm(chars))]


def has_valid_check_char(text: str) -> bool:
    """True when the last character is the check character of the ones before it."""
    chars = text.replace("-", "").upper()
    return len(chars) >= 2 and all(c in _VALUE for c in chars) and _damm(chars) == 0


@dataclass(frozen=True)
class LotCode:
    org: str
    pack_date: dt.date
    sequence: int
    check: str

    @property
    def code(self) -> str:
        return f"{self.org}-{self.pack_date:%y%m%d}-{self.sequence:03d}-{self.check}"

    def __str__(self) -> str:
        return self.code


def normalize_org_short(org_short: str) -> str:
    """The cooperative's short name as lot codes spell it (upper-case, accents and spaces
    dropped); a ValidationError keyed "org_short" unless it is 2–5 letters of the alphabet."""
    text = re.sub(r"[\s\-_.]", "", fold(org_short).upper())
    letters = _ORG_LETTERS
    if not (ORG_MIN <= len(text) <= ORG_MAX) or any(char not in letters for char in text):
        raise ValidationError({"org_short": _(
            "The short name for lot codes must be {min} to {max} of the letters {letters} "
            "(I, L, O and U are left out because they look like 1, 0 and V)."
        ).format(min=ORG_MIN, max=ORG_MAX, letters=letters)})
    return text


def suggest_org_short(name: str) -> str:
    """A short name for lot codes from an organisation's name: the initials of its words
    (without "HTX"/"Hợp tác xã"), look-alike letters replaced; "HTX Mỹ Đông" -> "MD"."""
    words = [w for w in re.split(r"[^a-z0-9]+", fold(name)) if w]
    while words[:1] == ["htx"]:
        words = words[1:]
    if words[:3] == ["hop", "tac", "xa"]:
        words = words[3:]
    initials = "".join(w[0] for w in words if w[0].isalpha()).upper()
    replaced = initials.replace("I", "Y").replace("L", "R").replace("O", "Q").replace("U", "V")
    replaced = replaced[:ORG_MAX]
    return replaced if len(replaced) >= ORG_MIN else (replaced + "XX")[:ORG_MIN]


def make_lot_code(org_short: str, pack_date: dt.date, sequence: int) -> str:
    """"MD-261122-007-K": org short name, pack date YYMMDD, sequence (≥ 3 digits), check."""
    org = normalize_org_short(org_short)
    if not 2000 <= pack_date.year <= 2099:
        raise ValidationError({"pack_date": _("The pack date must be in the years 2000–2099.")})
    if not 1 <= sequence <= MAX_SEQUENCE:
        raise ValidationError({"sequence": _(
            "The lot number of a day must be between 1 and {max}.").format(max=MAX_SEQUENCE)})
    body = f"{org}{pack_date:%y%m%d}{sequence:03d}"
    return LotCode(org, pack_date, sequence, lot_check_char(body)).code


_SHAPE = re.compile(
    rf"^([{_ORG_LETTERS}]{{{ORG_MIN},{ORG_MAX}}})([0-9]{{6}})([0-9]{{3,4}})([{LOT_ALPHABET}])$")
_DASHED = re.compile(
    rf"^([A-Z]{{{ORG_MIN},{ORG_MAX}}})-([0-9OIL]{{6}})-([0-9OIL]{{3,4}})-([0-9A-Z])$")


def normalize_lot_code(text: str) -> str:
    """The canonical spelling of a typed lot code: upper case, spaces and stray separators
    dropped, dashes where they belong, and o/i/l read as 0/1 where a digit or the check
    character belongs. Text that is not lot-code shaped comes back cleaned but unchanged."""
    cleaned = re.sub(r"[\s_.]", "", fold(text).upper())
    dashed = _DASHED.match(cleaned)
    if dashed:
        org, date_part, sequence, check = dashed.groups()
    else:
        flat = cleaned.replace("-", "")
        # From the right: the check, then a run of 9–10 digit-like characters, then the org
        # (org letters never include O, I or L, so the run is unambiguous).
        run = re.match(r"^([A-Z]*?)([0-9OIL]{9,10})([0-9A-Z])$", flat)
        if not run:
            return cleaned
        org, digits, check = run.groups()
        date_part, sequence = digits[:6], digits[6:]
    candidate = (f"{org}-{date_part.translate(_LOOKALIKES)}-"
                 f"{sequence.translate(_LOOKALIKES)}-{check.translate(_LOOKALIKES)}")
    return candidate if _SHAPE.match(candidate.replace("-", "")) else cleaned


def parse_lot_code(text: str) -> LotCode:
    """The parts of a lot code (after normalize_lot_code); a ValidationError keyed "lot" when
    it is not a lot code or its check character does not match (a typing error)."""
    code = normalize_lot_code(text)
    match = _SHAPE.match(code.replace("-", ""))
    if not match or code.count("-") != 3:
        raise ValidationError({"lot": _(
            "“{text}” is not a lot code such as “MD-261122-007-K”.").format(text=text)})
    org, date_part, sequence, check = match.groups()
    try:
        # Lot codes are dxkit's, made from 2000 on: YY is always 20YY.
        pack_date = dt.date(2000 + int(date_part[:2]), int(date_part[2:4]), int(date_part[4:]))
    except ValueError:
        raise ValidationError({"lot": _(
            "“{text}” is not a lot code: {digits} is not a date (YYMMDD).").format(
                text=text, digits=date_part)}) from None
    if (len(sequence) == 4 and sequence[0] == "0") or int(sequence) == 0:
        raise ValidationError({"lot": _(
            "“{text}” is not a lot code such as “MD-261122-007-K”.").format(text=text)})
    if not has_valid_check_char(code):
        raise ValidationError({"lot": _(
            "The lot code “{text}” has a typing error: its check character does not match."
        ).format(text=text)})
    return LotCode(org, pack_date, int(sequence), check)


def is_valid_lot_code(code: str) -> bool:
    """True for a lot code (as typed: case, spaces and look-alikes tolerated) whose check
    character matches."""
    try:
        parse_lot_code(code)
    except ValidationError:
        return False
    return True
