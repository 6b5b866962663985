"""`dxkit indicators`, `dxkit support-items` and `dxkit catalog` (configure them)."""

from __future__ import annotations

import click

from dxkit.cli.common import (
    JSON_OPTION,
    N_,
    argument,
    emit_json,
    hamlet_id,
    option,
    reader,
    workspace,
)
from dxkit.cli.root import cli
from dxkit.core.i18n import _, format_number


@cli.command("indicators", help=N_("Digital indicators: people reached out of people counted."))
@option("--hamlet", default=None, help=N_("Only this hamlet."))
@JSON_OPTION
@click.pass_context
def indicators(ctx: click.Context, hamlet: str | None, as_json: bool) -> None:
    ws = reader(ctx)
    rows = ws.indicators.rollup(hamlet_id(ws, hamlet))
    if as_json:
        emit_json([{"code": r.code, "name": r.name, "reached": r.reached,
                    "population": r.population, "share": round(r.share, 4),
                    "target": r.target, "met": r.met} for r in rows])
        return
    for row in rows:
        line = _("{name}: {reached}/{population} ({share}%)").format(
            name=row.name, reached=format_number(row.reached),
            population=format_number(row.population),
            share=format_number(round(row.share * 100, 1)))
        if row.target is not None:
            line += " " + (_("target {target}% reached") if row.met else
                           _("target {target}% not reached")).format(
                               target=format_number(round(row.target * 100, 1)))
        click.echo(line)


@cli.command("support-items", help=N_("The kinds of support a visit can record."))
@JSON_OPTION
@click.pass_context
def support_items(ctx: click.Context, as_json: bool) -> None:
    found = reader(ctx).catalog.support_items()
    if as_json:
        emit_json([{"code": s.code, "name": s.name, "name_vi": s.name_vi, "name_en": s.name_en,
                    "indicator_code": s.indicator_code} for s in found])
        return
    width = max((len(s.code) for s in found), default=0)
    for item in found:
        click.echo(f"{item.code.ljust(width)}  {item.name}")


@cli.group("catalog", help=N_("Configure the indicator list and the support-item catalogue."))
def catalog_group() -> None:
    pass


@catalog_group.command("add-indicator", help=N_("Add an indicator the team tracks."))
@argument("code")
@option("--vi", "name_vi", required=True, help=N_("Name in Vietnamese."))
@option("--en", "name_en", required=True, help=N_("Name in English."))
@option("--min-age", type=click.IntRange(0, 120), default=15, show_default=True,
        help=N_("People younger than this are not counted."))
@click.pass_context
def catalog_add_indicator(ctx: click.Context, code: str, name_vi: str, name_en: str,
                          min_age: int) -> None:
    added = workspace(ctx).catalog.add_indicator(code, name_vi, name_en, min_age).value
    click.echo(_("Added indicator {code}: {name}").format(code=added.code, name=added.name))


@catalog_group.command("add-item", help=N_("Add a kind of support a visit can record."))
@argument("code")
@option("--vi", "name_vi", required=True, help=N_("Name in Vietnamese."))
@option("--en", "name_en", required=True, help=N_("Name in English."))
@option("--indicator", default=None,
        help=N_("Indicator a 'done' outcome establishes (optional)."))
@click.pass_context
def catalog_add_item(ctx: click.Context, code: str, name_vi: str, name_en: str,
                     indicator: str | None) -> None:
    added = workspace(ctx).catalog.add_support_item(code, name_vi, name_en, indicator).value
    click.echo(_("Added support item {code}: {name}").format(code=added.code, name=added.name))


@catalog_group.command("set-target", help=N_(
    "Set the share of counted people an indicator should reach, e.g. 80% (usually published "
    "by the province; empty removes it)."))
@argument("code")
@argument("target")
@click.pass_context
def set_target(ctx: click.Context, code: str, target: str) -> None:
    indicator = workspace(ctx).catalog.set_target(code, target).value
    shown = "—" if indicator.target is None else format_number(round(indicator.target * 100, 1))
    click.echo(_("Target of {name}: {target}%.").format(name=indicator.name, target=shown))


@catalog_group.command("retire", help=N_("Stop offering an indicator or support item (history "
                                         "keeps it)."))
@argument("code")
@option("--indicator", "is_indicator", is_flag=True, help=N_("CODE is an indicator."))
@option("--restore", is_flag=True, help=N_("Offer it again."))
@click.pass_context
def catalog_retire(ctx: click.Context, code: str, is_indicator: bool, restore: bool) -> None:
    table = "indicators" if is_indicator else "support_items"
    workspace(ctx).catalog.set_active(table, code, restore)
    message = _("{code} is offered again.") if restore else _("{code} is retired.")
    click.echo(message.format(code=code))

