"""`dxkit visits` (record, list, void) and `dxkit followups`."""

from __future__ import annotations

import datetime as dt

import click

from dxkit.cli.common import (
    COUNT,
    DATE,
    DATETIME,
    JSON_OPTION,
    N_,
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
from dxkit.core.i18n import _, format_date, format_datetime, format_number
from dxkit.core.text import fold
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
@cli.command("followups", help=N_("Follow-ups due soon or overdue, by hamlet."))
@option("--hamlet", default=None, help=N_("Only this hamlet."))
@option("--member", default=None, help=N_("Only visits by this team member."))
@option("--within", type=COUNT, default=7, show_default=True,
        help=N_("Include follow-ups due within this many days."))
@JSON_OPTION
@click.pass_context
def followups(ctx: click.Context, hamlet: str | None, member: str | None, within: int,
              as_json: bool) -> None:
    ws = reader(ctx)
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

