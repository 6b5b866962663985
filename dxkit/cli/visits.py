"""`dxkit visits` (record, list, void) and `dxkit followups` (list, close, reopen, print)."""

from __future__ import annotations

import datetime as dt

import click

from dxkit.cli.common import (
    COUNT,
    DATE,
    DATETIME,
    JSON_OPTION,
    N_,
    OneOf,
    VisitWriter,
    argument,
    emit_json,
    hamlet_id,
    member_id,
    option,
    reader,
    workspace,
)
from dxkit.cli.root import cli
from dxkit.core.errors import DxError, NotFound
from dxkit.core.i18n import _, counted, format_date, format_datetime
from dxkit.core.phones import spaced_phone
from dxkit.core.text import fold
from dxkit.households.followups import REASONS
from dxkit.households.roster import Household, Person
from dxkit.households.visits import FollowUp, Outcome, Visit, VisitItem
from dxkit.workspace import Workspace


@cli.group(help=N_("Support visits: record, list and void."))
def visits() -> None:
    pass


OUTCOME_WORDS: dict[str, Outcome] = {"done": "done", "partly": "partly", "partly_done": "partly",
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
    return VisitItem(code, outcome, person.id if person else None, reason)


def resident(ws: Workspace, household: Household, name_or_id: str) -> Person:
    residents = ws.people.in_household(household.id)
    wanted = fold(name_or_id)
    for person in residents:
        if person.id == name_or_id or fold(person.full_name) == wanted:
            return person
    names = ", ".join(p.full_name for p in residents) or _("none yet")
    raise NotFound(_("Nobody called “{name}” lives in household {code}. People there: "
                     "{names}.").format(name=name_or_id, code=household.code, names=names))


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
    ws = reader(ctx)
    found = find_visits(ws, household, hamlet_id(ws, hamlet), member_id(ws, member), since,
                        until)
    writer = VisitWriter(ws)
    if as_json:
        emit_json([writer.as_json(v) for v in found])
        return
    for visit in found:
        click.echo(writer.line(visit))
    click.echo(counted(len(found), "{count} visit.", "{count} visits."), err=True)


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
@argument("visit_id")
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
# `dxkit followups` lists (as before); its subcommands work the list: close one without a
# visit, reopen it, print the day's call list.
@cli.group("followups", invoke_without_command=True,
           help=N_("Follow-ups due soon or overdue, by hamlet; close, reopen or print them."))
@option("--hamlet", default=None, help=N_("Only this hamlet."))
@option("--member", default=None, help=N_("Only visits by this team member."))
@option("--within", type=COUNT, default=7, show_default=True,
        help=N_("Include follow-ups due within this many days."))
@option("--closed", is_flag=True,
        help=N_("Also list the follow-ups closed without a visit (to reopen one)."))
@JSON_OPTION
@click.pass_context
def followups(ctx: click.Context, hamlet: str | None, member: str | None, within: int,
              closed: bool, as_json: bool) -> None:
    if ctx.invoked_subcommand is not None:
        return
    ws = reader(ctx)
    found = ws.visits.follow_ups(within_days=within, hamlet_id=hamlet_id(ws, hamlet),
                                 member_id=member_id(ws, member), include_closed=closed)
    if as_json:
        emit_json([f.to_dict() for f in found])
        return
    if not found:
        click.echo(_("No follow-ups due within {days}.").format(
            days=counted(within, "{count} day", "{count} days")))
        return
    by_hamlet: dict[str, list[FollowUp]] = {}
    for follow_up in found:
        by_hamlet.setdefault(follow_up.hamlet, []).append(follow_up)
    for name in sorted(by_hamlet, key=fold):
        click.echo(name)
        for follow_up in by_hamlet[name]:
            click.echo("  " + follow_up_line(follow_up))


def follow_up_line(follow_up: FollowUp) -> str:
    """When, the household, its phone in full (calling is what the list is for: see
    Visits.follow_ups), what is pending, and how it was closed if it was."""
    state = when_due(follow_up) if follow_up.closed is None else _("[closed: {reason}]").format(
        reason=follow_up.closed.reason_text)
    parts = [state, format_date(follow_up.due_on), follow_up.household_code,
             follow_up.head_name, spaced_phone(follow_up.phone)]
    if follow_up.pending:
        parts.append(_("to do: {items}").format(items="; ".join(follow_up.pending)))
    parts.append(follow_up.visit_id)
    return "  ".join(p for p in parts if p)


def when_due(follow_up: FollowUp) -> str:
    if follow_up.overdue:
        return _("OVERDUE by {days}").format(
            days=counted(follow_up.overdue_days, "{count} day", "{count} days"))
    if follow_up.overdue_days == 0:
        return _("due today")
    return _("due in {days}").format(
        days=counted(-follow_up.overdue_days, "{count} day", "{count} days"))


def standing_follow_up(ws: Workspace, given: str) -> FollowUp:
    """FOLLOW_UP is the visit id the list shows, or a household's code or id."""
    try:
        ws.visits.get(given)
    except NotFound:
        return ws.visits.follow_up_of(ws.households.find(given).id)
    return ws.visits.follow_up(given)


REASON_CHOICE = OneOf(*REASONS)


@followups.command("close", help=N_(
    "Close a follow-up without a visit (it leaves the due and overdue lists). FOLLOW_UP: the "
    "visit id the list shows, or the household's code."))
@argument("follow_up")
@option("--reason", type=REASON_CHOICE, required=True,
        help=N_("Why: called_done (called, it is done), moved_away (the household moved "
                "away), not_needed (no longer needed) or other (say why in --note)."))
@option("--note", default="", help=N_("A short note (needed with --reason other)."))
@option("--member", default=None, help=N_("The team member closing it (default: the one "
                                          "chosen in Settings)."))
@JSON_OPTION
@click.pass_context
def followups_close(ctx: click.Context, follow_up: str, reason: str, note: str,
                    member: str | None, as_json: bool) -> None:
    ws = workspace(ctx)
    standing = standing_follow_up(ws, follow_up)
    ws.visits.close_follow_up(standing.visit_id, reason, note=note,
                              member_id=member_id(ws, member))
    closed = ws.visits.follow_up(standing.visit_id)
    if as_json:
        emit_json(closed.to_dict())
    else:
        assert closed.closed is not None
        click.echo(_("Closed the follow-up of {code} due on {date}: {reason}.").format(
            code=closed.household_code, date=format_date(closed.due_on),
            reason=closed.closed.reason_text))


@followups.command("reopen", help=N_(
    "Reopen a follow-up closed without a visit: it is due again. FOLLOW_UP: the visit id, "
    "or the household's code."))
@argument("follow_up")
@option("--member", default=None, help=N_("The team member reopening it (default: the one "
                                          "chosen in Settings)."))
@JSON_OPTION
@click.pass_context
def followups_reopen(ctx: click.Context, follow_up: str, member: str | None,
                     as_json: bool) -> None:
    ws = workspace(ctx)
    standing = standing_follow_up(ws, follow_up)
    ws.visits.reopen_follow_up(standing.visit_id, member_id=member_id(ws, member))
    reopened = ws.visits.follow_up(standing.visit_id)
    if as_json:
        emit_json(reopened.to_dict())
    else:
        click.echo(_("Reopened the follow-up of {code}: {due}.").format(
            code=reopened.household_code, due=when_due(reopened)))


@followups.command("print", help=N_(
    "The day's call list as a PDF (A4): follow-ups due that day or overdue, by hamlet, with "
    "phone, address and what is still to do."))
@option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True),
        help=N_("The PDF file to write."))
@option("--date", "day", type=DATE, default=None, help=N_("The day of the list (default: "
                                                          "today)."))
@option("--hamlet", default=None, help=N_("Only this hamlet."))
@option("--member", default=None, help=N_("Only visits by this team member."))
@JSON_OPTION
@click.pass_context
def followups_print(ctx: click.Context, out: str, day: dt.date | None, hamlet: str | None,
                    member: str | None, as_json: bool) -> None:
    from dxkit.households.call_list import write_call_list  # reportlab, only when printing

    ws = reader(ctx)
    written = write_call_list(ws, out, day=day, hamlet_id=hamlet_id(ws, hamlet),
                              member_id=member_id(ws, member))
    if as_json:
        emit_json({"path": str(written.path), "households": written.households,
                   "pages": written.pages})
    else:
        click.echo(_("Wrote the call list of {households} ({pages}) to {path}.").format(
            households=counted(written.households, "{count} household", "{count} households"),
            pages=counted(written.pages, "{count} page", "{count} pages"), path=written.path))
