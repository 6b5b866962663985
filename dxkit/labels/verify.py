"""Check printed PDFs the way a phone would: rasterise every page, decode every QR.

pypdfium2 (PDFium, the renderer of Chrome) draws the pages and zxing-cpp decodes them; neither
shares code with the encoder that made the labels, so a passing check means something. The same
module gives the UI page previews and the tests the text a PDF really contains.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import zxingcpp
from PIL import Image

from dxkit.core.i18n import _
from dxkit.core.progress import Progress
from dxkit.labels.errors import LabelError

MM_PER_INCH = 25.4
QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


@dataclass(frozen=True)
class DecodedCode:
    """One QR found on a page: centre and size in mm from the page's top-left corner."""

    payload: str
    page: int
    x_mm: float
    y_mm: float
    size_mm: float
    module_mm: float | None
    version: int | None
    ec_level: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class VerifyReport:
    count: int
    codes: tuple[DecodedCode, ...]
    pages: int
    dpi: float

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "pages": self.pages, "dpi": self.dpi,
                "codes": [code.to_dict() for code in self.codes]}


def verify_pdf(source: str | Path | bytes, dpi: float = 300, *,
               progress: Progress | None = None) -> VerifyReport:
    """Every QR code in the PDF, page by page, top to bottom then left to right."""
    codes: list[DecodedCode] = []
    with _open(source) as document:
        pages = len(document)
        if progress:
            progress.update(value=0, maximum=pages, label=_("Checking QR codes"))
        for index in range(pages):
            image = _render(document[index], dpi, grayscale=True)
            found = zxingcpp.read_barcodes(image, formats=QR_ONLY)
            page_codes = [_decoded(b, index + 1, dpi) for b in found]
            codes.extend(_reading_order(page_codes))
            if progress:
                progress.update(value=index + 1)
    return VerifyReport(len(codes), tuple(codes), pages, dpi)


def preview_pages(source: str | Path | bytes, dpi: float = 96,
                  pages: range | None = None) -> list[Image.Image]:
    """Pages as RGB images, for a print preview."""
    with _open(source) as document:
        wanted = pages if pages is not None else range(len(document))
        return [_render(document[i], dpi, grayscale=False) for i in wanted]


def page_texts(source: str | Path | bytes) -> list[str]:
    """The text PDFium extracts from each page (what a reader or a search would see)."""
    with _open(source) as document:
        return [page.get_textpage().get_text_range() for page in document]


class _Document:
    def __init__(self, document: pdfium.PdfDocument):
        self.document = document

    def __enter__(self) -> pdfium.PdfDocument:
        return self.document

    def __exit__(self, *exc_info: object) -> None:
        self.document.close()


def _open(source: str | Path | bytes) -> _Document:
    name = _("the PDF") if isinstance(source, bytes | bytearray) else str(source)
    if not isinstance(source, bytes | bytearray) and not Path(source).is_file():
        raise LabelError(_("There is no file {path}.").format(path=name))
    try:
        return _Document(pdfium.PdfDocument(source))
    except pdfium.PdfiumError as exc:
        raise LabelError(_("{path} is not a PDF, or it is damaged or locked.").format(
            path=name)) from exc


def _render(page: pdfium.PdfPage, dpi: float, *, grayscale: bool) -> Image.Image:
    bitmap = page.render(scale=dpi / 72, grayscale=grayscale)
    image: Image.Image = bitmap.to_pil()
    return image.convert("L" if grayscale else "RGB")


def _decoded(barcode: zxingcpp.Barcode, page: int, dpi: float) -> DecodedCode:
    corners = list(_corners(barcode.position))
    to_mm = MM_PER_INCH / dpi
    centre_x = sum(x for x, _y in corners) / 4 * to_mm
    centre_y = sum(y for _x, y in corners) / 4 * to_mm
    top_left, top_right, _bottom_right, bottom_left = corners
    side = (math.dist(top_left, top_right) + math.dist(top_left, bottom_left)) / 2 * to_mm
    version = _version(barcode)
    module = side / (17 + 4 * version) if version else None
    return DecodedCode(barcode.text, page, round(centre_x, 2), round(centre_y, 2),
                       round(side, 2), round(module, 3) if module else None, version,
                       str(barcode.ec_level))


def _reading_order(codes: list[DecodedCode], row_tolerance_mm: float = 2.0
                   ) -> list[DecodedCode]:
    """Top row first, left to right; codes whose centres differ by a little share a row."""
    rows: list[list[DecodedCode]] = []
    for code in sorted(codes, key=lambda c: c.y_mm):
        if rows and code.y_mm - rows[-1][0].y_mm <= row_tolerance_mm:
            rows[-1].append(code)
        else:
            rows.append([code])
    return [code for row in rows for code in sorted(row, key=lambda c: c.x_mm)]


def _corners(position: Any) -> Iterator[tuple[float, float]]:
    for point in (position.top_left, position.top_right, position.bottom_right,
                  position.bottom_left):
        yield float(point.x), float(point.y)


def _version(barcode: zxingcpp.Barcode) -> int | None:
    extra = getattr(barcode, "extra", None) or {}
    try:
        return int(extra.get("Version", ""))
    except (TypeError, ValueError):
        return None
