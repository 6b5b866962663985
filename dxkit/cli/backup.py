"""`dxkit backup`: make a backup, list them, restore one, and how long they are kept."""

from __future__ import annotations

from pathlib import Path

import click

from dxkit.cli.common import (
    JSON_OPTION,
    LOCK_WAIT_SECONDS,
    N_,
    argument,
    emit_json,
    option,
    reader,
    workspace,
    workspace_folder,
)
from dxkit.cli.key import read_recovery_key
from dxkit.cli.root import cli
from dxkit.core import backup
from dxkit.core.errors import DxError
from dxkit.core.i18n import _, format_datetime, format_number, ngettext
from dxkit.workspace import Workspace


@cli.group("backup", help=N_("Backups of this workspace: make one, list them, restore one."))
def backup_group() -> None:
    pass


@backup_group.command("create", help=N_(
    "Make a backup now, in the workspace's backups folder (or in a file of your choice). It "
    "can run while the app is open."))
@option("--out", type=click.Path(dir_okay=False), default=None,
        help=N_("Write the backup to this file instead (it is not rotated)."))
@JSON_OPTION
@click.pass_context
def backup_create(ctx: click.Context, out: str | None, as_json: bool) -> None:
    ws = reader(ctx)  # a copy only reads the database
    path = backup.copy_to(ws.path, Path(out).expanduser()) if out else ws.backup_now().path
    if as_json:
        emit_json({"path": str(path)})
        return
    click.echo(_("Backed up the workspace to {path}.").format(path=path))


@backup_group.command("list", help=N_("List the backups in the workspace's backups folder, "
                                       "newest first."))
@JSON_OPTION
@click.pass_context
def backup_list(ctx: click.Context, as_json: bool) -> None:
    # Reads the folder only: a workspace too damaged to open still lists its backups.
    found = backup.list_backups(workspace_folder(ctx))
    if as_json:
        emit_json([b.to_dict() for b in found])
        return
    if not found:
        click.echo(_("There are no backups yet."))
    for item in found:
        click.echo("  ".join((format_datetime(item.created.astimezone().replace(tzinfo=None)),
                              backup.reason_label(item.reason), _size(item.size), str(item.path))))


def _size(size: int) -> str:
    return _("{size} MB").format(size=format_number(size / 1_000_000, decimals=1))


@backup_group.command("restore", help=N_(
    "Replace the workspace by a backup. The file is checked first; the workspace as it is "
    "now is kept as a backup. Another computer's backup (a lost laptop's) needs the team "
    "leader's recovery key of its workspace; it is then re-encrypted with this computer's "
    "key."))
@argument("file", type=click.Path(dir_okay=False))
@option("--yes", is_flag=True, help=N_("Do not ask for confirmation."))
@option("--recovery-key", default=None, metavar="KEY", help=N_(
    "The team leader's recovery key of the workspace the backup comes from, to restore "
    "another computer's backup. Give - to type it when asked, without showing it (it then "
    "stays out of the shell history)."))
@JSON_OPTION
@click.pass_context
def backup_restore(ctx: click.Context, file: str, yes: bool, recovery_key: str | None,
                   as_json: bool) -> None:
    folder = workspace_folder(ctx)
    recovery = read_recovery_key(recovery_key) if recovery_key else None
    if not yes:
        click.confirm(_("Replace the workspace in {folder} by {file}? The workspace as it is "
                        "now is kept as a backup.").format(folder=folder, file=file),
                      abort=True)
    try:
        restored = Workspace.restore_into(folder, Path(file).expanduser(),
                                          wait=LOCK_WAIT_SECONDS, recovery=recovery)
    except backup.NeedsRecoveryKey as exc:
        raise DxError(_(
            "{file} does not open with this workspace's key: it is a backup from another "
            "computer (encrypted with another key), or it is damaged. To restore another "
            "computer's backup, add --recovery-key - and type the team leader's recovery key "
            "of the workspace it comes from. Nothing was restored; this workspace is as it "
            "was.").format(file=file)) from exc
    kept = str(restored.kept.path) if restored.kept else None
    if as_json:
        emit_json({"restored": str(restored.source), "kept": kept})
        return
    click.echo(_("Restored the workspace from {file}.").format(file=restored.source))
    if kept:
        click.echo(_("The workspace as it was is kept in {path}.").format(path=kept))
    if restored.rekeyed:
        click.echo(_("It was re-encrypted with this computer's key: this workspace's own "
                     "recovery key opens it now, not that of the computer it came from."))


@backup_group.command("settings", help=N_("Show or change how long backups are kept."))
@option("--keep-days", type=click.IntRange(min=1), default=None,
        help=N_("Keep backups this many days (the newest few are always kept)."))
@JSON_OPTION
@click.pass_context
def backup_settings(ctx: click.Context, keep_days: int | None, as_json: bool) -> None:
    ws = workspace(ctx) if keep_days is not None else reader(ctx)
    if keep_days is not None:
        ws.set_backup_keep_days(keep_days)
    settings = {"keep_days": ws.backup_keep_days, "keep_newest": backup.KEEP_NEWEST,
                "folder": str(backup.folder_of(ws.path))}
    if as_json:
        emit_json(settings)
        return
    days = ws.backup_keep_days
    click.echo(ngettext("Backups are kept {days} day (the newest {newest} always), in {folder}.",
                        "Backups are kept {days} days (the newest {newest} always), in "
                        "{folder}.", days)
               .format(days=format_number(days), newest=format_number(backup.KEEP_NEWEST),
                       folder=settings["folder"]))
