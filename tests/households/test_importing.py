"""Importing households and people from spreadsheets as commune offices keep them."""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

import pytest
from openpyxl import Workbook

from dxkit.core.errors import Cancelled, DxError
from dxkit.core.i18n import set_language
from dxkit.core.progress import Progress
from dxkit.households.importing import ImportRefused, apply_import, plan_import
from dxkit.households.legacy_text import unicode_to_tcvn3, unicode_to_vni
from dxkit.households.spreadsheets import COLUMNS, read_workbook
from dxkit.workspace import Workspace

HEADER = ["Mã hộ", "Chủ hộ", "Ấp/Khóm", "Địa chỉ", "Họ và tên", "Giới tính", "Ngày sinh",
          "Quan hệ với chủ hộ", "SĐT", "CCCD", "Đồng ý lưu dữ liệu"]
ROWS = [
    ["MH-001", "Nguyễn Văn Đồng", "Ấp Mỹ Hưng", "12 Lê Lợi", "Nguyễn Văn Đồng", "Nam",
     "05/09/1968", "Chủ hộ", "0912345678", "087068000123", "Có"],
    ["MH-001", "Nguyễn Văn Đồng", "Ấp Mỹ Hưng", "12 Lê Lợi", "Trần Thị Ánh", "Nữ", "1972",
     "Vợ", "", "", ""],
    ["K3-010", "Lê Thị Hoa Phượng", "Khóm 3", "", "", "", "", "", "", "", ""],
]


def write_csv(path: Path, rows: list[list[str]], *, delimiter: str = ",",
              encoding: str = "utf-8-sig", header: list[str] | None = None) -> Path:
    lines = [delimiter.join(r) for r in [header or HEADER, *rows]]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def problems_at(plan, severity: str = "error") -> set[tuple[int, str]]:
    return {(p.line, p.column) for p in plan.problems if p.severity == severity}


# -- encodings ---------------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_utf8_with_and_without_bom(ws: Workspace, tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "ho.csv", ROWS, encoding=encoding)
    plan = plan_import(ws, path)
    assert plan.ok, plan.problems
    assert plan.codec == encoding
    assert plan.counts.new_households == 2 and plan.counts.new_people == 2
    apply_import(ws, path)
    household = ws.households.by_code("mh-001")
    assert household.head_name == "Nguyễn Văn Đồng" and household.hamlet == "Ấp Mỹ Hưng"
    names = [p.full_name for p in ws.people.in_household(household.id)]
    assert names == ["Nguyễn Văn Đồng", "Trần Thị Ánh"]


def test_windows_1258_with_combining_tones_is_stored_as_nfc(ws: Workspace,
                                                             tmp_path: Path) -> None:
    # cp1258 writes many toned letters as base letter + combining tone; the bytes are not UTF-8.
    lines = [",".join(HEADER), ",".join(ROWS[1])]
    path = tmp_path / "cp1258.csv"
    path.write_bytes(_cp1258(lines))
    plan = plan_import(ws, path)
    assert plan.codec == "cp1258"
    assert plan.ok, plan.problems
    apply_import(ws, path)
    person = ws.people.in_household(ws.households.by_code("MH-001").id)[0]
    assert person.full_name == "Trần Thị Ánh"
    assert unicodedata.is_normalized("NFC", person.full_name)
    assert ws.households.by_code("MH-001").head_name == "Nguyễn Văn Đồng"


TONES = "\u0300\u0301\u0303\u0309\u0323"


def _cp1258(lines: list[str]) -> bytes:
    """Encode as Windows-1258 does: letters it lacks become base letter + combining tone."""
    out = bytearray()
    for ch in "\r\n".join(lines) + "\r\n":
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            marks = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(m for m in marks if m not in TONES))
            out += (base + "".join(m for m in marks if m in TONES)).encode("cp1258")
    return bytes(out)


def test_the_cp1258_fixture_really_uses_combining_tones() -> None:
    raw = _cp1258(["Trần Thị Ánh"])
    assert raw.decode("cp1258") != "Trần Thị Ánh\r\n"  # needs NFC to compare equal
    assert unicodedata.normalize("NFC", raw.decode("cp1258")) == "Trần Thị Ánh\r\n"


@pytest.mark.parametrize(("encoder", "name"), [(unicode_to_tcvn3, "TCVN3"),
                                               (unicode_to_vni, "VNI")])
def test_legacy_font_column_is_converted_and_reported(ws: Workspace, tmp_path: Path,
                                                      encoder, name: str) -> None:
    people = ["Nguyễn Văn Đồng", "Trần Thị Ánh", "Lê Hoàng Phúc", "Phạm Thị Thu Thảo"]
    rows = [["MH-00" + str(i), "Chu ho " + str(i), "Ap My Hung", "", p, "", "", "", "", "", ""]
            for i, p in enumerate(people)]
    # A Unicode CSV whose name column holds font-encoded text (as Excel saves it).
    path = tmp_path / f"{name}.csv"
    cells = [[*r[:4], encoder(r[4]).decode("cp1252", errors="replace"), *r[5:]] for r in rows]
    write_csv(path, cells)
    plan = plan_import(ws, path)
    assert plan.ok, plan.problems
    assert plan.encodings["Họ và tên"] == name.lower()
    assert (1, "Họ và tên") in problems_at(plan, "warning")
    apply_import(ws, path)
    stored = {p.full_name for h in ws.households.list() for p in ws.people.in_household(h.id)}
    assert stored == set(people)


def test_legacy_bytes_file_decodes_as_cp1258_and_converts(ws: Workspace, tmp_path: Path) -> None:
    names = ["Nguyễn Văn Đồng", "Trần Thị Ánh", "Lê Hoàng Phúc"]
    header = b"Ma ho,Chu ho,Ap,Dia chi,Ho va ten"
    body = b"".join(b"\r\nH%d,Chu ho %d,Khom 3,," % (i, i) + unicode_to_tcvn3(n)
                    for i, n in enumerate(names))
    path = tmp_path / "tcvn3.csv"
    path.write_bytes(header + body + b"\r\n")
    plan = plan_import(ws, path)
    assert plan.codec == "cp1258"
    assert plan.encodings["Ho va ten"] == "tcvn3", plan.problems
    apply_import(ws, path)
    assert ws.people.in_household(ws.households.by_code("H1").id)[0].full_name == names[1]


def test_undetectable_column_is_refused_with_what_to_do(ws: Workspace, tmp_path: Path) -> None:
    tcvn = unicode_to_tcvn3("Nguyễn Văn Đồng").decode("cp1252")
    vni = unicode_to_vni("Trần Thị Ánh").decode("cp1252", errors="replace")
    rows = [["A1", "Chu ho", "Khom 3", "", tcvn, "", "", "", "", "", ""],
            ["A2", "Chu ho", "Khom 3", "", vni, "", "", "", "", "", ""]]
    path = write_csv(tmp_path / "mixed.csv", rows)
    plan = plan_import(ws, path)
    assert not plan.ok
    assert plan.encodings["Họ và tên"] == "unknown"
    [problem] = plan.errors
    assert (problem.line, problem.column) == (1, "Họ và tên")
    assert "Unicode" in problem.message and "UTF-8" in problem.message
    with pytest.raises(ImportRefused):
        apply_import(ws, path)
    assert ws.households.count() == 0


# -- layouts -----------------------------------------------------------------------------------
@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_separated(ws: Workspace, tmp_path: Path, delimiter: str) -> None:
    path = write_csv(tmp_path / "ho.csv", ROWS, delimiter=delimiter)
    plan = plan_import(ws, path)
    assert plan.ok, plan.problems
    assert plan.counts.new_households == 2 and plan.counts.new_people == 2


def test_xlsx_with_title_rows_dates_and_numbers_as_numbers(ws: Workspace,
                                                            tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "ds.xlsx", [
        ["DANH SÁCH HỘ GIA ĐÌNH ẤP MỸ HƯNG"],
        ["Năm 2026"],
        [],
        HEADER,
        ["MH-001", "Nguyễn Văn Đồng", "Ấp Mỹ Hưng", 12, "Nguyễn Văn Đồng", "Nam",
         dt.datetime(1968, 9, 5), "Chủ hộ", 912345678, 87068000123, "Có"],
        [None] * 5,
        ["MH-001", "Nguyễn Văn Đồng", "Ấp Mỹ Hưng", 12, "Trần Thị Ánh", "Nữ", 1972, "Vợ",
         None, None, None],
    ])
    table = read_workbook(path).tables[0]
    assert table.header_line == 4 and table.lines == [5, 7]
    assert table.rows[0][3] == "12" and table.rows[0][6] == "05/09/1968"
    plan = plan_import(ws, path)
    assert plan.ok, plan.problems
    assert not plan.warnings
    restored = {(a.column, a.lines) for a in plan.assumptions if a.kind == "zero_restored"}
    assert restored == {("SĐT", (5,)), ("CCCD", (5,))}
    apply_import(ws, path)
    head = ws.people.in_household(ws.households.by_code("MH-001").id)[0]
    assert head.phone == "0912345678" and head.cccd == "087068000123"
    assert head.birth_date == dt.date(1968, 9, 5)


def test_unknown_columns_are_a_warning_and_english_headers_work(ws: Workspace,
                                                                tmp_path: Path) -> None:
    header = ["Household code", "Head of household", "Hamlet", "Full name", "Birth year",
              "Màu sơn nhà"]
    path = write_csv(tmp_path / "en.csv", [["X1", "Vo Van Ba", "Khom 3", "Vo Van Ba", "1950",
                                            "xanh"]], header=header)
    plan = plan_import(ws, path)
    assert plan.ok
    assert problems_at(plan, "warning") == {(1, "Màu sơn nhà")}


def test_missing_required_column(ws: Workspace, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "x.csv", [["MH-1", "Lê Văn Tư"]], header=["Mã hộ", "Chủ hộ"])
    plan = plan_import(ws, path)
    assert problems_at(plan) == {(1, "Ấp/Khóm")}


def test_unreadable_files_give_sentences(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(DxError, match="không tồn tại"):
        plan_import(ws, tmp_path / "none.csv")
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(DxError, match=r"\.xlsx"):
        plan_import(ws, old)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(DxError):
        plan_import(ws, broken)


# -- bad rows ----------------------------------------------------------------------------------
BAD_ROWS = [
    # line 2: fine
    ["MH-001", "Nguyễn Văn Đồng", "Ấp Mỹ Hưng", "", "Nguyễn Văn Đồng", "Nam", "1968", "", "",
     "", ""],
    # line 3: no head of household (required)
    ["MH-002", "", "Ấp Mỹ Hưng", "", "", "", "", "", "", "", ""],
    # line 4: bad phone
    ["MH-003", "Lê Văn Tư", "Khóm 3", "", "Lê Văn Tư", "", "", "", "12345", "", ""],
    # line 5: bad CCCD (11 digits with letters)
    ["MH-004", "Lê Văn Năm", "Khóm 3", "", "Lê Văn Năm", "Nam", "1970", "", "", "08707A00012",
     "Có"],
    # line 6: CCCD without consent
    ["MH-005", "Lê Văn Sáu", "Khóm 3", "", "Lê Văn Sáu", "Nam", "1968", "", "", "087068000123",
     ""],
    # line 7: unknown hamlet
    ["MH-006", "Lê Văn Bảy", "Ấp Không Có", "", "", "", "", "", "", "", ""],
    # line 8: bad birth date
    ["MH-007", "Lê Văn Tám", "Khóm 3", "", "Lê Văn Tám", "", "31/02/1990", "", "", "", ""],
    # line 9: same code as line 2 with a different head of household
    ["MH-001", "Trần Văn Khác", "Ấp Mỹ Hưng", "", "Nguyễn Thị Mai", "Nữ", "1990", "", "", "",
     ""],
    # line 10: the same person as line 2 again
    ["MH-001", "Nguyễn Văn Đồng", "Ấp Mỹ Hưng", "", "Nguyễn Văn Đồng", "Nam", "1968", "", "",
     "", ""],
    # line 11: consent neither Có nor Không
    ["MH-008", "Lê Văn Chín", "Khóm 3", "", "Lê Văn Chín", "", "", "", "", "", "hỏi sau"],
    # line 12: household-only row (relationship and consent alone do not make a person)
    ["MH-009", "Lê Văn Mười", "Khóm 3", "", "", "", "", "Chủ hộ", "", "", "Không"],
    # line 13: a CCCD without a name
    ["MH-009", "Lê Văn Mười", "Khóm 3", "", "", "", "", "", "", "087068000123", "Có"],
]


def test_every_bad_row_is_reported_with_line_and_column(ws: Workspace, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bad.csv", BAD_ROWS)
    outbox = ws.pending_changes()
    plan = plan_import(ws, path)
    assert not plan.ok
    assert problems_at(plan) == {
        (3, "Chủ hộ"), (4, "SĐT"), (5, "CCCD"), (6, "CCCD"), (7, "Ấp/Khóm"),
        (8, "Ngày sinh"), (9, "Chủ hộ"), (10, "Họ và tên"), (11, "Đồng ý lưu dữ liệu"),
        (13, "Họ và tên"),
    }
    messages = {(p.line, p.column): p.message for p in plan.errors}
    assert "12 chữ số" in messages[(5, "CCCD")]
    assert "đồng ý" in messages[(6, "CCCD")]
    assert "Ấp Mỹ Hưng" in messages[(7, "Ấp/Khóm")]  # lists the known hamlets
    assert "dòng 2" in messages[(9, "Chủ hộ")] and "dòng 2" in messages[(10, "Họ và tên")]
    with pytest.raises(ImportRefused) as refused:
        apply_import(ws, path)
    assert refused.value.plan.errors == plan.errors
    assert ws.households.count() == 0 and ws.people.count() == 0
    assert ws.pending_changes() == outbox


def test_one_bad_row_stops_everything(ws: Workspace, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "one.csv", [*ROWS, BAD_ROWS[2]])
    with pytest.raises(ImportRefused):
        apply_import(ws, path)
    assert ws.households.count() == 0


def test_problems_in_english(ws: Workspace, tmp_path: Path) -> None:
    set_language("en")
    plan = plan_import(ws, write_csv(tmp_path / "bad.csv", BAD_ROWS))
    messages = {(p.line, p.column): p.message for p in plan.errors}
    assert "line 2" in messages[(9, "Chủ hộ")]
    assert plan.to_dict()["problems"][0]["line"] == 3


def test_household_only_rows_and_blank_restated_cells(ws: Workspace, tmp_path: Path) -> None:
    rows = [ROWS[0], ["MH-001", "", "", "", "Trần Thị Ánh", "Nữ", "1972", "Vợ", "", "", ""],
            ROWS[2]]
    plan = plan_import(ws, write_csv(tmp_path / "ho.csv", rows))
    assert plan.ok, plan.problems
    assert plan.counts.new_households == 2 and plan.counts.new_people == 2


# -- idempotency, updates, cancel --------------------------------------------------------------
def test_importing_twice_changes_nothing_the_second_time(ws: Workspace, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "ho.csv", ROWS)
    first = apply_import(ws, path)
    assert first.changes.count("created", "households") == 2
    outbox = ws.pending_changes()
    again = apply_import(ws, path)
    counts = again.value.counts
    assert (counts.new_households, counts.updated_households, counts.unchanged_households) == (
        0, 0, 2)
    assert (counts.new_people, counts.updated_people, counts.unchanged_people) == (0, 0, 2)
    assert not again.changes
    assert ws.pending_changes() == outbox
    assert ws.households.count() == 2 and ws.people.count() == 2


def test_changed_cells_update_matched_records(ws: Workspace, tmp_path: Path) -> None:
    apply_import(ws, write_csv(tmp_path / "a.csv", ROWS))
    wife = ws.people.in_household(ws.households.by_code("MH-001").id)[1]
    rows = [list(r) for r in ROWS]
    rows[1][8] = "0987654321"  # wife's phone added
    rows[1][4] = "TRAN THI ANH"  # same person, written differently
    rows[2][3] = "Tổ 5"  # address of K3-010
    rows.append(["K3-010", "Lê Thị Hoa Phượng", "Khóm 3", "Tổ 5", "Võ Minh Khôi", "Nam",
                 "2010", "Con", "", "", ""])
    plan = plan_import(ws, write_csv(tmp_path / "b.csv", rows))
    c = plan.counts
    assert (c.updated_households, c.unchanged_households, c.new_households) == (1, 1, 0)
    assert (c.updated_people, c.unchanged_people, c.new_people) == (1, 1, 1)
    updated = [r for r in plan.rows if r.action == "update"]
    assert {r.changed for r in updated} == {("Địa chỉ",), ("Họ và tên", "SĐT")}
    apply_import(ws, tmp_path / "b.csv")
    assert ws.people.get(wife.id).phone == "0987654321"
    assert ws.people.count() == 3


def test_matching_by_cccd_and_birth_year(ws: Workspace, tmp_path: Path) -> None:
    apply_import(ws, write_csv(tmp_path / "a.csv", ROWS))
    rows = [list(r) for r in ROWS[:2]]
    rows[0][4] = "Nguyễn Văn Đông"  # name corrected, same CCCD: same person
    rows[1][6] = "1973"  # another birth year: another person of the same name
    plan = plan_import(ws, write_csv(tmp_path / "b.csv", rows))
    assert (plan.counts.updated_people, plan.counts.new_people) == (1, 1)


def test_consent_is_never_assumed(ws: Workspace, tmp_path: Path) -> None:
    apply_import(ws, write_csv(tmp_path / "a.csv", ROWS))
    people = ws.people.in_household(ws.households.by_code("MH-001").id)
    assert [p.consent for p in people] == [True, False]
    assert people[0].consent_by and people[0].consent_on == dt.date(2026, 11, 20)


def test_cancel_leaves_nothing(ws: Workspace, tmp_path: Path) -> None:
    rows = [[f"H{i:05d}", f"Chủ hộ {i}", "Khóm 3", "", f"Người {i}", "", "", "", "", "", ""]
            for i in range(1200)]
    path = write_csv(tmp_path / "big.csv", rows)
    calls: list[str] = []
    progress = Progress(on_change=lambda value, maximum, label: calls.append(label))

    class CancelWhileImporting(Progress):
        def update(self, value=None, maximum=None, label=None):
            if label == "Đang nhập…" and value and value >= 1000:
                self.cancel()
            super().update(value, maximum, label)

    outbox = ws.pending_changes()
    with pytest.raises(Cancelled):
        apply_import(ws, path, CancelWhileImporting())
    assert ws.households.count() == 0 and ws.people.count() == 0
    assert ws.pending_changes() == outbox
    plan = plan_import(ws, path, progress)
    assert plan.counts.new_households == 1200 and calls


def test_column_table_covers_the_documented_headers() -> None:
    headers = {c.header for c in COLUMNS}
    assert set(HEADER) <= headers
    assert [c.header for c in COLUMNS if c.required] == ["Mã hộ", "Chủ hộ", "Ấp/Khóm"]


def test_a_sheet_named_after_a_hamlet_gives_its_households_that_hamlet(ws: Workspace,
                                                                       tmp_path: Path) -> None:
    from tests.support.xlsx_files import SheetSpec, write_workbook

    header = ["STT", "Mã hộ", "Chủ hộ", "Họ và tên", "Năm sinh"]
    path = write_workbook(tmp_path / "ap.xlsx", [
        SheetSpec("Ấp Mỹ Hưng", [header, [1, "MH-1", "Lê Văn Tư", "Lê Văn Tư", 1960]]),
        SheetSpec("Khóm 3", [header, [1, "K3-1", "Võ Thị Hai", "Võ Thị Hai", 1970]]),
        SheetSpec("Ấp Không Có", [header, [1, "X-1", "Đỗ Văn Ba", "Đỗ Văn Ba", 1980]])])
    plan = plan_import(ws, path)
    assert [(p.sheet, p.column) for p in plan.errors] == [("Ấp Không Có", "Ấp/Khóm")]
    assert not plan.warnings  # "STT" numbers the rows: no "unknown column" warning
    from_sheet = {a.sheet for a in plan.assumptions if a.kind == "hamlet_from_sheet"}
    assert from_sheet == {"Ấp Mỹ Hưng", "Khóm 3"}


def test_a_person_with_no_household_anywhere_is_one_problem(ws: Workspace,
                                                            tmp_path: Path) -> None:
    path = write_csv(tmp_path / "mo-coi.csv", [
        ["", "", "", "", "Trần Thị Ánh", "Nữ", "1972", "", "", "", ""], *ROWS])
    plan = plan_import(ws, path)
    assert problems_at(plan) == {(2, "Mã hộ")}
    assert "no household" in plan.errors[0].message or "không có hộ" in plan.errors[0].message
