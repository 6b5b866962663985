"""The "Báo cáo" page: the team's report for a month or any period (dxkit.reports.monthly),
of every hamlet or one, previewed in tables and saved as PDF, XLSX or JSON, or printed (its
PDF, rendered by PDFium onto the printer the system's print dialog gives: QtPdf is not
shipped, see installer/dxkit.spec).

The report is built on the database thread (a large commune takes a second or two) and the
page shows it when it arrives; saving and printing use the report of the period and hamlet
chosen, building it first when the preview is of another choice (or out of date)."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QColor, QFont, QPageLayout, QPageSize, QPainter
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from dxkit.core.errors import DxError
from dxkit.core.i18n import _, counted, format_date, format_number
from dxkit.core.progress import Progress
from dxkit.core.synced import Changes
from dxkit.households.catalog import ADULT_AGE
from dxkit.labels.verify import preview_pages
from dxkit.reports.monthly import (
    Classes,
    IndicatorRow,
    MonthlyReport,
    Period,
    build,
)
from dxkit.reports.output import write_json, write_pdf, write_xlsx
from dxkit.ui.appearance import HINT_STYLE
from dxkit.ui.context import AppContext
from dxkit.ui.farm_forms import date_edit, from_qdate, to_qdate
from dxkit.ui.fitting import flow_row, keep_together, limit_width
from dxkit.ui.indicators_page import MISSED_COLOUR, ShareBarDelegate, wrap_names
from dxkit.ui.label_printing import page_count, to_qimage
from dxkit.ui.page import Page
from dxkit.ui.widgets import RowsTableModel, fill_choices, show_message

# A report reads visits, people, classes and the farm: a change to any of them may move it.
WATCHED_TABLES = ("visits", "visit_items", "indicator_answers", "people", "households",
                  "indicators", "hamlets", "support_items", "follow_up_closures", "classes",
                  "class_learners", "lesson_events", "lots", "label_prints", "diary_entries")
MONTHS_OFFERED = 36  # the month list reaches three years back
MET_COLOUR = QColor("#1b7f3b")

ModelIndex = QModelIndex | QPersistentModelIndex


# -- the choice -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Choice:
    """What the report is of: a period and a hamlet (None: all)."""

    period: Period
    hamlet_id: str | None


def last_month(today: dt.date) -> str:
    """"2026-10" on any day of November 2026."""
    first = today.replace(day=1) - dt.timedelta(days=1)
    return f"{first.year:04d}-{first.month:02d}"


def months_before(today: dt.date, count: int = MONTHS_OFFERED) -> list[str]:
    """This month and the `count - 1` before it, newest first, as "YYYY-MM"."""
    year, month = today.year, today.month
    found = []
    for _step in range(count):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return found


def month_label(month: str) -> str:
    """"2026-10" -> "Tháng 10/2026" ("Month 10/2026" in English)."""
    year, number = month.split("-")
    return _("Month {month}/{year}").format(month=number, year=year)


def period_text(period: Period) -> str:
    return _("{start} to {end}").format(start=format_date(period.start),
                                        end=format_date(period.end))


def percent(share: float | None) -> str:
    """0.4 -> "40,0 %"; None -> ""."""
    if share is None:
        return ""
    return _("{percent}%").format(percent=format_number(share * 100, decimals=1))


def signed_points(change: float) -> str:
    """A change of share, in percentage points with its sign: "+12,5", "−3,0", "0,0"."""
    points = round(change * 100, 1)
    text = format_number(abs(points), decimals=1)
    return ("+" + text) if points > 0 else ("−" + text) if points < 0 else text


def met_text(met: bool | None) -> str:
    if met is None:
        return ""
    return "✓ " + _("met") if met else "✗ " + _("not met")


def count(value: int) -> str:
    return format_number(value)


# -- the tables -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    text: str
    number: bool = False  # right-aligned
    colour: QColor | None = None
    row: Any = None  # what a delegate draws from (an IndicatorRow for the share bar)
    tip: str = ""  # the tooltip, when it says more than the text
    heading: bool = False  # a group's title row (bold)


class CellsModel(RowsTableModel):
    """A read-only table of prepared cells under the given headers."""

    def __init__(self, headers: Callable[[], list[str]]) -> None:
        super().__init__()
        self._headers = headers
        self.rows: list[list[Cell]] = []

    def headers(self) -> list[str]:  # type: ignore[override]
        return self._headers()

    def set_rows(self, rows: list[list[Cell]]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def texts(self) -> list[list[str]]:
        return [[cell.text for cell in row] for row in self.rows]

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        cell = self.rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return cell.text
        if role == Qt.ItemDataRole.ToolTipRole:
            return cell.tip or cell.text
        if role == Qt.ItemDataRole.FontRole and cell.heading:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and cell.number:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        if role == Qt.ItemDataRole.ForegroundRole and cell.colour is not None:
            return cell.colour
        if role == Qt.ItemDataRole.UserRole:
            return cell.row
        return None


def _met_colour(met: bool | None) -> QColor | None:
    return None if met is None else MET_COLOUR if met else MISSED_COLOUR


def summary_rows(report: MonthlyReport) -> list[list[Cell]]:
    """(figure, value) of the activity, follow-ups, classes and farm, under group titles."""
    classes = report.classes or Classes(0, 0, report.learners_completed, 0)
    groups: list[tuple[str, list[tuple[str, int]]]] = [
        (_("Visits and support"), [
            (_("Visits"), report.activity.visits),
            (_("Households reached"), report.activity.households_reached),
            (_("People helped"), report.activity.people_helped),
            (_("Follow-ups overdue at the end of the period"), report.followups_overdue)]),
        (_("Classes"), [
            (_("Class sessions held"), classes.sessions),
            (_("Learners who attended"), classes.learners_attended),
            (_("Learners who completed a course"), report.learners_completed),
            (_("Certificates issued"), classes.certificates_issued)]),
        (_("Production diary and lots (the whole team)"), [
            (_("Diary entries"), report.diary_entries),
            (_("Compliant lots"), report.lots_compliant),
            (_("Refused lots"), report.lots_refused),
            (_("Labels printed"), report.labels_printed)]),
    ]
    corrections = [(_("Corrections recorded after the period"), len(report.corrections))]
    now = report.activity_now
    if now is not None and now != report.activity:
        corrections.append((_("Visits with the later corrections applied"), now.visits))
    groups.append((_("Corrections"), corrections))
    rows: list[list[Cell]] = []
    for title, figures in groups:
        rows.append([Cell(title, heading=True), Cell("")])
        rows += [[Cell(name), Cell(count(value), number=True)] for name, value in figures]
    return rows


def item_rows(report: MonthlyReport) -> list[list[Cell]]:
    return [[Cell(i.name), Cell(count(i.done), True), Cell(count(i.partly), True),
              Cell(count(i.not_done), True)] for i in report.items]


def official_cell(row: IndicatorRow) -> Cell:
    """The share of the official population (15+, or adults), or why there is none."""
    basis = (_("adults (18 and over)") if row.official_basis >= ADULT_AGE
             else _("people aged 15 and over"))
    if row.official_share is None:
        tip = (_("No official population entered for: {hamlets}.").format(
                   hamlets=", ".join(row.official_missing)) if row.official_missing
               else _("No official population entered."))
        return Cell("", True, tip=tip)
    return Cell(percent(row.official_share), True, tip=_(
        "{reached} of an official population of {population} {basis}").format(
            reached=count(row.reached), population=count(row.official_population or 0),
            basis=basis))


def target_cell(row: IndicatorRow) -> Cell:
    """"80,0 % ✗" in red when the share of the people registered falls short, "✓" in green
    when it reached it; empty without a target."""
    if row.target is None:
        return Cell("", True)
    mark = "✓" if row.met else "✗"
    return Cell(f"{percent(row.target)} {mark}", True, colour=_met_colour(row.met),
                tip=f"{percent(row.target)}: {met_text(row.met)}")


def indicator_cells(row: IndicatorRow) -> list[Cell]:
    """Reached, counted, the share of the people registered, its change over the period,
    the share of the official population, the target (met or not), and the share as a
    bar."""
    change = Cell(signed_points(round(row.change_share, 4)), True, tip=_(
        "At the start of the period: {reached} of {counted} ({share}); people reached "
        "since: {change}.").format(reached=count(row.start_reached),
                                 counted=count(row.start_counted),
                                 share=percent(row.start_share),
                                 change=f"{row.change_reached:+d}"))
    return [Cell(count(row.reached), True), Cell(count(row.counted), True),
            Cell(percent(row.share), True), change, official_cell(row),
            target_cell(row), Cell("", row=row)]


def indicator_rows(report: MonthlyReport) -> list[list[Cell]]:
    return [[Cell(i.name), *indicator_cells(i)] for i in report.indicators]


def hamlet_rows(report: MonthlyReport) -> list[list[Cell]]:
    return [[Cell(h.name), Cell(count(h.activity.visits), True),
             Cell(count(h.activity.households_reached), True),
             Cell(count(h.activity.people_helped), True),
             Cell(count(h.followups_overdue), True)] for h in report.hamlets]


def hamlet_indicator_rows(report: MonthlyReport) -> list[list[Cell]]:
    """Each hamlet's name on a row of its own (bold), then its indicators."""
    rows: list[list[Cell]] = []
    for hamlet in report.hamlets:
        rows.append([Cell(hamlet.name, heading=True),
                     *(Cell("") for _column in indicator_headers())])
        rows += [[Cell(i.name), *indicator_cells(i)] for i in hamlet.indicators]
    return rows


def correction_rows(report: MonthlyReport) -> list[list[Cell]]:
    kinds = {"amend": _("Amended"), "void": _("Voided")}
    return [[Cell(kinds.get(c.kind, c.kind)), Cell(format_date(dt.date.fromisoformat(
                c.visited_on)) if c.visited_on else ""),
             Cell(format_date(dt.date.fromisoformat(c.recorded_on)) if c.recorded_on else ""),
             Cell(c.reason)] for c in report.corrections]


def indicator_headers() -> list[str]:
    """Two lines where a header says what a share is of."""
    return [_("Reached"), _("Counted"), _("Share of\npeople registered"),
            _("Change\n(points)"), _("Share of\nofficial population"), _("Target"), ""]


# The tabs of the preview: (title, headers, the rows of a report).
TABLES: list[tuple[Callable[[], str], Callable[[], list[str]],
                   Callable[[MonthlyReport], list[list[Cell]]]]] = [
    (lambda: _("Summary"), lambda: [_("Figure"), _("Value")], summary_rows),
    (lambda: _("Support items"),
     lambda: [_("Support item"), _("Done"), _("Partly done"), _("Not done")], item_rows),
    (lambda: _("Indicators"), lambda: [_("Indicator"), *indicator_headers()], indicator_rows),
    (lambda: _("Hamlets"),
     lambda: [_("Hamlet"), _("Visits"), _("Households reached"), _("People helped"),
              _("Follow-ups overdue")], hamlet_rows),
    (lambda: _("Indicators by hamlet"),
     lambda: [_("Indicator"), *indicator_headers()], hamlet_indicator_rows),
    (lambda: _("Corrections"),
     lambda: [_("Correction"), _("Visit day"), _("Recorded on"), _("Reason")],
     correction_rows),
]
SUMMARY, ITEMS, INDICATORS, HAMLETS, HAMLET_INDICATORS, CORRECTIONS = range(len(TABLES))
# The column of each table that takes the room left (None: the summary's figures stay
# next to their names).
STRETCHED: tuple[int | None, ...] = (None, 0, 0, 0, 0, 3)
BAR_WIDTH = 90
PRINT_DPI = 300  # an A4 page at 300 dpi is 25 MB as an image: one at a time

# What "Save as…" writes: (suffix, the file dialog's filter, the writer).
FORMATS: dict[str, tuple[Callable[[], str], Callable[[MonthlyReport, Path], None]]] = {
    ".pdf": (lambda: _("PDF (*.pdf)"), write_pdf),
    ".xlsx": (lambda: _("Excel workbooks (*.xlsx)"), write_xlsx),
    ".json": (lambda: _("JSON files (*.json)"), write_json),
}


# -- printing ---------------------------------------------------------------------------------
def new_printer() -> QPrinter:
    """A printer set for the report's A4 pages, which carry their own margins."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    printer.setPageOrientation(QPageLayout.Orientation.Portrait)
    printer.setFullPage(True)
    return printer


def print_report(printer: QPrinter, report: MonthlyReport, progress: Progress) -> int:
    """Draw the report's PDF (the one "Save as…" writes) and put it on `printer`; returns the
    number of pages."""
    progress.update(label=_("Drawing the report"))
    with tempfile.TemporaryDirectory(prefix="dxkit-report-") as folder:
        path = Path(folder) / "report.pdf"
        write_pdf(report, path)
        pdf = path.read_bytes()
    return paint_pdf(printer, pdf, progress)


def paint_pdf(printer: QPrinter, pdf: bytes, progress: Progress) -> int:
    """Paint each page of `pdf` onto `printer`, rendered by PDFium at the printer's
    resolution (at most PRINT_DPI) one page at a time and scaled to the paper without
    changing its shape; returns the number of pages. A checkpoint for Cancel each page."""
    pages = page_count(pdf)
    dpi = min(max(printer.resolution(), 72), PRINT_DPI)
    progress.update(value=0, maximum=pages, label=_("Sending the report to the printer"))
    painter = QPainter()
    if not painter.begin(printer):
        raise DxError(_("The printer could not be opened."))
    try:
        for index in range(pages):
            if index:
                printer.newPage()
            image = to_qimage(preview_pages(pdf, dpi, range(index, index + 1))[0])
            paper = QRectF(printer.paperRect(QPrinter.Unit.DevicePixel))
            size = QSizeF(image.size()).scaled(paper.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRectF(QPointF(0, 0), size)
            target.moveCenter(QPointF(paper.width() / 2, paper.height() / 2))
            painter.drawImage(target, image)
            progress.update(value=index + 1)
    finally:
        painter.end()
    return pages


# -- the page ---------------------------------------------------------------------------------
class ReportsPage(Page):
    """Period and hamlet, Preview, Save as… and the report's tables in tabs."""

    WATCHED = WATCHED_TABLES

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self.report: MonthlyReport | None = None
        self.shown: Choice | None = None  # what `report` is of
        self.stale = False  # a watched table changed since it was built
        self.building = False
        self.asked = 0  # questions put to `preview`: only the latest one's answer is shown
        self.last_path: Path | None = None
        self.last_dialog: QWidget | None = None
        self.printer: QPrinter | None = None  # the one printing: kept while the job runs
        self.printed_pages = 0
        self._build()
        self.retranslate()
        self.preview()

    # -- building the screen --------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.kind_label = QLabel()
        self.kind = QComboBox()
        self.kind.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.kind_label.setBuddy(self.kind)
        self.month = QComboBox()
        self.month.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        today = self.ws.today()
        self.start = date_edit(today.replace(day=1))
        self.end = date_edit(today)
        self.to_label = QLabel("–")
        self.hamlet_label = QLabel()
        self.hamlet = limit_width(QComboBox(), 12)
        self.hamlet_label.setBuddy(self.hamlet)
        self.preview_button = QPushButton()
        self.preview_button.clicked.connect(lambda: self.preview())
        self.save_button = QPushButton()
        self.save_button.clicked.connect(lambda: self.save_as())
        self.print_button = QPushButton()
        self.print_button.clicked.connect(lambda: self.print_report())
        self.days = keep_together(self.start, self.to_label, self.end)
        layout.addLayout(flow_row(
            keep_together(self.kind_label, self.kind), self.month, self.days,
            keep_together(self.hamlet_label, self.hamlet)))
        layout.addLayout(flow_row(self.preview_button, self.save_button, self.print_button))
        self.kind.currentIndexChanged.connect(lambda _index: self._kind_changed())
        for combo in (self.month, self.hamlet):
            combo.currentIndexChanged.connect(lambda _index: self._choice_changed())
        for edit in (self.start, self.end):
            edit.dateChanged.connect(lambda _date: self._choice_changed())

        self.state = QLabel()  # what the preview is of, or that it is being built
        self.state.setWordWrap(True)
        self.state.setStyleSheet(HINT_STYLE)
        layout.addWidget(self.state)

        self.tabs = QTabWidget()
        self.models: list[CellsModel] = []
        self.tables: list[QTableView] = []
        for index, (_title, headers, _rows) in enumerate(TABLES):
            model = CellsModel(headers)
            table = QTableView()
            table.setModel(model)
            table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
            table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            table.setAlternatingRowColors(True)
            table.verticalHeader().hide()
            header = table.horizontalHeader()
            header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            header.setMinimumSectionSize(60)
            # The numbers take their room and the names what is left, on two lines or more
            # where a netbook leaves too little for one.
            stretched = STRETCHED[index]
            if stretched is not None:
                header.setSectionResizeMode(stretched, QHeaderView.ResizeMode.Stretch)
            wrap_names(table)
            if index in (INDICATORS, HAMLET_INDICATORS):
                bar = len(headers()) - 1
                table.setItemDelegateForColumn(bar, ShareBarDelegate(table))
                header.setSectionResizeMode(bar, QHeaderView.ResizeMode.Fixed)
                header.resizeSection(bar, BAR_WIDTH)
            self.models.append(model)
            self.tables.append(table)
            self.tabs.addTab(table, "")
        layout.addWidget(self.tabs, 1)

        self.rule = QLabel()
        self.rule.setWordWrap(True)
        self.rule.setStyleSheet(HINT_STYLE)
        layout.addWidget(self.rule)

    def retranslate(self) -> None:
        self.kind_label.setText(_("Period:"))
        kind = self.kind.currentData() or "month"
        self.kind.blockSignals(True)
        self.kind.clear()
        self.kind.addItem(_("A month"), "month")
        self.kind.addItem(_("From a day to a day"), "days")
        self.kind.setCurrentIndex(max(self.kind.findData(kind), 0))
        self.kind.blockSignals(False)
        self._fill_months()
        self.hamlet_label.setText(_("Hamlet:"))
        self._fill_hamlets()
        self.preview_button.setText(_("Preview"))
        self.save_button.setText(_("Save as…"))
        self.print_button.setText(_("Print…"))
        for index, (title, _headers, _rows) in enumerate(TABLES):
            self.tabs.setTabText(index, title())
        self.rule.setText(_(
            "Records count by the day they name, as they stood at the end of the period: a "
            "correction recorded later is listed under Corrections, not folded into the "
            "figures, so a past month's report stays the same. Farm figures are the team's "
            "whatever the hamlet."))
        self._kind_changed(rebuild=False)
        if self.report is not None:
            self._show(self.report)  # names and headers in the new language

    def _fill_months(self) -> None:
        chosen = self.month.currentData() or last_month(self.ws.today())
        self.month.blockSignals(True)
        self.month.clear()
        for month in months_before(self.ws.today()):
            self.month.addItem(month_label(month), month)
        self.month.setCurrentIndex(max(self.month.findData(chosen), 0))
        self.month.blockSignals(False)

    def _fill_hamlets(self) -> None:
        fill_choices(self.hamlet, _("All hamlets"),
                     [(h.id, h.name) for h in self.ws.catalog.hamlets()])

    def _kind_changed(self, rebuild: bool = True) -> None:
        by_days = self.kind.currentData() == "days"
        self.month.setVisible(not by_days)
        self.days.setVisible(by_days)
        if rebuild:
            self._choice_changed()

    # -- the choice -----------------------------------------------------------------------
    def set_month(self, month: str) -> None:
        """Choose a month ("YYYY-MM") among those offered."""
        self.kind.setCurrentIndex(self.kind.findData("month"))
        self.month.setCurrentIndex(self.month.findData(month))

    def set_days(self, start: dt.date, end: dt.date) -> None:
        self.kind.setCurrentIndex(self.kind.findData("days"))
        self.start.setDate(to_qdate(start))
        self.end.setDate(to_qdate(end))

    def set_hamlet(self, hamlet_id: str | None) -> None:
        self.hamlet.setCurrentIndex(max(self.hamlet.findData(hamlet_id), 0))

    def choice(self) -> Choice:
        """The period and hamlet chosen; a period that ends before it starts is refused
        with a sentence (DxError)."""
        if self.kind.currentData() == "days":
            period = Period.between(from_qdate(self.start.date()), from_qdate(self.end.date()))
        else:
            period = Period.month(self.month.currentData())
        return Choice(period, self.hamlet.currentData())

    def _choice_changed(self) -> None:
        """A new period or hamlet: build its report (a newer choice supersedes it)."""
        self.preview()

    def up_to_date(self) -> bool:
        try:
            return (self.report is not None and not self.stale
                    and self.shown == self.choice())
        except DxError:
            return False

    # -- building the report --------------------------------------------------------------
    def preview(self, then: Callable[[MonthlyReport], None] | None = None) -> bool:
        """Build the report of the choice on the database thread and show it (then hand it
        to `then`). False, with the reason on screen, when the period is impossible."""
        self.asked += 1
        asked = self.asked  # a later question, even an impossible one, supersedes this one
        try:
            choice = self.choice()
        except DxError:
            self._clear()  # the figures shown are not of the period asked for
            self._say_state()
            return False
        ws = self.ws

        def work(progress: Progress) -> MonthlyReport:
            progress.check()  # superseded by a newer choice before it started: skip it
            return build(ws, choice.period, hamlet=choice.hamlet_id)

        def built(report: MonthlyReport) -> None:
            if asked != self.asked:
                return
            self.report, self.shown, self.stale = report, choice, False
            self._show(report)
            if then is not None:
                then(report)

        (self.query(work, "report")
         .with_progress(_("Building the report"), cancellable=False)
         .while_running(self._building)
         .success(built)
         .run())
        return True

    def _clear(self) -> None:
        self.report, self.shown = None, None
        for model in self.models:
            model.set_rows([])

    def _building(self, running: bool) -> None:
        self.building = running
        self._say_state()

    def _show(self, report: MonthlyReport) -> None:
        for model, (_title, _headers, rows) in zip(self.models, TABLES, strict=True):
            model.set_rows(rows(report))
        has_hamlets = bool(report.hamlets)
        self.tabs.setTabEnabled(HAMLETS, has_hamlets)
        self.tabs.setTabEnabled(HAMLET_INDICATORS, has_hamlets)
        self._say_state()

    def _say_state(self) -> None:
        try:
            self.choice()
        except DxError as error:
            self.state.setText(error.message)
            return
        if self.building:
            self.state.setText(_("Building the report…"))
            return
        report = self.report
        if report is None:
            self.state.setText("")
            return
        where = report.hamlet.name if report.hamlet else _("All hamlets")
        text = _("Report for {period}, {where}.").format(period=period_text(report.period),
                                                         where=where)
        if self.stale:
            text += " " + _("Records changed since: press Preview to build it again.")
        self.state.setText(text)

    def on_changed(self, changes: Changes) -> None:
        if changes.touched("hamlets"):
            self._fill_hamlets()
        if self.report is not None:
            self.stale = True
            self._say_state()

    # -- saving ---------------------------------------------------------------------------
    def ask_save_path(self, suggested: str) -> str:
        """Where to save and as what (the system's dialog); "" if cancelled."""
        filters = ";;".join(describe() for describe, _write in FORMATS.values())
        path, chosen = QFileDialog.getSaveFileName(
            self, _("Save the report"), str(Path.home() / suggested), filters)
        if path and Path(path).suffix.lower() not in FORMATS:
            path += next((suffix for suffix, (describe, _write) in FORMATS.items()
                          if describe() == chosen), ".pdf")
        return path

    def suggested_name(self) -> str:
        try:
            choice = self.choice()
        except DxError:
            return _("report") + ".pdf"
        period = choice.period
        start, end = period.start.isoformat(), period.end.isoformat()
        name = start[:7] if period == Period.month(start[:7]) else f"{start}_{end}"
        return f"{_('report')}-{name}.pdf"

    def save_as(self, path: str | None = None) -> bool:
        """Write the report of the choice (built first unless the preview is of it) to
        `path` (asked for when None); its suffix says the format. False when cancelled or
        refused."""
        if path is None:
            path = self.ask_save_path(self.suggested_name())
            if not path:
                return False
        target = Path(path)
        suffix = target.suffix.lower()
        if suffix not in FORMATS:
            self.last_dialog = show_message(self, _(
                "Save the report as {formats}: the file name must end in one of them.").format(
                    formats=", ".join(FORMATS)))
            return False
        if not target.parent.is_dir():
            self.last_dialog = show_message(self, _("The folder {folder} does not exist."
                                                    ).format(folder=target.parent))
            return False
        write = FORMATS[suffix][1]

        def save(report: MonthlyReport) -> None:
            (self.op(lambda _progress: write(report, target))
             .without_database()
             .with_progress(_("Saving the report"), cancellable=False)
             .success(lambda _none: self._saved(target))
             .run())

        return self.with_report(save)

    def with_report(self, then: Callable[[MonthlyReport], None]) -> bool:
        """Hand the report of the choice to `then`: the one shown if it is of the choice,
        else a new one once built."""
        if self.up_to_date() and self.report is not None:
            then(self.report)
            return True
        return self.preview(then)

    # -- printing -------------------------------------------------------------------------
    def choose_printer(self, printer: QPrinter) -> bool:
        """The system's print dialog; False if cancelled."""
        return QPrintDialog(printer, self).exec() == QDialog.DialogCode.Accepted

    def print_report(self) -> bool:
        """Print the report of the choice (as its PDF) on a printer the user picks; the
        drawing and the printing run off the UI thread. False when cancelled or refused."""
        printer = new_printer()
        printer.setDocName(self.suggested_name().removesuffix(".pdf"))
        if not self.choose_printer(printer):
            return False
        self.printer = printer

        def send(report: MonthlyReport) -> None:
            (self.op(lambda progress: print_report(printer, report, progress))
             .without_database()
             .with_progress(_("Printing the report"), cancellable=True)
             .success(self._printed)
             .run())

        return self.with_report(send)

    def _printed(self, pages: int) -> None:
        self.printed_pages = pages
        self.printer = None
        self.ctx.notice.emit(_("The report was sent to the printer ({pages}).").format(
            pages=counted(pages, "{count} page", "{count} pages")))

    def _saved(self, path: Path) -> None:
        self.last_path = path
        self.ctx.notice.emit(_("Saved to {path}.").format(path=path))

    def table_texts(self, index: int) -> list[list[str]]:
        """The texts of one tab's table, row by row (tests and screenshots read them)."""
        return self.models[index].texts()
