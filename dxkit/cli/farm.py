"""`dxkit farm` (organisations, plots, seasons, diary entries, products, lots),
`dxkit labels print` and `dxkit trace export`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from dxkit.cli.common import (
    COUNT,
    DATE,
    JSON_OPTION,
    N_,
    OneOf,
    argument,
    emit_json,
    option,
    reader,
    say_error,
    terminal_progress,
    workspace,
)
from dxkit.cli.labels import labels_group
from dxkit.cli.root import cli
from dxkit.core.errors import DxError, ValidationError
from dxkit.core.i18n import _, counted, format_date, format_number
from dxkit.farm.diary import COMMON, KIND_INPUTS
from dxkit.farm.model import ENTRY_KINDS, DiaryEntry, Lot, kind_label
from dxkit.farm.pesticides import crop_name
from dxkit.farm.printing import (
    find_template,
    label_offset,
    parse_offset,
    print_lot_labels,
    save_label_offset,
)
from dxkit.farm.settings import TraceAddressNotConfirmed

if TYPE_CHECKING:
    from dxkit.farm.trace_html import Language  # imported when a page is written


@cli.group(help=N_("Farm diaries: organisations, plots, seasons, entries, products and lots."))
def farm() -> None:
    pass


def _given(**values: Any) -> dict[str, Any]:
    """Only the options the user gave: an update must not blank the others."""
    return {key: value for key, value in values.items() if value not in (None, "", ())}


@farm.command("settings", help=N_("Show or change the farm settings: the province's trace "
                                  "address printed in QR codes, the GS1 resolver, the size "
                                  "of one công."))
@option("--trace-base-url", default=None, help=N_(
    "Trace address a lot code is appended to (giving it confirms it)."))
@option("--confirm-trace-base-url", "confirm", is_flag=True, help=N_(
    "Confirm the trace address in effect: labels are printed only once it is confirmed."))
@option("--gs1-resolver", default=None, help=N_("Address of the GS1 Digital Link resolver."))
@option("--cong-m2", default=None, help=N_("Square metres in one công (default 1000)."))
@JSON_OPTION
@click.pass_context
def farm_settings(ctx: click.Context, trace_base_url: str | None, confirm: bool,
                  gs1_resolver: str | None, cong_m2: str | None, as_json: bool) -> None:
    ws = workspace(ctx)
    ws.farm.configure(trace_base_url=trace_base_url, gs1_resolver=gs1_resolver,
                      cong_m2=cong_m2)
    if confirm:
        ws.farm.confirm_trace_base_url()
    current = ws.farm.settings()
    if as_json:
        emit_json(current)
        return
    for key, value in current.items():
        click.echo(f"{_(SETTING_LABELS.get(key, key))}: {_setting_text(value)}")


# What `farm settings` prints for each setting (the JSON keeps the keys).
SETTING_LABELS = {
    "trace_base_url": N_("Trace address in QR codes"),
    "trace_base_url_confirmed": N_("Trace address confirmed"),
    "gs1_resolver": N_("GS1 Digital Link resolver"),
    "cong_m2": N_("Square metres in one công"),
}


def _setting_text(value: Any) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int | float):
        return format_number(value)
    return str(value)


# -- organisations -----------------------------------------------------------------------------
@farm.group("orgs", help=N_("Cooperatives and farmer clubs."))
def orgs() -> None:
    pass


@orgs.command("add", help=N_("Add a cooperative or farmer club."))
@argument("name")
@option("--kind", type=OneOf("cooperative", "farmer_club"), default="cooperative",
        help=N_("cooperative or farmer_club."))
@option("--short-code", default=None, help=N_("Short code used in lot codes (3–5 letters)."))
@option("--address", default=None, help=N_("Address printed on labels."))
@option("--gs1-prefix", "gs1_company_prefix", default=None,
        help=N_("GS1 company prefix, if the cooperative has one (893…)."))
@option("--certification", default=None, help=N_("Certification, e.g. VietGAP."))
@JSON_OPTION
@click.pass_context
def orgs_add(ctx: click.Context, /, name: str, as_json: bool, **fields: Any) -> None:
    org = workspace(ctx).farm.orgs.add(name, **_given(**fields)).value
    emit_json(org) if as_json else click.echo(_("Added {name} (code {code}).").format(
        name=org.name, code=org.short_code))


@orgs.command("list", help=N_("List the organisations."))
@JSON_OPTION
@click.pass_context
def orgs_list(ctx: click.Context, as_json: bool) -> None:
    found = reader(ctx).farm.orgs.all()
    if as_json:
        emit_json(found)
        return
    for org in found:
        click.echo("  ".join(p for p in (org.short_code, org.name, org.certification,
                                          org.address) if p))


# -- plots and seasons -------------------------------------------------------------------------
@farm.group("plots", help=N_("Plots and growing areas."))
def plots() -> None:
    pass


@plots.command("add", help=N_("Add a plot or growing area."))
@option("--org", required=True, help=N_("Organisation name or code."))
@option("--name", required=True, help=N_("Plot name."))
@option("--crop", required=True, help=N_("Crop code: rice, mango, pink_mandarin, pomelo…"))
@option("--variety", default=None, help=N_("Variety, e.g. ST25."))
@option("--area-ha", default=None, help=N_("Area in hectares."))
@option("--growing-area-code", default=None, help=N_("Growing-area code issued to the plot."))
@option("--location", default=None, help=N_("Where the plot is."))
@option("--certification", default=None, help=N_("Certification, e.g. VietGAP."))
@JSON_OPTION
@click.pass_context
def plots_add(ctx: click.Context, /, org: str, name: str, crop: str, as_json: bool,
              **fields: Any) -> None:
    plot = workspace(ctx).farm.orgs.add_plot(org, name, crop=crop, **_given(**fields)).value
    emit_json(plot) if as_json else click.echo(_("Added plot {name}.").format(name=plot.name))


@plots.command("list", help=N_("List plots."))
@option("--org", default=None, help=N_("Only this organisation's plots."))
@JSON_OPTION
@click.pass_context
def plots_list(ctx: click.Context, org: str | None, as_json: bool) -> None:
    found = reader(ctx).farm.orgs.plots(org)
    if as_json:
        emit_json(found)
        return
    for plot in found:
        area = _("{area} ha").format(area=format_number(plot.area_ha)) if plot.area_ha else ""
        click.echo("  ".join(p for p in (plot.name, crop_name(plot.crop), plot.variety, area,
                                          plot.growing_area_code, plot.certification) if p))


@farm.group("seasons", help=N_("Growing seasons."))
def seasons() -> None:
    pass


@seasons.command("add", help=N_("Add a season, e.g. “Đông Xuân 2026–2027”."))
@option("--org", required=True, help=N_("Organisation name or code."))
@option("--name", required=True, help=N_("Season name."))
@option("--starts", "starts_on", type=DATE, required=True, help=N_("First day (YYYY-MM-DD)."))
@option("--ends", "ends_on", type=DATE, default=None, help=N_("Last day (YYYY-MM-DD)."))
@option("--crop", default="", help=N_("Crop code."))
@JSON_OPTION
@click.pass_context
def seasons_add(ctx: click.Context, /, org: str, name: str, as_json: bool, **fields: Any) -> None:
    season = workspace(ctx).farm.orgs.add_season(org, name, **fields).value
    emit_json(season) if as_json else click.echo(_("Added season {name}.").format(
        name=season.name))


@seasons.command("list", help=N_("List seasons."))
@option("--org", default=None, help=N_("Only this organisation's seasons."))
@JSON_OPTION
@click.pass_context
def seasons_list(ctx: click.Context, org: str | None, as_json: bool) -> None:
    found = reader(ctx).farm.orgs.seasons(org)
    if as_json:
        emit_json(found)
        return
    for season in found:
        ends = format_date(season.ends_on) if season.ends_on else "…"
        click.echo(f"{season.name}  {format_date(season.starts_on)} – {ends}")


# -- diary entries -----------------------------------------------------------------------------
@farm.group("entries", help=N_("Diary entries: record, list, void."))
def entries() -> None:
    pass


@entries.command("add", help=N_("Record a diary entry on a plot in a season."))
@option("--plot", required=True, help=N_("Plot name or id."))
@option("--season", required=True, help=N_("Season name or id."))
@option("--kind", required=True, type=OneOf(*ENTRY_KINDS), help=N_("Kind of entry."))
@option("--on", "on", type=DATE, required=True, help=N_("Date (YYYY-MM-DD)."))
@option("--product", default=None, help=N_("Product (registry name) or seed variety."))
@option("--ingredient", "active_ingredients", multiple=True,
        help=N_("Active ingredient, for a product outside the registry (repeat)."))
@option("--dose", default=None, help=N_("Dose, e.g. “1,5 l/ha”."))
@option("--quantity", default=None, help=N_("Quantity, e.g. “1.200 kg” or “3 tấn”."))
@option("--area", default=None, help=N_("Area treated, e.g. “2 ha” or “5 công”."))
@option("--applied-by", "applied_by", default=None, help=N_("Who applied it."))
@option("--equipment", default=None, help=N_("Equipment used."))
@option("--source", default=None, help=N_("Where seed or seedlings came from."))
@option("--method", default=None, help=N_("Method (land preparation, sowing, irrigation)."))
@option("--pest", default=None, help=N_("Pest or disease seen."))
@option("--notes", default=None, help=N_("Notes."))
@JSON_OPTION
@click.pass_context
def entries_add(ctx: click.Context, /, plot: str, season: str, kind: str, on: Any, as_json: bool,
                **details: Any) -> None:
    details = _given(**details)
    unfit = sorted(set(details) - {*COMMON, *KIND_INPUTS[kind]})
    if unfit:
        options = ", ".join("--" + ("ingredient" if name == "active_ingredients" else
                                    name.replace("_", "-")) for name in unfit)
        raise DxError(_("{options} does not apply to an entry of the kind {kind}.").format(
            options=options, kind=kind))
    if "active_ingredients" in details:
        details["active_ingredients"] = list(details["active_ingredients"])
    result = workspace(ctx).farm.diary.record(plot, season, kind, on, **details)
    if as_json:
        emit_json({**result.value.to_dict(), "findings": [f.to_dict() for f in result.findings]})
    else:
        click.echo(_("Recorded {kind} on {date} ({id}).").format(
            kind=kind, date=format_date(result.value.on), id=result.value.id))
    for finding in result.findings:  # loudly, on stderr, even with --json
        label = _("NOT COMPLIANT") if finding.severity == "violation" else _("Warning")
        say_error(f"!! {label}: {finding.message}")


@entries.command("list", help=N_("The diary of a plot (oldest first)."))
@option("--plot", default=None, help=N_("Plot name or id."))
@option("--season", default=None, help=N_("Season name or id."))
@JSON_OPTION
@click.pass_context
def entries_list(ctx: click.Context, plot: str | None, season: str | None,
                 as_json: bool) -> None:
    found = reader(ctx).farm.diary.timeline(plot=plot, season=season)
    if as_json:
        emit_json(found)
        return
    for entry in found:
        click.echo(_entry_line(entry))


def _entry_line(entry: DiaryEntry) -> str:
    parts = [format_date(entry.on), kind_label(entry.kind), entry.product_name]
    if entry.quantity is not None:
        parts.append(f"{format_number(entry.quantity)} {entry.unit}")
    if not entry.compliant:
        parts.append(_("NOT COMPLIANT"))
    if entry.action != "record":
        parts.append(f"[{entry.action}]")
    if not entry.effective:
        parts.append(_("[replaced]"))
    parts.append(entry.id)
    return "  ".join(p for p in parts if p)


@entries.command("void", help=N_("Void a diary entry (it stays in the history)."))
@argument("entry_id")
@option("--reason", required=True, help=N_("Why it is void."))
@click.pass_context
def entries_void(ctx: click.Context, entry_id: str, reason: str) -> None:
    workspace(ctx).farm.diary.void(entry_id, reason=reason)
    click.echo(_("Voided {id}.").format(id=entry_id))


# -- products ----------------------------------------------------------------------------------
@farm.group("products", help=N_("The pesticide registry and the cooperative's own products."))
def products() -> None:
    pass


@products.command("list", help=N_("List products, with their pre-harvest intervals."))
@option("--search", default=None, help=N_("Part of the name or an active ingredient."))
@option("--crop", default=None, help=N_("Only products registered for this crop."))
@JSON_OPTION
@click.pass_context
def products_list(ctx: click.Context, search: str | None, crop: str | None,
                  as_json: bool) -> None:
    found = reader(ctx).farm.registry.products(search=search, crop=crop)
    if as_json:
        emit_json([{"id": p.id, "name": p.name, "active_ingredients": list(p.active_ingredients),
                    "phi_days": p.phi_days, "source": p.source} for p in found])
        return
    for product in found:
        phi = ", ".join(_("{crop} {days}").format(
            crop=crop_name(crop_code), days=counted(days, "{count} day", "{count} days"))
            for crop_code, days in product.phi_days.items())
        click.echo("  ".join(p for p in (product.name, " + ".join(product.active_ingredients),
                                          phi) if p))


@products.command("add", help=N_("Add the cooperative's own product."))
@argument("name")
@option("--ingredient", "ingredients", multiple=True, required=True,
        help=N_("Active ingredient (repeat)."))
@option("--phi", "phis", multiple=True,
        help=N_("Pre-harvest interval per crop as CROP:DAYS, e.g. rice:14 (repeat)."))
@JSON_OPTION
@click.pass_context
def products_add(ctx: click.Context, name: str, ingredients: tuple[str, ...],
                 phis: tuple[str, ...], as_json: bool) -> None:
    phi_days: dict[str, int] = {}
    for text in phis:
        crop, _sep, days = text.partition(":")
        if not crop.strip() or not days.strip().isdigit():
            raise DxError(_("Write each --phi as CROP:DAYS, for example rice:14; “{text}” is "
                            "not.").format(text=text))
        phi_days[crop.strip()] = int(days)
    product = workspace(ctx).farm.registry.add_product(name, ingredients, phi_days).value
    emit_json({"id": product.id, "name": product.name}) if as_json else click.echo(
        _("Added product {name}.").format(name=product.name))


# -- lots --------------------------------------------------------------------------------------
@farm.group("lots", help=N_("Harvest lots and their compliance."))
def lots() -> None:
    pass


@lots.command("create", help=N_("Make a lot from harvest entries of one crop."))
@option("--harvest", "harvests", multiple=True, required=True,
        help=N_("Harvest entry id (repeat)."))
@option("--product", default="", help=N_("Product name on the label, e.g. “Gạo ST25”."))
@option("--pack-date", type=DATE, default=None, help=N_("Pack date (default: today)."))
@option("--item-reference", default=None,
        help=N_("GS1 item reference, to make a GTIN with the company prefix."))
@JSON_OPTION
@click.pass_context
def lots_create(ctx: click.Context, harvests: tuple[str, ...], product: str, pack_date: Any,
                item_reference: str | None, as_json: bool) -> None:
    lot = workspace(ctx).farm.lots.create(list(harvests), product=product, pack_date=pack_date,
                                          item_reference=item_reference).value
    if as_json:
        emit_json(lot)
        return
    click.echo(_("Created lot {code}.").format(code=lot.code))
    for reason in lot.reasons:
        say_error(f"!! {_('NOT COMPLIANT')}: {reason}")


@lots.command("list", help=N_("List lots with their compliance."))
@option("--org", default=None, help=N_("Only this organisation's lots."))
@JSON_OPTION
@click.pass_context
def lots_list(ctx: click.Context, org: str | None, as_json: bool) -> None:
    found = reader(ctx).farm.lots.all(org)
    if as_json:
        emit_json(found)
        return
    for lot in found:
        click.echo(_lot_line(lot))


def _lot_line(lot: Lot) -> str:
    status = _("compliant") if lot.compliant else _("NOT COMPLIANT")
    parts = [lot.code, lot.product, format_date(lot.pack_date),
             f"{format_number(lot.quantity_kg)} kg", status, *lot.reasons]
    return "  ".join(p for p in parts if p)


@lots.command("recode", help=N_("Give a lot the next free code of its pack date (when two "
                                 "laptops gave two lots the same code)."))
@argument("code")
@JSON_OPTION
@click.pass_context
def lots_recode(ctx: click.Context, code: str, as_json: bool) -> None:
    ws = workspace(ctx)
    lot = ws.farm.lots.recode(_one_lot(ws, code)).value
    emit_json(lot) if as_json else click.echo(_("Lot {old} is now {new}.").format(
        old=code, new=lot.code))


def _one_lot(ws: Any, code_or_id: str) -> Lot:
    """The newest lot with this code (or id): a duplicated code names two lots."""
    twins: list[Lot] = [lot for lot in ws.farm.lots.all() if code_or_id in (lot.code, lot.id)]
    found: Lot = twins[-1] if twins else ws.farm.lots.get(code_or_id)
    return found


@lots.command("show", help=N_("One lot: compliance, reasons and print runs."))
@argument("code")
@JSON_OPTION
@click.pass_context
def lots_show(ctx: click.Context, code: str, as_json: bool) -> None:
    ws = reader(ctx)
    lot = ws.farm.lots.get(code)
    runs = ws.farm.lots.print_runs(lot)
    overlaps = ws.farm.lots.serial_overlaps(lot)
    if as_json:
        emit_json({**lot.to_dict(), "print_runs": runs, "serials_printed_twice":
                   [list(pair) for pair in overlaps]})
        return
    click.echo(_lot_line(lot))
    for run in runs:
        click.echo("  " + _("{date}: {labels} on {template}").format(
            date=format_date(run.printed_at.date()),
            labels=counted(run.copies, "{count} label", "{count} labels"),
            template=run.template))
    for first, last in overlaps:
        say_error("!! " + _("Serials {first}–{last} were printed twice (on two laptops before "
                            "they synced): those labels cannot tell boxes apart.").format(
                                first=first, last=last))


# -- labels and trace --------------------------------------------------------------------------
@labels_group.command("print", help=N_(
    "Print a lot's labels to PDF (refused for a lot that is not compliant, and until the "
    "trace address is confirmed: see farm settings)."))
@option("--lot", "lot_code", required=True, help=N_("Lot code."))
@option("--template", required=True, help=N_("Label stock, e.g. a4-3x7 (see labels templates)."))
@option("--copies", type=COUNT, default=None, help=N_(
    "Number of labels [default: a full sheet, from --start to its end (21 on a4-3x7); one "
    "label on a roll]."))
@option("--serials", is_flag=True, help=N_("Give each label its own serial number and QR."))
@option("--start", type=COUNT, default=1, show_default=True,
        help=N_("First free position on a partly used sheet (1 = top left)."))
@option("--offset-x", default=None, metavar="MM", help=N_(
    "Move everything printed this many mm to the right (negative: left) for this run "
    "[default: the offset saved for the stock, see labels offset]."))
@option("--offset-y", default=None, metavar="MM", help=N_(
    "Move everything printed this many mm down (negative: up) for this run [default: the "
    "offset saved for the stock]."))
@option("--out", required=True, type=click.Path(dir_okay=False), help=N_("PDF file to write."))
@JSON_OPTION
@click.pass_context
def labels_print(ctx: click.Context, lot_code: str, template: str, copies: int | None,
                 serials: bool, start: int, offset_x: str | None, offset_y: str | None,
                 out: str, as_json: bool) -> None:
    ws = workspace(ctx)
    offset = None
    if offset_x is not None or offset_y is not None:
        saved = label_offset(ws, find_template(ws, template).name)
        offset = _parsed_offset(offset_x, offset_y, saved, "--offset-x", "--offset-y")
    try:
        with terminal_progress() as progress:
            job = print_lot_labels(ws, lot_code, template, copies=copies, start=start,
                                   serials=serials, offset=offset, progress=progress)
    except TraceAddressNotConfirmed as refused:
        say_error(_("The trace address the QR codes would hold ({url}) has not been "
                    "confirmed: set your province's with “dxkit farm settings "
                    "--trace-base-url URL”, or keep this one with “dxkit farm settings "
                    "--confirm-trace-base-url”.").format(url=refused.url))
        ctx.exit(1)
    _write_atomically(Path(out), job.pdf)
    if as_json:
        emit_json({"file": out, "labels": job.labels, "template": job.template.name,
                   "offset_mm": list(offset or label_offset(ws, job.template.name)),
                   "run": job.run})
    else:
        click.echo(_("Wrote {labels} of lot {code} to {path}.").format(
            labels=counted(job.labels, "{count} label", "{count} labels"), code=lot_code,
            path=out))


@labels_group.command("offset", help=N_(
    "Show or save the printing offset of a label stock: how far to move everything printed "
    "so it lands on the labels (measure a test print; thermal rolls round it to printer "
    "dots)."))
@argument("template")
@option("--x", "x", default=None, metavar="MM",
        help=N_("Millimetres to the right (negative: to the left)."))
@option("--y", "y", default=None, metavar="MM", help=N_("Millimetres down (negative: up)."))
@JSON_OPTION
@click.pass_context
def labels_offset(ctx: click.Context, template: str, x: str | None, y: str | None,
                  as_json: bool) -> None:
    if x is None and y is None:
        ws = reader(ctx)
        name = find_template(ws, template).name
        offset = label_offset(ws, name)
    else:
        ws = workspace(ctx)
        name = find_template(ws, template).name
        saved = label_offset(ws, name)
        offset = save_label_offset(ws, name, *_parsed_offset(x, y, saved, "--x", "--y"))
    if as_json:
        emit_json({"template": name, "x_mm": offset[0], "y_mm": offset[1]})
    else:
        click.echo(_("{template}: {x} mm to the right, {y} mm down.").format(
            template=name, x=format_number(offset[0]), y=format_number(offset[1])))


def _parsed_offset(x: str | None, y: str | None, saved: tuple[float, float], x_name: str,
                   y_name: str) -> tuple[float, float]:
    """The offset typed on the command line (the saved value where one is not given); a bad
    value is one sentence naming its option."""
    try:
        return parse_offset(x, y, saved)
    except ValidationError as error:
        names = {"x": x_name, "y": y_name}
        raise DxError(" ".join(f"{names[key]}: {message}"
                               for key, message in error.fields.items())) from error


@cli.group(help=N_("Trace records of harvest lots."))
def trace() -> None:
    pass


@trace.command("export", help=N_("Export a lot's trace record as EPCIS 2.0 JSON-LD or a "
                                 "standalone HTML page."))
@option("--lot", "lot_code", required=True, help=N_("Lot code."))
@option("--format", "form", type=OneOf("epcis", "html", "json"), required=True,
        help=N_("epcis, html or json."))
@option("--out", required=True, type=click.Path(dir_okay=False), help=N_("File to write."))
@option("--page-lang", type=OneOf("vi", "en"), default="vi", show_default=True,
        help=N_("Language of the HTML page."))
@click.pass_context
def trace_export(ctx: click.Context, lot_code: str, form: str, out: str,
                 page_lang: Language) -> None:
    import json

    from dxkit.farm.epcis import epcis_document
    from dxkit.farm.trace_html import trace_json, trace_page

    record = reader(ctx).farm.lots.trace_record(lot_code)
    if form == "epcis":
        text = json.dumps(epcis_document(record), ensure_ascii=False, indent=2)
    elif form == "json":
        text = json.dumps(trace_json(record), ensure_ascii=False, indent=2)
    else:
        text = trace_page(record, lang=page_lang)
    _write_atomically(Path(out), text.encode("utf-8"))
    click.echo(_("Wrote the trace record of lot {code} to {path}.").format(
        code=record.lot_code, path=out))


def _write_atomically(path: Path, data: bytes) -> None:
    """A half-written file never replaces a good one (disk full, killed process)."""
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)
