"""Where things go inside one label: the QR box and text that never leaves its box.

Lengths are millimetres from the label's top-left corner; font sizes are points. Text first
shrinks (down to MIN_SIZE), then wraps, then ends in "…"; if even one row per line does not fit,
the least important lines are left out. Nothing is ever drawn outside the label's padding.
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
MIN_SIZE = 5.5  # still legible from a thermal printer at 203 dpi
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


def side_by_side(template: Template) -> bool:
    return template.label_width >= template.label_height


def qr_box(template: Template, modules: int) -> QrBox:
    """The largest scannable QR of `modules` modules for this template, or QrTooSmall.

    Sheets: module ≥ 0.4 mm. Thermal: a whole number of printer dots ≥ 3, with the symbol's
    corner on the dot grid, counted from the page's top-left as printers rasterise. The code
    normally takes up to 45% of the label's width; a long payload may take up to 62% (the text
    then gets smaller) before the label is refused.
    """
    total = modules + 2 * QUIET_MODULES
    dot = dot_mm(template)
    preferred, widest = (_room(template, share) / total for share in QR_SHARES)
    module = _module_size(preferred, dot)
    if not _scannable(module, dot):
        smallest = MIN_MODULE_MM if dot is None else MIN_DOTS * dot
        largest = _module_size(widest, dot)
        if not _scannable(largest, dot):
            raise QrTooSmall(largest, round(largest / dot) if dot else None)
        module = smallest  # the code grows only as far as it must
    origin_x, origin_y = _box_origin(template, total * module)
    x, y = origin_x + QUIET_MODULES * module, origin_y + QUIET_MODULES * module
    if dot:
        x, y = _snap_up(x, dot), _snap_up(y, dot)
    return QrBox(x, y, module, modules)


def _room(template: Template, share: float) -> float:
    """The side of the square the code and its quiet zone may fill."""
    pad = template.padding
    inner_w, inner_h = template.label_width - 2 * pad, template.label_height - 2 * pad
    if side_by_side(template):
        return min(inner_h, inner_w * share)
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


def _box_origin(template: Template, side: float) -> tuple[float, float]:
    pad = template.padding
    if side_by_side(template):
        return pad, (template.label_height - side) / 2
    return (template.label_width - side) / 2, pad


def text_area(template: Template, qr: QrBox) -> tuple[float, float, float, float]:
    """(x, y, width, height) left for text once the QR and its quiet zone are placed."""
    pad = template.padding
    quiet = QUIET_MODULES * qr.module
    if side_by_side(template):
        x = qr.x + qr.side + quiet
        return x, pad, template.label_width - pad - x, template.label_height - 2 * pad
    y = qr.y + qr.side + quiet
    return pad, y, template.label_width - 2 * pad, template.label_height - pad - y


@dataclass(frozen=True)
class _Sizes:
    body: float
    heading: float

    def of(self, line: TextLine) -> float:
        return self.heading if line.heading else self.body

    def row(self, line: TextLine) -> float:
        return self.of(line) * LEADING


def _attempts() -> list[_Sizes]:
    """Largest first; at the smallest size the heading finally drops to the body size."""
    sizes, body = [], MAX_SIZE
    while body >= MIN_SIZE - 1e-9:
        sizes.append(_Sizes(body, body * HEADING_SCALE))
        body -= _SIZE_STEP
    return [*sizes, _Sizes(MIN_SIZE, MIN_SIZE)]


_ATTEMPTS = _attempts()


def fit_text(lines: tuple[TextLine, ...], area: tuple[float, float, float, float]
             ) -> list[PlacedLine]:
    """Lines set as large as fits the area, each row inside it, centred vertically."""
    _x, _y, width, height = area
    if width <= 0 or height <= 0 or not lines:
        return []
    width_pt, height_pt = width * PT_PER_MM, height * PT_PER_MM
    for sizes in _ATTEMPTS:
        wrapped = [_wrap(line.text, line.bold, sizes.of(line), width_pt, line.max_rows)
                   for line in lines]
        blocks = [rows for rows, _cut in wrapped]
        if not any(cut for _rows, cut in wrapped) and \
                _height(lines, blocks, sizes) <= height_pt:
            return _place(lines, blocks, sizes, area)
    return _fit_at_minimum(lines, width_pt, height_pt, area)


def _fit_at_minimum(lines: tuple[TextLine, ...], width_pt: float, height_pt: float,
                    area: tuple[float, float, float, float]) -> list[PlacedLine]:
    """At the smallest size: whole lines get all their rows, others one row, the spare room
    goes to the most important; lines that still do not fit are left out, least important
    first."""
    sizes = _ATTEMPTS[-1]
    needed = {id(line): len(_wrap(line.text, line.bold, sizes.of(line), width_pt, 99)[0])
              for line in lines}
    given = {id(line): needed[id(line)] if line.whole else 1 for line in lines}
    kept = sorted(lines, key=lambda line: line.priority)

    def used() -> float:
        return sum(sizes.row(line) * given[id(line)] for line in kept)

    while kept and used() > height_pt:
        kept.pop()
    spare = height_pt - used()
    for line in kept:
        while given[id(line)] < min(needed[id(line)], line.max_rows) and \
                spare >= sizes.row(line):
            given[id(line)] += 1
            spare -= sizes.row(line)
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
