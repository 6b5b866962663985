"""The printed report: its text holds every figure of the JSON (and of the XLSX), in the
administrative layout, with Vietnamese diacritics; a past period prints the same figures after
later corrections; bad input writes no PDF."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from dxkit import demo
from dxkit.cli import cli
from dxkit.core.i18n import set_language
from dxkit.households.visits import VisitItem
from dxkit.reports.monthly import Period, build
from dxkit.reports.output import write_pdf
from dxkit.workspace import Workspace
from tests.reports.test_cli_report import run
from tests.reports.test_monthly import Wall, at, team  # noqa: F401 (the fixture)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    demo.fill(folder, households=120)
    ws = Workspace.open(folder)
    try:  # official figures for every hamlet but the last: both cases of the share
        for n, hamlet in enumerate(ws.catalog.hamlets()[:-1]):
            ws.catalog.set_population(hamlet.id, 300 + 10 * n, 250 + 10 * n)
    finally:
        ws.close()
    return folder


@pytest.fixture(autouse=True)
def english_after() -> Iterator[None]:
    yield
    set_language("en")


def pages_of(path: Path) -> list[str]:
    document = pypdfium2.PdfDocument(str(path))
    try:
        return [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()


def flat(text: str) -> str:
    """The text with every run of white space (a line wrapped in a cell) as one space."""
    return " ".join(text.split())


def number(value: int) -> str:
    return f"{value:,}"


def percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.1f}%"


def signed(value: float, text: str) -> str:
    return ("+" if value > 0 else "−" if value < 0 else "") + text


def expected_rows(data: dict[str, Any]) -> list[str]:
    """Each figure of the JSON as the English PDF prints it, with its row's label."""
    classes = data["classes"]
    rows = [f"Visits {number(data['visits'])}",
            f"Households reached {number(data['households_reached'])}",
            "People helped (at least one support item done or partly done) "
            f"{number(data['people_helped'])}",
            "Households whose follow-up date passed before the end of the period without a new "
            f"visit {number(data['followups_overdue'])}",
            f"Class sessions held {number(classes['sessions'])}",
            f"Learners who attended {number(classes['learners_attended'])}",
            f"Learners who completed a course {number(data['learners_completed'])}",
            f"Certificates issued {number(classes['certificates_issued'])}",
            f"Diary entries {number(data['diary_entries'])}",
            f"Compliant lots {number(data['lots']['compliant'])}",
            f"Refused lots (labels withheld) {number(data['lots']['refused'])}",
            f"Labels printed {number(data['labels_printed'])}"]
    rows += [f"{i['name']} {i['done']} {i['partly']} {i['not_done']} "
             f"{i['done'] + i['partly'] + i['not_done']}" for i in data["items"]]
    for group in [data["indicators"], *(h["indicators"] for h in data["hamlets"])]:
        for i in group:
            # Shares from the counts themselves (the JSON's are rounded to 4 places).
            share = i["reached"] / i["counted"] if i["counted"] else 0.0
            start = i["start"]
            then = start["reached"] / start["counted"] if start["counted"] else 0.0
            official = i["official"]["population"]
            assert i["change"]["reached"] == i["reached"] - start["reached"]
            rows.append(" ".join([
                i["name"], f"{number(i['reached'])}/{number(i['counted'])}",
                percent(share), number(start["reached"]), percent(then),
                signed(i["change"]["reached"], number(abs(i["change"]["reached"]))),
                signed(share - then, f"{abs(share - then) * 100:.1f}"),
                "—" if official is None else
                f"{percent(i['reached'] / official)} {number(i['reached'])}/{number(official)}",
                "—" if i["target"] is None else percent(i["target"]),
                "—" if i["met"] is None else ("met" if i["met"] else "not met")]))
    rows += [f"{h['name']} {h['visits']} {h['households_reached']} {h['people_helped']} "
             f"{h['followups_overdue']}" for h in data["hamlets"]]
    return rows


def test_the_pdf_prints_every_figure_of_the_json_and_the_xlsx(demo_dir: Path,
                                                              tmp_path: Path) -> None:
    files = {fmt: tmp_path / f"november.{fmt}" for fmt in ("pdf", "json", "xlsx")}
    for fmt, path in files.items():
        result = run(demo_dir, "report", "monthly", "--month", "2026-11", "--format", fmt,
                     "--out", str(path))
        assert result.exit_code == 0, result.output
    data = json.loads(files["json"].read_text(encoding="utf-8"))
    pages = pages_of(files["pdf"])
    text = flat("\n".join(pages))
    assert len(pages) >= 3
    assert all(flat(page).startswith(f"{n}/{len(pages)}") or
               flat(page).endswith(f"{n}/{len(pages)}") for n, page in enumerate(pages, 1))
    for row in expected_rows(data):
        assert flat(row) in text, row
    # The per-hamlet table runs over pages, its header repeated on each.
    carrying = [n for n, page in enumerate(pages) if "Reached / registered" in flat(page)]
    assert len(carrying) >= 3 and carrying == list(range(carrying[0], carrying[-1] + 1))
    # The official share shows beside the registered one where every hamlet has the figure.
    assert any(h["indicators"][0]["official"]["share"] is not None for h in data["hamlets"])
    assert data["indicators"][0]["official"]["population"] is None
    missing = data["indicators"][0]["official"]["missing"]
    assert len(missing) == 1 and f"Without an official population: {missing[0]}." in text
    assert data["classes"]["sessions"] > 0 and data["visits"] > 0

    # The XLSX's summary: each figure in the PDF under the same label.
    book = load_workbook(files["xlsx"], read_only=True)
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(min_row=2,
                                                                  values_only=True)}
    book.close()
    for label in ("Visits", "Households reached", "Class sessions held",
                  "Learners who attended", "Learners who completed a course",
                  "Certificates issued", "Diary entries", "Compliant lots", "Labels printed"):
        assert isinstance(summary[label], int)
        assert f"{label} {number(summary[label])}" in text, label
    assert summary["Visits"] == data["visits"]


def test_the_vietnamese_layout_and_its_diacritics(demo_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "bao-cao.pdf"
    result = CliRunner().invoke(cli, [
        "--lang", "vi", "--data-dir", str(demo_dir), "report", "monthly", "--format", "pdf",
        "--from", "2026-11-03", "--to", "2026-11-20", "--out", str(out)])
    assert result.exit_code == 0, result.output
    pages = pages_of(out)
    first = flat(pages[0])
    for line in ("UBND XÃ MỸ THỌ", "TỔ CÔNG NGHỆ SỐ CỘNG ĐỒNG",
                 "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                 "Số: …/BC-TCNSCĐ", "BÁO CÁO",
                 "Kết quả hoạt động của tổ công nghệ số cộng đồng từ ngày 03/11/2026 đến "
                 "ngày 20/11/2026", "1. Hoạt động trong kỳ", "Lượt thăm hộ"):
        assert line in first, line
    assert re.search(r"Mỹ Thọ, ngày \d\d tháng (0[12]|[3-9]|1[012]) năm \d{4}", first)
    last = flat(pages[-1])
    for line in ("Nơi nhận:", "- UBND xã;", "- Lưu.", "TỔ TRƯỞNG", "(Ký, ghi rõ họ tên)"):
        assert line in last, line
    whole = flat("\n".join(pages))
    for number_, title in enumerate(("Hoạt động trong kỳ", "Nội dung hỗ trợ và kết quả",
                                     "Chỉ tiêu cuối kỳ so với mục tiêu", "Theo ấp",
                                     "Hẹn quay lại quá hạn", "Lớp học",
                                     "Nhật ký sản xuất, lô hàng và tem",
                                     "Sửa đổi ghi sau kỳ báo cáo"), start=1):
        assert f"{number_}. {title}" in whole, title


def test_a_past_month_prints_the_same_figures_after_later_corrections(
        team: tuple[Workspace, Wall], tmp_path: Path) -> None:
    ws, wall = team
    set_language("en")
    member = [ws.catalog.members()[0].id]
    item = next(s for s in ws.catalog.support_items() if s.indicator_code)
    one = ws.households.add(code="MH-001", head_name="Nguyễn Văn An",
                            hamlet="Ấp Mỹ Hưng").value
    an = ws.people.add(one.id, full_name="Nguyễn Văn An", birth_year=1970).value
    at(ws, wall, "2026-10-05T09:00")
    first = ws.visits.add(one.id, [VisitItem(item.code, "done", an.id)],
                          visited_at=dt.datetime(2026, 10, 5, 9), member_ids=member).value.id
    at(ws, wall, "2026-11-02T08:00")
    october = Period.month("2026-10")
    before = build(ws, october)
    write_pdf(before, tmp_path / "before.pdf")
    at(ws, wall, "2026-11-10T10:00")
    ws.visits.void(first, reason="Wrong household")
    after = dataclasses.replace(build(ws, october), issued_on=before.issued_on)
    write_pdf(after, tmp_path / "after.pdf")

    def figures(path: Path) -> str:
        text = flat("\n".join(pages_of(path)))
        return re.sub(r"\d+/\d+ ", "", text.split("8. Corrections recorded")[0])

    assert figures(tmp_path / "before.pdf") == figures(tmp_path / "after.pdf")
    assert "Visits 1" in figures(tmp_path / "after.pdf")
    later = flat("\n".join(pages_of(tmp_path / "after.pdf")))
    assert "void 2026-10-05 2026-11-10 Wrong household" in later
    assert "With them: visits 0, households reached 0, people helped 0." in later


@pytest.mark.parametrize(("args", "words"), [
    (["--month", "2026-13"], "YYYY-MM"),
    (["--month", "2026-11", "--hamlet", "Ấp Không Có"], "Unknown hamlet"),
    (["--from", "2026-11-30", "--to", "2026-11-01"], "after it ends"),
])
def test_bad_input_writes_no_pdf(demo_dir: Path, tmp_path: Path, args: list[str],
                                 words: str) -> None:
    out = tmp_path / "report.pdf"
    result = run(demo_dir, "report", "monthly", *args, "--format", "pdf", "--out", str(out))
    assert result.exit_code != 0 and words in result.output
    assert len([line for line in result.output.splitlines() if line.strip()]) == 1
    assert not out.exists() and list(tmp_path.iterdir()) == []
