"""A report written out: JSON (the contract), XLSX (the same tables, numbers as numbers) and
PDF (the printed report, reports/pdf.py).

Each is written to a temporary file beside the destination and moved into place, so a
failure leaves no half-written file.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from dxkit.core.i18n import N_, _
from dxkit.households.catalog import ADULT_AGE
from dxkit.reports.monthly import Classes, IndicatorRow, MonthlyReport

_SHEET_UNSAFE = re.compile(r"[\\/*?:\[\]]")  # characters a sheet title cannot hold


def to_json(report: MonthlyReport) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2)


def _atomic_write(path: Path, write: Any) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".report-", suffix=path.suffix)
    os.close(handle)
    try:
        write(Path(temporary))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json(report: MonthlyReport, path: Path) -> None:
    _atomic_write(path, lambda target: target.write_text(to_json(report) + "\n",
                                                         encoding="utf-8"))


def official_basis(row: IndicatorRow) -> str:
    """What the official population of an indicator counts: people aged 15+, or adults."""
    return _("adults") if row.official_basis >= ADULT_AGE else _("aged 15 and over")


def _indicator_cells(row: IndicatorRow) -> list[Any]:
    met = None if row.met is None else (_("yes") if row.met else _("no"))
    official = row.official_share
    return [row.code, row.name, row.reached, row.counted, round(row.share, 4), row.target, met,
            row.start_reached, row.start_counted, round(row.start_share, 4),
            row.change_reached, round(row.change_share, 4), official_basis(row),
            row.official_population, None if official is None else round(official, 4),
            ", ".join(row.official_missing) or None]


INDICATOR_HEADER = (
    N_("Indicator code"), N_("Indicator"), N_("Reached"), N_("Counted (people registered)"),
    N_("Share of people registered"), N_("Target"), N_("Target met"), N_("Reached at start"),
    N_("Counted at start"), N_("Share at start"), N_("Change in people reached"),
    N_("Change in share"), N_("Official population counted"), N_("Official population"),
    N_("Share of official population"), N_("Hamlets without an official population"))


def sheets(report: MonthlyReport) -> list[tuple[str, list[str], list[list[Any]]]]:
    """The tables of the report: (sheet title, header, rows); numbers stay numbers."""
    data = report.to_dict()
    issuer = report.issuer
    classes = report.classes or Classes(0, 0, report.learners_completed, 0)
    summary: list[list[Any]] = [
        [_("Team"), issuer.team if issuer else None],
        [_("Commune"), (issuer.commune or None) if issuer else None],
        [_("Province"), (issuer.province or None) if issuer else None],
        [_("From"), data["period"]["from"]], [_("To"), data["period"]["to"]],
        [_("Hamlet"), data["hamlet"] or _("All hamlets")],
        [_("Visits"), report.activity.visits],
        [_("Households reached"), report.activity.households_reached],
        [_("People helped"), report.activity.people_helped],
        [_("Follow-ups overdue"), report.followups_overdue],
        [_("Class sessions held"), classes.sessions],
        [_("Learners who attended"), classes.learners_attended],
        [_("Learners who completed a course"), report.learners_completed],
        [_("Certificates issued"), classes.certificates_issued],
        [_("Diary entries"), report.diary_entries],
        [_("Compliant lots"), report.lots_compliant],
        [_("Refused lots"), report.lots_refused],
        [_("Labels printed"), report.labels_printed],
        [_("Corrections recorded after the period"), len(report.corrections)],
    ]
    indicator_header = [_(text) for text in INDICATOR_HEADER]
    tables: list[tuple[str, list[str], list[list[Any]]]] = [
        (_("Summary"), [_("Figure"), _("Value")], summary),
        (_("Support items"), [_("Support item code"), _("Support item"), _("Done"),
                              _("Partly done"), _("Not done")],
         [[i.code, i.name, i.done, i.partly, i.not_done] for i in report.items]),
        (_("Indicators"), indicator_header, [_indicator_cells(i) for i in report.indicators]),
    ]
    if report.hamlets:
        tables.append((_("Hamlets"), [_("Hamlet"), _("Visits"), _("Households reached"),
                                      _("People helped"), _("Follow-ups overdue")],
                       [[h.name, h.activity.visits, h.activity.households_reached,
                         h.activity.people_helped, h.followups_overdue]
                        for h in report.hamlets]))
        tables.append((_("Indicators by hamlet"), [_("Hamlet"), *indicator_header],
                       [[h.name, *_indicator_cells(i)] for h in report.hamlets
                        for i in h.indicators]))
    tables.append((_("Corrections"), [_("Kind"), _("Corrects"), _("Visit day"),
                                      _("Recorded on"), _("Reason")],
                   [[c.kind, c.corrects, c.visited_on, c.recorded_on, c.reason]
                    for c in report.corrections]))
    return tables


def write_xlsx(report: MonthlyReport, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, header, rows in sheets(report):
        sheet = book.create_sheet(title=_SHEET_UNSAFE.sub("-", title)[:31])
        cells = []
        for text in header:
            cell = WriteOnlyCell(sheet, value=text)
            cell.font = bold
            cells.append(cell)
        sheet.append(cells)
        for row in rows:
            sheet.append(list(row))
    _atomic_write(path, lambda target: book.save(target))


def write_pdf(report: MonthlyReport, path: Path) -> None:
    """The printed report (A4, the administrative layout of reports/pdf.py) into `path`."""
    from dxkit.reports.pdf import render_pdf

    pdf, _pages = render_pdf(report)
    _atomic_write(path, lambda target: target.write_bytes(pdf))
