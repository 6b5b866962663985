"""Printed lists (a call list, a class register): A4 landscape flowables with a footer on every
page saying "page n of m".

The document is drawn twice: "of m" needs m, which only the first drawing tells (these lists
are a few pages, both drawings take milliseconds).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import SimpleDocTemplate

from dxkit.core.i18n import _, format_number

PAGE = landscape(A4)
MARGIN = 12 * mm


def paged_pdf(story: Callable[[], list[Any]], *, title: str, subject: str, footer: str,
              font: str) -> tuple[bytes, int]:
    """The PDF of the flowables `story()` makes (a fresh list per drawing) and its number of
    pages; `footer` on the left of every page, "page n of m" on the right, in `font`."""
    pages = _draw(story, title, subject, footer, font, total=None)[1]
    return _draw(story, title, subject, footer, font, total=pages)


def _draw(story: Callable[[], list[Any]], title: str, subject: str, footer: str, font: str,
          total: int | None) -> tuple[bytes, int]:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN,
                            topMargin=MARGIN, bottomMargin=MARGIN + 4 * mm, title=title,
                            subject=subject, creator="dxkit", author="")
    drawn: list[int] = []

    def on_page(canvas: Canvas, _doc: Any) -> None:
        page = canvas.getPageNumber()
        drawn.append(page)
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawString(MARGIN, MARGIN - 2 * mm, footer)
        if total:
            canvas.drawRightString(PAGE[0] - MARGIN, MARGIN - 2 * mm, _(
                "page {page} of {pages}").format(page=format_number(page),
                                                  pages=format_number(total)))
        canvas.restoreState()

    doc.build(story(), onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue(), max(drawn, default=1)
