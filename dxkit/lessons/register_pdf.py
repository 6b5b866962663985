"""The paper class register: roll-call by hand in a hall without power, typed in afterwards.

A4 landscape. One row per learner (number, name, household code), one column per session
(its date printed when planned, blank to write in), then a column for notes. The learner's
number is the one the roll-call screen and `dxkit classes attendance` show, so marks on paper
are typed back without searching. Names only: no phone or ID number goes on paper.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import LongTable, Paragraph, Spacer, TableStyle

from dxkit.core.i18n import _, format_date, format_number
from dxkit.core.paged_pdf import MARGIN, PAGE, paged_pdf
from dxkit.labels.fonts import BOLD, REGULAR, register_fonts

if TYPE_CHECKING:
    from dxkit.lessons.workspace import LessonsWorkspace as Workspace

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


def class_register(ws: Workspace, class_id: str) -> ClassRegister:
    """A class's register: its learners in the grid's order, numbered, and its sessions —
    the days held so far, then blanks up to the planned number."""
    school_class = ws.lessons.get_class(class_id)
    pack = ws.lessons.course(school_class.course_id, school_class.course_version)
    grid = ws.lessons.grid(class_id)
    codes = dict(ws.conn.execute(
        "SELECT p.id, h.code FROM class_learners l JOIN people p ON p.id = l.person_id "
        "JOIN households h ON h.id = p.household_id WHERE l.class_id = ? AND l.deleted = 0",
        (class_id,)).fetchall())
    held = [dt.date.fromisoformat(day) for (day,) in ws.conn.execute(
        "SELECT DISTINCT on_date FROM lesson_events WHERE class_id = ? AND kind IN "
        "('present', 'absent') ORDER BY on_date", (class_id,))]
    planned = max(school_class.sessions_planned or 0, len(held) + 2)
    sessions: list[dt.date | None] = [*held, *([None] * (planned - len(held)))]
    trainers = [_member_name(ws, t) for t in school_class.trainers]
    return ClassRegister(
        school_class.name, pack.title.get(), _("Community digital technology team of {place}"
                                              ).format(place=ws.team_place()[1])
        if ws.team_place()[1] else _("Community digital technology team"),
        school_class.place, trainers,
        [RegisterLearner(number, row.name, codes.get(row.person_id, ""))
         for number, row in enumerate(grid.learners, start=1)], sessions)


def write_class_register(ws: Workspace, class_id: str, path: str | Path) -> int:
    """The class's register into `path` (a PDF); returns its number of pages."""
    pdf, pages = render_register(class_register(ws, class_id), printed_at=ws.now())
    Path(path).write_bytes(pdf)
    return pages


def _member_name(ws: Workspace, member: str) -> str:
    row = ws.conn.execute("SELECT name FROM team_members WHERE id = ?", (member,)).fetchone()
    return str(row[0]) if row else member


def render_register(register: ClassRegister, printed_at: dt.datetime | None = None
                    ) -> tuple[bytes, int]:
    """The PDF and its number of pages."""
    title = _("Class register")
    footer = " · ".join([register.class_name, title] + (
        [_("printed {time}").format(time=format_date(printed_at.date()))] if printed_at else []))

    def story() -> list[Any]:
        styles = _styles()
        return [Paragraph(escape(title.upper()), styles["title"]),
                *(Paragraph(line, styles["subtitle"]) for line in _subtitle(register)),
                Spacer(1, 4 * mm), _table(register, styles)]

    return paged_pdf(story, title=title, subject=register.class_name, footer=footer,
                     font=REGULAR)


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
