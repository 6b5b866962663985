"""`dxkit people`: add, list, export and delete the people of a household."""

from __future__ import annotations

from pathlib import Path

import click

from dxkit.cli.common import (
    JSON_OPTION,
    N_,
    argument,
    emit_json,
    given_options,
    option,
    person_json,
    person_line,
    reader,
    workspace,
)
from dxkit.cli.root import cli
from dxkit.core.errors import DxError, NotFound
from dxkit.core.i18n import _, counted


@cli.group(help=N_("People in households: add, list, export their data, delete them."))
def people() -> None:
    pass


@people.command("add", help=N_("Add a person to a household (given by code or id)."))
@argument("household")
@option("--name", required=True, help=N_("Full name."))
@option("--sex", default="", help=N_("Nam or Nữ."))
@option("--birth", default="", help=N_("Birth date dd/mm/yyyy, or only the year yyyy."))
@option("--relationship", default="", help=N_("Relationship to the head of household."))
@option("--phone", default="", help=N_("Phone number."))
@option("--cccd", default="", help=N_("Citizen ID (12 digits); needs consent."))
@option("--consent/--no-consent", default=False,
        help=N_("The person agreed to their data being stored (never assumed)."))
@option("--notes", default="", help=N_("Notes."))
@JSON_OPTION
@click.pass_context
def people_add(ctx: click.Context, household: str, name: str, sex: str, birth: str,
               relationship: str, phone: str, cccd: str, consent: bool, notes: str,
               as_json: bool) -> None:
    ws = workspace(ctx)
    home = ws.households.find(household)
    person = ws.people.add(home.id, full_name=name, sex=sex, birth_date=birth,
                           relationship=relationship, phone=phone, cccd=cccd, consent=consent,
                           notes=notes).value
    if as_json:
        emit_json(person_json(person, ws.today()))
    else:
        click.echo(_("Added {name} to household {code} (id {id}).").format(
            name=person.full_name, code=home.code, id=person.id))


@people.command("edit", help=N_("Change a person's details; only the options given are "
                                 "changed (an empty value clears a field). Withdrawing consent "
                                 "removes the citizen ID."))
@argument("person_id")
@option("--name", default=None, help=N_("Full name."))
@option("--sex", default=None, help=N_("Nam or Nữ."))
@option("--birth", default=None, help=N_("Birth date dd/mm/yyyy, or only the year yyyy."))
@option("--relationship", default=None, help=N_("Relationship to the head of household."))
@option("--phone", default=None, help=N_("Phone number."))
@option("--cccd", default=None, help=N_("Citizen ID (12 digits); needs consent."))
@option("--consent/--no-consent", default=None,
        help=N_("Record that the person gave (or withdrew) consent to their data being stored."))
@option("--notes", default=None, help=N_("Notes."))
@JSON_OPTION
@click.pass_context
def people_edit(ctx: click.Context, person_id: str, name: str | None, sex: str | None,
                birth: str | None, relationship: str | None, phone: str | None,
                cccd: str | None, consent: bool | None, notes: str | None,
                as_json: bool) -> None:
    given = given_options(full_name=name, sex=sex, birth_date=birth, relationship=relationship,
                          phone=phone, cccd=cccd, consent=consent, notes=notes)
    ws = workspace(ctx)
    person = ws.people.update(ws.people.get(person_id).id, **given).value
    if as_json:
        emit_json(person_json(person, ws.today()))
    else:
        click.echo(_("Changed the details of {name}.").format(name=person.full_name))


@people.command("list", help=N_("List the people of a household (citizen IDs masked)."))
@argument("household")
@JSON_OPTION
@click.pass_context
def people_list(ctx: click.Context, household: str, as_json: bool) -> None:
    ws = reader(ctx)
    found = ws.people.in_household(ws.households.find(household).id)
    today = ws.today()
    if as_json:
        emit_json([person_json(p, today) for p in found])
        return
    for person in found:
        click.echo(person_line(person, today))


@people.command("export", help=N_("Write everything stored about a person to a JSON file."))
@argument("person_id")
@option("--out", required=True, type=click.Path(dir_okay=False), help=N_("File to write."))
@click.pass_context
def people_export(ctx: click.Context, person_id: str, out: str) -> None:
    from dxkit.households import exporting

    ws = reader(ctx)
    person = ws.people.get(person_id)
    exporting.export_person(ws, person.id, Path(out))
    click.echo(_("Wrote the data of {name} to {path}.").format(name=person.full_name
                                                               or person.id, path=out))


@people.command("delete", help=N_("Erase a person's personal data for good."))
@argument("person_id")
@option("--yes", is_flag=True, help=N_("Confirm the deletion."))
@click.pass_context
def people_delete(ctx: click.Context, person_id: str, yes: bool) -> None:
    ws = workspace(ctx)
    person = ws.people.get(person_id)
    if person.deleted:
        raise NotFound(_("This person's data was deleted."))
    if not yes:
        raise DxError(_("Deleting erases the personal data of {name} for good; nothing was "
                        "deleted. Add --yes to confirm.").format(name=person.full_name))
    household = ws.households.get(person.household_id)
    backups = {b.path for b in ws.backups()}
    ws.people.delete(person.id)
    click.echo(_("Deleted the personal data of {name}.").format(name=person.full_name))
    if household.head_name and not ws.households.get(household.id).head_name:
        click.echo(_("{name} was the head of household {code}: the household's head and "
                     "phone were erased with them. Enter its new head when you know it."
                     ).format(name=person.full_name, code=household.code))
    removed = backups - {b.path for b in ws.backups()}
    if removed:
        click.echo(counted(len(removed),
                           "Removed {count} backup that still held this person's data; a new "
                           "backup without it was made.",
                           "Removed {count} backups that still held this person's data; a new "
                           "backup without them was made."))

