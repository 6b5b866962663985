"""Importing commune lists as they really are: a generated corpus of files (see
tests/support/commune_lists.py), each with the households and people it holds and the
assumptions the dry run must state, by kind, sheet, column and line."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from dxkit.households.importing import ImportPlan, ImportRefused, apply_import, plan_import
from dxkit.households.legacy_text import unicode_to_tcvn3, unicode_to_vni
from dxkit.households.spreadsheets import column_key, read_workbook
from dxkit.workspace import Workspace
from tests.support.commune_lists import (
    CommuneList,
    ExpectedHousehold,
    ExpectedPerson,
    Household,
    Person,
    Style,
    generate_households,
    write_commune_list,
)
from tests.support.xlsx_files import SheetSpec, write_workbook

# -- the corpus --------------------------------------------------------------------------------
# Hand-picked files: each silent failure of issue 11, and everything at once.
PICKED: list[tuple[int, int, Style]] = [
    (1, 30, Style(format="csv", encoding="vni", title=True)),
    (2, 30, Style(format="csv", encoding="tcvn3", delimiter=";", numbering=True)),
    (3, 40, Style(sheet_per_hamlet=True, summary_sheet=True, hidden_sheet="lookup", title=True)),
    (4, 40, Style(household_cells="once", stt=True)),
    (5, 40, Style(format="csv", household_cells="once", stt=True)),
    (6, 50, Style(title=True, numbering=True, groups=True, subtotals=True, total=True,
                  signature=True)),
    (7, 50, Style(two_lists=True, second_title=True, reorder_second=True, numbering=True)),
    (8, 30, Style(invisible=True, household_cells="once")),
    (9, 30, Style(format="csv", invisible=True)),
    (10, 60, Style(title=True, stt=True, numbering=True, household_cells="once", groups=True,
                   merged_layout=True, subtotals=True, total=True, signature=True,
                   two_lists=True, second_title=True, reorder_second=True, invisible=True,
                   legacy_header="vni", aliases=True, real_dates=True)),
    (11, 60, Style(format="csv", encoding="vni", delimiter="\t", title=True, stt=True,
                   numbering=True, household_cells="once", groups=True, subtotals=True,
                   total=True, signature=True, two_lists=True, second_title=True,
                   aliases=True)),
    (12, 60, Style(format="csv", encoding="tcvn3", title=True, stt=True, numbering=True,
                   groups=True, subtotals=True, total=True, signature=True)),
    (13, 80, Style(sheet_per_hamlet=True, summary_sheet=True, hidden_sheet="data",
                   household_cells="once", title=True, numbering=True, signature=True,
                   legacy_header="tcvn3", stt=True)),
    (14, 20, Style(format="csv", encoding="utf-8", legacy_header="vni", address_column=True)),
    (15, 20, Style(format="csv", legacy_header="tcvn3", phone_columns=False,
                   cccd_columns=False)),
]

_XLSX_OPTIONS = ("title", "stt", "numbering", "groups", "merged_layout", "subtotals", "total",
                 "signature", "two_lists", "second_title", "reorder_second", "sheet_per_hamlet",
                 "summary_sheet", "invisible", "aliases", "real_dates")
_CSV_OPTIONS = ("title", "stt", "numbering", "groups", "subtotals", "total", "signature",
                "two_lists", "second_title", "reorder_second", "invisible", "aliases")


def _random_style(rng: random.Random) -> Style:
    """Options drawn independently: any combination must read."""
    xlsx = rng.random() < 0.55
    options: dict[str, Any] = {
        name: rng.random() < 0.4 for name in (_XLSX_OPTIONS if xlsx else _CSV_OPTIONS)}
    options["household_cells"] = rng.choice(("repeat", "code_only", "once"))
    options["legacy_header"] = rng.choice(("", "", "vni", "tcvn3"))
    options["phone_columns"] = rng.random() < 0.85
    options["cccd_columns"] = rng.random() < 0.8
    options["address_column"] = rng.random() < 0.8
    if xlsx:
        options["hidden_sheet"] = rng.choice(("", "", "lookup", "data"))
        return Style(format="xlsx", **options)
    encoding = rng.choice(("utf-8-sig", "utf-8-sig", "utf-8", "vni", "tcvn3"))
    if encoding in ("vni", "tcvn3"):
        options["invisible"] = False  # a legacy font file has no such characters
        options["legacy_header"] = ""  # its header is in the font already
    return Style(format="csv", encoding=encoding, delimiter=rng.choice((",", ";", "\t")),
                 **options)


def _drawn() -> list[tuple[int, int, Style]]:
    rng = random.Random(2026)
    # Realistic sizes: 20 to 400 rows (a household has 3.6 people on average).
    return [(100 + i, rng.randint(6, 100), _random_style(rng)) for i in range(32)]


CORPUS = PICKED + _drawn()
LARGE = [(900, 560, Style(title=True, stt=True, numbering=True, household_cells="once",
                          groups=True, subtotals=True, total=True, signature=True)),
         (901, 560, Style(format="csv", encoding="vni", numbering=True, groups=True,
                          total=True, signature=True, two_lists=True))]


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("commune-lists")


_MADE: dict[int, CommuneList] = {}


def made(corpus_dir: Path, seed: int, count: int, style: Style) -> CommuneList:
    """Each file is written once per test session (a module-wide cache)."""
    if seed not in _MADE:
        _MADE[seed] = write_commune_list(corpus_dir / f"list-{seed}",
                                         generate_households(seed, count), style, seed)
    return _MADE[seed]


# -- comparing ---------------------------------------------------------------------------------
def assumptions_of(plan: ImportPlan) -> dict[tuple[str, str, str], set[int]]:
    """The plan's assumptions as (kind, sheet, column key) -> lines, like CommuneList's."""
    found: dict[tuple[str, str, str], set[int]] = defaultdict(set)
    for a in plan.assumptions:
        key = (column_key(a.column) or a.column) if a.column else ""
        found[(a.kind, a.sheet, key)].update(a.lines)
    return dict(found)


def stored(ws: Workspace, *, in_order: bool = False) -> dict[str, ExpectedHousehold]:
    """Every stored household with its people (by name and birth year, or in the order they
    were stored)."""
    hamlets = {h.id: h.name for h in ws.catalog.hamlets()}
    out = {}
    for h in ws.conn.execute("SELECT * FROM households WHERE deleted = 0"):
        people = [ExpectedPerson(p["full_name"], p["sex"], p["birth_date"], p["birth_year"],
                                 p["relationship"], p["phone"], p["cccd"], bool(p["consent"]))
                  for p in ws.conn.execute(
                      "SELECT * FROM people WHERE household_id = ? AND deleted = 0 "
                      "ORDER BY local_id", (h["id"],))]
        out[h["code"]] = ExpectedHousehold(h["code"], h["head_name"], hamlets[h["hamlet_id"]],
                                           h["address"], h["phone"],
                                           people if in_order else by_name(people))
    return out


def by_name(people: list[ExpectedPerson]) -> list[ExpectedPerson]:
    return sorted(people, key=lambda p: (p.full_name, p.birth_year))


def unordered(expected: dict[str, ExpectedHousehold]) -> dict[str, ExpectedHousehold]:
    return {code: replace(h, people=by_name(h.people)) for code, h in expected.items()}


def check_imports_exactly(ws: Workspace, made_file: CommuneList) -> ImportPlan:
    plan = plan_import(ws, made_file.path)
    assert plan.ok, plan.errors[:5]
    counts = plan.counts
    assert (counts.new_households, counts.new_people) == (len(made_file.expected),
                                                          made_file.people)
    assert plan.total_rows == made_file.rows
    assert assumptions_of(plan) == made_file.assumptions
    apply_import(ws, made_file.path)
    assert stored(ws) == unordered(made_file.expected)
    return plan


def check_reimport_is_unchanged(ws: Workspace, made_file: CommuneList) -> None:
    again = apply_import(ws, made_file.path)
    counts = again.value.counts
    assert (counts.unchanged_households, counts.unchanged_people) == (
        len(made_file.expected), made_file.people)
    assert counts.new_households == counts.updated_households == 0
    assert counts.new_people == counts.updated_people == 0
    assert not again.changes


# -- (a) every file of the corpus --------------------------------------------------------------
@pytest.mark.parametrize(("seed", "count", "style"), CORPUS,
                         ids=[f"{seed}-{style.label()}" for seed, _c, style in CORPUS])
def test_corpus_file_imports_exactly(ws: Workspace, corpus_dir: Path, seed: int, count: int,
                                     style: Style) -> None:
    made_file = made(corpus_dir, seed, count, style)
    check_imports_exactly(ws, made_file)
    check_reimport_is_unchanged(ws, made_file)


@pytest.mark.parametrize(("seed", "count", "style"), LARGE,
                         ids=[f"{seed}-{style.label()}" for seed, _c, style in LARGE])
def test_large_files_import_exactly(ws: Workspace, corpus_dir: Path, seed: int, count: int,
                                    style: Style) -> None:
    made_file = made(corpus_dir, seed, count, style)
    assert made_file.rows >= 1800
    check_imports_exactly(ws, made_file)
    plan = plan_import(ws, made_file.path)
    assert plan.counts.unchanged_people == made_file.people


def test_the_corpus_is_varied() -> None:
    """The drawn styles cover every option both ways, in both formats."""
    styles = [style for _seed, _count, style in CORPUS]
    for name in _XLSX_OPTIONS:
        assert {getattr(s, name) for s in styles} == {True, False}, name
    assert {s.encoding for s in styles if s.format == "csv"} == {"utf-8-sig", "utf-8", "vni",
                                                                 "tcvn3"}
    assert {s.delimiter for s in styles if s.format == "csv"} == {",", ";", "\t"}
    assert {s.household_cells for s in styles} == {"repeat", "code_only", "once"}
    assert {s.legacy_header for s in styles} == {"", "vni", "tcvn3"}
    assert {s.hidden_sheet for s in styles} == {"", "lookup", "data"}


# -- (c) each silent failure of issue 11, on its own -------------------------------------------
def test_vni_header_in_a_cp1258_csv_is_the_address_column(ws: Workspace, tmp_path: Path) -> None:
    made_file = write_commune_list(tmp_path / "vni", generate_households(41, 25),
                                   Style(format="csv", encoding="vni"), 41)
    assert b"\xd1\xf2a ch\xe6" in made_file.path.read_bytes()  # "Ñòa chæ": Địa chỉ in VNI
    table = read_workbook(made_file.path).tables[0]
    assert table.codec == "cp1258"
    assert table.fields[table.headers.index("Địa chỉ")] == "address"
    check_imports_exactly(ws, made_file)
    addresses = {h.code: h.address for h in made_file.expected.values()}
    assert sum(bool(a) for a in addresses.values()) >= 10
    assert {h["code"]: h["address"] for h in ws.conn.execute(
        "SELECT code, address FROM households")} == addresses


@pytest.mark.parametrize("encoding", ["vni", "tcvn3"])
def test_legacy_header_in_a_unicode_file(ws: Workspace, tmp_path: Path, encoding: str) -> None:
    made_file = write_commune_list(tmp_path / "h", generate_households(42, 15),
                                   Style(legacy_header=encoding), 42)  # type: ignore[arg-type]
    plan = check_imports_exactly(ws, made_file)
    assert not [p for p in plan.warnings if "biết" in p.message]  # no column left unknown


def test_one_sheet_per_hamlet_imports_every_sheet_and_says_which(ws: Workspace,
                                                                 tmp_path: Path) -> None:
    made_file = write_commune_list(
        tmp_path / "ap", generate_households(43, 45),
        Style(sheet_per_hamlet=True, summary_sheet=True, hidden_sheet="data", title=True), 43)
    plan = check_imports_exactly(ws, made_file)
    read = {a.sheet: a.message for a in plan.assumptions if a.kind == "sheet"}
    assert set(read) == {"Ấp Mỹ Hưng", "Khóm 3", "Ấp Đông Hòa", "Hộ mới"}
    assert "ẩn" in read["Hộ mới"]  # the hidden sheet is named as hidden
    [skipped] = [a for a in plan.assumptions if a.kind == "sheet_skipped"]
    assert skipped.sheet == "Tổng hợp" and skipped.lines == ()
    hamlets_stored = {h.hamlet for h in stored(ws).values()}
    assert hamlets_stored == {"Ấp Mỹ Hưng", "Khóm 3", "Ấp Đông Hòa"}


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_household_cells_given_once(ws: Workspace, tmp_path: Path, file_format: str) -> None:
    """Merged down (XLSX) or left blank under the first row (CSV): every person row still
    belongs to its household."""
    made_file = write_commune_list(tmp_path / "once", generate_households(44, 30),
                                   Style(format=file_format, household_cells="once", stt=True),  # type: ignore[arg-type]
                                   44)
    kind = "merged" if file_format == "xlsx" else "filled_down"
    continuation = made_file.people - len(made_file.expected)
    lines = made_file.assumptions[(kind, "Danh sách" if file_format == "xlsx" else "", "code")]
    assert len(lines) == continuation > 40
    check_imports_exactly(ws, made_file)


def test_numbering_totals_signature_and_repeated_header(ws: Workspace, tmp_path: Path) -> None:
    made_file = write_commune_list(
        tmp_path / "layout", generate_households(45, 40),
        Style(title=True, numbering=True, groups=True, subtotals=True, total=True,
              signature=True, two_lists=True, second_title=True, reorder_second=True), 45)
    expected = made_file.assumptions
    sheet = "Danh sách"
    assert expected[("numbering", sheet, "")]
    assert len(expected[("repeated_header", sheet, "")]) == 1
    assert len(expected[("totals", sheet, "")]) >= 4
    assert len(expected[("signature", sheet, "")]) == 5
    plan = check_imports_exactly(ws, made_file)
    messages = {a.kind: a.message for a in plan.assumptions}
    assert "Tổng cộng" in messages["totals"] and "(1), (2)" in messages["numbering"]


def test_invisible_characters_are_cleaned(ws: Workspace, tmp_path: Path) -> None:
    made_file = write_commune_list(tmp_path / "zw", generate_households(46, 40),
                                   Style(format="csv", invisible=True), 46)
    raw = made_file.path.read_text("utf-8-sig")
    assert "\u200b" in raw or "\ufeff" in raw
    cleaned = made_file.assumptions[("cleaned", "", "full_name")]
    assert len(cleaned) >= 10
    check_imports_exactly(ws, made_file)
    for code, household in made_file.expected.items():
        found = ws.households.by_code(code)
        assert found.head_name == household.head_name  # exactly, so search and matching work
        assert household.head_name.isprintable()


def test_dates_written_dd_mm_yyyy(ws: Workspace, tmp_path: Path) -> None:
    households = generate_households(47, 20)
    for household in households:
        for person in household.people:
            if person.birth_date:
                person.birth_format = "dmy-"
    made_file = write_commune_list(tmp_path / "dash", households, Style(format="csv"), 47)
    assert "-19" in made_file.path.read_text("utf-8-sig")
    check_imports_exactly(ws, made_file)


def _phones_household() -> Household:
    def person(name: str, year: int, phone: str, how: str) -> Person:
        return Person(name, "M", dt.date(year, 3, 4), year, "Con", phone, how)  # type: ignore[arg-type]

    people = [person("Nguyễn Văn Đồng", 1960, "0912345678", "number"),
              person("Nguyễn Văn Hùng", 1985, "0382345678", "old_number"),
              person("Nguyễn Văn Dũng", 1987, "0392345679", "old"),
              person("Nguyễn Văn Phúc", 1990, "0982345670", "text")]
    people[0].relationship = "Chủ hộ"
    return Household("MH-001", "Ấp Mỹ Hưng", "", people, "02773851234", "landline_number")


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_phones_stored_as_numbers(ws: Workspace, tmp_path: Path, file_format: str) -> None:
    """A mobile without its 0, an old 11-digit mobile (also without its 0), a landline
    without its 0: each stored in its canonical form, and each repair stated."""
    made_file = write_commune_list(tmp_path / "phones", [_phones_household()],
                                   Style(format=file_format, cccd_columns=False), 48)  # type: ignore[arg-type]
    sheet = "Danh sách" if file_format == "xlsx" else ""
    header = 1
    assert made_file.assumptions[("zero_restored", sheet, "phone")] == {header + 1}
    assert made_file.assumptions[("zero_restored", sheet, "household_phone")] == {header + 1}
    assert made_file.assumptions[("phone_converted", sheet, "phone")] == {header + 2,
                                                                         header + 3}
    check_imports_exactly(ws, made_file)
    household = ws.households.by_code("MH-001")
    assert household.phone == "02773851234"
    phones = [p.phone for p in ws.people.in_household(household.id)]
    assert sorted(phones) == sorted(["0912345678", "0382345678", "0392345679", "0982345670"])


# -- bugs found with the corpus ----------------------------------------------------------------
def test_heading_merged_across_the_table_is_not_a_household(ws: Workspace,
                                                            tmp_path: Path) -> None:
    """A group heading or title merged over several columns (as commune lists centre them)
    was spread into every column it covers and read as a household named after the hamlet."""
    made_file = write_commune_list(tmp_path / "wide", generate_households(49, 20),
                                   Style(groups=True, merged_layout=True, title=True), 49)
    headings = made_file.assumptions[("group_heading", "Danh sách", "")]
    assert len(headings) == 3
    check_imports_exactly(ws, made_file)
    assert ws.households.count() == 20


@pytest.mark.parametrize("encoding", ["vni", "tcvn3"])
def test_layout_rows_typed_in_a_legacy_font(ws: Workspace, tmp_path: Path,
                                            encoding: str) -> None:
    """Totals, group headings and the signature block of a list typed with a VNI or TCVN3
    font ("Toång coäng", "Ngöôøi laäp bieåu") were read as households and people."""
    made_file = write_commune_list(
        tmp_path / "font", generate_households(50, 25),
        Style(format="csv", encoding=encoding, groups=True, subtotals=True, total=True,  # type: ignore[arg-type]
              signature=True, title=True, two_lists=True, second_title=True), 50)
    raw = made_file.path.read_bytes()
    assert (unicode_to_vni if encoding == "vni" else unicode_to_tcvn3)("Tổng cộng") in raw
    check_imports_exactly(ws, made_file)


def test_people_are_stored_in_the_order_of_the_list(ws: Workspace, tmp_path: Path) -> None:
    made_file = write_commune_list(tmp_path / "order", generate_households(51, 20), Style(), 51)
    assert any(p.consent and i for h in made_file.expected.values()
               for i, p in enumerate(h.people))
    apply_import(ws, made_file.path)
    assert stored(ws, in_order=True) == made_file.expected


# -- (b) what the import still refuses ---------------------------------------------------------
def _csv_lines(made_file: CommuneList) -> list[str]:
    return made_file.path.read_bytes().decode("utf-8-sig").split("\r\n")[:-1]


def _write_lines(made_file: CommuneList, lines: list[str]) -> Path:
    made_file.path.write_text("\r\n".join(lines) + "\r\n", "utf-8-sig")
    return made_file.path


def test_a_household_under_the_signature_block_is_refused(ws: Workspace, tmp_path: Path) -> None:
    made_file = write_commune_list(tmp_path / "late", generate_households(60, 12),
                                   Style(format="csv", signature=True), 60)
    lines = _csv_lines(made_file)
    first_data = lines[1]
    late = first_data.replace(first_data.split(",")[0], "MH-999", 1)
    path = _write_lines(made_file, [*lines, late])
    plan = plan_import(ws, path)
    signature = min(made_file.assumptions[("signature", "", "")])
    [error] = plan.errors
    assert error.line == len(lines) + 1
    assert f"dòng {signature}" in error.message
    with pytest.raises(ImportRefused):
        apply_import(ws, path)
    assert ws.households.count() == 0


def test_a_person_at_the_top_without_household_is_refused(ws: Workspace,
                                                           tmp_path: Path) -> None:
    made_file = write_commune_list(tmp_path / "orphan", generate_households(61, 12),
                                   Style(format="csv", household_cells="once",
                                         address_column=False, phone_columns=False,
                                         cccd_columns=False), 61)
    lines = _csv_lines(made_file)
    cells = lines[1].split(",")
    lines[1] = ",".join(["", "", "", *cells[3:]])  # the first person's household cells blank
    plan = plan_import(ws, _write_lines(made_file, lines))
    assert not plan.ok
    assert {(p.line, p.column) for p in plan.errors} >= {(2, "Mã hộ")}
    # Its household's other people have no household either; the households below are fine.
    first = next(iter(made_file.expected.values()))
    assert {p.line for p in plan.errors} == set(range(2, 2 + len(first.people)))
    with pytest.raises(ImportRefused):
        apply_import(ws, made_file.path)


def test_a_genuinely_ambiguous_legacy_column_is_refused(ws: Workspace, tmp_path: Path) -> None:
    made_file = write_commune_list(tmp_path / "mixed", generate_households(62, 12),
                                   Style(format="csv", address_column=False,
                                         phone_columns=False, cccd_columns=False), 62)
    lines = _csv_lines(made_file)
    column = lines[0].split(",").index("Họ và tên")
    for i, line in enumerate(lines[1:], start=1):  # half typed in TCVN3, half in VNI: a mix
        cells = line.split(",")
        encode = unicode_to_tcvn3 if i % 2 else unicode_to_vni
        cells[column] = encode(cells[column]).decode("cp1252", "replace")
        lines[i] = ",".join(cells)
    plan = plan_import(ws, _write_lines(made_file, lines))
    assert plan.encodings["Họ và tên"] == "unknown"
    assert [(p.line, p.column) for p in plan.errors] == [(1, "Họ và tên")]
    with pytest.raises(ImportRefused):
        apply_import(ws, made_file.path)
    assert ws.households.count() == 0


def test_a_sheet_missing_a_required_column_is_named(ws: Workspace, tmp_path: Path) -> None:
    made_file = write_commune_list(tmp_path / "sheets", generate_households(63, 15),
                                   Style(sheet_per_hamlet=True), 63)
    good = read_workbook(made_file.path)
    rows = [["Mã hộ", "Chủ hộ", "Họ và tên", "Năm sinh"],
            ["K3-100", "Lê Văn Tư", "Lê Văn Tư", 1950]]
    specs = [SheetSpec(t.sheet, [t.headers, *t.rows]) for t in good.tables]
    path = write_workbook(tmp_path / "missing.xlsx", [*specs, SheetSpec("Khóm 4", rows)])
    plan = plan_import(ws, path)
    assert [(p.sheet, p.line, p.column) for p in plan.errors] == [("Khóm 4", 1, "Ấp/Khóm")]
    assert "Ấp/Khóm" in plan.errors[0].message
    with pytest.raises(ImportRefused):
        apply_import(ws, path)


def _blank_code_rows(tmp_path: Path, tail: list[str]) -> Path:
    header = "Mã hộ,Chủ hộ,Ấp/Khóm,Họ và tên,Giới tính,Năm sinh"
    rows = ["MH-001,Lê Văn Tư,Ấp Mỹ Hưng,Lê Văn Tư,Nam,1950", ",,,Trần Thị Ánh,Nữ,1955", *tail]
    path = tmp_path / "tail.csv"
    path.write_bytes(("\r\n".join([header, *rows]) + "\r\n").encode("utf-8-sig"))
    return path


def test_a_date_line_written_with_slashes_starts_the_signature_block(ws: Workspace,
                                                                     tmp_path: Path) -> None:
    """"Mỹ Tho, ngày 05/11/2026" under the names was taken as one more person of the last
    household (its household cells are blank), silently."""
    path = _blank_code_rows(tmp_path, ["", ',,,"Mỹ Tho, ngày 05/11/2026",,',
                                       ",,,Người lập biểu,,", "", ",,,Nguyễn Thị Lan,,"])
    plan = plan_import(ws, path)
    assert plan.ok and plan.counts.new_people == 2
    assert assumptions_of(plan)[("signature", "", "")] == {5, 6, 8}
    assert assumptions_of(plan)[("filled_down", "", "code")] == {3}


def test_a_note_under_the_list_is_not_taken_as_a_person(ws: Workspace, tmp_path: Path) -> None:
    """"Ghi chú: danh sách gồm 1 hộ" in the name column joined the household above as a
    person; a text with digits, colons or commas is no name: the row is refused, named."""
    path = _blank_code_rows(tmp_path, [",,,Ghi chú: danh sách gồm 1 hộ,,"])
    plan = plan_import(ws, path)
    assert not plan.ok
    assert {p.line for p in plan.errors} == {4}
    with pytest.raises(ImportRefused):
        apply_import(ws, path)
