"""Harvest lots, their compliance, the QR payloads, print runs and the trace record.

A lot groups harvest entries of one crop (one or more plots). Its compliance is worked out
from the diary every time it is asked for — an amendment of an old spraying counts at once —
and a non-compliant lot never gets labels: the refusal carries every reason.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dxkit.core.errors import DxError, NotFound, ValidationError
from dxkit.core.i18n import _, format_date
from dxkit.core.synced import OpResult
from dxkit.core.text import nfc
from dxkit.farm import checks, gs1, settings
from dxkit.farm.compliance import Finding
from dxkit.farm.model import DiaryEntry, Lot, LotStatus, Org, PrintRun, StoredFinding
from dxkit.farm.orgs import parse_date
from dxkit.farm.pesticides import crop_name
from dxkit.farm.trace_record import TracePlot, TraceRecord, TraceStep
from dxkit.farm.units import Dose, format_quantity

if TYPE_CHECKING:
    from dxkit.farm.diary import Diary
    from dxkit.farm.orgs import OrgBook
    from dxkit.farm.registry import Registry
    from dxkit.farm.workspace import FarmWorkspace as Workspace

# What a buyer sees of the diary: the inputs and the work that shaped the product.
BUYER_KINDS = ("land_preparation", "seed", "sowing", "fertiliser", "pesticide", "harvest")
MAX_LABELS_PER_RUN = 10_000


class LotNotCompliant(DxError):
    """Labels refused: `reasons` lists every sentence the user must see."""

    def __init__(self, lot_code: str, reasons: Sequence[str]):
        self.reasons = tuple(reasons)
        super().__init__(_("Lot {code} cannot get labels: {reasons}").format(
            code=lot_code, reasons=" ".join(self.reasons)))


@dataclass(frozen=True)
class PrintResult(OpResult[PrintRun]):
    """The print run recorded, what changed, and the trace record published with it: the one
    record the labels' text is taken from."""

    trace: TraceRecord


class Lots:
    """`ws.farm.lots`: harvest lots, their compliance, QR payloads, print runs and serials,
    and the trace record. A lot is made of harvests in the `diary`, on plots of an
    organisation (`orgs`); its compliance checks the applications against the `registry`."""

    def __init__(self, ws: Workspace, orgs: OrgBook, diary: Diary, registry: Registry):
        self.ws = ws
        self.orgs = orgs
        self.diary = diary
        self.registry = registry

    # -- creating -----------------------------------------------------------------------
    def create(self, harvest_entry_ids: Sequence[str], *, product: str = "",
               pack_date: Any = None, org: str | Org | None = None,
               item_reference: str | int | None = None, notes: str = "") -> OpResult[Lot]:
        """A lot of harvests of one crop; its code (with check character) comes from the
        organisation's short code, the pack date and that day's next sequence number. A GTIN
        is made when the organisation has a GS1 company prefix and `item_reference` is given."""
        with self.ws.transaction() as tx:
            harvests = self._lot_harvests(harvest_entry_ids)
            plots = {e.plot_id: self.orgs.plot(e.plot_id) for e in harvests}
            owner = self._lot_org(org, {p.org_id for p in plots.values()})
            crops = {p.crop for p in plots.values()}
            errors: dict[str, str] = {}
            if len(crops) > 1:
                errors["harvests"] = _("A lot holds one crop; these harvests are of {crops}."
                                       ).format(crops=", ".join(sorted(map(crop_name, crops))))
            day = parse_date(pack_date) if pack_date else self.ws.today()
            last_harvest = max(e.on for e in harvests)
            if day is None:
                errors["pack_date"] = _("The pack date is not a date (dd/mm/yyyy).")
            elif day < last_harvest:
                errors["pack_date"] = _("The pack date cannot be before the harvest ({date})."
                                        ).format(date=format_date(last_harvest))
            elif day > self.ws.today():
                errors["pack_date"] = _("The pack date cannot be in the future.")
            gtin = self._lot_gtin(owner, item_reference, errors)
            if errors:
                raise ValidationError(errors)
            assert day is not None
            crop = crops.pop()
            varieties = sorted({p.variety for p in plots.values() if p.variety})
            variety = ", ".join(varieties)
            sequence = self._next_sequence(owner.id, day)
            seasons = {e.season_id for e in harvests}
            row_id = tx.insert("lots", {
                "org_id": owner.id, "season_id": seasons.pop() if len(seasons) == 1 else None,
                "code": gs1.make_lot_code(owner.short_code, day, sequence),
                "sequence": sequence,
                "product": nfc(product) or f"{crop_name(crop)} {variety}".strip(),
                "crop": crop, "variety": variety, "pack_date": day.isoformat(),
                "quantity_kg": round(sum(e.quantity_kg or 0 for e in harvests), 3),
                "gtin": gtin, "status": "open", "notes": nfc(notes)})
            for entry in harvests:
                tx.append("lot_harvests", {"lot_id": row_id, "entry_id": entry.id})
        return OpResult(self.get(row_id), tx.changes)

    def _lot_harvests(self, entry_ids: Sequence[str]) -> list[DiaryEntry]:
        if not entry_ids:
            raise ValidationError({"harvests": _("Choose the harvests that make up the lot.")})
        entries = []
        for entry_id in dict.fromkeys(entry_ids):
            entry = self.diary.entry(entry_id)
            if entry.kind != "harvest" or not entry.effective:
                raise ValidationError({"harvests": _(
                    "Only harvest entries in effect (not corrected or voided) go into a lot.")})
            taken = self.ws.conn.execute(
                "SELECT l.code FROM lot_harvests h JOIN lots l ON l.id = h.lot_id "
                "WHERE h.entry_id = ? AND l.deleted = 0", (entry.id,)).fetchone()
            if taken:
                raise ValidationError({"harvests": _(
                    "The harvest of {date} is already in lot {code}.").format(
                    date=format_date(entry.on), code=taken[0])})
            entries.append(entry)
        return entries

    def _lot_org(self, org: str | Org | None, owners: set[str]) -> Org:
        if len(owners) > 1:
            raise ValidationError({"harvests": _(
                "The harvests belong to plots of different organisations.")})
        owner = self.orgs.get(org if org is not None else next(iter(owners)))
        if owner.id not in owners:
            raise ValidationError({"org": _("The harvests are not from plots of {org}.").format(
                org=owner.name)})
        return owner

    def _lot_gtin(self, owner: Org, item_reference: str | int | None,
                  errors: dict[str, str]) -> str:
        if item_reference in (None, ""):
            return ""
        if not owner.gs1_company_prefix:
            errors["item_reference"] = _("{org} has no GS1 company prefix, so its lots have no "
                                         "GTIN.").format(org=owner.name)
            return ""
        try:
            return gs1.make_gtin14(owner.gs1_company_prefix, item_reference)
        except ValidationError as exc:
            errors["item_reference"] = exc.message
            return ""

    def _next_sequence(self, org_id: str, day: dt.date) -> int:
        row = self.ws.conn.execute("SELECT max(sequence) FROM lots WHERE org_id = ? AND "
                                   "pack_date = ?", (org_id, day.isoformat())).fetchone()
        return (row[0] or 0) + 1

    # -- reading ------------------------------------------------------------------------
    def all(self, org: str | Org | None = None) -> list[Lot]:
        """The lots (of one organisation when `org` is given), newest pack date first."""
        where, args = "deleted = 0", tuple[str, ...]()
        if org is not None:
            where, args = "deleted = 0 AND org_id = ?", (self.orgs.get(org).id,)
        rows = self.ws.conn.execute(
            f"SELECT * FROM lots WHERE {where} ORDER BY pack_date DESC, code", args).fetchall()
        return [self._lot_from_row(r) for r in rows]

    def get(self, code_or_id: str | Lot) -> Lot:
        """By id or lot code (check character and case forgiven)."""
        if isinstance(code_or_id, Lot):
            code_or_id = code_or_id.id
        conn = self.ws.conn
        row = conn.execute("SELECT * FROM lots WHERE id = ?", (code_or_id,)).fetchone()
        if row is None:
            try:
                code = gs1.normalize_lot_code(code_or_id)
            except ValidationError:
                code = nfc(code_or_id).upper()
            row = conn.execute("SELECT * FROM lots WHERE code = ? AND deleted = 0 "
                               "ORDER BY updated_at LIMIT 1", (code,)).fetchone()
        if row is None:
            raise NotFound(_("No lot with code {code}.").format(code=code_or_id))
        return self._lot_from_row(row)

    def _lot_from_row(self, row: Any) -> Lot:
        entry_ids = tuple(r[0] for r in self.ws.conn.execute(
            "SELECT entry_id FROM lot_harvests WHERE lot_id = ? ORDER BY created_at",
            (row["id"],)))
        status = self._status(row["crop"], entry_ids, row["id"], row["code"])
        return Lot.from_row(row, entry_ids, status.compliant, status.reasons)

    def shares_code(self, lot: str | Lot) -> bool:
        """Whether another lot has this lot's code (numbered on two laptops offline)."""
        found = self.get(lot)
        return self.ws.conn.execute("SELECT 1 FROM lots WHERE code = ? AND id != ? AND "
                                    "deleted = 0", (found.code, found.id)).fetchone() is not None

    def recode(self, lot: str | Lot) -> OpResult[Lot]:
        """Give a lot the next free code of its pack date: the way out when two laptops,
        offline, gave two lots the same code. Labels already printed keep the old code."""
        with self.ws.transaction() as tx:
            found = self.get(lot)
            owner = self.orgs.get(found.org_id)
            sequence = self._next_sequence(owner.id, found.pack_date)
            tx.update("lots", found.id, {
                "code": gs1.make_lot_code(owner.short_code, found.pack_date, sequence),
                "sequence": sequence})
        return OpResult(self.get(found.id), tx.changes)

    # -- compliance ---------------------------------------------------------------------
    def status(self, lot: str | Lot) -> LotStatus:
        """Compliant or not, with every reason as a sentence, from the diary as it is now:
        all effective applications on the lot's plots in the harvests' seasons, up to the
        harvests."""
        found = self.get(lot)
        return self._status(found.crop, found.harvest_entry_ids, found.id, found.code)

    def _status(self, crop: str, entry_ids: Sequence[str], lot_id: str = "",
                code: str = "") -> LotStatus:
        reasons: list[str] = []
        twins = self.ws.conn.execute("SELECT 1 FROM lots WHERE code = ? AND id != ? AND "
                                     "deleted = 0", (code, lot_id)).fetchone()
        if twins:  # two laptops numbered lots offline; a QR must name exactly one lot
            reasons.append(_("Another lot has the same code {code} (made on another laptop "
                             "before they synced); give one of them a new code.").format(
                                 code=code))
        harvests: dict[tuple[str, str], list[dt.date]] = defaultdict(list)
        for entry_id in entry_ids:
            current = self.diary.current_version(entry_id)
            if current is None:
                original = self.diary.entry(entry_id)
                reasons.append(_("The harvest of {date} on {plot} was voided in the diary."
                                 ).format(date=format_date(original.on),
                                          plot=self.orgs.plot(original.plot_id).name))
                continue
            harvests[(current.plot_id, current.season_id)].append(current.on)
        findings: list[Finding] = []
        for (plot_id, season_id), days in harvests.items():
            applications = self.diary.effective_entries([plot_id], season_id, ("pesticide",),
                                                        max(days))
            findings.extend(checks.plot_findings(self.registry, crop, days, applications))
        unique = list(dict.fromkeys(findings))
        reasons.extend(f.message for f in unique if f.is_violation)
        return LotStatus(not reasons, tuple(reasons),
                         tuple(StoredFinding.of(f) for f in unique))

    # -- labels -------------------------------------------------------------------------
    def qr_payloads(self, lot: str | Lot, serials: int | Sequence[int] | None = None
                    ) -> list[str]:
        """What the QR codes hold: one lot-level payload, or one per serial (a count previews
        the next serials without reserving them). The trace URL of the lot (the provincial
        base URL is the setting farm.trace_base_url), or a GS1 Digital Link when the lot has a
        GTIN (resolver: farm.gs1_resolver)."""
        found = self.get(lot)
        team_key = settings.trace_team_key(self.ws)  # read once for a run of 10,000 labels
        if serials is None:
            return [self._payload(found, None, team_key)]
        numbers = self.next_serials(found, serials) if isinstance(serials, int) else serials
        return [self._payload(found, number, team_key) for number in numbers]

    def _payload(self, lot: Lot, serial: int | None, team_key: str | None) -> str:
        return gs1.qr_payload(lot.code, trace_base_url=settings.trace_base_url(self.ws),
                              gtin=lot.gtin or None, resolver=settings.gs1_resolver(self.ws),
                              pack_date=lot.pack_date,
                              serial=None if serial is None else str(serial),
                              team_key=team_key)

    def next_serials(self, lot: str | Lot, count: int) -> list[int]:
        """The serial numbers (GS1 AI 21) the next serialised print of `count` labels of this
        lot gets: they follow the highest serial of any print run of the lot, printed here or
        arrived by sync, so a number once printed is never handed out again. Asking reserves
        nothing (a preview shows these): `record_print(..., serials=True)` takes them, in its
        transaction, so a print in between moves them on."""
        row = self.ws.conn.execute("SELECT max(serial_to) FROM label_prints WHERE lot_id = ?",
                                   (self.get(lot).id,)).fetchone()
        first = (row[0] or 0) + 1
        return list(range(first, first + count))

    def record_print(self, lot: str | Lot, template: str, copies: int,
                     start: int = 1, serials: bool = False) -> PrintResult:
        """Record a print run (an event) and publish the lot's trace snapshot. Refuses a
        non-compliant lot (LotNotCompliant, with the reasons), and any lot while nobody has
        confirmed the trace address in the codes (TraceAddressNotConfirmed). With `serials`,
        each label gets the next serial number of the lot (GS1 AI 21, see `next_serials`);
        numbers are never reused. The result carries the trace record published, built once, for the
        labels' text."""
        with self.ws.transaction() as tx:
            found = self.get(lot)
            if not found.compliant:
                raise LotNotCompliant(found.code, found.reasons)
            if not settings.trace_confirmed(self.ws):
                raise settings.TraceAddressNotConfirmed(settings.trace_base_url(self.ws))
            errors: dict[str, str] = {}
            if not nfc(template):
                errors["template"] = _("Choose the label sheet or roll.")
            if not isinstance(copies, int) or not 1 <= copies <= MAX_LABELS_PER_RUN:
                errors["copies"] = _("Print between 1 and {max} labels.").format(
                    max=MAX_LABELS_PER_RUN)
            if not isinstance(start, int) or start < 1:
                errors["start"] = _("The first label position is 1 or more.")
            if errors:
                raise ValidationError(errors)
            numbers = self.next_serials(found, copies) if serials else []
            row_id = tx.append("label_prints", {
                "lot_id": found.id, "template": nfc(template), "copies": copies,
                "start_position": start, "serial_from": numbers[0] if numbers else None,
                "serial_to": numbers[-1] if numbers else None,
                "printed_at": self.ws.now().isoformat(), "printed_by": self.ws.actor})
            record = self.trace_record(found)
            self._publish(tx, record)
            row = self.ws.conn.execute("SELECT * FROM label_prints WHERE id = ?",
                                       (row_id,)).fetchone()
            payloads = tuple(self.qr_payloads(found, numbers) if serials
                             else self.qr_payloads(found))
        return PrintResult(PrintRun.from_row(row, payloads), tx.changes, record)

    def serial_overlaps(self, lot: str | Lot) -> list[tuple[int, int]]:
        """Serial ranges printed twice for this lot — two laptops printing the same lot
        offline each started from the last serial they knew. Later runs never overlap (the
        next serial follows the highest one synced), but labels already printed carry the
        same numbers: the cooperative should know which."""
        ranges = sorted((run.serial_from, run.serial_to) for run in self.print_runs(lot)
                        if run.serial_from is not None and run.serial_to is not None)
        overlaps: list[tuple[int, int]] = []
        reach = 0
        for first, last in ranges:
            if first <= reach:
                overlaps.append((first, min(last, reach)))
            reach = max(reach, last)
        return overlaps

    def print_runs(self, lot: str | Lot) -> list[PrintRun]:
        found = self.get(lot)
        rows = self.ws.conn.execute("SELECT * FROM label_prints WHERE lot_id = ? "
                                    "ORDER BY created_at", (found.id,))
        return [PrintRun.from_row(r) for r in rows]

    def _publish(self, tx: Any, record: TraceRecord) -> None:
        """The snapshot the hub serves at the lot's trace URL (id = the lot code)."""
        values = {"lot_id": record.lot_id, "lot_code": record.lot_code,
                  "snapshot": json.dumps(record.to_dict(), ensure_ascii=False, sort_keys=True),
                  "published_at": self.ws.now().isoformat()}
        exists = self.ws.conn.execute("SELECT snapshot FROM published_traces WHERE id = ?",
                                      (record.lot_code,)).fetchone()
        if exists is None:
            tx.insert("published_traces", values, record.lot_code)
        elif exists[0] != values["snapshot"]:
            tx.update("published_traces", record.lot_code, {**values, "deleted": 0})

    def published_trace(self, lot_code: str) -> TraceRecord | None:
        row = self.ws.conn.execute("SELECT snapshot FROM published_traces WHERE id = ? AND "
                                   "deleted = 0", (lot_code,)).fetchone()
        return TraceRecord.from_dict(json.loads(row[0])) if row else None

    # -- the trace record ---------------------------------------------------------------
    def trace_record(self, lot_code: str | Lot) -> TraceRecord:
        """What a buyer sees: product, cooperative, growing areas, dates, certification, and
        the diary steps (effective entries on the lot's plots in their season up to the last
        harvest, the kinds a buyer cares about, oldest first) with the compliance result."""
        lot = self.get(lot_code)
        org = self.orgs.get(lot.org_id)
        harvests = [h for h in (self.diary.current_version(i) for i in lot.harvest_entry_ids)
                    if h]
        plots = {h.plot_id: self.orgs.plot(h.plot_id) for h in harvests}
        seasons = {h.season_id: self.orgs.season(h.season_id) for h in harvests}
        steps: list[TraceStep] = []
        harvest_ids = {h.id for h in harvests}
        for (plot_id, season_id) in dict.fromkeys((h.plot_id, h.season_id) for h in harvests):
            last = max(h.on for h in harvests if h.plot_id == plot_id)
            for entry in self.diary.effective_entries([plot_id], season_id, BUYER_KINDS,
                                                      last):
                if entry.kind != "harvest" or entry.id in harvest_ids:
                    steps.append(self._step(entry, plots[plot_id].name))
        steps.sort(key=lambda s: s.on)
        steps.append(TraceStep(lot.pack_date, "packing", ", ".join(p.name for p in
                                                                   plots.values()),
                               quantity=format_quantity(lot.quantity_kg, "kg")))
        # A certification is claimed only when every plot of the lot has it: the plots' own
        # if they name one, else the organisation's (a group certificate).
        certifications = {p.certification or org.certification for p in plots.values()}
        certification = certifications.pop() if len(certifications) == 1 else ""
        return TraceRecord(
            lot_code=lot.code, lot_id=lot.id, product=lot.product, crop=crop_name(lot.crop),
            variety=lot.variety, quantity_kg=lot.quantity_kg, pack_date=lot.pack_date,
            harvest_dates=tuple(sorted({h.on for h in harvests})), cooperative=org.name,
            cooperative_address=org.address,
            season=", ".join(s.name for s in seasons.values()),
            certification=certification,
            plots=tuple(TracePlot(p.name, p.growing_area_code, p.area_ha, p.location)
                        for p in plots.values()),
            steps=tuple(steps), compliant=lot.compliant, reasons=lot.reasons,
            gtin=lot.gtin or None,
            trace_url=self._payload(lot, None, settings.trace_team_key(self.ws)))

    def _step(self, entry: DiaryEntry, plot_name: str) -> TraceStep:
        dose = entry.details.get("dose")
        quantity = ""
        if entry.kind == "harvest" and entry.quantity is not None:
            quantity = format_quantity(entry.quantity, entry.unit)
        note = entry.details.get("source") or entry.details.get("method") or ""
        return TraceStep(
            on=entry.on, kind=entry.kind, plot=plot_name,  # type: ignore[arg-type]
            product=entry.product_name, active_ingredients=entry.active_ingredients,
            dose=Dose(dose["amount"], dose["unit"], dose["per"]).format() if dose else "",
            quantity=quantity, note=note)
