"""The dashboard's HTML: the page frame (header, navigation, pickers), tables and notices.

Pages are written here as text, escaped, with inline CSS and no script; the routes and the
figures they show are hub/dashboard.py's. Every request has its own `Tr` (language, catalog,
number and date formats), since officials reading in Vietnamese and in English are served at
the same time.

Layout: a phone (360 CSS px) gets one column; each table scrolls inside its own box
(`.scroll`), charts scale to the width (viewBox), navigation and pickers wrap; nothing makes
the page itself wider than the screen.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from babel import Locale
from babel.dates import format_datetime as babel_datetime
from babel.numbers import format_decimal

from dxkit.core.i18n import LANGUAGES, load_catalog
from dxkit.sync.hub.exports import Cell, Column, Flag, Link, Table


class Tr:
    """Translation and formats of one request's language ("vi" or "en")."""

    def __init__(self, lang: str):
        self.lang = lang if lang in LANGUAGES else "vi"
        self.catalog = load_catalog(self.lang)
        self.locale = Locale.parse(LANGUAGES[self.lang])

    def _(self, message: str) -> str:
        return str(self.catalog.gettext(message))

    def counted(self, n: int, singular: str, plural: str) -> str:
        return str(self.catalog.ngettext(singular, plural, n)).format(count=self.number(n))

    def number(self, value: float, decimals: int | None = None) -> str:
        if decimals is None:
            return str(format_decimal(value, locale=self.locale))
        pattern = "#,##0." + "0" * decimals if decimals > 0 else "#,##0"
        return str(format_decimal(value, format=pattern, locale=self.locale))

    def percent(self, share: float) -> str:
        return self.number(share * 100, 1) + " %"

    def percent_axis(self, share: float) -> str:
        """A share on a chart's axis or bar: whole percent unless it has a fraction."""
        value = share * 100
        return (self.number(value, 0) if abs(value - round(value)) < 0.05
                else self.number(value, 1)) + " %"

    def month(self, month: str) -> str:
        """"2026-10" as "10/2026" (vi) or "Oct 2026" (en)."""
        try:
            day = dt.date(int(month[:4]), int(month[5:7]), 1)
        except (ValueError, IndexError):
            return month
        if self.lang == "vi":
            return f"{day.month:02d}/{day.year}"
        return day.strftime("%b %Y")

    def moment(self, iso: str | None) -> str:
        """An ISO timestamp in the reader's format (UTC), or "never"."""
        if not iso:
            return self._("never")
        try:
            when = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
        except ValueError:
            return iso
        pattern = "HH:mm dd/MM/yyyy" if self.lang == "vi" else "MMM d, yyyy HH:mm"
        return str(babel_datetime(when, pattern, tzinfo=dt.UTC, locale=self.locale))


def e(text: object) -> str:
    return html.escape(str(text), quote=True)


STYLE = """
*{box-sizing:border-box}
body{font-family:system-ui,sans-serif;margin:0;background:#f6f4ee;color:#222;line-height:1.4}
a{color:#1c5a8c}
header{background:#245b2a;color:#fff;padding:.6rem 1rem}
header a,header button{color:#fff}
.top{display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center;justify-content:space-between}
.who{font-size:.95rem}
.who strong{font-size:1.05rem}
.top form{margin:0}
.top button{font:inherit;background:transparent;border:1px solid #fff;border-radius:.3rem;
padding:.25rem .6rem;cursor:pointer}
nav{background:#e4e0d3;padding:.3rem 1rem}
nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.2rem .9rem}
nav a{display:inline-block;padding:.25rem 0;text-decoration:none;font-weight:600}
nav a[aria-current=page]{border-bottom:3px solid #245b2a;color:#245b2a}
main{max-width:80rem;margin:0 auto;padding:1rem}
h1{font-size:1.4rem;margin:.2rem 0 .6rem}
h2{font-size:1.15rem;margin:1.4rem 0 .5rem}
.crumbs{font-size:.9rem;margin:0 0 .4rem}
.pickers{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:flex-end;background:#fff;
padding:.6rem;border:1px solid #ddd;border-radius:.4rem;margin:0 0 .8rem}
.pickers label{display:grid;gap:.15rem;font-size:.9rem;max-width:100%}
.pickers select,.pickers input{font:inherit;padding:.3rem;max-width:100%;min-width:0}
.pickers button{font:inherit;padding:.35rem .9rem;border:0;border-radius:.3rem;
background:#245b2a;color:#fff;cursor:pointer}
.scroll{overflow-x:auto;max-width:100%;background:#fff;border:1px solid #ddd;border-radius:.4rem}
table{border-collapse:collapse;width:100%;font-size:.92rem}
caption{text-align:left;padding:.4rem .6rem;font-weight:600}
th,td{padding:.35rem .6rem;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
th{background:#f0eee6;white-space:nowrap}
td.group{background:#faf9f5;border-right:1px solid #eee}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.flag{display:inline-block;padding:.05rem .45rem;border-radius:.8rem;font-weight:600;
white-space:nowrap}
.flag.ok{background:#d4edd4;color:#14501c}
.flag.ok::before{content:"\\2713  "}
.flag.bad{background:#f8d7d4;color:#8a1c12}
.flag.bad::before{content:"\\2717  "}
.downloads{font-size:.85rem;margin:.3rem 0 0}
.note{font-size:.88rem;color:#555}
.notice{background:#fff3cd;border:1px solid #e6d28a;padding:.5rem .7rem;border-radius:.4rem}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,34rem),1fr));
gap:0 1rem;margin:.6rem 0}
.chart-box{overflow-x:auto;max-width:100%}
.chart{width:100%;min-width:34rem;height:auto;display:block;background:#fff;
border:1px solid #ddd;border-radius:.4rem;margin:.4rem 0}
td.t{min-width:9rem}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(9.5rem,1fr));gap:.6rem;
margin:.4rem 0}
.card{background:#fff;border:1px solid #ddd;border-radius:.4rem;padding:.5rem .7rem}
.card .v{font-size:1.5rem;font-weight:700}
.card .k{font-size:.85rem;color:#555}
footer{font-size:.8rem;color:#666;padding:1rem;text-align:center}
"""


def cell_html(value: Cell, column: Column, tr: Tr) -> str:
    numeric = column.kind in ("count", "share", "number")
    klass = ' class="n"' if numeric else ' class="t"'
    if value is None:
        text = "—"
    elif isinstance(value, Link):
        text = f'<a href="{e(value.href)}">{e(value.text)}</a>'
        return f"<td{klass}>{text}</td>"
    elif isinstance(value, Flag):
        return f'<td><span class="flag {"ok" if value.ok else "bad"}">{e(value.text)}</span></td>'
    elif isinstance(value, str):
        text = e(value)
    elif column.kind == "share":
        text = e(tr.percent(value))
    else:
        text = e(tr.number(value))
    return f"<td{klass}>{text}</td>"


def table_html(table: Table, tr: Tr, download: Mapping[str, str] | None = None) -> str:
    """The table in its own scrolling box, with links to download it (CSV, XLSX) when
    `download` gives the page's query."""
    numeric = ' class="n"'
    head = "".join(
        f'<th scope="col"{numeric if c.kind != "text" else ""}>{e(c.heading)}</th>'
        for c in table.columns)
    if table.rows:
        lines = []
        for index, row in enumerate(table.rows):
            cells = [cell_html(v, c, tr) for v, c in zip(row, table.columns, strict=True)]
            if table.grouped:
                if index > 0 and table.rows[index - 1][0] == row[0]:
                    cells = cells[1:]  # under the first row's spanning cell
                else:
                    span = 1
                    while index + span < len(table.rows) and \
                            table.rows[index + span][0] == row[0]:
                        span += 1
                    cells[0] = cells[0].replace('<td class="t"',
                                                f'<td rowspan="{span}" class="t group"', 1)
            lines.append("<tr>" + "".join(cells) + "</tr>")
        body = "".join(lines)
    else:
        nothing = table.empty or tr._("Nothing recorded for this choice.")
        body = f'<tr><td colspan="{len(table.columns)}">{e(nothing)}</td></tr>'
    links = ""
    if download is not None:
        links = '<p class="downloads">' + e(tr._("Download this table:")) + " " + " · ".join(
            f'<a href="?{e(urlencode({**download, "download": kind, "table": table.name}))}" '
            f'download>{label}</a>' for kind, label in (("csv", "CSV"), ("xlsx", "XLSX"))
        ) + "</p>"
    return (f'<section aria-label="{e(table.title)}"><h2>{e(table.title)}</h2>'
            f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>{links}</section>")


def chart_html(svg: str) -> str:
    """A chart in a box of its own that scrolls sideways on a narrow screen."""
    return f'<div class="chart-box">{svg}</div>'


def cards_html(cards: Sequence[tuple[str, str]]) -> str:
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="v">{e(value)}</div><div class="k">{e(label)}</div>'
        "</div>" for label, value in cards) + "</div>"


@dataclass(frozen=True)
class Frame:
    """What the header and navigation of every page need."""

    tr: Tr
    who: str  # the official's username
    role: str  # the role as shown ("Province official", "Commune official — X")
    csrf: str
    current: str  # the path of this page's navigation entry
    nav: tuple[tuple[str, str], ...]  # (href with query, label)
    switch_language: str  # href of this page in the other language


def page_html(frame: Frame, title: str, body: str, *, pickers: str = "",
              crumbs: str = "") -> str:
    tr = frame.tr
    other = "English" if tr.lang == "vi" else "Tiếng Việt"
    current = ' aria-current="page"'
    nav = "".join(
        f'<li><a href="{e(href)}"{current if href.split("?")[0] == frame.current else ""}>'
        f"{e(label)}</a></li>" for href, label in frame.nav)
    other_lang = "en" if tr.lang == "vi" else "vi"
    log_out, pages_label = tr._("Log out"), tr._("Dashboard pages")
    dashboard = tr._("Dashboard")
    aggregates = tr._("Aggregates only: counts under 5 are shown as “<5”.")
    header = (
        '<header><div class="top">'
        f'<div class="who"><strong>{e(frame.who)}</strong> · {e(frame.role)}</div>'
        f'<div class="top"><a href="{e(frame.switch_language)}" lang="{other_lang}">'
        f"{other}</a>"
        '<form method="post" action="/logout">'
        f'<input type="hidden" name="csrf" value="{e(frame.csrf)}">'
        f'<button type="submit">{e(log_out)}</button></form></div>'
        "</div></header>"
        f'<nav aria-label="{e(pages_label)}"><ul>{nav}</ul></nav>')
    crumbs_html = f'<p class="crumbs">{crumbs}</p>' if crumbs else ""
    return ("<!DOCTYPE html>\n"
            f'<html lang="{tr.lang}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<link rel="icon" href="data:,">\n'
            f"<title>{e(title)} · {e(dashboard)}</title>\n<style>{STYLE}</style>\n"
            f"</head>\n<body>\n{header}\n<main>\n{crumbs_html}<h1>{e(title)}</h1>\n"
            f"{pickers}\n{body}\n</main>\n"
            f'<footer>{e(aggregates)}</footer>\n'
            "</body>\n</html>\n")


def message_page(tr: Tr, title: str, sentence: str, back: str) -> str:
    """A page that says one thing (a refusal, a bad choice) and links back."""
    back_text = tr._("Back to the dashboard")
    return ("<!DOCTYPE html>\n"
            f'<html lang="{tr.lang}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<link rel="icon" href="data:,">\n'
            f"<title>{e(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
            f"<body>\n<main>\n<h1>{e(title)}</h1>\n<p class=\"notice\" role=\"alert\">"
            f"{e(sentence)}</p>\n<p><a href=\"{e(back)}\">{e(back_text)}"
            "</a></p>\n</main>\n</body>\n</html>\n")
