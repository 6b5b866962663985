"""Units a farm diary uses: mass (kg, tấn, tạ, yến, g), volume (l, ml) and area (ha, công, m²).

Values are Decimal so conversions are exact (1 tạ is exactly 100 kg). One "công" is usually
1,000 m² in the Mekong Delta, but other sizes are in use (the older "công tầm lớn" of
1,296 m², for one), so every area conversion takes `cong_m2`, which the workspace keeps as a
setting. parse_amount reads numbers the Vietnamese way (dot groups thousands, comma marks
decimals) and also accepts a decimal point where that cannot be a thousands separator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

from dxkit.core.errors import ValidationError
from dxkit.core.i18n import _, format_number, language
from dxkit.core.text import fold

Kind = Literal["mass", "volume", "area"]
Number = Decimal | float | int | str

DEFAULT_CONG_M2 = 1000


@dataclass(frozen=True)
class Unit:
    code: str
    kind: Kind
    factor: Decimal | None       # in kg, l or m² (None: công, which is configurable)
    symbol_vi: str
    symbol_en: str
    name_vi: str
    name_en: str

    @property
    def symbol(self) -> str:
        return self.symbol_vi if language() == "vi" else self.symbol_en

    @property
    def name(self) -> str:
        return self.name_vi if language() == "vi" else self.name_en


UNITS: dict[str, Unit] = {unit.code: unit for unit in (
    Unit("g", "mass", Decimal("0.001"), "g", "g", "gam", "gram"),
    Unit("kg", "mass", Decimal(1), "kg", "kg", "ki-lô-gam", "kilogram"),
    Unit("yen", "mass", Decimal(10), "yến", "yến", "yến (10 kg)", "yến (10 kg)"),
    Unit("ta", "mass", Decimal(100), "tạ", "quintal", "tạ (100 kg)", "quintal (tạ, 100 kg)"),
    Unit("tan", "mass", Decimal(1000), "tấn", "t", "tấn (1.000 kg)", "tonne (1,000 kg)"),
    Unit("ml", "volume", Decimal("0.001"), "ml", "ml", "mi-li-lít", "millilitre"),
    Unit("l", "volume", Decimal(1), "l", "l", "lít", "litre"),
    Unit("m2", "area", Decimal(1), "m²", "m²", "mét vuông", "square metre"),
    Unit("cong", "area", None, "công", "công", "công", "công (local area unit)"),
    Unit("ha", "area", Decimal(10000), "ha", "ha", "héc-ta", "hectare"),
)}

BASE_UNIT: dict[Kind, str] = {"mass": "kg", "volume": "l", "area": "m2"}

# Folded spellings people type (see text.fold): diacritics, case and spaces do not matter.
_ALIASES = {
    "g": "g", "gr": "g", "gam": "g", "gram": "g", "grams": "g",
    "kg": "kg", "kgs": "kg", "ky": "kg", "ki": "kg", "kilo": "kg", "kilogram": "kg",
    "kilogam": "kg", "ki lo": "kg", "ki lo gam": "kg",
    "yen": "yen",
    "ta": "ta", "quintal": "ta", "q": "ta",
    "tan": "tan", "t": "tan", "tonne": "tan", "tonnes": "tan", "ton": "tan", "tons": "tan",
    "ml": "ml", "mililit": "ml", "mi li lit": "ml", "millilitre": "ml", "milliliter": "ml",
    "cc": "ml",
    "l": "l", "lit": "l", "litre": "l", "litres": "l", "liter": "l", "liters": "l",
    "m2": "m2", "m²": "m2", "m^2": "m2", "met vuong": "m2", "sqm": "m2", "square metre": "m2",
    "square meter": "m2",
    "cong": "cong",
    "ha": "ha", "hecta": "ha", "hec ta": "ha", "hectare": "ha", "hectares": "ha",
}


def parse_unit(text: str) -> str:
    """The unit code for what a person typed: "tấn", "T", "m²", "công", "Lít" -> a code."""
    key = fold(text).replace("-", " ").replace(".", "")
    key = re.sub(r"\s+", " ", key).strip()
    code = _ALIASES.get(key) or _ALIASES.get(key.replace(" ", ""))
    if code is None:
        raise ValidationError({"unit": _("Unknown unit “{unit}”. Use one of: {units}.").format(
            unit=text, units=", ".join(u.symbol for u in UNITS.values()))})
    return code


def unit(code_or_text: str) -> Unit:
    """The Unit for a code or anything parse_unit accepts."""
    return UNITS.get(code_or_text) or UNITS[parse_unit(code_or_text)]


def to_decimal(value: Number) -> Decimal:
    """Exact Decimal of a number (floats through their shortest repr, so 1.1 stays 1.1)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    try:
        return Decimal(value)
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({"quantity": _("“{value}” is not a number.").format(
            value=value)}) from None


def factor(code: str, cong_m2: Number = DEFAULT_CONG_M2) -> Decimal:
    """How many base units (kg, l, m²) one of `code` is."""
    found = unit(code)
    if found.factor is None:
        size = to_decimal(cong_m2)
        if size <= 0:
            raise ValidationError({"cong_m2": _("One công must be a positive number of m².")})
        return size
    return found.factor


def _kind_label(kind: Kind) -> str:
    return {"mass": _("a mass"), "volume": _("a volume"), "area": _("an area")}[kind]


def convert(value: Number, from_unit: str, to_unit: str,
            cong_m2: Number = DEFAULT_CONG_M2) -> Decimal:
    """`value` in `from_unit` expressed in `to_unit` (exact). Mass, volume and area do not mix:
    a ValidationError says why (keyed "unit")."""
    source, target = unit(from_unit), unit(to_unit)
    if source.kind != target.kind:
        raise ValidationError({"unit": _(
            "{source} cannot be converted to {target}: {source_kind} is not {target_kind}."
        ).format(source=source.symbol, target=target.symbol,
                 source_kind=_kind_label(source.kind), target_kind=_kind_label(target.kind))})
    amount = to_decimal(value)
    if source.code == target.code:
        return amount
    return amount * factor(source.code, cong_m2) / factor(target.code, cong_m2)


def to_kg(value: Number, unit_code: str) -> Decimal:
    return convert(value, unit_code, "kg")


def to_liters(value: Number, unit_code: str) -> Decimal:
    return convert(value, unit_code, "l")


def to_ha(value: Number, unit_code: str, cong_m2: Number = DEFAULT_CONG_M2) -> Decimal:
    return convert(value, unit_code, "ha", cong_m2)


def to_m2(value: Number, unit_code: str, cong_m2: Number = DEFAULT_CONG_M2) -> Decimal:
    return convert(value, unit_code, "m2", cong_m2)


def _plain(value: Decimal) -> Decimal | int:
    """Drop trailing zeros so babel shows 1.200 not 1.200,000 (and integers as integers)."""
    if value == value.to_integral_value():
        return int(value)
    return value.normalize()


def format_amount(value: Number, decimals: int | None = None) -> str:
    """A number in the current language: "1.200", "1,5" in Vietnamese."""
    amount = to_decimal(value)
    if decimals is None:
        return format_number(_plain(amount))
    return format_number(amount, decimals)


def format_quantity(value: Number, unit_code: str, decimals: int | None = None) -> str:
    """"1.200 kg", "1,5 tấn", "3 công" in Vietnamese; "1,200 kg" in English."""
    return f"{format_amount(value, decimals)} {unit(unit_code).symbol}"


_NUMBER = re.compile(r"^[+-]?\d[\d.,\s]*$")


def parse_amount(text: str) -> Decimal:
    """A number as typed in Vietnam: "1.200" is 1200, "1,5" and "1.5" are 1.5, "1.234,5" is
    1234.5. A dot followed by exactly three digits (and repeated dots) groups thousands, as in
    Vietnamese writing; a comma is a decimal comma unless a dot follows it ("1,234.5")."""
    raw = (text or "").strip().replace("\u00a0", "").replace(" ", "")
    if not raw or not _NUMBER.match(raw):
        raise ValidationError({"quantity": _("“{value}” is not a number.").format(value=text)})
    last_dot, last_comma = raw.rfind("."), raw.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        decimal_mark = "." if last_dot > last_comma else ","
        group_mark = "," if decimal_mark == "." else "."
        cleaned = raw.replace(group_mark, "").replace(decimal_mark, ".")
    elif last_comma >= 0:
        cleaned = raw.replace(",", ".") if raw.count(",") == 1 else raw.replace(",", "")
    elif raw.count(".") > 1 or (last_dot >= 0 and len(raw) - last_dot - 1 == 3):
        cleaned = raw.replace(".", "")
    else:
        cleaned = raw
    if cleaned.count(".") > 1:
        raise ValidationError({"quantity": _("“{value}” is not a number.").format(value=text)})
    return to_decimal(cleaned)


@dataclass(frozen=True)
class Quantity:
    """An amount with its unit code: Quantity(1.5, "tan"). Accepts unit spellings ("tấn")."""

    value: Decimal
    unit: str

    def __init__(self, value: Number, unit: str):
        object.__setattr__(self, "value", to_decimal(value))
        object.__setattr__(self, "unit", parse_unit(unit) if unit not in UNITS else unit)

    @property
    def kind(self) -> Kind:
        return UNITS[self.unit].kind

    def to(self, unit_code: str, cong_m2: Number = DEFAULT_CONG_M2) -> Quantity:
        return Quantity(convert(self.value, self.unit, unit_code, cong_m2), unit_code)

    def in_base(self, cong_m2: Number = DEFAULT_CONG_M2) -> Decimal:
        """In kg, l or m²."""
        return convert(self.value, self.unit, BASE_UNIT[self.kind], cong_m2)

    def format(self, decimals: int | None = None) -> str:
        return format_quantity(self.value, self.unit, decimals)

    def __str__(self) -> str:
        return self.format()

    @classmethod
    def parse(cls, text: str) -> Quantity:
        """"1.200 kg", "1,5tấn", "3 công"."""
        match = re.match(r"^\s*([+-]?\d[\d.,\s]*?)\s*([^\d\s.,].*?)\s*$", text or "")
        if not match:
            raise ValidationError({"quantity": _(
                "“{value}” is not a quantity such as “1.200 kg”.").format(value=text)})
        return cls(parse_amount(match.group(1)), match.group(2))


@dataclass(frozen=True)
class Dose:
    """An application rate: `amount` of `unit` (mass or volume) per `per` (an area unit), e.g.
    Dose(1.5, "l", "ha") or Dose(500, "ml", "cong")."""

    amount: Decimal
    unit: str
    per: str

    def __init__(self, amount: Number, unit: str, per: str = "ha"):
        unit_code = unit if unit in UNITS else parse_unit(unit)
        per_code = per if per in UNITS else parse_unit(per)
        if UNITS[unit_code].kind == "area":
            raise ValidationError({"dose": _("A dose is a mass or a volume, not an area.")})
        if UNITS[per_code].kind != "area":
            raise ValidationError({"dose": _("A dose is given per area (ha, công or m²).")})
        object.__setattr__(self, "amount", to_decimal(amount))
        object.__setattr__(self, "unit", unit_code)
        object.__setattr__(self, "per", per_code)

    def per_ha(self, cong_m2: Number = DEFAULT_CONG_M2) -> Dose:
        """The same rate per hectare, in the dose's own unit (500 ml/công -> 5.000 ml/ha)."""
        return Dose(self.amount / to_ha(1, self.per, cong_m2), self.unit, "ha")

    def total_for(self, area: Quantity, cong_m2: Number = DEFAULT_CONG_M2) -> Quantity:
        """How much product a plot of `area` takes at this rate."""
        areas = convert(area.value, area.unit, self.per, cong_m2)
        return Quantity(self.amount * areas, self.unit)

    def format(self) -> str:
        """"1,5 l/ha", "500 ml/công"."""
        return f"{format_amount(self.amount)} {UNITS[self.unit].symbol}/{UNITS[self.per].symbol}"

    def __str__(self) -> str:
        return self.format()

    @classmethod
    def parse(cls, text: str) -> Dose:
        """"1,5 l/ha", "500 ml / công", "25 kg per ha"."""
        parts = re.split(r"\s*(?:/|\bper\b|\btrên\b|\bmỗi\b)\s*", (text or "").strip(), maxsplit=1)
        if len(parts) != 2:
            raise ValidationError({"dose": _(
                "“{value}” is not a dose such as “1,5 l/ha”.").format(value=text)})
        quantity = Quantity.parse(parts[0])
        return cls(quantity.value, quantity.unit, parts[1])
