"""`dxkit enroll` and `dxkit sync`: join a hub team, exchange changes, show the sync state."""

from __future__ import annotations

import click

from dxkit.cli.common import (
    JSON_OPTION,
    N_,
    argument,
    emit_json,
    option,
    reader,
    terminal_progress,
    workspace,
)
from dxkit.cli.root import cli
from dxkit.core.clock_repair import ClockRepair
from dxkit.core.i18n import _, counted, format_number, ngettext
from dxkit.sync import bundle, clocks, engine, repair


@cli.command("enroll", help=N_("Join a hub team with a one-time enrollment code."))
@option("--server", required=True, help=N_("The hub's address, e.g. https://hub.example.vn."))
@option("--code", required=True, help=N_("The one-time code from the hub administrator."))
@option("--name", default=None, help=N_("A name for this computer on the hub (default: its "
                                         "host name)."))
@option("--allow-insecure-http", is_flag=True, help=N_(
    "Allow a plain http:// hub address outside the local network (the token then travels "
    "unencrypted); remembered for this workspace's later syncs."))
@JSON_OPTION
@click.pass_context
def enroll(ctx: click.Context, server: str, code: str, name: str | None,
           allow_insecure_http: bool, as_json: bool) -> None:
    ws = workspace(ctx)
    joined = engine.enroll(ws, server, code, device_name=name,
                           allow_insecure_http=allow_insecure_http)
    if as_json:
        emit_json(joined.to_dict())
        return
    if joined.team_kind == "commune":
        click.echo(_("Enrolled as device {device} in the commune team of {commune} on {server}. "
                     "Run “dxkit sync” to exchange data.").format(
                         device=joined.device_id, server=joined.server_url,
                         commune=ws.team_place()[1] or joined.commune_code))
    else:
        click.echo(_("Enrolled as device {device} in the team of {hamlet} on {server}. Run "
                     "“dxkit sync” to exchange data.").format(
                         device=joined.device_id, hamlet=joined.hamlet or joined.team_id,
                         server=joined.server_url))
    hamlets = [hamlet.name for hamlet in ws.catalog.hamlets()]
    if hamlets:
        click.echo(_("Its hamlets: {names}.").format(names=", ".join(hamlets)))


@cli.group("sync", invoke_without_command=True,
           help=N_("Send this workspace's changes to the hub and receive the team's."))
@option("--allow-insecure-http", is_flag=True, help=N_(
    "Allow this workspace's hub at a plain http:// address outside the local network (the "
    "token then travels unencrypted); remembered for later syncs."))
@JSON_OPTION
@click.pass_context
def sync(ctx: click.Context, allow_insecure_http: bool, as_json: bool) -> None:
    if allow_insecure_http:
        engine.allow_insecure_http(workspace(ctx))
    if ctx.invoked_subcommand is not None:
        return
    ws = workspace(ctx)
    with terminal_progress() as progress:
        report = engine.sync(ws, progress=progress)
    if as_json:
        emit_json(report.to_dict())
        return
    for line in report_lines(report):
        click.echo(line)


def records(count: int) -> str:
    return counted(count, "{count} record", "{count} records")


def size_in_bytes(count: int) -> str:
    return counted(count, "{count} byte", "{count} bytes")


def merged_line(conflicts: int) -> str:
    return counted(conflicts,
                   "Merged: {count} same-field edit from two devices, listed for review.",
                   "Merged: {count} same-field edits from two devices, listed for review.")


def report_lines(report: engine.SyncReport) -> list[str]:
    return [
        counted(report.pushed, "Sent: {count} record accepted by the hub.",
                "Sent: {count} records accepted by the hub."),
        ngettext("Received: {count} record ({changed} new or changed here).",
                 "Received: {count} records, {changed} of them new or changed here.",
                 report.received).format(count=format_number(report.received),
                                         changed=format_number(report.pulled)),
        merged_line(report.conflicts),
        _("Held back: {quarantined} quarantined with a reason; {waiting} still waiting to be "
          "sent.").format(quarantined=records(report.quarantined),
                          waiting=counted(report.held_back, "{count} change", "{count} changes")),
        _("{requests}, {sent} sent, {received} received.").format(
            requests=counted(report.requests, "{count} request", "{count} requests"),
            sent=size_in_bytes(report.bytes_sent), received=size_in_bytes(report.bytes_received)),
        *engine.report_notes(report),
    ]


@sync.command("status", help=N_("Show the hub, the team and what waits to be synced."))
@JSON_OPTION
@click.pass_context
def sync_status(ctx: click.Context, as_json: bool) -> None:
    state = engine.status(reader(ctx))
    if as_json:
        emit_json(state)
        return
    if not state["enrolled"]:
        click.echo(_("Not enrolled in a hub team yet (dxkit enroll --server ADDRESS "
                     "--code CODE)."))
    else:
        team = state["team"]
        click.echo(_("Hub: {server}").format(server=state["server"]))
        if state["allow_insecure_http"] and str(state["server"]).startswith("http://"):
            click.echo(_("Plain http to this hub is allowed: the device token travels "
                         "unencrypted."))
        click.echo(_("Device: {device} ({name})").format(device=state["device_id"],
                                                         name=state["device_name"] or "—"))
        click.echo(_("Team: {hamlet} (province {province}, commune {commune})").format(
            hamlet=team["hamlet"] if team["kind"] != "commune" else _("the whole commune"),
            province=team["province_code"], commune=team["commune_code"]))
        if state["revoked"]:
            click.echo(_("The hub refused this device at the last attempt; enroll again "
                         "with a new code."))
    click.echo(_("Changes waiting to be sent: {count}").format(count=state["pending"]))
    click.echo(_("Last successful sync: {when}").format(
        when=state["last_sync_at"] or _("never")))
    click.echo(_("Conflicts to review: {conflicts}; quarantined records: {quarantined}").format(
        conflicts=state["open_conflicts"], quarantined=state["quarantined"]))


@sync.command("check", help=N_(
    "Sync, then compare every table with the hub by digest and mend what differs by merging "
    "both ways (nothing is deleted on either side)."))
@option("--no-repair", is_flag=True, help=N_("Only report what differs."))
@JSON_OPTION
@click.pass_context
def sync_check(ctx: click.Context, no_repair: bool, as_json: bool) -> None:
    ws = workspace(ctx)
    with terminal_progress() as progress:
        engine.sync(ws, progress=progress)  # digests compare settled states
        report = repair.check(ws, repair=not no_repair, progress=progress)
        if report.requeued:
            engine.sync(ws, progress=progress)  # sends the rows queued again
    if as_json:
        emit_json(report.to_dict())
    elif report.in_step:
        click.echo(counted(report.tables_checked,
                           "This workspace and the hub hold the same records ({count} table "
                           "compared).",
                           "This workspace and the hub hold the same records ({count} tables "
                           "compared)."))
    else:
        click.echo(_("Differences in: {tables}.").format(
            tables=", ".join(report.tables_differing)))
        if not no_repair:
            click.echo(_("Repaired: {fetched} taken from the hub and merged, {requeued} sent "
                         "to it again.").format(fetched=records(report.fetched),
                                                requeued=records(report.requeued)))
    if no_repair and not report.in_step:
        ctx.exit(1)


@sync.command("export-bundle", help=N_("Write every record of this workspace to a bundle file "
                                        "to carry to another laptop without any network."))
@argument("file", type=click.Path(dir_okay=False))
@JSON_OPTION
@click.pass_context
def sync_export_bundle(ctx: click.Context, file: str, as_json: bool) -> None:
    with terminal_progress() as progress:
        report = bundle.export_bundle(reader(ctx), file, progress=progress)
    if as_json:
        emit_json(report.to_dict())
        return
    click.echo(_("Wrote {records} to {path} ({size}).").format(
        records=records(report.records), path=report.path, size=size_in_bytes(report.bytes)))


@sync.command("import-bundle", help=N_("Check a bundle file from another laptop and merge its "
                                        "records into this workspace."))
@argument("file", type=click.Path(dir_okay=False))
@JSON_OPTION
@click.pass_context
def sync_import_bundle(ctx: click.Context, file: str, as_json: bool) -> None:
    with terminal_progress() as progress:
        report = bundle.import_bundle(workspace(ctx), file, progress=progress)
    if as_json:
        emit_json(report.to_dict())
        return
    n = format_number
    click.echo(ngettext("Read {count} record from the bundle: {applied} new or changed here, "
                        "{duplicate} already here.",
                        "Read {count} records from the bundle: {applied} new or changed here, "
                        "{duplicate} already here.", report.received).format(
                            count=n(report.received), applied=n(report.applied),
                            duplicate=n(report.duplicate)))
    click.echo(merged_line(report.conflicts))
    click.echo(counted(report.quarantined, "Quarantined: {count} record held back with a reason.",
                       "Quarantined: {count} records held back with a reason."))


@sync.command("repair-clock", help=N_(
    "Mend this workspace's clocks when they cannot be believed (far in the future, or broken "
    "by an edit pushed with such a clock): honest edits of this computer get new clocks and "
    "are queued again, received values give way to the hub's repaired copies at the next "
    "sync. Needs no network; run “dxkit sync” afterwards."))
@JSON_OPTION
@click.pass_context
def sync_repair_clock(ctx: click.Context, as_json: bool) -> None:
    ws = workspace(ctx)
    at_open = ws.clock_repair  # opening the workspace mends a clock it cannot believe
    recovery = clocks.repair_clock(ws)
    if as_json:
        emit_json({"at_open": at_open.to_dict() if at_open else None, **recovery.to_dict()})
        return
    for line in clock_lines([r for r in (at_open, recovery.repair) if r], recovery):
        click.echo(line)


def clock_lines(repairs: list[ClockRepair], recovery: clocks.ClockRecovery) -> list[str]:
    """What a clock repair (at open, and now) did, as sentences."""
    if not (recovery.changed or any(r.changed for r in repairs)):
        return [_("Every clock of this workspace can be believed; nothing was changed.")]
    n = format_number
    lines = [_("The clock of this workspace stood at {before}, too far ahead to believe; it "
               "now continues from {after}.").format(before=r.clock_before, after=r.clock_after)
             for r in repairs if r.clock_reset]
    counts = [
        (_("Rows with changes of this computer the hub has not accepted yet, given new "
           "clocks: {count}."), sum(sum(r.restamped.values()) for r in repairs)),
        (_("Rows holding received values whose clocks could not be believed, set to give way "
           "(the hub's copies replace them at the next sync): {count}."),
         sum(sum(r.demoted.values()) for r in repairs)),
        (_("Events given the time of their id: {count}."),
         sum(sum(r.events.values()) for r in repairs)),
        (_("Changes refused by the hub for their clock, queued to be sent again: {count}."),
         sum(r.requeued for r in repairs) + recovery.requeued),
        (_("Received records held back for their clock, applied now: {count}."),
         recovery.retried),
    ]
    lines += [text.format(count=n(count)) for text, count in counts if count]
    if recovery.pull_again:
        lines.append(_("Tables received again from the start at the next sync: {tables}.")
                     .format(tables=", ".join(recovery.pull_again)))
    lines.append(_("Run “dxkit sync” to exchange the repaired records with the hub."))
    return lines
