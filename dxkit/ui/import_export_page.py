"""Bringing a commune's household list in, and taking the team's data out.

Import is a dry run first: the whole file is checked in the background and every problem is
listed with its line and column, with the planned changes, before anything is written. The
"Import" button only works on a clean plan; the import itself is all or nothing.
File dialogs are only opened by the `choose_*` methods, so tests call `start_import(path)` and
`start_export(kind, fmt, path)` directly.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from dxkit.core.errors import Cancelled
from dxkit.core.i18n import _, counted, format_number, ngettext
from dxkit.core.progress import Progress
from dxkit.households import exporting, importing
from dxkit.households.importing import ImportPlan, ImportRefused
from dxkit.households.spreadsheets import COLUMNS
from dxkit.ui.appearance import HINT_STYLE, scaled_font
from dxkit.ui.context import AppContext
from dxkit.ui.operations import Operation
from dxkit.ui.page import Page
from dxkit.ui.taskman import Task, describe_error

ERROR_COLOUR = QColor("#b3261e")
WARNING_COLOUR = QColor("#9a5b00")
GOOD_STYLE = "color: #1b6e20;"
BAD_STYLE = "color: #b3261e;"

EXPORTERS: dict[str, Callable[..., int]] = {
    "households": exporting.export_households,
    "people": exporting.export_people,
    "visits": exporting.export_visits,
}
# Suggested file names: Vietnamese, no diacritics (some USB sticks and mail gateways mangle them).
EXPORT_FILE_STEMS = {"households": "ho-gia-dinh", "people": "nhan-khau", "visits": "luot-ho-tro"}


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.verticalHeader().hide()
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return table


def _fill(table: QTableWidget, rows: list[list[str]],
          colours: list[QColor | None] | None = None) -> None:
    table.setRowCount(len(rows))
    for r, cells in enumerate(rows):
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            colour = colours[r] if colours else None
            if colour is not None:
                item.setForeground(colour)
            table.setItem(r, c, item)
    table.resizeRowsToContents()


def action_label(action: str) -> str:
    return {"new": _("new"), "update": _("update"), "unchanged": _("unchanged")}[action]


def entity_label(entity: str) -> str:
    return {"household": _("household"), "person": _("person")}[entity]


def encoding_notes(plan: ImportPlan) -> list[str]:
    """"Cột Họ và tên: TCVN3 → đã chuyển sang Unicode" for every column that needed help."""
    notes = []
    for column, encoding in plan.encodings.items():
        if encoding in ("tcvn3", "vni"):
            notes.append(_("Column {column}: {encoding} → converted to Unicode").format(
                column=column, encoding=encoding.upper()))
        elif encoding == "unknown":
            notes.append(_("Column {column}: encoding not recognised, left as it is").format(
                column=column))
    return notes


def _sheet_line(sheet: str, line: str) -> str:
    return f"{sheet} · {line}" if sheet else line


def plan_summary(plan: ImportPlan) -> str:
    counts = plan.counts
    return "\n".join([
        _("Households: {new} new, {updated} to update, {unchanged} unchanged").format(
            new=format_number(counts.new_households),
            updated=format_number(counts.updated_households),
            unchanged=format_number(counts.unchanged_households)),
        _("People: {new} new, {updated} to update, {unchanged} unchanged").format(
            new=format_number(counts.new_people), updated=format_number(counts.updated_people),
            unchanged=format_number(counts.unchanged_people)),
    ])


class _Busy(QWidget):
    """A progress bar with a Cancel button for the background step in progress."""

    def __init__(self, on_cancel: Callable[[], None]):
        super().__init__()
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        self.title = QLabel()
        scaled_font(self.title, 1.3, bold=True)
        self.title.setWordWrap(True)
        layout.addWidget(self.title)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        layout.addWidget(self.bar)
        self.step = QLabel()
        layout.addWidget(self.step)
        row = QHBoxLayout()
        row.addStretch(1)
        self.cancel_button = QPushButton()
        self.cancel_button.clicked.connect(on_cancel)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)
        layout.addStretch(2)

    def start(self, title: str) -> None:
        self.title.setText(title)
        self.step.setText("")
        self.bar.setRange(0, 0)
        self.cancel_button.setEnabled(True)

    def progress(self, value: int, maximum: int, label: str) -> None:
        self.bar.setRange(0, max(maximum, 0))
        if maximum:
            self.bar.setValue(min(value, maximum))
        self.step.setText(label)


class ImportExportPage(Page):
    """Two tabs: the import wizard (choose → check → preview → import → done) and export."""

    PICK, BUSY, PREVIEW, DONE = range(4)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self.path: Path | None = None
        self.plan: ImportPlan | None = None
        self.imported: ImportPlan | None = None
        self.exported: tuple[int, Path] | None = None
        self.task: Task | None = None
        self.export_task: Task | None = None
        layout = QVBoxLayout(self)
        self.tabs = QTabWidget()
        layout.addWidget(self.tabs)
        self.steps = QStackedWidget()
        self.steps.addWidget(self._build_pick())
        self.busy_panel = _Busy(self.cancel)
        self.steps.addWidget(self.busy_panel)
        self.steps.addWidget(self._build_preview())
        self.steps.addWidget(self._build_done())
        self.tabs.addTab(self.steps, "")
        self.tabs.addTab(self._build_export(), "")
        self.retranslate()

    # -- building -----------------------------------------------------------------------
    def _build_pick(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.pick_intro = QLabel()
        self.pick_intro.setWordWrap(True)
        self.pick_intro.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.pick_intro)
        self.pick_message = QLabel()
        self.pick_message.setWordWrap(True)
        self.pick_message.setStyleSheet(BAD_STYLE)
        self.pick_message.hide()
        layout.addWidget(self.pick_message)
        row = QHBoxLayout()
        self.choose_button = QPushButton()
        self.choose_button.clicked.connect(self.choose_import_file)
        row.addWidget(self.choose_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(1)
        return page

    def _build_preview(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.preview_file = QLabel()
        self.preview_file.setStyleSheet("font-weight: 600;")
        self.preview_file.setWordWrap(True)
        layout.addWidget(self.preview_file)
        self.counts_label = QLabel()
        scaled_font(self.counts_label, 1.2)
        layout.addWidget(self.counts_label)
        self.encodings_label = QLabel()
        self.encodings_label.setWordWrap(True)
        layout.addWidget(self.encodings_label)
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        layout.addWidget(self.verdict)
        # One table at a time, each tab saying how many rows it has: three tables stacked
        # left each two rows on a 1024×600 screen.
        self.details = QTabWidget()
        self.problems_table = _table(["", "", "", ""])
        self.details.addTab(self.problems_table, "")
        self.assumed_table = _table(["", "", "", ""])
        self.details.addTab(self.assumed_table, "")
        rows_page = QWidget()
        rows_layout = QVBoxLayout(rows_page)
        rows_layout.setContentsMargins(0, 0, 0, 0)
        self.rows_table = _table(["", "", "", "", "", ""])
        rows_layout.addWidget(self.rows_table)
        self.rows_note = QLabel()
        self.rows_note.setStyleSheet(HINT_STYLE)
        rows_layout.addWidget(self.rows_note)
        self.details.addTab(rows_page, "")
        layout.addWidget(self.details, 1)
        buttons = QHBoxLayout()
        self.back_button = QPushButton()
        self.back_button.clicked.connect(self.choose_import_file)
        self.recheck_button = QPushButton()
        self.recheck_button.clicked.connect(lambda: self.path and self.start_import(self.path))
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.recheck_button)
        buttons.addStretch(1)
        self.import_button = QPushButton()
        self.import_button.setStyleSheet("font-weight: 600; padding: 4px 16px;")
        self.import_button.clicked.connect(self.apply_import)
        buttons.addWidget(self.import_button)
        layout.addLayout(buttons)
        return page

    def _build_done(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        self.done_label = QLabel()
        self.done_label.setWordWrap(True)
        scaled_font(self.done_label, 1.3)
        layout.addWidget(self.done_label)
        row = QHBoxLayout()
        self.again_button = QPushButton()
        self.again_button.clicked.connect(self.restart)
        row.addWidget(self.again_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(2)
        return page

    def _build_export(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.export_intro = QLabel()
        self.export_intro.setWordWrap(True)
        layout.addWidget(self.export_intro)
        self.kind_box = QGroupBox()
        kinds = QVBoxLayout(self.kind_box)
        self.kind_group = QButtonGroup(self)
        self.kind_buttons: dict[str, QRadioButton] = {}
        for kind in EXPORTERS:
            button = QRadioButton()
            self.kind_group.addButton(button)
            self.kind_buttons[kind] = button
            kinds.addWidget(button)
        self.kind_buttons["households"].setChecked(True)
        self.format_box = QGroupBox()
        formats = QVBoxLayout(self.format_box)
        self.format_group = QButtonGroup(self)
        self.format_buttons: dict[str, QRadioButton] = {}
        for fmt in ("xlsx", "csv"):
            button = QRadioButton()
            self.format_group.addButton(button)
            self.format_buttons[fmt] = button
            formats.addWidget(button)
        self.format_buttons["xlsx"].setChecked(True)
        choices = QHBoxLayout()
        choices.addWidget(self.kind_box)
        choices.addWidget(self.format_box)
        choices.addStretch(1)
        layout.addLayout(choices)
        row = QHBoxLayout()
        self.export_button = QPushButton()
        self.export_button.clicked.connect(self.choose_export_file)
        row.addWidget(self.export_button)
        self.export_progress = QProgressBar()
        self.export_progress.hide()
        row.addWidget(self.export_progress, 1)
        self.export_cancel = QPushButton()
        self.export_cancel.clicked.connect(lambda: self.export_task and self.export_task.cancel())
        self.export_cancel.hide()
        row.addWidget(self.export_cancel)
        row.addStretch(1)
        layout.addLayout(row)
        self.export_message = QLabel()
        self.export_message.setWordWrap(True)
        self.export_message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.export_message)
        layout.addStretch(1)
        return page

    def retranslate(self) -> None:
        self.tabs.setTabText(0, _("Import a household list"))
        self.tabs.setTabText(1, _("Export"))
        required = ", ".join(c.header for c in COLUMNS if c.required)
        optional = ", ".join(c.header for c in COLUMNS if not c.required)
        self.pick_intro.setText(
            "<p>" + _("Import households and the people in them from an Excel (.xlsx) or CSV "
                      "file. The file is checked first and nothing changes until you press "
                      "Import; a file with errors is never imported halfway.") + "</p><p>"
            + _("Required columns: {columns}.").format(columns=f"<b>{required}</b>")
            + "<br>" + _("Optional columns: {columns}.").format(columns=optional) + "</p><p>"
            + _("Old files typed in the TCVN3 (ABC) or VNI fonts are converted to Unicode.")
            + " " + _("Every sheet with a header row is read. Title rows, a row numbering the "
                      "columns, totals, group headings and the signature block are skipped; "
                      "the check lists everything it assumed before anything is imported.")
            + "</p>")
        self.choose_button.setText(_("Choose a file…"))
        self.busy_panel.cancel_button.setText(_("Cancel"))
        self._name_tabs()
        self.problems_table.setHorizontalHeaderLabels(
            [_("Line"), _("Column"), _("Severity"), _("Problem")])
        self.assumed_table.setHorizontalHeaderLabels(
            [_("Sheet"), _("Lines"), _("Column"), _("What was assumed")])
        self.rows_table.setHorizontalHeaderLabels(
            [_("Line"), _("Record"), _("Action"), _("Household code"), _("Name"),
             _("Columns that change")])
        self.back_button.setText(_("Choose another file…"))
        self.recheck_button.setText(_("Check the file again"))
        self.recheck_button.setToolTip(_("After fixing the file in Excel, check it again here"))
        self.import_button.setText(_("Import"))
        self.again_button.setText(_("Import another file"))
        self.export_intro.setText(_(
            "Export the team's data to a spreadsheet. Household and people files use the same "
            "columns as the import, so they can be edited and imported again. People files "
            "contain personal data: keep them safe."))
        self.kind_box.setTitle(_("What"))
        self.kind_buttons["households"].setText(_("Households"))
        self.kind_buttons["people"].setText(_("People (with their household)"))
        self.kind_buttons["visits"].setText(_("Visits (one row per support item)"))
        self.format_box.setTitle(_("Format"))
        self.format_buttons["xlsx"].setText(_("Excel (.xlsx)"))
        self.format_buttons["csv"].setText(_("CSV (UTF-8)"))
        self.export_button.setText(_("Export…"))
        self.export_cancel.setText(_("Cancel"))

    # -- import -------------------------------------------------------------------------
    def choose_import_file(self) -> None:
        start = str(self.path.parent) if self.path else str(Path.home())
        name, _filter = QFileDialog.getOpenFileName(
            self, _("Choose a household list"), start,
            _("Spreadsheets (*.xlsx *.xlsm *.csv *.txt);;All files (*)"))
        if name:
            self.start_import(name)

    def start_import(self, path: str | Path) -> None:
        """The dry run, in the background."""
        self.path = Path(path)
        self.plan = None
        self.busy_panel.start(_("Checking {name}…").format(name=self.path.name))
        self.steps.setCurrentIndex(self.BUSY)
        ws, target = self.ws, self.path
        check = self.query(lambda progress: importing.plan_import(ws, target, progress))
        self.task = self._run_step(check.with_progress(_("Checking the import file"))
                                   .success(self._show_plan))

    def _run_step(self, operation: Operation[Any]) -> Task:
        """Checking and importing share the busy step: its progress bar, Cancel and errors."""
        return (operation.progress(self.busy_panel.progress)
                .while_running(self._importing)
                .failure(self._failed)
                .cancelled(self._failed)
                .run())

    def _importing(self, running: bool) -> None:
        if not running:
            self.task = None

    def _show_plan(self, plan: ImportPlan) -> None:
        self.plan = plan
        self.preview_file.setText(_("File: {path}").format(path=self.path))
        self.counts_label.setText(plan_summary(plan))
        notes = encoding_notes(plan)
        self.encodings_label.setText("\n".join(notes) if notes else _(
            "All text is in Unicode; no conversion needed."))
        errors, warnings = len(plan.errors), len(plan.warnings)
        if plan.ok:
            self.verdict.setText(counted(
                warnings,
                "The file can be imported ({count} warning). Nothing has changed yet: press "
                "Import to apply.",
                "The file can be imported ({count} warnings). Nothing has changed yet: press "
                "Import to apply."))
            self.verdict.setStyleSheet(GOOD_STYLE)
        else:
            self.verdict.setText(_("{errors} and {warnings}: fix the errors in the file, save "
                                   "it and check it again. Nothing was imported.").format(
                errors=counted(errors, "{count} error", "{count} errors"),
                warnings=counted(warnings, "{count} warning", "{count} warnings")))
            self.verdict.setStyleSheet(BAD_STYLE)
        severity = {"error": _("error"), "warning": _("warning")}
        _fill(self.problems_table,
              [[_sheet_line(p.sheet, str(p.line)), p.column, severity[p.severity], p.message]
               for p in plan.problems],
              [ERROR_COLOUR if p.severity == "error" else WARNING_COLOUR
               for p in plan.problems])
        _fill(self.assumed_table, [[a.sheet, a.where, a.column, a.message]
                                   for a in plan.assumptions])
        self.assumed_table.setColumnHidden(0, not any(a.sheet for a in plan.assumptions))
        self._name_tabs()
        self.details.setCurrentIndex(0 if plan.errors else 2)
        _fill(self.rows_table, [[str(r.line), entity_label(r.entity), action_label(r.action),
                                 r.code, r.name, ", ".join(r.changed)] for r in plan.rows])
        counts = plan.counts
        planned = sum(counts.to_dict().values())
        self.rows_note.setText(ngettext(
            "Showing the first {shown} of {total} record.",
            "Showing the first {shown} of {total} records.", planned).format(
                shown=format_number(len(plan.rows)), total=format_number(planned))
            if planned > len(plan.rows) else "")
        changes = (counts.new_households + counts.updated_households + counts.new_people
                   + counts.updated_people)
        self.import_button.setEnabled(plan.ok and changes > 0)
        if plan.ok and not changes:
            self.verdict.setText(_("Everything in this file is already in dxkit; there is "
                                   "nothing to import."))
        self.steps.setCurrentIndex(self.PREVIEW)

    def _name_tabs(self) -> None:
        plan = self.plan
        self.details.setTabText(0, _("Problems ({count})").format(
            count=format_number(len(plan.problems) if plan else 0)))
        self.details.setTabText(1, _("What dxkit assumed ({count})").format(
            count=format_number(len(plan.assumptions) if plan else 0)))
        self.details.setTabText(2, _("Planned changes ({count})").format(
            count=format_number(sum(plan.counts.to_dict().values()) if plan else 0)))

    def apply_import(self) -> None:
        if self.plan is None or not self.plan.ok or self.path is None:
            return
        self.busy_panel.start(_("Importing {name}…").format(name=self.path.name))
        self.steps.setCurrentIndex(self.BUSY)
        ws, target = self.ws, self.path
        # The imported rows are announced even if a language switch rebuilt (deleted) this
        # page meanwhile: the households list must still show them.
        apply = self.op(lambda progress: importing.apply_import(ws, target, progress))
        self.task = self._run_step(apply.with_progress(_("Importing")).success(self._imported))

    def _imported(self, result: Any) -> None:
        plan: ImportPlan = result.value
        self.imported = plan
        counts = plan.counts
        n = format_number
        self.done_label.setText(_(
            "Imported {name}. Households: {new_households} new, {updated_households} updated. "
            "People: {new_people} new, {updated_people} updated.").format(
                name=self.path.name if self.path else "",
                new_households=n(counts.new_households),
                updated_households=n(counts.updated_households),
                new_people=n(counts.new_people), updated_people=n(counts.updated_people)))
        self.steps.setCurrentIndex(self.DONE)

    def _failed(self, error: BaseException) -> None:
        if isinstance(error, ImportRefused):
            # The file changed between the check and the import: show what is wrong now.
            self._show_plan(error.plan)
            return
        if isinstance(error, Cancelled):
            message = _("Cancelled; nothing was changed.")
        else:
            message = describe_error(error)
        self.pick_message.setText(message)
        self.pick_message.show()
        self.steps.setCurrentIndex(self.PICK)

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.busy_panel.cancel_button.setEnabled(False)
            self.busy_panel.step.setText(_("Cancelling…"))

    def restart(self) -> None:
        self.plan = None
        self.pick_message.hide()
        self.steps.setCurrentIndex(self.PICK)

    # -- export -------------------------------------------------------------------------
    def export_choice(self) -> tuple[str, str]:
        kind = next(k for k, b in self.kind_buttons.items() if b.isChecked())
        fmt = next(f for f, b in self.format_buttons.items() if b.isChecked())
        return kind, fmt

    def choose_export_file(self) -> None:
        kind, fmt = self.export_choice()
        suggested = Path.home() / f"{EXPORT_FILE_STEMS[kind]}-{self.ws.today():%Y-%m-%d}.{fmt}"
        pattern = _("Excel (*.xlsx)") if fmt == "xlsx" else _("CSV (*.csv)")
        name, _filter = QFileDialog.getSaveFileName(self, _("Export to"), str(suggested),
                                                    pattern)
        if name:
            self.start_export(kind, fmt, name)

    def start_export(self, kind: str, fmt: str, path: str | Path) -> None:
        target = Path(path)
        if target.suffix.lower() != f".{fmt}":
            target = target.with_name(target.name + f".{fmt}")
        exporter, ws = EXPORTERS[kind], self.ws
        self.exported = None
        self.export_message.setText("")

        def work(progress: Progress) -> tuple[int, Path]:
            return exporter(ws, target, fmt, progress), target

        self.export_task = (self.op(work)
                            .with_progress(_("Exporting"))
                            .progress(self._export_progressed)
                            .while_running(self._exporting)
                            .success(self._exported)
                            .failure(self._export_failed)
                            .cancelled(self._export_failed)
                            .run())

    def _exporting(self, running: bool) -> None:
        if not running:
            self.export_task = None
        self.export_button.setEnabled(not running)
        self.export_progress.setRange(0, 0)
        self.export_progress.setVisible(running)
        self.export_cancel.setVisible(running)

    def _export_progressed(self, value: int, maximum: int, _label: str) -> None:
        self.export_progress.setRange(0, max(maximum, 0))
        if maximum:
            self.export_progress.setValue(min(value, maximum))

    def _exported(self, result: tuple[int, Path]) -> None:
        self.exported = result
        count, path = result
        self.export_message.setStyleSheet(GOOD_STYLE)
        self.export_message.setText(ngettext("{count} row written to {path}",
                                             "{count} rows written to {path}", count).format(
            count=format_number(count), path=path))

    def _export_failed(self, error: BaseException) -> None:
        self.export_message.setStyleSheet(BAD_STYLE)
        self.export_message.setText(_("Cancelled; nothing was written.")
                                    if isinstance(error, Cancelled) else describe_error(error))
