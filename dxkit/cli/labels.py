"""`dxkit labels`: label templates, and checking a label PDF the way a phone reads it.

`labels print --lot` needs the farm diary and is added with it; its engine part is
`render_labels(template_named(name), contents, start_position=..., copies=...)`.
"""

from __future__ import annotations

from pathlib import Path

import click

from dxkit.cli.common import (
    JSON_OPTION,
    N_,
    DxGroup,
    argument,
    emit_json,
    option,
    say_error,
    terminal_progress,
)
from dxkit.core.i18n import _, format_number, ngettext
from dxkit.labels import BUILTIN_TEMPLATES, Template, verify_pdf


@click.group("labels", cls=DxGroup,
             help=N_("Traceability labels: templates, and checking printed PDFs."))
def labels_group() -> None:
    pass


@labels_group.command("verify", help=N_(
    "Render a label PDF and decode every QR code with an independent decoder: count, "
    "payloads, positions and module sizes. Fails when no code (or not --expect codes) "
    "could be read."))
@argument("file", type=click.Path(dir_okay=False))
@option("--dpi", type=click.IntRange(72, 1200), default=300, show_default=True,
        help=N_("Resolution to render pages at (203 for thermal printers)."))
@option("--expect", type=click.IntRange(0), default=None,
        help=N_("Fail unless exactly this many codes are read."))
@JSON_OPTION
@click.pass_context
def verify(ctx: click.Context, file: str, dpi: int, expect: int | None, as_json: bool) -> None:
    with terminal_progress() as progress:
        report = verify_pdf(Path(file), dpi, progress=progress)
    if as_json:
        emit_json(report.to_dict())
    else:
        click.echo(ngettext("QR codes read: {count}, on {pages} page.",
                            "QR codes read: {count}, on {pages} pages.", report.pages).format(
            count=format_number(report.count), pages=format_number(report.pages)))
        for code in report.codes:
            click.echo(_("page {page}, centre {x} × {y} mm, module {module} mm: "
                         "{payload}").format(page=code.page, x=format_number(code.x_mm),
                                             y=format_number(code.y_mm),
                                             module=format_number(code.module_mm or 0),
                                             payload=code.payload))
    if expect is None and report.count == 0:
        say_error(_("No QR code could be read in {path}.").format(path=file))
        ctx.exit(1)
    if expect is not None and report.count != expect:
        say_error(ngettext("{count} QR code was read in {path}, not the {expected} expected.",
                           "{count} QR codes were read in {path}, not the {expected} expected.",
                           report.count).format(count=format_number(report.count), path=file,
                                                expected=format_number(expect)))
        ctx.exit(1)


@labels_group.command("templates", help=N_("The label sheets and rolls labels print on."))
@JSON_OPTION
def templates(as_json: bool) -> None:
    found = list(BUILTIN_TEMPLATES.values())
    if as_json:
        emit_json([{**t.to_dict(), "title": t.display_title} for t in found])
        return
    width = max(len(t.name) for t in found)
    for template in found:
        click.echo(f"{template.name.ljust(width)}  {_describe(template)}")


def _describe(template: Template) -> str:
    size = _("{width} × {height} mm").format(width=format_number(template.label_width),
                                            height=format_number(template.label_height))
    if template.kind == "thermal":
        layout = _("roll, {dpi} dpi").format(dpi=template.dpi)
    else:
        layout = _("{columns} × {rows} per page").format(columns=template.columns,
                                                         rows=template.rows)
    return f"{template.display_title} ({size}, {layout})"
