"""Shared CLI plumbing: translated click classes, option types, error sentences, output.

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
from click.decorators import FC

from dxkit.core.errors import DxError
from dxkit.core.i18n import _, format_date, format_datetime, format_number, gettext, ngettext
from dxkit.core.phones import mask_phone
from dxkit.core.progress import Progress
from dxkit.households.cccd import sex_label
from dxkit.households.roster import Household, Person
from dxkit.households.visits import Visit, VisitItem, outcome_label
from dxkit.workspace import Workspace, default_path


def N_(message: str) -> str:
    """Mark a help text for extraction; it is translated when displayed."""
    return message


# -- translated click plumbing -----------------------------------------------------------------
def route_click_messages() -> None:
    """Click's own texts ("Usage:", "Options", "[default: 50]", its error sentences) are looked
    up through dxkit's catalogs: click calls the module-level `_`/`ngettext` it imported from
    gettext, so pointing those names at ours translates its whole frame."""
    for module in (click.core, click.formatting, click.decorators, click.exceptions,
                   click.types, click.parser, click.termui, click.utils):
        if hasattr(module, "_"):
            module._ = gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]


class DxOption(click.Option):
    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        with _translated(self, "help"):
            return super().get_help_record(ctx)

    def make_metavar(self, ctx: click.Context) -> str:
        return _(super().make_metavar(ctx))  # TEXT, DIRECTORY, PATH_OR_URL… in the language


class DxArgument(click.Argument):
    def make_metavar(self, ctx: click.Context) -> str:
        return _(super().make_metavar(ctx))


class DxCommand(click.Command):
    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        return [_(piece) for piece in super().collect_usage_pieces(ctx)]  # [OPTIONS], [COMMAND]…

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
            say_error(usage_sentence(exc))
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except (click.Abort, EOFError, KeyboardInterrupt):
            say_error(_("Stopped; nothing more was done."))
            sys.exit(1)
        except DxError as exc:
            say_error(exc.message)
            sys.exit(1)
        except OSError as exc:
            if exc.errno == errno.EPIPE:  # output piped into `head`: not an error
                sys.exit(0)
            say_error(_("Could not use the file {path}: {reason}.").format(
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


def option(*names: str, **kwargs: Any) -> Callable[[FC], FC]:
    return click.option(*names, cls=DxOption, **kwargs)


def argument(*names: str, **kwargs: Any) -> Callable[[FC], FC]:
    return click.argument(*names, cls=DxArgument, **kwargs)


def say_error(message: str) -> None:
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


class DateType(click.ParamType[dt.date]):
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(_("write a date as YYYY-MM-DD, for example 2026-11-20."), param, ctx)


class DateTimeType(click.ParamType[dt.datetime]):
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


class CountType(click.ParamType[int]):
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


class OneOf(click.ParamType[str]):
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
JSON_OPTION = option("--json", "as_json", is_flag=True, help=N_("Print JSON instead of text."))


# -- output helpers ----------------------------------------------------------------------------
def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, set | tuple):
        return list(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def given_options(**values: Any) -> dict[str, Any]:
    """The options an edit command was given (None: not given), refusing an edit of nothing."""
    given = {name: value for name, value in values.items() if value is not None}
    if not given:
        raise DxError(_("Nothing to change: give at least one of the options (see --help)."))
    return given


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
    if birth and age is not None:
        parts.append(ngettext("born {birth} ({age} year old)", "born {birth} ({age} years old)",
                              age).format(birth=birth, age=format_number(age)))
    if person.relationship:
        parts.append(person.relationship)
    if person.cccd:
        parts.append(_("ID {cccd}").format(cccd=person.masked_cccd))
    if person.phone:
        parts.append(_("phone {phone}").format(phone=person.masked_phone))
    parts.append(_("consented") if person.consent else _("no consent"))
    return "  ".join(p for p in parts if p)


class VisitWriter:
    """Turns visits into JSON or a text line, looking up codes and names once per command."""

    def __init__(self, ws: Workspace):
        self.ws = ws
        self._codes: dict[str, str] | None = None
        self._members = {m.id: m.name for m in ws.catalog.members(include_inactive=True)}
        self._items = {i.code: i.name for i in ws.catalog.support_items(include_retired=True)}
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
        # The item's name, as on screen; a code no catalogue knows is shown as it is.
        name = self._items.get(item.support_item_code, item.support_item_code)
        label = f"{name}: {outcome_label(item.outcome)}"
        if item.person_id:
            label += f" ({self.person_name(item.person_id)})"
        if item.reason:
            label += f" – {item.reason}"
        return label


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
# A writer command waits this long for another writer (the app, a running command) to let
# the workspace go before it gives up with a sentence: long enough for a quick command that
# overlaps, short enough that a script does not hang while the app is open.
LOCK_WAIT_SECONDS = 3.0


def workspace(ctx: click.Context, *, readonly: bool = False) -> Workspace:
    """The workspace of this invocation, opened on first use and closed when the command ends.

    Commands that change nothing pass `readonly`: they run beside the app or another command
    that writes, and any write they tried would fail. Others take the workspace's write lock."""
    root = ctx.find_root()
    ws: Workspace | None = root.obj.get("ws")
    if ws is None:
        ws = Workspace.open(root.obj.get("data_dir"), readonly=readonly,
                            wait=LOCK_WAIT_SECONDS)
        root.obj["ws"] = ws
        root.call_on_close(ws.close)
    return ws


def workspace_folder(ctx: click.Context) -> Path:
    """The workspace folder of this invocation, for commands that must not open it (its
    database may be what is broken)."""
    data_dir = ctx.find_root().obj.get("data_dir")
    return Path(data_dir).expanduser() if data_dir else default_path()


def reader(ctx: click.Context) -> Workspace:
    """The workspace, opened for reading only (see `workspace`)."""
    return workspace(ctx, readonly=True)


def hamlet_id(ws: Workspace, name: str | None) -> str | None:
    return ws.catalog.hamlet(name).id if name else None


def member_id(ws: Workspace, name: str | None) -> str | None:
    return ws.catalog.member(name).id if name else None
