"""`dxkit hub consumers` and `dxkit hub figures`: the provincial systems that read the hub's
JSON API (hub/consumers.py, hub/api.py), and the figures behind it (hub/figures.py).

`consumers add NAME [--json]` prints the new token once (`{"token": …}` with --json); only
its hash is kept. `consumers list [--json]` never shows a token; `consumers disable NAME`
refuses the token from the next request on. `figures rebuild` recomputes every hamlet's and
team's figures from the stored records, printing a line as each tenth is done.
"""

from __future__ import annotations

import click

from dxkit.cli.common import JSON_OPTION, N_, argument, emit_json
from dxkit.cli.hub import hub, hub_store
from dxkit.core.i18n import _, counted
from dxkit.sync.hub import figures
from dxkit.sync.hub.consumers import add_consumer, disable_consumer, list_consumers


@hub.group("consumers", help=N_("The provincial systems that read the hub's JSON API "
                                "(/api/v1/), each with a token of its own."))
def hub_consumers() -> None:
    pass


@hub_consumers.command("add", help=N_(
    "Add a consuming system and print its token, once: only its hash is kept."))
@argument("name")
@JSON_OPTION
@click.pass_context
def hub_consumers_add(ctx: click.Context, name: str, as_json: bool) -> None:
    consumer, token = add_consumer(hub_store(ctx), name)
    if as_json:
        emit_json({"name": consumer.name, "token": token})
        return
    click.echo(_("Added {name}. Its token, shown only this once:").format(name=consumer.name))
    click.echo(token)


@hub_consumers.command("list", help=N_("List the consuming systems (never their tokens)."))
@JSON_OPTION
@click.pass_context
def hub_consumers_list(ctx: click.Context, as_json: bool) -> None:
    found = list_consumers(hub_store(ctx))
    if as_json:
        emit_json([consumer.to_dict() for consumer in found])
        return
    if not found:
        click.echo(_("The hub has no consuming system."))
    for consumer in found:
        state = _("disabled") if consumer.disabled_at else _("active")
        used = consumer.last_used_at or _("never used")
        click.echo(f"{consumer.name}  {state}  {used}")


@hub_consumers.command("disable", help=N_(
    "Disable a consuming system: its token is refused from the next request on."))
@argument("name")
@JSON_OPTION
@click.pass_context
def hub_consumers_disable(ctx: click.Context, name: str, as_json: bool) -> None:
    consumer = disable_consumer(hub_store(ctx), name)
    if as_json:
        emit_json(consumer.to_dict())
        return
    click.echo(_("{name} is disabled; its token is refused from now on.").format(
        name=consumer.name))


@hub.group("figures", help=N_("The province's figures the dashboard and the API show."))
def hub_figures() -> None:
    pass


@hub_figures.command("rebuild", help=N_(
    "Recompute every hamlet's and team's figures from the stored records (after an "
    "upgrade, or to check them)."))
@JSON_OPTION
@click.pass_context
def hub_figures_rebuild(ctx: click.Context, as_json: bool) -> None:
    store = hub_store(ctx)
    reported = [0]

    def step(done: int, total: int) -> None:
        tenth = done * 10 // max(total, 1)
        if not as_json and (tenth > reported[0] or done == total):
            reported[0] = tenth
            click.echo(_("Figures of the hamlets and teams: {done} of {total} done.").format(
                done=done, total=total), err=True)

    result = figures.rebuild(store.database, now=store.now, step=step)
    state = figures.freshness(store.conn)
    if as_json:
        emit_json({"done": result.done, "left": result.left, "as_of": state.as_of})
        return
    click.echo(counted(result.done, "Rebuilt the figures of {count} hamlet or team.",
                       "Rebuilt the figures of {count} hamlets and teams."))
