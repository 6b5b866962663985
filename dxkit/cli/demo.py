"""`dxkit demo`: fill a workspace with made-up data."""

from __future__ import annotations

from pathlib import Path

import click

from dxkit.cli.common import COUNT, N_, option, terminal_progress
from dxkit.cli.root import cli
from dxkit.core.i18n import _, counted
from dxkit.core.workspace import default_path


@cli.command("demo", help=N_("Fill the workspace with made-up demo data (never over real data)."))
@option("--seed", type=COUNT, default=1, show_default=True,
        help=N_("Random seed; the same seed gives the same data."))
@option("--households", "household_count", type=COUNT, default=600, show_default=True,
        help=N_("How many households to make."))
@option("--if-empty", is_flag=True, help=N_("Do nothing if the workspace already has data."))
@click.pass_context
def demo(ctx: click.Context, seed: int, household_count: int, if_empty: bool) -> None:
    from dxkit import demo as demo_data

    data_dir = ctx.find_root().obj.get("data_dir")
    path = Path(data_dir).expanduser() if data_dir else default_path()
    with terminal_progress() as progress:
        summary = demo_data.fill(path, seed=seed, households=household_count,
                                 if_empty=if_empty, progress=progress)
    if summary is None:
        click.echo(_("The workspace in {path} already has data; it was left as it is.").format(
            path=path))
        return
    click.echo(_("Demo workspace ready in {path}: {households}, {people}, {visits}, "
                 "{overdue}.").format(
        path=path, households=counted(summary.households, "{count} household",
                                      "{count} households"),
        people=counted(summary.people, "{count} person", "{count} people"),
        visits=counted(summary.visits, "{count} visit", "{count} visits"),
        overdue=counted(summary.overdue_follow_ups, "{count} overdue follow-up",
                        "{count} overdue follow-ups")))

