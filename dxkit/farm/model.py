"""What ws.farm hands out: frozen records read from the farm tables."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from dxkit.core.i18n import _

EntryKind = Literal["land_preparation", "seed", "sowing", "fertiliser", "pesticide",
                    "irrigation", "observation", "harvest"]
ENTRY_KINDS: tuple[str, ...] = ("land_preparation", "seed", "sowing", "fertiliser", "pesticide",
                                "irrigation", "observation", "harvest")
ORG_KINDS: tuple[str, ...] = ("cooperative", "farmer_club", "cooperative_group", "company",
                              "household")


def kind_label(kind: str) -> str:
    """A diary kind as the user reads it."""
    return {
        "land_preparation": _("Land preparation"), "seed": _("Seed or seedlings"),
        "sowing": _("Sowing or planting"), "fertiliser": _("Fertiliser"),
        "pesticide": _("Pesticide"), "irrigation": _("Irrigation"),
        "observation": _("Pest or disease observation"), "harvest": _("Harvest"),
    }.get(kind, kind)


def org_kind_label(kind: str) -> str:
    return {
        "cooperative": _("Cooperative"), "farmer_club": _("Farmer club"),
        "cooperative_group": _("Cooperative group"), "company": _("Company"),
        "household": _("Farming household"),
    }.get(kind, kind)


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


@dataclass(frozen=True)
class Org:
    id: str
    name: str
    kind: str
    short_code: str
    address: str
    province_code: str
    commune_code: str
    gs1_company_prefix: str
    certification: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Org:
        return cls(row["id"], row["name"], row["kind"], row["short_code"], row["address"],
                   row["province_code"], row["commune_code"], row["gs1_company_prefix"],
                   row["certification"])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class OrgMember:
    id: str
    org_id: str
    name: str
    person_id: str | None
    role: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> OrgMember:
        return cls(row["id"], row["org_id"], row["name"], row["person_id"], row["role"])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Plot:
    id: str
    org_id: str
    member_id: str | None
    name: str
    growing_area_code: str
    area_ha: float | None
    crop: str
    variety: str
    location: str
    latitude: float | None
    longitude: float | None
    certification: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Plot:
        return cls(row["id"], row["org_id"], row["member_id"], row["name"],
                   row["growing_area_code"], row["area_ha"], row["crop"], row["variety"],
                   row["location"], row["latitude"], row["longitude"], row["certification"])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Season:
    id: str
    org_id: str
    name: str
    crop: str
    starts_on: dt.date
    ends_on: dt.date | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Season:
        return cls(row["id"], row["org_id"], row["name"], row["crop"],
                   dt.date.fromisoformat(row["starts_on"]), _date(row["ends_on"]))

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "starts_on": self.starts_on.isoformat(),
                "ends_on": self.ends_on.isoformat() if self.ends_on else None}


@dataclass(frozen=True)
class StoredFinding:
    """A compliance finding as kept with a diary entry (JSON in `findings`)."""

    code: str
    severity: str
    message: str
    allowed_from: dt.date | None = None
    entry_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity, "message": self.message,
                "allowed_from": self.allowed_from.isoformat() if self.allowed_from else None,
                "entry_id": self.entry_id}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StoredFinding:
        return cls(data["code"], data["severity"], data["message"],
                   _date(data.get("allowed_from")), data.get("entry_id"))

    @classmethod
    def of(cls, finding: Any) -> StoredFinding:
        """From a compliance.Finding (duck-typed: the rules module owns that class)."""
        return cls(str(finding.code), str(finding.severity), str(finding.message),
                   getattr(finding, "allowed_from", None), getattr(finding, "entry_id", None))


@dataclass(frozen=True)
class DiaryEntry:
    id: str
    plot_id: str
    season_id: str
    kind: str
    action: str                     # record | amend | void
    corrects: str | None
    on: dt.date
    details: dict[str, Any]
    product_id: str | None
    product_name: str
    active_ingredients: tuple[str, ...]
    quantity: float | None
    unit: str
    quantity_kg: float | None
    area_ha: float | None
    compliant: bool
    findings: tuple[StoredFinding, ...]
    reason: str
    recorded_by: str
    created_at: str
    superseded_by: tuple[str, ...] = field(default=())

    @property
    def effective(self) -> bool:
        return self.action != "void" and not self.superseded_by

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind)

    @classmethod
    def from_row(cls, row: sqlite3.Row, superseded: tuple[str, ...] = ()) -> DiaryEntry:
        return cls(
            id=row["id"], plot_id=row["plot_id"], season_id=row["season_id"], kind=row["kind"],
            action=row["action"], corrects=row["corrects"],
            on=dt.date.fromisoformat(row["on_date"]), details=json.loads(row["details"]),
            product_id=row["product_id"], product_name=row["product_name"],
            active_ingredients=tuple(json.loads(row["active_ingredients"])),
            quantity=row["quantity"], unit=row["unit"], quantity_kg=row["quantity_kg"],
            area_ha=row["area_ha"], compliant=bool(row["compliant"]),
            findings=tuple(StoredFinding.from_dict(f) for f in json.loads(row["findings"])),
            reason=row["reason"], recorded_by=row["recorded_by"], created_at=row["created_at"],
            superseded_by=superseded)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "plot_id": self.plot_id, "season_id": self.season_id,
            "kind": self.kind, "action": self.action, "corrects": self.corrects,
            "on": self.on.isoformat(), "details": dict(self.details),
            "product_id": self.product_id, "product_name": self.product_name,
            "active_ingredients": list(self.active_ingredients), "quantity": self.quantity,
            "unit": self.unit, "quantity_kg": self.quantity_kg, "area_ha": self.area_ha,
            "compliant": self.compliant, "findings": [f.to_dict() for f in self.findings],
            "reason": self.reason, "recorded_by": self.recorded_by,
            "created_at": self.created_at, "effective": self.effective,
            "superseded_by": list(self.superseded_by),
        }


@dataclass(frozen=True)
class Lot:
    id: str
    org_id: str
    season_id: str | None
    code: str
    sequence: int
    product: str
    crop: str
    variety: str
    pack_date: dt.date
    quantity_kg: float
    gtin: str
    status: str
    harvest_entry_ids: tuple[str, ...]
    compliant: bool = True
    reasons: tuple[str, ...] = ()

    @classmethod
    def from_row(cls, row: sqlite3.Row, harvests: tuple[str, ...], compliant: bool,
                 reasons: tuple[str, ...]) -> Lot:
        return cls(row["id"], row["org_id"], row["season_id"], row["code"], row["sequence"],
                   row["product"], row["crop"], row["variety"],
                   dt.date.fromisoformat(row["pack_date"]), row["quantity_kg"], row["gtin"],
                   row["status"], harvests, compliant, reasons)

    def to_dict(self) -> dict[str, Any]:
        """The shape of `dxkit farm lots list --json`: code, product, compliant, reasons…"""
        return {
            "id": self.id, "code": self.code, "product": self.product, "crop": self.crop,
            "variety": self.variety, "pack_date": self.pack_date.isoformat(),
            "quantity_kg": self.quantity_kg, "gtin": self.gtin or None, "status": self.status,
            "org_id": self.org_id, "season_id": self.season_id,
            "harvest_entry_ids": list(self.harvest_entry_ids),
            "compliant": self.compliant, "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class LotStatus:
    compliant: bool
    reasons: tuple[str, ...]
    findings: tuple[StoredFinding, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"compliant": self.compliant, "reasons": list(self.reasons),
                "findings": [f.to_dict() for f in self.findings]}


@dataclass(frozen=True)
class PrintRun:
    id: str
    lot_id: str
    template: str
    copies: int
    start_position: int
    serial_from: int | None
    serial_to: int | None
    printed_at: dt.datetime
    printed_by: str
    payloads: tuple[str, ...] = ()

    @property
    def serials(self) -> tuple[int, ...]:
        if self.serial_from is None or self.serial_to is None:
            return ()
        return tuple(range(self.serial_from, self.serial_to + 1))

    @classmethod
    def from_row(cls, row: sqlite3.Row, payloads: tuple[str, ...] = ()) -> PrintRun:
        return cls(row["id"], row["lot_id"], row["template"], row["copies"],
                   row["start_position"], row["serial_from"], row["serial_to"],
                   dt.datetime.fromisoformat(row["printed_at"]), row["printed_by"], payloads)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "printed_at": self.printed_at.isoformat(),
                "payloads": list(self.payloads)}


@dataclass(frozen=True)
class ProductWarning:
    """What the product picker shows beside a product: its PHI for the crop and any ban."""

    product_id: str
    product: str
    phi_days: int | None
    earliest_harvest: dt.date | None
    banned: tuple[str, ...]         # ingredients banned on that day
    messages: tuple[str, ...]       # translated sentences

    @property
    def blocked(self) -> bool:
        return bool(self.banned)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "earliest_harvest": self.earliest_harvest.isoformat()
                if self.earliest_harvest else None, "blocked": self.blocked}
