"""`dxkit households import` (all or nothing) and `export`; contract from importing/exporting."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl

from tests.cli.conftest import Invoke, as_json, counts

HEADERS = ["Mã hộ", "Chủ hộ", "Ấp/Khóm", "SĐT hộ", "Họ và tên", "Giới tính", "Ngày sinh"]
GOOD_ROWS = [
    ["DH-001", "Huỳnh Văn Tư", "Ấp Đông Hòa", "0912345670", "Huỳnh Văn Tư", "Nam", "1960"],
    ["DH-001", "Huỳnh Văn Tư", "Ấp Đông Hòa", "0912345670", "Đỗ Thị Mai", "Nữ", "12/03/1965"],
    ["DH-002", "Phan Văn Sáu", "dong hoa", "", "Phan Văn Sáu", "Nam", "1975"],
]


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerows(rows)
    return path


def test_import_applies_a_valid_file(team_dir: Path, dxkit: Invoke, tmp_path: Path):
    source = write_csv(tmp_path / "ho.csv", GOOD_ROWS)
    result = dxkit(team_dir, "households", "import", str(source))
    assert result.exit_code == 0, result.output
    assert "2" in result.stdout and "3" in result.stdout
    rows = as_json(dxkit(team_dir, "households", "list", "--json"))
    assert [r["code"] for r in rows] == ["DH-001", "DH-002"]
    assert counts(team_dir)["people"] == 3
    again = as_json(dxkit(team_dir, "households", "import", str(source), "--json"))
    assert again["ok"] is True
    assert again["counts"]["unchanged_households"] == 2
    assert counts(team_dir)["people"] == 3


def test_dry_run_says_what_would_change_and_writes_nothing(team_dir: Path, dxkit: Invoke,
                                                           tmp_path: Path):
    source = write_csv(tmp_path / "ho.csv", GOOD_ROWS)
    before = counts(team_dir)
    plan = as_json(dxkit(team_dir, "households", "import", str(source), "--dry-run", "--json"))
    assert plan["ok"] is True
    assert plan["counts"]["new_households"] == 2
    assert plan["counts"]["new_people"] == 3
    text = dxkit(team_dir, "households", "import", str(source), "--dry-run")
    assert text.exit_code == 0
    assert counts(team_dir) == before


def test_an_invalid_row_refuses_the_whole_file_with_line_and_column(team_dir: Path,
                                                                    dxkit: Invoke,
                                                                    tmp_path: Path):
    bad = [*GOOD_ROWS, ["DH-003", "Lý Văn Bảy", "Ấp Không Có", "12ab", "Lý Văn Bảy", "x", ""]]
    source = write_csv(tmp_path / "ho.csv", bad)
    before = counts(team_dir)
    result = dxkit(team_dir, "households", "import", str(source))
    assert result.exit_code == 1
    assert result.stdout == ""
    problem_lines = [line for line in result.stderr.splitlines() if "5" in line]
    assert any("Ấp/Khóm" in line for line in problem_lines)  # the hamlet cell, line 5
    assert any("SĐT hộ" in line for line in problem_lines)
    assert any("Giới tính" in line for line in problem_lines)
    assert counts(team_dir) == before


def test_an_invalid_row_in_json_mode_prints_the_plan(team_dir: Path, dxkit: Invoke,
                                                     tmp_path: Path):
    bad = [*GOOD_ROWS, ["DH-003", "", "Ấp Đông Hòa", "", "", "", ""]]
    source = write_csv(tmp_path / "ho.csv", bad)
    before = counts(team_dir)
    for extra in ((), ("--dry-run",)):
        result = dxkit(team_dir, "households", "import", str(source), "--json", *extra)
        assert result.exit_code == 1
        plan = json.loads(result.stdout)
        assert plan["ok"] is False
        problem = next(p for p in plan["problems"] if p["severity"] == "error")
        assert problem["line"] == 5 and problem["column"] == "Chủ hộ"
    assert counts(team_dir) == before


def test_import_of_a_missing_file_is_one_sentence(team_dir: Path, dxkit: Invoke,
                                                  tmp_path: Path):
    result = dxkit(team_dir, "households", "import", str(tmp_path / "none.csv"))
    assert result.exit_code == 1
    assert "none.csv" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_export_csv_round_trips_through_import(filled_dir: Path, dxkit: Invoke,
                                               tmp_path: Path):
    target = tmp_path / "ho.csv"
    result = dxkit(filled_dir, "households", "export", "--format", "csv", "--out", str(target))
    assert result.exit_code == 0, result.output
    assert "3" in result.stdout
    text = target.read_text(encoding="utf-8-sig")
    assert "MH-001" in text and "Nguyễn Văn Đồng" in text
    plan = as_json(dxkit(filled_dir, "households", "import", str(target), "--dry-run",
                         "--json"))
    assert plan["counts"]["unchanged_households"] == 3


def test_export_xlsx_and_people_and_visits(filled_dir: Path, dxkit: Invoke, tmp_path: Path):
    target = tmp_path / "ho.xlsx"
    assert dxkit(filled_dir, "households", "export", "--out", str(target)).exit_code == 0
    sheet = openpyxl.load_workbook(target).active
    codes = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert codes == ["K3-001", "MH-001", "MH-002"]
    people = tmp_path / "people.csv"
    result = dxkit(filled_dir, "households", "export", "--what", "people", "--out", str(people))
    assert result.exit_code == 0
    assert "Lê Thị Lan" in people.read_text(encoding="utf-8-sig")
    visits = tmp_path / "visits.csv"
    result = dxkit(filled_dir, "households", "export", "--what", "visits", "--format", "csv",
                   "--out", str(visits))
    assert result.exit_code == 0
    assert "MH-001" in visits.read_text(encoding="utf-8-sig")


def test_export_with_a_bad_format_is_a_usage_error(filled_dir: Path, dxkit: Invoke,
                                                   tmp_path: Path):
    target = tmp_path / "ho.pdf"
    result = dxkit(filled_dir, "households", "export", "--format", "pdf", "--out", str(target))
    assert result.exit_code == 2
    assert "pdf" in result.stderr and "csv" in result.stderr
    assert not target.exists()


def test_a_workbook_of_hamlet_sheets_says_what_it_assumed(team_dir: Path, dxkit: Invoke,
                                                          tmp_path: Path):
    from tests.support.xlsx_files import SheetSpec, write_workbook

    first = [["DANH SÁCH HỘ ẤP ĐÔNG HÒA"], HEADERS, [f"({i})" for i in range(1, 8)],
             GOOD_ROWS[0], ["", "", "", "", *GOOD_ROWS[1][4:]],
             ["Tổng cộng", "1 hộ"], ["", "Người lập biểu", "", "", "TM. UBND XÃ"],
             ["", "Trần Thị Lập"]]
    second = [HEADERS, GOOD_ROWS[2]]
    source = write_workbook(tmp_path / "ds.xlsx", [
        SheetSpec("Đông Hòa", first, merges=[(4, c, 5, c) for c in range(1, 5)]),
        SheetSpec("Mỹ Hưng", second), SheetSpec("Tổng hợp", [["Ấp", "Số hộ"], ["Đông Hòa", 1]])])
    plan = as_json(dxkit(team_dir, "households", "import", str(source), "--dry-run", "--json"))
    assert plan["ok"] is True and plan["counts"]["new_people"] == 3
    kinds = {(a["kind"], a["sheet"], a["where"]) for a in plan["assumptions"]}
    assert {("sheet", "Đông Hòa", "2"), ("sheet", "Mỹ Hưng", "1"), ("numbering", "Đông Hòa", "3"),
            ("totals", "Đông Hòa", "6"), ("signature", "Đông Hòa", "7–8"),
            ("sheet_skipped", "Tổng hợp", "")} <= kinds
    assert {a["column"] for a in plan["assumptions"] if a["kind"] == "merged"} == {
        "Mã hộ", "Chủ hộ", "Ấp/Khóm", "SĐT hộ"}
    text = dxkit(team_dir, "households", "import", str(source))
    assert text.exit_code == 0, text.output
    assert "trang tính “Tổng hợp”" in text.stdout.lower() or "Tổng hợp" in text.stdout
    assert counts(team_dir)["people"] == 3
