"""`dxkit report monthly`: the team's report for a month or a period, as a printed PDF (the
Vietnamese administrative layout, dxkit/reports/pdf.py), XLSX (the same tables, numbers as
numbers) or JSON (the contract, dxkit/reports/monthly.py) — the same figures in all three.

    dxkit report monthly --month 2026-11 --format pdf --out bao-cao-11-2026.pdf
    dxkit report monthly --from 2026-11-01 --to 2026-11-15 --hamlet "Ấp Mỹ Hưng" \
        --format json --out report.json

The PDF and the XLSX follow the app's language (--lang). Bad input is refused with one
sentence and writes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from dxkit.cli.common import DATE, N_, OneOf, option, reader
from dxkit.cli.root import cli
from dxkit.core.errors import DxError
from dxkit.core.i18n import _
from dxkit.reports.monthly import Period, build
from dxkit.reports.output import write_json, write_pdf, write_xlsx

WRITERS = {"pdf": write_pdf, "xlsx": write_xlsx, "json": write_json}


@cli.group("report", help=N_("Reports of the team's work for a period."))
def report() -> None:
    pass


def period_of(month: str | None, start: dt.date | None, end: dt.date | None) -> Period:
    if month is not None:
        if start is not None or end is not None:
            raise DxError(_("Give either --month or the --from and --to days, not both."))
        return Period.month(month)
    if start is None or end is None:
        raise DxError(_("Give the period: --month YYYY-MM, or both --from and --to."))
    return Period.between(start, end)


@report.command("monthly", help=N_("The team's report for a month (or --from/--to days): "
                                   "activity, indicators against their targets, follow-ups, "
                                   "classes and the farm side."))
@option("--month", default=None, help=N_("The month, as YYYY-MM."))
@option("--from", "start", type=DATE, default=None, help=N_("First day of the period."))
@option("--to", "end", type=DATE, default=None, help=N_("Last day of the period."))
@option("--hamlet", default=None, help=N_("Only this hamlet."))
@option("--format", "file_format", type=OneOf(*WRITERS), required=True,
        help=N_("File format: pdf, xlsx or json."))
@option("--out", required=True, type=click.Path(dir_okay=False),
        help=N_("The file to write."))
@click.pass_context
def report_monthly(ctx: click.Context, month: str | None, start: dt.date | None,
                   end: dt.date | None, hamlet: str | None, file_format: str,
                   out: str) -> None:
    period = period_of(month, start, end)
    target = Path(out).expanduser()
    if not target.parent.is_dir():
        raise DxError(_("The folder {folder} does not exist.").format(folder=target.parent))
    ws = reader(ctx)
    built = build(ws, period, hamlet=hamlet)
    WRITERS[file_format](built, target)
    click.echo(_("Wrote the report for {start} to {end} to {path}.").format(
        start=period.start.isoformat(), end=period.end.isoformat(), path=target))
