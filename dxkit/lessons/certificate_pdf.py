"""Certificates of completion as PDF: A4 landscape, in Vietnamese, one page per learner.

The page: a double border, the national motto, the issuing team and commune, the title, the
learner's full name large (the PDF is the learner's; the public page shows only the masked
name), the course, the date and place of issue with a signature block, and the QR code of the
certificate's verification URL with "Quét mã để kiểm tra" and the short code under it.

Speed (500 certificates in well under 3 s): everything that is the same on every page (the
border, the motto, the fixed wording) is one PDF form drawn once and placed on each page; each
QR is one inline 1-bit image with a sample per module, encoded by dxkit.labels.qr in compact
mode (the base32 code in alphanumeric segments, version 13 for a typical code); texts are
set in the bundled DejaVu font (Vietnamese diacritics), which reportlab subsets.

The wording is Vietnamese whatever the app's language (msgids in English, as everywhere, but
looked up in the Vietnamese catalogue).
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfgen.canvas import Canvas

from dxkit.core.i18n import N_, _, format_number, load_catalog
from dxkit.core.progress import Progress
from dxkit.labels import qr
from dxkit.labels.errors import LabelError
from dxkit.labels.fonts import BOLD, REGULAR, register_fonts, text_width
from dxkit.labels.verify import verify_pdf

MM = 72 / 25.4
PAGE_W, PAGE_H = 297.0, 210.0  # A4 landscape, mm
QR_MM = 42.0  # a version 13 code: 0.55 mm modules, well above a phone's needs
QR_LEFT, QR_BOTTOM = 24.0, 24.0
NAME_MAX_PT, NAME_MIN_PT = 34.0, 18.0
TEXT_WIDTH_MM = 230.0
INK = (0.55, 0.09, 0.09)  # a deep red for the title and border, as on official papers
_PROGRESS_EVERY = 25


@dataclass(frozen=True)
class CertificateView:
    """One certificate as printed. `url` is what the QR holds (the hub's page for the full
    code); `short_code` is printed under it."""

    learner_name: str
    course_title: str
    team_name: str
    commune_name: str
    issued_on: dt.date
    url: str
    short_code: str


def _vi(message: str) -> str:
    return load_catalog("vi").gettext(message)


def certificates_pdf(certificates: Sequence[CertificateView], *,
                     progress: Progress | None = None) -> bytes:
    """The PDF of `certificates`, one page each; LabelError when there is none or a URL does
    not fit a QR code."""
    if not certificates:
        raise LabelError(_("There are no certificates to print."))
    register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(PAGE_W * MM, PAGE_H * MM), pageCompression=1,
                    invariant=1)
    canvas.setTitle(_vi(N_("Certificates of completion")))
    canvas.setCreator("dxkit")
    _background_form(canvas)
    if progress:
        progress.update(value=0, maximum=len(certificates), label=_("Drawing certificates"))
    for index, view in enumerate(certificates):
        canvas.doForm("background")
        _draw(canvas, view)
        canvas.showPage()
        if progress and index % _PROGRESS_EVERY == 0:
            progress.update(value=index)
    if progress:
        progress.update(value=len(certificates))
    canvas.save()
    return buffer.getvalue()


def render_certificates(path: str | Path, certificates: Sequence[CertificateView], *,
                        progress: Progress | None = None) -> Path:
    """Write the certificates' PDF to `path` (nothing is written if it cannot be made)."""
    pdf = certificates_pdf(certificates, progress=progress)
    target = Path(path)
    target.write_bytes(pdf)
    return target


def check_certificate_codes(pdf: bytes, expected: Sequence[str], dpi: float = 150,
                            progress: Progress | None = None) -> None:
    """The decode-back check of farm labels: every QR read by an independent decoder from
    the rendered pages, exactly the expected URLs; LabelError otherwise."""
    report = verify_pdf(pdf, dpi, progress=progress)
    found = Counter(code.payload for code in report.codes)
    if found != Counter(expected):
        readable = sum((found & Counter(expected)).values())
        raise LabelError(_("Only {found} of the {expected} certificate QR codes could be read "
                           "back from the PDF.").format(found=format_number(readable),
                                                       expected=format_number(len(expected))))


# -- drawing -----------------------------------------------------------------------------------
def _background_form(canvas: Canvas) -> None:
    """What every page shares, drawn once as a form."""
    canvas.beginForm("background")
    canvas.setStrokeColorRGB(*INK)
    canvas.setLineWidth(3)
    canvas.rect(8 * MM, 8 * MM, (PAGE_W - 16) * MM, (PAGE_H - 16) * MM)
    canvas.setLineWidth(0.8)
    canvas.rect(11 * MM, 11 * MM, (PAGE_W - 22) * MM, (PAGE_H - 22) * MM)
    for x, y in ((11, 11), (PAGE_W - 11, 11), (11, PAGE_H - 11), (PAGE_W - 11, PAGE_H - 11)):
        canvas.circle(x * MM, y * MM, 2.2 * MM, stroke=1, fill=0)
    right = PAGE_W * 0.68
    canvas.setFillGray(0)
    canvas.setFont(BOLD, 12)
    canvas.drawCentredString(right * MM, (PAGE_H - 24) * MM,
                             _vi(N_("SOCIALIST REPUBLIC OF VIETNAM")))
    canvas.setFont(BOLD, 12)
    motto = _vi(N_("Independence - Freedom - Happiness"))
    canvas.drawCentredString(right * MM, (PAGE_H - 30) * MM, motto)
    half = text_width(motto, True, 12) / 2
    canvas.setStrokeGray(0)
    canvas.setLineWidth(0.6)
    canvas.line(right * MM - half, (PAGE_H - 31.8) * MM, right * MM + half, (PAGE_H - 31.8) * MM)
    canvas.setFillColorRGB(*INK)
    canvas.setFont(BOLD, 34)
    canvas.drawCentredString(PAGE_W / 2 * MM, (PAGE_H - 62) * MM,
                             _vi(N_("CERTIFICATE")))
    canvas.setFont(BOLD, 15)
    canvas.drawCentredString(PAGE_W / 2 * MM, (PAGE_H - 71) * MM,
                             _vi(N_("OF COURSE COMPLETION")))
    canvas.setFillGray(0)
    canvas.setFont(REGULAR, 13)
    canvas.drawCentredString(PAGE_W / 2 * MM, (PAGE_H - 83) * MM,
                             _vi(N_("This certifies that")))
    canvas.drawCentredString(PAGE_W / 2 * MM, (PAGE_H - 112) * MM,
                             _vi(N_("has completed the digital skills course")))
    canvas.setFont(REGULAR, 9)
    canvas.drawCentredString((QR_LEFT + QR_MM / 2) * MM, (QR_BOTTOM - 5) * MM,
                             _vi(N_("Scan the code to verify")))
    canvas.endForm()


def _draw(canvas: Canvas, view: CertificateView) -> None:
    centre = PAGE_W / 2 * MM
    left_centre = PAGE_W * 0.26 * MM
    canvas.setFillGray(0)
    _centred_fit(canvas, view.team_name.upper(), left_centre, (PAGE_H - 24) * MM, True, 10,
                 7, 120)
    _centred_fit(canvas, view.commune_name, left_centre, (PAGE_H - 30) * MM, False, 10, 7, 120)
    canvas.setFillColorRGB(0.1, 0.15, 0.35)
    _centred_fit(canvas, view.learner_name, centre, (PAGE_H - 99) * MM, True, NAME_MAX_PT,
                 NAME_MIN_PT, TEXT_WIDTH_MM)
    canvas.setFillGray(0)
    _centred_fit(canvas, f"“{view.course_title}”", centre, (PAGE_H - 124) * MM, True, 17, 10,
                 TEXT_WIDTH_MM)
    _centred_fit(canvas, _vi(N_("organised by {team}")).format(team=view.team_name), centre,
                 (PAGE_H - 133) * MM, False, 12, 8, TEXT_WIDTH_MM)
    day = view.issued_on
    dated = _vi(N_("{place}, day {day} month {month} year {year}")).format(
        place=view.commune_name, day=f"{day.day:02d}", month=f"{day.month:02d}", year=day.year)
    sign_x = PAGE_W * 0.70 * MM
    _centred_fit(canvas, dated, sign_x, (PAGE_H - 150) * MM, False, 12, 8, 120, italic=True)
    _centred_fit(canvas, _vi(N_("ON BEHALF OF THE TEAM")), sign_x, (PAGE_H - 157) * MM, True, 11,
                 8, 120)
    _centred_fit(canvas, view.short_code, (QR_LEFT + QR_MM / 2) * MM, (QR_BOTTOM - 9.5) * MM,
                 False, 8, 6, QR_MM + 14)
    _qr(canvas, view.url)


def _centred_fit(canvas: Canvas, text: str, x: float, y: float, bold: bool, size: float,
                 smallest: float, width_mm: float, *, italic: bool = False) -> None:
    """`text` centred at (x, y) in points, at `size` or smaller so it fits `width_mm`."""
    width = text_width(text, bold, size)
    limit = width_mm * MM
    if width > limit:
        size = max(smallest, size * limit / width)
        width = text_width(text, bold, size)
    canvas.setFont(BOLD if bold else REGULAR, size)
    if italic:  # DejaVu Sans Condensed ships no italic here: a slant does it
        canvas.saveState()
        canvas.transform(1, 0, 0.2, 1, x - width / 2 - 0.2 * y, 0)
        canvas.drawString(0, y, text)
        canvas.restoreState()
    else:
        canvas.drawString(x - width / 2, y, text)


def _qr(canvas: Canvas, url: str) -> None:
    """The URL's QR code as one inline image mask, one sample per module, with the quiet
    zone the white page gives it."""
    try:
        symbol = qr.encode(url, "M", compact=True)
    except qr.PayloadTooLong as exc:
        raise LabelError(_("“{payload}” is too long for a QR code.").format(
            payload=url[:40] + "…")) from exc
    n = symbol.size
    pad = "0" * (-n % 8)
    bits = pad.join(symbol.rows) + pad
    samples = format(int(bits, 2), f"0{len(bits) // 4}X")
    side = QR_MM * MM
    canvas.addLiteral(
        f"q 0 g {side:.4f} 0 0 {side:.4f} {QR_LEFT * MM:.4f} {QR_BOTTOM * MM:.4f} cm "
        f"BI /W {n} /H {n} /IM true /BPC 1 /D [1 0] /I false /F /AHx ID {samples}> EI Q")


def payloads_in_file(path: str | Path) -> list[str]:
    """Every QR payload in a PDF (pages rendered as for the decode-back check) or an image
    (PNG, JPEG), read with zxing-cpp; LabelError when the file cannot be read."""
    source = Path(path)
    if source.suffix.lower() == ".pdf":
        return [code.payload for code in verify_pdf(source, 200).codes]
    import zxingcpp
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(source) as image:
            found = zxingcpp.read_barcodes(image.convert("L"))
    except (OSError, UnidentifiedImageError) as exc:
        raise LabelError(_("{path} is not a PDF or an image that can be read.").format(
            path=source)) from exc
    return [barcode.text for barcode in found]
