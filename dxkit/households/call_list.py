"""The day's call list: the follow-ups due today and overdue, on A4 paper.

A team member takes it to the phone or on their round: one line per household, grouped by
hamlet, with the head of household, address, phone, what the last visit left pending, how
late the follow-up is, and an empty column to tick and write in. Closed follow-ups are not
on it (followups.py).

What it holds is what the follow-ups list shows and no more (Law 91/2025: minimise): the
household's head, address and phone, the names of the support items pending — never who
in the household they are for, never a citizen ID.

Drawn with reportlab's platypus in the bundled DejaVu Sans Condensed (every Vietnamese
letter), A4 landscape; each hamlet's table repeats its hamlet line and column headings on
every page it runs onto, and every page says "page n of m".
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import LongTable, Paragraph, Spacer, TableStyle

from dxkit.core.i18n import _, counted, format_date, format_datetime, format_number
from dxkit.core.paged_pdf import paged_pdf
from dxkit.core.phones import spaced_phone
from dxkit.core.resources import shipped_path
from dxkit.core.text import folded_key
from dxkit.households.followups import due_text
from dxkit.households.visits import FollowUp

if TYPE_CHECKING:
    from dxkit.households.workspace import HouseholdsWorkspace as Workspace

FONT, BOLD = "DxCallSans", "DxCallSans-Bold"
_FONT_FILES = {FONT: "DejaVuSansCondensed.ttf", BOLD: "DejaVuSansCondensed-Bold.ttf"}
_font_lock = threading.Lock()

# Column widths (mm) across the 273 mm between the margins: number, household, address,
# phone, still to do, due, and the empty column for the call's outcome.
WIDTHS_MM = (10, 44, 40, 30, 58, 33, 58)
OVERDUE = colors.HexColor("#b3261e")
RULE = colors.HexColor("#9e9e9e")
HEADING_FILL = colors.HexColor("#e8eef7")
HAMLET_FILL = colors.HexColor("#1f3b63")


@dataclass(frozen=True)
class CallList:
    """The follow-ups of one day's list and what its title says."""

    day: dt.date
    place: str  # "Xã Mỹ Thọ, Đồng Tháp" ("" when the team has not said where it works)
    hamlet: str | None  # one hamlet only, or None for all the team's hamlets
    member: str | None  # one team member's follow-ups only, or None
    follow_ups: tuple[FollowUp, ...]

    @property
    def overdue(self) -> int:
        return sum(1 for f in self.follow_ups if f.overdue)

    def by_hamlet(self) -> list[tuple[str, list[FollowUp]]]:
        """Hamlets in alphabetical order; in each, the longest overdue first."""
        groups: dict[str, list[FollowUp]] = {}
        for follow_up in self.follow_ups:
            groups.setdefault(follow_up.hamlet, []).append(follow_up)
        return [(name, sorted(groups[name], key=lambda f: (-f.overdue_days,
                                                           f.household_code)))
                for name in sorted(groups, key=folded_key)]


@dataclass(frozen=True)
class CallListFile:
    path: Path
    households: int
    pages: int


def call_list(ws: Workspace, *, day: dt.date | None = None, hamlet_id: str | None = None,
              member_id: str | None = None) -> CallList:
    """The follow-ups due on `day` (default today) or before it, and not closed."""
    day = day or ws.today()
    province, commune = ws.team_place()
    place = ", ".join(part for part in (commune, province) if part)
    hamlet = ws.catalog.hamlet(hamlet_id).name if hamlet_id else None
    member = ws.catalog.member(member_id).name if member_id else None
    found = ws.visits.follow_ups(today=day, within_days=0, hamlet_id=hamlet_id,
                                 member_id=member_id)
    return CallList(day, place, hamlet, member, tuple(found))


def write_call_list(ws: Workspace, path: str | Path, *, day: dt.date | None = None,
                    hamlet_id: str | None = None, member_id: str | None = None
                    ) -> CallListFile:
    """Draw the day's call list into `path` (a PDF); returns what it holds."""
    calls = call_list(ws, day=day, hamlet_id=hamlet_id, member_id=member_id)
    pdf, pages = render(calls, printed_at=ws.now())
    target = Path(path)
    target.write_bytes(pdf)
    return CallListFile(target, len(calls.follow_ups), pages)


# -- drawing --------------------------------------------------------------------------------------
def register_fonts() -> None:
    """The bundled font, under names of its own (once per process)."""
    with _font_lock:
        known = set(pdfmetrics.getRegisteredFontNames())
        for name, filename in _FONT_FILES.items():
            if name not in known:
                pdfmetrics.registerFont(TTFont(name, str(shipped_path("fonts", filename))))
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT,
                                      boldItalic=BOLD)


@functools.cache
def _styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=11.5)
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8.5, leading=10.5),
        "head": ParagraphStyle("head", parent=body, fontName=BOLD, fontSize=9, leading=11),
        "hamlet": ParagraphStyle("hamlet", parent=body, fontName=BOLD, fontSize=11,
                                 leading=13, textColor=colors.white),
        "title": ParagraphStyle("title", parent=body, fontName=BOLD, fontSize=15, leading=19,
                                alignment=TA_CENTER),
        "subtitle": ParagraphStyle("subtitle", parent=body, fontSize=11, leading=14,
                                   alignment=TA_CENTER),
        "number": ParagraphStyle("number", parent=body, alignment=TA_CENTER),
    }


def render(calls: CallList, printed_at: dt.datetime | None = None) -> tuple[bytes, int]:
    """The PDF of the list, and its number of pages."""
    title = _("Follow-up call list")
    return paged_pdf(lambda: _story(calls, title), title=title, subject=title,
                     footer=_footer(title, calls.day, printed_at), font=FONT)


def _story(calls: CallList, title: str) -> list[Any]:
    styles = _styles()
    story: list[Any] = [Paragraph(escape(title.upper()), styles["title"])]
    for line in _subtitle(calls):
        story.append(Paragraph(line, styles["subtitle"]))
    story.append(Spacer(1, 4 * mm))
    if not calls.follow_ups:
        story.append(Paragraph(escape(_("No follow-ups are due or overdue on this day.")),
                               styles["body"]))
    for number, (hamlet, rows) in enumerate(calls.by_hamlet()):
        if number:  # between two hamlets; after the last one it could start a blank page
            story.append(Spacer(1, 5 * mm))
        story.append(_hamlet_table(hamlet, rows, styles))
    return story


def _subtitle(calls: CallList) -> list[str]:
    team = _("Community digital technology team of {place}").format(place=calls.place) \
        if calls.place else _("Community digital technology team")
    who = [team]
    if calls.hamlet:
        who.append(calls.hamlet)
    if calls.member:
        who.append(_("follow-ups of {member}").format(member=calls.member))
    count = len(calls.follow_ups)
    summary = _("To call: {households}, {overdue} overdue, {today} due today").format(
        households=counted(count, "{count} household", "{count} households"),
        overdue=format_number(calls.overdue), today=format_number(count - calls.overdue))
    return [escape(" — ".join(who)),
            "<b>" + escape(_("Day {date}").format(date=format_date(calls.day))) + "</b>",
            escape(summary)]


def _hamlet_table(hamlet: str, rows: Sequence[FollowUp],
                  styles: dict[str, ParagraphStyle]) -> LongTable:
    heading = _("{hamlet} — {households}").format(
        hamlet=hamlet, households=counted(len(rows), "{count} household", "{count} households"))
    headers = ["#", _("Household"), _("Address"), _("Phone"), _("Still to do"),
               _("Follow-up date"), _("Call outcome, notes")]
    data: list[list[Any]] = [
        [Paragraph(escape(heading), styles["hamlet"])] + [""] * (len(headers) - 1),
        [Paragraph(escape(text), styles["head"]) for text in headers],
    ]
    for number, follow_up in enumerate(rows, start=1):
        data.append(_row(number, follow_up, styles))
    table = LongTable(data, colWidths=[w * mm for w in WIDTHS_MM], repeatRows=2)
    table.setStyle(TableStyle([
        ("SPAN", (0, 0), (-1, 0)),
        ("BACKGROUND", (0, 0), (-1, 0), HAMLET_FILL),
        ("BACKGROUND", (0, 1), (-1, 1), HEADING_FILL),
        ("GRID", (0, 1), (-1, -1), 0.5, RULE),
        ("BOX", (0, 0), (-1, -1), 0.8, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 2), (-1, -1), 5),
        ("BOTTOMPADDING", (0, 2), (-1, -1), 8),  # room to write under a line
    ]))
    return table


def _row(number: int, follow_up: FollowUp, styles: dict[str, ParagraphStyle]) -> list[Any]:
    body, small = styles["body"], styles["small"]
    household = f"<b>{escape(follow_up.household_code)}</b>"
    if follow_up.head_name:
        household += "<br/>" + escape(follow_up.head_name)
    due = escape(format_date(follow_up.due_on)) + "<br/>"
    late = escape(due_text(follow_up.overdue_days))
    due += f'<font color="{OVERDUE.hexval()}"><b>{late}</b></font>' if follow_up.overdue \
        else f"<b>{late}</b>"
    pending = "<br/>".join("• " + escape(name) for name in follow_up.pending)
    return [Paragraph(format_number(number), styles["number"]), Paragraph(household, body),
            Paragraph(escape(follow_up.address), small),
            Paragraph(f"<b>{escape(spaced_phone(follow_up.phone))}</b>", body),
            Paragraph(pending, small), Paragraph(due, small), ""]


def _footer(title: str, day: dt.date, printed_at: dt.datetime | None) -> str:
    parts = [title, format_date(day)]
    if printed_at is not None:
        parts.append(_("printed {time}").format(time=format_datetime(printed_at)))
    return " · ".join(parts)
