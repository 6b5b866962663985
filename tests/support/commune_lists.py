"""A generated corpus of commune household lists as offices really keep them, each file with
the households, people and reading assumptions dxkit must find in it.

`generate_households(seed, count, hamlets)` makes seeded households (Vietnamese names, 1–7
people, head first); `write_commune_list(path, households, style)` writes them in one of many
layouts that combine freely (see `Style`) and returns a `CommuneList`: the file and what an
import must store from it (`expected`), plus the assumptions the dry run must state, by kind,
sheet, column key and lines (`assumptions`).

The expected values are worked out from what was generated, not by running dxkit's own
parsers: a phone is generated in its current form and then written the way a spreadsheet
spoils it (without its 0, in the old 11-digit form), a name is generated clean and then has
invisible characters put into it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from dxkit.households.legacy_text import unicode_to_tcvn3, unicode_to_vni
from tests.support.xlsx_files import Merge, SheetSpec, write_workbook

HAMLETS = ("Ấp Mỹ Hưng", "Khóm 3", "Ấp Đông Hòa")  # the `ws` fixture's hamlets
_CODE_PREFIX = {"Ấp Mỹ Hưng": "MH", "Khóm 3": "K3", "Ấp Đông Hòa": "DH"}

SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Hoàng", "Võ", "Phan", "Trương", "Bùi",
            "Đặng", "Đỗ", "Ngô", "Hồ", "Dương", "Lý", "Đinh", "Lâm", "Mai", "Tạ", "Châu",
            "Thái", "Quách", "Lương", "Tô", "Đoàn", "Kiều", "Văn")
MALE_MIDDLE = ("Văn", "Hữu", "Minh", "Quốc", "Thanh", "Công", "Đức", "Hoàng", "Ngọc", "Tấn",
               "Thành", "Chí", "Trọng", "Bá", "")
FEMALE_MIDDLE = ("Thị", "Ngọc", "Thanh", "Kim", "Thu", "Mỹ", "Bích", "Hồng", "Diễm", "Thùy",
                 "Phương", "")
MALE_GIVEN = ("Đồng", "Hùng", "Dũng", "Phúc", "Tâm", "Tài", "Lộc", "Nghĩa", "Khôi", "Hải",
              "Long", "Sơn", "Tuấn", "Bảo", "Hiếu", "Quang", "Thắng", "Trí", "Vinh", "Út",
              "Ẩn", "Lực", "Định", "Hưng", "Phước", "Toàn", "Ba", "Tư", "Năm", "Sáu", "Bảy")
FEMALE_GIVEN = ("Ánh", "Hoa", "Lan", "Mai", "Hương", "Thảo", "Phượng", "Nga", "Hạnh", "Yến",
                "Trinh", "Nhung", "Diệp", "Uyên", "Ý", "Loan", "Tuyết", "Hằng", "Nguyệt",
                "Quyên", "Xuân", "Thủy", "Liễu", "Ngân", "Trâm", "Vy", "Oanh", "Huệ", "Út")
STREETS = ("Lê Lợi", "Nguyễn Huệ", "Trần Hưng Đạo", "Hùng Vương", "Lý Thường Kiệt",
           "Nguyễn Trãi", "Phan Đình Phùng", "Ngô Quyền", "Đinh Bộ Lĩnh", "Lê Văn Duyệt")
PROVINCE_CODES = ("087", "082", "086", "079", "089")  # Đồng Tháp, Tiền Giang, Vĩnh Long…
MOBILE_PREFIXES = ("091", "094", "098", "097", "096", "086", "032", "033", "034", "035",
                   "036", "037", "038", "039", "070", "077", "079", "081", "083", "084",
                   "085", "088", "090", "093")
# Old 11-digit prefixes and what they became (a few of the 2018 renumbering).
OLD_MOBILE = {"0168": "038", "0169": "039", "0162": "032", "0121": "079", "0126": "076",
              "0128": "078", "0123": "083", "0127": "081"}
LANDLINE_AREAS = ("0277", "0273", "0270")  # Đồng Tháp, Tiền Giang, Vĩnh Long

NATIONAL_MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")
INVISIBLES = ("\u200b", "\ufeff", "\u00a0", "\u2009", "\u202f", "\u200c")


# -- households --------------------------------------------------------------------------------
@dataclass
class Person:
    full_name: str
    sex: Literal["M", "F"]
    birth_date: dt.date | None  # None: only the year is known
    birth_year: int
    relationship: str
    phone: str = ""  # the canonical stored form ("" when none)
    phone_as: Literal["text", "number", "old", "old_number", "spaced"] = "text"
    cccd: str = ""
    birth_format: str = "dmy/"  # how the birth is written: see _birth_text

    @property
    def consent(self) -> bool:
        return bool(self.cccd)


@dataclass
class Household:
    code: str
    hamlet: str
    address: str
    people: list[Person]
    phone: str = ""  # canonical
    phone_as: Literal["text", "number", "old", "old_number", "spaced", "landline",
                      "landline_number"] = "text"

    @property
    def head_name(self) -> str:
        return self.people[0].full_name


def _name(rng: random.Random, sex: str, surname: str | None = None) -> str:
    middle = rng.choice(MALE_MIDDLE if sex == "M" else FEMALE_MIDDLE)
    given = rng.choice(MALE_GIVEN if sex == "M" else FEMALE_GIVEN)
    parts = [surname or rng.choice(SURNAMES), middle, given]
    if rng.random() < 0.12:  # a four-word name
        parts.insert(2, rng.choice(("Hoàng", "Ngọc", "Minh", "Thanh", "Kim")))
    return " ".join(p for p in parts if p)


def _mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + "".join(rng.choice("0123456789") for _ in range(7))


def _landline(rng: random.Random) -> str:
    return rng.choice(LANDLINE_AREAS) + rng.choice("3689") + "".join(
        rng.choice("0123456789") for _ in range(6))


def _cccd(rng: random.Random, sex: str, year: int) -> str:
    century_digit = (year // 100 - 19) * 2 + (1 if sex == "F" else 0)
    return (rng.choice(PROVINCE_CODES) + str(century_digit) + f"{year % 100:02d}"
            + "".join(rng.choice("0123456789") for _ in range(6)))


def _birth(rng: random.Random, year: int) -> tuple[dt.date | None, int]:
    if rng.random() < 0.25:
        return None, year
    day = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))
    return day, day.year


_BIRTH_FORMATS = ("dmy/", "dmy-", "d.m.y", "iso", "dmy/")


def _person(rng: random.Random, sex: str, year: int, relationship: str,
            surname: str | None = None) -> Person:
    year = max(1925, min(year, 2025))
    birth_date, birth_year = _birth(rng, year)
    person = Person(_name(rng, sex, surname), sex, birth_date, birth_year, relationship)  # type: ignore[arg-type]
    person.birth_format = rng.choice(_BIRTH_FORMATS) if birth_date else "year"
    if birth_year <= 2008 and rng.random() < 0.5:
        person.phone = _mobile(rng)
        person.phone_as = rng.choice(("text", "text", "number", "spaced"))
        if rng.random() < 0.12:
            old = rng.choice(sorted(OLD_MOBILE))
            person.phone = OLD_MOBILE[old] + person.phone[3:]
            person.phone_as = rng.choice(("old", "old_number"))
    if birth_year <= 2010 and rng.random() < 0.3:
        person.cccd = _cccd(rng, sex, birth_year)
    return person


def _members(rng: random.Random, size: int) -> list[Person]:
    head_sex = "M" if rng.random() < 0.7 else "F"
    head_year = rng.randint(1940, 1995)
    head = _person(rng, head_sex, head_year, "Chủ hộ")
    surname = head.full_name.split()[0]
    people = [head]
    if size > 1 and rng.random() < 0.85:
        spouse_sex = "F" if head_sex == "M" else "M"
        people.append(_person(rng, spouse_sex, head_year + rng.randint(-3, 6),
                              "Vợ" if spouse_sex == "F" else "Chồng"))
    if len(people) < size and head_year < 1975 and rng.random() < 0.3:
        people.append(_person(rng, "F", head_year - rng.randint(20, 28), "Mẹ"))
    while len(people) < size:
        child_year = head_year + rng.randint(20, 35)
        if child_year > 2024 or rng.random() < 0.15:
            relationship = rng.choice(("Cháu", "Cháu nội", "Cháu ngoại"))
            child_year = min(2025, head_year + rng.randint(40, 60))
        elif rng.random() < 0.1:
            relationship = rng.choice(("Con dâu", "Con rể", "Em"))
        else:
            relationship = "Con"
        sex = rng.choice("MF")
        people.append(_person(rng, sex, child_year, relationship,
                              surname if relationship.startswith("Con") else None))
    # Names are unique within a household (a repeated name and year is a duplicate row).
    seen: set[str] = set()
    unique = []
    for person in people:
        while person.full_name in seen:
            person.full_name = _name(rng, person.sex)
        seen.add(person.full_name)
        unique.append(person)
    return unique


def generate_households(seed: int, count: int, hamlets: Sequence[str] = HAMLETS
                        ) -> list[Household]:
    """`count` households spread over `hamlets`, codes unique, 1–7 people each."""
    rng = random.Random(seed)
    numbers: dict[str, int] = defaultdict(int)
    households = []
    for _ in range(count):
        hamlet = rng.choice(hamlets)
        numbers[hamlet] += 1
        code = f"{_CODE_PREFIX.get(hamlet, 'HO')}-{numbers[hamlet]:03d}"
        size = rng.choices(range(1, 8), weights=(8, 16, 22, 24, 16, 9, 5))[0]
        address = rng.choice((
            "", f"Tổ {rng.randint(1, 12)}", f"Số {rng.randint(1, 300)} đường {rng.choice(STREETS)}",
            f"{rng.randint(1, 200)}/{rng.randint(1, 30)} {rng.choice(STREETS)}"))
        household = Household(code, hamlet, address, _members(rng, size))
        roll = rng.random()
        if roll < 0.15:
            household.phone, household.phone_as = _landline(rng), rng.choice(
                ("landline", "landline_number"))
        elif roll < 0.5:
            head = household.people[0]
            household.phone = head.phone or _mobile(rng)
            household.phone_as = rng.choice(("text", "number", "spaced"))
        households.append(household)
    return households


# -- styles ------------------------------------------------------------------------------------
Encoding = Literal["utf-8-sig", "utf-8", "vni", "tcvn3"]


@dataclass(frozen=True)
class Style:
    """How a file is laid out. Every option combines with every other, except where noted."""

    format: Literal["csv", "xlsx"] = "xlsx"
    encoding: Encoding = "utf-8-sig"  # CSV: vni/tcvn3 mean a cp1258-looking file of font bytes
    delimiter: str = ","  # CSV: "," ";" or "\t"
    title: bool = False  # motto and "DANH SÁCH…" lines above the header
    stt: bool = False  # a first "STT" column numbering the households
    numbering: bool = False  # "(1) (2) (3)…" under the header
    household_cells: Literal["repeat", "code_only", "once"] = "repeat"  # once: merged (XLSX)
    # or blank (CSV) on a household's later rows
    groups: bool = False  # a heading per hamlet ("Ấp Mỹ Hưng" alone on its row)
    merged_layout: bool = False  # XLSX: headings and total labels merged across columns
    subtotals: bool = False  # "Cộng ấp …" after each hamlet's households
    total: bool = False  # "Tổng cộng" at the end
    signature: bool = False  # date line, who made and who certifies, names
    two_lists: bool = False  # a second list pasted under the first with the header again
    second_title: bool = False  # a title line above the second header
    reorder_second: bool = False  # the second list's columns in another order
    sheet_per_hamlet: bool = False  # XLSX: one sheet per hamlet
    summary_sheet: bool = False  # XLSX: a first sheet of counts, without a header
    hidden_sheet: Literal["", "lookup", "data"] = ""  # XLSX: a hidden sheet
    invisible: bool = False  # zero-width spaces, BOMs, odd spaces inside names
    legacy_header: Literal["", "vni", "tcvn3"] = ""  # header typed in a legacy font
    aliases: bool = False  # "Họ tên chủ hộ", "Năm sinh", "Số điện thoại"…
    phone_columns: bool = True
    cccd_columns: bool = True
    address_column: bool = True
    real_dates: bool = False  # XLSX: births with a full date as date cells

    def label(self) -> str:
        defaults = Style()
        separator = {",": "comma", ";": "semicolon", "\t": "tab"}[self.delimiter]
        parts = [self.format if self.format == "xlsx" else
                 f"csv-{self.encoding}-{separator}"]
        for name in self.__dataclass_fields__:
            if name in ("format", "encoding", "delimiter"):
                continue
            value = getattr(self, name)
            if value != getattr(defaults, name):
                parts.append(name if value is True else f"{name}={value or 'no'}")
        return "+".join(parts)


# -- what an import must give ------------------------------------------------------------------
@dataclass
class ExpectedPerson:
    full_name: str
    sex: str
    birth_date: str | None  # ISO
    birth_year: int
    relationship: str
    phone: str
    cccd: str
    consent: bool


@dataclass
class ExpectedHousehold:
    code: str
    head_name: str
    hamlet: str
    address: str
    phone: str
    people: list[ExpectedPerson]


# (kind, sheet, column key or "") -> lines
AssumptionKey = tuple[str, str, str]


@dataclass
class CommuneList:
    path: Path
    style: Style
    expected: dict[str, ExpectedHousehold]
    assumptions: dict[AssumptionKey, set[int]]
    sheets_read: list[str]
    sheets_skipped: list[str]
    rows: int  # data rows (people)

    @property
    def people(self) -> int:
        return sum(len(h.people) for h in self.expected.values())


def expected_households(households: Sequence[Household], style: Style
                        ) -> dict[str, ExpectedHousehold]:
    out = {}
    for h in households:
        people = [ExpectedPerson(
            p.full_name, p.sex, p.birth_date.isoformat() if p.birth_date else None,
            p.birth_year, p.relationship, p.phone if style.phone_columns else "",
            p.cccd if style.cccd_columns else "", bool(p.cccd) and style.cccd_columns)
            for p in h.people]
        out[h.code] = ExpectedHousehold(
            h.code, h.head_name, h.hamlet, h.address if style.address_column else "",
            h.phone if style.phone_columns else "", people)
    return out


# -- columns -----------------------------------------------------------------------------------
HEADERS = {
    "stt": ("STT",),
    "code": ("Mã hộ", "Mã hộ gia đình"),
    "head_name": ("Chủ hộ", "Họ tên chủ hộ", "Tên chủ hộ"),
    "hamlet": ("Ấp/Khóm", "Ấp", "Khóm"),
    "address": ("Địa chỉ",),
    "household_phone": ("SĐT hộ", "Điện thoại hộ", "Số điện thoại hộ"),
    "full_name": ("Họ và tên", "Họ tên"),
    "sex": ("Giới tính",),
    "birth": ("Ngày sinh", "Năm sinh", "Ngày tháng năm sinh"),
    "relationship": ("Quan hệ với chủ hộ", "Quan hệ"),
    "phone": ("SĐT", "Số điện thoại", "Điện thoại"),
    "cccd": ("CCCD", "Số CCCD", "Căn cước công dân"),
    "consent": ("Đồng ý lưu dữ liệu", "Đồng ý"),
}
HOUSEHOLD_KEYS = ("stt", "code", "head_name", "hamlet", "address", "household_phone")


def _columns(style: Style) -> list[str]:
    keys = ["stt"] if style.stt else []
    keys += ["code", "head_name", "hamlet"]
    if style.address_column:
        keys.append("address")
    if style.phone_columns:
        keys.append("household_phone")
    keys += ["full_name", "sex", "birth", "relationship"]
    if style.phone_columns:
        keys.append("phone")
    if style.cccd_columns:
        keys += ["cccd", "consent"]
    return keys


def _header_texts(keys: Sequence[str], style: Style, rng: random.Random) -> list[str]:
    return [rng.choice(HEADERS[k]) if style.aliases else HEADERS[k][0] for k in keys]


def _as_cp1252(raw: bytes) -> str:
    """Font bytes as a Unicode file holds them: decoded with cp1252, its holes as latin-1."""
    out = []
    for byte in raw:
        try:
            out.append(bytes([byte]).decode("cp1252"))
        except UnicodeDecodeError:
            out.append(chr(byte))
    return "".join(out)


LEGACY_ENCODERS: dict[str, Callable[[str], bytes]] = {"vni": unicode_to_vni,
                                                       "tcvn3": unicode_to_tcvn3}


# -- rows --------------------------------------------------------------------------------------
Cell = object


@dataclass
class _Row:
    kind: str  # title header numbering data group_heading totals signature blank
    cells: dict[str, Cell] = field(default_factory=dict)  # by column key, or "@<n>" position
    household: Household | None = None
    person: Person | None = None
    first: bool = False  # a household's first row
    span: int = 1  # rows of the household (first row only)
    merge_across: tuple[int, int] | None = None  # XLSX: (first, last) 0-based columns merged
    invisible: set[str] = field(default_factory=set)  # column keys given invisible chars
    restored: set[str] = field(default_factory=set)  # keys whose number lost its 0 (reader)
    repaired_zero: set[str] = field(default_factory=set)  # landline 0 put back (importer)
    converted: set[str] = field(default_factory=set)  # old mobile numbers


def _phone_cell(phone: str, how: str, xlsx: bool) -> tuple[Cell, str]:
    """The cell as written and what dxkit must say about it: "" / restored / zero / old."""
    if how in ("number", "landline_number"):
        digits = phone[1:]
        kind = "restored" if len(digits) == 9 else "zero"
        return (int(digits) if xlsx else digits), kind
    if how == "spaced":
        return f"{phone[:4]} {phone[4:7]} {phone[7:]}", ""
    if how in ("old", "old_number"):
        new_prefix = phone[:3]
        old = next(o for o, n in OLD_MOBILE.items() if n == new_prefix)
        text = old + phone[3:]
        if how == "old_number":
            return (int(text[1:]) if xlsx else text[1:]), "old"
        return text, "old"
    return phone, ""


def _birth_text(person: Person, style: Style) -> Cell:
    d = person.birth_date
    if d is None:
        return str(person.birth_year) if style.format == "csv" else person.birth_year
    if style.real_dates and style.format == "xlsx":
        return d
    return {
        "dmy/": f"{d.day:02d}/{d.month:02d}/{d.year}",
        "dmy-": f"{d.day:02d}-{d.month:02d}-{d.year}",
        "d.m.y": f"{d.day}.{d.month}.{d.year}",
        "iso": d.isoformat(),
    }[person.birth_format]


def _sprinkle(rng: random.Random, text: str) -> str:
    """The name with an invisible character or an odd space inside (never at its ends, where
    any reader trims whitespace)."""
    char = rng.choice(INVISIBLES)
    if char in ("\u00a0", "\u2009", "\u202f") and " " in text:
        spaces = [i for i, c in enumerate(text) if c == " "]
        i = rng.choice(spaces)
        return text[:i] + char + text[i + 1:]
    if char == "\ufeff":
        return char + text
    i = rng.randrange(1, len(text))
    return text[:i] + char + text[i:]


def _household_rows(h: Household, stt: int, style: Style, rng: random.Random) -> list[_Row]:
    xlsx = style.format == "xlsx"
    rows = []
    phone_cell, phone_kind = _phone_cell(h.phone, h.phone_as, xlsx) if h.phone else ("", "")
    for i, p in enumerate(h.people):
        row = _Row("data", household=h, person=p, first=i == 0,
                   span=len(h.people) if i == 0 else 1)
        cells = row.cells
        restate = i == 0 or style.household_cells == "repeat"
        if style.stt and i == 0:
            cells["stt"] = stt if xlsx else str(stt)
        if restate or style.household_cells == "code_only":
            cells["code"] = h.code
        if restate:
            cells["head_name"] = h.head_name
            cells["hamlet"] = h.hamlet
            cells["address"] = h.address
            cells["household_phone"] = phone_cell
            if phone_cell != "":
                if phone_kind == "restored":
                    row.restored.add("household_phone")
                elif i == 0 and phone_kind == "zero":
                    row.repaired_zero.add("household_phone")
                elif i == 0 and phone_kind == "old":
                    row.converted.add("household_phone")
        cells["full_name"] = p.full_name
        cells["sex"] = "Nam" if p.sex == "M" else "Nữ"
        cells["birth"] = _birth_text(p, style)
        cells["relationship"] = p.relationship
        if p.phone:
            cells["phone"], kind = _phone_cell(p.phone, p.phone_as, xlsx)
            if kind == "restored":
                row.restored.add("phone")
            elif kind == "old":
                row.converted.add("phone")
        if p.cccd:
            as_number = rng.random() < 0.4
            cells["cccd"] = (int(p.cccd) if xlsx else p.cccd[1:]) if as_number else p.cccd
            if as_number:
                row.restored.add("cccd")
            cells["consent"] = "Có"
        elif style.cccd_columns and rng.random() < 0.3:
            cells["consent"] = "Không"
        for key in set(cells) - set(_columns(style)):  # columns this file does not have
            del cells[key]
            for flags in (row.restored, row.repaired_zero, row.converted):
                flags.discard(key)
        if style.invisible:
            for key in ("full_name", "head_name"):
                if key in cells and rng.random() < 0.2:
                    cells[key] = _sprinkle(rng, str(cells[key]))
                    row.invisible.add(key)
        rows.append(row)
    return rows


def _layout_row(kind: str, texts: dict[int, str], width: int, style: Style,
                merge: bool = False) -> _Row:
    row = _Row(kind, {f"@{k}": v for k, v in texts.items()})
    if merge and style.format == "xlsx" and style.merged_layout and len(texts) == 1:
        [start] = texts
        end = min(width - 1, start + 3)
        row.merge_across = (start, end)
    return row


def _count_cells(keys: Sequence[str], households: Sequence[Household], label: str,
                 words: bool) -> dict[int, str]:
    people = sum(len(h.people) for h in households)
    texts = {0: label}
    head = keys.index("head_name")
    name = keys.index("full_name")
    texts[head] = f"{len(households)} hộ" if words else str(len(households))
    texts[name] = f"{people} người" if words else str(people)
    return texts


def _list_rows(households: Sequence[Household], keys: Sequence[str], headers: Sequence[str],
               style: Style, rng: random.Random, *, title: str, stt_start: int = 1,
               first_list: bool = True) -> list[_Row]:
    rows: list[_Row] = []
    width = len(keys)
    if title and first_list and style.title:
        rows.append(_layout_row("title", {0: "UBND XÃ MỸ HƯNG", width - 4: NATIONAL_MOTTO[0]},
                                width, style))
        rows.append(_layout_row("title", {width - 4: NATIONAL_MOTTO[1]}, width, style))
        rows.append(_Row("blank"))
        rows.append(_layout_row("title", {0: title.upper()}, width, style, merge=True))
        rows.append(_layout_row("title", {0: "(Cập nhật đến ngày 31/10/2026)"}, width, style,
                                merge=True))
        rows.append(_Row("blank"))
    elif not first_list and style.second_title:
        rows.append(_Row("blank"))
        rows.append(_layout_row("title", {0: title.upper()}, width, style, merge=True))
    rows.append(_Row("header", {k: h for k, h in zip(keys, headers, strict=True)}))
    if style.numbering:
        rows.append(_Row("numbering", {k: f"({i + 1})" for i, k in enumerate(keys)}))
    by_hamlet: dict[str, list[Household]] = defaultdict(list)
    for h in households:
        by_hamlet[h.hamlet].append(h)
    groups = list(by_hamlet.items()) if style.groups or style.subtotals else [
        ("", list(households))]
    stt = stt_start
    for number, (hamlet, members) in enumerate(groups, start=1):
        if style.groups:
            heading = rng.choice((hamlet, hamlet.upper(), f"{_roman(number)}. {hamlet}"))
            rows.append(_layout_row("group_heading", {0: heading}, width, style, merge=True))
        for h in members:
            rows.extend(_household_rows(h, stt, style, rng))
            stt += 1
        if style.subtotals:
            label = rng.choice(("Cộng", f"Cộng {hamlet[0].lower()}{hamlet[1:]}"))
            row = _layout_row("totals", _count_cells(keys, members, label, rng.random() < 0.5),
                              width, style)
            rows.append(row)
    if style.total and (not first_list or not style.two_lists):  # after the last list
        rows.append(_layout_row("totals", _count_cells(keys, households, "Tổng cộng", True),
                                width, style))
    return rows


def _roman(n: int) -> str:
    return ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")[n - 1]


def _signature_rows(width: int, style: Style, rng: random.Random) -> list[_Row]:
    left, right = 1, max(2, width - 3)
    date = rng.choice(("Mỹ Tho, ngày 05 tháng 11 năm 2026", "Mỹ Hưng, ngày    tháng    năm 2026",
                       "Ngày 5 tháng 11 năm 2026"))
    rows = [_Row("blank"),
            _layout_row("signature", {right: date}, width, style),
            _layout_row("signature", {left: "Người lập biểu", right: rng.choice(
                ("TM. UBND XÃ", "T/M ỦY BAN NHÂN DÂN XÃ", "XÁC NHẬN CỦA UBND XÃ"))}, width, style),
            _layout_row("signature", {right: "KT. CHỦ TỊCH"}, width, style),
            _layout_row("signature", {left: "(Ký, ghi rõ họ tên)", right: "(Ký tên, đóng dấu)"},
                        width, style),
            _Row("blank"), _Row("blank"),
            _layout_row("signature", {left: "Nguyễn Thị Lan", right: "Trần Văn Hùng"}, width,
                        style)]
    return rows


# -- writing -----------------------------------------------------------------------------------
@dataclass
class _SheetPlan:
    name: str
    rows: list[_Row]
    keys_per_row: list[list[str]]  # the column keys in force on each row
    hidden: bool = False
    has_header: bool = True


def write_commune_list(path: Path, households: Sequence[Household], style: Style,
                       seed: int = 0) -> CommuneList:
    """Write `households` in `style` at `path` (its suffix is set from the style)."""
    if style.format == "csv" and (style.sheet_per_hamlet or style.summary_sheet
                                  or style.hidden_sheet):
        raise ValueError("sheets need XLSX")
    rng = random.Random(seed * 7919 + 13)
    path = path.with_suffix("." + style.format)
    keys = _columns(style)
    headers = _header_texts(keys, style, rng)
    sheets: list[_SheetPlan] = []
    hidden: list[Household] = []
    if style.hidden_sheet == "data" and len(households) > 3:
        # Households added last, on a sheet someone hid: it has a header, so it is read.
        households, hidden = list(households[:-3]), list(households[-3:])
    if style.summary_sheet:
        sheets.append(_summary_sheet(households))
    if style.sheet_per_hamlet:
        for hamlet in HAMLETS:
            members = [h for h in households if h.hamlet == hamlet]
            if members:
                sheets.append(_data_sheet(hamlet, members, keys, headers, style, rng))
    else:
        sheets.append(_data_sheet("Danh sách", list(households), keys, headers, style, rng))
    if hidden:
        extra = _data_sheet("Hộ mới", hidden, keys, headers, replace(
            style, two_lists=False, sheet_per_hamlet=False, signature=False), rng)
        extra.hidden = True
        sheets.append(extra)
        households = [*households, *hidden]
    if style.hidden_sheet == "lookup":
        sheets.append(_SheetPlan("DM", [_layout_row("title", {0: h}, 1, style) for h in HAMLETS],
                                 [[] for _ in HAMLETS], hidden=True, has_header=False))
    if style.format == "csv":
        [sheet] = sheets
        _write_csv(path, sheet, style)
    else:
        _write_xlsx(path, sheets, style)
    return CommuneList(path, style, expected_households(households, style),
                       _assumptions(sheets, style),
                       [s.name for s in sheets if s.has_header],
                       [s.name for s in sheets if not s.has_header],
                       sum(len(h.people) for h in households))


def _data_sheet(name: str, households: list[Household], keys: list[str], headers: list[str],
                style: Style, rng: random.Random) -> _SheetPlan:
    title = f"Danh sách hộ gia đình {name if style.sheet_per_hamlet else 'xã Mỹ Hưng'}"
    if style.two_lists and len(households) >= 2:
        half = len(households) // 2
        first = _list_rows(households[:half], keys, headers, style, rng, title=title)
        second_keys, second_headers = keys, headers
        if style.reorder_second:
            order = list(range(len(keys)))
            household_part = [i for i in order if keys[i] in HOUSEHOLD_KEYS and keys[i] != "stt"]
            rng.shuffle(household_part)
            stt_part = [i for i in order if keys[i] == "stt"]
            person_part = [i for i in order if keys[i] not in HOUSEHOLD_KEYS]
            rng.shuffle(person_part)
            order = stt_part + household_part + person_part
            second_keys = [keys[i] for i in order]
            second_headers = [headers[i] for i in order]
        second = _list_rows(households[half:], second_keys, second_headers, style, rng,
                            title="Danh sách hộ gia đình (bổ sung)", stt_start=half + 1,
                            first_list=False)
        rows = first + second
        keys_per_row = [keys] * len(first) + [second_keys] * len(second)
    else:
        rows = _list_rows(households, keys, headers, style, rng, title=title)
        keys_per_row = [keys] * len(rows)
    if style.signature:
        signature = _signature_rows(len(keys), style, rng)
        rows += signature
        keys_per_row += [keys] * len(signature)
    return _SheetPlan(name, rows, keys_per_row)


def _summary_sheet(households: Sequence[Household]) -> _SheetPlan:
    rows = [_Row("title", {"@0": "TỔNG HỢP SỐ HỘ, SỐ NHÂN KHẨU"}), _Row("blank"),
            _Row("title", {"@0": "STT", "@1": "Ấp/Khóm", "@2": "Số hộ", "@3": "Số nhân khẩu"})]
    for i, hamlet in enumerate(HAMLETS, start=1):
        members = [h for h in households if h.hamlet == hamlet]
        rows.append(_Row("title", {"@0": i, "@1": hamlet, "@2": len(members),
                                   "@3": sum(len(h.people) for h in members)}))
    rows.append(_Row("title", {"@1": "Tổng cộng", "@2": len(households),
                               "@3": sum(len(h.people) for h in households)}))
    return _SheetPlan("Tổng hợp", rows, [[] for _ in rows], has_header=False)


def _grid(sheet: _SheetPlan, style: Style) -> tuple[list[list[Cell]], list[Merge]]:
    """The sheet's cells by row, and its merged ranges (1-based)."""
    grid: list[list[Cell]] = []
    merges: list[Merge] = []
    for index, (row, keys) in enumerate(zip(sheet.rows, sheet.keys_per_row, strict=True)):
        line = index + 1
        positions = {f"@{i}": i for i in range(max(len(keys), 8))}
        positions.update({k: i for i, k in enumerate(keys)})
        width = max([positions[k] + 1 for k in row.cells] or [0])
        cells: list[Cell] = [""] * width
        for key, value in row.cells.items():
            cells[positions[key]] = value
        if row.kind == "header" and style.legacy_header and style.encoding not in LEGACY_ENCODERS:
            encode = LEGACY_ENCODERS[style.legacy_header]
            cells = [_as_cp1252(encode(str(c))) if c else c for c in cells]
        grid.append(cells)
        if row.merge_across:
            a, b = row.merge_across
            merges.append((line, a + 1, line, b + 1))
        if (row.kind == "data" and row.first and row.span > 1 and style.format == "xlsx"
                and style.household_cells == "once"):
            for k in HOUSEHOLD_KEYS:
                if k in positions and k in keys:
                    col = positions[k] + 1
                    merges.append((line, col, line + row.span - 1, col))
    return grid, merges


def _write_xlsx(path: Path, sheets: Sequence[_SheetPlan], style: Style) -> None:
    specs = []
    for sheet in sheets:
        grid, merges = _grid(sheet, style)
        specs.append(SheetSpec(sheet.name, [[None if c == "" else c for c in r] for r in grid],
                               merges, sheet.hidden))
    write_workbook(path, specs)


def _write_csv(path: Path, sheet: _SheetPlan, style: Style) -> None:
    grid, _merges = _grid(sheet, style)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=style.delimiter, lineterminator="\r\n")
    for cells in grid:
        writer.writerow([str(c) for c in cells])
    text = out.getvalue()
    if style.encoding in ("utf-8", "utf-8-sig"):
        path.write_bytes(text.encode(style.encoding))
    else:
        # The whole file typed with a legacy font (header included): its bytes are the
        # font's codes, which dxkit reads as Windows-1258.
        path.write_bytes(LEGACY_ENCODERS[style.encoding](text))


# -- expected assumptions ----------------------------------------------------------------------
def _assumptions(sheets: Sequence[_SheetPlan], style: Style) -> dict[AssumptionKey, set[int]]:
    found: dict[AssumptionKey, set[int]] = defaultdict(set)
    xlsx = style.format == "xlsx"
    for sheet in sheets:
        name = sheet.name if xlsx else ""
        if not sheet.has_header:
            found[("sheet_skipped", name, "")] = set()
            continue
        lines = {id(row): i + 1 for i, row in enumerate(sheet.rows)}
        headers = [r for r in sheet.rows if r.kind == "header"]
        if xlsx:
            found[("sheet", name, "")].add(lines[id(headers[0])])
        for k, header in enumerate(headers):
            if k:
                found[("repeated_header", name, "")].add(lines[id(header)])
        household_first: Household | None = None
        first_row: _Row | None = None
        for row in sheet.rows:
            line = lines[id(row)]
            if row.kind in ("title", "numbering", "group_heading", "totals", "signature"):
                found[(row.kind, name, "")].add(line)
                continue
            if row.kind != "data":
                continue
            if row.first:
                household_first, first_row = row.household, row
            assert household_first is not None and first_row is not None
            continuation = not row.first
            spread = continuation and style.household_cells == "once" and xlsx
            if continuation and style.household_cells == "once":
                if xlsx:
                    for key in ("code", "head_name", "hamlet", "address", "household_phone"):
                        if key in sheet.keys_per_row[0]:
                            found[("merged", name, key)].add(line)
                else:
                    found[("filled_down", name, "code")].add(line)
            keys = set(row.invisible) | (first_row.invisible & {"head_name"} if spread else set())
            for key in keys:
                found[("cleaned", name, key)].add(line)
            restored = set(row.restored) | (first_row.restored & {"household_phone"} if spread
                                            else set())
            for key in restored:
                found[("zero_restored", name, key)].add(line)
            for key in row.repaired_zero:
                found[("zero_restored", name, key)].add(line)
            for key in row.converted:
                found[("phone_converted", name, key)].add(line)
    return dict(found)


def combine(base: Style, **changes: object) -> Style:
    return replace(base, **changes)  # type: ignore[arg-type]


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)
