"""Labels to PDF with reportlab: one QR and its text per cell, in reading order.

Speed matters for serialised runs (a thousand codes): each QR is one inline image mask with a
sample per module, and each label's text one text object, written straight into the page
stream; text layout and the encoded text rows are cached per distinct text.
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Callable, Iterator, Sequence

from reportlab.lib.rl_accel import escapePDF
from reportlab.pdfgen.canvas import Canvas

from dxkit.core.i18n import _, format_number
from dxkit.core.progress import Progress
from dxkit.labels import qr
from dxkit.labels.content import LabelContent, TextLine, label_lines, qr_caption
from dxkit.labels.errors import LabelError
from dxkit.labels.fonts import label_font, register_fonts
from dxkit.labels.layout import (
    MIN_DOTS,
    MIN_MODULE_MM,
    PT_PER_MM,
    LabelLayout,
    PlacedLine,
    QrBox,
    QrTooSmall,
    dot_mm,
    label_layout,
)
from dxkit.labels.templates import Template

ALLOWED_EC = ("M", "Q", "H")
_PROGRESS_EVERY = 25


MAX_OFFSET_MM = 10.0


def render_labels(template: Template, contents: Sequence[LabelContent], *,
                  start_position: int = 1, copies: int = 1, ec_level: str = "M",
                  outline: bool = False, offset: tuple[float, float] = (0.0, 0.0),
                  progress: Progress | None = None) -> bytes:
    """A PDF of `contents` (each `copies` times in a row) starting at `start_position`.

    Positions count 1..rows×columns in reading order on the first page, so a partly used
    sheet can be finished; later pages start at position 1. `offset` (mm, right and down;
    negative: left and up) moves everything drawn, to make up for a printer that does not
    print where it is told (on a thermal roll it is rounded to whole printer dots, so codes
    stay on the dot grid). Raises LabelError (and returns nothing) when a QR could not be
    printed at a scannable size on this template.
    """
    _check_arguments(template, len(contents), start_position, copies, ec_level)
    offset = _check_offset(template, offset)
    register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(template.page_width * PT_PER_MM,
                                      template.page_height * PT_PER_MM),
                    pageCompression=1, invariant=1)
    canvas.setTitle(_("Labels"))
    canvas.setCreator("dxkit")
    drawer = _Drawer(canvas, template, ec_level, outline, offset)
    total = len(contents) * copies
    if progress:
        progress.update(value=0, maximum=total, label=_("Drawing labels"))
    for index, (position, content) in enumerate(_placements(template, contents, copies,
                                                            start_position, canvas.showPage)):
        drawer.draw(position, content)
        if progress and index % _PROGRESS_EVERY == 0:
            progress.update(value=index)
    if progress:
        progress.update(value=total)
    canvas.save()
    return buffer.getvalue()


def _check_arguments(template: Template, count: int, start_position: int, copies: int,
                     ec_level: str) -> None:
    if count == 0:
        raise LabelError(_("There are no labels to print."))
    if not 1 <= start_position <= template.per_page:
        raise LabelError(_("The starting position must be between 1 and {last} on "
                           "{template}.").format(last=template.per_page,
                                                 template=template.display_title))
    if copies < 1:
        raise LabelError(_("Print at least one copy of each label."))
    if ec_level not in ALLOWED_EC:
        raise LabelError(_("Error correction must be M, Q or H; L is too weak for labels."))


def _check_offset(template: Template, offset: tuple[float, float]) -> tuple[float, float]:
    x, y = (float(value) for value in offset)
    if not all(math.isfinite(v) and abs(v) <= MAX_OFFSET_MM + 1e-9 for v in (x, y)):
        raise LabelError(_("A printing offset is between −{limit} and {limit} mm.").format(
            limit=format_number(MAX_OFFSET_MM)))
    dot = dot_mm(template)
    if dot:
        x, y = round(x / dot) * dot, round(y / dot) * dot
    return x, y


def _placements(template: Template, contents: Sequence[LabelContent], copies: int,
                start: int, new_page: Callable[[], None]
                ) -> Iterator[tuple[int, LabelContent]]:
    position = start
    for content in contents:
        for _copy in range(copies):
            if position > template.per_page:
                new_page()
                position = 1
            yield position, content
            position += 1


class _Drawer:
    """Draws one label at a time; caches what repeats from label to label."""

    def __init__(self, canvas: Canvas, template: Template, ec_level: str, outline: bool,
                 offset: tuple[float, float] = (0.0, 0.0)):
        self.canvas = canvas
        self.template = template
        self.ec_level = ec_level
        self.outline = outline
        self.offset = offset
        self._symbols: dict[str, qr.QrSymbol] = {}
        self._fonts = {False: label_font(bold=False), True: label_font(bold=True)}
        self._shown: dict[tuple[str, bool, float], str] = {}

    def draw(self, position: int, content: LabelContent) -> None:
        left, top = self.template.cell(position)
        symbol = self._symbol(content.qr_payload)
        layout = self._layout(symbol.size, content)
        page_height = self.template.page_height
        shifted_left, shifted_top = left + self.offset[0], top + self.offset[1]
        operators = [_qr_operators(symbol, layout.qr, shifted_left, shifted_top, page_height),
                     "q 0 g BT"]
        for line in layout.texts:
            x = (shifted_left + line.x) * PT_PER_MM
            y = (page_height - shifted_top - line.baseline) * PT_PER_MM
            operators.append(f"1 0 0 1 {x:.3f} {y:.3f} Tm {self._show(line)}")
        operators.append("ET Q")
        self.canvas.addLiteral(" ".join(operators))
        if self.outline:
            self._outline(left, top)

    def _show(self, line: PlacedLine) -> str:
        """Font selection and text showing for a row, cached: most rows repeat on every label.

        This is what reportlab's drawString writes for a TrueType subset font, without its
        per-call text object; the subset names and glyph codes are per document, like
        this cache.
        """
        key = (line.text, line.bold, line.size)
        shown = self._shown.get(key)
        if shown is None:
            # reportlab's per-document state (subset names); its stubs omit the private name.
            font, doc = self._fonts[line.bold], self.canvas._doc  # type: ignore[attr-defined]
            shown = " ".join(
                f"{font.getSubsetInternalName(subset, doc)} {line.size:.3f} Tf "
                f"({escapePDF(chunk)}) Tj" for subset, chunk in font.splitString(line.text, doc))
            self._shown[key] = shown
        return shown

    def _symbol(self, payload: str) -> qr.QrSymbol:
        symbol = self._symbols.get(payload)
        if symbol is None:
            try:
                symbol = qr.encode(payload, self.ec_level)
            except qr.PayloadTooLong as exc:
                raise LabelError(_("“{payload}” is too long for a QR code.").format(
                    payload=_short(payload))) from exc
            self._symbols = {payload: symbol}  # copies of a label follow each other
        return symbol

    def _layout(self, modules: int, content: LabelContent) -> LabelLayout:
        try:
            return _layout(self.template, modules, label_lines(content), qr_caption(content))
        except QrTooSmall as exc:
            raise LabelError(_refusal(self.template, modules, content.qr_payload,
                                      exc)) from exc

    def _outline(self, left: float, top: float) -> None:
        t = self.template
        self.canvas.saveState()
        self.canvas.setStrokeGray(0.6)
        self.canvas.setLineWidth(0.3)
        self.canvas.roundRect(left * PT_PER_MM, (t.page_height - top - t.label_height) *
                              PT_PER_MM, t.label_width * PT_PER_MM, t.label_height * PT_PER_MM,
                              t.corner_radius * PT_PER_MM)
        self.canvas.restoreState()


@functools.lru_cache(maxsize=4096)
def _layout(template: Template, modules: int, lines: tuple[TextLine, ...], caption: str
            ) -> LabelLayout:
    return label_layout(template, modules, lines, caption)


def _qr_operators(symbol: qr.QrSymbol, box: QrBox, left: float, top: float,
                  page_height: float) -> str:
    """The symbol as an inline 1-bit image mask, one sample per module, painted black.

    Scaled by the transform to the module size with interpolation off, every module is a
    crisp square on any device; hex-coded so the page stream stays text.
    """
    side = box.side * PT_PER_MM
    x = (left + box.x) * PT_PER_MM
    y = (page_height - top - box.y - box.side) * PT_PER_MM
    n = symbol.size
    pad = "0" * (-n % 8)  # every image row starts on a byte
    bits = pad.join(symbol.rows) + pad
    samples = format(int(bits, 2), f"0{len(bits) // 4}X")
    return (f"q 0 g {side:.4f} 0 0 {side:.4f} {x:.4f} {y:.4f} cm "
            f"BI /W {n} /H {n} /IM true /BPC 1 /D [1 0] /I false /F /AHx ID "
            f"{samples}> EI Q")


def _short(payload: str, limit: int = 40) -> str:
    return payload if len(payload) <= limit else payload[:limit] + "…"


def _refusal(template: Template, modules: int, payload: str, exc: QrTooSmall) -> str:
    if exc.dots is not None:
        return _("The QR code for “{payload}” needs {modules} modules across; on {template} "
                 "a module would be {dots} printer dots, under the {minimum} dots a scanner "
                 "needs. Shorten the payload or choose a larger label.").format(
            payload=_short(payload), modules=modules, template=template.display_title,
            dots=exc.dots, minimum=MIN_DOTS)
    return _("The QR code for “{payload}” needs {modules} modules across; on {template} a "
             "module would be {size} mm, under the {minimum} mm a phone needs. Shorten the "
             "payload or choose a larger label.").format(
        payload=_short(payload), modules=modules, template=template.display_title,
        size=f"{exc.module_mm:.2f}", minimum=MIN_MODULE_MM)
