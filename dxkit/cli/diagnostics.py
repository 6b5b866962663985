"""`dxkit diagnostics export`: the zip to send when something goes wrong (no personal data)."""

from __future__ import annotations

from pathlib import Path

import click

from dxkit.cli.common import JSON_OPTION, N_, emit_json, option, workspace_folder
from dxkit.cli.root import cli
from dxkit.core import diagnostics
from dxkit.core.i18n import _


@cli.group("diagnostics", help=N_("Information for whoever helps you when something goes "
                                   "wrong."))
def diagnostics_group() -> None:
    pass


@diagnostics_group.command("export", help=N_(
    "Write a zip with the log files, the versions of dxkit and its parts, and counts of the "
    "workspace's rows. It holds no database and no personal data."))
@option("--out", required=True, type=click.Path(dir_okay=False), help=N_("File to write."))
@JSON_OPTION
@click.pass_context
def diagnostics_export(ctx: click.Context, out: str, as_json: bool) -> None:
    # The folder, not an opened workspace: diagnostics matter most when it cannot be opened.
    path = diagnostics.export(workspace_folder(ctx), Path(out).expanduser())
    if as_json:
        emit_json({"path": str(path)})
        return
    click.echo(_("Wrote the diagnostics to {path}.").format(path=path))
