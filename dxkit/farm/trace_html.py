"""A lot's trace record as one standalone HTML page for a buyer's phone, and as JSON.

The page needs nothing else: inline CSS, no script, no fonts or images to fetch. It is laid
out for a narrow screen first (one column, long codes and addresses wrap anywhere) and every
value from the record is escaped. Captions go through `_`; the page is rendered in the
language asked for and the app's current language is restored afterwards.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from dxkit.core import i18n
from dxkit.core.i18n import _, format_date, format_number
from dxkit.farm.trace_record import TraceRecord, TraceStep

TRACE_JSON_VERSION = 1
Language = Literal["vi", "en"]

# Rendering switches the process-wide language for a moment; one page at a time (the hub
# renders from several threads).
_render_lock = threading.Lock()

STYLE = """
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:#f3f5f2;color:#1d231f;
 font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif}
main{max-width:40rem;margin:0 auto;padding:.75rem}
header,section{background:#fff;border-radius:.6rem;padding:.75rem 1rem;margin:0 0 .75rem;
 box-shadow:0 1px 2px rgba(0,0,0,.08)}
h1{font-size:1.45rem;line-height:1.25;margin:.1rem 0 .35rem}
h2{font-size:1.05rem;margin:0 0 .5rem;color:#245b2a}
p{margin:.25rem 0}
h1,h2,p,li,dt,dd,a{overflow-wrap:anywhere}
.kicker{color:#5a665e;font-size:.85rem;text-transform:uppercase;letter-spacing:.04em}
.lot{font-size:1.05rem}
.code{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-weight:600}
.badge{display:inline-block;border-radius:1rem;padding:.15rem .75rem;font-weight:600}
.ok{background:#e2f3df;color:#1d561a}
.bad{background:#fde6e3;color:#8d1d12}
dl{margin:0}
dt{color:#5a665e;font-size:.85rem;margin-top:.4rem}
dd{margin:0}
ul,ol{margin:0;padding:0;list-style:none}
.plots li,.steps li{border-top:1px solid #e4e8e3;padding:.5rem 0}
.plots li:first-child,.steps li:first-child{border-top:0;padding-top:0}
.when{font-weight:600}
.reasons li{border-left:3px solid #c0392b;padding-left:.6rem;margin:.4rem 0}
.lang{text-align:right;margin:0 0 .5rem}
a{color:#1f5fa8}
footer{color:#5a665e;font-size:.85rem;padding:0 .25rem 1rem}
"""


def trace_page(record: TraceRecord, *, lang: Language = "vi",
               alternate_url: str | None = None) -> str:
    """The whole page. `alternate_url`, when given, links to the page in the other language
    (the hub passes "?lang=en"); a standalone file has no such link."""
    with _speaking(lang):
        return _page(record, lang, alternate_url)


def write_trace_page(record: TraceRecord, path: str | Path, lang: Language = "vi") -> Path:
    target = Path(path)
    target.write_text(trace_page(record, lang=lang), encoding="utf-8")
    return target


def trace_json(record: TraceRecord) -> dict[str, Any]:
    """The record as JSON (the hub's answer to `Accept: application/json`)."""
    return {"version": TRACE_JSON_VERSION, **record.to_dict()}


@contextlib.contextmanager
def _speaking(lang: str) -> Iterator[None]:
    if lang not in i18n.LANGUAGES:
        raise ValueError(f"unknown language {lang!r}")
    with _render_lock:
        before = i18n.language()
        i18n.set_language(lang)
        try:
            yield
        finally:
            i18n.set_language(before)


def step_kind_label(kind: str) -> str:
    labels = {
        "land_preparation": _("Land preparation"),
        "seed": _("Seed"),
        "sowing": _("Sowing"),
        "fertiliser": _("Fertiliser"),
        "pesticide": _("Pesticide spraying"),
        "irrigation": _("Irrigation"),
        "observation": _("Field observation"),
        "harvest": _("Harvest"),
        "packing": _("Packing"),
    }
    return labels.get(kind, kind)


# -- pieces ------------------------------------------------------------------------------------
def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _date(day: dt.date) -> str:
    return f'<time datetime="{day.isoformat()}">{_e(format_date(day))}</time>'


def _facts(pairs: Iterable[tuple[str, str]]) -> str:
    """A definition list of the pairs whose value is not empty (values are HTML already)."""
    items = "".join(f"<dt>{_e(label)}</dt><dd>{value}</dd>" for label, value in pairs if value)
    return f"<dl>{items}</dl>" if items else ""


def _para(text: str) -> str:
    return f"<p>{_e(text)}</p>"


def _section(title: str, body: str) -> str:
    return f"<section><h2>{_e(title)}</h2>{body}</section>"


def _kg(quantity: float) -> str:
    return _("{quantity} kg").format(quantity=format_number(quantity))


def _link(url: str) -> str:
    if url.startswith(("https://", "http://")):
        return f'<a href="{_e(url)}">{_e(url)}</a>'
    return _e(url)


def _page(record: TraceRecord, lang: str, alternate_url: str | None) -> str:
    title = f"{record.product} · {record.lot_code}"
    body = "".join([
        _language_switch(lang, alternate_url),
        _header(record),
        _product(record),
        _cooperative(record),
        _plots(record),
        _dates(record),
        _section(_("Certification"), _para(record.certification or _("None"))),
        _compliance(record),
        _steps(record),
        _footer(record),
    ])
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{_e(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _language_switch(lang: str, alternate_url: str | None) -> str:
    if not alternate_url:
        return ""
    other_lang, caption = ("en", "English") if lang == "vi" else ("vi", "Tiếng Việt")
    return (f'<p class="lang"><a href="{_e(alternate_url)}" hreflang="{other_lang}" '
            f'lang="{other_lang}">{caption}</a></p>')


def _header(record: TraceRecord) -> str:
    kicker, lot = _("Trace record"), _("Lot")
    return (
        f'<header><p class="kicker">{_e(kicker)}</p>'
        f"<h1>{_e(record.product)}</h1>"
        f'<p class="lot">{_e(lot)} <span class="code">{_e(record.lot_code)}</span></p>'
        f"{_verdict(record)}</header>"
    )


def _verdict(record: TraceRecord) -> str:
    state, verdict = (("ok", _("Compliant")) if record.compliant
                      else ("bad", _("Not compliant")))
    return f'<p><span class="badge {state}">{_e(verdict)}</span></p>'


def _product(record: TraceRecord) -> str:
    return _section(_("Product"), _facts([  # the product's name is the page's heading
        (_("Crop"), _e(record.crop)),
        (_("Variety"), _e(record.variety)),
        (_("Season"), _e(record.season)),
        (_("Quantity in the lot"), _e(_kg(record.quantity_kg))),
        (_("GTIN"), f'<span class="code">{_e(record.gtin)}</span>' if record.gtin else ""),
    ]))


def _cooperative(record: TraceRecord) -> str:
    return _section(_("Cooperative"), _facts([
        (_("Cooperative name"), _e(record.cooperative)),
        (_("Address"), _e(record.cooperative_address)),
    ]))


def _plots(record: TraceRecord) -> str:
    if not record.plots:
        return _section(_("Growing areas"), _para(_("No plot recorded.")))
    items = []
    for plot in record.plots:
        code = plot.growing_area_code or _("none")
        area = _("{area} ha").format(area=format_number(plot.area_ha)) \
            if plot.area_ha is not None else ""
        items.append(f"<li><p><strong>{_e(plot.name)}</strong></p>" + _facts([
            (_("Growing area code"), f'<span class="code">{_e(code)}</span>'),
            (_("Area"), _e(area)),
            (_("Location"), _e(plot.address)),
        ]) + "</li>")
    return _section(_("Growing areas"), f'<ul class="plots">{"".join(items)}</ul>')


def _dates(record: TraceRecord) -> str:
    harvests = ", ".join(_date(day) for day in sorted(record.harvest_dates))
    return _section(_("Dates"), _facts([
        (_("Harvested on"), harvests),
        (_("Packed on"), _date(record.pack_date)),
    ]))


def _compliance(record: TraceRecord) -> str:
    if record.compliant:
        text = _para(_("The farm diary passed the pesticide compliance check."))
        return _section(_("Compliance"), _verdict(record) + text)
    text = _para(_("The farm diary did not pass the pesticide compliance check."))
    reasons = "".join(f"<li>{_e(reason)}</li>" for reason in record.reasons)
    if reasons:
        text += _para(_("Reasons:")) + f'<ul class="reasons">{reasons}</ul>'
    return _section(_("Compliance"), _verdict(record) + text)


def _steps(record: TraceRecord) -> str:
    if not record.steps:
        return _section(_("Farm diary"), _para(_("No diary step recorded.")))
    items = "".join(_step(step) for step in record.steps)
    return _section(_("Farm diary"), f'<ol class="steps">{items}</ol>')


def _step(step: TraceStep) -> str:
    return (
        f'<li><p class="when">{_date(step.on)} · {_e(step_kind_label(step.kind))}</p>'
        + _facts([
            (_("Plot"), _e(step.plot)),
            (_("Product used"), _e(step.product)),
            (_("Active ingredients"), _e(", ".join(step.active_ingredients))),
            (_("Dose"), _e(step.dose)),
            (_("Quantity"), _e(step.quantity)),
            (_("Note"), _e(step.note)),
        ]) + "</li>")


def _footer(record: TraceRecord) -> str:
    lines = [_para(_("Lot {code}").format(code=record.lot_code))]
    if record.trace_url:
        lines.append(f"<p>{_link(record.trace_url)}</p>")
    return f"<footer>{''.join(lines)}</footer>"


# -- the hub's answer for an unknown lot -------------------------------------------------------
def not_found_message(lot_code: str, lang: Language = "vi") -> str:
    with _speaking(lang):
        return _("No trace record is published for lot {code}.").format(code=lot_code)


def not_found_page(lot_code: str) -> str:
    """Both languages at once: the buyer's phone may read either."""
    parts = []
    for lang in ("vi", "en"):
        with _speaking(lang):
            advice = _("Check the code on the label, or ask the seller.")
        parts.append(f'<section lang="{lang}"><h1>{_e(not_found_message(lot_code, lang))}</h1>'
                     f"{_para(advice)}</section>")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="vi">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(lot_code)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n{''.join(parts)}\n</main>\n</body>\n</html>\n"
    )
