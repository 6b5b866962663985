"""Command line: `dxkit --data-dir DIR <command>`. Every listing takes --json.

Commands are thin: they parse arguments, call Workspace operations and print. Errors a user can
act on (DxError, usage errors) become one translated sentence on stderr, never a traceback.
Help texts are marked with N_ and translated when shown, so `--lang` applies to them too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import click

from dxkit import __version__
from dxkit.core import i18n
from dxkit.core.cccd import sex_label
from dxkit.core.errors import DxError, NotFound
from dxkit.core.households import Household, Person
from dxkit.core.i18n import _, format_date, format_datetime, format_number
from dxkit.core.phones import mask_phone
from dxkit.core.progress import Progress
from dxkit.core.text import fold
from dxkit.core.visits import FollowUp, Visit, VisitItem, outcome_label
from dxkit.core.workspace import Workspace, default_path


def N_(message: str) -> str:
    """Mark a help text for extraction; it is translated when displayed."""
    return message


# -- translated click plumbing -----------------------------------------------------------------
class DxOption(click.Option):
    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        with _translated(self, "help"):
            return super().get_help_record(ctx)


class DxCommand(click.Command):
    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with _translated(self, "help"):
            super().format_help_text(ctx, formatter)

    def get_short_help_str(self, limit: int = 45) -> str:
        with _translated(self, "help"):
            return super().get_short_help_str(limit)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        help_option = super().get_help_option(ctx)
        if help_option is not None:
            help_option.help = _("Show this message and exit.")
        return help_option


class DxGroup(DxCommand, click.Group):
    command_class = DxCommand
    group_class = type  # subgroups are DxGroups too

    def resolve_command(self, ctx: click.Context, args: list[str]
                        ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            raise click.UsageError(_("There is no command “{name}”. Commands: {names}.").format(
                name=name, names=", ".join(self.list_commands(ctx))), ctx)
        return super().resolve_command(ctx, args)

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        """Like click's standalone mode, but every error a user can fix is one sentence."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as exc:
            _say_error(usage_sentence(exc))
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except (click.Abort, EOFError, KeyboardInterrupt):
            _say_error(_("Stopped; nothing more was done."))
            sys.exit(1)
        except DxError as exc:
            _say_error(exc.message)
            sys.exit(1)
        except OSError as exc:
            if exc.errno == errno.EPIPE:  # output piped into `head`: not an error
                sys.exit(0)
            _say_error(_("Could not use the file {path}: {reason}.").format(
                path=exc.filename or "", reason=exc.strerror or exc))
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


@contextlib.contextmanager
def _translated(obj: Any, attribute: str) -> Iterator[None]:
    original = getattr(obj, attribute)
    if original:
        setattr(obj, attribute, _(original))
    try:
        yield
    finally:
        setattr(obj, attribute, original)


def option(*names: str, **kwargs: Any) -> Callable:
    return click.option(*names, cls=DxOption, **kwargs)


def _say_error(message: str) -> None:
    click.echo(message, err=True)


def _param_name(param: click.Parameter | None, ctx: click.Context | None) -> str:
    if param is None:
        return ""
    if isinstance(param, click.Option):
        return max(param.opts, key=len)
    return param.human_readable_name


def usage_sentence(exc: click.UsageError) -> str:
    """Click's usage errors, rewritten as translated sentences with a pointer to --help."""
    command = exc.ctx.command_path if exc.ctx else "dxkit"
    hint = _("See “{command} --help”.").format(command=command)
    if isinstance(exc, click.MissingParameter):
        name = _param_name(exc.param, exc.ctx)
        sentence = _("{name} is required.").format(name=name)
    elif isinstance(exc, click.NoSuchOption):
        sentence = _("There is no option {name}.").format(name=exc.option_name)
    elif isinstance(exc, click.BadParameter):
        sentence = _("Wrong value for {name}: {reason}").format(
            name=_param_name(exc.param, exc.ctx), reason=exc.message)
    elif isinstance(exc, click.BadOptionUsage):
        sentence = _("The option {name} needs a value.").format(name=exc.option_name)
    elif exc.message.startswith(("Got unexpected extra argument", "Got unexpected extra")):
        sentence = _("Too many arguments ({detail}).").format(detail=exc.message)
    else:
        sentence = exc.message
    return f"{sentence} {hint}"


class DateType(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(_("write a date as YYYY-MM-DD, for example 2026-11-20."), param, ctx)


class DateTimeType(click.ParamType):
    name = "YYYY-MM-DD HH:MM"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        try:
            return dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(_("write a time as “YYYY-MM-DD HH:MM”, for example “2026-11-20 09:30”."),
                      param, ctx)


class CountType(click.ParamType):
    name = "N"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = -1
        if number < 0:
            self.fail(_("{value} is not a whole number of 0 or more.").format(value=value),
                      param, ctx)
        return number


class OneOf(click.ParamType):
    def __init__(self, *choices: str):
        self.choices = choices
        self.name = "|".join(choices)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> str:
        text = str(value).strip().lower()
        if text not in self.choices:
            self.fail(_("“{value}” is not one of: {choices}.").format(
                value=value, choices=", ".join(self.choices)), param, ctx)
        return text


DATE, DATETIME, COUNT = DateType(), DateTimeType(), CountType()


# -- output helpers ----------------------------------------------------------------------------
def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, set | tuple):
        return list(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_json_default))


def household_json(household: Household, *, mask: bool = True) -> dict[str, Any]:
    data = household.to_dict()
    if mask:
        data["phone"] = mask_phone(household.phone)
    return data


def person_json(person: Person, today: dt.date) -> dict[str, Any]:
    """A person as lists show them: citizen ID and phone masked, never in full."""
    data = person.to_dict()
    data["cccd"] = person.masked_cccd
    data["phone"] = person.masked_phone
    data["age"] = person.age_on(today)
    return data


def household_line(household: Household) -> str:
    parts = [household.code, household.head_name, household.hamlet]
    if household.phone:
        parts.append(mask_phone(household.phone))
    return "  ".join(parts)


def person_line(person: Person, today: dt.date) -> str:
    birth = format_date(person.birth_date) if person.birth_date else str(person.birth_year or "")
    age = person.age_on(today)
    parts = [person.id, person.full_name, sex_label(person.sex)]
    if birth:
        parts.append(_("born {birth} ({age} years old)").format(birth=birth, age=age))
    if person.relationship:
        parts.append(person.relationship)
    if person.cccd:
        parts.append(_("ID {cccd}").format(cccd=person.masked_cccd))
    if person.phone:
        parts.append(_("phone {phone}").format(phone=person.masked_phone))
    parts.append(_("consented") if person.consent else _("no consent"))
    return "  ".join(p for p in parts if p)


@contextlib.contextmanager
def terminal_progress() -> Iterator[Progress | None]:
    """A counter on stderr for long work, only when a person is watching a terminal."""
    if not sys.stderr.isatty():
        yield None
        return

    shown = [0]  # width of the last line, so a shorter one overwrites it fully

    def show(value: int, maximum: int, label: str) -> None:
        total = f"/{maximum}" if maximum else ""
        text = f"{label} {value}{total}"
        click.echo("\r" + text.ljust(shown[0]), nl=False, err=True)
        shown[0] = len(text)

    try:
        yield Progress(on_change=show)
    finally:
        click.echo("", err=True)


# -- workspace access --------------------------------------------------------------------------
def workspace(ctx: click.Context) -> Workspace:
    """The workspace of this invocation, opened on first use and closed when the command ends."""
    root = ctx.find_root()
    ws = root.obj.get("ws")
    if ws is None:
        ws = Workspace.open(root.obj.get("data_dir"))
        root.obj["ws"] = ws
        root.call_on_close(ws.close)
    return ws


def hamlet_id(ws: Workspace, name: str | None) -> str | None:
    return ws.catalog.hamlet(name).id if name else None


def member_id(ws: Workspace, name: str | None) -> str | None:
    return ws.catalog.member(name).id if name else None


# -- the group ---------------------------------------------------------------------------------
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
                      help=N_("Show the version and exit."))
@click.pass_context
def cli(ctx: click.Context, data_dir: str | None) -> None:
    ctx.ensure_object(dict)
    ctx.obj["data_dir"] = data_dir
    if ctx.invoked_subcommand is None:
        opener = ctx.obj.get("open_app")
        if opener is None:
            raise click.UsageError(_("Give a command."), ctx)
        ctx.exit(opener(data_dir))


def main() -> int:
    return cli.main(prog_name="dxkit") or 0


JSON_OPTION = option("--json", "as_json", is_flag=True, help=N_("Print JSON instead of text."))


# -- households --------------------------------------------------------------------------------
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


@households.command("list", help=N_("List households, ordered by code."))
@option("--hamlet", default=None, help=N_("Only this hamlet."))
@JSON_OPTION
@click.pass_context
def households_list(ctx: click.Context, hamlet: str | None, as_json: bool) -> None:
    ws = workspace(ctx)
    found = ws.households.list(hamlet_id(ws, hamlet))
    if as_json:
        emit_json([household_json(h) for h in found])
        return
    for household in found:
        click.echo(household_line(household))
    click.echo(_("{count} households.").format(count=format_number(len(found))), err=True)


@households.command("show", help=N_("Show a household: its people, visits and indicators."))
@click.argument("code_or_id")
@JSON_OPTION
@click.pass_context
def households_show(ctx: click.Context, code_or_id: str, as_json: bool) -> None:
    ws = workspace(ctx)
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
@click.argument("query")
@option("--hamlet", default=None, help=N_("Only this hamlet."))
@option("--limit", type=COUNT, default=50, show_default=True,
        help=N_("Show at most this many."))
@JSON_OPTION
@click.pass_context
def households_search(ctx: click.Context, query: str, hamlet: str | None, limit: int,
                      as_json: bool) -> None:
    ws = workspace(ctx)
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
@click.argument("file")
@option("--dry-run", is_flag=True, help=N_("Only check the file and say what would change."))
@JSON_OPTION
@click.pass_context
def households_import(ctx: click.Context, file: str, dry_run: bool, as_json: bool) -> None:
    from dxkit.core import importing

    path = existing_file(file)
    ws = workspace(ctx)
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
    elif not plan.ok or plan.problems:
        for problem in plan.problems:
            _say_error(problem_line(problem))
    if not plan.ok:
        _say_error(_("Nothing was imported: the file has {count} problem(s). Correct them and "
                     "import again.").format(count=len(import_errors(plan))))
        ctx.exit(1)
    if as_json:
        return
    for name, encoding in plan.encodings.items():
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
    line = _("Line {line}, column {column}: {message}").format(
        line=problem.line, column=problem.column, message=problem.message)
    if getattr(problem, "severity", "error") == "warning":
        line = _("Warning: {message}").format(message=line)
    return line


def import_counts(plan: Any) -> str:
    """The plan's counts (kept on `plan.counts`, or on the plan itself) as one sentence."""
    counts = getattr(plan, "counts", plan)
    return _("{new_households} new households, {updated_households} updated, "
             "{unchanged_households} unchanged; {new_people} new people, {updated_people} "
             "updated, {unchanged_people} unchanged.").format(
        new_households=counts.new_households, updated_households=counts.updated_households,
        unchanged_households=counts.unchanged_households, new_people=counts.new_people,
        updated_people=counts.updated_people, unchanged_people=counts.unchanged_people)


@households.command("export", help=N_("Export households (or people, or visits) to a CSV or "
                                      "Excel file that imports back."))
@option("--format", "fmt", type=OneOf("csv", "xlsx"), default=None,
        help=N_("csv or xlsx (default: from the file name)."))
@option("--out", required=True, type=click.Path(dir_okay=False), help=N_("File to write."))
@option("--what", type=OneOf("households", "people", "visits"), default="households",
        show_default=True, help=N_("households, people (one row per person) or visits."))
@click.pass_context
def households_export(ctx: click.Context, fmt: str | None, out: str, what: str) -> None:
    from dxkit.core import exporting

    writers = {"households": (exporting.export_households, _("Exported {count} households to "
                                                             "{path}.")),
               "people": (exporting.export_people, _("Exported {count} rows of people to "
                                                     "{path}.")),
               "visits": (exporting.export_visits, _("Exported {count} rows of visits to "
                                                     "{path}."))}
    write, done = writers[what]
    path = Path(out).expanduser()
    fmt = fmt or ("xlsx" if path.suffix.lower() == ".xlsx" else "csv")
    ws = workspace(ctx)
    with terminal_progress() as progress:
        count = write(ws, path, fmt, progress=progress)
    click.echo(done.format(count=format_number(count), path=path))


def existing_file(name: str) -> Path:
    path = Path(name).expanduser()
    if not path.is_file():
        raise NotFound(_("There is no file {path}.").format(path=path))
    return path


# -- people ------------------------------------------------------------------------------------
@cli.group(help=N_("People in households: add, list, export their data, delete them."))
def people() -> None:
    pass


@people.command("add", help=N_("Add a person to a household (given by code or id)."))
@click.argument("household")
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


@people.command("list", help=N_("List the people of a household (citizen IDs masked)."))
@click.argument("household")
@JSON_OPTION
@click.pass_context
def people_list(ctx: click.Context, household: str, as_json: bool) -> None:
    ws = workspace(ctx)
    found = ws.people.in_household(ws.households.find(household).id)
    today = ws.today()
    if as_json:
        emit_json([person_json(p, today) for p in found])
        return
    for person in found:
        click.echo(person_line(person, today))


@people.command("export", help=N_("Write everything stored about a person to a JSON file."))
@click.argument("person_id")
@option("--out", required=True, type=click.Path(dir_okay=False), help=N_("File to write."))
@click.pass_context
def people_export(ctx: click.Context, person_id: str, out: str) -> None:
    from dxkit.core import exporting

    ws = workspace(ctx)
    person = ws.people.get(person_id)
    exporting.export_person(ws, person.id, Path(out))
    click.echo(_("Wrote the data of {name} to {path}.").format(name=person.full_name
                                                               or person.id, path=out))


@people.command("delete", help=N_("Erase a person's personal data for good."))
@click.argument("person_id")
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
    ws.people.delete(person.id)
    click.echo(_("Deleted the personal data of {name}.").format(name=person.full_name))


# -- visits ------------------------------------------------------------------------------------
@cli.group(help=N_("Support visits: record, list and void."))
def visits() -> None:
    pass


OUTCOME_WORDS = {"done": "done", "partly": "partly", "partly_done": "partly",
                 "not_done": "not_done", "notdone": "not_done"}


def parse_item(ws: Workspace, household: Household, text: str) -> VisitItem:
    """CODE:OUTCOME[:PERSON_NAME_OR_ID][:REASON]."""
    parts = [p.strip() for p in text.split(":", 3)]
    if len(parts) < 2 or not parts[0]:
        raise DxError(_("Write each --item as CODE:OUTCOME[:PERSON][:REASON], for example "
                        "vneid_level2:done:Nguyễn Văn Đồng; “{item}” is not.").format(item=text))
    code, outcome_text = parts[0], parts[1]
    outcome = OUTCOME_WORDS.get(outcome_text.lower().replace("-", "_").replace(" ", "_"))
    if outcome is None:
        raise DxError(_("The outcome “{outcome}” is not one of done, partly, not_done.").format(
            outcome=outcome_text))
    person = resident(ws, household, parts[2]) if len(parts) > 2 and parts[2] else None
    reason = parts[3] if len(parts) > 3 else ""
    return VisitItem(code, outcome, person.id if person else None, reason)  # type: ignore[arg-type]


def resident(ws: Workspace, household: Household, name_or_id: str) -> Person:
    residents = ws.people.in_household(household.id)
    wanted = fold(name_or_id)
    for person in residents:
        if person.id == name_or_id or fold(person.full_name) == wanted:
            return person
    names = ", ".join(p.full_name for p in residents) or _("none yet")
    raise NotFound(_("Nobody called “{name}” lives in household {code}. People there: "
                     "{names}.").format(name=name_or_id, code=household.code, names=names))


class VisitWriter:
    """Turns visits into JSON or a text line, looking up codes and names once per command."""

    def __init__(self, ws: Workspace):
        self.ws = ws
        self._codes: dict[str, str] | None = None
        self._members = {m.id: m.name for m in ws.catalog.members(include_inactive=True)}
        self._people: dict[str, str] = {}

    def household_code(self, household_id: str) -> str:
        if self._codes is None:
            self._codes = {h.id: h.code for h in self.ws.households.list()}
        return self._codes.get(household_id) or self.ws.households.get(household_id).code

    def member_names(self, visit: Visit) -> list[str]:
        return [self._members.get(m, m) for m in visit.member_ids]

    def person_name(self, person_id: str) -> str:
        if person_id not in self._people:
            self._people[person_id] = self.ws.people.get(person_id).full_name or "—"
        return self._people[person_id]

    def as_json(self, visit: Visit) -> dict[str, Any]:
        data = visit.to_dict()
        data["household_code"] = self.household_code(visit.household_id)
        data["members"] = self.member_names(visit)
        return data

    def line(self, visit: Visit, *, show_household: bool = True) -> str:
        parts = [format_datetime(visit.visited_at)]
        if show_household:
            parts.append(self.household_code(visit.household_id))
        parts.append(", ".join(self.member_names(visit)))
        parts.append("; ".join(self.item_label(item) for item in visit.items))
        if visit.follow_up_on:
            parts.append(_("follow up {date}").format(date=format_date(visit.follow_up_on)))
        if visit.kind == "void":
            parts.append(_("[voids an earlier visit: {reason}]").format(reason=visit.reason))
        elif visit.kind == "amend":
            parts.append(_("[correction: {reason}]").format(reason=visit.reason))
        if not visit.effective and visit.kind != "void":
            parts.append(_("[replaced]"))
        parts.append(visit.id)
        return "  ".join(p for p in parts if p)

    def item_label(self, item: VisitItem) -> str:
        label = f"{item.support_item_code}: {outcome_label(item.outcome)}"
        if item.person_id:
            label += f" ({self.person_name(item.person_id)})"
        if item.reason:
            label += f" – {item.reason}"
        return label


@visits.command("add", help=N_("Record a support visit to a household."))
@option("--household", required=True, help=N_("Household code or id."))
@option("--member", "members", multiple=True, required=True,
        help=N_("Team member who made the visit (repeat for several)."))
@option("--item", "items", multiple=True, required=True,
        help=N_("Support given: CODE:OUTCOME[:PERSON][:REASON]; outcome done, partly or "
                "not_done (repeat for several)."))
@option("--at", "visited_at", type=DATETIME, default=None,
        help=N_("When the visit happened (default: now)."))
@option("--notes", default="", help=N_("Notes."))
@option("--follow-up", "follow_up", type=DATE, default=None,
        help=N_("Date to come back."))
@JSON_OPTION
@click.pass_context
def visits_add(ctx: click.Context, household: str, members: tuple[str, ...],
               items: tuple[str, ...], visited_at: dt.datetime | None, notes: str,
               follow_up: dt.date | None, as_json: bool) -> None:
    ws = workspace(ctx)
    home = ws.households.find(household)
    member_ids = [ws.catalog.member(name).id for name in members]
    parsed = [parse_item(ws, home, text) for text in items]
    visit = ws.visits.add(home.id, parsed, visited_at=visited_at, member_ids=member_ids,
                          notes=notes, follow_up_on=follow_up).value
    if as_json:
        emit_json(VisitWriter(ws).as_json(visit))
    else:
        click.echo(_("Recorded the visit to {code} at {time} (id {id}).").format(
            code=home.code, time=format_datetime(visit.visited_at), id=visit.id))


@visits.command("list", help=N_("List visits, newest first (voided and replaced ones left out)."))
@option("--household", default=None, help=N_("Only this household (code or id)."))
@option("--hamlet", default=None, help=N_("Only this hamlet."))
@option("--member", default=None, help=N_("Only visits by this team member."))
@option("--since", type=DATE, default=None, help=N_("From this day."))
@option("--until", type=DATE, default=None, help=N_("Up to and including this day."))
@JSON_OPTION
@click.pass_context
def visits_list(ctx: click.Context, household: str | None, hamlet: str | None,
                member: str | None, since: dt.date | None, until: dt.date | None,
                as_json: bool) -> None:
    ws = workspace(ctx)
    found = find_visits(ws, household, hamlet_id(ws, hamlet), member_id(ws, member), since,
                        until)
    writer = VisitWriter(ws)
    if as_json:
        emit_json([writer.as_json(v) for v in found])
        return
    for visit in found:
        click.echo(writer.line(visit))
    click.echo(_("{count} visits.").format(count=format_number(len(found))), err=True)


def find_visits(ws: Workspace, household: str | None, hamlet: str | None, member: str | None,
                since: dt.date | None, until: dt.date | None) -> list[Visit]:
    if household is None:
        return ws.visits.list(since=since, until=until, hamlet_id=hamlet, member_id=member)
    home = ws.households.find(household)
    return [v for v in ws.visits.history(home.id)
            if v.effective and (hamlet is None or home.hamlet_id == hamlet)
            and (member is None or member in v.member_ids)
            and (since is None or v.visited_at.date() >= since)
            and (until is None or v.visited_at.date() <= until)]


@visits.command("void", help=N_("Void a visit recorded by mistake (it stays in the history)."))
@click.argument("visit_id")
@option("--reason", required=True, help=N_("Why the visit is voided."))
@JSON_OPTION
@click.pass_context
def visits_void(ctx: click.Context, visit_id: str, reason: str, as_json: bool) -> None:
    ws = workspace(ctx)
    void = ws.visits.void(visit_id, reason=reason).value
    if as_json:
        emit_json(VisitWriter(ws).as_json(void))
    else:
        click.echo(_("Voided visit {id}.").format(id=visit_id))


# -- follow-ups --------------------------------------------------------------------------------
@cli.command("followups", help=N_("Follow-ups due soon or overdue, by hamlet."))
@option("--hamlet", default=None, help=N_("Only this hamlet."))
@option("--member", default=None, help=N_("Only visits by this team member."))
@option("--within", type=COUNT, default=7, show_default=True,
        help=N_("Include follow-ups due within this many days."))
@JSON_OPTION
@click.pass_context
def followups(ctx: click.Context, hamlet: str | None, member: str | None, within: int,
              as_json: bool) -> None:
    ws = workspace(ctx)
    found = ws.visits.follow_ups(within_days=within, hamlet_id=hamlet_id(ws, hamlet),
                                 member_id=member_id(ws, member))
    if as_json:
        emit_json([f.to_dict() for f in found])
        return
    if not found:
        click.echo(_("No follow-ups due in the next {days} days.").format(days=within))
        return
    by_hamlet: dict[str, list[FollowUp]] = {}
    for follow_up in found:
        by_hamlet.setdefault(follow_up.hamlet, []).append(follow_up)
    for name in sorted(by_hamlet, key=fold):
        click.echo(name)
        for follow_up in by_hamlet[name]:
            click.echo("  " + "  ".join((when_due(follow_up), format_date(follow_up.due_on),
                                         follow_up.household_code, follow_up.head_name)))


def when_due(follow_up: FollowUp) -> str:
    if follow_up.overdue:
        return _("OVERDUE by {days} days").format(days=follow_up.overdue_days)
    if follow_up.overdue_days == 0:
        return _("due today")
    return _("due in {days} days").format(days=-follow_up.overdue_days)


# -- hamlets, members, team --------------------------------------------------------------------
@cli.group(help=N_("The team's hamlets (ấp, khóm, thôn, tổ dân phố)."))
def hamlets() -> None:
    pass


@hamlets.command("list", help=N_("List hamlets with their number of households."))
@JSON_OPTION
@click.pass_context
def hamlets_list(ctx: click.Context, as_json: bool) -> None:
    ws = workspace(ctx)
    rows = [{"id": h.id, "name": h.name, "households": len(ws.households.local_ids(h.id))}
            for h in ws.catalog.hamlets()]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        click.echo(_("{name}: {count} households").format(name=row["name"],
                                                          count=row["households"]))


@hamlets.command("add", help=N_("Add a hamlet."))
@click.argument("name")
@click.pass_context
def hamlets_add(ctx: click.Context, name: str) -> None:
    hamlet = workspace(ctx).catalog.add_hamlet(name).value
    click.echo(_("Added hamlet {name}.").format(name=hamlet.name))


@hamlets.command("rename", help=N_("Rename a hamlet."))
@click.argument("old")
@click.argument("new")
@click.pass_context
def hamlets_rename(ctx: click.Context, old: str, new: str) -> None:
    ws = workspace(ctx)
    hamlet = ws.catalog.hamlet(old)
    renamed = ws.catalog.rename_hamlet(hamlet.id, new).value
    click.echo(_("Renamed {old} to {new}.").format(old=hamlet.name, new=renamed.name))


@cli.group(help=N_("Team members who make visits."))
def members() -> None:
    pass


@members.command("list", help=N_("List team members."))
@JSON_OPTION
@click.pass_context
def members_list(ctx: click.Context, as_json: bool) -> None:
    found = workspace(ctx).catalog.members()
    if as_json:
        emit_json([{"id": m.id, "name": m.name, "active": m.active} for m in found])
        return
    for member in found:
        click.echo(member.name)


@members.command("add", help=N_("Add a team member."))
@click.argument("name")
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
    ws = workspace(ctx)
    province, commune = ws.team_place()
    info = {"province": province, "commune": commune,
            "hamlets": [h.name for h in ws.catalog.hamlets()],
            "members": [m.name for m in ws.catalog.members()],
            "households": ws.households.count(), "people": ws.people.count(),
            "pending_changes": ws.pending_changes(), "path": str(ws.path)}
    if as_json:
        emit_json(info)
        return
    if province:
        click.echo(_("Team of {commune}, {province}.").format(commune=commune,
                                                              province=province))
    else:
        click.echo(_("The team's place is not set yet: use “dxkit team set”."))
    click.echo(_("Hamlets: {names}").format(names=", ".join(info["hamlets"]) or "—"))
    click.echo(_("Team members: {names}").format(names=", ".join(info["members"]) or "—"))
    click.echo(_("{households} households, {people} people, {pending} changes waiting to "
                 "sync.").format(households=format_number(info["households"]),
                                 people=format_number(info["people"]),
                                 pending=format_number(info["pending_changes"])))


# -- indicators and support items --------------------------------------------------------------
@cli.command("indicators", help=N_("Digital indicators: people reached out of people counted."))
@option("--hamlet", default=None, help=N_("Only this hamlet."))
@JSON_OPTION
@click.pass_context
def indicators(ctx: click.Context, hamlet: str | None, as_json: bool) -> None:
    ws = workspace(ctx)
    rows = ws.indicators.rollup(hamlet_id(ws, hamlet))
    if as_json:
        emit_json([{"code": r.code, "name": r.name, "reached": r.reached,
                    "population": r.population, "share": round(r.share, 4)} for r in rows])
        return
    for row in rows:
        click.echo(_("{name}: {reached}/{population} ({share}%)").format(
            name=row.name, reached=format_number(row.reached),
            population=format_number(row.population),
            share=format_number(round(row.share * 100, 1))))


@cli.command("support-items", help=N_("The kinds of support a visit can record."))
@JSON_OPTION
@click.pass_context
def support_items(ctx: click.Context, as_json: bool) -> None:
    found = workspace(ctx).catalog.support_items()
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
@click.argument("code")
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
@click.argument("code")
@option("--vi", "name_vi", required=True, help=N_("Name in Vietnamese."))
@option("--en", "name_en", required=True, help=N_("Name in English."))
@option("--indicator", default=None,
        help=N_("Indicator a 'done' outcome establishes (optional)."))
@click.pass_context
def catalog_add_item(ctx: click.Context, code: str, name_vi: str, name_en: str,
                     indicator: str | None) -> None:
    added = workspace(ctx).catalog.add_support_item(code, name_vi, name_en, indicator).value
    click.echo(_("Added support item {code}: {name}").format(code=added.code, name=added.name))


@catalog_group.command("retire", help=N_("Stop offering an indicator or support item (history "
                                         "keeps it)."))
@click.argument("code")
@option("--indicator", "is_indicator", is_flag=True, help=N_("CODE is an indicator."))
@option("--restore", is_flag=True, help=N_("Offer it again."))
@click.pass_context
def catalog_retire(ctx: click.Context, code: str, is_indicator: bool, restore: bool) -> None:
    table = "indicators" if is_indicator else "support_items"
    workspace(ctx).catalog.set_active(table, code, restore)
    message = _("{code} is offered again.") if restore else _("{code} is retired.")
    click.echo(message.format(code=code))


# -- demo --------------------------------------------------------------------------------------
@cli.command("demo", help=N_("Fill the workspace with made-up demo data (never over real data)."))
@option("--seed", type=COUNT, default=1, show_default=True,
        help=N_("Random seed; the same seed gives the same data."))
@option("--households", "household_count", type=COUNT, default=600, show_default=True,
        help=N_("How many households to make."))
@option("--if-empty", is_flag=True, help=N_("Do nothing if the workspace already has data."))
@click.pass_context
def demo(ctx: click.Context, seed: int, household_count: int, if_empty: bool) -> None:
    from dxkit.core import demo as demo_data

    data_dir = ctx.find_root().obj.get("data_dir")
    path = Path(data_dir).expanduser() if data_dir else default_path()
    with terminal_progress() as progress:
        summary = demo_data.fill(path, seed=seed, households=household_count,
                                 if_empty=if_empty, progress=progress)
    if summary is None:
        click.echo(_("The workspace in {path} already has data; it was left as it is.").format(
            path=path))
        return
    click.echo(_("Demo workspace ready in {path}: {households} households, {people} people, "
                 "{visits} visits, {overdue} overdue follow-ups.").format(
        path=path, households=format_number(summary.households),
        people=format_number(summary.people), visits=format_number(summary.visits),
        overdue=format_number(summary.overdue_follow_ups)))

