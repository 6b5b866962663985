"""`dxkit hub`: run the reference provincial hub and administer its teams and devices.

The hub has its own database (`--db`), separate from any workspace: a SQLite file, or a
PostgreSQL database given as a postgresql:// URL.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from dxkit.cli.common import JSON_OPTION, N_, argument, emit_json, option
from dxkit.cli.root import cli
from dxkit.core.errors import DxError
from dxkit.core.i18n import _
from dxkit.core.places import find_commune, find_province
from dxkit.sync.hub.reference import parse_publication, publish
from dxkit.sync.hub.store import DEFAULT_TOKEN_DAYS, Device, HubStore

DB_HELP = N_("The hub's database: a SQLite file (created if missing) or a PostgreSQL URL "
             "postgresql://user:password@host/database.")
NO_DB = N_("Give the hub's database with --db PATH or --db postgresql://…")


@cli.group(help=N_("The provincial sync hub: serve it, manage teams, codes and devices."))
@option("--db", "db_path", metavar="PATH_OR_URL", help=DB_HELP)
@click.pass_context
def hub(ctx: click.Context, db_path: str | None) -> None:
    ctx.ensure_object(dict)
    ctx.obj["hub_db"] = db_path


def hub_store(ctx: click.Context) -> HubStore:
    """The hub database of this invocation, opened once and closed when the command ends."""
    root = ctx.find_root()
    store: HubStore | None = root.obj.get("hub_store")
    if store is None:
        path = root.obj.get("hub_db")
        if not path:
            raise click.UsageError(_(NO_DB), ctx)
        store = HubStore(path)
        root.obj["hub_store"] = store
        root.call_on_close(store.close)
    return store


@hub.command("serve", help=N_("Run the hub's HTTP API until stopped (Ctrl+C)."))
@option("--db", "db_path", metavar="PATH_OR_URL", help=DB_HELP)
@option("--host", default="127.0.0.1", show_default=True,
        help=N_("Address to listen on (0.0.0.0 for every network)."))
@option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True,
        help=N_("Port to listen on."))
@option("--token-days", type=click.FloatRange(min=0, min_open=True),
        default=DEFAULT_TOKEN_DAYS, show_default=True,
        help=N_("Days a new device token stays valid (renew with “devices renew”)."))
@click.pass_context
def hub_serve(ctx: click.Context, db_path: str | None, host: str, port: int,
              token_days: float) -> None:
    path = db_path or ctx.find_root().obj.get("hub_db")
    if not path:
        raise click.UsageError(_(NO_DB), ctx)
    import uvicorn

    from dxkit.sync.hub.app import create_app

    app = create_app(path, token_days=token_days)
    click.echo(_("hub listening on http://{host}:{port}").format(host=host, port=port))
    uvicorn.run(app, host=host, port=port, log_level="warning")


@hub.group("team", help=N_("Teams: one hamlet of one commune."))
def hub_team() -> None:
    pass


@hub_team.command("add", help=N_("Create a team for a hamlet of a commune."))
@option("--province", required=True, help=N_("Province code or name."))
@option("--commune", required=True, help=N_("Commune or ward code or name."))
@option("--hamlet", required=True, help=N_("Hamlet name (ấp, khóm, thôn, tổ dân phố)."))
@JSON_OPTION
@click.pass_context
def hub_team_add(ctx: click.Context, province: str, commune: str, hamlet: str,
                 as_json: bool) -> None:
    province_unit = find_province(province)
    if province_unit is None:
        raise DxError(_("There is no province “{name}”.").format(name=province))
    commune_unit = find_commune(province_unit.code, commune)
    if commune_unit is None:
        raise DxError(_("There is no commune “{name}” in {province}.").format(
            name=commune, province=province_unit.name))
    if not hamlet.strip():
        raise DxError(_("Give the hamlet's name."))
    team = hub_store(ctx).add_team(province_unit.code, commune_unit.code, hamlet)
    if as_json:
        emit_json({"team_id": team.id, **team.to_wire()})
        return
    click.echo(_("Created team {id}: {hamlet}, {commune}, {province}.").format(
        id=team.id, hamlet=team.hamlet, commune=commune_unit.name,
        province=province_unit.name))


@hub_team.command("list", help=N_("List the hub's teams."))
@JSON_OPTION
@click.pass_context
def hub_team_list(ctx: click.Context, as_json: bool) -> None:
    teams = hub_store(ctx).teams()
    if as_json:
        emit_json([team.to_dict() for team in teams])
        return
    for team in teams:
        click.echo(f"{team.id}  {team.province_code}/{team.commune_code}  {team.hamlet}")


@hub.command("enroll-code", help=N_("Issue a one-time enrollment code for a team."))
@option("--team", "team_id", required=True, help=N_("The team's id (from “team add”)."))
@option("--hours", type=click.FloatRange(min=0, min_open=True), default=72, show_default=True,
        help=N_("Hours until the code expires."))
@JSON_OPTION
@click.pass_context
def hub_enroll_code(ctx: click.Context, team_id: str, hours: float, as_json: bool) -> None:
    code, expires_at = hub_store(ctx).issue_code(team_id, ttl_hours=hours)
    if as_json:
        emit_json({"code": code, "expires_at": expires_at})
        return
    click.echo(_("Enrollment code {code} (valid once, until {expires} UTC).").format(
        code=code, expires=expires_at))


@hub.group("devices", help=N_("Enrolled devices."))
def hub_devices() -> None:
    pass


@hub_devices.command("list", help=N_("List enrolled devices."))
@option("--team", "team_id", help=N_("Only this team's devices."))
@JSON_OPTION
@click.pass_context
def hub_devices_list(ctx: click.Context, team_id: str | None, as_json: bool) -> None:
    devices = hub_store(ctx).list_devices(team_id)
    if as_json:
        emit_json([device.to_dict() for device in devices])
        return
    now = dt.datetime.now(dt.UTC)
    for device in devices:
        seen = device.last_seen_at or "—"
        click.echo(_("{id}  {name}  team {team}  last seen {seen}  {state}").format(
            id=device.id, name=device.name, team=device.team_id, seen=seen,
            state=_device_state(device, now)))


def _device_state(device: Device, now: dt.datetime) -> str:
    if device.revoked_at:
        return _("revoked")
    if device.expires_at and dt.datetime.fromisoformat(device.expires_at) <= now:
        return _("token expired on {date}").format(date=device.expires_at)
    if device.expires_at:
        return _("active until {date}").format(date=device.expires_at)
    return _("active")


@hub_devices.command("revoke", help=N_("Revoke a device: its next contact is refused."))
@argument("device_id")
@JSON_OPTION
@click.pass_context
def hub_devices_revoke(ctx: click.Context, device_id: str, as_json: bool) -> None:
    device = hub_store(ctx).revoke_device(device_id)
    if as_json:
        emit_json(device.to_dict())
        return
    click.echo(_("Revoked device {id} ({name}).").format(id=device.id, name=device.name))



@hub_devices.command("renew", help=N_("Renew a device's token: valid again for --days from now."))
@argument("device_id")
@option("--days", type=click.FloatRange(min=0, min_open=True),
        help=N_("Days the token stays valid from now (default: 365)."))
@JSON_OPTION
@click.pass_context
def hub_devices_renew(ctx: click.Context, device_id: str, days: float | None,
                      as_json: bool) -> None:
    device = hub_store(ctx).renew_device(device_id, days)
    if as_json:
        emit_json(device.to_dict())
        return
    click.echo(_("Device {id} ({name}) may sync until {date} UTC.").format(
        id=device.id, name=device.name, date=device.expires_at))


@hub_devices.command("expire", help=N_("End a device's token now; “renew” brings it back."))
@argument("device_id")
@JSON_OPTION
@click.pass_context
def hub_devices_expire(ctx: click.Context, device_id: str, as_json: bool) -> None:
    device = hub_store(ctx).expire_device(device_id)
    if as_json:
        emit_json(device.to_dict())
        return
    click.echo(_("The token of device {id} ({name}) has expired; it can no longer sync until "
                 "renewed.").format(id=device.id, name=device.name))


@hub.command("publish", help=N_(
    "Publish reference data from a JSON file to every team (the support-item catalogue, "
    "indicators and their targets, the pesticide registry and banned list), or to one team "
    "with --team (e.g. its hamlet list). Laptops receive it at their next sync."))
@argument("file", type=click.Path(dir_okay=False))
@option("--team", "team_id", default=None, help=N_("Publish to this team only."))
@JSON_OPTION
@click.pass_context
def hub_publish(ctx: click.Context, file: str, team_id: str | None, as_json: bool) -> None:
    try:
        data = json.loads(Path(file).read_text(encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DxError(_("{path} is not a JSON file ({reason}).").format(
            path=file, reason=exc)) from None
    report = publish(hub_store(ctx), parse_publication(data), team_id)
    if as_json:
        emit_json(report.to_dict())
        return
    for table in sorted({*report.applied, *report.unchanged}):
        click.echo(_("{table}: {applied} rows published, {unchanged} unchanged.").format(
            table=table, applied=report.applied.get(table, 0),
            unchanged=report.unchanged.get(table, 0)))
