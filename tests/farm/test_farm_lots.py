"""Lots: codes, GTINs, compliance with reasons, the refusal to label, serials, QR payloads,
print runs and the trace record."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from dxkit.core.errors import ValidationError
from dxkit.farm import gs1
from dxkit.farm.lots import LotNotCompliant
from tests.farm import farm_setup

# The shared fixtures (pytest finds them as names of this module).
farm, spray, harvest = farm_setup.farm, farm_setup.spray, farm_setup.harvest
D = dt.date


@pytest.fixture
def season_done(farm, spray, harvest):
    """Rice plot: a full season, sprayed 01/02, harvested 01/03 (compliant). Second plot:
    sprayed 01/02 and harvested 05/02, inside the 7-day PHI."""
    f, rice, season = farm.ws.farm, farm.rice, farm.season
    f.record(rice, season, "land_preparation", D(2026, 11, 16), method="Cày ải")
    f.record(rice, season, "seed", D(2026, 11, 18), product="Lúa OM18",
             source="Trung tâm Giống Đồng Tháp", lot="OM18-07")
    f.record(rice, season, "fertiliser", D(2026, 12, 5), product="NPK 20-20-15",
             dose="100 kg/ha")
    f.record(rice, season, "irrigation", D(2026, 12, 6), method="Bơm nước")
    f.record(rice, season, "observation", D(2026, 12, 20), pest="Rầy nâu")
    spray(rice, D(2027, 2, 1))
    good = harvest(rice, D(2027, 3, 1), "6,2 tấn").value
    spray(farm.rice2, D(2027, 2, 1))
    bad = harvest(farm.rice2, D(2027, 2, 5), "30 tạ").value
    later = f.record(rice, season, "fertiliser", D(2027, 3, 10), product="Phân hữu cơ",
                     dose="1 tấn/ha")  # after the harvest: not part of the lot's story
    return good, bad, later.value


def test_lot_code_has_a_check_character_and_a_daily_sequence(farm, season_done):
    good, bad, _later = season_done
    f = farm.ws.farm
    first = f.create_lot([good.id], pack_date=D(2027, 3, 20)).value
    second = f.create_lot([bad.id], pack_date=D(2027, 3, 20)).value
    assert gs1.is_valid_lot_code(first.code) and gs1.is_valid_lot_code(second.code)
    assert first.code.startswith("NNMA-270320-001-") and second.sequence == 2
    assert first.product == "Lúa OM18" and first.quantity_kg == 6200.0
    assert first.gtin == ""
    assert f.lot(first.code.lower()) == first and f.lot(first.id) == first


def test_gtin_when_the_org_has_a_company_prefix(farm, season_done):
    good, _bad, _later = season_done
    f = farm.ws.farm
    with pytest.raises(ValidationError) as caught:
        f.create_lot([good.id], item_reference=42)
    assert set(caught.value.fields) == {"item_reference"}
    f.update_org(farm.org, gs1_company_prefix="8934567")
    lot = f.create_lot([good.id], item_reference=42).value
    assert gs1.is_valid_gtin(lot.gtin) and lot.gtin.startswith("08934567")


def test_a_lot_holds_one_crop_and_each_harvest_once(farm, season_done, harvest):
    good, _bad, _later = season_done
    f = farm.ws.farm
    mango = harvest(farm.mango, D(2027, 3, 5), "800 kg").value
    with pytest.raises(ValidationError) as caught:
        f.create_lot([good.id, mango.id])
    assert set(caught.value.fields) == {"harvests"}
    f.create_lot([good.id])
    with pytest.raises(ValidationError):
        f.create_lot([good.id])
    with pytest.raises(ValidationError):
        f.create_lot([good.id], pack_date=D(2027, 2, 1))


def test_compliance_and_the_json_contract(farm, season_done):
    good, bad, _later = season_done
    f = farm.ws.farm
    ok = f.create_lot([good.id]).value
    wrong = f.create_lot([bad.id]).value
    assert ok.compliant and ok.reasons == ()
    assert not wrong.compliant
    (reason,) = wrong.reasons
    assert "08/02/2027" in reason and "Virtako 40WG" in reason
    status = f.lot_status(wrong.code)
    assert not status.compliant and status.findings[0].allowed_from == D(2027, 2, 8)
    listed = {lot["code"]: lot for lot in (lot.to_dict() for lot in f.lots(farm.org))}
    assert {"code", "product", "compliant", "reasons"} <= set(listed[ok.code])
    assert listed[ok.code]["compliant"] is True and listed[wrong.code]["compliant"] is False
    assert listed[wrong.code]["reasons"] == [reason]
    json.dumps(listed)


def test_a_lot_spanning_two_plots_checks_each_plot_on_its_own(farm, season_done):
    good, bad, _later = season_done
    lot = farm.ws.farm.create_lot([good.id, bad.id]).value
    assert not lot.compliant and len(lot.reasons) == 1
    assert lot.quantity_kg == 9200.0


def test_corrections_change_the_lot_status_at_once(farm, season_done):
    good, bad, _later = season_done
    f = farm.ws.farm
    lot = f.create_lot([bad.id]).value
    f.amend(bad.id, reason="Ghi nhầm ngày thu hoạch", on=D(2027, 2, 20))
    assert f.lot(lot.code).compliant
    ok = f.create_lot([good.id]).value
    f.void(good.id, reason="Thu hoạch chưa diễn ra")
    voided = f.lot(ok.code)
    assert not voided.compliant and "01/03/2027" in voided.reasons[0]


def test_a_non_compliant_lot_cannot_get_labels(farm, season_done):
    _good, bad, _later = season_done
    f = farm.ws.farm
    lot = f.create_lot([bad.id]).value
    with pytest.raises(LotNotCompliant) as caught:
        f.record_print(lot, template="L7160", copies=21)
    assert caught.value.reasons == lot.reasons
    assert lot.reasons[0] in caught.value.message
    assert f.print_runs(lot) == []
    assert f.published_trace(lot.code) is None


def test_serials_are_never_reused_across_print_runs(farm, season_done):
    good, _bad, _later = season_done
    f = farm.ws.farm
    lot = f.create_lot([good.id]).value
    assert f.qr_payloads(lot, 2) == f.qr_payloads(lot, [1, 2])  # a preview reserves nothing
    first = f.record_print(lot, template="L7160", copies=21, serials=True).value
    plain = f.record_print(lot, template="L7160", copies=5).value
    second = f.record_print(lot, template="roll-50x30", copies=10, start=4, serials=True).value
    assert first.serials == tuple(range(1, 22)) and plain.serials == ()
    assert second.serials == tuple(range(22, 32))
    assert not set(first.serials) & set(second.serials)
    assert len(set(first.payloads + second.payloads)) == 31
    runs = f.print_runs(lot)
    assert [(r.copies, r.start_position, r.template) for r in runs] == [
        (21, 1, "L7160"), (5, 1, "L7160"), (10, 4, "roll-50x30")]
    assert all(r.printed_at == dt.datetime(2027, 4, 1, 9, 30) for r in runs)


def test_payloads_without_and_with_gtin(farm, season_done):
    good, _bad, _later = season_done
    f = farm.ws.farm
    farm.ws.settings.set("farm.trace_base_url", "https://truyxuat.example.vn/t/")
    lot = f.create_lot([good.id]).value
    assert f.qr_payloads(lot) == [f"https://truyxuat.example.vn/t/{lot.code}"]
    f.update_org(farm.org, gs1_company_prefix="8934567")
    gtin_lot = f.create_lot([_another_harvest(farm)],
                            item_reference=7).value
    (link,) = f.qr_payloads(gtin_lot)
    assert link == (f"https://truyxuat.example.vn/01/{gtin_lot.gtin}/10/{gtin_lot.code}"
                    f"?13={gtin_lot.pack_date:%y%m%d}")
    run = f.record_print(gtin_lot, template="L7160", copies=2, serials=True).value
    assert run.payloads[1] == (f"https://truyxuat.example.vn/01/{gtin_lot.gtin}/10/"
                               f"{gtin_lot.code}/21/2?13={gtin_lot.pack_date:%y%m%d}")
    farm.ws.settings.set("farm.gs1_resolver", "https://id.gs1.org")
    assert f.qr_payloads(gtin_lot)[0].startswith("https://id.gs1.org/01/")


def _another_harvest(farm) -> str:
    return farm.ws.farm.record(farm.rice2, farm.season, "harvest", D(2027, 3, 2),
                               quantity="3 tấn").value.id


def test_trace_record_tells_the_buyer_the_story(farm, season_done):
    good, _bad, _later = season_done
    f = farm.ws.farm
    lot = f.create_lot([good.id], pack_date=D(2027, 3, 20)).value
    record = f.trace_record(lot.code)
    assert record.lot_code == lot.code and record.lot_id == lot.id
    assert (record.product, record.crop, record.variety) == ("Lúa OM18", "Lúa", "OM18")
    assert record.cooperative == "HTX Nông nghiệp Mỹ An"
    assert record.cooperative_address == "Xã Mỹ An, Đồng Tháp"
    assert record.certification == "VietGAP" and record.season == "Đông Xuân 2026–2027"
    assert record.harvest_dates == (D(2027, 3, 1),) and record.pack_date == D(2027, 3, 20)
    assert [p.growing_area_code for p in record.plots] == ["DT-MA-LUA-01"]
    assert [s.kind for s in record.steps] == ["land_preparation", "seed", "fertiliser",
                                              "pesticide", "harvest", "packing"]
    pesticide = record.steps[3]
    assert pesticide.product == "Virtako 40WG" and pesticide.dose == "1,5 l/ha"
    assert pesticide.active_ingredients == ("chlorantraniliprole", "thiamethoxam")
    assert record.steps[4].quantity == "6,2 tấn"
    assert record.compliant and record.reasons == ()
    assert record.trace_url == f.qr_payloads(lot)[0]
    assert type(record).from_dict(json.loads(json.dumps(record.to_dict()))) == record


def test_printing_publishes_the_trace_snapshot(farm, season_done):
    good, _bad, _later = season_done
    f = farm.ws.farm
    lot = f.create_lot([good.id]).value
    result = f.record_print(lot, template="L7160", copies=1)
    assert result.changes.touched("label_prints") and result.changes.touched("published_traces")
    assert f.published_trace(lot.code) == f.trace_record(lot.code)
    again = f.record_print(lot, template="L7160", copies=1)
    assert not again.changes.touched("published_traces")  # nothing new to publish


def test_every_record_serialises_to_json(farm, season_done):
    good, _bad, _later = season_done
    f = farm.ws.farm
    lot = f.create_lot([good.id]).value
    run = f.record_print(lot, template="L7160", copies=2, serials=True).value
    values = [farm.org, farm.rice, farm.season, good, lot, run, f.lot_status(lot),
              f.product_warnings("Virtako 40WG", "rice", D(2027, 2, 1))]
    text = json.dumps([v.to_dict() for v in values], ensure_ascii=False)
    assert lot.code in text and '"serial_to": 2' in text


def test_two_lots_with_one_code_get_no_labels_until_one_is_recoded(farm, season_done):
    """Two laptops, offline, can number a lot of the same day alike; after sync the QR would
    name two lots, so both are held back until one gets a new code."""
    good, _bad, _later = season_done
    f = farm.ws.farm
    first = f.create_lot([good.id], pack_date=D(2027, 3, 20)).value
    extra = harvest_on(farm, D(2027, 3, 2))
    second = f.create_lot([extra.id], pack_date=D(2027, 3, 21)).value
    with farm.ws.transaction() as tx:  # as a pulled row from the other laptop would arrive
        tx.update("lots", second.id, {"code": first.code, "sequence": first.sequence,
                                      "pack_date": first.pack_date.isoformat()})
    for lot in (f.lot(first.id), f.lot(second.id)):
        assert not lot.compliant and first.code in lot.reasons[0]
    with pytest.raises(LotNotCompliant):
        f.record_print(first.id, template="a4-3x7", copies=1)
    recoded = f.recode_lot(second.id).value
    assert recoded.code != first.code and gs1.is_valid_lot_code(recoded.code)
    assert f.lot(first.id).compliant and f.lot(second.id).compliant


def harvest_on(farm, day):
    return farm.ws.farm.record(farm.rice, farm.season, "harvest", day, quantity="2 tạ").value


def test_serials_printed_twice_offline_are_reported(farm, season_done):
    good, _bad, _later = season_done
    f = farm.ws.farm
    lot = f.create_lot([good.id], pack_date=D(2027, 3, 20)).value
    f.record_print(lot, template="a4-3x7", copies=10, serials=True)  # 1-10
    assert f.serial_overlaps(lot) == []
    with farm.ws.transaction() as tx:  # the other laptop's run, numbered 6-12 before syncing
        tx.append("label_prints", {"lot_id": lot.id, "template": "a4-3x7", "copies": 7,
                                   "start_position": 1, "serial_from": 6, "serial_to": 12,
                                   "printed_at": "2027-03-21T08:00:00", "printed_by": "B"})
    assert f.serial_overlaps(lot) == [(6, 10)]
    nxt = f.record_print(lot, template="a4-3x7", copies=2, serials=True).value
    assert nxt.serials == (13, 14)  # later runs follow the highest serial known
