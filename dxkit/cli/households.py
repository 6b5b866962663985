"""`dxkit households`: add, list, show, search, import and export households."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from dxkit.cli.common import (
    COUNT,
    JSON_OPTION,
    N_,
    OneOf,
    VisitWriter,
    argument,
    emit_json,
    given_options,
    hamlet_id,
    household_json,
    household_line,
    option,
    person_json,
    person_line,
    reader,
    say_error,
    terminal_progress,
    workspace,
)
from dxkit.cli.root import cli
from dxkit.core.errors import NotFound
from dxkit.core.i18n import _, counted, format_number, ngettext


@cli.group(help=N_("Households: add, list, show, search, import and export."))
def households() -> None:
    pass


@households.command("add", help=N_("Add a household."))
@option("--code", required=True, help=N_("Household code, unique in the commune."))
@option("--head-name", required=True, help=N_("Name of the head of household."))
@option("--hamlet", required=True, help=N_("Hamlet (ấp, khóm) the household belongs to."))
@option("--phone", default="", help=N_("Household phone number."))
@option("--address", default="", help=N_("Address."))
@option("--notes", default="", help=N_("Notes."))
@option("--lat", default=None, help=N_("GPS latitude."))
@option("--lon", default=None, help=N_("GPS longitude."))
@JSON_OPTION
@click.pass_context
def households_add(ctx: click.Context, code: str, head_name: str, hamlet: str, phone: str,
                   address: str, notes: str, lat: str | None, lon: str | None,
                   as_json: bool) -> None:
    ws = workspace(ctx)
    household = ws.households.add(code=code, head_name=head_name, hamlet=hamlet, phone=phone,
                                  address=address, notes=notes, latitude=lat,
                                  longitude=lon).value
    if as_json:
        emit_json(household_json(household, mask=False))
    else:
        click.echo(_("Added household {code}: {name}, {hamlet}.").format(
            code=household.code, name=household.head_name, hamlet=household.hamlet))


@households.command("edit", help=N_("Change a household's details; only the options given "
                                     "are changed (an empty value clears a field)."))
@argument("code_or_id")
@option("--code", default=None, help=N_("New household code."))
@option("--head-name", default=None, help=N_("Name of the head of household."))
@option("--hamlet", default=None, help=N_("Hamlet (ấp, khóm) the household belongs to."))
@option("--phone", default=None, help=N_("Household phone number."))
@option("--address", default=None, help=N_("Address."))
@option("--notes", default=None, help=N_("Notes."))
@option("--lat", default=None, help=N_("GPS latitude."))
@option("--lon", default=None, help=N_("GPS longitude."))
@JSON_OPTION
@click.pass_context
def households_edit(ctx: click.Context, code_or_id: str, code: str | None,
                    head_name: str | None, hamlet: str | None, phone: str | None,
                    address: str | None, notes: str | None, lat: str | None, lon: str | None,
                    as_json: bool) -> None:
    given = given_options(code=code, head_name=head_name, hamlet=hamlet, phone=phone,
                          address=address, notes=notes, latitude=lat, longitude=lon)
    ws = workspace(ctx)
    household = ws.households.update(ws.households.find(code_or_id).id, **given).value
    if as_json:
        emit_json(household_json(household, mask=False))
    else:
        click.echo(_("Changed household {code}: {name}, {hamlet}.").format(
            code=household.code, name=household.head_name, hamlet=household.hamlet))


@households.command("list", help=N_("List households, ordered by code."))
@option("--hamlet", default=None, help=N_("Only this hamlet."))
@JSON_OPTION
@click.pass_context
def households_list(ctx: click.Context, hamlet: str | None, as_json: bool) -> None:
    ws = reader(ctx)
    found = ws.households.list(hamlet_id(ws, hamlet))
    if as_json:
        emit_json([household_json(h) for h in found])
        return
    for household in found:
        click.echo(household_line(household))
    click.echo(counted(len(found), "{count} household.", "{count} households."), err=True)


@households.command("show", help=N_("Show a household: its people, visits and indicators."))
@argument("code_or_id")
@JSON_OPTION
@click.pass_context
def households_show(ctx: click.Context, code_or_id: str, as_json: bool) -> None:
    ws = reader(ctx)
    household = ws.households.find(code_or_id)
    people = ws.people.in_household(household.id)
    history = ws.visits.history(household.id)
    indicators = {p.id: ws.indicators.for_person(p.id) for p in people}
    today = ws.today()
    if as_json:
        emit_json({
            "household": household_json(household),
            "people": [{**person_json(p, today),
                        "indicators": [vars(i) for i in indicators[p.id]]} for p in people],
            "visits": [VisitWriter(ws).as_json(v) for v in history],
        })
        return
    names = {i.code: i.name for i in ws.catalog.indicators()}
    click.echo(household_line(household))
    if household.address:
        click.echo(_("Address: {address}").format(address=household.address))
    if household.notes:
        click.echo(_("Notes: {notes}").format(notes=household.notes))
    click.echo(_("People ({count}):").format(count=len(people)))
    for person in people:
        click.echo("  " + person_line(person, today))
        reached = [names.get(i.code, i.code) for i in indicators[person.id] if i.value]
        if reached:
            click.echo("      " + _("Indicators: {names}").format(names="; ".join(reached)))
    click.echo(_("Visits ({count}):").format(count=len(history)))
    writer = VisitWriter(ws)
    for visit in history:
        click.echo("  " + writer.line(visit, show_household=False))


@households.command("search", help=N_("Search households by code, name, phone or address; "
                                      "diacritics are optional."))
@argument("query")
@option("--hamlet", default=None, help=N_("Only this hamlet."))
@option("--limit", type=COUNT, default=50, show_default=True,
        help=N_("Show at most this many."))
@JSON_OPTION
@click.pass_context
def households_search(ctx: click.Context, query: str, hamlet: str | None, limit: int,
                      as_json: bool) -> None:
    ws = reader(ctx)
    found = ws.households.search(query, limit=limit, hamlet_id=hamlet_id(ws, hamlet))
    if as_json:
        emit_json([household_json(h) for h in found])
        return
    if not found:
        click.echo(_("No household matches “{query}”.").format(query=query), err=True)
    for household in found:
        click.echo(household_line(household))


@households.command("import", help=N_("Import households and people from a CSV or Excel file. "
                                      "If any row is wrong, nothing is imported."))
@argument("file")
@option("--dry-run", is_flag=True, help=N_("Only check the file and say what would change."))
@JSON_OPTION
@click.pass_context
def households_import(ctx: click.Context, file: str, dry_run: bool, as_json: bool) -> None:
    from dxkit.households import importing

    path = existing_file(file)
    ws = workspace(ctx, readonly=dry_run)
    with terminal_progress() as progress:
        if dry_run:
            plan = importing.plan_import(ws, path, progress=progress)
        else:
            try:
                plan = importing.apply_import(ws, path, progress=progress).value
            except importing.ImportRefused as exc:
                plan = exc.plan
    if as_json:
        emit_json(plan.to_dict())
    else:
        # What was assumed comes first, also for a refused file: it may explain the problems.
        for assumption in plan.assumptions:
            click.echo(assumption_line(assumption))
        for problem in plan.problems:
            say_error(problem_line(problem))
    if not plan.ok:
        say_error(counted(len(import_errors(plan)),
                          "Nothing was imported: the file has {count} problem. Correct it and "
                          "import again.",
                          "Nothing was imported: the file has {count} problems. Correct them "
                          "and import again."))
        ctx.exit(1)
    if as_json:
        return
    for name, encoding in plan.encodings.items():
        if encoding != "unicode":  # the others were converted (or refused): worth a line
            click.echo(_("Read {name} as {encoding}.").format(name=name, encoding=encoding))
    counts = import_counts(plan)
    if dry_run:
        click.echo(_("Checked; nothing was changed. Importing would give: {counts}").format(
            counts=counts))
    else:
        click.echo(_("Imported: {counts}").format(counts=counts))


def import_errors(plan: Any) -> list[Any]:
    return [p for p in plan.problems if getattr(p, "severity", "error") == "error"]


def problem_line(problem: Any) -> str:
    line = _("{where}: {message}").format(
        where=_where(getattr(problem, "sheet", ""), str(problem.line), problem.column),
        message=problem.message)
    if getattr(problem, "severity", "error") == "warning":
        line = _("Warning: {message}").format(message=line)
    return line


def assumption_line(assumption: Any) -> str:
    """"Assumed — sheet “Ấp 1”, line 4, 40–42, column SĐT: …" (only the parts it has)."""
    return _("Assumed — {where}: {message}").format(
        where=_where(assumption.sheet, assumption.where, assumption.column),
        message=assumption.message)


def _where(sheet: str, lines: str, column: str) -> str:
    """Sheet, line(s) and column of a spreadsheet, the parts that are known."""
    parts = []
    if sheet:
        parts.append(_("sheet “{sheet}”").format(sheet=sheet))
    if lines:
        parts.append(_("line {lines}").format(lines=lines))
    if column:
        parts.append(_("column {column}").format(column=column))
    text = ", ".join(parts) or _("the file")
    return text[:1].upper() + text[1:]


def import_counts(plan: Any) -> str:
    """The plan's counts (kept on `plan.counts`, or on the plan itself) as one sentence."""
    counts = getattr(plan, "counts", plan)
    n = format_number
    return _("{new_households}, {updated_households} updated, {unchanged_households} "
             "unchanged; {new_people}, {updated_people} updated, {unchanged_people} "
             "unchanged.").format(
        new_households=counted(counts.new_households, "{count} new household",
                               "{count} new households"),
        updated_households=n(counts.updated_households),
        unchanged_households=n(counts.unchanged_households),
        new_people=counted(counts.new_people, "{count} new person", "{count} new people"),
        updated_people=n(counts.updated_people), unchanged_people=n(counts.unchanged_people))


@households.command("export", help=N_("Export households (or people, or visits) to a CSV or "
                                      "Excel file that imports back."))
@option("--format", "fmt", type=OneOf("csv", "xlsx"), default=None,
        help=N_("csv or xlsx (default: from the file name)."))
@option("--out", required=True, type=click.Path(dir_okay=False), help=N_("File to write."))
@option("--what", type=OneOf("households", "people", "visits"), default="households",
        show_default=True, help=N_("households, people (one row per person) or visits."))
@click.pass_context
def households_export(ctx: click.Context, fmt: str | None, out: str, what: str) -> None:
    from dxkit.households import exporting

    writers = {"households": exporting.export_households, "people": exporting.export_people,
               "visits": exporting.export_visits}
    write = writers[what]
    path = Path(out).expanduser()
    chosen = fmt or ("xlsx" if path.suffix.lower() == ".xlsx" else "csv")
    file_format: exporting.Format = "xlsx" if chosen == "xlsx" else "csv"
    ws = reader(ctx)
    with terminal_progress() as progress:
        count = write(ws, path, file_format, progress=progress)
    click.echo(exported(what, count).format(count=format_number(count), path=path))


def exported(what: str, count: int) -> str:
    """What an export wrote, for `what` (households, people or visits) and its row count."""
    if what == "people":  # one row per person, and one per household nobody is listed in
        return ngettext("Exported {count} row of the people list to {path}.",
                        "Exported {count} rows of the people list to {path}.", count)
    if what == "visits":  # one row per support item of a visit
        return ngettext("Exported {count} visit row to {path}.",
                        "Exported {count} visit rows to {path}.", count)
    return ngettext("Exported {count} household to {path}.",
                    "Exported {count} households to {path}.", count)


def existing_file(name: str) -> Path:
    path = Path(name).expanduser()
    if not path.is_file():
        raise NotFound(_("There is no file {path}.").format(path=path))
    return path

