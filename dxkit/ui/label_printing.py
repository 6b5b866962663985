"""Putting a label PDF on paper through Qt: pages rasterised by PDFium (the core's
preview_pages) at the printer's resolution and painted onto a QPrinter, plus the dialog that
measures a custom label sheet.

Painting a QPrinter from a worker thread is supported by Qt, so a long job runs off the UI
thread, one page in memory at a time.

Also here: the dialog that has the trace address confirmed before the first labels go out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PIL import Image
from PySide6.QtCore import QMarginsF, QRectF, QSize, QSizeF, Qt
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPainter
from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog
from PySide6.QtWidgets import (
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from dxkit.core.errors import ValidationError
from dxkit.core.i18n import _
from dxkit.core.progress import Progress
from dxkit.farm.printing import save_custom_template
from dxkit.farm.settings import DEFAULT_TRACE_BASE_URL
from dxkit.labels.templates import A4, Template, custom_template
from dxkit.labels.verify import page_texts, preview_pages
from dxkit.ui.context import AppContext
from dxkit.ui.fitting import DIALOGS, fit_to_screen, scrolled_body
from dxkit.ui.widgets import FieldErrors, FieldWithError, save_cancel_buttons
from dxkit.workspace import Workspace

MAX_PRINT_DPI = 600  # an A4 page at 1200 dpi would take 400 MB of memory
PREVIEW_PRINT_DPI = 300  # the print preview's page images (rendered on a worker thread)


def to_qimage(image: Image.Image) -> QImage:
    rgb = image.convert("RGB")
    data = rgb.tobytes("raw", "RGB")
    return QImage(data, rgb.width, rgb.height, 3 * rgb.width,
                  QImage.Format.Format_RGB888).copy()  # copy: `data` is freed on return


def page_count(pdf: bytes) -> int:
    return len(page_texts(pdf))


def set_up_printer(printer: QPrinter, template: Template) -> None:
    """Paper the size of the template's page, no margins: positions are the template's."""
    size = QPageSize(QSizeF(template.page_width, template.page_height),
                     QPageSize.Unit.Millimeter, template.title,
                     QPageSize.SizeMatchPolicy.FuzzyMatch)
    printer.setPageLayout(QPageLayout(size, QPageLayout.Orientation.Portrait,
                                      QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Millimeter))
    printer.setFullPage(True)


def paint_pdf(printer: QPrinter, pdf: bytes, progress: Progress | None = None,
              max_dpi: int = MAX_PRINT_DPI) -> int:
    """Paint every page of `pdf` onto `printer`, rasterised one at a time at the printer's
    resolution (at most `max_dpi`); returns the number of pages."""
    dpi = min(max(printer.resolution(), 72), max_dpi)
    return paint_pages(printer, page_count(pdf),
                       lambda index: to_qimage(preview_pages(pdf, dpi, range(index, index + 1))[0]),
                       progress)


def render_for_preview(pdf: bytes, dpi: int = PREVIEW_PRINT_DPI,
                       progress: Progress | None = None) -> list[QImage]:
    """Every page as an image, for the print preview: made on a worker thread, so the
    dialog's own painting (on the UI thread) only draws finished images. One page at a time,
    each a checkpoint for `progress` (a Cancel stops before the next page)."""
    count = page_count(pdf)
    if progress:
        progress.update(value=0, maximum=count, label=_("Preparing the print preview"))
    pages = []
    for index in range(count):
        pages.append(to_qimage(preview_pages(pdf, dpi, range(index, index + 1))[0]))
        if progress:
            progress.update(value=index + 1)
    return pages


def paint_pages(printer: QPrinter, count: int, page: Callable[[int], QImage],
                progress: Progress | None = None) -> int:
    if progress:
        progress.update(value=0, maximum=count, label=_("Sending the labels to the printer"))
    painter = QPainter()
    if not painter.begin(printer):
        raise OSError(_("The printer could not be opened."))
    try:
        for index in range(count):
            if index:
                printer.newPage()
            target = QRectF(printer.paperRect(QPrinter.Unit.DevicePixel))
            target.moveTo(0, 0)
            painter.drawImage(target, page(index))
            if progress:
                progress.update(value=index + 1)
    finally:
        painter.end()
    return count


def _mm(value: float, maximum: float = 1000.0) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(0.0, maximum)
    box.setDecimals(2)
    box.setSuffix(" mm")
    box.setValue(value)
    return box


def _count(value: int) -> QSpinBox:
    box = QSpinBox()
    box.setRange(0, 100)
    box.setValue(value)
    return box


def _pair(first: QWidget, second: QWidget) -> QWidget:
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(first)
    row.addWidget(QLabel("×"))
    row.addWidget(second)
    row.addStretch(1)
    return box


class LabelPrintPreview(QPrintPreviewDialog):
    """Qt's print preview of rendered label pages, sized for the screen: left alone it opens at
    about 530×510, with Print hidden behind the toolbar's "»"."""

    PREFERRED_SIZE = QSize(960, 720)

    def __init__(self, template: Template, pages: list[QImage],
                 parent: QWidget | None = None):
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        set_up_printer(printer, template)
        super().__init__(printer, parent)
        self.label_printer = printer  # the dialog does not own its printer: keep it alive
        self.paintRequested.connect(
            lambda target: paint_pages(target, len(pages), pages.__getitem__))
        fit_to_screen(self, self.PREFERRED_SIZE)


class CustomSheetDialog(QDialog):
    """Measure a sheet with a ruler: page, label, margins, pitch, rows and columns. Each
    problem template_problems finds is shown next to the measurement it is about."""

    def __init__(self, ws: Workspace, parent: QWidget | None = None):
        super().__init__(parent)
        self.ws = ws
        self.saved: Template | None = None
        self.setWindowTitle(_("Measure a custom sheet"))
        layout = scrolled_body(self, save_cancel_buttons(self))  # the buttons stay in view
        hint = QLabel(_("Measure in millimetres from the top-left corner of the sheet. The "
                        "pitch is the distance from the start of one label to the start of "
                        "the next."))
        hint.setWordWrap(True)
        layout.addWidget(hint)
        general = QLabel()
        layout.addWidget(general)
        self.errors = FieldErrors(general)
        self.name, self.title = QLineEdit(), QLineEdit()
        self.page = (_mm(A4[0]), _mm(A4[1]))
        self.label = (_mm(63.5), _mm(38.1))
        self.margins = (_mm(7.2), _mm(15.15))
        self.pitch = (_mm(66.04), _mm(38.1))
        self.grid = (_count(3), _count(7))
        form = QFormLayout()
        rows: list[tuple[str, str, QWidget]] = [
            ("name", _("Short name:"), self.name), ("title", _("Title:"), self.title),
            ("page", _("Page (width × height):"), _pair(*self.page)),
            ("label", _("Label (width × height):"), _pair(*self.label)),
            ("margins", _("Left and top margin:"), _pair(*self.margins)),
            ("pitch", _("Pitch (across × down):"), _pair(*self.pitch)),
            ("grid", _("Columns × rows:"), _pair(*self.grid)),
        ]
        for key, text, editor in rows:
            form.addRow(text, self.errors.add(key, FieldWithError(editor)))
        layout.addLayout(form)
        fit_to_screen(self)

    def measurements(self) -> dict[str, Any]:
        return {"name": self.name.text(), "title": self.title.text(),
                "page_width": self.page[0].value(), "page_height": self.page[1].value(),
                "label_width": self.label[0].value(), "label_height": self.label[1].value(),
                "left_margin": self.margins[0].value(), "top_margin": self.margins[1].value(),
                "pitch_x": self.pitch[0].value(), "pitch_y": self.pitch[1].value(),
                "columns": self.grid[0].value(), "rows": self.grid[1].value()}

    def save(self) -> bool:
        self.errors.clear()
        try:
            template = custom_template(**self.measurements())
        except ValidationError as error:
            self.errors.show(error.fields)
            return False
        save_custom_template(self.ws, template)  # settings.json, not the database
        self.saved = template
        self.accept()
        return True


class TraceAddressDialog(QDialog):
    """Before the first labels: the address their QR codes will hold, to confirm or change.
    Until someone confirms it, dxkit would print the default placeholder address, which may
    not be the province's trace site."""

    def __init__(self, ws: Workspace, parent: QWidget | None = None):
        super().__init__(parent)
        self.ws = ws
        self.confirmed: str | None = None
        self.setWindowTitle(_("Trace address in QR codes"))
        layout = scrolled_body(self, save_cancel_buttons(self, _("Use this address")))
        intro = QLabel(_("Before the first labels are printed, check the address their QR "
                         "codes will hold. A buyer's phone opens it to see where the lot comes "
                         "from, so it must be your province's trace site; labels already "
                         "stuck on boxes cannot be changed."))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        general = QLabel()
        layout.addWidget(general)
        self.errors = FieldErrors(general)
        self.address = QLineEdit(ws.farm.trace_base_url)
        self.address.setPlaceholderText(DEFAULT_TRACE_BASE_URL)
        form = QFormLayout()
        form.addRow(_("Trace address:"), self.errors.add("trace_base_url",
                                                         FieldWithError(self.address)))
        layout.addLayout(form)
        default = QLabel(_("Default: {url}").format(url=DEFAULT_TRACE_BASE_URL))
        default.setWordWrap(True)
        default.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(default)
        # Wide enough to read a whole address, where the screen has the room.
        wide = self.address.fontMetrics().horizontalAdvance(DEFAULT_TRACE_BASE_URL) * 2
        fit_to_screen(self, QSize(wide, self.sizeHint().height()))

    def save(self) -> bool:
        """Confirm the address shown (settings.json, not the database); a wrong one is said
        next to the field and nothing is saved."""
        self.errors.clear()
        try:
            self.confirmed = self.ws.farm.confirm_trace_base_url(self.address.text())
        except ValidationError as error:
            self.errors.show(error.fields)
            return False
        self.accept()
        return True


@DIALOGS.register("trace address")
def _sample_trace_address(ctx: AppContext, parent: QWidget) -> QDialog:
    return TraceAddressDialog(ctx.ws, parent)


@DIALOGS.register("custom label sheet")
def _sample_custom_sheet(ctx: AppContext, parent: QWidget) -> QDialog:
    return CustomSheetDialog(ctx.ws, parent)
