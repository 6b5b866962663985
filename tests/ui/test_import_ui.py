"""The import wizard (check first, import only a clean file) and the export tab."""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import pytest
import shiboken6
from openpyxl import load_workbook

from dxkit.core import i18n
from dxkit.households.legacy_text import unicode_to_tcvn3
from dxkit.ui.households_page import HouseholdsPage
from dxkit.ui.import_export_page import ImportExportPage
from tests.ui.conftest import settle

HEADER = ["Mã hộ", "Chủ hộ", "Ấp/Khóm", "Họ và tên", "Giới tính", "Ngày sinh", "SĐT",
          "Đồng ý lưu dữ liệu"]
GOOD = [
    ["MH-001", "Nguyễn Văn Đồng", "Ấp Mỹ Hưng", "Nguyễn Văn Đồng", "Nam", "05/09/1968",
     "0912345678", "Có"],
    ["MH-001", "Nguyễn Văn Đồng", "Ấp Mỹ Hưng", "Trần Thị Ánh", "Nữ", "1972", "", ""],
    ["K3-010", "Lê Thị Hoa Phượng", "Khóm 3", "", "", "", "", ""],
]
# Line 3 of the file (the second data row): a sex that is neither Nam nor Nữ.
BAD = [GOOD[0], [*GOOD[1][:4], "Khác", *GOOD[1][5:]], GOOD[2]]


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    return path


@pytest.fixture
def page(ctx, qtbot) -> ImportExportPage:
    widget = ImportExportPage(ctx)
    qtbot.addWidget(widget)
    return widget


def checked(qtbot, page, path):
    page.start_import(path)
    qtbot.waitUntil(lambda: page.steps.currentIndex() != page.BUSY)
    return page.plan


def cells(table):
    return [[table.item(r, c).text() for c in range(table.columnCount())]
            for r in range(table.rowCount())]


def test_a_bad_row_is_shown_with_line_and_column_and_blocks_the_import(
        qtbot, page, ws, tmp_path):
    plan = checked(qtbot, page, write_csv(tmp_path / "bad.csv", BAD))
    assert plan is not None and not plan.ok
    assert page.steps.currentIndex() == page.PREVIEW
    problems = cells(page.problems_table)
    assert [row[:3] for row in problems] == [["3", "Giới tính", "lỗi"]]
    assert "Nam" in problems[0][3] and "Nữ" in problems[0][3]
    assert not page.import_button.isEnabled()
    assert "1 lỗi" in page.verdict.text()
    page.apply_import()  # refused while the plan has errors
    assert page.steps.currentIndex() == page.PREVIEW
    assert ws.households.count() == 0


def test_english_says_one_error_and_two_errors_one_row_and_two_rows(qtbot, page, ws, tmp_path):
    two_bad = [BAD[0], BAD[1], [*BAD[1][:3], "Lê Văn Tám", "Khác", "", "", ""]]
    try:
        i18n.set_language("en")
        checked(qtbot, page, write_csv(tmp_path / "bad.csv", BAD))
        assert page.verdict.text().startswith("1 error and 0 warnings: fix the errors")
        checked(qtbot, page, write_csv(tmp_path / "two.csv", two_bad))
        assert page.verdict.text().startswith("2 errors and 0 warnings: ")
        for count in (1, 2):
            ws.households.add(code=f"MH-00{count}", head_name="Nguyễn Văn Đồng",
                              hamlet="Ấp Mỹ Hưng")
            page.start_export("households", "csv", tmp_path / f"ho-{count}")
            qtbot.waitUntil(lambda: page.exported is not None)
            assert page.export_message.text().startswith(
                f"{count} row written to " if count == 1 else f"{count} rows written to ")
    finally:
        i18n.set_language("vi")


def test_a_good_file_imports_and_households_appear(qtbot, page, ctx, ws, tmp_path):
    seen = []
    ctx.changed.connect(seen.append)
    plan = checked(qtbot, page, write_csv(tmp_path / "good.csv", GOOD))
    assert plan.ok
    assert "Hộ: 2 mới, 0 cần cập nhật, 0 không đổi" in page.counts_label.text()
    assert "Nhân khẩu: 2 mới" in page.counts_label.text()
    assert page.import_button.isEnabled()
    planned = cells(page.rows_table)
    assert planned[0][:5] == ["2", "hộ", "mới", "MH-001", "Nguyễn Văn Đồng"]
    assert len(planned) == 4
    assert ws.households.count() == 0  # the check wrote nothing

    page.apply_import()
    qtbot.waitUntil(lambda: page.steps.currentIndex() == page.DONE)
    assert page.done_label.text() == ("Đã nhập good.csv. Hộ: 2 mới, 0 cập nhật. Nhân khẩu: 2 "
                                      "mới, 0 cập nhật.")
    assert ws.households.by_code("MH-001").hamlet == "Ấp Mỹ Hưng"
    assert ws.households.by_code("K3-010").head_name == "Lê Thị Hoa Phượng"
    assert ws.people.count() == 2
    assert len(seen) == 1 and seen[0].touched("households") and seen[0].touched("people")

    # The same file again changes nothing, and says so.
    page.restart()
    plan = checked(qtbot, page, tmp_path / "good.csv")
    assert plan.counts.unchanged_households == 2 and plan.counts.unchanged_people == 2
    assert not page.import_button.isEnabled()


def test_an_import_still_reaches_the_list_if_its_page_was_rebuilt(qtbot, ctx, ws, tmp_path):
    """A language switch deletes the page while the import runs: the households list must
    still hear of the new households."""
    households = HouseholdsPage(ctx)
    qtbot.addWidget(households)
    seen = []
    ctx.changed.connect(seen.append)
    page = ImportExportPage(ctx)  # deleted below, so not handed to qtbot
    assert checked(qtbot, page, write_csv(tmp_path / "good.csv", GOOD)).ok
    gate = threading.Event()
    ctx.tasks.run(lambda _progress: gate.wait(10), cancellable=False)  # import still queued
    page.apply_import()
    shiboken6.delete(page)
    gate.set()
    settle(qtbot, ctx, lambda: households.model.rowCount() == 2)
    assert len(seen) == 1 and seen[0].touched("households")
    assert not households.is_empty_state()


def test_legacy_font_columns_are_reported(qtbot, page, tmp_path):
    # Unicode CSV whose name columns hold TCVN3 font text, as Excel saves such sheets.
    rows = [[unicode_to_tcvn3(c).decode("cp1252") if j in (1, 3) else c
             for j, c in enumerate(row)] for row in GOOD]
    plan = checked(qtbot, page, write_csv(tmp_path / "tcvn3.csv", rows))
    assert plan.ok, plan.problems
    text = page.encodings_label.text()
    assert "Cột Họ và tên: TCVN3 → đã chuyển sang Unicode" in text
    assert "Cột Chủ hộ: TCVN3" in text


def test_an_unreadable_file_goes_back_to_the_first_step_with_a_sentence(qtbot, page, tmp_path):
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    page.start_import(tmp_path / "old.xls")
    qtbot.waitUntil(lambda: page.steps.currentIndex() == page.PICK)
    assert ".xlsx" in page.pick_message.text() and not page.pick_message.isHidden()


def test_cancelling_the_check_returns_to_the_start(qtbot, page, ctx, tmp_path):
    path = write_csv(tmp_path / "good.csv", GOOD)
    gate = []
    # Hold the database worker so the check is still queued when Cancel is pressed.
    ctx.tasks.run(lambda _progress: _wait_for(gate), label="hold")
    page.start_import(path)
    page.cancel()
    gate.append(True)
    qtbot.waitUntil(lambda: page.steps.currentIndex() == page.PICK)
    assert "Đã hủy" in page.pick_message.text()
    assert page.plan is None


def _wait_for(gate: list, limit: float = 5.0) -> None:
    import time

    deadline = time.monotonic() + limit
    while not gate and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_writes_a_file_and_says_where(qtbot, page, ws, tmp_path, fmt):
    for code, hamlet in (("MH-001", "Ấp Mỹ Hưng"), ("K3-002", "Khóm 3")):
        household = ws.households.add(code=code, head_name="Nguyễn Văn Đồng", hamlet=hamlet)
        ws.people.add(household.value.id, full_name="Trần Thị Ánh", birth_date="1972")
    page.kind_buttons["people"].setChecked(True)
    page.format_buttons[fmt].setChecked(True)
    kind, chosen = page.export_choice()
    page.start_export(kind, chosen, tmp_path / "nhan-khau")
    qtbot.waitUntil(lambda: page.exported is not None)
    count, path = page.exported
    assert path == tmp_path / f"nhan-khau.{fmt}" and path.is_file()
    assert count == 2
    assert f"2 dòng đã ghi vào {path}" in page.export_message.text()
    assert page.export_button.isEnabled()
    if fmt == "csv":
        with path.open(encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    else:
        rows = [list(r) for r in load_workbook(path).active.iter_rows(values_only=True)]
    assert rows[0][0] == "Mã hộ" and {r[0] for r in rows[1:]} == {"MH-001", "K3-002"}
