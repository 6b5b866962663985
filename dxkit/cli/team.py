"""`dxkit team`, `dxkit hamlets` and `dxkit members`: who the team is and where."""

from __future__ import annotations

import click

from dxkit.cli.common import JSON_OPTION, N_, argument, emit_json, option, reader, workspace
from dxkit.cli.root import cli
from dxkit.core.i18n import _, counted, format_number
from dxkit.sync.apply import META_HAMLET, META_TEAM_KIND


@cli.group(help=N_("The team's hamlets (ấp, khóm, thôn, tổ dân phố)."))
def hamlets() -> None:
    pass


@hamlets.command("list", help=N_("List hamlets with their number of households."))
@JSON_OPTION
@click.pass_context
def hamlets_list(ctx: click.Context, as_json: bool) -> None:
    ws = reader(ctx)
    rows = [{"id": h.id, "name": h.name, "households": len(ws.households.local_ids(h.id)),
             "population_15": h.population_15, "population_18": h.population_18}
            for h in ws.catalog.hamlets()]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        click.echo(_("{name}: {households}").format(
            name=row["name"],
            households=counted(int(row["households"] or 0), "{count} household",
                               "{count} households")))


@hamlets.command("add", help=N_("Add a hamlet."))
@argument("name")
@click.pass_context
def hamlets_add(ctx: click.Context, name: str) -> None:
    hamlet = workspace(ctx).catalog.add_hamlet(name).value
    click.echo(_("Added hamlet {name}.").format(name=hamlet.name))


@hamlets.command("rename", help=N_("Rename a hamlet."))
@argument("old")
@argument("new")
@click.pass_context
def hamlets_rename(ctx: click.Context, old: str, new: str) -> None:
    ws = workspace(ctx)
    hamlet = ws.catalog.hamlet(old)
    renamed = ws.catalog.rename_hamlet(hamlet.id, new).value
    click.echo(_("Renamed {old} to {new}.").format(old=hamlet.name, new=renamed.name))


@hamlets.command("population", help=N_(
    "Enter a hamlet's official population aged 15 and over and its adults (18 and over), "
    "when the province has not published them; a newer publication replaces them."))
@argument("name")
@option("--aged-15", "aged_15", type=click.IntRange(0), default=None,
        help=N_("Official population aged 15 and over."))
@option("--adults", type=click.IntRange(0), default=None,
        help=N_("Official number of adults (18 and over)."))
@click.pass_context
def hamlets_population(ctx: click.Context, name: str, aged_15: int | None,
                       adults: int | None) -> None:
    ws = workspace(ctx)
    known = ws.catalog.hamlet(name)  # a figure not given stays as it is
    hamlet = ws.catalog.set_population(
        known.id, known.population_15 if aged_15 is None else aged_15,
        known.population_18 if adults is None else adults).value
    click.echo(_("{name}: population 15+ {aged_15}, adults {adults}.").format(
        name=hamlet.name, aged_15=_figure(hamlet.population_15),
        adults=_figure(hamlet.population_18)))


def _figure(value: int | None) -> str:
    return "—" if value is None else format_number(value)


@cli.group(help=N_("Team members who make visits."))
def members() -> None:
    pass


@members.command("list", help=N_("List team members."))
@JSON_OPTION
@click.pass_context
def members_list(ctx: click.Context, as_json: bool) -> None:
    found = reader(ctx).catalog.members()
    if as_json:
        emit_json([{"id": m.id, "name": m.name, "active": m.active} for m in found])
        return
    for member in found:
        click.echo(member.name)


@members.command("add", help=N_("Add a team member."))
@argument("name")
@click.pass_context
def members_add(ctx: click.Context, name: str) -> None:
    member = workspace(ctx).catalog.add_member(name).value
    click.echo(_("Added team member {name}.").format(name=member.name))


@cli.group(help=N_("The team's province and commune."))
def team() -> None:
    pass


@team.command("set", help=N_("Set the province and commune (or ward) the team works in."))
@option("--province", required=True, help=N_("Province name or code."))
@option("--commune", required=True, help=N_("Commune or ward name or code."))
@click.pass_context
def team_set(ctx: click.Context, province: str, commune: str) -> None:
    found_province, found_commune = workspace(ctx).configure_team(province, commune)
    click.echo(_("The team works in {commune}, {province}.").format(
        commune=found_commune.name, province=found_province.name))


@team.command("show", help=N_("Show where the team works and what it holds."))
@JSON_OPTION
@click.pass_context
def team_show(ctx: click.Context, as_json: bool) -> None:
    ws = reader(ctx)
    province, commune = ws.team_place()
    meta = ws.meta()
    kind, team_hamlet = meta.get(META_TEAM_KIND, ""), meta.get(META_HAMLET, "")
    hamlets = [h.name for h in ws.catalog.hamlets()]
    members = [m.name for m in ws.catalog.members()]
    households, people = ws.households.count(), ws.people.count()
    pending = ws.pending_changes()
    info = {"province": province, "commune": commune, "kind": kind or None,
            "hamlet": team_hamlet if kind == "hamlet" else None, "hamlets": hamlets,
            "members": members, "households": households, "people": people,
            "pending_changes": pending, "path": str(ws.path)}
    if as_json:
        emit_json(info)
        return
    if province and kind == "hamlet":
        click.echo(_("Team of {hamlet}, {commune}, {province}.").format(
            hamlet=team_hamlet, commune=commune, province=province))
    elif province and kind == "commune":
        click.echo(_("Commune team of {commune}, {province}: every hamlet of the "
                     "commune.").format(commune=commune, province=province))
    elif province:
        click.echo(_("Team of {commune}, {province}.").format(commune=commune,
                                                              province=province))
    else:
        click.echo(_("The team's place is not set yet: use “dxkit team set”."))
    click.echo(_("Hamlets: {names}").format(names=", ".join(hamlets) or "—"))
    click.echo(_("Team members: {names}").format(names=", ".join(members) or "—"))
    click.echo(_("{households}, {people}, {pending}.").format(
        households=counted(households, "{count} household", "{count} households"),
        people=counted(people, "{count} person", "{count} people"),
        pending=counted(pending, "{count} change waiting to sync",
                        "{count} changes waiting to sync")))

