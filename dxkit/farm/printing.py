"""Printing a lot's labels: the farm diary meets the label engine.

`print_lot_labels` is what the CLI's `labels print` and the app's Print button call. The print
run (an event, with the serials it used) is recorded in the same transaction that renders the
PDF, so a run that could not be drawn (a code too small to scan on that stock) leaves no record
and uses no serial numbers. A non-compliant lot is refused before anything else happens, and
so is any lot until someone confirmed the trace address the codes hold.

Unless told otherwise a job fills the sheet (from the start position on: 21 labels on an A4
3×7), and is drawn with the printing offset saved for its stock (`label_offset`): the few
millimetres a given printer misses by, measured once.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dxkit.core.errors import ValidationError
from dxkit.core.i18n import _, format_date, format_number
from dxkit.core.progress import Progress
from dxkit.core.synced import Changes
from dxkit.farm.model import Lot, PrintRun
from dxkit.farm.trace_record import TraceRecord
from dxkit.labels.content import LabelContent
from dxkit.labels.errors import LabelError
from dxkit.labels.render import MAX_OFFSET_MM, render_labels
from dxkit.labels.templates import BUILTIN_TEMPLATES, Template, template_named
from dxkit.labels.verify import verify_pdf

if TYPE_CHECKING:
    from dxkit.farm.workspace import FarmWorkspace as Workspace

CUSTOM_TEMPLATES_SETTING = "labels.custom_templates"
OFFSETS_SETTING = "labels.offsets"  # template name -> [right, down] in mm
Offset = tuple[float, float]


@dataclass(frozen=True)
class PrintJob:
    pdf: bytes
    template: Template
    labels: int
    run: PrintRun | None  # None for a preview
    payloads: tuple[str, ...] = ()  # what the codes must decode to, one per label
    changes: Changes = field(default_factory=Changes)


def label_templates(ws: Workspace) -> dict[str, Template]:
    """Built-in stock plus the sheets this workspace's users measured."""
    stored = ws.settings.get(CUSTOM_TEMPLATES_SETTING, {}) or {}
    custom = {name: Template.from_dict(data) for name, data in stored.items()}
    return {**BUILTIN_TEMPLATES, **custom}


def save_custom_template(ws: Workspace, template: Template) -> None:
    stored = dict(ws.settings.get(CUSTOM_TEMPLATES_SETTING, {}) or {})
    stored[template.name] = template.to_dict()
    ws.settings.set(CUSTOM_TEMPLATES_SETTING, stored)


def find_template(ws: Workspace, name: str) -> Template:
    custom = {k: v for k, v in label_templates(ws).items() if k not in BUILTIN_TEMPLATES}
    return template_named(name, custom)


def label_offset(ws: Workspace, template_name: str) -> Offset:
    """The printing offset saved for this stock (mm right and down; (0, 0) if none)."""
    stored = (ws.settings.get(OFFSETS_SETTING, {}) or {}).get(template_name.strip().lower())
    try:
        x, y = (float(value) for value in stored or (0.0, 0.0))
    except (TypeError, ValueError):  # a hand-edited settings.json
        return 0.0, 0.0
    return (x, y) if _offset_problems(x, y) == {} else (0.0, 0.0)


def save_label_offset(ws: Workspace, template_name: str, x: float | str | None = None,
                      y: float | str | None = None) -> Offset:
    """Save the printing offset of a stock: `x` mm to the right (negative: left), `y` mm down
    (negative: up); None keeps a value as it is. Raises ValidationError (keys x, y) for an
    offset over MAX_OFFSET_MM; nothing is saved then. Returns the offset saved."""
    name = find_template(ws, template_name).name  # an unknown stock: the error lists them
    values = parse_offset(x, y, label_offset(ws, name))
    stored = dict(ws.settings.get(OFFSETS_SETTING, {}) or {})
    if values == (0.0, 0.0):
        stored.pop(name, None)
    else:
        stored[name] = list(values)
    ws.settings.set(OFFSETS_SETTING, stored)
    return values


def parse_offset(x: float | str | None, y: float | str | None,
                 current: Offset = (0.0, 0.0)) -> Offset:
    """An offset as typed ("-1,5", "2"); None keeps `current`'s value. Raises
    ValidationError (keys x, y) for what is not a number of mm within MAX_OFFSET_MM."""
    values = (_number(x, current[0]), _number(y, current[1]))
    problems = _offset_problems(*values)
    if problems:
        raise ValidationError(problems)
    return values


def _number(value: float | str | None, current: float) -> float:
    if value is None:
        return current
    if isinstance(value, str):
        text = value.strip().replace(",", ".").replace("−", "-")
        try:
            return float(text) if text else 0.0
        except ValueError:
            return math.nan
    return float(value)


def _offset_problems(x: float, y: float) -> dict[str, str]:
    sentence = _("Give the offset in millimetres, between −{limit} and {limit}.").format(
        limit=format_number(MAX_OFFSET_MM))
    return {key: sentence for key, value in (("x", x), ("y", y))
            if not (math.isfinite(value) and abs(value) <= MAX_OFFSET_MM)}


def label_contents(record: TraceRecord, payloads: Sequence[str],
                   serials: Sequence[int] = ()) -> list[LabelContent]:
    """One label per payload, the text from the lot's trace record."""
    areas = ", ".join(p.growing_area_code for p in record.plots if p.growing_area_code)
    harvest = ", ".join(format_date(day) for day in record.harvest_dates[-2:])
    contents = []
    for index, payload in enumerate(payloads):
        serial = str(serials[index]) if index < len(serials) else None
        contents.append(LabelContent(
            product=record.product, cooperative=record.cooperative, growing_area=areas,
            harvest_date=harvest, pack_date=format_date(record.pack_date),
            lot_code=record.lot_code, certification=record.certification,
            qr_payload=payload, serial=serial))
    return contents


def preview_lot_labels(ws: Workspace, lot: str | Lot, template_name: str, *,
                       copies: int | None = None, start: int = 1, serials: bool = False,
                       offset: Offset | None = None, progress: Progress | None = None
                       ) -> PrintJob:
    """The PDF the print would produce, without recording anything (`copies` None: fill the
    sheet; `offset` None: the one saved for the stock). Serialised previews show the next
    serial numbers; printing may use later ones if another run happens first."""
    lots = ws.farm.lots
    found = lots.get(lot)
    template = find_template(ws, template_name)
    copies = template.to_fill(start) if copies is None else copies
    shift = label_offset(ws, template.name) if offset is None else offset
    record = lots.trace_record(found)
    if serials:
        numbers = lots.next_serials(found, copies)
        payloads = tuple(lots.qr_payloads(found, numbers))
        contents = label_contents(record, payloads, numbers)
        pdf = render_labels(template, contents, start_position=start, offset=shift,
                            progress=progress)
    else:
        payloads = tuple(lots.qr_payloads(found)) * copies
        contents = label_contents(record, payloads[:1])
        pdf = render_labels(template, contents, start_position=start, copies=copies,
                            offset=shift, progress=progress)
    return PrintJob(pdf, template, copies, None, payloads)


def print_lot_labels(ws: Workspace, lot: str | Lot, template_name: str, *,
                     copies: int | None = None, start: int = 1, serials: bool = False,
                     offset: Offset | None = None, verify_over: int | None = None,
                     progress: Progress | None = None) -> PrintJob:
    """Record the print run and draw its PDF in one transaction (see the module docstring).
    `copies` None fills the sheet from `start`; `offset` None is the stock's saved offset.
    Raises LotNotCompliant (with the reasons) for a lot that must not be labelled, and
    TraceAddressNotConfirmed before the trace address was confirmed. A job of more than
    `verify_over` labels is decoded back first (check_decodes); if a code does not read,
    nothing is recorded. The lot's trace record is built once, by record_print (which
    publishes it), and the labels' text is taken from that same record."""
    template = find_template(ws, template_name)
    copies = template.to_fill(start) if copies is None else copies
    shift = label_offset(ws, template.name) if offset is None else offset
    with ws.transaction() as tx:
        printed = ws.farm.lots.record_print(lot, template=template.name, copies=copies,
                                            start=start, serials=serials)
        run, record = printed.value, printed.trace
        if serials:
            contents = label_contents(record, run.payloads, run.serials)
            pdf = render_labels(template, contents, start_position=start, offset=shift,
                                progress=progress)
        else:
            contents = label_contents(record, run.payloads[:1])
            pdf = render_labels(template, contents, start_position=start, copies=copies,
                                offset=shift, progress=progress)
        expected = tuple(run.payloads) if serials else tuple(run.payloads[:1]) * copies
        if verify_over is not None and copies > verify_over:
            check_decodes(pdf, expected, progress=progress)
    return PrintJob(pdf, template, copies, run, expected, tx.changes)


def check_decodes(pdf: bytes, expected: Sequence[str], progress: Progress | None = None
                  ) -> None:
    """Decode every QR of the PDF as a phone would (an independent decoder) and raise
    LabelError unless exactly the expected payloads come back."""
    report = verify_pdf(pdf, progress=progress)
    found = Counter(code.payload for code in report.codes)
    if found != Counter(expected):
        readable = sum((found & Counter(expected)).values())
        raise LabelError(_("Only {found} of the {expected} QR codes could be read back from "
                           "the labels, so nothing was printed or recorded. Choose larger "
                           "labels or another stock.").format(
                               found=format_number(readable),
                               expected=format_number(len(expected))))
