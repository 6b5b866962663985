"""The label font: DejaVu Sans Condensed (covers Vietnamese), shipped in dxkit/resources/fonts.

Condensed, because label cells are narrow. reportlab embeds only the glyphs a PDF uses.
"""

from __future__ import annotations

import functools
import threading

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from dxkit.core.resources import shipped_path

REGULAR = "DxLabelSans"
BOLD = "DxLabelSans-Bold"
_FILES = {REGULAR: "DejaVuSansCondensed.ttf", BOLD: "DejaVuSansCondensed-Bold.ttf"}
_lock = threading.Lock()


def register_fonts() -> None:
    """Make the label fonts known to reportlab (once per process)."""
    with _lock:
        registered = set(pdfmetrics.getRegisteredFontNames())
        for name, filename in _FILES.items():
            if name not in registered:
                pdfmetrics.registerFont(TTFont(name, str(shipped_path("fonts", filename))))


def label_font(bold: bool) -> TTFont:
    """The registered label font (a TrueType font: the renderer writes its subsets itself)."""
    register_fonts()
    font = pdfmetrics.getFont(BOLD if bold else REGULAR)
    if not isinstance(font, TTFont):
        raise TypeError(f"{font.fontName} is registered, but not as a TrueType font")
    return font


@functools.lru_cache(maxsize=65536)
def text_width(text: str, bold: bool, size: float) -> float:
    """Width in points of `text` set in the label font (cached: label text repeats)."""
    register_fonts()
    return pdfmetrics.stringWidth(text, BOLD if bold else REGULAR, size)
