"""Label stock: where each label sits on a page. All lengths are millimetres.

Sheets are A4 (or any page) with rows × columns of labels; thermal rolls are one label per page,
the page being the label, printed at the printer's resolution (dpi).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from dxkit.core.errors import ValidationError
from dxkit.core.i18n import _
from dxkit.labels.errors import LabelError

A4 = (210.0, 297.0)
_TOLERANCE = 0.05  # measurements are rounded to 0.01 mm; do not refuse a sheet over that
THERMAL_DPI = 203


@dataclass(frozen=True)
class Template:
    """One kind of label stock. Positions count from the top-left of the page."""

    name: str
    title: str
    page_width: float
    page_height: float
    label_width: float
    label_height: float
    left_margin: float
    top_margin: float
    pitch_x: float
    pitch_y: float
    columns: int
    rows: int
    corner_radius: float = 0.0
    kind: Literal["sheet", "thermal"] = "sheet"
    dpi: int | None = None
    padding: float = 2.0  # blank border inside each label: cutting and printer tolerances

    @property
    def display_title(self) -> str:
        """The title in the current language (built-in titles are translated)."""
        return _(self.title) if self.title else self.name

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def to_fill(self, start: int = 1) -> int:
        """How many labels fill the sheet from position `start` on: a full sheet from 1 (21 on
        an A4 3×7), the rest of a partly used one; one label on a roll."""
        return max(1, self.per_page - max(1, start) + 1)

    def cell(self, position: int) -> tuple[float, float]:
        """Top-left corner of label `position` (1 = top left, in reading order)."""
        index = position - 1
        row, column = divmod(index, self.columns)
        return (self.left_margin + column * self.pitch_x, self.top_margin + row * self.pitch_y)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Template:
        """A template stored as JSON; checked like a newly measured one."""
        known = {f.name for f in fields(cls)}
        try:
            values = {key: value for key, value in data.items() if key in known}
            return custom_template(**values)
        except TypeError as exc:
            raise LabelError(_("This label template is incomplete ({detail}).").format(
                detail=exc)) from exc


def N_(message: str) -> str:
    """Mark a built-in title for translation; it is translated when shown."""
    return message


def _sheet(name: str, title: str, label: tuple[float, float], grid: tuple[int, int],
           margins: tuple[float, float], pitch: tuple[float, float], *, radius: float = 0.0,
           padding: float = 2.0) -> Template:
    return Template(name, title, *A4, *label, *margins, *pitch, *grid, corner_radius=radius,
                    padding=padding)


def _thermal(name: str, title: str, width: float, height: float) -> Template:
    return Template(name, title, width, height, width, height, 0.0, 0.0, width, height, 1, 1,
                    kind="thermal", dpi=THERMAL_DPI, padding=1.5)


# Edge-to-edge sheets (3×8, 2×7) touch the page border, where office printers cannot print:
# their labels keep 4 mm of blank inside instead of 2 mm.
BUILTIN_TEMPLATES: dict[str, Template] = {t.name: t for t in (
    _sheet("a4-3x7", N_("A4 sheet 3×7, 63.5×38.1 mm (Avery L7160)"), (63.5, 38.1), (3, 7),
           (7.2, 15.15), (66.04, 38.1), radius=1.5),
    _sheet("a4-3x8", N_("A4 sheet 3×8, 70×37 mm"), (70.0, 37.0), (3, 8), (0.0, 0.5), (70.0, 37.0),
           padding=4.0),
    _sheet("a4-2x7", N_("A4 sheet 2×7, 105×42.3 mm"), (105.0, 42.3), (2, 7), (0.0, 0.45),
           (105.0, 42.3), padding=4.0),
    _thermal("thermal-50x30", N_("Thermal roll 50×30 mm, 203 dpi"), 50.0, 30.0),
    _thermal("thermal-40x30", N_("Thermal roll 40×30 mm, 203 dpi"), 40.0, 30.0),
)}


def template_named(name: str, custom: dict[str, Template] | None = None) -> Template:
    """A built-in template (or one of `custom`) by name; the error lists the names."""
    known = {**BUILTIN_TEMPLATES, **(custom or {})}
    key = name.strip().lower()
    if key not in known:
        raise LabelError(_("There is no label template “{name}”. Templates: {names}.").format(
            name=name, names=", ".join(known)))
    return known[key]


def custom_template(name: str, title: str, page_width: float, page_height: float,
                    label_width: float, label_height: float, left_margin: float,
                    top_margin: float, pitch_x: float | None = None,
                    pitch_y: float | None = None, columns: int = 1, rows: int = 1, *,
                    corner_radius: float = 0.0, kind: str = "sheet", dpi: int | None = None,
                    padding: float = 2.0) -> Template:
    """A sheet a user measured. Pitch defaults to the label size (labels touching).

    Raises ValidationError with one sentence per wrong measurement (keys: name, page, label,
    grid, pitch, margins, padding, kind).
    """
    pitch_x = label_width if pitch_x is None else pitch_x
    pitch_y = label_height if pitch_y is None else pitch_y
    # `kind` is the user's word, checked with the measurements by template_problems below.
    template = Template(name.strip().lower(), title.strip() or name.strip(),
                        float(page_width), float(page_height), float(label_width),
                        float(label_height), float(left_margin), float(top_margin),
                        float(pitch_x), float(pitch_y), int(columns), int(rows),
                        float(corner_radius), kind, dpi, float(padding))  # type: ignore[arg-type]
    problems = template_problems(template)
    if problems:
        raise ValidationError(problems)
    return template


def template_problems(t: Template) -> dict[str, str]:
    """Every measurement that cannot be right, as field -> sentence."""
    numbers = (t.page_width, t.page_height, t.label_width, t.label_height, t.left_margin,
               t.top_margin, t.pitch_x, t.pitch_y, t.corner_radius, t.padding)
    if not all(math.isfinite(n) for n in numbers):
        return {"label": _("Every measurement must be a number of millimetres.")}
    problems: dict[str, str] = {}
    if not t.name:
        problems["name"] = _("Give the template a name.")
    if t.kind not in ("sheet", "thermal"):
        problems["kind"] = _("A template is either a sheet or a thermal roll.")
    if t.kind == "thermal" and not (t.dpi and 100 <= t.dpi <= 1200):
        problems["kind"] = _("A thermal roll needs the printer's resolution in dpi.")
    if t.page_width <= 0 or t.page_height <= 0:
        problems["page"] = _("The page must be wider and taller than 0 mm.")
    if t.label_width <= 0 or t.label_height <= 0:
        problems["label"] = _("A label must be wider and taller than 0 mm.")
    if t.columns < 1 or t.rows < 1:
        problems["grid"] = _("A sheet has at least one row and one column of labels.")
    if problems:
        return problems
    if (t.columns > 1 and t.pitch_x + _TOLERANCE < t.label_width) or (
            t.rows > 1 and t.pitch_y + _TOLERANCE < t.label_height):
        problems["pitch"] = _("The distance from one label to the next (pitch) cannot be "
                              "smaller than the label, or labels would overlap.")
    if t.left_margin < 0 or t.top_margin < 0:
        problems["margins"] = _("Margins cannot be negative.")
    right = t.left_margin + (t.columns - 1) * t.pitch_x + t.label_width
    bottom = t.top_margin + (t.rows - 1) * t.pitch_y + t.label_height
    if right > t.page_width + _TOLERANCE or bottom > t.page_height + _TOLERANCE:
        problems["margins"] = _(
            "The labels do not fit the page: they reach {right} × {bottom} mm on a "
            "{width} × {height} mm page. Check the margins, pitch, rows and columns.").format(
            right=_mm(right), bottom=_mm(bottom), width=_mm(t.page_width),
            height=_mm(t.page_height))
    if t.padding < 0 or 2 * t.padding >= min(t.label_width, t.label_height):
        problems["padding"] = _("The blank border inside a label must leave room to print.")
    return problems


def _mm(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")
