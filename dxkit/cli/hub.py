"""`dxkit hub`: run the reference provincial hub and administer its teams and devices.

The hub has its own database (`--db`), separate from any workspace: a SQLite file, or a
PostgreSQL database given as a postgresql:// URL.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from dxkit.cli.common import JSON_OPTION, N_, argument, emit_json, option
from dxkit.cli.root import cli
from dxkit.cli.sync import size_in_bytes
from dxkit.core.errors import DxError
from dxkit.core.i18n import _, counted, format_number
from dxkit.core.places import AdminUnit, find_commune, find_province
from dxkit.households.catalog import MAX_POPULATION
from dxkit.sync.hub.clock_repair import repair_stored_clocks
from dxkit.sync.hub.course_packs import publish_pack, published_packs
from dxkit.sync.hub.limits import Limits, ServeOptions
from dxkit.sync.hub.reference import hamlet_list, parse_publication, publish, set_hamlet
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


@hub.command("serve", help=N_("Run the hub's HTTP API until stopped (Ctrl+C). On the "
                               "internet, put it behind a reverse proxy: docs/deployment.md."))
@option("--db", "db_path", metavar="PATH_OR_URL", help=DB_HELP)
@option("--host", default="127.0.0.1", show_default=True,
        help=N_("Address to listen on (0.0.0.0 for every network)."))
@option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True,
        help=N_("Port to listen on."))
@option("--token-days", type=click.FloatRange(min=0, min_open=True),
        default=DEFAULT_TOKEN_DAYS, show_default=True,
        help=N_("Days a new device token stays valid (renew with “devices renew”)."))
@option("--ssl-certfile", type=click.Path(exists=True, dir_okay=False),
        help=N_("Serve HTTPS with this certificate (PEM; with --ssl-keyfile)."))
@option("--ssl-keyfile", type=click.Path(exists=True, dir_okay=False),
        help=N_("The certificate's private key (PEM; with --ssl-certfile)."))
@option("--proxy-headers", is_flag=True,
        help=N_("Behind a reverse proxy: take the client's address from X-Forwarded-For sent "
                "by --forwarded-allow-ips (never from anyone else)."))
@option("--forwarded-allow-ips", metavar="IPS",
        help=N_("Comma-separated addresses of the reverse proxies to trust (implies "
                "--proxy-headers; default 127.0.0.1,::1)."))
@option("--limit-concurrency", type=click.IntRange(1), default=ServeOptions.limit_concurrency,
        show_default=True, help=N_("Connections at once; more are answered 503 and closed."))
@option("--timeout-keep-alive", type=click.IntRange(1), default=ServeOptions.timeout_keep_alive,
        show_default=True,
        help=N_("Seconds a connection may take to send its next request's headers."))
@option("--backlog", type=click.IntRange(1), default=ServeOptions.backlog, show_default=True,
        help=N_("Connections the system queues before the hub accepts them."))
@option("--address-rate", type=click.FloatRange(min=0, min_open=True),
        default=Limits.address_rate, show_default=True,
        help=N_("Requests per second from one client address without a device token "
                "(enrollment, health, trace pages)."))
@option("--address-burst", type=click.IntRange(1), default=Limits.address_burst,
        show_default=True, help=N_("Requests one client address may send at once."))
@option("--device-rate", type=click.FloatRange(min=0, min_open=True),
        default=Limits.device_rate, show_default=True,
        help=N_("Requests per second from one enrolled device."))
@option("--device-burst", type=click.IntRange(1), default=Limits.device_burst,
        show_default=True, help=N_("Requests one device may send at once."))
@option("--device-concurrency", type=click.IntRange(1), default=Limits.device_concurrency,
        show_default=True, help=N_("Requests of one device the hub works on at the same time."))
@click.pass_context
def hub_serve(ctx: click.Context, /, db_path: str | None, token_days: float,
              ssl_certfile: str | None, ssl_keyfile: str | None,
              forwarded_allow_ips: str | None, proxy_headers: bool,
              **settings: Any) -> None:
    path = db_path or ctx.find_root().obj.get("hub_db")
    if not path:
        raise click.UsageError(_(NO_DB), ctx)
    if bool(ssl_certfile) != bool(ssl_keyfile):
        raise click.UsageError(_("Give both --ssl-certfile and --ssl-keyfile, or neither."),
                               ctx)
    from dxkit.sync.hub.app import create_app
    from dxkit.sync.hub.server import serve

    limits = Limits(**{name: settings.pop(name) for name in LIMIT_OPTIONS})
    options = ServeOptions(
        **settings, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile,
        proxy_headers=proxy_headers or forwarded_allow_ips is not None,
        forwarded_allow_ips=forwarded_allow_ips or ServeOptions.forwarded_allow_ips)
    app = create_app(path, token_days=token_days, limits=limits)
    click.echo(_("hub listening on {scheme}://{host}:{port}").format(
        scheme=options.scheme, host=options.host, port=options.port))
    serve(app, options)


LIMIT_OPTIONS = ("address_rate", "address_burst", "device_rate", "device_burst",
                 "device_concurrency")


@hub.group("team", help=N_("Teams: one hamlet of a commune, or a whole commune."))
def hub_team() -> None:
    pass


def _place(province: str, commune: str) -> tuple[AdminUnit, AdminUnit]:
    """The province and commune named (code or name), or a sentence saying which is not."""
    province_unit = find_province(province)
    if province_unit is None:
        raise DxError(_("There is no province “{name}”.").format(name=province))
    commune_unit = find_commune(province_unit.code, commune)
    if commune_unit is None:
        raise DxError(_("There is no commune “{name}” in {province}.").format(
            name=commune, province=province_unit.name))
    return province_unit, commune_unit


@hub_team.command("add", help=N_(
    "Create a team: with --hamlet, the team of that hamlet of the commune (its laptops read "
    "and write that hamlet only); without, the commune's team (every hamlet of the commune)."))
@option("--province", required=True, help=N_("Province code or name."))
@option("--commune", required=True, help=N_("Commune or ward code or name."))
@option("--hamlet", default=None,
        help=N_("Hamlet name (ấp, khóm, thôn, tổ dân phố); leave out for a commune team."))
@JSON_OPTION
@click.pass_context
def hub_team_add(ctx: click.Context, province: str, commune: str, hamlet: str | None,
                 as_json: bool) -> None:
    province_unit, commune_unit = _place(province, commune)
    team = hub_store(ctx).add_team(province_unit.code, commune_unit.code, hamlet)
    if as_json:
        emit_json({"team_id": team.id, **team.to_wire(), "trace_key": team.trace_key})
        return
    if team.kind == "commune":
        click.echo(_("Created team {id} of the commune {commune}, {province}: it works in "
                     "every hamlet of the commune.").format(
                         id=team.id, commune=commune_unit.name, province=province_unit.name))
    else:
        click.echo(_("Created team {id}: {hamlet}, {commune}, {province}.").format(
            id=team.id, hamlet=team.hamlet, commune=commune_unit.name,
            province=province_unit.name))
    click.echo(_("Its labels' trace URLs carry the key {key}.").format(key=team.trace_key))


@hub_team.command("list", help=N_("List the hub's teams, their kind and hamlets."))
@JSON_OPTION
@click.pass_context
def hub_team_list(ctx: click.Context, as_json: bool) -> None:
    teams = hub_store(ctx).teams()
    if as_json:
        emit_json([team.to_dict() for team in teams])
        return
    for team in teams:
        kind = _("commune") if team.kind == "commune" else _("hamlet")
        names = ", ".join(hamlet.name or hamlet.id for hamlet in team.hamlets) or "—"
        click.echo(f"{team.id}  {team.trace_key}  {team.province_code}/{team.commune_code}  "
                   f"{kind}: {names}")


@hub.group("hamlets", help=N_("The hamlets the hub knows, and their official population."))
def hub_hamlets() -> None:
    pass


@hub_hamlets.command("list", help=N_("List the hamlets of a commune (or of every commune)."))
@option("--province", default=None, help=N_("Province code or name."))
@option("--commune", default=None, help=N_("Commune or ward code or name."))
@JSON_OPTION
@click.pass_context
def hub_hamlets_list(ctx: click.Context, province: str | None, commune: str | None,
                     as_json: bool) -> None:
    commune_code = None
    if province or commune:
        if not (province and commune):
            raise click.UsageError(_("Give both --province and --commune, or neither."), ctx)
        commune_code = _place(province, commune)[1].code
    found = hamlet_list(hub_store(ctx), commune_code)
    if as_json:
        emit_json(found)
        return
    for row in found:
        click.echo(_("{name} ({commune}): population 15+ {aged_15}, adults {adults}").format(
            name=row["name"] or row["id"], commune=row["commune_code"],
            aged_15=_figure(row["population_15"]), adults=_figure(row["population_18"])))


def _figure(value: int | None) -> str:
    return "—" if value is None else format_number(value)


@hub_hamlets.command("set", help=N_(
    "Register a hamlet of a commune (if the hub does not know it) and publish its official "
    "population aged 15 and over and of adults; its teams' laptops receive it at their next "
    "sync."))
@option("--province", required=True, help=N_("Province code or name."))
@option("--commune", required=True, help=N_("Commune or ward code or name."))
@option("--hamlet", required=True, help=N_("Hamlet name (ấp, khóm, thôn, tổ dân phố)."))
@option("--population-15", "population_15", type=click.IntRange(0, MAX_POPULATION),
        help=N_("Official population aged 15 and over."))
@option("--population-18", "population_18", type=click.IntRange(0, MAX_POPULATION),
        help=N_("Official number of adults (18 and over)."))
@JSON_OPTION
@click.pass_context
def hub_hamlets_set(ctx: click.Context, province: str, commune: str, hamlet: str,
                    population_15: int | None, population_18: int | None,
                    as_json: bool) -> None:
    province_unit, commune_unit = _place(province, commune)
    if population_15 is not None and population_18 is not None and \
            population_18 > population_15:
        raise DxError(_("There cannot be more adults than people aged 15 and over."))
    found = set_hamlet(hub_store(ctx), province_unit.code, commune_unit.code, hamlet,
                       population_15, population_18)
    if as_json:
        emit_json(found)
        return
    click.echo(_("{name} ({commune}): population 15+ {aged_15}, adults {adults}").format(
        name=found["name"], commune=commune_unit.name,
        aged_15=_figure(found["population_15"]), adults=_figure(found["population_18"])))


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
        click.echo(_("{table}: {published}, {unchanged} unchanged.").format(
            table=table, published=counted(report.applied.get(table, 0), "{count} row published",
                                           "{count} rows published"),
            unchanged=format_number(report.unchanged.get(table, 0))))


@hub.group("courses", help=N_("Course packs the province publishes to every team's laptops."))
def hub_courses() -> None:
    pass


@hub_courses.command("publish", help=N_(
    "Check a course pack (a folder or a .zip) and publish it to every team: laptops install "
    "it at their next sync. A broken pack is refused with every problem listed."))
@argument("pack", type=click.Path(exists=True, path_type=Path))
@JSON_OPTION
@click.pass_context
def hub_courses_publish(ctx: click.Context, pack: Path, as_json: bool) -> None:
    done = publish_pack(hub_store(ctx), pack)
    if as_json:
        emit_json(done.to_dict())
        return
    if done.new:
        click.echo(_("Published course {course} version {version} ({size}); laptops install "
                     "it at their next sync.").format(
                         course=done.pack.id, version=done.pack.version,
                         size=size_in_bytes(done.pack.size)))
    else:
        click.echo(_("Course {course} version {version} was already published with this "
                     "content; nothing changed.").format(course=done.pack.id,
                                                         version=done.pack.version))


@hub_courses.command("list", help=N_("List the course packs published on the hub."))
@JSON_OPTION
@click.pass_context
def hub_courses_list(ctx: click.Context, as_json: bool) -> None:
    found = published_packs(hub_store(ctx))
    if as_json:
        emit_json([pack.to_dict() for pack in found])
        return
    if not found:
        click.echo(_("No course pack is published on this hub."))
    for pack in found:
        click.echo("  ".join((pack.id, pack.version, pack.title, size_in_bytes(pack.size),
                              pack.published_at)))


@hub.command("repair-clocks", help=N_(
    "Re-stamp every stored clock the hub cannot believe (more than a few minutes ahead of its "
    "time, or posing as the shipped catalogue) with the hub's own clock, so honest edits win "
    "again; laptops receive the repaired records at their next sync."))
@JSON_OPTION
@click.pass_context
def hub_repair_clocks(ctx: click.Context, as_json: bool) -> None:
    report = repair_stored_clocks(hub_store(ctx))
    if as_json:
        emit_json(report.to_dict())
        return
    if not report.total:
        click.echo(_("Every stored clock can be believed; nothing was changed."))
        return
    for table in sorted(report.records):
        click.echo(_("Records re-stamped in {table}: {count}.").format(
            table=table, count=report.records[table]))
    click.echo(_("Records repaired: {records}; clocks replaced: {clocks}. Laptops receive them "
                 "at their next sync.").format(records=report.total, clocks=report.clocks))
