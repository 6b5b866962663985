"""What a buyer sees about a harvest lot: the shared shape behind the HTML trace page, the
EPCIS export, the labels and the hub's trace URL.

`dxkit.farm` builds a TraceRecord from the diary (`ws.farm.lots.trace_record(lot_code)`);
the renderers only read it. Names of products, places and people are data (Vietnamese as
entered); step kinds are codes the renderers translate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

StepKind = Literal["land_preparation", "seed", "sowing", "fertiliser", "pesticide",
                   "irrigation", "observation", "harvest", "packing"]


@dataclass(frozen=True)
class TraceStep:
    """One diary step shown to the buyer (inputs used, with dates)."""

    on: dt.date
    kind: StepKind
    plot: str                      # plot name
    product: str = ""              # fertiliser / pesticide / seed product name
    active_ingredients: tuple[str, ...] = ()
    dose: str = ""                 # "1,5 l/ha", human-readable, already formatted
    quantity: str = ""             # harvest quantity, "1.200 kg"
    note: str = ""


@dataclass(frozen=True)
class TracePlot:
    name: str
    growing_area_code: str         # opaque string issued by the authorities ("" if none)
    area_ha: float | None
    address: str                   # location as entered


@dataclass(frozen=True)
class TraceRecord:
    lot_code: str                  # human-readable, with its check character
    lot_id: str                    # the lot's UUID (EPCIS identifiers use it)
    product: str                   # "Gạo ST25", "Xoài cát Hòa Lộc"
    crop: str                      # crop name, "Lúa", "Xoài"
    variety: str
    quantity_kg: float
    pack_date: dt.date
    harvest_dates: tuple[dt.date, ...]
    cooperative: str               # organisation name
    cooperative_address: str       # "Xã Mỹ Đông, Đồng Tháp"
    season: str                    # "Đông Xuân 2026–2027"
    certification: str             # "VietGAP" or ""
    plots: tuple[TracePlot, ...]
    steps: tuple[TraceStep, ...]   # oldest first
    compliant: bool
    reasons: tuple[str, ...] = ()  # translated sentences when not compliant
    gtin: str | None = None        # GTIN-14 when the cooperative has a GS1 company prefix
    trace_url: str = ""            # what the lot-level QR holds
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (dates as ISO strings): the hub's JSON answer and the published
        snapshot."""
        data = asdict(self)
        data["pack_date"] = self.pack_date.isoformat()
        data["harvest_dates"] = [day.isoformat() for day in self.harvest_dates]
        data["steps"] = [{**step, "on": step["on"].isoformat(),
                          "active_ingredients": list(step["active_ingredients"])}
                         for step in data["steps"]]
        data["plots"] = list(data["plots"])
        data["reasons"] = list(self.reasons)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TraceRecord:
        return cls(
            **{**data,
               "pack_date": dt.date.fromisoformat(data["pack_date"]),
               "harvest_dates": tuple(dt.date.fromisoformat(d) for d in data["harvest_dates"]),
               "plots": tuple(TracePlot(**plot) for plot in data["plots"]),
               "steps": tuple(TraceStep(**{**step, "on": dt.date.fromisoformat(step["on"]),
                                           "active_ingredients":
                                               tuple(step["active_ingredients"])})
                              for step in data["steps"]),
               "reasons": tuple(data.get("reasons", ())),
               "extra": dict(data.get("extra", {}))})

    def checked(self) -> TraceRecord:
        """The record itself when every value has its declared type, else TypeError naming the
        first that has not: a snapshot from elsewhere (the hub serves what a device published)
        may hold anything `from_dict` lets through."""
        texts = ("lot_code", "lot_id", "product", "crop", "variety", "cooperative",
                 "cooperative_address", "season", "certification", "trace_url")
        _expect_all(self, texts, str)
        _expect(self, "quantity_kg", _is_number(self.quantity_kg))
        _expect(self, "pack_date", isinstance(self.pack_date, dt.date))
        _expect(self, "compliant", isinstance(self.compliant, bool))
        _expect(self, "gtin", self.gtin is None or isinstance(self.gtin, str))
        _expect(self, "extra", isinstance(self.extra, dict))
        _expect(self, "reasons", all(isinstance(reason, str) for reason in self.reasons))
        for plot in self.plots:
            _expect_all(plot, ("name", "growing_area_code", "address"), str)
            _expect(plot, "area_ha", plot.area_ha is None or _is_number(plot.area_ha))
        for step in self.steps:
            _expect_all(step, ("kind", "plot", "product", "dose", "quantity", "note"), str)
            _expect(step, "active_ingredients",
                    all(isinstance(name, str) for name in step.active_ingredients))
        return self


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _expect(owner: object, name: str, ok: bool) -> None:
    if not ok:
        raise TypeError(f"{type(owner).__name__}.{name} has the wrong type")


def _expect_all(owner: object, names: tuple[str, ...], kind: type) -> None:
    for name in names:
        _expect(owner, name, isinstance(getattr(owner, name), kind))
