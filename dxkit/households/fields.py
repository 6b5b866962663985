"""Every field a person edits on a household or a person, declared once.

One `Field` says how the field is named on screen (forms, list headers, the sync review
screen), which keyword the operations take (`Households.update(phone=…)`), which stored
columns hold it and which an update writes with it, and the spreadsheet column it is
imported from and exported to. Adding a household field means adding it here, to the
schema and to the form that shows it; imports, the review screen and the forms' labels
follow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from dxkit.core.i18n import N_

Entity = Literal["household", "person"]


@dataclass(frozen=True)
class Column:
    """A spreadsheet column: `header` is written on export, any alias is accepted on import."""

    key: str
    header: str
    entity: Entity
    required: bool
    aliases: tuple[str, ...]
    meaning: str  # English, for the README

    def names(self) -> tuple[str, ...]:
        return (self.header, *self.aliases)


@dataclass(frozen=True)
class Field:
    """One field as a person sees it.

    key: the form field, and the key of its validation errors.
    label: its name on screen (marked with N_; translate where shown).
    stored: the stored columns holding the value; stored[0] is the synced field the review
        screen shows. Companions such as folded search keys follow it.
    keywords: the operation keywords that set it, matched by position to `stored` where a
        field has several parts (birth date and year); default: (key,).
    writes: the stored columns an update of it writes, when more than `stored` (values that
        are validated together, or consent's date and the ID that goes with it).
    column: the spreadsheet column, or None when files do not carry the field.
    """

    key: str
    label: str
    stored: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    column: Column | None = None

    @property
    def keyword(self) -> str:
        return (self.keywords or (self.key,))[0]

    def keyword_for(self, stored: str) -> str:
        """The operation keyword that sets one stored column."""
        keywords = self.keywords or (self.key,)
        return keywords[min(self.stored.index(stored), len(keywords) - 1)]

    @property
    def written(self) -> tuple[str, ...]:
        return self.writes or self.stored


HOUSEHOLD_EDITABLE: tuple[Field, ...] = (
    Field("code", N_("Household code"), ("code", "code_key"), column=Column(
        "code", "Mã hộ", "household", True, ("Mã hộ gia đình", "Household code", "Code"),
        "household code, unique in the commune")),
    Field("head_name", N_("Head of household"), ("head_name", "head_key"), column=Column(
        "head_name", "Chủ hộ", "household", True,
        ("Họ tên chủ hộ", "Tên chủ hộ", "Head of household", "Head"),
        "name of the head of household")),
    Field("hamlet", N_("Hamlet"), ("hamlet_id",), column=Column(
        "hamlet", "Ấp/Khóm", "household", True, ("Ấp", "Khóm", "Thôn", "Tổ dân phố", "Hamlet"),
        "hamlet; must be one the team has")),
    Field("address", N_("Address"), ("address",), column=Column(
        "address", "Địa chỉ", "household", False, ("Address",), "street address")),
    Field("phone", N_("Phone"), ("phone",), column=Column(
        "household_phone", "SĐT hộ", "household", False,
        ("Điện thoại hộ", "Số điện thoại hộ", "Household phone"), "household phone")),
    Field("notes", N_("Notes"), ("notes",), column=Column(
        "household_notes", "Ghi chú hộ", "household", False, ("Household notes",),
        "notes about the household")),
    # A position needs both coordinates: an update of one writes the pair.
    Field("latitude", N_("GPS latitude"), ("latitude",), writes=("latitude", "longitude"),
          column=Column("latitude", "Vĩ độ", "household", False, ("Latitude", "Lat"),
                        "GPS latitude")),
    Field("longitude", N_("GPS longitude"), ("longitude",), writes=("latitude", "longitude"),
          column=Column("longitude", "Kinh độ", "household", False, ("Longitude", "Lon", "Lng"),
                        "GPS longitude")),
)

PERSON_EDITABLE: tuple[Field, ...] = (
    Field("full_name", N_("Full name"), ("full_name", "name_key"), column=Column(
        "full_name", "Họ và tên", "person", False, ("Họ tên", "Full name", "Name"),
        "person's full name; a row without it only describes the household")),
    Field("sex", N_("Sex"), ("sex",), column=Column(
        "sex", "Giới tính", "person", False, ("Sex", "Gender"), "Nam or Nữ")),
    # Older people often know only their birth year: one field, stored as a date or a year.
    Field("birth", N_("Birth date or year"), ("birth_date", "birth_year"),
          keywords=("birth_date", "birth_year"), column=Column(
              "birth", "Ngày sinh", "person", False,
              ("Năm sinh", "Ngày tháng năm sinh", "Date of birth", "Birth date", "Birth year"),
              "dd/mm/yyyy, or the year alone")),
    Field("relationship", N_("Relationship to head"), ("relationship",), column=Column(
        "relationship", "Quan hệ với chủ hộ", "person", False, ("Quan hệ", "Relationship"),
        "relationship to the head (Chủ hộ, Vợ, Con…)")),
    Field("phone", N_("Phone"), ("phone",), column=Column(
        "phone", "SĐT", "person", False, ("Điện thoại", "Số điện thoại", "Phone"),
        "person's phone")),
    Field("cccd", N_("Citizen ID (CCCD)"), ("cccd",), column=Column(
        "cccd", "CCCD", "person", False,
        ("Số CCCD", "Căn cước", "Căn cước công dân", "Số căn cước", "Citizen ID"),
        "12-digit citizen ID; needs consent")),
    # Giving or withdrawing consent records when and by whom, and withdrawing clears the ID.
    Field("consent", N_("Consent"), ("consent",),
          writes=("consent", "consent_on", "consent_by", "cccd"), column=Column(
              "consent", "Đồng ý lưu dữ liệu", "person", False, ("Đồng ý", "Consent"),
              "Có or Không; blank means Không (consent is never assumed)")),
    Field("notes", N_("Notes"), ("notes",)),
)

HOUSEHOLD = {f.key: f for f in HOUSEHOLD_EDITABLE}
PERSON = {f.key: f for f in PERSON_EDITABLE}

# The file format, household columns first, as export writes them.
COLUMNS: tuple[Column, ...] = tuple(
    f.column for f in (*HOUSEHOLD_EDITABLE, *PERSON_EDITABLE) if f.column is not None)


def operation_inputs(fields: tuple[Field, ...]) -> dict[str, tuple[str, ...]]:
    """Operation keyword -> the stored columns an update with it writes."""
    return {keyword: f.written for f in fields for keyword in (f.keywords or (f.key,))}


def review_labels(fields: tuple[Field, ...]) -> dict[str, str]:
    """Synced field -> its label, for the fields a person edits (not folded companions)."""
    return {stored: f.label for f in fields for stored in _shown(f)}


def review_keywords(fields: tuple[Field, ...]) -> dict[str, str]:
    """Synced field -> the operation keyword the review screen edits it with."""
    return {stored: f.keyword_for(stored) for f in fields for stored in _shown(f)}


def column_inputs(fields: tuple[Field, ...]) -> dict[str, str]:
    """Spreadsheet column key -> the operation keyword its cells are given as."""
    return {f.column.key: f.keyword for f in fields if f.column is not None}


def column_stored(fields: tuple[Field, ...]) -> dict[str, tuple[str, ...]]:
    """Spreadsheet column key -> the stored columns it sets (to spot what an import changes)."""
    return {f.column.key: f.stored for f in fields if f.column is not None}


def error_columns(fields: tuple[Field, ...]) -> Mapping[str, str]:
    """Validation error key -> the spreadsheet column to report it on."""
    return {f.key: f.column.key for f in fields if f.column is not None}


def _shown(field: Field) -> tuple[str, ...]:
    # A field's folded key (code_key, name_key) is derived, not edited: only its value shows;
    # a field in parts (birth date and year) shows each part.
    return field.stored if field.keywords else field.stored[:1]
