"""The label designer of one lot: stock (built-in or a measured sheet), copies (a full sheet
unless the user types another number: the rest of the sheet from the start position), the
first free position on a partly used sheet, serials, the printer's offset for this stock
(saved with the workspace's settings), a live preview of the first page (rendered on the
database thread ~300 ms after the last change), Save PDF, Print preview and Print.

Nothing is printed or saved before someone confirmed the trace address the QR codes hold:
until then Save PDF, Print preview and Print first ask (TraceAddressDialog).

Drawing a job reads the lot, so it runs on the database thread; checking its QR codes,
rasterising its pages for the print preview and painting them onto the printer touch no
workspace and run on the I/O pool (`without_database()`). Each step shows in the status bar
with a Cancel button.

A non-compliant lot gets no labels: its reasons are shown in red and the buttons are off."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QImage, QPixmap, QResizeEvent
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from dxkit.core.errors import ValidationError
from dxkit.core.i18n import _, counted
from dxkit.core.progress import Progress
from dxkit.farm.model import Lot
from dxkit.farm.printing import (
    PrintJob,
    check_decodes,
    label_offset,
    label_templates,
    preview_lot_labels,
    print_lot_labels,
    save_label_offset,
)
from dxkit.labels.render import MAX_OFFSET_MM
from dxkit.labels.templates import Template
from dxkit.labels.verify import preview_pages
from dxkit.ui.appearance import HINT_STYLE, scaled_font
from dxkit.ui.context import AppContext
from dxkit.ui.fitting import DIALOGS, flow_row, keep_together, limit_width, scrolled_body
from dxkit.ui.label_printing import (
    CustomSheetDialog,
    LabelPrintPreview,
    TraceAddressDialog,
    paint_pdf,
    render_for_preview,
    set_up_printer,
    to_qimage,
)
from dxkit.ui.operations import Op, Query
from dxkit.ui.taskman import Task
from dxkit.ui.widgets import ERROR_STYLE, error_label, show_error

PREVIEW_DELAY_MS = 300
OFFSET_STEP_MM = 0.1
PREVIEW_DPI = 100
VERIFY_OVER = 50  # a job with more labels is decoded back before it goes to the printer
MAX_GRID_BUTTONS = 80
SAMPLE_PREVIEW_DPI = 100  # enough for a screenshot of the print preview
TEMPLATE_CHARACTERS = 20  # the stock list is as wide as this, not as its longest title


def _offset_box() -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(-MAX_OFFSET_MM, MAX_OFFSET_MM)
    box.setDecimals(1)
    box.setSingleStep(OFFSET_STEP_MM)
    box.setSuffix(" mm")
    return box


class ScaledImage(QLabel):
    """An image that shrinks or grows with the widget, keeping its proportions."""

    def __init__(self) -> None:
        super().__init__()
        self.original: QPixmap | None = None
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setMinimumSize(QSize(160, 120))  # it grows with the room there is
        self.setStyleSheet("background: #e8e8e8;")

    def set_image(self, image: QImage | None) -> None:
        self.original = QPixmap.fromImage(image) if image is not None else None
        self._rescale()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self.original is None:
            self.setPixmap(QPixmap())
            return
        self.setPixmap(self.original.scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                            Qt.TransformationMode.SmoothTransformation))


class StartPicker(QWidget):
    """The sheet as a grid of positions: click the first free one (those before it are used)."""

    def __init__(self, spin: QSpinBox):
        super().__init__()
        self.spin = spin
        self.grid = QGridLayout(self)
        self.grid.setSpacing(1)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.buttons: list[QToolButton] = []
        spin.valueChanged.connect(self._paint)

    def set_sheet(self, rows: int, columns: int) -> None:
        for button in self.buttons:
            button.deleteLater()
        self.buttons = []
        if rows * columns > MAX_GRID_BUTTONS or rows * columns <= 1:
            self.hide()
            return
        for position in range(1, rows * columns + 1):
            button = QToolButton()
            button.setText(str(position))
            button.setFixedSize(26, 18)
            button.clicked.connect(lambda _c=False, p=position: self.spin.setValue(p))
            row, column = divmod(position - 1, columns)
            self.grid.addWidget(button, row, column)
            self.buttons.append(button)
        self.show()
        self._paint(self.spin.value())

    def _paint(self, start: int) -> None:
        for position, button in enumerate(self.buttons, start=1):
            button.setStyleSheet(
                "background: #616161; color: white;" if position < start else
                "background: #1b7a1b; color: white; font-weight: 700;" if position == start
                else "background: white;")
            button.setToolTip(_("used") if position < start else _("first label"))


class LabelDesigner(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx, self.ws = ctx, ctx.ws
        self.lot: Lot | None = None
        self.templates: dict[str, Template] = {}
        self.preview_number = 0
        self.preview_image: QImage | None = None
        self.last_job: PrintJob | None = None
        self.message = ""  # the last sentence about a print, for the status line and tests
        self.printer: QPrinter | None = None
        self.copies_fill_sheet = True  # until the user types a number of copies
        self._build()
        self.load_templates()
        self.set_lot(None)

    def _build(self) -> None:
        # On a short screen the choices and the preview scroll; the buttons stay in view.
        self._build_choices(scrolled_body(self, self._build_footer()))
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(PREVIEW_DELAY_MS)
        self.timer.timeout.connect(self.render_preview)
        self.template_combo.currentIndexChanged.connect(lambda _i: self._template_changed())
        self.copies.valueChanged.connect(lambda _v: self._copies_typed())
        self.start.valueChanged.connect(lambda _v: self._fill_sheet())
        for signal in (self.copies.valueChanged, self.start.valueChanged,
                       self.serials.toggled):
            signal.connect(lambda *_a: self.schedule_preview())
        for box in (self.offset_x, self.offset_y):
            box.valueChanged.connect(lambda _v: self._offset_changed())
        self.full_sheet_button.clicked.connect(self.fill_sheet)
        self.measure_button.clicked.connect(self.measure_sheet)
        self.save_button.clicked.connect(self.save_pdf)
        self.preview_button.clicked.connect(self.print_preview)
        self.print_button.clicked.connect(self.print_labels)

    def _build_footer(self) -> QVBoxLayout:
        """Save PDF, Print preview and Print, with the line saying how the last one went."""
        buttons = QHBoxLayout()
        self.save_button = QPushButton(_("Save PDF…"))
        self.preview_button = QPushButton(_("Print preview…"))
        self.print_button = QPushButton(_("Print…"))
        buttons.addStretch(1)
        for button in (self.save_button, self.preview_button, self.print_button):
            buttons.addWidget(button)
        self.status = QLabel()
        self.status.setWordWrap(True)
        footer = QVBoxLayout()
        footer.addLayout(buttons)
        footer.addWidget(self.status)
        return footer

    def _build_choices(self, layout: QVBoxLayout) -> None:
        self.reasons = error_label()
        self.reasons.setStyleSheet(ERROR_STYLE)
        scaled_font(self.reasons, 1.2, bold=True)
        layout.addWidget(self.reasons)
        row = QHBoxLayout()
        self.template_combo = QComboBox()
        limit_width(self.template_combo, TEMPLATE_CHARACTERS)
        self.measure_button = QPushButton(_("Measure a custom sheet…"))
        row.addWidget(QLabel(_("Label stock:")))
        row.addWidget(self.template_combo, 1)
        row.addWidget(self.measure_button)
        layout.addLayout(row)
        self.copies = QSpinBox()
        self.copies.setRange(1, 10_000)
        self.full_sheet_button = QPushButton(_("Full sheet"))
        self.full_sheet_button.setToolTip(_("As many labels as fill the sheet from the start "
                                            "position"))
        self.start = QSpinBox()
        self.serials = QCheckBox(_("Number each label (serials)"))
        layout.addLayout(flow_row(keep_together(QLabel(_("Copies:")), self.copies,
                                                self.full_sheet_button),
                                  keep_together(QLabel(_("Start at position:")), self.start),
                                  self.serials))
        self.offset_x, self.offset_y = _offset_box(), _offset_box()
        offset_hint = _("If the printer prints beside the labels, move everything by this "
                        "much (measure a test print). Saved for this stock.")
        offset = QLabel(_("Printer offset:"))
        for widget in (offset, self.offset_x, self.offset_y):
            widget.setToolTip(offset_hint)
        layout.addLayout(flow_row(offset, keep_together(QLabel(_("right")), self.offset_x),
                                  keep_together(QLabel(_("down")), self.offset_y)))
        self.picker = StartPicker(self.start)
        layout.addWidget(self.picker, 0, Qt.AlignmentFlag.AlignLeft)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet(HINT_STYLE)
        layout.addWidget(self.summary)
        self.preview = ScaledImage()
        layout.addWidget(self.preview, 1)

    # -- choices ------------------------------------------------------------------------
    def load_templates(self, chosen: str | None = None) -> None:
        self.templates = label_templates(self.ws)
        keep = chosen or self.template_combo.currentData()
        self.template_combo.blockSignals(True)
        self.template_combo.clear()
        for name, template in self.templates.items():
            self.template_combo.addItem(template.display_title, name)
        self.template_combo.setCurrentIndex(max(0, self.template_combo.findData(keep)))
        self.template_combo.blockSignals(False)
        self._template_changed()

    def template(self) -> Template:
        return self.templates[self.template_combo.currentData()]

    def set_template(self, name: str) -> None:
        self.template_combo.setCurrentIndex(self.template_combo.findData(name))

    def _template_changed(self) -> None:
        template = self.template()
        self.start.setRange(1, template.per_page)
        self.picker.set_sheet(template.rows, template.columns)
        self._show_offset(label_offset(self.ws, template.name))
        self._fill_sheet()
        self.schedule_preview()

    # -- copies: a full sheet unless the user says otherwise -----------------------------
    def fill_sheet(self) -> None:
        """Copies back to "as many as fill the sheet", following the stock and start."""
        self.copies_fill_sheet = True
        self._fill_sheet()

    def _fill_sheet(self) -> None:
        if self.copies_fill_sheet:
            self.copies.blockSignals(True)
            self.copies.setValue(self.template().to_fill(self.start.value()))
            self.copies.blockSignals(False)
            self.schedule_preview()

    def _copies_typed(self) -> None:
        self.copies_fill_sheet = False

    # -- the printer's offset for this stock ---------------------------------------------
    def offset(self) -> tuple[float, float]:
        return self.offset_x.value(), self.offset_y.value()

    def _show_offset(self, offset: tuple[float, float]) -> None:
        for box, value in zip((self.offset_x, self.offset_y), offset, strict=True):
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)

    def _offset_changed(self) -> None:
        """Saved at once for the stock (settings.json, not the database), then previewed."""
        try:
            save_label_offset(self.ws, self.template().name, *self.offset())
        except ValidationError as error:  # the spin boxes keep within range: unlikely
            self._say(" ".join(error.fields.values()), error=True)
            return
        self.schedule_preview()

    def set_lot(self, lot: Lot | None) -> None:
        self.lot = lot
        ok = lot is not None and lot.compliant
        for button in (self.save_button, self.preview_button, self.print_button):
            button.setEnabled(ok)
        if lot is not None and not lot.compliant:
            self.reasons.setText(_("Lot {code} cannot get labels:").format(code=lot.code)
                                 + "\n" + "\n".join("• " + r for r in lot.reasons))
        self.reasons.setVisible(lot is not None and not lot.compliant)
        self.status.clear()
        self.schedule_preview()

    def can_print(self) -> bool:
        return self.lot is not None and self.lot.compliant

    def _options(self) -> dict[str, Any]:
        """What the print run records: copies, start position, serials."""
        return {"copies": self.copies.value(), "start": self.start.value(),
                "serials": self.serials.isChecked()}

    def _job_options(self) -> dict[str, Any]:
        """What drawing the labels takes: the run's options and the printer's offset."""
        return {**self._options(), "offset": self.offset()}

    # -- the live preview ---------------------------------------------------------------
    def schedule_preview(self) -> None:
        template = self.template()
        copies, start = self.copies.value(), self.start.value()
        pages = math.ceil((start - 1 + copies) / template.per_page)
        self.summary.setText(_("{labels} on {pages}; the preview shows the first page.").format(
            labels=counted(copies, "{count} label", "{count} labels"),
            pages=counted(pages, "{count} page", "{count} pages")))
        # An answer to an older question is dropped, even before the next render is asked
        # for (a newer render also supersedes the older one's query).
        self.preview_number += 1
        if not self.can_print():
            self.preview_image = None
            self.preview.set_image(None)
            self.timer.stop()
            return
        self.timer.start()

    def render_preview(self) -> None:
        """Render only the labels of the first page: fast enough for a thousand copies."""
        if not self.can_print():
            return
        assert self.lot is not None
        ws, lot_id, name = self.ws, self.lot.id, self.template().name
        options = self._job_options()
        first_page = self.template().per_page - options["start"] + 1
        options["copies"] = min(options["copies"], first_page)
        number = self.preview_number

        def work(progress: Progress) -> QImage:
            # With the progress, a superseded render stops at its next checkpoint.
            job = preview_lot_labels(ws, lot_id, name, progress=progress, **options)
            return to_qimage(preview_pages(job.pdf, PREVIEW_DPI, range(1))[0])

        def shown(image: QImage) -> None:
            if number == self.preview_number and self.lot is not None:
                self.preview_image = image
                self.preview.set_image(image)

        def failed(error: BaseException) -> None:
            if number == self.preview_number:
                self.preview_image = None
                self.preview.set_image(None)
                self._say(str(getattr(error, "message", error)), error=True)

        try:
            Query(self.ctx, self, work, key="preview").success(shown).failure(failed).run()
        except RuntimeError:  # the task manager was shut down: the app is closing
            return

    def _say(self, text: str, error: bool = False) -> None:
        self.message = text
        self.status.setText(text)
        self.status.setStyleSheet(ERROR_STYLE if error else "")

    # -- output -------------------------------------------------------------------------
    def _print_job(self, then: Any, label: str, verify_over: int | None = None) -> Task:
        """Record the run and draw its PDF on the database thread, then call `then(job)`.
        With `verify_over`, a larger job is decoded back first and refused (nothing
        recorded) if a code does not read. The run's changes are announced by the op."""
        assert self.lot is not None
        ws, lot_id, name = self.ws, self.lot.id, self.template().name
        options = self._job_options()

        def done(job: PrintJob) -> None:
            self.last_job = job
            then(job)

        return (Op(self.ctx, self, lambda progress: print_lot_labels(
                    ws, lot_id, name, progress=progress, verify_over=verify_over, **options))
                .with_progress(label, cancellable=True)
                .success(done)
                .failure(self._failed)
                .run())

    def _failed(self, error: BaseException) -> None:
        """A drawing, checking or printing step failed (a Cancel is no failure: the op keeps
        it away from here)."""
        self._say(str(getattr(error, "message", error)), error=True)
        show_error(self, error)

    # -- the trace address, confirmed once before anything is printed ---------------------
    def when_address_confirmed(self, then: Any) -> TraceAddressDialog | None:
        """Call `then()` now if the trace address was confirmed; else ask (the dialog shows
        the address in effect, to keep or change) and call it once confirmed. Returns the
        dialog when one was opened."""
        if self.ws.farm.trace_base_url_confirmed:
            then()
            return None
        dialog = TraceAddressDialog(self.ws, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(then)
        dialog.accepted.connect(self.schedule_preview)  # the codes may hold another address
        self.address_dialog = dialog
        dialog.open()
        return dialog

    def save_pdf(self) -> None:
        if self.can_print():
            self.when_address_confirmed(self._save_pdf)

    def _save_pdf(self) -> None:
        if not self.can_print():
            return
        assert self.lot is not None
        path, _filter = QFileDialog.getSaveFileName(self, _("Save the labels as PDF"),
                                                    f"{self.lot.code}.pdf", _("PDF (*.pdf)"))
        if not path:
            return
        target = Path(path if path.lower().endswith(".pdf") else path + ".pdf")

        def write(job: PrintJob) -> None:
            target.write_bytes(job.pdf)
            self._say(_("Saved {labels} to {path}.").format(
                labels=counted(job.labels, "{count} label", "{count} labels"),
                path=str(target)))

        self._print_job(write, _("Drawing labels"))

    def choose_printer(self, printer: QPrinter) -> bool:
        dialog = QPrintDialog(printer, self)
        return dialog.exec() == QDialog.DialogCode.Accepted

    def print_labels(self) -> None:
        if self.can_print():
            self.when_address_confirmed(self._print_labels)

    def _print_labels(self) -> None:
        if not self.can_print():
            return
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        set_up_printer(printer, self.template())
        if not self.choose_printer(printer):
            return
        self.printer = printer
        self._print_job(lambda job: self._send(printer, job), _("Drawing labels"),
                        verify_over=VERIFY_OVER)

    def _checked(self, job: PrintJob, then: Any) -> None:
        """A large job is shown only if every code decodes back (as a phone would read it)."""
        if job.labels <= VERIFY_OVER:
            then()
            return
        (Op(self.ctx, self, lambda progress: check_decodes(job.pdf, job.payloads, progress))
         .without_database()
         .with_progress(_("Checking QR codes"), cancellable=True)
         .success(lambda _none: then())
         .failure(self._failed)
         .run())

    def _send(self, printer: QPrinter, job: PrintJob) -> None:
        def sent(pages: int) -> None:
            self._say(_("{labels} sent to the printer ({pages}).").format(
                labels=counted(job.labels, "{count} label", "{count} labels"),
                pages=counted(pages, "{count} page", "{count} pages")))

        (Op(self.ctx, self, lambda progress: paint_pdf(printer, job.pdf, progress))
         .without_database()
         .with_progress(_("Printing"), cancellable=True)
         .success(sent)
         .failure(self._failed)
         .run())

    def print_preview(self) -> Task | None:
        """The whole job as the printer would get it; printing from there records the run.
        Returns the task of the first step (drawing the labels), or None when there is
        nothing to print or the trace address is being confirmed first (the preview follows
        the confirmation)."""
        if not self.can_print():
            return None
        started: list[Task] = []
        self.when_address_confirmed(lambda: started.append(self._print_preview()))
        return started[0] if started else None

    def _print_preview(self) -> Task:
        assert self.lot is not None
        ws, lot_id, name = self.ws, self.lot.id, self.template().name
        options = self._job_options()
        return (Op(self.ctx, self, lambda progress: preview_lot_labels(
                    ws, lot_id, name, progress=progress, **options))
                .with_progress(_("Drawing labels"), cancellable=True)
                .success(lambda job: self._checked(job, lambda: self._render_preview(job)))
                .failure(self._failed)
                .run())

    def _render_preview(self, job: PrintJob) -> None:
        def rendered(pages: list[QImage]) -> None:
            self._open_preview(job, pages)

        (Op(self.ctx, self, lambda progress: render_for_preview(job.pdf, progress=progress))
         .without_database()
         .with_progress(_("Drawing labels"), cancellable=True)
         .success(rendered)
         .failure(self._failed)
         .run())

    def _open_preview(self, job: PrintJob, pages: list[QImage]) -> LabelPrintPreview:
        dialog = LabelPrintPreview(job.template, pages, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._record_previewed(job))
        self.preview_dialog = dialog
        dialog.open()
        return dialog

    def _record_previewed(self, job: PrintJob) -> None:
        if self.lot is None:
            return
        lots, lot_id, options = self.ws.farm.lots, self.lot.id, self._options()
        template = job.template.name
        (Op(self.ctx, self, lambda _progress: lots.record_print(lot_id, template=template,
                                                                 **options))
         .success(lambda _result: self._say(_("The print run was recorded.")))
         .run())

    def measure_sheet(self) -> CustomSheetDialog:
        dialog = CustomSheetDialog(self.ws, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.load_templates(
            dialog.saved.name if dialog.saved else None))
        self.sheet_dialog = dialog
        dialog.open()
        return dialog



@DIALOGS.register("print preview")
def _sample_print_preview(ctx: AppContext, parent: QWidget) -> QDialog:
    """A sheet of labels of the first lot that passes, as the designer would preview it."""
    ws = ctx.ws
    lot = next(lot for lot in ws.farm.lots.all() if lot.compliant)
    template = next(iter(label_templates(ws).values()))
    job = preview_lot_labels(ws, lot.id, template.name, copies=template.per_page)
    return LabelPrintPreview(template, render_for_preview(job.pdf, dpi=SAMPLE_PREVIEW_DPI),
                             parent)
