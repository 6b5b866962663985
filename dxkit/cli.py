"""Command line: `dxkit --data-dir DIR <command>`. Every listing takes --json."""

from __future__ import annotations

import click

from dxkit import __version__


@click.group(invoke_without_command=True)
@click.option("--data-dir", envvar="DXKIT_HOME", type=click.Path(file_okay=False),
              help="Workspace folder (default: the user data folder; env DXKIT_HOME).")
@click.version_option(__version__, prog_name="dxkit")
@click.pass_context
def cli(ctx: click.Context, data_dir: str | None) -> None:
    """dxkit: offline-first toolkit for community digital technology teams."""
    ctx.ensure_object(dict)
    ctx.obj["data_dir"] = data_dir
    if ctx.invoked_subcommand is None:
        opener = ctx.obj.get("open_app")
        if opener is None:
            raise click.UsageError("no command given")
        ctx.exit(opener(data_dir))


def main() -> int:
    return cli.main(prog_name="dxkit") or 0
