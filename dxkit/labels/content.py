"""What a label says: the fields, and the captioned lines they become."""

from __future__ import annotations

from dataclasses import dataclass

from dxkit.core.i18n import _
from dxkit.core.text import nfc


@dataclass(frozen=True)
class LabelContent:
    """One label's text, already formatted by the caller (dates as the user reads them)."""

    product: str
    cooperative: str
    growing_area: str
    harvest_date: str
    pack_date: str
    lot_code: str
    certification: str
    qr_payload: str
    serial: str | None = None
    caption: str | None = None  # under the code; None: "Scan to see the origin", "": none


NAME_ROWS = 4  # a product's or cooperative's name wraps onto up to four rows before "…"


@dataclass(frozen=True)
class TextLine:
    """A line of label text. Lower `priority` keeps its room longest when space runs out;
    a `whole` line (a date, a code) is never cut short: it is shown entirely or left out."""

    text: str
    priority: int
    bold: bool = False
    heading: bool = False
    max_rows: int = 2
    whole: bool = False


def qr_caption(content: LabelContent) -> str:
    """The line under the code, in the current language: what a buyer's phone gets from it."""
    if content.caption is None:
        return _("Scan to see the origin")
    return nfc(content.caption)


def label_lines(content: LabelContent) -> tuple[TextLine, ...]:
    """The lines in print order, NFC, captions in the current language; empty fields left out.

    The caption and value are joined here so each line is one string to fit and to check.
    """
    def captioned(caption: str, value: str) -> str:
        return caption.format(value=nfc(value)) if nfc(value) else ""

    candidates = (
        TextLine(nfc(content.product), 0, bold=True, heading=True, max_rows=NAME_ROWS),
        TextLine(nfc(content.cooperative), 2, max_rows=NAME_ROWS),
        TextLine(captioned(_("Growing area: {value}"), content.growing_area), 3, whole=True),
        TextLine(captioned(_("Harvested: {value}"), content.harvest_date), 4, whole=True),
        TextLine(captioned(_("Packed: {value}"), content.pack_date), 5, whole=True),
        TextLine(captioned(_("Lot: {value}"), content.lot_code), 1, bold=True, whole=True),
        TextLine(captioned(_("Certification: {value}"), content.certification), 6),
        TextLine(captioned(_("No. {value}"), content.serial or ""), 7, whole=True),
    )
    return tuple(line for line in candidates if line.text)
