"""EPCIS 2.0 export of a lot: valid against GS1's schema, the shape DOMAIN.md describes,
identical on re-export."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import biip
import pytest

from dxkit.core.errors import ValidationError
from dxkit.farm.epcis import EPCIS_CONTEXT, epcis_document, lot_class, write_epcis
from dxkit.farm.trace_record import TraceRecord
from tests.farm.epcis_validation import EPCIS_DIR, GS1_EXAMPLES, problems
from tests.farm.trace_samples import all_samples, failed_lot, hostile_lot, mango_lot, rice_lot

SAMPLES = [*all_samples(), hostile_lot()]


def events(document: dict[str, Any], kind: str | None = None) -> list[dict[str, Any]]:
    found = document["epcisBody"]["eventList"]
    return [event for event in found if kind is None or event["type"] == kind]


# -- the validator itself ----------------------------------------------------------------------
def test_the_gs1_files_are_all_here():
    names = {path.name for path in EPCIS_DIR.iterdir()}
    assert {"EPCIS-JSON-Schema.json", "epcis-context.jsonld", "SOURCE.md"} <= names
    assert len(GS1_EXAMPLES) == 2


@pytest.mark.parametrize("example", GS1_EXAMPLES, ids=lambda path: path.name)
def test_gs1_examples_are_valid(example: Path):
    assert problems(json.loads(example.read_text(encoding="utf-8"))) == []


def _drop_time_zone(doc):
    del doc["epcisBody"]["eventList"][0]["eventTimeZoneOffset"]


def _cbv_namespace_bizstep(doc):
    doc["epcisBody"]["eventList"][0]["bizStep"] = "urn:epcglobal:cbv:bizstep:growing"


def _space_in_location(doc):
    doc["epcisBody"]["eventList"][0]["readPoint"]["id"] = "Ruộng Bờ Đông"


def _impossible_date(doc):
    doc["creationDate"] = "2026-02-30T12:00:00+07:00"


def _no_action(doc):
    del doc["epcisBody"]["eventList"][0]["action"]


def _unknown_property(doc):
    doc["epcisBody"]["eventList"][0]["farmer"] = "Nguyễn Văn A"


def _packing_without_inputs(doc):
    del events(doc, "TransformationEvent")[0]["inputQuantityList"]


def _quantity_unit(doc):
    events(doc, "TransformationEvent")[0]["outputQuantityList"][0]["uom"] = "kg"


def _wrong_version(doc):
    doc["schemaVersion"] = "hai"


@pytest.mark.parametrize("breakage", [
    _drop_time_zone, _cbv_namespace_bizstep, _space_in_location, _impossible_date, _no_action,
    _unknown_property, _packing_without_inputs, _quantity_unit, _wrong_version])
def test_the_validator_rejects_a_broken_document(breakage):
    document = epcis_document(rice_lot())
    assert problems(document) == []
    broken = copy.deepcopy(document)
    breakage(broken)
    assert problems(broken), f"{breakage.__name__} was accepted"


def test_the_validator_rejects_a_broken_gs1_example():
    example = json.loads(GS1_EXAMPLES[0].read_text(encoding="utf-8"))
    example["epcisBody"]["eventList"][0]["action"] = "HARVEST"
    assert problems(example)


# -- exports are valid -------------------------------------------------------------------------
@pytest.mark.parametrize("record", SAMPLES, ids=lambda record: record.lot_code)
def test_every_export_validates(record: TraceRecord):
    assert problems(epcis_document(record)) == []


def test_the_written_file_is_utf8_json_that_validates(tmp_path: Path):
    path = write_epcis(rice_lot(), tmp_path / "lot.jsonld")
    text = path.read_text(encoding="utf-8")
    assert "Gạo ST25" in text  # Vietnamese unescaped
    assert problems(json.loads(text)) == []


def test_a_lot_without_harvest_steps_or_plots_still_validates():
    bare = dataclasses.replace(mango_lot(), steps=(), plots=(), harvest_dates=(),
                               certification="", season="", trace_url="")
    document = epcis_document(bare)
    assert problems(document) == []
    packing = events(document, "TransformationEvent")[0]
    assert packing["transformationID"].startswith("urn:dxkit:lot:")


def test_harvest_dates_without_harvest_steps_give_one_event_each():
    record = dataclasses.replace(
        rice_lot(), steps=tuple(s for s in rice_lot().steps if s.kind != "harvest"))
    document = epcis_document(record)
    harvests = [e for e in events(document, "ObjectEvent") if e["action"] == "ADD"]
    assert [e["eventTime"][:10] for e in harvests] == ["2026-11-10", "2026-11-12"]
    assert problems(document) == []


# -- the shape ---------------------------------------------------------------------------------
def test_document_header():
    document = epcis_document(rice_lot())
    assert document["type"] == "EPCISDocument"
    assert document["schemaVersion"] == "2.0"
    assert document["@context"][0] == EPCIS_CONTEXT
    assert document["@context"][1]["dxkit"].startswith("urn:dxkit:")


def test_harvests_are_commissioning_object_events_on_their_growing_area():
    document = epcis_document(rice_lot())
    harvests = [e for e in events(document, "ObjectEvent") if e["bizStep"] == "commissioning"]
    assert len(harvests) == 2
    first, second = harvests
    assert first["action"] == "ADD"
    assert first["eventTime"] == "2026-11-10T12:00:00+07:00"
    assert first["eventTimeZoneOffset"] == "+07:00"
    assert first["readPoint"]["id"] == "urn:dxkit:growing-area:VN-DTOR-0123"
    assert second["bizLocation"]["id"] == "urn:dxkit:growing-area:VN-DTOR-0124"
    assert first["quantityList"][0]["quantity"] == 16500
    assert second["quantityList"][0]["quantity"] == 11700
    assert {q["uom"] for e in harvests for q in e["quantityList"]} == {"KGM"}


def test_packing_transforms_the_harvests_into_the_lot():
    document = epcis_document(rice_lot())
    (packing,) = events(document, "TransformationEvent")
    harvest_classes = [e["quantityList"][0]["epcClass"] for e in events(document, "ObjectEvent")
                       if e["action"] == "ADD"]
    assert [q["epcClass"] for q in packing["inputQuantityList"]] == harvest_classes
    (output,) = packing["outputQuantityList"]
    assert output == {"epcClass": lot_class(rice_lot()), "quantity": 28000.0, "uom": "KGM"}
    assert packing["bizStep"] == "packing"
    assert packing["eventTime"].startswith("2026-11-20")
    assert packing["ilmd"]["cbvmda:lotNumber"] == "MD-261120-007-0"
    assert packing["ilmd"]["cbvmda:harvestStartDate"] == "2026-11-10"
    assert packing["ilmd"]["cbvmda:harvestEndDate"] == "2026-11-12"
    assert packing["ilmd"]["dxkit:certification"] == "VietGAP"
    assert packing["ilmd"]["dxkit:growingAreaCodes"] == ["VN-DTOR-0123", "VN-DTOR-0124"]
    assert packing["disposition"] == "conformant"
    assert packing["dxkit:compliant"] is True
    assert "dxkit:nonComplianceReasons" not in packing


def test_with_a_gtin_the_lot_is_a_gs1_digital_link():
    link = lot_class(rice_lot())
    parsed = biip.parse(link)
    assert parsed.gs1_digital_link_uri is not None, parsed.gs1_digital_link_uri_error
    values = {s.ai.ai: s.value for s in parsed.gs1_digital_link_uri.element_strings}
    assert values == {"01": "08938500000010", "10": "MD-261120-007-0"}


def test_without_a_gtin_the_lot_is_a_dxkit_urn():
    assert lot_class(mango_lot()) == "urn:dxkit:lot:0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d"


@pytest.mark.parametrize("gtin", ["08938500000011", "89385", "0893850000001X"])
def test_a_bad_gtin_is_refused(gtin: str):
    with pytest.raises(ValidationError) as refused:
        epcis_document(dataclasses.replace(rice_lot(), gtin=gtin))
    assert "gtin" in refused.value.fields


def test_a_gtin_13_is_written_in_its_14_digit_form():
    record = dataclasses.replace(rice_lot(), gtin="8938500000010")
    assert lot_class(record) == "https://id.gs1.org/01/08938500000010/10/MD-261120-007-0"


def test_inputs_are_observations_with_product_ingredients_and_dose():
    document = epcis_document(rice_lot())
    sprays = [e for e in events(document, "ObjectEvent")
              if e.get("dxkit:stepKind") == "pesticide"]
    assert len(sprays) == 2
    tilt = sprays[0]
    assert tilt["action"] == "OBSERVE"
    assert tilt["eventTime"] == "2026-09-15T12:00:00+07:00"
    assert tilt["dxkit:product"] == "Tilt Super 300EC"
    assert tilt["dxkit:activeIngredients"] == ["Difenoconazole 150 g/l",
                                               "Propiconazole 150 g/l"]
    assert tilt["dxkit:dose"] == "0,3 l/ha"
    assert tilt["bizLocation"]["id"] == "urn:dxkit:growing-area:VN-DTOR-0123"


def test_events_are_in_time_order_and_the_lot_is_complete():
    document = epcis_document(rice_lot())
    times = [e["eventTime"] for e in events(document)]
    assert times == sorted(times)
    # one event per diary step except packing, plus the packing transformation
    assert len(times) == len(rice_lot().steps)
    assert events(document)[-1]["type"] == "TransformationEvent"


def test_a_non_compliant_lot_says_so_with_its_reasons():
    document = epcis_document(failed_lot())
    (packing,) = events(document, "TransformationEvent")
    assert packing["disposition"] == "non_conformant"
    assert packing["dxkit:compliant"] is False
    assert packing["dxkit:nonComplianceReasons"] == list(failed_lot().reasons)


def test_every_term_is_an_epcis_term_or_a_declared_prefix():
    context = json.loads((EPCIS_DIR / "epcis-context.jsonld").read_text(encoding="utf-8"))
    terms = set(context["@context"])
    document = epcis_document(rice_lot())
    prefixes = terms | set(document["@context"][1])

    def check(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if ":" in key:
                    assert key.split(":")[0] in prefixes, key
                else:
                    assert key in terms, key
                if key not in ("ilmd",) and not key.startswith(("dxkit:", "cbvmda:")):
                    check(value)
        elif isinstance(node, list):
            for item in node:
                check(item)

    check({k: v for k, v in document.items() if k != "@context"})


# -- deterministic -----------------------------------------------------------------------------
def test_re_exports_are_identical(tmp_path: Path):
    first = write_epcis(rice_lot(), tmp_path / "a.jsonld").read_bytes()
    second = write_epcis(rice_lot(), tmp_path / "b.jsonld").read_bytes()
    assert first == second


def test_event_ids_are_unique_and_follow_content():
    before = epcis_document(rice_lot())
    ids = [e["eventID"] for e in events(before)]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("urn:uuid:") for i in ids)
    record = rice_lot()
    edited_steps = list(record.steps)
    edited_steps[3] = dataclasses.replace(edited_steps[3], dose="200 kg/ha")
    after = epcis_document(dataclasses.replace(record, steps=tuple(edited_steps)))
    changed = [a != b for a, b in zip(ids, (e["eventID"] for e in events(after)), strict=True)]
    assert changed.count(True) == 1


def test_other_lots_get_other_event_ids():
    mango = {e["eventID"] for e in events(epcis_document(mango_lot()))}
    failed = {e["eventID"] for e in events(epcis_document(failed_lot()))}
    assert not mango & failed


def test_creation_date():
    assert epcis_document(rice_lot())["creationDate"] == "2026-11-20T12:00:00+07:00"
    naive = epcis_document(rice_lot(), created_at=dt.datetime(2026, 11, 21, 8, 5))
    assert naive["creationDate"] == "2026-11-21T08:05:00+07:00"
    utc = epcis_document(rice_lot(), created_at=dt.datetime(2026, 11, 21, 1, 0, tzinfo=dt.UTC))
    assert utc["creationDate"] == "2026-11-21T08:00:00+07:00"
    assert problems(utc) == []
