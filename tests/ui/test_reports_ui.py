"""The "Báo cáo" page: a period and a hamlet, the report's figures in tables (the same as the
JSON of `dxkit report monthly`), and saving it as XLSX or JSON."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrinter

from dxkit import demo
from dxkit.core import i18n
from dxkit.core.i18n import format_date, format_number
from dxkit.core.progress import Progress
from dxkit.labels.verify import page_texts, preview_pages
from dxkit.reports.monthly import Period, build
from dxkit.ui.context import AppContext
from dxkit.ui.label_printing import page_count
from dxkit.ui.main_window import section_keys
from dxkit.ui.reports_page import (
    CORRECTIONS,
    HAMLET_INDICATORS,
    HAMLETS,
    INDICATORS,
    ITEMS,
    SUMMARY,
    ReportsPage,
    new_printer,
    paint_pdf,
    signed_points,
)
from dxkit.workspace import Workspace
from tests.conftest import FROZEN_NOW
from tests.ui.conftest import open_copy, settle


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory):
    """A demo workspace made once (its visits run from mid-2026 to FROZEN_NOW)."""
    folder = tmp_path_factory.mktemp("reports") / "demo"
    ws = Workspace.open(folder)
    ws.freeze_time(FROZEN_NOW)
    demo.generate(ws, seed=3, households=30)
    key = ws.key
    ws.close()
    return folder, key


@pytest.fixture
def demo_ctx(demo_folder, tmp_path, qtbot):
    ws = open_copy(*demo_folder, tmp_path / "demo")
    context = AppContext(ws)
    yield context
    context.tasks.shutdown()
    ws.close()


def make_page(ctx, qtbot) -> ReportsPage:
    page = ReportsPage(ctx)
    qtbot.addWidget(page)
    settle(qtbot, ctx, lambda: page.report is not None and not page.building)
    return page


def wait_built(page, ctx, qtbot) -> None:
    settle(qtbot, ctx, lambda: not page.building and page.up_to_date())


def expected(ctx, period: Period, hamlet: str | None = None) -> dict:
    """The JSON `dxkit report monthly` writes for this period, read back."""
    from dxkit.reports.output import to_json

    return json.loads(to_json(build(ctx.ws, period, hamlet=hamlet)))


def number(value: int) -> str:
    return format_number(value)


def share(value: float | None) -> str:
    return "" if value is None else f"{format_number(value * 100, decimals=1)} %"


def met(value: bool | None) -> str:
    return {None: "", True: "✓", False: "✗"}[value]


def indicator_texts(row: dict) -> list[str]:
    """The page's texts of one indicator of the JSON. The JSON rounds a share to 4 digits
    (0,2025 for 16 of 79): the page shows the share itself to one decimal (20,3 %)."""
    exact = row["reached"] / row["counted"] if row["counted"] else 0.0
    assert abs(exact - row["share"]) <= 0.00005
    official = row["official"]
    of_official = (row["reached"] / official["population"] if official["population"]
                   else None)
    if of_official is not None:
        assert abs(of_official - official["share"]) <= 0.00005
    target = "" if row["target"] is None else f"{share(row['target'])} {met(row['met'])}"
    return [row["name"], number(row["reached"]), number(row["counted"]), share(exact),
            signed_points(row["change"]["share"]), share(of_official), target, ""]


def assert_shows(page, data: dict) -> None:
    """Every table of the page holds the JSON's figures."""
    summary = dict(page.table_texts(SUMMARY))
    assert summary["Lượt thăm hộ"] == number(data["visits"])
    assert summary["Số hộ được thăm"] == number(data["households_reached"])
    assert summary["Số người được hỗ trợ"] == number(data["people_helped"])
    assert summary["Lượt hẹn quá hạn vào cuối kỳ"] == number(data["followups_overdue"])
    assert summary["Học viên hoàn thành khóa học"] == number(data["learners_completed"])
    assert summary["Số buổi học đã tổ chức"] == number(data["classes"]["sessions"])
    assert summary["Học viên đã tham gia"] == number(data["classes"]["learners_attended"])
    assert summary["Chứng nhận đã cấp"] == number(data["classes"]["certificates_issued"])
    assert summary["Số mục nhật ký"] == number(data["diary_entries"])
    assert summary["Lô đạt yêu cầu"] == number(data["lots"]["compliant"])
    assert summary["Lô không đạt"] == number(data["lots"]["refused"])
    assert summary["Số tem đã in"] == number(data["labels_printed"])
    assert summary["Sửa đổi ghi sau kỳ báo cáo"] == number(len(data["corrections"]["visits"]))
    assert page.table_texts(ITEMS) == [
        [i["name"], number(i["done"]), number(i["partly"]), number(i["not_done"])]
        for i in data["items"]]
    assert page.table_texts(INDICATORS) == [indicator_texts(i) for i in data["indicators"]]
    assert page.table_texts(HAMLETS) == [
        [h["name"], number(h["visits"]), number(h["households_reached"]),
         number(h["people_helped"]), number(h["followups_overdue"])] for h in data["hamlets"]]
    by_hamlet: list[list[str]] = []
    for hamlet in data["hamlets"]:  # the hamlet's name on a row of its own, then its rows
        by_hamlet.append([hamlet["name"], *[""] * 7])
        by_hamlet += [indicator_texts(i) for i in hamlet["indicators"]]
    assert page.table_texts(HAMLET_INDICATORS) == by_hamlet
    assert len(page.table_texts(CORRECTIONS)) == len(data["corrections"]["visits"])


def test_the_report_is_built_off_the_ui_thread_with_progress(demo_ctx, qtbot):
    page = ReportsPage(demo_ctx)
    qtbot.addWidget(page)
    # The page is on screen before the report: built on the database thread, shown when in.
    assert page.report is None and page.building
    assert page.state.text() == "Đang lập báo cáo…"
    assert [task.label for task in demo_ctx.tasks.active] == ["Đang lập báo cáo"]
    settle(qtbot, demo_ctx, lambda: page.report is not None)
    assert not page.building and not demo_ctx.tasks.active


def test_it_opens_on_last_month_and_shows_the_figures_of_the_json(demo_ctx, qtbot):
    page = make_page(demo_ctx, qtbot)
    assert page.month.currentData() == "2026-10"  # FROZEN_NOW is in November 2026
    assert page.month.currentText() == "Tháng 10/2026"
    data = expected(demo_ctx, Period.month("2026-10"))
    assert data["visits"] > 0 and any(i["done"] for i in data["items"])
    assert_shows(page, data)
    assert page.state.text() == "Báo cáo từ 01/10/2026 đến 31/10/2026, Tất cả ấp/khóm."
    assert [page.tabs.tabText(i) for i in range(page.tabs.count())] == [
        "Tổng hợp", "Nội dung hỗ trợ đã làm", "Chỉ tiêu số", "Ấp/khóm", "Chỉ tiêu theo ấp",
        "Sửa đổi"]


def test_a_hamlet_and_a_span_of_days(demo_ctx, qtbot):
    page = make_page(demo_ctx, qtbot)
    hamlet = demo_ctx.ws.catalog.hamlets()[1]
    page.set_hamlet(hamlet.id)
    page.set_days(dt.date(2026, 9, 15), dt.date(2026, 11, 14))
    wait_built(page, demo_ctx, qtbot)
    assert page.report.period == Period(dt.date(2026, 9, 15), dt.date(2026, 11, 14))
    assert page.month.isHidden() and not page.days.isHidden()
    data = expected(demo_ctx, Period(dt.date(2026, 9, 15), dt.date(2026, 11, 14)), hamlet.id)
    assert data["hamlet"] == hamlet.name and data["visits"] > 0
    assert_shows(page, data)
    assert page.state.text() == (f"Báo cáo từ 15/09/2026 đến 14/11/2026, {hamlet.name}.")
    page.set_month("2026-09")
    wait_built(page, demo_ctx, qtbot)
    assert_shows(page, expected(demo_ctx, Period.month("2026-09"), hamlet.id))


def test_both_shares_and_the_change_over_the_period(demo_ctx, qtbot):
    """With the hamlets' official population entered, each indicator shows its share of the
    people registered and of the official population (15+ or adults, by its age), and its
    change since the start of the period; a hamlet without the figure leaves the official
    share empty, saying why."""
    catalog = demo_ctx.ws.catalog
    hamlets = catalog.hamlets()
    for number_, hamlet in enumerate(hamlets):
        catalog.set_population(hamlet.id, 400 + 10 * number_, 300 + 10 * number_)
    page = make_page(demo_ctx, qtbot)
    page.set_month("2026-11")
    wait_built(page, demo_ctx, qtbot)
    data = expected(demo_ctx, Period.month("2026-11"))
    assert_shows(page, data)
    texts = {row[0]: row for row in page.table_texts(INDICATORS)}
    smartphone = next(i for i in data["indicators"] if i["code"] == "smartphone")
    signature = next(i for i in data["indicators"] if i["code"] == "digital_signature")
    assert smartphone["official"]["population"] == sum(400 + 10 * n for n in range(len(hamlets)))
    assert signature["official"]["population"] == sum(300 + 10 * n for n in range(len(hamlets)))
    assert texts[smartphone["name"]][5] == share(
        smartphone["reached"] / smartphone["official"]["population"])
    assert any(i["change"]["share"] > 0 for i in data["indicators"])  # November's visits
    assert {row[4] for row in texts.values()} != {"0,0"}

    catalog.set_population(hamlets[0].id, None, None)
    page.preview()
    wait_built(page, demo_ctx, qtbot)
    row = [i["code"] for i in data["indicators"]].index("smartphone")
    cell = page.models[INDICATORS].index(row, 5)
    assert cell.data() == ""
    assert cell.data(Qt.ItemDataRole.ToolTipRole) == (
        f"Chưa nhập dân số chính thức của: {hamlets[0].name}.")


def test_a_period_that_ends_before_it_starts_is_one_sentence(demo_ctx, qtbot, tmp_path):
    page = make_page(demo_ctx, qtbot)
    page.set_days(dt.date(2026, 10, 31), dt.date(2026, 10, 1))
    assert page.state.text() == ("Kỳ báo cáo bắt đầu ngày 2026-10-31, sau ngày kết thúc "
                                 "2026-10-01: hãy cho ngày sớm hơn trước.")
    demo_ctx.tasks.wait_idle()  # the builds of the days typed before arrive: not shown
    settle(qtbot, demo_ctx, lambda: not page.building)
    assert page.report is None  # no figures of another period left on screen
    assert all(page.table_texts(i) == [] for i in range(page.tabs.count()))
    assert page.state.text().startswith("Kỳ báo cáo bắt đầu ngày 2026-10-31")
    assert page.save_as(str(tmp_path / "r.json")) is False
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("suffix", [".json", ".xlsx", ".pdf"])
def test_save_as_writes_the_report_of_the_choice(demo_ctx, qtbot, tmp_path, suffix):
    page = make_page(demo_ctx, qtbot)
    page.set_month("2026-11")  # and save at once: the report of November is written
    target = tmp_path / f"report{suffix}"
    assert page.save_as(str(target))
    settle(qtbot, demo_ctx, lambda: page.last_path == target)
    data = expected(demo_ctx, Period.month("2026-11"))
    if suffix == ".json":
        assert json.loads(target.read_text(encoding="utf-8")) == data
    elif suffix == ".pdf":
        text = " ".join(page_texts(target.read_bytes())).replace("\r\n", " ")
        assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
        assert "11/2026" in text and "10/2026" not in text  # the month chosen
    else:
        book = load_workbook(target, read_only=True)
        summary = {row[0]: row[1] for row in book.worksheets[0].iter_rows(values_only=True)}
        assert summary["Lượt thăm hộ"] == data["visits"]  # a number, not text
        assert summary["Từ ngày"] == "2026-11-01"
        book.close()


def test_save_as_asks_where_and_refuses_an_unknown_format(demo_ctx, qtbot, tmp_path,
                                                          monkeypatch):
    page = make_page(demo_ctx, qtbot)
    asked = []
    monkeypatch.setattr(page, "ask_save_path", lambda name: asked.append(name) or "")
    assert page.save_as() is False  # cancelled: nothing written, nothing said
    assert asked == ["bao-cao-2026-10.pdf"]
    page.set_days(dt.date(2026, 10, 5), dt.date(2026, 10, 20))
    page.save_as()
    assert asked[-1] == "bao-cao-2026-10-05_2026-10-20.pdf"
    shown = []
    monkeypatch.setattr("dxkit.ui.reports_page.show_message",
                        lambda _parent, text: shown.append(text))
    assert page.save_as(str(tmp_path / "report.txt")) is False
    assert shown == ["Lưu báo cáo dạng .pdf, .xlsx, .json: tên tệp phải có một trong các đuôi "
                     "này."]
    assert page.save_as(str(tmp_path / "missing" / "report.json")) is False
    assert shown[-1] == f"Thư mục {tmp_path / 'missing'} không tồn tại."
    assert list(tmp_path.iterdir()) == [tmp_path / "demo"]


def test_a_change_to_the_records_asks_for_a_new_preview(demo_ctx, qtbot):
    page = make_page(demo_ctx, qtbot)
    period = page.report.period
    first = page.report
    household = demo_ctx.ws.households.list()[0]
    from dxkit.households.visits import VisitItem

    member = demo_ctx.ws.catalog.members()[0].id
    result = demo_ctx.ws.visits.add(household.id, [VisitItem("online_safety", "done")],
                                    visited_at=dt.datetime(2026, 10, 12, 9, 0),
                                    member_ids=[member])
    demo_ctx.notify(result.changes)
    settle(qtbot, demo_ctx, lambda: page.stale)
    assert page.state.text().endswith("Số liệu đã thay đổi từ đó: bấm Xem trước để lập lại.")
    page.preview_button.click()
    wait_built(page, demo_ctx, qtbot)
    assert page.report.period == period
    assert page.report.activity.visits == first.activity.visits + 1
    assert_shows(page, expected(demo_ctx, period))


def test_english(demo_ctx, qtbot):
    i18n.set_language("en")
    page = make_page(demo_ctx, qtbot)
    assert page.month.currentText() == "Month 10/2026"
    assert page.kind.currentText() == "A month"
    assert page.state.text() == (f"Report for {format_date(dt.date(2026, 10, 1))} to "
                                 f"{format_date(dt.date(2026, 10, 31))}, All hamlets.")
    assert page.models[INDICATORS].headers() == [
        "Indicator", "Reached", "Counted", "Share of\npeople registered", "Change\n(points)",
        "Share of\nofficial population", "Target", ""]
    assert page.tabs.tabText(SUMMARY) == "Summary"


def test_the_main_window_lists_it_after_indicators_with_its_own_key(window, qtbot):
    keys = [section.key for section in window.sections]
    assert keys.index("reports") == keys.index("indicators") + 1
    assert window.nav_titles()[keys.index("reports")] == "Báo cáo"
    shortcuts = section_keys(window.sections)
    assert shortcuts["reports"] == "Ctrl+B"
    # The other sections keep the digits they had before the reports came.
    assert [shortcuts[k] for k in keys if k != "reports"] == [
        f"Ctrl+{d}" for d in "1234567890"]
    assert len(set(shortcuts.values())) == len(shortcuts)
    assert window.nav.item(keys.index("reports")).toolTip() == "Báo cáo (Ctrl+B)"
    window.activateWindow()
    qtbot.keyClick(window.nav, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    assert window.current_section() == "reports"
    assert isinstance(window.shown_page(), ReportsPage)
    settle(qtbot, window.ctx, lambda: window.shown_page().report is not None)


def test_the_page_of_a_first_start(fresh_ws, qtbot):
    """No hamlet, no visit: the report of zeros, without an error."""
    ctx = AppContext(fresh_ws)
    try:
        page = make_page(ctx, qtbot)
        assert dict(page.table_texts(SUMMARY))["Lượt thăm hộ"] == "0"
        assert page.table_texts(HAMLETS) == []
        assert not page.tabs.isTabEnabled(HAMLETS)
    finally:
        ctx.tasks.shutdown()



# -- printing ---------------------------------------------------------------------------------
def two_pages() -> bytes:
    """An A4 PDF of two pages: a black block in the top-left quarter of the first, in the
    bottom-right quarter of the second."""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    width, height = A4
    canvas.rect(20, height / 2 + 20, width / 2 - 40, height / 2 - 40, fill=1)
    canvas.showPage()
    canvas.rect(width / 2 + 20, 20, width / 2 - 40, height / 2 - 40, fill=1)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def print_to_file(path) -> QPrinter:
    printer = new_printer()
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return printer


def dark(image, x: float, y: float) -> bool:
    """Whether the pixel at (x, y), as fractions of the page, is black."""
    return image.convert("L").getpixel((int(x * image.width), int(y * image.height))) < 64


def test_paint_pdf_puts_every_page_on_paper_where_it_was(qapp, tmp_path):
    out = tmp_path / "printed.pdf"
    printer = print_to_file(out)
    progress = Progress()
    assert paint_pdf(printer, two_pages(), progress) == 2
    assert progress.snapshot()[:2] == (2, 2)
    printed = out.read_bytes()
    assert page_count(printed) == 2
    first, second = preview_pages(printed, 30)
    assert dark(first, 0.25, 0.25) and not dark(first, 0.75, 0.75)
    assert dark(second, 0.75, 0.75) and not dark(second, 0.25, 0.25)


def test_print_sends_the_report_of_the_choice_to_the_printer(demo_ctx, qtbot, tmp_path,
                                                             monkeypatch):
    page = make_page(demo_ctx, qtbot)
    out = tmp_path / "printer.pdf"
    chosen = []

    def choose(printer):
        chosen.append(printer.docName())
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)  # the "printer" is a file
        printer.setOutputFileName(str(out))
        printer.setResolution(96)  # a coarse printer: pages rendered at 96 dpi
        return True

    monkeypatch.setattr(page, "choose_printer", choose)
    page.set_month("2026-11")
    assert page.print_report()
    settle(qtbot, demo_ctx, lambda: page.printed_pages > 0)
    assert chosen == ["bao-cao-2026-11"]
    saved = tmp_path / "saved.pdf"
    page.save_as(str(saved))
    settle(qtbot, demo_ctx, lambda: page.last_path == saved)
    assert page_count(out.read_bytes()) == page_count(saved.read_bytes()) == page.printed_pages

    monkeypatch.setattr(page, "choose_printer", lambda _printer: False)  # Cancel
    page.printed_pages = 0
    assert page.print_report() is False
    demo_ctx.tasks.wait_idle()
    assert page.printed_pages == 0


def test_after_a_language_switch_the_page_speaks_english(window, qtbot):
    page = window.show_section("reports")
    settle(qtbot, window.ctx, lambda: page.report is not None and not page.building)
    i18n.set_language("en")
    window.ctx.language_changed.emit("en")
    again = window.show_section("reports")
    settle(qtbot, window.ctx, lambda: again.report is not None and not again.building)
    assert again.models[SUMMARY].headers() == ["Figure", "Value"]
    assert again.tabs.tabText(INDICATORS) == "Indicators"
    assert again.print_button.text() == "Print…"
    assert "Reports" in window.nav_titles()
