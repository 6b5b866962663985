"""Diary entries: immutable events on a plot and season, corrected by amend or void.

Recording tells the truth even when it breaks a rule: an application of a banned ingredient or
a harvest inside the pre-harvest interval is stored, marked non-compliant, and the findings are
returned so the screen or the CLI can warn loudly.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from dxkit.core.errors import NotFound, ValidationError
from dxkit.core.i18n import _
from dxkit.core.ids import uuid7
from dxkit.core.sqlbatch import select_in
from dxkit.core.synced import OpResult
from dxkit.core.text import folded_key, nfc
from dxkit.farm import checks, settings
from dxkit.farm.model import ENTRY_KINDS, DiaryEntry, Plot, Season, StoredFinding
from dxkit.farm.orgs import parse_date
from dxkit.farm.tables import NAME_LENGTH, TEXT_LENGTH
from dxkit.farm.units import Dose, Quantity, parse_amount

if TYPE_CHECKING:
    from dxkit.farm.orgs import OrgBook
    from dxkit.farm.registry import Registry
    from dxkit.farm.workspace import FarmWorkspace as Workspace

COMMON = ("notes", "applied_by", "equipment")
# The details each kind takes (besides COMMON). Quantities: `quantity` with `unit`, or a text
# such as "1.200 kg"; `dose` as "1,5 l/ha" or Dose; `area` as "3 công" or `area_ha`.
KIND_INPUTS: dict[str, tuple[str, ...]] = {
    "land_preparation": ("method",),
    "seed": ("product", "variety", "source", "lot", "quantity", "unit"),
    "sowing": ("method", "quantity", "unit"),
    "fertiliser": ("product", "dose", "quantity", "unit", "area", "area_ha"),
    "pesticide": ("product", "active_ingredients", "target", "dose", "quantity", "unit", "area",
                  "area_ha"),
    "irrigation": ("method", "quantity", "unit", "hours"),
    "observation": ("pest", "severity", "photo"),
    "harvest": ("quantity", "unit"),
}
TEXT_DETAILS = ("notes", "applied_by", "equipment", "method", "variety", "source", "lot",
                "target", "pest", "severity", "photo")
# The fertilisers sold everywhere, as a shop writes them; the diary adds the names a
# cooperative has used. Fertilisers never come from the pesticide registry.
COMMON_FERTILISERS = ("Urê", "DAP", "NPK 16-16-8", "NPK 20-20-15", "NPK 30-10-10",
                      "Kali clorua (KCl)", "Super lân", "Lân nung chảy", "Phân hữu cơ vi sinh",
                      "Vôi bột")
EFFECTIVE = ("e.action != 'void' AND NOT EXISTS "
             "(SELECT 1 FROM diary_entries c WHERE c.corrects = e.id)")


@dataclass(frozen=True)
class RecordResult(OpResult[DiaryEntry]):
    """The entry recorded, what changed, and the compliance findings to warn about."""

    findings: tuple[StoredFinding, ...] = ()

    @property
    def compliant(self) -> bool:
        return self.value.compliant


class Diary:
    """`ws.farm.diary`: recording, correcting and reading the diary. Entries name a plot and
    a season (`orgs`); applications are checked against the pesticide `registry`."""

    def __init__(self, ws: Workspace, orgs: OrgBook, registry: Registry):
        self.ws = ws
        self.orgs = orgs
        self.registry = registry

    # -- writing ------------------------------------------------------------------------
    def record(self, plot: str | Plot, season: str | Season, kind: str, on: Any,
               **details: Any) -> RecordResult:
        """Record a diary entry. Returns the entry and its findings (banned ingredient on that
        day, harvest inside a PHI): a non-compliant entry is still recorded, marked so."""
        return self._write("record", None, plot, season, kind, on, details, "")

    def amend(self, entry_id: str, *, reason: str, on: Any = None, **details: Any
              ) -> RecordResult:
        """A correction with the full new content; details not given keep their value."""
        with self.ws.transaction():
            original = self._correctable(entry_id, reason)
            inputs = inputs_of(original)
            if "quantity" in details and "unit" not in details:
                inputs.pop("unit", None)  # "1,5 tấn" brings its own unit
            if {"area", "area_ha"} & set(details):
                inputs.pop("area", None)
                inputs.pop("area_ha", None)
            inputs.update(details)
            return self._write("amend", original.id, original.plot_id, original.season_id,
                               original.kind, on or original.on, inputs, reason)

    def void(self, entry_id: str, *, reason: str) -> RecordResult:
        with self.ws.transaction() as tx:
            original = self._correctable(entry_id, reason)
            row_id = tx.append("diary_entries", {
                "plot_id": original.plot_id, "season_id": original.season_id,
                "kind": original.kind, "action": "void", "corrects": original.id,
                "on_date": original.on.isoformat(), "details": "{}", "product_id": None,
                "product_name": "", "active_ingredients": "[]", "quantity": None, "unit": "",
                "quantity_kg": None, "area_ha": None, "compliant": 1, "findings": "[]",
                "reason": nfc(reason), "recorded_by": self.ws.actor})
        return RecordResult(self.entry(row_id), tx.changes)

    def _correctable(self, entry_id: str, reason: str) -> DiaryEntry:
        original = self.entry(entry_id)
        if not original.effective:
            raise ValidationError({"entry": _(
                "This entry was already corrected or voided; correct the latest version.")})
        if not nfc(reason):
            raise ValidationError({"reason": _("Say why the entry is being corrected.")})
        return original

    def _write(self, action: str, corrects: str | None, plot: str | Plot,
               season: str | Season, kind: str, on: Any, details: Mapping[str, Any],
               reason: str) -> RecordResult:
        with self.ws.transaction() as tx:
            target, period = self.orgs.plot(plot), self.orgs.season(season)
            values = self._clean_entry(target, period, kind, on, details, corrects)
            row_id = uuid7()  # known before writing: each finding names its entry
            found = self._findings(target, values, corrects, row_id)
            values.update(
                action=action, corrects=corrects, reason=nfc(reason),
                recorded_by=self.ws.actor, compliant=int(not checks.blocking(found)),
                findings=json.dumps([f.to_dict() for f in found], ensure_ascii=False))
            tx.append("diary_entries", values, row_id)
        return RecordResult(self.entry(row_id), tx.changes, tuple(found))

    # -- validation ---------------------------------------------------------------------
    def _clean_entry(self, plot: Plot, season: Season, kind: str, on: Any,
                     details: Mapping[str, Any], corrects: str | None) -> dict[str, Any]:
        if kind not in ENTRY_KINDS:
            raise ValidationError({"kind": _("Unknown kind of diary entry “{kind}”.").format(
                kind=kind)})
        unknown = set(details) - {*COMMON, *KIND_INPUTS[kind]}
        if unknown:
            raise TypeError(f"{kind} entries take no {sorted(unknown)}")
        errors: dict[str, str] = {}
        if season.org_id != plot.org_id:
            errors["season"] = _("The season belongs to another organisation.")
        day = parse_date(on)
        if day is None:
            errors["on"] = _("Give the date (dd/mm/yyyy).")
        elif day > self.ws.today():
            errors["on"] = _("A diary entry cannot be dated in the future.")
        text = {k: nfc(str(details[k])) for k in TEXT_DETAILS if details.get(k) not in (None, "")}
        out: dict[str, Any] = {
            "plot_id": plot.id, "season_id": season.id, "kind": kind,
            "on_date": day.isoformat() if day else "", "product_id": None, "product_name": "",
            "active_ingredients": "[]", "quantity": None, "unit": "", "quantity_kg": None,
            "area_ha": None}
        stored: dict[str, Any] = dict(text)
        quantity = self._quantity(details, errors, required=kind == "harvest")
        if quantity is not None:
            out.update(quantity=float(quantity.value), unit=quantity.unit)
            if quantity.kind == "mass":
                out["quantity_kg"] = float(quantity.in_base())
            elif kind == "harvest":
                errors["quantity"] = _("A harvest is weighed: give kg, tạ, tấn or yến.")
            if quantity.value <= 0:
                errors["quantity"] = _("The quantity must be more than 0.")
        if kind in ("fertiliser", "pesticide"):
            self._application(plot, kind, details, out, stored, errors)
        elif kind == "seed":
            out["product_name"] = nfc(details.get("product") or details.get("variety"))
            if not out["product_name"]:
                errors["product"] = _("Name the seed or seedling variety.")
            if not text.get("source"):
                errors["source"] = _("Say where the seed or seedlings came from.")
        elif kind == "observation" and not (text.get("pest") or text.get("notes")):
            errors["pest"] = _("Say what was seen (pest, disease or damage).")
        elif kind == "land_preparation" and not (text.get("method") or text.get("notes")):
            errors["method"] = _("Say how the land was prepared.")
        if kind == "irrigation" and details.get("hours") not in (None, ""):
            try:
                stored["hours"] = str(parse_amount(str(details["hours"])))
            except ValidationError:
                errors["hours"] = _("Enter a number, for example 1,5.")
        _check_lengths(text, out["product_name"], errors)
        if errors:
            raise ValidationError(errors)
        out["details"] = json.dumps(stored, ensure_ascii=False, sort_keys=True)
        return out

    def _quantity(self, details: Mapping[str, Any], errors: dict[str, str],
                  required: bool) -> Quantity | None:
        value, unit = details.get("quantity"), nfc(str(details.get("unit") or ""))
        if isinstance(value, Quantity):
            return value
        if value in (None, ""):
            if required:
                errors["quantity"] = _("Give the quantity and its unit, for example 1.200 kg.")
            return None
        try:
            if unit:
                amount = value if isinstance(value, int | float | Decimal) else parse_amount(
                    str(value))
                return Quantity(amount, unit)
            return Quantity.parse(str(value))
        except ValidationError as exc:
            errors["quantity"] = exc.message
            return None

    def _application(self, plot: Plot, kind: str, details: Mapping[str, Any],
                     out: dict[str, Any], stored: dict[str, Any], errors: dict[str, str]
                     ) -> None:
        """Product, ingredients, dose and area of a fertiliser or pesticide application."""
        product_text = nfc(str(details.get("product") or ""))
        ingredients = [nfc(i) for i in details.get("active_ingredients") or () if nfc(i)]
        if kind == "pesticide":
            if product_text:
                try:
                    product = self.registry.product(product_text)
                    out.update(product_id=product.id, product_name=product.name)
                    ingredients = ingredients or list(product.active_ingredients)
                except NotFound:  # a product outside the registry, named with its ingredients
                    out["product_name"] = product_text
                    if not ingredients:
                        errors["product"] = _(
                            "“{name}” is not in the registry: give its active ingredients."
                        ).format(name=product_text)
            elif not ingredients:
                errors["product"] = _("Choose the product, or give its active ingredients.")
            if not stored.get("applied_by"):
                errors["applied_by"] = _("Say who applied it.")
            out["active_ingredients"] = json.dumps(ingredients, ensure_ascii=False)
        else:
            out["product_name"] = product_text
            if not product_text:
                errors["product"] = _("Name the fertiliser.")
        dose = details.get("dose")
        if dose in (None, ""):
            if out["quantity"] is None:
                errors["dose"] = _("Give the dose, for example 1,5 l/ha.")
        else:
            try:
                parsed = dose if isinstance(dose, Dose) else (
                    Dose(**dose) if isinstance(dose, Mapping) else Dose.parse(str(dose)))
                stored["dose"] = {"amount": str(parsed.amount), "unit": parsed.unit,
                                  "per": parsed.per}
            except ValidationError as exc:
                errors["dose"] = exc.message
        out["area_ha"] = self._area_ha(plot, details, stored, errors)

    def _area_ha(self, plot: Plot, details: Mapping[str, Any], stored: dict[str, Any],
                 errors: dict[str, str]) -> float | None:
        area, area_ha = details.get("area"), details.get("area_ha")
        try:
            if area not in (None, ""):
                parsed = area if isinstance(area, Quantity) else Quantity.parse(str(area))
                if parsed.kind != "area":
                    raise ValidationError({"area": _("Give the area in ha, công or m².")})
                stored["area"] = {"value": str(parsed.value), "unit": parsed.unit}
                return float(parsed.to("ha", settings.cong_m2(self.ws)).value)
            if area_ha not in (None, ""):
                value = area_ha if isinstance(area_ha, int | float) else parse_amount(
                    str(area_ha))
                if float(value) <= 0:
                    raise ValidationError({"area": _("The area must be more than 0 ha.")})
                return float(value)
        except ValidationError as exc:
            errors["area"] = exc.message
            return None
        if plot.area_ha is None:
            errors["area"] = _("Give the area treated (the plot has no area recorded).")
        return plot.area_ha

    def _findings(self, plot: Plot, values: Mapping[str, Any], corrects: str | None,
                  row_id: str) -> list[StoredFinding]:
        day = dt.date.fromisoformat(values["on_date"])
        if values["kind"] == "pesticide":
            ingredients = tuple(json.loads(values["active_ingredients"]))
            return checks.application_findings(self.registry, row_id, day, values["product_id"],
                                               values["product_name"], ingredients, plot.crop)
        if values["kind"] == "harvest":
            applications = self.applications(plot.id, values["season_id"], day,
                                             exclude=corrects)
            return checks.harvest_findings(self.registry, day, applications, plot.crop)
        return []

    # -- reading ------------------------------------------------------------------------
    def product_suggestions(self, kind: str) -> list[str]:
        """The names the product field offers for a kind of entry, each list its own: the
        pesticide registry for a pesticide; for a fertiliser the common ones and those the
        diary used before; for seed the varieties used before and those of the plots. A
        fertiliser or seed list never holds a pesticide of the registry."""
        if kind == "pesticide":
            return [product.name for product in self.registry.products()]
        if kind not in ("fertiliser", "seed"):
            return []
        used = [row[0] for row in self.ws.conn.execute(
            "SELECT e.product_name FROM diary_entries e WHERE e.kind = ? AND "
            f"e.product_name != '' AND {EFFECTIVE} GROUP BY e.product_name "
            "ORDER BY count(*) DESC, max(e.on_date) DESC", (kind,))]
        if kind == "fertiliser":
            names = [*used, *COMMON_FERTILISERS]
        else:
            names = [*used, *(plot.variety for plot in self.orgs.plots() if plot.variety)]
        pesticides = {folded_key(product.name)
                      for product in self.registry.products(include_inactive=True)}
        seen: set[str] = set()
        offered = []
        for name in names:
            key = folded_key(name)
            if key not in seen and key not in pesticides:
                seen.add(key)
                offered.append(name)
        return offered

    def entry(self, entry_id: str) -> DiaryEntry:
        found = self._load("e.id = ?", (entry_id,))
        if not found:
            raise NotFound(_("No diary entry with id {id}.").format(id=entry_id))
        return found[0]

    def timeline(self, plot: str | Plot | None = None, season: str | Season | None = None,
                 *, effective_only: bool = False) -> list[DiaryEntry]:
        """Entries oldest first, corrections included (with effective/superseded flags)."""
        where, args = ["1 = 1"], []
        if plot is not None:
            where.append("e.plot_id = ?")
            args.append(self.orgs.plot(plot).id)
        if season is not None:
            where.append("e.season_id = ?")
            args.append(self.orgs.season(season).id)
        if effective_only:
            where.append(EFFECTIVE)
        return self._load(" AND ".join(where), tuple(args))

    def effective_entries(self, plot_ids: Sequence[str], season_id: str | None,
                          kinds: Sequence[str] | None = None, up_to: dt.date | None = None
                          ) -> list[DiaryEntry]:
        where, args = [EFFECTIVE, f"e.plot_id IN ({','.join('?' * len(plot_ids))})"], \
            list(plot_ids)
        if season_id is not None:
            where.append("e.season_id = ?")
            args.append(season_id)
        if kinds:
            where.append(f"e.kind IN ({','.join('?' * len(kinds))})")
            args.extend(kinds)
        if up_to is not None:
            where.append("e.on_date <= ?")
            args.append(up_to.isoformat())
        return self._load(" AND ".join(where), tuple(args))

    def applications(self, plot_id: str, season_id: str, up_to: dt.date,
                     exclude: str | None = None) -> list[DiaryEntry]:
        """Effective pesticide entries on the plot in the season up to a day."""
        return [e for e in self.effective_entries([plot_id], season_id, ("pesticide",), up_to)
                if e.id != exclude]

    def current_version(self, entry_id: str) -> DiaryEntry | None:
        """The entry as it stands now: its latest correction, or None if the chain of
        corrections ends in a void."""
        entry = self.entry(entry_id)
        while entry.superseded_by:
            entry = self.entry(entry.superseded_by[-1])
        return None if entry.action == "void" else entry

    def _load(self, where: str, args: tuple[object, ...]) -> list[DiaryEntry]:
        conn = self.ws.conn
        rows = conn.execute(f"SELECT e.* FROM diary_entries e WHERE {where} "
                            "ORDER BY e.on_date, e.created_at", args).fetchall()
        if not rows:
            return []
        superseded: dict[str, list[str]] = {r["id"]: [] for r in rows}
        for r in select_in(conn, "SELECT id, corrects FROM diary_entries "
                                 "WHERE corrects IN ({marks}) ORDER BY created_at",
                           list(superseded)):
            superseded[r["corrects"]].append(r["id"])
        return [DiaryEntry.from_row(r, tuple(superseded[r["id"]])) for r in rows]


def _check_lengths(text: Mapping[str, str], product_name: str, errors: dict[str, str]
                   ) -> None:
    """What was typed fits the entry's synced fields (tables.ENTRY_TYPES): each text detail,
    and the product's name."""
    limits = [(name, value, TEXT_LENGTH) for name, value in text.items()]
    limits.append(("product", product_name, NAME_LENGTH))
    for name, value, limit in limits:
        if len(value) > limit and name not in errors:
            errors[name] = _("This is too long: at most {limit} characters.").format(
                limit=limit)


def inputs_of(entry: DiaryEntry) -> dict[str, Any]:
    """An entry's content as record() inputs, so an amendment can change only some."""
    inputs: dict[str, Any] = {k: v for k, v in entry.details.items()
                              if k in TEXT_DETAILS and k in {*COMMON, *KIND_INPUTS[entry.kind]}}
    allowed = KIND_INPUTS[entry.kind]
    if "product" in allowed and (entry.product_id or entry.product_name):
        inputs["product"] = entry.product_id or entry.product_name
    if "active_ingredients" in allowed and not entry.product_id:
        inputs["active_ingredients"] = list(entry.active_ingredients)
    if entry.quantity is not None:
        inputs.update(quantity=entry.quantity, unit=entry.unit)
    if "dose" in allowed and "dose" in entry.details:
        inputs["dose"] = dict(entry.details["dose"])
    if "area" in allowed:
        if "area" in entry.details:
            inputs["area"] = Quantity(entry.details["area"]["value"], entry.details["area"]["unit"])
        elif entry.area_ha is not None:
            inputs["area_ha"] = entry.area_ha
    if "hours" in entry.details:
        inputs["hours"] = entry.details["hours"]
    return inputs
