"""The officials' dashboard on the hub (issue 13 §2): server-rendered pages under /dashboard.

Every page and download asks `require_official(request)` first (no session: 303 to /login).
The figures are hub/figures.py's (the rollups); this module only chooses, scopes, suppresses
and shows them — it never reads `records`.

Scope, enforced on every request: a province official sees every commune of the hub; a
commune official only their own. A commune code typed into the address that is not theirs
gets 403 with a sentence; a hamlet outside their commune, 404 (as an unknown one: the page
does not tell whether it exists). The downloads are the same page's tables, so they are held
to the same scope.

Pages (GET; `month=YYYY-MM`, `commune=CODE` and `hamlet=ID` choose what is shown; `lang=en|vi`
switches the language and is kept in a cookie):

- /dashboard                 overview: each commune (a commune official: each hamlet) with
                             its indicators against targets and its activity
- /dashboard/area            one commune (its hamlets) or one hamlet (?commune= / ?hamlet=)
- /dashboard/trend           month by month (`months=N`): charts and the same numbers
- /dashboard/activity        visits, households reached, people helped, support items
- /dashboard/classes         classes and certificates, per team
- /dashboard/farm            lots and labels, per team
- /dashboard/sync            teams not synced for N days (`days=N`, default 7)

Any page with `download=csv|xlsx&table=NAME` answers that table as a file
(hub/exports.py). Counts 0–4 are "<5" (figures.shown) and withheld shares are empty, on the
page, in the charts and in the files alike. No name, phone, ID or address of a person is ever
shown: the figures hold none; area and team names are the only names.

Pages have no script; the Content-Security-Policy forbids any.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from dxkit.core.errors import DxError
from dxkit.core.i18n import N_
from dxkit.sync.hub import figures
from dxkit.sync.hub.dashboard_html import (
    Frame,
    Tr,
    cards_html,
    chart_html,
    e,
    message_page,
    page_html,
    table_html,
)
from dxkit.sync.hub.database import Conn
from dxkit.sync.hub.exports import Cell, Column, Flag, Link, Table, file_name, to_csv, to_xlsx
from dxkit.sync.hub.login import is_secure, require_official
from dxkit.sync.hub.officials import Official, commune_by_code
from dxkit.sync.hub.store import HubStore
from dxkit.sync.hub.svg_charts import Series, bar_chart, hbar_chart, line_chart

DASHBOARD = "/dashboard"
LANG_COOKIE = "dx_lang"
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "img-src data:; base-uri 'none'; form-action 'self'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
DEFAULT_DAYS = 7
DAY_CHOICES = (1, 3, 7, 14, 30, 60, 90)
MAX_DAYS = 3660
DEFAULT_TREND_MONTHS = 12
TREND_CHOICES = (6, 12, 24)
MAX_CHART_AREAS = 60  # an area chart beyond this many areas would be unreadable: table only


class Refused(Exception):
    """A request the dashboard answers with a sentence: 400 (bad choice), 403 (outside the
    official's commune), 404 (nothing there). `message` is a msgid, formatted with `values`."""

    def __init__(self, status: int, message: str, **values: Any):
        super().__init__(message)
        self.status, self.message, self.values = status, message, values


@dataclass(frozen=True)
class Hamlet:
    id: str
    name: str
    commune_code: int


@dataclass(frozen=True)
class View:
    """What one request asks to see, checked against the official's scope."""

    official: Official
    tr: Tr
    path: str
    month: str
    months: tuple[str, ...]
    commune: int | None  # None: the whole hub (a province official only)
    hamlet: Hamlet | None
    query: Mapping[str, str]
    now: dt.datetime
    freshness: figures.Freshness

    @property
    def own_commune(self) -> int | None:
        return self.official.commune_code if self.official.role == "commune" else None

    def keep(self, **changes: str | None) -> dict[str, str]:
        """The query of this view's choices (month, commune, hamlet), with `changes`."""
        kept: dict[str, str | None] = {"month": self.month}
        if self.commune is not None and self.own_commune is None:
            kept["commune"] = str(self.commune)
        if self.hamlet is not None:
            kept["hamlet"] = self.hamlet.id
        kept.update(changes)
        return {k: v for k, v in kept.items() if v}

    def href(self, path: str, **changes: str | None) -> str:
        query = urlencode(self.keep(**changes))
        return f"{path}?{query}" if query else path


@dataclass
class Page:
    title: str
    blocks: list[str | Table] = field(default_factory=list)
    crumbs: list[tuple[str, str | None]] = field(default_factory=list)
    pickers: tuple[str, ...] = ("month", "commune")

    @property
    def tables(self) -> list[Table]:
        return [block for block in self.blocks if isinstance(block, Table)]


# -- names, choices and scope ------------------------------------------------------------------
def commune_name(code: int) -> str:
    found = commune_by_code(code)
    return found[1].name if found is not None else str(code)


def language_of(request: Request) -> str:
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE, "")
    return "en" if chosen.lower() == "en" else "vi"


def hub_communes(conn: Conn, official: Official) -> list[int]:
    """The communes the official may pick: every commune with a team (province), their own."""
    if official.role == "commune":
        return [official.commune_code] if official.commune_code is not None else []
    rows = conn.execute("SELECT DISTINCT commune_code FROM teams ORDER BY commune_code"
                        ).fetchall()
    return [int(row["commune_code"]) for row in rows]


def commune_hamlets(conn: Conn, commune: int) -> list[Hamlet]:
    rows = conn.execute("SELECT id, name, commune_code FROM hamlets WHERE commune_code = ? "
                        "AND deleted = 0 ORDER BY name_key, id", (commune,)).fetchall()
    return [Hamlet(row["id"], row["name"], int(row["commune_code"])) for row in rows]


def find_hamlet(conn: Conn, hamlet_id: str) -> Hamlet | None:
    if not hamlet_id or len(hamlet_id) > 100:
        return None
    row = conn.execute("SELECT id, name, commune_code FROM hamlets WHERE id = ? AND deleted = 0",
                       (hamlet_id,)).fetchone()
    return None if row is None else Hamlet(row["id"], row["name"], int(row["commune_code"]))


def scoped_commune(official: Official, typed: str | None) -> int | None:
    """The commune the request may see: a commune official's own (403 for any other typed
    code); for a province official the typed one (404 if no such commune), or None (all)."""
    own = official.commune_code if official.role == "commune" else None
    if typed is None or typed.strip() == "":
        return own
    found = commune_by_code(typed)
    if own is not None:
        if found is None or found[1].code != own:
            raise Refused(403, N_("You can see only the figures of {commune}; this address "
                                  "asks for another commune."), commune=commune_name(own))
        return own
    if found is None:
        raise Refused(404, N_("There is no commune or ward with the code “{code}”."),
                      code=typed[:20])
    return found[1].code


def make_view(conn: Conn, official: Official, tr: Tr, path: str,
              query: Mapping[str, str], now: dt.datetime, freshness: figures.Freshness
              ) -> View:
    months = tuple(figures.months(conn))
    month = query.get("month", "").strip()
    if month:
        if MONTH.fullmatch(month) is None or int(month[:4]) < 1:
            raise Refused(400, N_("Write the month as YYYY-MM, for example 2026-03; “{month}” "
                                  "is not."), month=month[:20])
    else:
        month = months[0] if months else now.strftime("%Y-%m")
    commune = scoped_commune(official, query.get("commune"))
    hamlet = None
    typed_hamlet = query.get("hamlet", "").strip()
    if typed_hamlet:
        hamlet = find_hamlet(conn, typed_hamlet)
        own = official.commune_code if official.role == "commune" else None
        if hamlet is None or (own is not None and hamlet.commune_code != own) or \
                (commune is not None and hamlet.commune_code != commune):
            raise Refused(404, N_("There is no such hamlet among the ones you can see."))
        commune = hamlet.commune_code
    return View(official, tr, path, month, months, commune, hamlet, query, now, freshness)


# -- the figures, as cells that may be shown --------------------------------------------------
def count(value: int | None) -> Cell:
    """A count as shown: "<5" for 0–4 (figures.shown)."""
    return None if value is None else figures.shown(value)


def share(numerator: int, denominator: int | None) -> Cell:
    """numerator / denominator, or None (not shown) when either is under 5 or the
    denominator is unknown (figures.shown_share)."""
    return figures.shown_share(numerator, denominator)


def chart_value(cell: Cell) -> float | None:
    """A shown cell as a chart value: nothing for "<5" or a withheld share."""
    return float(cell) if isinstance(cell, (int, float)) else None


def indicator_name(tr: Tr, indicator: figures.IndicatorFigure | figures.ItemFigure) -> str:
    return (indicator.name_en if tr.lang == "en" and indicator.name_en else
            indicator.name_vi or indicator.code)


def met_flag(tr: Tr, met: bool | None) -> Cell:
    if met is None:
        return None
    return Flag(tr._("met") if met else tr._("not met"), bool(met))


def area_link(view: View, area: figures.AreaFigures, level: figures.Level) -> Cell:
    if level == "commune":
        return Link(str(area.name), view.href(f"{DASHBOARD}/area", commune=str(
            area.commune_code), hamlet=None))
    return Link(str(area.name), view.href(f"{DASHBOARD}/area", hamlet=str(area.key)))


def area_tables(view: View, rows: Sequence[figures.AreaFigures], level: figures.Level
                ) -> list[str | Table]:
    """The activity and the indicators of a list of areas (figures.areas)."""
    tr = view.tr
    heading = tr._("Commune") if level == "commune" else tr._("Hamlet")
    summary = Table("areas", tr._("Activity by area"), (
        Column(heading, "text"), Column(tr._("Teams"), "number"), Column(tr._("Visits")),
        Column(tr._("Households reached")), Column(tr._("People helped")),
        Column(tr._("Follow-ups overdue")), Column(tr._("Last sync"), "text")),
        tuple((area_link(view, a, level), a.teams, count(a.visits),
               count(a.households_reached), count(a.people_helped),
               count(a.followups_overdue), tr.moment(a.last_sync)) for a in rows))
    indicator_columns = (
        Column(heading, "text"), Column(tr._("Indicator"), "text"), Column(tr._("Reached")),
        Column(tr._("Counted")), Column(tr._("Share"), "share"),
        Column(tr._("Target"), "share"), Column(tr._("Target met"), "text"),
        Column(tr._("Official population"), "number"),
        Column(tr._("Share of the official population"), "share"))
    indicator_rows = tuple(
        (area_link(view, a, level), indicator_name(tr, i), count(i.reached), count(i.counted),
         share(i.reached, i.counted), i.target,
         # "met" only beside a share that is shown: it tells about the share too.
         met_flag(tr, i.met if share(i.reached, i.counted) is not None else None),
         i.population, share(i.reached, i.population))
        for a in rows for i in a.indicators)
    indicators = Table("indicators", tr._("Indicators against targets"), indicator_columns,
                       indicator_rows, grouped=True)
    blocks: list[str | Table] = [summary]
    if 0 < len(rows) <= MAX_CHART_AREAS:
        blocks.extend(target_charts(view, rows))
    blocks.append(indicators)
    return blocks


def target_charts(view: View, rows: Sequence[figures.AreaFigures]) -> list[str]:
    """For each indicator with a target: its share by area, the target marked."""
    tr = view.tr
    charts = []
    codes = list(dict.fromkeys(i.code for a in rows for i in a.indicators
                               if i.target is not None))
    for number, code in enumerate(codes):
        found = [(a.name, next((i for i in a.indicators if i.code == code), None)) for a in rows]
        name = next(indicator_name(tr, i) for _a, i in found if i is not None)
        charts.append(hbar_chart(
            tr._("Share reached: {indicator}").format(indicator=name),
            [area for area, _i in found],
            [None if i is None else chart_value(share(i.reached, i.counted))
             for _a, i in found],
            number=tr.percent_axis, ident=f"target-{number}", hidden="—", top=1.0,
            marks=[None if i is None else i.target for _a, i in found],
            mark_label=tr._("target")))
    return charts


# -- pages -----------------------------------------------------------------------------------
def overview_page(conn: Conn, view: View) -> Page:
    tr = view.tr
    level: figures.Level = "commune" if view.commune is None else "hamlet"
    rows = figures.areas(conn, view.month, commune=view.commune, level=level)
    title = tr._("Overview") + " · " + tr.month(view.month)
    page = Page(title)
    if view.commune is not None:
        page.crumbs.append((commune_name(view.commune), None))
    page.blocks.extend(area_tables(view, rows, level))
    return page


def area_page(conn: Conn, view: View) -> Page:
    tr = view.tr
    if view.commune is None:
        raise Refused(400, N_("Choose a commune or a hamlet to see its figures."))
    page = Page(commune_name(view.commune) + " · " + tr.month(view.month),
                pickers=("month", "commune", "hamlet"))
    if view.own_commune is None:
        page.crumbs.append((tr._("All communes"), view.href(DASHBOARD, commune=None,
                                                             hamlet=None)))
    if view.hamlet is None:
        page.crumbs.append((commune_name(view.commune), None))
        rows = figures.areas(conn, view.month, commune=view.commune, level="hamlet")
        page.blocks.extend(area_tables(view, rows, "hamlet"))
        page.blocks.append(items_table(conn, view))
        return page
    hamlet = view.hamlet
    page.title = f"{hamlet.name} · {commune_name(hamlet.commune_code)} · {tr.month(view.month)}"
    page.crumbs.append((commune_name(hamlet.commune_code),
                        view.href(f"{DASHBOARD}/area", hamlet=None,
                                  commune=str(hamlet.commune_code))))
    page.crumbs.append((hamlet.name, None))
    found = [a for a in figures.areas(conn, view.month, commune=hamlet.commune_code,
                                      level="hamlet") if str(a.key) == hamlet.id]
    if found:
        area = found[0]
        page.blocks.append(cards_html([
            (tr._("Visits"), shown_text(tr, area.visits)),
            (tr._("Households reached"), shown_text(tr, area.households_reached)),
            (tr._("People helped"), shown_text(tr, area.people_helped)),
            (tr._("Follow-ups overdue"), shown_text(tr, area.followups_overdue))]))
        shares = [(indicator_name(tr, i), chart_value(share(i.reached, i.counted)),
                   None if i.target is None else float(i.target)) for i in area.indicators]
        if shares:
            page.blocks.append(hbar_chart(
                tr._("Share reached, by indicator"), [name for name, _v, _t in shares],
                [value for _n, value, _t in shares], number=tr.percent_axis,
                ident="indicator-shares", hidden="—", top=1.0,
                marks=[target for _n, _v, target in shares],
                mark_label=tr._("target")))
        page.blocks.extend(b for b in area_tables(view, found, "hamlet")
                           if not isinstance(b, str))
    else:
        nothing = tr._("Nothing recorded for this choice.")
        page.blocks.append(f'<p class="notice">{e(nothing)}</p>')
    page.blocks.append(items_table(conn, view))
    return page


def shown_text(tr: Tr, value: int) -> str:
    cell = figures.shown(value)
    return cell if isinstance(cell, str) else tr.number(cell)


def items_table(conn: Conn, view: View) -> Table:
    tr = view.tr
    rows = figures.items(conn, view.month, commune=view.commune,
                         hamlet=view.hamlet.id if view.hamlet else None)
    return Table("items", tr._("Support items and their outcomes"), (
        Column(tr._("Support item"), "text"), Column(tr._("Done")), Column(tr._("Partly done")),
        Column(tr._("Not done"))),
        tuple((indicator_name(tr, i), count(i.done), count(i.partly), count(i.not_done))
              for i in rows))


def trend_page(conn: Conn, view: View) -> Page:
    tr = view.tr
    typed = view.query.get("months", "").strip()
    months = DEFAULT_TREND_MONTHS
    if typed:
        if not (typed.isascii() and typed.isdigit()) or not 1 <= int(typed) <= 120:
            raise Refused(400, N_("The number of months is a whole number from 1 to 120."))
        months = int(typed)
    rows = sorted(figures.trend(conn, commune=view.commune,
                                hamlet=view.hamlet.id if view.hamlet else None, months=months),
                  key=lambda r: r.month)
    page = Page(tr._("Trend month by month") + " · " + scope_name(view),
                pickers=("commune", "hamlet", "months"))
    labels = [tr.month(r.month) for r in rows]
    names = trend_names(conn, view, rows)
    codes = list(dict.fromkeys(code for r in rows for code in r.shares))
    activity = [("visits", tr._("Visits")), ("households_reached", tr._("Households reached")),
                ("people_helped", tr._("People helped"))]
    cells: list[tuple[Cell, ...]] = []
    for r in rows:
        cells.append((tr.month(r.month), *(count(getattr(r, name)) for name, _l in activity),
                      *(trend_share(r.shares.get(c), r.counts.get(c)) for c in codes)))
    table = Table("trend", tr._("Month by month"), (
        Column(tr._("Month"), "text"), *(Column(label) for _n, label in activity),
        *(Column(tr._("Share: {indicator}").format(indicator=names.get(c, c)), "share")
          for c in codes)), tuple(cells))
    if rows:
        first_share = 1 + len(activity)
        page.blocks.append(line_chart(
            tr._("Share reached by indicator, month by month"), labels,
            [Series(names.get(c, c), tuple(chart_value(row[first_share + index])
                                           for row in cells))
             for index, c in enumerate(codes)],
            number=tr.percent_axis, x_title=tr._("Month"), y_title=tr._("Share reached"),
            ident="trend-shares", top=1.0))
        page.blocks.append(bar_chart(
            tr._("Activity month by month"), labels,
            [Series(label, tuple(chart_value(row[1 + index]) for row in cells))
             for index, (_n, label) in enumerate(activity)],
            number=tr.number, x_title=tr._("Month"), y_title=tr._("Count"),
            ident="trend-activity"))
    page.blocks.append(table)
    return page


def indicator_names(conn: Conn, view: View, month: str) -> dict[str, str]:
    """Indicator code -> its name in the reader's language, as the scope's areas have it."""
    level: figures.Level = "hamlet" if view.hamlet is not None else "commune"
    return {indicator.code: indicator_name(view.tr, indicator)
            for area in figures.areas(conn, month, commune=view.commune, level=level)
            for indicator in area.indicators}


def trend_names(conn: Conn, view: View, rows: Sequence[figures.MonthFigures]
                ) -> dict[str, str]:
    """The names of the trend's indicators, as the newest month has them; an indicator
    retired since keeps the name the catalogue gave it."""
    names = indicator_names(conn, view, rows[-1].month) if rows else {}
    hamlet = view.hamlet.id if view.hamlet else None
    for code, (name_vi, name_en) in figures.indicator_names(
            conn, commune=view.commune, hamlet=hamlet).items():
        names.setdefault(code, name_en if view.tr.lang == "en" and name_en else
                         name_vi or code)
    return names


def trend_share(value: float | None, counts: tuple[int, int] | None) -> Cell:
    """The trend's share, shown only when its reached and counted are both 5 or more."""
    if value is None or counts is None or figures.shown_share(*counts) is None:
        return None
    return value


def scope_name(view: View) -> str:
    if view.hamlet is not None:
        return f"{view.hamlet.name} · {commune_name(view.hamlet.commune_code)}"
    if view.commune is not None:
        return commune_name(view.commune)
    return view.tr._("All communes")


def activity_page(conn: Conn, view: View) -> Page:
    tr = view.tr
    page = Page(tr._("Activity") + " · " + scope_name(view) + " · " + tr.month(view.month),
                pickers=("month", "commune", "hamlet"))
    level: figures.Level = "commune" if view.commune is None else "hamlet"
    rows = figures.areas(conn, view.month, commune=view.commune, level=level)
    if view.hamlet is not None:
        rows = [a for a in rows if str(a.key) == view.hamlet.id]
    heading = tr._("Commune") if level == "commune" else tr._("Hamlet")
    page.blocks.append(Table("activity", tr._("Visits and households"), (
        Column(heading, "text"), Column(tr._("Visits")), Column(tr._("Households reached")),
        Column(tr._("People helped")), Column(tr._("Follow-ups overdue"))),
        tuple((area_link(view, a, level), count(a.visits), count(a.households_reached),
               count(a.people_helped), count(a.followups_overdue)) for a in rows)))
    if 1 < len(rows) <= MAX_CHART_AREAS:
        page.blocks.append(hbar_chart(
            tr._("Visits by area"), [a.name for a in rows],
            [chart_value(count(a.visits)) for a in rows], number=tr.number,
            ident="visits-by-area", hidden="<5"))
    items = items_table(conn, view)
    if items.rows:
        page.blocks.append(bar_chart(
            tr._("Support items by outcome"), [str(row[0]) for row in items.rows],
            [Series(column.heading, tuple(chart_value(row[index]) for row in items.rows))
             for index, column in enumerate(items.columns) if index > 0],
            number=tr.number, x_title=tr._("Support item"), y_title=tr._("Count"),
            ident="items-outcomes"))
    page.blocks.append(items)
    return page


def _team_table_page(view: View, title: str, key: str, caption: str, headers: Sequence[str],
                     cells: Callable[[figures.TeamFigures], tuple[Any, ...]], conn: Conn
                     ) -> Page:
    """A page of one table with a row per team: its name, its commune, then `cells`."""
    tr = view.tr
    page = Page(title + " · " + scope_name(view) + " · " + tr.month(view.month))
    rows = figures.team_work(conn, view.month, commune=view.commune)
    columns = (Column(tr._("Team"), "text"), Column(tr._("Commune"), "text"),
               *(Column(header) for header in headers))
    page.blocks.append(Table(key, caption, columns, tuple(
        (t.name, commune_name(t.commune_code), *cells(t)) for t in rows)))
    return page


def classes_page(conn: Conn, view: View) -> Page:
    tr = view.tr
    return _team_table_page(
        view, tr._("Classes and certificates"), "classes",
        tr._("Classes and certificates by team"),
        (tr._("Class sessions held"), tr._("Learners who completed"),
         tr._("Certificates issued"), tr._("Certificates revoked")),
        lambda t: (count(t.class_sessions), count(t.learners_completed),
                   count(t.certificates_issued), count(t.certificates_revoked)), conn)


def farm_page(conn: Conn, view: View) -> Page:
    tr = view.tr
    return _team_table_page(
        view, tr._("Lots and labels"), "farm", tr._("Lots and labels by team"),
        (tr._("Compliant lots"), tr._("Refused lots"), tr._("Labels printed"),
         tr._("Diary entries")),
        lambda t: (count(t.lots_compliant), count(t.lots_refused), count(t.labels_printed),
                   count(t.diary_entries)), conn)


def sync_page(conn: Conn, view: View) -> Page:
    tr = view.tr
    typed = view.query.get("days", "").strip()
    days = DEFAULT_DAYS
    if typed:
        if not (typed.isascii() and typed.isdigit()) or not 1 <= int(typed) <= MAX_DAYS:
            raise Refused(400, N_("The number of days is a whole number from 1 to {most}."),
                          most=MAX_DAYS)
        days = int(typed)
    rows = figures.sync_status(conn, commune=view.commune, days=days, now=view.now)
    title = tr.counted(days, "Teams not synced for {count} day",
                       "Teams not synced for {count} days")
    page = Page(title + " · " + scope_name(view), pickers=("commune", "days"))
    page.blocks.append(Table("sync", title, (
        Column(tr._("Team"), "text"), Column(tr._("Commune"), "text"),
        Column(tr._("Last sync"), "text"), Column(tr._("Days since"), "number")),
        tuple((t.name, commune_name(t.commune_code), tr.moment(t.last_sync),
               t.days_since) for t in rows),
        empty=tr._("Every team has synced within this time.")))
    return page


PAGES: tuple[tuple[str, str, Callable[[Conn, View], Page]], ...] = (
    ("", N_("Overview"), overview_page),
    ("/trend", N_("Trend"), trend_page),
    ("/activity", N_("Activity"), activity_page),
    ("/classes", N_("Classes and certificates"), classes_page),
    ("/farm", N_("Lots and labels"), farm_page),
    ("/sync", N_("Sync status"), sync_page),
)


# -- frame and pickers -----------------------------------------------------------------------
def role_text(tr: Tr, official: Official) -> str:
    if official.role == "commune" and official.commune_code is not None:
        return tr._("Commune official: {commune}").format(
            commune=commune_name(official.commune_code))
    return tr._("Province official")


def count_select(name: str, label: str, typed: str, choices: Sequence[int],
                 describe: Callable[[int], str]) -> str:
    """A labelled <select> of counts (days, months), with the typed value kept as an extra
    choice when it is not one of them."""
    options = "".join(f'<option value="{n}"{" selected" if str(n) == typed else ""}>'
                      f"{e(describe(n))}</option>" for n in choices)
    if typed not in {str(n) for n in choices}:
        options += f'<option value="{e(typed)}" selected>{e(typed)}</option>'
    return f'<label>{e(label)}<select name="{name}">{options}</select></label>'


def pickers_html(conn: Conn, view: View, wanted: Sequence[str]) -> str:
    tr = view.tr
    fields: list[str] = []
    all_communes, all_hamlets = tr._("All communes"), tr._("All hamlets")
    if "month" in wanted:
        months = list(view.months)
        if view.month not in months:
            months.insert(0, view.month)
        options = "".join(f'<option value="{e(m)}"{" selected" if m == view.month else ""}>'
                          f"{e(tr.month(m))}</option>" for m in months)
        label = tr._("Month")
        fields.append(f'<label>{e(label)}<select name="month">{options}</select></label>')
    else:
        fields.append(f'<input type="hidden" name="month" value="{e(view.month)}">')
    if "commune" in wanted and view.own_commune is None:
        chosen = view.commune
        options = f'<option value="">{e(all_communes)}</option>' + "".join(
            f'<option value="{code}"{" selected" if code == chosen else ""}>'
            f"{e(commune_name(code))}</option>" for code in hub_communes(conn, view.official))
        label = tr._("Commune")
        fields.append(f'<label>{e(label)}<select name="commune">{options}</select></label>')
    if "hamlet" in wanted and view.commune is not None:
        chosen_hamlet = view.hamlet.id if view.hamlet else ""
        options = f'<option value="">{e(all_hamlets)}</option>' + "".join(
            f'<option value="{e(h.id)}"{" selected" if h.id == chosen_hamlet else ""}>'
            f"{e(h.name)}</option>" for h in commune_hamlets(conn, view.commune))
        label = tr._("Hamlet")
        fields.append(f'<label>{e(label)}<select name="hamlet">{options}</select></label>')
    if "days" in wanted:
        fields.append(count_select("days", tr._("Not synced for at least"),
                                   view.query.get("days", str(DEFAULT_DAYS)), DAY_CHOICES,
                                   lambda d: day_count(tr, d)))
    if "months" in wanted:
        fields.append(count_select("months", tr._("Months shown"),
                                   view.query.get("months", str(DEFAULT_TREND_MONTHS)),
                                   TREND_CHOICES, lambda m: month_count(tr, m)))
    show = tr._("Show")
    return (f'<form class="pickers" method="get" action="{e(view.path)}">{"".join(fields)}'
            f'<button type="submit">{e(show)}</button></form>')


def day_count(tr: Tr, days: int) -> str:
    return tr.counted(days, "{count} day", "{count} days")


def month_count(tr: Tr, months: int) -> str:
    return tr.counted(months, "{count} month", "{count} months")


def frame_of(view: View, current: str) -> Frame:
    tr = view.tr
    nav = tuple((view.href(DASHBOARD + suffix, hamlet=view.hamlet.id if view.hamlet and
                           suffix in ("/trend", "/activity") else None), tr._(label))
                for suffix, label, _build in PAGES)
    other = "en" if tr.lang == "vi" else "vi"
    query = {**view.query, "lang": other}
    query.pop("download", None)
    query.pop("table", None)
    return Frame(tr, view.official.username, role_text(tr, view.official),
                 view.official.csrf_token, current, nav,
                 f"{view.path}?{urlencode(query)}")


def render(conn: Conn, view: View, page: Page) -> Response:
    tr = view.tr
    wanted = view.query.get("download")
    if wanted is not None:
        return download(view, page, wanted)
    crumbs = " › ".join(
        f'<a href="{e(href)}">{e(text)}</a>' if href else e(text) for text, href in page.crumbs)
    download_query = {k: v for k, v in view.query.items() if k not in ("lang", "download",
                                                                       "table")}
    download_query.setdefault("month", view.month)
    parts: list[str] = []
    charts: list[str] = []  # side by side where there is room
    for block in [*page.blocks, ""]:
        if isinstance(block, str) and block.startswith("<svg"):
            charts.append(chart_html(block))
            continue
        if charts:
            parts.append('<div class="charts">' + "".join(charts) + "</div>")
            charts = []
        if isinstance(block, Table):
            parts.append(table_html(block, tr, download_query))
        elif block:
            parts.append(block)
    body = "\n".join(parts)
    if not view.freshness.complete:
        stale = tr._("These figures are as of {moment}; some areas are still being brought "
                     "up to date.").format(moment=tr.moment(view.freshness.as_of))
        body = f'<p class="notice" role="status">{e(stale)}</p>\n' + body
    current = view.path if view.path != f"{DASHBOARD}/area" else DASHBOARD
    document = page_html(frame_of(view, current), page.title, body,
                         pickers=pickers_html(conn, view, page.pickers), crumbs=crumbs)
    return HTMLResponse(document, headers={**PAGE_HEADERS, "Content-Language": tr.lang})


def download(view: View, page: Page, kind: str) -> Response:
    tr = view.tr
    name = view.query.get("table", "")
    found = next((t for t in page.tables if t.name == name), None)
    if kind not in ("csv", "xlsx"):
        raise Refused(400, N_("A table downloads as csv or xlsx."))
    if found is None:
        raise Refused(404, N_("This page has no table “{table}”."), table=name[:40])
    scope = str(view.hamlet.id[:8]) if view.hamlet else str(view.commune or "")
    filename = file_name(["dashboard", found.name, scope, view.month], kind)
    if kind == "csv":
        body, media = to_csv(found), "text/csv; charset=utf-8"
    else:
        body = to_xlsx(found, found.title)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, media_type=media, headers={
        **PAGE_HEADERS, "Content-Language": tr.lang,
        "Content-Disposition": f'attachment; filename="{filename}"'})


# -- routes ----------------------------------------------------------------------------------
def dashboard_routes(store: HubStore) -> list[Route]:
    """The dashboard's pages; every one needs an official's session (require_official)."""

    def endpoint(path: str, build: Callable[[Conn, View], Page]
                 ) -> Callable[[Request], Any]:
        async def run(request: Request) -> Response:
            official = await require_official(request)
            tr = Tr(language_of(request))
            query = {k: v for k, v in request.query_params.items()}

            def work() -> Response:
                conn = store.conn
                try:
                    freshness = figures.ensure_fresh(store.database, now=store.now)
                    view = make_view(conn, official, tr, path, query, store.now(), freshness)
                    return render(conn, view, build(conn, view))
                except Refused as refused:
                    return refused_page(tr, refused)
                except DxError as refused:  # a choice the figures refuse: their sentence
                    return refused_page(tr, Refused(400, "{sentence}", sentence=str(refused)))

            answer = await run_in_threadpool(work)
            chosen = request.query_params.get("lang", "").lower()
            if chosen in ("vi", "en"):
                answer.set_cookie(LANG_COOKIE, chosen, path="/", httponly=True,
                                  samesite="strict", secure=is_secure(request),
                                  max_age=365 * 24 * 3600)
            return answer
        return run

    routes = [Route(DASHBOARD + suffix, endpoint(DASHBOARD + suffix, build), methods=["GET"])
              for suffix, _label, build in PAGES]
    routes.append(Route(f"{DASHBOARD}/area", endpoint(f"{DASHBOARD}/area", area_page),
                        methods=["GET"]))
    return routes


def refused_page(tr: Tr, refused: Refused) -> Response:
    titles = {400: N_("This choice cannot be shown"), 403: N_("Not your commune"),
              404: N_("Not found")}
    sentence = tr._(refused.message).format(**refused.values)
    return HTMLResponse(message_page(tr, tr._(titles.get(refused.status, N_("Not found"))),
                                     sentence, DASHBOARD),
                        status_code=refused.status,
                        headers={**PAGE_HEADERS, "Content-Language": tr.lang})
