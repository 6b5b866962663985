"""Printing a lot's labels: the farm diary meets the label engine.

`print_lot_labels` is what the CLI's `labels print` and the app's Print button call. The print
run (an event, with the serials it used) is recorded in the same transaction that renders the
PDF, so a run that could not be drawn (a code too small to scan on that stock) leaves no record
and uses no serial numbers. A non-compliant lot is refused before anything else happens.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dxkit.core.i18n import _, format_date, format_number
from dxkit.core.progress import Progress
from dxkit.core.synced import Changes
from dxkit.farm.model import Lot, PrintRun
from dxkit.farm.trace_record import TraceRecord
from dxkit.labels.content import LabelContent
from dxkit.labels.errors import LabelError
from dxkit.labels.render import render_labels
from dxkit.labels.templates import BUILTIN_TEMPLATES, Template, template_named
from dxkit.labels.verify import verify_pdf

if TYPE_CHECKING:
    from dxkit.farm.workspace import FarmWorkspace as Workspace

CUSTOM_TEMPLATES_SETTING = "labels.custom_templates"


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


def preview_lot_labels(ws: Workspace, lot: str | Lot, template_name: str, *, copies: int = 1,
                       start: int = 1, serials: bool = False,
                       progress: Progress | None = None) -> PrintJob:
    """The PDF the print would produce, without recording anything. Serialised previews show
    the next serial numbers; printing may use later ones if another run happens first."""
    lots = ws.farm.lots
    found = lots.get(lot)
    template = find_template(ws, template_name)
    record = lots.trace_record(found)
    if serials:
        numbers = lots.next_serials(found, copies)
        payloads = tuple(lots.qr_payloads(found, numbers))
        contents = label_contents(record, payloads, numbers)
        pdf = render_labels(template, contents, start_position=start, progress=progress)
    else:
        payloads = tuple(lots.qr_payloads(found)) * copies
        contents = label_contents(record, payloads[:1])
        pdf = render_labels(template, contents, start_position=start, copies=copies,
                            progress=progress)
    return PrintJob(pdf, template, copies, None, payloads)


def print_lot_labels(ws: Workspace, lot: str | Lot, template_name: str, *, copies: int = 1,
                     start: int = 1, serials: bool = False, verify_over: int | None = None,
                     progress: Progress | None = None) -> PrintJob:
    """Record the print run and draw its PDF in one transaction (see the module docstring).
    Raises LotNotCompliant (with the reasons) for a lot that must not be labelled. A job of
    more than `verify_over` labels is decoded back first (check_decodes); if a code does not
    read, nothing is recorded. The lot's trace record is built once, by record_print (which
    publishes it), and the labels' text is taken from that same record."""
    template = find_template(ws, template_name)
    with ws.transaction() as tx:
        printed = ws.farm.lots.record_print(lot, template=template.name, copies=copies,
                                            start=start, serials=serials)
        run, record = printed.value, printed.trace
        if serials:
            contents = label_contents(record, run.payloads, run.serials)
            pdf = render_labels(template, contents, start_position=start, progress=progress)
        else:
            contents = label_contents(record, run.payloads[:1])
            pdf = render_labels(template, contents, start_position=start, copies=copies,
                                progress=progress)
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
