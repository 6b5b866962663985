"""The monthly report printed: A4 portrait, in the Vietnamese administrative layout.

The layout follows Decree 30/2020/NĐ-CP on administrative documents: top left the issuing
body (the commune's People's Committee, under it the team in bold capitals and a short rule),
top right the national title and motto (bold, a rule under the motto); under them the number
line on the left and the place and date line (italic) on the right; the centred title "BÁO
CÁO" and its subject; numbered sections; at the end "Nơi nhận" on the left and the signature
block on the right. Left margin 30 mm, right 15 mm, top and bottom 20 mm (the decree's
ranges); page numbers "n/m" at the foot.

Only the bundled DejaVu Sans Condensed is used (it covers Vietnamese); it ships no italic, so
the italic lines are the regular face slanted on the canvas. Every figure of the JSON is
printed as a number (charts repeat what the tables say, never replace them). The pages are held
until the end, when "of m" is known, and numbered then.
"""

from __future__ import annotations

import calendar
import io
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from babel.dates import format_date as babel_date
from reportlab.graphics.shapes import Drawing, Line, Polygon, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)

from dxkit.core.i18n import _, format_number, language, locale
from dxkit.labels.fonts import BOLD, REGULAR, register_fonts
from dxkit.reports.monthly import Classes, IndicatorRow, MonthlyReport

PAGE = A4
LEFT, RIGHT, TOP, BOTTOM = 30 * mm, 15 * mm, 20 * mm, 20 * mm
WIDTH = PAGE[0] - LEFT - RIGHT
SLANT = 12  # degrees: the italic lines, slanted
_RULE = colors.HexColor("#555555")
_HEAD = colors.HexColor("#e8eef5")
_ZEBRA = colors.HexColor("#f6f8fa")
_BAR = colors.HexColor("#2f6ea5")
_BAR_START = colors.HexColor("#a9c6e0")
_TARGET = colors.HexColor("#c0392b")
_TRACK = colors.HexColor("#eceff3")
_OUTCOME_COLOURS = (colors.HexColor("#2e8b57"), colors.HexColor("#e0a526"),
                    colors.HexColor("#b8bec6"))


# -- text helpers --------------------------------------------------------------------------
def _number(value: int | None) -> str:
    return "—" if value is None else format_number(value)


def percent(share: float | None) -> str:
    """45,1% (a share of 0..1, one decimal); "—" for none."""
    return "—" if share is None else f"{format_number(share * 100, 1)}%"


def points(change: float) -> str:
    """A change of share in percentage points, signed: +7,4 / −1,2 / 0,0."""
    text = format_number(abs(change) * 100, 1)
    return ("+" if change > 0 else "−" if change < 0 else "") + text


def _signed(value: int) -> str:
    return ("+" if value > 0 else "−" if value < 0 else "") + format_number(abs(value))


def _day(day: Any) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def _bare_place(name: str) -> str:
    """The commune's name as the date line writes it (Decree 30: the commune's own name,
    "Mỹ Thọ"; a ward named by its number keeps its kind, "Phường 3")."""
    for kind in ("Xã ", "Phường ", "Đặc khu "):
        if name.startswith(kind) and not name[len(kind):].strip().isdigit():
            return name[len(kind):]
    return name


def date_line(report: MonthlyReport) -> str:
    """"Mỹ Thọ, ngày 05 tháng 12 năm 2026" (Decree 30: a day under 10 and a month under 3
    take a leading zero); "Mỹ Thọ, 5 December 2026" in English."""
    day = report.issued_on or report.period.end
    commune = report.issuer.commune if report.issuer else ""
    place = _bare_place(commune) if commune else "……"
    if language() == "vi":
        day_text = f"{day.day:02d}"
        month_text = f"{day.month:02d}" if day.month < 3 else str(day.month)
    else:
        day_text = str(day.day)
        month_text = babel_date(day, "MMMM", locale=locale())
    return _("{place}, {day} {month} {year}").format(place=place, day=day_text,
                                                     month=month_text, year=day.year)


def subject_line(report: MonthlyReport) -> str:
    period = report.period
    whole_month = period.start.day == 1 and period.end == period.start.replace(
        day=calendar.monthrange(period.start.year, period.start.month)[1])
    if whole_month:
        return _("Results of the community digital technology team's work in {month}"
                 ).format(month=f"{period.start.month:02d}/{period.start.year}")
    return _("Results of the community digital technology team's work from {start} to "
             "{end}").format(start=_day(period.start), end=_day(period.end))


# -- styles ----------------------------------------------------------------------------------
def _styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR,
                                  boldItalic=BOLD)
    body = ParagraphStyle("report-body", fontName=REGULAR, fontSize=10.5, leading=14)
    cell = ParagraphStyle("report-cell", parent=body, fontSize=8.5, leading=10.5)
    return {
        "body": body,
        "title": ParagraphStyle("report-title", parent=body, fontName=BOLD, fontSize=14,
                                leading=18, alignment=TA_CENTER, spaceBefore=6),
        "subject": ParagraphStyle("report-subject", parent=body, fontName=BOLD, fontSize=11,
                                  leading=14, alignment=TA_CENTER),
        "scope": ParagraphStyle("report-scope", parent=body, alignment=TA_CENTER),
        "section": ParagraphStyle("report-section", parent=body, fontName=BOLD,
                                  fontSize=11, leading=14, spaceBefore=8, spaceAfter=4,
                                  keepWithNext=1),
        "note": ParagraphStyle("report-note", parent=body, fontSize=8.5, leading=11,
                               textColor=colors.HexColor("#444444"), spaceBefore=2),
        "cell": cell,
        "cell_right": ParagraphStyle("report-cell-right", parent=cell, alignment=TA_RIGHT),
        "head": ParagraphStyle("report-head", parent=cell, fontName=BOLD, fontSize=7.5,
                               leading=9, alignment=TA_CENTER),
        "head_left": ParagraphStyle("report-head-left", parent=cell, fontName=BOLD,
                                    fontSize=7.5, leading=9, alignment=TA_LEFT),
    }


# -- flowables drawn on the canvas -----------------------------------------------------------
def _slanted(canvas: Canvas, text: str, x: float, y: float, font: str, size: float,
             centred: bool = True) -> None:
    """Italic: `text` in the upright face, slanted."""
    width = pdfmetrics.stringWidth(text, font, size)
    canvas.saveState()
    canvas.translate(x - width / 2 if centred else x, y)
    canvas.skew(0, SLANT)
    canvas.setFont(font, size)
    canvas.drawString(0, 0, text)
    canvas.restoreState()


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and pdfmetrics.stringWidth(f"{lines[-1]} {word}", font, size) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


def _fit(text: str, font: str, size: float, width: float, smallest: float = 8) -> float:
    """The largest size up to `size` at which `text` fits `width` on one line."""
    while size > smallest and pdfmetrics.stringWidth(text, font, size) > width:
        size -= 0.25
    return size


class Heading(Flowable):
    """The document's head: issuing body left, national title and motto right, then the
    number line and the place and date line."""

    LEFT_SHARE = 0.42
    SIZE = 11

    def __init__(self, body: str, team: str, number: str, title: str, motto: str,
                 place_date: str):
        super().__init__()
        self.body, self.team, self.number = body.upper(), team.upper(), number
        self.title, self.motto, self.place_date = title, motto, place_date
        self.left_width = WIDTH * self.LEFT_SHARE
        self.right_width = WIDTH - self.left_width
        self.body_lines = _wrap(self.body, REGULAR, self.SIZE, self.left_width - 4)
        self.team_lines = _wrap(self.team, BOLD, self.SIZE, self.left_width - 4)
        self.title_size = _fit(title, BOLD, self.SIZE, self.right_width - 4)
        self.motto_size = _fit(motto, BOLD, self.SIZE + 1, self.right_width - 4)
        lines = len(self.body_lines) + len(self.team_lines)
        self.top_height = max(lines * 14, 2 * 15) + 8
        self.height = self.top_height + 24

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return WIDTH, self.height

    def draw(self) -> None:
        canvas: Canvas = self.canv
        left_centre = self.left_width / 2
        right_centre = self.left_width + self.right_width / 2
        y = self.height - self.SIZE
        for line in self.body_lines:
            canvas.setFont(REGULAR, self.SIZE)
            canvas.drawCentredString(left_centre, y, line)
            y -= 14
        for line in self.team_lines:
            canvas.setFont(BOLD, self.SIZE)
            canvas.drawCentredString(left_centre, y, line)
            y -= 14
        canvas.setStrokeColor(colors.black)
        canvas.setLineWidth(0.6)
        canvas.line(left_centre - 15 * mm, y + 6, left_centre + 15 * mm, y + 6)

        y = self.height - self.SIZE
        canvas.setFont(BOLD, self.title_size)
        canvas.drawCentredString(right_centre, y, self.title)
        y -= 15
        canvas.setFont(BOLD, self.motto_size)
        canvas.drawCentredString(right_centre, y, self.motto)
        motto_width = pdfmetrics.stringWidth(self.motto, BOLD, self.motto_size)
        canvas.line(right_centre - motto_width / 2, y - 5.5, right_centre + motto_width / 2,
                    y - 5.5)

        y = self.height - self.top_height - 12
        canvas.setFont(REGULAR, self.SIZE - 0.5)
        canvas.drawCentredString(left_centre, y, self.number)
        size = _fit(self.place_date, REGULAR, self.SIZE, self.right_width - 8)
        _slanted(canvas, self.place_date, right_centre, y, REGULAR, size)


class Closing(Flowable):
    """"Nơi nhận" on the left, the signature block on the right, with room to sign."""

    def __init__(self, recipients_title: str, recipients: Sequence[str], signer: str,
                 sign_hint: str):
        super().__init__()
        self.recipients_title, self.recipients = recipients_title, list(recipients)
        self.signer, self.sign_hint = signer.upper(), sign_hint
        self.height = 40 * mm

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return WIDTH, self.height

    def draw(self) -> None:
        canvas: Canvas = self.canv
        top = self.height - 12
        _slanted(canvas, self.recipients_title, 0, top, BOLD, 10, centred=False)
        canvas.setFont(REGULAR, 9.5)
        for index, line in enumerate(self.recipients, start=1):
            canvas.drawString(0, top - index * 12.5, line)
        centre = WIDTH * 0.72
        canvas.setFont(BOLD, 11)
        canvas.drawCentredString(centre, top, self.signer)
        _slanted(canvas, self.sign_hint, centre, top - 14, REGULAR, 10)


# -- charts ----------------------------------------------------------------------------------
# A chart is a legend, one drawing per bar and an axis: it flows across a page break like a
# table rather than leaving half a page blank.
LABEL_WIDTH, GAP, LABEL_SIZE = 58 * mm, 3 * mm, 8


def _rect(x: float, y: float, width: float, height: float, fill: Any,
          stroke: Any = None, stroke_width: float = 0.0) -> Rect:
    """A filled rectangle (set by attribute: the stubs mistype Rect's keywords)."""
    shape = Rect(x, y, width, height)
    shape.fillColor, shape.strokeColor, shape.strokeWidth = fill, stroke, stroke_width
    return shape


def _label(drawing: Drawing, text: str, middle: float) -> None:
    """The bar's name at the left, on one or two lines, centred on `middle`."""
    lines = _wrap(text, REGULAR, LABEL_SIZE, LABEL_WIDTH)
    if len(lines) > 2:
        lines = [lines[0], lines[1] + "…"]
    first = middle - 3 + (len(lines) - 1) * 4.5
    for n, line in enumerate(lines):
        drawing.add(String(0, first - n * 9, line, fontName=REGULAR, fontSize=LABEL_SIZE))


def _legend(entries: Sequence[tuple[Any, str]]) -> Drawing:
    drawing = Drawing(WIDTH, 14)
    x = LABEL_WIDTH + GAP
    for colour, text in entries:
        drawing.add(_rect(x, 3, 8, 7, colour))
        drawing.add(String(x + 11, 3.5, text, fontName=REGULAR, fontSize=7.5))
        x += 11 + pdfmetrics.stringWidth(text, REGULAR, 7.5) + 12
    return drawing


def indicator_chart(rows: Sequence[IndicatorRow], captions: Sequence[str]) -> list[Drawing]:
    """Horizontal bars: each indicator's share of the people registered at the end of the
    period (dark), at its start (light, beneath), and its target (a red mark), with the
    share printed."""
    track = WIDTH - LABEL_WIDTH - GAP - 16 * mm
    x0 = LABEL_WIDTH + GAP
    grid = colors.HexColor("#c8ccd2")
    parts = [_legend(list(zip((_BAR, _BAR_START, _TARGET), captions, strict=True)))]
    for row in rows:
        drawing = Drawing(WIDTH, 27)
        for fraction in (0.0, 0.25, 0.5, 0.75, 1.0):
            x = x0 + track * fraction
            drawing.add(Line(x, 0, x, 27, strokeColor=grid, strokeWidth=0.3,
                             strokeDashArray=[1, 2]))
        y = 7
        _label(drawing, row.name, y + 6.5)
        drawing.add(_rect(x0, y, track, 13, _TRACK))
        drawing.add(_rect(x0, y, track * min(row.start_share, 1.0), 4, _BAR_START))
        drawing.add(_rect(x0, y + 5, track * min(row.share, 1.0), 8, _BAR))
        if row.target is not None:
            tx = x0 + track * min(row.target, 1.0)
            drawing.add(Line(tx, y - 2, tx, y + 15, strokeColor=_TARGET, strokeWidth=1.4))
            drawing.add(Polygon([tx - 3, y + 19, tx + 3, y + 19, tx, y + 15],
                                fillColor=_TARGET, strokeColor=None))
        drawing.add(String(x0 + track + 3, y + 3, percent(row.share), fontName=BOLD,
                           fontSize=LABEL_SIZE))
        parts.append(drawing)
    axis = Drawing(WIDTH, 10)
    for fraction in (0.0, 0.25, 0.5, 0.75, 1.0):
        axis.add(String(x0 + track * fraction, 1, f"{int(fraction * 100)}%",
                        fontName=REGULAR, fontSize=7, textAnchor="middle"))
    parts.append(axis)
    return parts


def outcome_chart(items: Sequence[tuple[str, int, int, int]], names: Sequence[str]
                  ) -> list[Drawing]:
    """Stacked horizontal bars: each support item's done, partly done and not done, with
    the counts printed."""
    track = WIDTH - LABEL_WIDTH - GAP - 14 * mm
    largest = max((sum(counts) for _name, *counts in items), default=0) or 1
    parts = [_legend(list(zip(_OUTCOME_COLOURS, names, strict=True)))]
    for name, *counts in items:
        drawing = Drawing(WIDTH, 22)
        y = 5
        _label(drawing, name, y + 5.5)
        x = LABEL_WIDTH + GAP
        for count, colour in zip(counts, _OUTCOME_COLOURS, strict=True):
            width = track * count / largest
            if width <= 0:
                continue
            drawing.add(_rect(x, y, width, 11, colour, colors.white, 0.4))
            text = format_number(count)
            if pdfmetrics.stringWidth(text, REGULAR, 7) + 3 < width:
                ink = colors.black if colour is _OUTCOME_COLOURS[2] else colors.white
                drawing.add(String(x + width / 2, y + 3, text, fontName=REGULAR, fontSize=7,
                                   textAnchor="middle", fillColor=ink))
            x += width
        drawing.add(String(x + 3, y + 3, format_number(sum(counts)), fontName=BOLD,
                           fontSize=LABEL_SIZE))
        parts.append(drawing)
    return parts


# -- tables ----------------------------------------------------------------------------------
def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float],
           styles: dict[str, ParagraphStyle], numeric_from: int = 1,
           total: bool = False) -> LongTable:
    """A table that splits across pages with its header repeated; text cells wrap, numbers
    stand right."""
    data: list[list[Any]] = [[Paragraph(escape(text), styles["head_left" if i == 0
                                                               else "head"])
                              for i, text in enumerate(header)]]
    for row in rows:
        data.append([Paragraph(escape(str(value)), styles["cell_right" if i >= numeric_from
                                                          else "cell"])
                     for i, value in enumerate(row)])
    scale = WIDTH / sum(widths)
    table = LongTable(data, colWidths=[w * scale for w in widths], repeatRows=1)
    commands = _base_style()
    commands += [("BACKGROUND", (0, r), (-1, r), _ZEBRA) for r in range(2, len(data), 2)]
    if total and len(data) > 1:
        commands.append(("LINEABOVE", (0, -1), (-1, -1), 0.9, colors.black))
    table.setStyle(TableStyle(commands))
    return table


def _base_style() -> list[tuple[Any, ...]]:
    """Every table's style: a shaded header row, a fine grid, cells centred vertically."""
    return [("BACKGROUND", (0, 0), (-1, 0), _HEAD), ("GRID", (0, 0), (-1, -1), 0.4, _RULE),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]


def _figures_table(pairs: Sequence[tuple[str, int]], styles: dict[str, ParagraphStyle]
                   ) -> LongTable:
    return _table([_("Figure"), _("Number")], [(name, _number(value)) for name, value in pairs],
                  [130, 35], styles)


def _indicator_cells(row: IndicatorRow) -> list[str]:
    met = "—" if row.met is None else (_("met") if row.met else _("not met"))
    target = "—" if row.target is None else percent(row.target)
    official = ("—" if row.official_population is None else
                f"{percent(row.official_share)}<br/>{format_number(row.reached)}/"
                f"{format_number(row.official_population)}")
    return [escape(row.name),
            f"{format_number(row.reached)}/{format_number(row.counted)}",
            percent(row.share),
            f"{format_number(row.start_reached)}<br/>{percent(row.start_share)}",
            f"{_signed(row.change_reached)}<br/>{points(row.share - row.start_share)}",
            official, target, met]


INDICATOR_WIDTHS = (44, 20, 18, 18, 17, 22, 15, 15)


def _indicator_table(groups: Sequence[tuple[str | None, Sequence[IndicatorRow]]],
                     styles: dict[str, ParagraphStyle]) -> LongTable:
    """Each indicator: reached of the people registered and its share, at the start, the
    change, the share of the official population, the target; grouped under a hamlet's name
    row when `groups` name one."""
    header = [_("Indicator"), _("Reached / registered"), _("Share of people registered"),
              _("At the start: reached, share"), _("Change: people, points"),
              _("Share of official population"), _("Target"), _("Target met")]
    data: list[list[Any]] = [[Paragraph(escape(text), styles["head_left" if i == 0
                                                               else "head"])
                              for i, text in enumerate(header)]]
    commands = _base_style()
    for name, rows in groups:
        if name is not None:
            commands += [("SPAN", (0, len(data)), (-1, len(data))),
                         ("BACKGROUND", (0, len(data)), (-1, len(data)), _ZEBRA)]
            data.append([Paragraph(f"<b>{escape(name)}</b>", styles["cell"])]
                        + [""] * (len(header) - 1))
        for row in rows:
            data.append([Paragraph(text, styles["cell" if i == 0 else "cell_right"])
                         for i, text in enumerate(_indicator_cells(row))])
    scale = WIDTH / sum(INDICATOR_WIDTHS)
    table = LongTable(data, colWidths=[w * scale for w in INDICATOR_WIDTHS], repeatRows=1)
    table.setStyle(TableStyle(commands))
    return table


# -- the story -------------------------------------------------------------------------------
def _story(report: MonthlyReport) -> list[Any]:
    styles = _styles()
    issuer = report.issuer
    commune = issuer.commune if issuer and issuer.commune else ""
    team = issuer.team if issuer else _("Community digital technology team")
    body = (_("{commune} People's Committee").format(commune=commune) if commune
            else _("People's Committee of the commune"))
    story: list[Any] = [
        Heading(body, team, _("No.: …/BC-CDTT"), _("SOCIALIST REPUBLIC OF VIET NAM"),
                _("Independence - Freedom - Happiness"), date_line(report)),
        Spacer(1, 6 * mm),
        Paragraph(escape(_("REPORT")), styles["title"]),
        Paragraph(escape(subject_line(report)), styles["subject"]),
    ]
    if report.hamlet is not None:
        story.append(Paragraph(escape(_("Figures of {hamlet} only (the farm's are the whole "
                                        "team's)").format(hamlet=report.hamlet.name)),
                               styles["scope"]))
    story.append(Spacer(1, 4 * mm))
    section = iter(range(1, 100))

    def heading(title: str) -> Paragraph:
        return Paragraph(escape(f"{next(section)}. {title}"), styles["section"])

    def note(text: str) -> Paragraph:
        return Paragraph(escape(text), styles["note"])

    # 1. Activity
    activity = report.activity
    story += [heading(_("Activity in the period")), _figures_table([
        (_("Visits"), activity.visits),
        (_("Households reached"), activity.households_reached),
        (_("People helped (at least one support item done or partly done)"),
         activity.people_helped)], styles)]

    # 2. Support items
    items = [i for i in report.items if i.done or i.partly or i.not_done]
    story.append(heading(_("Support items and their outcomes")))
    if items:
        rows: list[list[str]] = [
            [i.name, *(format_number(n) for n in (i.done, i.partly, i.not_done,
                                                  i.done + i.partly + i.not_done))]
            for i in report.items]
        sums = [sum(i.done for i in report.items), sum(i.partly for i in report.items),
                sum(i.not_done for i in report.items)]
        rows.append([_("Total"), *(format_number(n) for n in (*sums, sum(sums)))])
        outcome_names = [_("Done"), _("Partly done"), _("Not done")]
        story += [_table([_("Support item"), *outcome_names, _("Total")], rows,
                         [85, 20, 20, 20, 20], styles, total=True),
                  Spacer(1, 3 * mm),
                  *outcome_chart([(i.name, i.done, i.partly, i.not_done) for i in items],
                                 outcome_names)]
    else:
        story.append(note(_("No support item was recorded in the period.")))

    # 3. Indicators
    story.append(CondPageBreak(60 * mm))
    story.append(heading(_("Indicators at the end of the period against their targets")))
    if report.indicators:
        story.append(_indicator_table([(None, report.indicators)], styles))
        story.append(note(_(
            "Share of people registered: of the people of the indicator's age in the "
            "register. At the start: as of the day before the period. Change: in people "
            "reached, and in percentage points of the share. Share of official population: "
            "people reached out of the hamlets' official population (aged 15 and over, or "
            "adults for indicators counted from 18), shown only when every hamlet has that "
            "figure.")))
        lacking = sorted({name for r in report.indicators for name in r.official_missing})
        if lacking:
            story.append(note(_("Without an official population: {hamlets}.").format(
                hamlets=", ".join(lacking))))
        story += [Spacer(1, 3 * mm), *indicator_chart(
            report.indicators, [_("End of the period"), _("Start of the period"),
                                _("Target")])]
    else:
        story.append(note(_("No indicator is active.")))

    # 4. By hamlet
    if report.hamlets:
        story.append(CondPageBreak(50 * mm))
        story.append(heading(_("By hamlet")))
        story.append(_table(
            [_("Hamlet"), _("Visits"), _("Households reached"), _("People helped"),
             _("Follow-ups overdue")],
            [(h.name, format_number(h.activity.visits),
              format_number(h.activity.households_reached),
              format_number(h.activity.people_helped), format_number(h.followups_overdue))
             for h in report.hamlets], [60, 25, 27, 27, 27], styles))
        story.append(Spacer(1, 3 * mm))
        story.append(_indicator_table([(h.name, h.indicators) for h in report.hamlets],
                                      styles))

    # 5. Follow-ups
    story.append(heading(_("Follow-ups overdue")))
    story.append(_figures_table([(_("Households whose follow-up date passed before the end "
                                    "of the period without a new visit"),
                                  report.followups_overdue)], styles))

    # 6. Classes
    classes = report.classes or Classes(0, 0, report.learners_completed, 0)
    story += [heading(_("Classes")), _figures_table([
        (_("Class sessions held"), classes.sessions),
        (_("Learners who attended"), classes.learners_attended),
        (_("Learners who completed a course"), classes.learners_completed),
        (_("Certificates issued"), classes.certificates_issued)], styles)]

    # 7. Farm
    story += [heading(_("Farm diaries, lots and labels")), _figures_table([
        (_("Diary entries"), report.diary_entries),
        (_("Compliant lots"), report.lots_compliant),
        (_("Refused lots (labels withheld)"), report.lots_refused),
        (_("Labels printed"), report.labels_printed)], styles)]
    if report.hamlet is not None:
        story.append(note(_("The farm's figures are the whole team's: farm records carry no "
                            "hamlet.")))

    # 8. Corrections, kept on one page with the closing when they fit
    last: list[Any] = [heading(_("Corrections recorded after the period"))]
    if report.corrections:
        kinds = {"void": _("void"), "amend": _("amendment")}
        last.append(_table([_("Kind"), _("Visit day"), _("Recorded on"), _("Reason")],
                           [(kinds.get(c.kind, c.kind), c.visited_on, c.recorded_on,
                             c.reason) for c in report.corrections],
                           [22, 25, 25, 93], styles, numeric_from=9))
        now = report.activity_now or report.activity
        last.append(note(_("These corrections are not counted above. With them: visits "
                           "{visits}, households reached {households}, people helped "
                           "{people}.").format(visits=format_number(now.visits),
                                               households=format_number(now.households_reached),
                                               people=format_number(now.people_helped))))
    else:
        last.append(note(_("None: the figures above stand as recorded.")))
    last += [Spacer(1, 8 * mm), Closing(
        _("Recipients:"), [_("- Commune People's Committee;"), _("- Filed.")],
        _("Team leader"), _("(Signature and full name)"))]
    story.append(KeepTogether(last))
    return story


class _NumberedCanvas(Canvas):
    """A canvas that holds its pages until the end, then writes "n/m" on each: one drawing
    of the document instead of two."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._held: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._held.append(dict(self.__dict__))
        self._startPage()  # type: ignore[attr-defined]  # reportlab's fresh page

    def save(self) -> None:
        total = len(self._held)
        for state in self._held:
            self.__dict__.update(state)
            self.saveState()
            self.setFont(REGULAR, 9)
            self.setFillColor(colors.HexColor("#444444"))
            page = format_number(self.getPageNumber())
            self.drawCentredString(LEFT + WIDTH / 2, BOTTOM / 2,
                                   f"{page}/{format_number(total)}")
            self.restoreState()
            super().showPage()
        super().save()


def render_pdf(report: MonthlyReport) -> tuple[bytes, int]:
    """The report's PDF and its number of pages."""
    buffer = io.BytesIO()
    subject = subject_line(report)
    doc = SimpleDocTemplate(buffer, pagesize=PAGE, leftMargin=LEFT, rightMargin=RIGHT,
                            topMargin=TOP, bottomMargin=BOTTOM,
                            title=f"{_('REPORT')} — {subject}", subject=subject,
                            creator="dxkit", author="")
    doc.build(_story(report), canvasmaker=_NumberedCanvas)
    return buffer.getvalue(), doc.page
