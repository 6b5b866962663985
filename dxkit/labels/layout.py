"""Where things go inside one label: the QR box and text that never leaves its box.

Lengths are millimetres from the label's top-left corner; font sizes are points. Text
shrinks, wrapping by words, down to the smallest size legible on the template
(`min_text_size`: 5.5 pt on sheets, more on a 203 dpi thermal roll); below that it never goes.
When the lines still do not fit, the least important are left out, and only when the most
important alone cannot have all their rows is a line ended in "…". Under the code, where there
is room, one line says what the code is for ("Scan to see the origin"). Nothing is ever drawn
outside the label's padding.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from dxkit.labels.content import TextLine
from dxkit.labels.fonts import text_width
from dxkit.labels.templates import Template

PT_PER_MM = 72 / 25.4
MAX_SIZE = 10.0  # body text, points
MIN_SIZE = 5.5  # the smallest text on a sheet (laser or inkjet, 300 dpi and more)
# Thermal printers print a grid of dots (203 dpi: a dot is 0.125 mm) and their dots bleed, so
# the smallest legible text is counted in dots. Capitals at least 12 dots tall (1.5 mm) make
# an em of 16.5 dots: lowercase letters 9 dots tall (the bowls of e, o, a keep a counter),
# stems of about 1.4 dots (a one-dot stem is the first thing a worn head loses), and the tone
# marks over a vowel (ể, ẫ, ở) 4 dots tall with a dot of paper between them and the letter,
# which is what keeps hỏi, ngã and sắc apart. With 8 dots of capital, a figure quoted for
# Latin text, the marks get under 3 dots and touch the letter. At 203 dpi: 6 pt.
MIN_CAP_DOTS = 12
CAP_HEIGHT_EM = 1493 / 2048  # DejaVu Sans (Condensed): capital height / font size
CAPTION_SIZE = 6.0  # "Scan to see the origin", points (never below the template's minimum)
CAPTION_MAX_SHRINK = 0.85  # the caption may cost the code at most 15% of its module size
HEADING_SCALE = 1.25
LEADING = 1.18  # line height / font size
QUIET_MODULES = 4
MIN_MODULE_MM = 0.4  # phones scan sheet labels reliably from here
MIN_DOTS = 3  # thermal printers: fewer dots per module smear into neighbours
MAX_MODULE_MM = 1.0  # bigger codes only take room from the text
QR_SHARES = (0.45, 0.62)  # of the label's inner width: what the code takes, then at most
ELLIPSIS = "…"
_SIZE_STEP = 0.5


@dataclass(frozen=True)
class QrBox:
    """The symbol's top-left corner (inside its quiet zone) and its module size."""

    x: float
    y: float
    module: float
    modules: int

    @property
    def side(self) -> float:
        return self.module * self.modules


@dataclass(frozen=True)
class PlacedLine:
    text: str
    bold: bool
    size: float  # points
    x: float
    baseline: float
    top: float
    bottom: float
    width: float


class QrTooSmall(ValueError):
    """The symbol cannot be printed at a scannable module size on this template."""

    def __init__(self, module_mm: float, dots: int | None):
        super().__init__(f"module {module_mm:.3f} mm")
        self.module_mm = module_mm
        self.dots = dots


def dot_mm(template: Template) -> float | None:
    return 25.4 / template.dpi if template.kind == "thermal" and template.dpi else None


def min_text_size(template: Template) -> float:
    """The smallest font size (points) text is set in on this template: MIN_SIZE, or on a
    thermal roll the size whose capitals are MIN_CAP_DOTS printer dots tall (6 pt at 203 dpi),
    rounded up to a half point."""
    dot = dot_mm(template)
    if dot is None:
        return MIN_SIZE
    size = MIN_CAP_DOTS * dot * PT_PER_MM / CAP_HEIGHT_EM
    return max(MIN_SIZE, math.ceil(size / _SIZE_STEP - 1e-9) * _SIZE_STEP)


def side_by_side(template: Template) -> bool:
    return template.label_width >= template.label_height


def qr_box(template: Template, modules: int, below: float = 0.0) -> QrBox:
    """The largest scannable QR of `modules` modules for this template, or QrTooSmall.

    Sheets: module ≥ 0.4 mm. Thermal: a whole number of printer dots ≥ 3, with the symbol's
    corner on the dot grid, counted from the page's top-left as printers rasterise. The code
    normally takes up to 45% of the label's width; a long payload may take up to 62% (the text
    then gets smaller) before the label is refused. `below` (mm) is kept free under the code's
    quiet zone, in the code's column (for its caption).
    """
    total = modules + 2 * QUIET_MODULES
    dot = dot_mm(template)
    preferred, widest = (_room(template, share, below) / total for share in QR_SHARES)
    module = _module_size(preferred, dot)
    if not _scannable(module, dot):
        smallest = MIN_MODULE_MM if dot is None else MIN_DOTS * dot
        largest = _module_size(widest, dot)
        if not _scannable(largest, dot):
            raise QrTooSmall(largest, round(largest / dot) if dot else None)
        module = smallest  # the code grows only as far as it must
    origin_x, origin_y = _box_origin(template, total * module, below)
    x, y = origin_x + QUIET_MODULES * module, origin_y + QUIET_MODULES * module
    if dot:
        x, y = _snap_up(x, dot), _snap_up(y, dot)
    return QrBox(x, y, module, modules)


def _room(template: Template, share: float, below: float = 0.0) -> float:
    """The side of the square the code and its quiet zone may fill."""
    pad = template.padding
    inner_w, inner_h = template.label_width - 2 * pad, template.label_height - 2 * pad
    if side_by_side(template):
        return max(0.0, min(inner_h - below, inner_w * share))
    return min(inner_w, inner_h * (share + 0.1))


def _module_size(largest: float, dot: float | None) -> float:
    module = min(largest, MAX_MODULE_MM)
    return module if dot is None else math.floor(module / dot + 1e-9) * dot


def _scannable(module: float, dot: float | None) -> bool:
    if dot is None:
        return module >= MIN_MODULE_MM - 1e-9
    return module / dot >= MIN_DOTS - 1e-9


def _snap_up(value: float, dot: float) -> float:
    return math.ceil(value / dot - 1e-9) * dot


def _box_origin(template: Template, side: float, below: float = 0.0) -> tuple[float, float]:
    """Side by side, the code and what is kept under it are centred vertically; stacked, the
    code is centred across the top."""
    pad = template.padding
    if side_by_side(template):
        return pad, max(pad, (template.label_height - side - below) / 2)
    return (template.label_width - side) / 2, pad


def text_area(template: Template, qr: QrBox, below: float = 0.0
              ) -> tuple[float, float, float, float]:
    """(x, y, width, height) left for text once the QR and its quiet zone are placed (and,
    stacked, `below` mm under the quiet zone for the code's caption)."""
    pad = template.padding
    quiet = QUIET_MODULES * qr.module
    if side_by_side(template):
        x = qr.x + qr.side + quiet
        return x, pad, template.label_width - pad - x, template.label_height - 2 * pad
    y = qr.y + qr.side + quiet + below
    return pad, y, template.label_width - 2 * pad, template.label_height - pad - y


# -- a whole label -----------------------------------------------------------------------------
@dataclass(frozen=True)
class LabelLayout:
    """Everything one label draws: the code, the caption under it (none when there is no room)
    and the lines of text, each inside the label's padding."""

    qr: QrBox
    caption: tuple[PlacedLine, ...]
    lines: tuple[PlacedLine, ...]
    min_size: float  # the smallest font size allowed on this template

    @property
    def texts(self) -> tuple[PlacedLine, ...]:
        return self.caption + self.lines


def label_layout(template: Template, modules: int, lines: tuple[TextLine, ...],
                 caption: str = "") -> LabelLayout:
    """The code of `modules` modules, `caption` under it when there is room, and `lines`
    fitted into what is left. Raises QrTooSmall when no scannable code fits."""
    minimum = min_text_size(template)
    box, rows, below = _code_and_caption(template, modules, caption)
    area = text_area(template, box, 0.0 if side_by_side(template) else below)
    return LabelLayout(box, rows, tuple(fit_text(lines, area, minimum)), minimum)


@functools.lru_cache(maxsize=256)
def _code_and_caption(template: Template, modules: int, caption: str
                      ) -> tuple[QrBox, tuple[PlacedLine, ...], float]:
    """The code and its caption: the same for every label of a run (cached)."""
    bare = qr_box(template, modules)
    return _caption(template, modules, caption, bare, min_text_size(template)) or \
        (bare, (), 0.0)


def _caption(template: Template, modules: int, caption: str, bare: QrBox, minimum: float
             ) -> tuple[QrBox, tuple[PlacedLine, ...], float] | None:
    """(code, caption rows, height kept for them) with the caption under the code, or None
    when there is no room for it in at most two rows.

    Side by side, the caption shares the code's column, which is otherwise blank under a code
    whose size the label's width decides; where the height decides (an edge-to-edge sheet),
    the code gives up a little of its size (at most 15%). Stacked, the caption
    takes a strip of the text's room only if four rows of text remain."""
    text = caption.strip()
    if not text:
        return None
    size = max(minimum, CAPTION_SIZE)
    row = size * LEADING / PT_PER_MM
    box = bare
    for _attempt in range(3):  # the code shrinks for the caption, the column with it
        x0, width = _column(template, box)
        rows, cut = _wrap(text, False, size, width * PT_PER_MM, 2)
        if cut:
            return None
        below = len(rows) * row
        if side_by_side(template):
            try:
                shrunk = qr_box(template, modules, below)
            except QrTooSmall:
                return None
            if shrunk.module < CAPTION_MAX_SHRINK * bare.module - 1e-9:
                return None  # a printer dot less per module: the code matters more
            if _column(template, shrunk)[1] < width - 1e-9:
                box = shrunk
                continue  # a narrower column may need another row
            box = shrunk
        elif text_area(template, box, below)[3] < 4 * minimum * LEADING / PT_PER_MM:
            return None
        top = box.y + box.side + QUIET_MODULES * box.module
        if top + below > template.label_height - template.padding + 1e-9:
            return None
        placed = []
        for text_row in rows:
            row_width = text_width(text_row, False, size) / PT_PER_MM
            placed.append(PlacedLine(text_row, False, size, x0 + (width - row_width) / 2,
                                     top + row * 0.80, top, top + row, row_width))
            top += row
        return box, tuple(placed), below
    return None


def _column(template: Template, box: QrBox) -> tuple[float, float]:
    """(x, width) of the strip under the code a caption may use: the code and its quiet zone
    side by side, the label's inner width when the text is under the code."""
    if not side_by_side(template):
        return template.padding, template.label_width - 2 * template.padding
    quiet = QUIET_MODULES * box.module
    left = max(template.padding, box.x - quiet)
    return left, box.x + box.side + quiet - left


# -- text ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Sizes:
    body: float
    heading: float

    def of(self, line: TextLine) -> float:
        return self.heading if line.heading else self.body

    def row(self, line: TextLine) -> float:
        return self.of(line) * LEADING


@functools.lru_cache(maxsize=8)
def _attempts(minimum: float) -> tuple[_Sizes, ...]:
    """Largest first; at the smallest size the heading finally drops to the body size."""
    sizes, body = [], MAX_SIZE
    while body >= minimum - 1e-9:
        sizes.append(_Sizes(body, body * HEADING_SCALE))
        body -= _SIZE_STEP
    return (*sizes, _Sizes(minimum, minimum))


def fit_text(lines: tuple[TextLine, ...], area: tuple[float, float, float, float],
             min_size: float = MIN_SIZE) -> list[PlacedLine]:
    """Lines set as large as fits the area, each row inside it, centred vertically; never
    smaller than `min_size` points."""
    _x, _y, width, height = area
    if width <= 0 or height <= 0 or not lines:
        return []
    width_pt, height_pt = width * PT_PER_MM, height * PT_PER_MM
    attempts = _attempts(min_size)
    for sizes in attempts:
        wrapped = [_wrap(line.text, line.bold, sizes.of(line), width_pt, line.max_rows)
                   for line in lines]
        blocks = [rows for rows, _cut in wrapped]
        if not any(cut for _rows, cut in wrapped) and \
                _height(lines, blocks, sizes) <= height_pt:
            return _place(lines, blocks, sizes, area)
    return _fit_at_minimum(lines, width_pt, height_pt, area, attempts[-1])


def _fit_at_minimum(lines: tuple[TextLine, ...], width_pt: float, height_pt: float,
                    area: tuple[float, float, float, float], sizes: _Sizes
                    ) -> list[PlacedLine]:
    """At the smallest size: every line kept gets all its rows (a name wraps onto its second
    row rather than being cut), and the least important lines are left out until the rest
    fit. Only when the most important line alone does not fit is it cut short with "…" (a
    whole line — a date, a code — is never cut: it is shown entirely or left out)."""
    needed = {id(line): len(_wrap(line.text, line.bold, sizes.of(line), width_pt, 99)[0])
              for line in lines}
    given = {id(line): needed[id(line)] if line.whole else min(needed[id(line)], line.max_rows)
             for line in lines}
    kept = sorted(lines, key=lambda line: line.priority)

    def used() -> float:
        return sum(sizes.row(line) * given[id(line)] for line in kept)

    while len(kept) > 1 and used() > height_pt:
        kept.pop()
    if kept and used() > height_pt:  # one line left, still too tall
        line = kept[0]
        given[id(line)] = int(height_pt // sizes.row(line) + 1e-9)
        if line.whole or given[id(line)] < 1:
            kept.pop()
    kept_ids = {id(line) for line in kept}
    shown = tuple(line for line in lines if id(line) in kept_ids)
    blocks = [_wrap(line.text, line.bold, sizes.of(line), width_pt, given[id(line)])[0]
              for line in shown]
    return _place(shown, blocks, sizes, area)


def _height(lines: tuple[TextLine, ...], blocks: list[tuple[str, ...]], sizes: _Sizes
            ) -> float:
    return sum(sizes.row(line) * len(rows) for line, rows in zip(lines, blocks, strict=True))


def _place(lines: tuple[TextLine, ...], blocks: list[tuple[str, ...]], sizes: _Sizes,
           area: tuple[float, float, float, float]) -> list[PlacedLine]:
    x, y, width, height = area
    used = _height(lines, blocks, sizes) / PT_PER_MM
    top = y + max(0.0, (height - used) / 2)
    placed = []
    for line, rows in zip(lines, blocks, strict=True):
        size = sizes.of(line)
        row_mm = size * LEADING / PT_PER_MM
        for row in rows:
            # The baseline sits so ascenders and Vietnamese stacked marks stay in the row.
            baseline = top + row_mm * 0.80
            row_width = text_width(row, line.bold, size) / PT_PER_MM
            if row_width <= width:  # only a single glyph wider than the area could fail this
                placed.append(PlacedLine(row, line.bold, size, x, baseline, top, top + row_mm,
                                         row_width))
            top += row_mm
    return placed


@functools.lru_cache(maxsize=16384)
def _wrap(text: str, bold: bool, size: float, width: float, max_rows: int
          ) -> tuple[tuple[str, ...], bool]:
    """Greedy word wrap to `width` points; (rows, whether text was cut with an ellipsis)."""
    rows: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if text_width(candidate, bold, size) <= width:
            current = candidate
            continue
        if current:
            rows.append(current)
        current = word
        while text_width(current, bold, size) > width and len(current) > 1:
            head = _longest_prefix(current, bold, size, width)
            rows.append(head)
            current = current[len(head):]
    if current:
        rows.append(current)
    if len(rows) <= max_rows:
        return tuple(rows), False
    kept = rows[:max_rows - 1]
    rest = " ".join(rows[max_rows - 1:])
    return (*kept, _ellipsize(rest, bold, size, width)), True


def _longest_prefix(text: str, bold: bool, size: float, width: float) -> str:
    for end in range(len(text) - 1, 0, -1):
        if text_width(text[:end], bold, size) <= width:
            return text[:end]
    return text[:1]


def _ellipsize(text: str, bold: bool, size: float, width: float) -> str:
    for end in range(len(text), 0, -1):
        candidate = text[:end].rstrip() + ELLIPSIS
        if text_width(candidate, bold, size) <= width:
            return candidate
    return ELLIPSIS if text_width(ELLIPSIS, bold, size) <= width else ""
