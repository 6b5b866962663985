"""The root `dxkit` group; the command modules register their commands on it."""

from __future__ import annotations

from pathlib import Path

import click

from dxkit import __version__
from dxkit.cli.common import N_, DxGroup, DxOption, OneOf, option, route_click_messages
from dxkit.core import i18n, logs
from dxkit.core.i18n import _
from dxkit.core.workspace import default_path

route_click_messages()


class _VersionMessage(str):
    """click formats the --version message when it is asked for, after --lang is applied:
    translate it then, not when the option is declared."""

    def __mod__(self, values: object) -> str:
        return _(str(self)) % values


def _set_language(ctx: click.Context, param: click.Parameter, value: str | None) -> str:
    language = value or "vi"
    i18n.set_language(language)
    return language


@click.group(cls=DxGroup, invoke_without_command=True,
             help=N_("dxkit: offline-first toolkit for community digital technology teams. "
                     "Without a command it opens the desktop app."))
@option("--data-dir", envvar="DXKIT_HOME", type=click.Path(file_okay=False),
        help=N_("Workspace folder (default: the user data folder; env DXKIT_HOME)."))
@option("--lang", envvar="DXKIT_LANG", type=OneOf("vi", "en"), default="vi",
        is_eager=True, expose_value=False, callback=_set_language,
        help=N_("Language of messages: vi or en (env DXKIT_LANG)."))
@click.version_option(__version__, prog_name="dxkit", cls=DxOption,
                      message=_VersionMessage("%(prog)s, version %(version)s"),
                      help=N_("Show the version and exit."))
@click.pass_context
def cli(ctx: click.Context, data_dir: str | None) -> None:
    ctx.ensure_object(dict)
    ctx.obj["data_dir"] = data_dir
    # The log goes to the workspace folder; nothing is written there unless something logs.
    logs.setup(Path(data_dir).expanduser() if data_dir else default_path())
    if ctx.invoked_subcommand is None:
        opener = ctx.obj.get("open_app")
        if opener is None:
            raise click.UsageError(_("Give a command."), ctx)
        ctx.exit(opener(data_dir))


# Groups that need no workspace define themselves apart and are attached here.
from dxkit.cli.labels import labels_group  # noqa: E402

cli.add_command(labels_group)


def main() -> int:
    logs.install_crash_hooks()
    return cli.main(prog_name="dxkit") or 0
