"""The paper class register: roll-call by hand in a hall without power, typed in afterwards.

A4 landscape. One row per learner (number, name, household code), one column per session
(its date printed when planned, blank to write in), then a column for notes. The learner's
number is the one the roll-call screen and `dxkit classes attendance` show, so marks on paper
are typed back without searching. Names only: no phone or ID number goes on paper.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

from dxkit.core.i18n import _, format_date, format_number
from dxkit.labels.fonts import BOLD, REGULAR, register_fonts

PAGE = landscape(A4)
MARGIN = 12 * mm
MAX_SESSIONS = 16  # columns that still leave room to tick at 5 mm each
_RULE = colors.HexColor("#666666")
_HEAD = colors.HexColor("#e8eef5")


@dataclass(frozen=True)
class RegisterLearner:
    number: int
    name: str
    household_code: str = ""


@dataclass(frozen=True)
class ClassRegister:
    """What the register shows; the lessons service fills it from a class."""

    class_name: str
    course_title: str
    team: str
    place: str = ""
    trainers: Sequence[str] = ()
    learners: Sequence[RegisterLearner] = ()
    sessions: Sequence[dt.date | None] = field(default_factory=list)  # None: date to write


def render_register(register: ClassRegister, printed_at: dt.datetime | None = None
                    ) -> tuple[bytes, int]:
    """The PDF and its number of pages."""
    pages = _draw(register, printed_at, total=None)[1]
    return _draw(register, printed_at, total=pages)


@functools.cache
def _styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR,
                                  boldItalic=BOLD)
    body = ParagraphStyle("register-body", fontName=REGULAR, fontSize=10, leading=12)
    return {
        "body": body,
        "head": ParagraphStyle("register-head", parent=body, fontName=BOLD, fontSize=8.5,
                               leading=10, alignment=TA_CENTER),
        "title": ParagraphStyle("register-title", parent=body, fontName=BOLD, fontSize=15,
                                leading=19, alignment=TA_CENTER),
        "subtitle": ParagraphStyle("register-subtitle", parent=body, fontSize=10.5,
                                   leading=13, alignment=TA_CENTER),
        "number": ParagraphStyle("register-number", parent=body, alignment=TA_CENTER),
    }


def _draw(register: ClassRegister, printed_at: dt.datetime | None, total: int | None
          ) -> tuple[bytes, int]:
    styles = _styles()
    buffer = io.BytesIO()
    title = _("Class register")
    doc = SimpleDocTemplate(buffer, pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN,
                            topMargin=MARGIN, bottomMargin=MARGIN + 4 * mm, title=title,
                            subject=register.class_name, creator="dxkit", author="")
    story: list[Any] = [Paragraph(escape(title.upper()), styles["title"])]
    story += [Paragraph(line, styles["subtitle"]) for line in _subtitle(register)]
    story += [Spacer(1, 4 * mm), _table(register, styles)]
    footer = " · ".join([register.class_name, title] + (
        [_("printed {time}").format(time=format_date(printed_at.date()))] if printed_at else []))
    drawn: list[int] = []

    def on_page(canvas: Canvas, _doc: Any) -> None:
        page = canvas.getPageNumber()
        drawn.append(page)
        canvas.saveState()
        canvas.setFont(REGULAR, 8)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawString(MARGIN, MARGIN - 2 * mm, footer)
        if total:
            canvas.drawRightString(PAGE[0] - MARGIN, MARGIN - 2 * mm, _(
                "page {page} of {pages}").format(page=format_number(page),
                                                  pages=format_number(total)))
        canvas.restoreState()

    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue(), max(drawn, default=1)


def _subtitle(register: ClassRegister) -> list[str]:
    lines = [f"<b>{escape(register.class_name)}</b> — {escape(register.course_title)}"]
    who = [register.team]
    if register.place:
        who.append(_("at {place}").format(place=register.place))
    if register.trainers:
        who.append(_("trainers: {names}").format(names=", ".join(register.trainers)))
    lines.append(escape(" · ".join(who)))
    lines.append(escape(_("Mark each session: ✓ present, V absent. Type the marks into "
                          "dxkit afterwards (roll-call).")))
    return lines


def _table(register: ClassRegister, styles: dict[str, ParagraphStyle]) -> LongTable:
    sessions = list(register.sessions)[:MAX_SESSIONS] or [None] * 8
    usable = PAGE[0] - 2 * MARGIN
    fixed = [10 * mm, 62 * mm, 24 * mm]
    notes = 40 * mm
    session_width = (usable - sum(fixed) - notes) / len(sessions)
    head = [_("No."), _("Full name"), _("Household")]
    top: list[Any] = [Paragraph(escape(text), styles["head"]) for text in head]
    top += [Paragraph(escape(_("Sessions (day/month)")), styles["head"])]
    top += [""] * (len(sessions) - 1) + [Paragraph(escape(_("Notes")), styles["head"])]
    second: list[Any] = ["", "", ""]
    for index, day in enumerate(sessions, start=1):
        when = f"{day.day:02d}/{day.month:02d}" if day else "…/…"
        second.append(Paragraph(f"{index}<br/>{escape(when)}", styles["head"]))
    second.append("")
    data: list[list[Any]] = [top, second]
    for learner in register.learners:
        data.append([Paragraph(format_number(learner.number), styles["number"]),
                     Paragraph(escape(learner.name), styles["body"]),
                     Paragraph(escape(learner.household_code), styles["body"]),
                     *([""] * len(sessions)), ""])
    for _blank in range(3):  # someone who joins on the day
        data.append(["", "", "", *([""] * len(sessions)), ""])
    widths = [*fixed, *([session_width] * len(sessions)), notes]
    last = len(fixed) + len(sessions)
    table = LongTable(data, colWidths=widths, repeatRows=2, rowHeights=[None, None] + [
        9 * mm] * (len(data) - 2))
    spans = [("SPAN", (c, 0), (c, 1)) for c in (0, 1, 2, last)]
    spans.append(("SPAN", (3, 0), (last - 1, 0)))
    table.setStyle(TableStyle([
        *spans,
        ("BACKGROUND", (0, 0), (-1, 1), _HEAD),
        ("GRID", (0, 0), (-1, -1), 0.5, _RULE),
        ("BOX", (0, 0), (-1, -1), 0.9, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]))
    return table
