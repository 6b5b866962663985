"""`dxkit hub users`: the officials who log in to the hub's pages (hub/officials.py).

`users add --username U --role province|commune [--commune CODE] --password-stdin` reads the
password as one line of standard input (never an argument: those show in `ps` and the shell's
history); `users list [--json]` never shows a password hash; `users disable U` ends the
account's sessions at once.
"""

from __future__ import annotations

import sys

import click

from dxkit.cli.common import JSON_OPTION, N_, argument, emit_json, option
from dxkit.cli.hub import hub, hub_store
from dxkit.core.i18n import _
from dxkit.sync.hub.officials import (
    ROLES,
    AccountError,
    Official,
    add_official,
    disable_official,
    list_officials,
)


@hub.group("users", help=N_("Officials' accounts for the hub's pages (province or commune)."))
def hub_users() -> None:
    pass


@hub_users.command("add", help=N_(
    "Create an official's account: the province's (every commune) or a commune's (--commune "
    "CODE). The password is read from standard input (--password-stdin)."))
@option("--username", required=True, help=N_("The name the official logs in with."))
@option("--role", required=True, metavar="|".join(ROLES),
        help=N_("province or commune."))
@option("--commune", default=None, metavar="CODE",
        help=N_("The commune's or ward's code (for a commune official)."))
@option("--password-stdin", "password_stdin", is_flag=True,
        help=N_("Read the password (at least 12 characters) from one line of standard "
                "input."))
@JSON_OPTION
@click.pass_context
def hub_users_add(ctx: click.Context, username: str, role: str, commune: str | None,
                  password_stdin: bool, as_json: bool) -> None:
    if not password_stdin:
        raise AccountError(_("Give the password on standard input with --password-stdin."))
    password = sys.stdin.readline().rstrip("\r\n")
    official = add_official(hub_store(ctx), username, role, commune, password)
    if as_json:
        emit_json(official.to_dict())
        return
    click.echo(_("Created the account {name} ({role}).").format(
        name=official.username, role=_role(official)))


@hub_users.command("list", help=N_("List the officials' accounts (never their passwords)."))
@JSON_OPTION
@click.pass_context
def hub_users_list(ctx: click.Context, as_json: bool) -> None:
    found = list_officials(hub_store(ctx))
    if as_json:
        emit_json([official.to_dict() for official in found])
        return
    if not found:
        click.echo(_("The hub has no official's account."))
    for official in found:
        state = _("disabled") if official.disabled_at else _("active")
        click.echo(f"{official.username}  {_role(official)}  {state}")


@hub_users.command("disable", help=N_(
    "Disable an official's account: it can no longer log in, and its sessions end now."))
@argument("username")
@JSON_OPTION
@click.pass_context
def hub_users_disable(ctx: click.Context, username: str, as_json: bool) -> None:
    official = disable_official(hub_store(ctx), username)
    if as_json:
        emit_json(official.to_dict())
        return
    click.echo(_("The account {name} is disabled; its sessions have ended.").format(
        name=official.username))


def _role(official: Official) -> str:
    if official.role == "province":
        return _("province")
    return _("commune {code}").format(code=official.commune_code)
