"""`dxkit key`: the workspace's encryption key — where it is kept, the team leader's recovery
key (shown once), and unlocking the workspace with it on another computer."""

from __future__ import annotations

from pathlib import Path

import click

from dxkit.cli.common import JSON_OPTION, N_, emit_json, option, workspace
from dxkit.cli.root import cli
from dxkit.core.encryption import WorkspaceKeys
from dxkit.core.errors import DxError
from dxkit.core.i18n import _
from dxkit.core.keys import DatabaseKey
from dxkit.workspace import Workspace, default_path

ASK = "-"  # --recovery-key - : ask for it, without showing it

@cli.group("key", help=N_("The workspace's encryption key and the team leader's recovery key."))
def key_group() -> None:
    pass


@key_group.command("status", help=N_("Show where this workspace's key is kept and whether its "
                                      "recovery key was shown."))
@JSON_OPTION
@click.pass_context
def key_status(ctx: click.Context, as_json: bool) -> None:
    ws = workspace(ctx)
    keys = WorkspaceKeys(ws.path)
    state = keys.state()
    info = {"encrypted": state is not None, "cipher": state.cipher if state else None,
            "key_store": keys.stored_in(),
            "recovery_shown_at": state.recovery_shown_at if state else None}
    if as_json:
        emit_json(info)
        return
    if info["key_store"] == "keyring":
        click.echo(_("The workspace is encrypted; its key is kept in this computer's keyring "
                     "and opens only for this user's login."))
    else:
        click.echo(_("The workspace is encrypted; its key is kept in a private file of this "
                     "user (no keyring works here). That is weaker: protect this computer "
                     "with disk encryption and a password."))
    if info["recovery_shown_at"]:
        click.echo(_("The recovery key was shown on {date}.").format(
            date=info["recovery_shown_at"]))
    else:
        click.echo(_("The recovery key has not been shown yet: the team leader should print "
                     "it once with “dxkit key recovery”."))


@key_group.command("recovery", help=N_(
    "Show the recovery key once, for the team leader to print and lock away. It opens this "
    "workspace and its backups on any computer."))
@click.pass_context
def key_recovery(ctx: click.Context) -> None:
    ws = workspace(ctx)
    keys = WorkspaceKeys(ws.path)
    state = keys.state()
    if state is not None and state.recovery_shown_at:
        raise DxError(_("The recovery key of this workspace was already shown on {date}; it "
                        "is shown only once. The team leader keeps the printed sheet.").format(
                            date=state.recovery_shown_at))
    click.echo(_("Recovery key of the workspace {path}:").format(path=ws.path))
    click.echo("")
    for line in ws.key.recovery_lines():
        click.echo("    " + line)
    click.echo("")
    click.echo(_("Print or copy it by hand now and keep it locked away: it will not be shown "
                 "again. Anyone who has it and the data can read every name and ID number. "
                 "To open the workspace on another computer: dxkit key unlock."))
    keys.mark_recovery_shown()


@key_group.command("unlock", help=N_(
    "Open an encrypted workspace on this computer with the team leader's recovery key (a new "
    "computer, or after the keyring was reset); the key is then kept here."))
@option("--recovery-key", default=None, help=N_("The recovery key (asked for when not given; "
                                                 "typing it at the prompt keeps it out of the "
                                                 "shell history)."))
@click.pass_context
def key_unlock(ctx: click.Context, recovery_key: str | None) -> None:
    folder = _folder(ctx)
    Workspace.unlock(folder, read_recovery_key(recovery_key or ASK)).close()
    where = WorkspaceKeys(folder).stored_in()
    if where == "keyring":
        click.echo(_("The workspace {path} is unlocked; its key is now kept in this "
                     "computer's keyring.").format(path=folder))
    else:
        click.echo(_("The workspace {path} is unlocked; its key is now kept in a private "
                     "file of this user (no keyring works here).").format(path=folder))


def read_recovery_key(value: str) -> DatabaseKey:
    """The recovery key given on the command line, or asked for without showing it when the
    value is "-". A typo is refused here (RecoveryKeyError's sentence), before anything."""
    text = click.prompt(_("Recovery key"), hide_input=True, err=True) if value == ASK else value
    return DatabaseKey.from_recovery_text(text)


def _folder(ctx: click.Context) -> Path:
    data_dir = ctx.find_root().obj.get("data_dir")
    return Path(data_dir).expanduser() if data_dir else default_path()
