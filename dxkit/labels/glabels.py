"""Import label sheets from gLabels template files (the open template database's XML format).

Only rectangular labels with one layout become templates; round, CD and multi-layout sheets
are skipped. Lengths carry a unit ("63.5mm", "0.5in", "180pt"); a bare number is points.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from dxkit.core.errors import ValidationError
from dxkit.core.i18n import _
from dxkit.labels.errors import LabelError
from dxkit.labels.templates import Template, custom_template

_UNITS_MM = {"mm": 1.0, "cm": 10.0, "in": 25.4, "pt": 25.4 / 72, "pc": 25.4 / 6, "": 25.4 / 72}
_LENGTH = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-z]*)\s*$")
PAPER_SIZES_MM = {"a4": (210.0, 297.0), "a5": (148.0, 210.0), "a3": (297.0, 420.0),
                  "us-letter": (215.9, 279.4), "us-legal": (215.9, 355.6)}


def load_glabels(path: str | Path) -> list[Template]:
    """Every usable template in a gLabels .template file, in file order."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise LabelError(_("{path} is not a gLabels template file ({reason}).").format(
            path=path, reason=exc)) from exc
    found = [t for t in (_template(e) for e in root.iter("Template")) if t is not None]
    if not found:
        raise LabelError(_("{path} holds no rectangular label sheet with a single "
                           "layout.").format(path=path))
    return found


def parse_length(text: str | None) -> float:
    """A gLabels length in millimetres."""
    match = _LENGTH.match(text or "")
    if not match or match.group(2) not in _UNITS_MM:
        raise LabelError(_("“{value}” is not a length gLabels writes (like 63.5mm, 0.5in or "
                           "180pt).").format(value=text or ""))
    return float(match.group(1)) * _UNITS_MM[match.group(2)]


def _template(element: ET.Element) -> Template | None:
    label = element.find("Label-rectangle")
    layouts = label.findall("Layout") if label is not None else []
    if label is None or len(layouts) != 1:
        return None  # equivalents, round/CD labels and mixed layouts
    layout = layouts[0]
    brand, part = element.get("brand", ""), element.get("part", element.get("name", ""))
    name = re.sub(r"[^0-9a-z]+", "-", f"{brand} {part}".lower()).strip("-")
    margin = label.find("Markup-margin")
    padding = max(parse_length(margin.get("size")) if margin is not None else 0.0, 1.5)
    try:
        return custom_template(
            name, " ".join(p for p in (brand, part, element.get("description", "")) if p),
            *_page_size(element), parse_length(label.get("width")),
            parse_length(label.get("height")), parse_length(layout.get("x0", "0")),
            parse_length(layout.get("y0", "0")), parse_length(layout.get("dx", "0")),
            parse_length(layout.get("dy", "0")), int(layout.get("nx", "1")),
            int(layout.get("ny", "1")), corner_radius=parse_length(label.get("round", "0")),
            padding=padding)
    except ValueError as exc:
        raise LabelError(_("The gLabels template {name} has a count that is not a whole "
                           "number ({reason}).").format(name=name, reason=exc)) from exc
    except ValidationError as exc:
        raise LabelError(_("The gLabels template {name} does not fit its page: {reason}").format(
            name=name, reason=exc.message)) from exc


def _page_size(element: ET.Element) -> tuple[float, float]:
    size = element.get("size", "A4").strip().lower()
    if size == "other":
        return parse_length(element.get("width")), parse_length(element.get("height"))
    if size not in PAPER_SIZES_MM:
        raise LabelError(_("The paper size “{size}” is not known; known sizes: {sizes}.").format(
            size=element.get("size", ""), sizes=", ".join(PAPER_SIZES_MM)))
    return PAPER_SIZES_MM[size]
