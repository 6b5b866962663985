"""A lot's history as an EPCIS 2.0 JSON-LD document (GS1's exchange format for traceability).

The shape, from DOMAIN.md: each harvest is an ObjectEvent ADD with bizStep commissioning that
creates a harvest batch on its plot; each input used on a plot (seed, fertiliser, pesticide…)
is an ObjectEvent OBSERVE of the crop growing there, with a dxkit bizStep; packing the harvest
batches into the lot is one TransformationEvent.

Identifiers:
- the lot: the canonical GS1 Digital Link of GTIN + lot (https://id.gs1.org/01/…/10/…) when the
  cooperative has a GTIN, otherwise `urn:dxkit:lot:<lot id>`;
- harvest batches and the crop on a plot: `urn:dxkit:lot:<lot id>:harvest:<n>` / `:crop:<n>`;
- places: `urn:dxkit:growing-area:<code>` for a plot with a growing-area code, else
  `urn:dxkit:lot:<lot id>:plot:<n>`; the cooperative `urn:dxkit:organisation:<uuid>`.
What EPCIS has no term for (product names, doses, the compliance result) goes in extension
fields of the `dxkit` namespace declared in @context.

The diary records days, not times: every event is stamped at noon, Vietnam time (+07:00), so
the day survives conversion to any other time zone. The output depends only on the record (and
`created_at`): eventIDs are name-based UUIDs of the lot and the event's content, so re-exporting
an unchanged lot gives the identical document.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

from dxkit.farm.gs1 import digital_link
from dxkit.farm.trace_record import TracePlot, TraceRecord, TraceStep

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
DXKIT_NAMESPACE = "urn:dxkit:epcis:"
MEDIA_TYPE = "application/ld+json"
VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")  # no daylight saving since 1975
TIME_ZONE_OFFSET = "+07:00"
DIGITAL_LINK_RESOLVER = "https://id.gs1.org"
# Fixed namespace for the name-based event UUIDs (uuid5 of this project's EPCIS namespace).
EVENT_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, DXKIT_NAMESPACE)
# "16.500 kg", "1,5 tấn": the diary's quantities are formatted the Vietnamese way.
QUANTITY = re.compile(r"^\s*(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d+))?\s*(kg|tấn)\s*$", re.IGNORECASE)
NOT_INPUTS = ("harvest", "packing")


def epcis_document(record: TraceRecord, *, created_at: dt.datetime | None = None
                   ) -> dict[str, Any]:
    """The EPCISDocument of a lot. Without `created_at` the creation date is the time of the
    latest event, so the document is a pure function of the record."""
    events = [*_input_events(record), *_harvest_events(record), _packing_event(record)]
    events.sort(key=lambda event: event["eventTime"])  # stable: harvests before packing
    stamp = _as_vietnam_time(created_at).isoformat() if created_at else events[-1]["eventTime"]
    return {
        "@context": [EPCIS_CONTEXT, {"dxkit": DXKIT_NAMESPACE}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": stamp,
        "epcisBody": {"eventList": events},
    }


def write_epcis(record: TraceRecord, path: str | Path, *,
                created_at: dt.datetime | None = None) -> Path:
    """Write the document as UTF-8 JSON-LD (Vietnamese text unescaped)."""
    target = Path(path)
    text = json.dumps(epcis_document(record, created_at=created_at), ensure_ascii=False,
                      indent=2)
    target.write_text(text + "\n", encoding="utf-8")
    return target


# -- identifiers -------------------------------------------------------------------------------
def lot_class(record: TraceRecord) -> str:
    """The lot as an EPC class: the canonical GS1 Digital Link of GTIN + lot with a GTIN (an
    invalid GTIN raises ValidationError), a dxkit URN without."""
    if record.gtin:
        return digital_link(record.gtin, record.lot_code, resolver=DIGITAL_LINK_RESOLVER)
    return _lot_urn(record)


def _lot_urn(record: TraceRecord) -> str:
    return f"urn:dxkit:lot:{quote(record.lot_id, safe='')}"


def _plot_index(record: TraceRecord, name: str) -> int | None:
    for index, plot in enumerate(record.plots, start=1):
        if plot.name == name:
            return index
    return None


def _plot_location(record: TraceRecord, index: int) -> str:
    plot: TracePlot = record.plots[index - 1]
    if plot.growing_area_code.strip():
        return f"urn:dxkit:growing-area:{quote(plot.growing_area_code.strip(), safe='')}"
    return f"{_lot_urn(record)}:plot:{index}"


def _cooperative_location(record: TraceRecord) -> str:
    name = f"{record.cooperative}\n{record.cooperative_address}"
    return f"urn:dxkit:organisation:{uuid.uuid5(EVENT_ID_NAMESPACE, name)}"


def _event_id(record: TraceRecord, event: dict[str, Any]) -> str:
    content = json.dumps(event, ensure_ascii=False, sort_keys=True)
    return f"urn:uuid:{uuid.uuid5(EVENT_ID_NAMESPACE, record.lot_id + chr(10) + content)}"


def _with_id(record: TraceRecord, event: dict[str, Any]) -> dict[str, Any]:
    return {"eventID": _event_id(record, event), **event}


def _noon(day: dt.date) -> str:
    return dt.datetime.combine(day, dt.time(12), VIETNAM).isoformat()


def _as_vietnam_time(moment: dt.datetime) -> dt.datetime:
    """A naive datetime is taken as Vietnam time (how the app stores local times)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=VIETNAM)
    return moment.astimezone(VIETNAM)


def _place(record: TraceRecord, plot_name: str) -> dict[str, Any]:
    index = _plot_index(record, plot_name)
    if index is None and len(record.plots) == 1 and not plot_name:
        index = 1
    if index is None:
        return {}
    location = _plot_location(record, index)
    return {"readPoint": {"id": location}, "bizLocation": {"id": location}}


def _text_fields(**values: Any) -> dict[str, Any]:
    """Extension fields `dxkit:<name>`, leaving out empty ones."""
    return {f"dxkit:{name}": value for name, value in values.items() if value not in ("", (), [])}


# -- events ------------------------------------------------------------------------------------
def _input_events(record: TraceRecord) -> list[dict[str, Any]]:
    events = []
    for step in record.steps:
        if step.kind in NOT_INPUTS:
            continue
        index = _plot_index(record, step.plot)
        crop = f"{_lot_urn(record)}:crop:{index or 0}"
        event: dict[str, Any] = {
            "type": "ObjectEvent",
            "eventTime": _noon(step.on),
            "eventTimeZoneOffset": TIME_ZONE_OFFSET,
            "action": "OBSERVE",
            "bizStep": f"{DXKIT_NAMESPACE}bizStep:{step.kind}",
            "quantityList": [{"epcClass": crop}],
            **_place(record, step.plot),
            **_text_fields(stepKind=step.kind, plot=step.plot, product=step.product,
                           activeIngredients=list(step.active_ingredients), dose=step.dose,
                           note=step.note),
        }
        events.append(_with_id(record, event))
    return events


def _harvests(record: TraceRecord) -> list[TraceStep]:
    """The diary's harvest steps; a record without any gets one per harvest date."""
    steps = [step for step in record.steps if step.kind == "harvest"]
    if steps:
        return steps
    return [TraceStep(day, "harvest", "") for day in record.harvest_dates]


def _harvest_quantity(record: TraceRecord, step: TraceStep, count: int) -> float | None:
    match = QUANTITY.match(step.quantity)
    if match:
        whole, fraction, unit = match.groups()
        value = float(f"{whole.replace('.', '')}.{fraction or 0}")
        return value * 1000 if unit.lower() == "tấn" else value
    return record.quantity_kg if count == 1 else None


def _harvest_classes(record: TraceRecord) -> list[dict[str, Any]]:
    harvests = _harvests(record)
    classes = []
    for number, step in enumerate(harvests, start=1):
        element: dict[str, Any] = {"epcClass": f"{_lot_urn(record)}:harvest:{number}"}
        quantity = _harvest_quantity(record, step, len(harvests))
        if quantity is not None:
            element.update(quantity=quantity, uom="KGM")
        classes.append(element)
    return classes


def _harvest_events(record: TraceRecord) -> list[dict[str, Any]]:
    events = []
    for step, batch in zip(_harvests(record), _harvest_classes(record), strict=True):
        index = _plot_index(record, step.plot)
        code = record.plots[index - 1].growing_area_code if index else ""
        event: dict[str, Any] = {
            "type": "ObjectEvent",
            "eventTime": _noon(step.on),
            "eventTimeZoneOffset": TIME_ZONE_OFFSET,
            "action": "ADD",
            "bizStep": "commissioning",
            "disposition": "active",
            "quantityList": [batch],
            **_place(record, step.plot),
            "ilmd": {
                "cbvmda:harvestStartDate": step.on.isoformat(),
                "cbvmda:harvestEndDate": step.on.isoformat(),
                **_text_fields(crop=record.crop, variety=record.variety,
                               plot=step.plot,
                               growingAreaCode=code),
            },
            **_text_fields(note=step.note),
        }
        events.append(_with_id(record, event))
    return events


def _packing_inputs(record: TraceRecord) -> dict[str, Any]:
    """The harvest batches; a lot with no harvest on record names the transformation instead
    (EPCIS needs inputs or a transformationID)."""
    batches = _harvest_classes(record)
    if batches:
        return {"inputQuantityList": batches}
    return {"transformationID": f"{_lot_urn(record)}:packing"}


def _packing_event(record: TraceRecord) -> dict[str, Any]:
    harvest_days = sorted(record.harvest_dates or [step.on for step in _harvests(record)])
    ilmd = {"cbvmda:lotNumber": record.lot_code, "cbvmda:countryOfOrigin": "VN"}
    if harvest_days:
        ilmd.update({"cbvmda:harvestStartDate": harvest_days[0].isoformat(),
                     "cbvmda:harvestEndDate": harvest_days[-1].isoformat()})
    ilmd.update(_text_fields(
        product=record.product, crop=record.crop, variety=record.variety,
        season=record.season, certification=record.certification,
        cooperative=record.cooperative, cooperativeAddress=record.cooperative_address,
        growingAreaCodes=[plot.growing_area_code for plot in record.plots
                          if plot.growing_area_code],
        traceURL=record.trace_url))
    event: dict[str, Any] = {
        "type": "TransformationEvent",
        "eventTime": _noon(record.pack_date),
        "eventTimeZoneOffset": TIME_ZONE_OFFSET,
        **_packing_inputs(record),
        "outputQuantityList": [{"epcClass": lot_class(record), "quantity": record.quantity_kg,
                                "uom": "KGM"}],
        "bizStep": "packing",
        "disposition": "conformant" if record.compliant else "non_conformant",
        "bizLocation": {"id": _cooperative_location(record)},
        "ilmd": ilmd,
        "dxkit:compliant": record.compliant,
        **_text_fields(nonComplianceReasons=list(record.reasons)),
    }
    return _with_id(record, event)
