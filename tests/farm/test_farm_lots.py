"""Lots: codes, GTINs, compliance with reasons, the refusal to label, serials, QR payloads,
print runs and the trace record."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from dxkit.core.errors import ValidationError
from dxkit.core.workspace import HUB_TEAM_META
from dxkit.farm import gs1
from dxkit.farm.diary import Diary
from dxkit.farm.lots import LotNotCompliant, Lots
from dxkit.farm.orgs import OrgBook
from dxkit.farm.printing import (
    label_offset,
    preview_lot_labels,
    print_lot_labels,
    save_label_offset,
)
from dxkit.farm.registry import Registry
from dxkit.farm.service import Farm
from dxkit.farm.settings import (
    DEFAULT_TRACE_BASE_URL,
    TRACE_BASE_URL,
    TRACE_CONFIRMED,
    TraceAddressNotConfirmed,
)
from dxkit.farm.trace_ids import team_trace_key
from dxkit.labels.errors import LabelError
from dxkit.labels.verify import verify_pdf
from tests.farm import farm_setup

# The shared fixtures (pytest finds them as names of this module).
farm, spray, harvest = farm_setup.farm, farm_setup.spray, farm_setup.harvest
D = dt.date


@pytest.fixture
def season_done(farm, spray, harvest):
    """Rice plot: a full season, sprayed 01/02, harvested 01/03 (compliant). Second plot:
    sprayed 01/02 and harvested 05/02, inside the 7-day PHI."""
    f, rice, season = farm.ws.farm, farm.rice, farm.season
    f.diary.record(rice, season, "land_preparation", D(2026, 11, 16), method="Cày ải")
    f.diary.record(rice, season, "seed", D(2026, 11, 18), product="Lúa OM18",
                   source="Trung tâm Giống Đồng Tháp", lot="OM18-07")
    f.diary.record(rice, season, "fertiliser", D(2026, 12, 5), product="NPK 20-20-15",
                   dose="100 kg/ha")
    f.diary.record(rice, season, "irrigation", D(2026, 12, 6), method="Bơm nước")
    f.diary.record(rice, season, "observation", D(2026, 12, 20), pest="Rầy nâu")
    spray(rice, D(2027, 2, 1))
    good = harvest(rice, D(2027, 3, 1), "6,2 tấn").value
    spray(farm.rice2, D(2027, 2, 1))
    bad = harvest(farm.rice2, D(2027, 2, 5), "30 tạ").value
    later = f.diary.record(rice, season, "fertiliser", D(2027, 3, 10), product="Phân hữu cơ",
                           dose="1 tấn/ha")  # after the harvest: not part of the lot's story
    return good, bad, later.value


def test_lot_code_has_a_check_character_and_a_daily_sequence(farm, season_done):
    good, bad, _later = season_done
    f = farm.ws.farm
    first = f.lots.create([good.id], pack_date=D(2027, 3, 20)).value
    second = f.lots.create([bad.id], pack_date=D(2027, 3, 20)).value
    assert gs1.is_valid_lot_code(first.code) and gs1.is_valid_lot_code(second.code)
    assert first.code.startswith("NNMA-270320-001-") and second.sequence == 2
    assert first.product == "Lúa OM18" and first.quantity_kg == 6200.0
    assert first.gtin == ""
    assert f.lots.get(first.code.lower()) == first and f.lots.get(first.id) == first


def test_gtin_when_the_org_has_a_company_prefix(farm, season_done):
    good, _bad, _later = season_done
    f = farm.ws.farm
    with pytest.raises(ValidationError) as caught:
        f.lots.create([good.id], item_reference=42)
    assert set(caught.value.fields) == {"item_reference"}
    f.orgs.update(farm.org, gs1_company_prefix="8934567")
    lot = f.lots.create([good.id], item_reference=42).value
    assert gs1.is_valid_gtin(lot.gtin) and lot.gtin.startswith("08934567")


def test_a_lot_holds_one_crop_and_each_harvest_once(farm, season_done, harvest):
    good, _bad, _later = season_done
    f = farm.ws.farm
    mango = harvest(farm.mango, D(2027, 3, 5), "800 kg").value
    with pytest.raises(ValidationError) as caught:
        f.lots.create([good.id, mango.id])
    assert set(caught.value.fields) == {"harvests"}
    f.lots.create([good.id])
    with pytest.raises(ValidationError):
        f.lots.create([good.id])
    with pytest.raises(ValidationError):
        f.lots.create([good.id], pack_date=D(2027, 2, 1))


def test_compliance_and_the_json_contract(farm, season_done):
    good, bad, _later = season_done
    f = farm.ws.farm
    ok = f.lots.create([good.id]).value
    wrong = f.lots.create([bad.id]).value
    assert ok.compliant and ok.reasons == ()
    assert not wrong.compliant
    (reason,) = wrong.reasons
    assert "08/02/2027" in reason and "Virtako 40WG" in reason
    status = f.lots.status(wrong.code)
    assert not status.compliant and status.findings[0].allowed_from == D(2027, 2, 8)
    listed = {lot["code"]: lot for lot in (lot.to_dict() for lot in f.lots.all(farm.org))}
    assert {"code", "product", "compliant", "reasons"} <= set(listed[ok.code])
    assert listed[ok.code]["compliant"] is True and listed[wrong.code]["compliant"] is False
    assert listed[wrong.code]["reasons"] == [reason]
    json.dumps(listed)


def test_a_lot_spanning_two_plots_checks_each_plot_on_its_own(farm, season_done):
    good, bad, _later = season_done
    lot = farm.ws.farm.lots.create([good.id, bad.id]).value
    assert not lot.compliant and len(lot.reasons) == 1
    assert lot.quantity_kg == 9200.0


def test_corrections_change_the_lot_status_at_once(farm, season_done):
    good, bad, _later = season_done
    f = farm.ws.farm
    lot = f.lots.create([bad.id]).value
    f.diary.amend(bad.id, reason="Ghi nhầm ngày thu hoạch", on=D(2027, 2, 20))
    assert f.lots.get(lot.code).compliant
    ok = f.lots.create([good.id]).value
    f.diary.void(good.id, reason="Thu hoạch chưa diễn ra")
    voided = f.lots.get(ok.code)
    assert not voided.compliant and "01/03/2027" in voided.reasons[0]


def test_a_non_compliant_lot_cannot_get_labels(farm, season_done):
    _good, bad, _later = season_done
    f = farm.ws.farm
    lot = f.lots.create([bad.id]).value
    with pytest.raises(LotNotCompliant) as caught:
        f.lots.record_print(lot, template="L7160", copies=21)
    assert caught.value.reasons == lot.reasons
    assert lot.reasons[0] in caught.value.message
    assert f.lots.print_runs(lot) == []
    assert f.lots.published_trace(lot.code) is None


def test_serials_are_never_reused_across_print_runs(farm, season_done):
    good, _bad, _later = season_done
    f = farm.ws.farm
    lot = f.lots.create([good.id]).value
    # a preview reserves nothing
    assert f.lots.qr_payloads(lot, 2) == f.lots.qr_payloads(lot, [1, 2])
    first = f.lots.record_print(lot, template="L7160", copies=21, serials=True).value
    plain = f.lots.record_print(lot, template="L7160", copies=5).value
    second = f.lots.record_print(lot, template="roll-50x30", copies=10, start=4, serials=True).value
    assert first.serials == tuple(range(1, 22)) and plain.serials == ()
    assert second.serials == tuple(range(22, 32))
    assert not set(first.serials) & set(second.serials)
    assert len(set(first.payloads + second.payloads)) == 31
    runs = f.lots.print_runs(lot)
    assert [(r.copies, r.start_position, r.template) for r in runs] == [
        (21, 1, "L7160"), (5, 1, "L7160"), (10, 4, "roll-50x30")]
    assert all(r.printed_at == dt.datetime(2027, 4, 1, 9, 30) for r in runs)


def test_payloads_without_and_with_gtin(farm, season_done):
    good, _bad, _later = season_done
    f = farm.ws.farm
    f.configure(trace_base_url="https://truyxuat.example.vn/t/")  # typed: confirmed
    lot = f.lots.create([good.id]).value
    assert f.lots.qr_payloads(lot) == [f"https://truyxuat.example.vn/t/{lot.code}"]
    f.orgs.update(farm.org, gs1_company_prefix="8934567")
    gtin_lot = f.lots.create([_another_harvest(farm)],
                             item_reference=7).value
    (link,) = f.lots.qr_payloads(gtin_lot)
    assert link == (f"https://truyxuat.example.vn/01/{gtin_lot.gtin}/10/{gtin_lot.code}"
                    f"?13={gtin_lot.pack_date:%y%m%d}")
    run = f.lots.record_print(gtin_lot, template="L7160", copies=2, serials=True).value
    assert run.payloads[1] == (f"https://truyxuat.example.vn/01/{gtin_lot.gtin}/10/"
                               f"{gtin_lot.code}/21/2?13={gtin_lot.pack_date:%y%m%d}")
    farm.ws.settings.set("farm.gs1_resolver", "https://id.gs1.org")
    assert f.lots.qr_payloads(gtin_lot)[0].startswith("https://id.gs1.org/01/")


def test_an_enrolled_workspace_prints_its_teams_trace_urls(farm, season_done):
    """Lot codes are unique within a team only: once the workspace joined a hub team, every
    label names the team (dxkit/farm/trace_ids.py), and so does the published record."""
    good, _bad, _later = season_done
    f = farm.ws.farm
    f.configure(trace_base_url="https://truyxuat.example.vn/t/")  # typed: confirmed
    team_id = "0f6e2b9a-3c1d-4e5f-8a7b-9c0d1e2f3a4b"
    with farm.ws.transaction():
        farm.ws.set_meta(HUB_TEAM_META, team_id)
    key = team_trace_key(team_id)
    lot = f.lots.create([good.id]).value
    assert f.lots.qr_payloads(lot) == [f"https://truyxuat.example.vn/t/{key}/{lot.code}"]
    run = f.lots.record_print(lot, template="L7160", copies=2, serials=True).value
    assert run.payloads == (f"https://truyxuat.example.vn/t/{key}/{lot.code}?serial=1",
                            f"https://truyxuat.example.vn/t/{key}/{lot.code}?serial=2")
    published = f.lots.published_trace(lot.code)
    assert published is not None
    assert published.trace_url == f"https://truyxuat.example.vn/t/{key}/{lot.code}"
    f.orgs.update(farm.org, gs1_company_prefix="8934567")
    gtin_lot = f.lots.create([_another_harvest(farm)], item_reference=7).value
    assert f.lots.qr_payloads(gtin_lot) == [
        f"https://truyxuat.example.vn/01/{gtin_lot.gtin}/10/{gtin_lot.code}"
        f"?13={gtin_lot.pack_date:%y%m%d}&t={key}"]


def _another_harvest(farm) -> str:
    return farm.ws.farm.diary.record(farm.rice2, farm.season, "harvest", D(2027, 3, 2),
                                     quantity="3 tấn").value.id


def test_trace_record_tells_the_buyer_the_story(farm, season_done):
    good, _bad, _later = season_done
    f = farm.ws.farm
    lot = f.lots.create([good.id], pack_date=D(2027, 3, 20)).value
    record = f.lots.trace_record(lot.code)
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
    assert record.trace_url == f.lots.qr_payloads(lot)[0]
    assert type(record).from_dict(json.loads(json.dumps(record.to_dict()))) == record


def test_printing_publishes_the_trace_snapshot(farm, season_done):
    good, _bad, _later = season_done
    f = farm.ws.farm
    lot = f.lots.create([good.id]).value
    result = f.lots.record_print(lot, template="L7160", copies=1)
    assert result.changes.touched("label_prints") and result.changes.touched("published_traces")
    assert f.lots.published_trace(lot.code) == f.lots.trace_record(lot.code)
    again = f.lots.record_print(lot, template="L7160", copies=1)
    assert not again.changes.touched("published_traces")  # nothing new to publish


def test_every_record_serialises_to_json(farm, season_done):
    good, _bad, _later = season_done
    f = farm.ws.farm
    lot = f.lots.create([good.id]).value
    run = f.lots.record_print(lot, template="L7160", copies=2, serials=True).value
    values = [farm.org, farm.rice, farm.season, good, lot, run, f.lots.status(lot),
              f.registry.product_warnings("Virtako 40WG", "rice", D(2027, 2, 1))]
    text = json.dumps([v.to_dict() for v in values], ensure_ascii=False)
    assert lot.code in text and '"serial_to": 2' in text


def test_two_lots_with_one_code_get_no_labels_until_one_is_recoded(farm, season_done):
    """Two laptops, offline, can number a lot of the same day alike; after sync the QR would
    name two lots, so both are held back until one gets a new code."""
    good, _bad, _later = season_done
    f = farm.ws.farm
    first = f.lots.create([good.id], pack_date=D(2027, 3, 20)).value
    extra = harvest_on(farm, D(2027, 3, 2))
    second = f.lots.create([extra.id], pack_date=D(2027, 3, 21)).value
    with farm.ws.transaction() as tx:  # as a pulled row from the other laptop would arrive
        tx.update("lots", second.id, {"code": first.code, "sequence": first.sequence,
                                      "pack_date": first.pack_date.isoformat()})
    for lot in (f.lots.get(first.id), f.lots.get(second.id)):
        assert not lot.compliant and first.code in lot.reasons[0]
    with pytest.raises(LotNotCompliant):
        f.lots.record_print(first.id, template="a4-3x7", copies=1)
    recoded = f.lots.recode(second.id).value
    assert recoded.code != first.code and gs1.is_valid_lot_code(recoded.code)
    assert f.lots.get(first.id).compliant and f.lots.get(second.id).compliant


def harvest_on(farm, day):
    return farm.ws.farm.diary.record(farm.rice, farm.season, "harvest", day, quantity="2 tạ").value


def test_serials_printed_twice_offline_are_reported(farm, season_done):
    good, _bad, _later = season_done
    f = farm.ws.farm
    lot = f.lots.create([good.id], pack_date=D(2027, 3, 20)).value
    f.lots.record_print(lot, template="a4-3x7", copies=10, serials=True)  # 1-10
    assert f.lots.serial_overlaps(lot) == []
    with farm.ws.transaction() as tx:  # the other laptop's run, numbered 6-12 before syncing
        tx.append("label_prints", {"lot_id": lot.id, "template": "a4-3x7", "copies": 7,
                                   "start_position": 1, "serial_from": 6, "serial_to": 12,
                                   "printed_at": "2027-03-21T08:00:00", "printed_by": "B"})
    assert f.lots.serial_overlaps(lot) == [(6, 10)]
    nxt = f.lots.record_print(lot, template="a4-3x7", copies=2, serials=True).value
    assert nxt.serials == (13, 14)  # later runs follow the highest serial known


# -- ws.farm's parts, the next serials, one trace record per print ---------------------------------
def test_farm_is_made_of_separate_parts_that_share_their_collaborators(farm):
    f = farm.ws.farm
    parts = (f.orgs, f.registry, f.diary, f.lots)
    assert [type(p) for p in parts] == [OrgBook, Registry, Diary, Lots]
    assert len({id(p) for p in parts}) == 4
    assert Farm.__mro__ == (Farm, object)  # composed, not mixed in
    assert f.diary.orgs is f.orgs and f.diary.registry is f.registry
    assert f.lots.orgs is f.orgs and f.lots.diary is f.diary and f.lots.registry is f.registry
    assert not any(hasattr(f, name) for name in ("record", "lot", "add_plot", "products"))


def test_next_serials_continue_after_earlier_prints_and_are_never_reused(farm, season_done):
    good, _bad, _later = season_done
    lots = farm.ws.farm.lots
    lot = lots.create([good.id]).value
    assert lots.next_serials(lot, 3) == [1, 2, 3]
    assert lots.next_serials(lot.code, 3) == [1, 2, 3]  # asking reserves nothing
    assert lots.next_serials(lot, 0) == []
    first = lots.record_print(lot, template="a4-3x7", copies=3, serials=True).value
    assert first.serials == (1, 2, 3)
    assert lots.next_serials(lot, 2) == [4, 5]
    lots.record_print(lot, template="a4-3x7", copies=5)  # without serials: uses none
    job = print_lot_labels(farm.ws, lot, "a4-3x7", copies=2, serials=True)
    assert job.run is not None and job.run.serials == (4, 5)
    with farm.ws.transaction() as tx:  # another laptop's run, synced in: 6-12
        tx.append("label_prints", {"lot_id": lot.id, "template": "a4-3x7", "copies": 7,
                                   "start_position": 1, "serial_from": 6, "serial_to": 12,
                                   "printed_at": "2027-03-21T08:00:00", "printed_by": "B"})
    assert lots.next_serials(lot, 2) == [13, 14]
    preview = preview_lot_labels(farm.ws, lot, "a4-3x7", copies=2, serials=True)
    assert preview.payloads == tuple(lots.qr_payloads(lot, [13, 14]))
    printed = [n for run in lots.print_runs(lot) for n in run.serials]
    assert sorted(printed) == list(range(1, 13))  # 1-5 here, 6-12 there: none twice


def test_one_print_builds_one_trace_record_and_labels_show_it(farm, season_done, monkeypatch):
    good, _bad, _later = season_done
    lots = farm.ws.farm.lots
    lot = lots.create([good.id]).value
    built = []
    original = lots.trace_record

    def counting(lot_code):
        built.append(lot_code)
        return original(lot_code)

    monkeypatch.setattr(lots, "trace_record", counting)
    job = print_lot_labels(farm.ws, lot.code, "a4-3x7", copies=3, serials=True)
    assert len(built) == 1
    assert job.run is not None and job.run.serials == (1, 2, 3)
    assert lots.published_trace(lot.code) == original(lot.code)
    built.clear()
    result = lots.record_print(lot, template="a4-3x7", copies=1)
    assert len(built) == 1 and result.trace == lots.published_trace(lot.code)
    built.clear()
    preview_lot_labels(farm.ws, lot, "a4-3x7", copies=2)
    assert len(built) == 1


# -- issue 10 §7: the trace address confirmed, a full sheet, the printing offset ---------------
def test_no_label_until_someone_confirmed_the_trace_address(farm, season_done):
    good, _bad, _later = season_done
    f, settings = farm.ws.farm, farm.ws.settings
    lot = f.lots.create([good.id]).value
    settings.set(TRACE_CONFIRMED, None)  # a new workspace: the default, never confirmed
    assert not f.trace_base_url_confirmed and f.settings()["trace_base_url_confirmed"] is False
    assert preview_lot_labels(farm.ws, lot, "a4-3x7").labels == 21  # a preview is fine
    with pytest.raises(TraceAddressNotConfirmed) as refused:
        print_lot_labels(farm.ws, lot, "a4-3x7")
    assert refused.value.url == DEFAULT_TRACE_BASE_URL and DEFAULT_TRACE_BASE_URL in \
        refused.value.message
    assert f.lots.print_runs(lot) == []  # nothing recorded
    assert f.confirm_trace_base_url() == DEFAULT_TRACE_BASE_URL
    assert print_lot_labels(farm.ws, lot, "a4-3x7").run is not None
    # The address changes behind the user's back (a settings file copied from elsewhere):
    # asked again. Typed in the settings, it is confirmed by the typing.
    settings.set(TRACE_BASE_URL, "https://tx.example.vn/t/")
    assert not f.trace_base_url_confirmed
    f.configure(trace_base_url="https://tx.other.vn/t/")
    assert f.trace_base_url_confirmed
    f.configure(trace_base_url="")  # back to the default, confirmed before the other one
    assert not f.trace_base_url_confirmed  # what was confirmed last is the other address
    assert f.confirm_trace_base_url("https://tx.tinh.vn/t/") == "https://tx.tinh.vn/t/"
    assert f.trace_base_url == "https://tx.tinh.vn/t/" and f.trace_base_url_confirmed
    with pytest.raises(ValidationError):
        f.confirm_trace_base_url("truyxuat")
    assert f.trace_base_url == "https://tx.tinh.vn/t/"


def test_a_job_fills_the_sheet_by_default(farm, season_done):
    good, _bad, _later = season_done
    lot = farm.ws.farm.lots.create([good.id]).value
    assert print_lot_labels(farm.ws, lot, "a4-3x7").labels == 21
    assert print_lot_labels(farm.ws, lot, "a4-3x7", start=4, serials=True).run.copies == 18
    assert preview_lot_labels(farm.ws, lot, "a4-2x7", start=14).labels == 1
    assert preview_lot_labels(farm.ws, lot, "thermal-40x30").labels == 1
    assert preview_lot_labels(farm.ws, lot, "a4-3x8", copies=2).labels == 2


def test_the_printing_offset_is_saved_per_stock(farm, season_done):
    good, _bad, _later = season_done
    ws = farm.ws
    lot = ws.farm.lots.create([good.id]).value
    assert label_offset(ws, "a4-3x7") == (0.0, 0.0)
    assert save_label_offset(ws, "A4-3x7", "-1,5", 2) == (-1.5, 2.0)
    assert save_label_offset(ws, "a4-3x7", y="0,5") == (-1.5, 0.5)  # x kept
    assert label_offset(ws, "a4-3x7") == (-1.5, 0.5) and label_offset(ws, "a4-3x8") == (0, 0)
    with pytest.raises(ValidationError) as wrong:
        save_label_offset(ws, "a4-3x7", "12", "abc")
    assert set(wrong.value.fields) == {"x", "y"}
    assert label_offset(ws, "a4-3x7") == (-1.5, 0.5)  # nothing saved
    with pytest.raises(LabelError, match="a4-3x7"):
        save_label_offset(ws, "a5-9x9", 1, 1)
    plain = verify_pdf(preview_lot_labels(ws, lot, "a4-3x7", copies=1, offset=(0, 0)).pdf)
    moved = verify_pdf(preview_lot_labels(ws, lot, "a4-3x7", copies=1).pdf)
    assert moved.codes[0].x_mm - plain.codes[0].x_mm == pytest.approx(-1.5, abs=0.1)
    assert moved.codes[0].y_mm - plain.codes[0].y_mm == pytest.approx(0.5, abs=0.1)
    save_label_offset(ws, "a4-3x7", 0, 0)
    assert "a4-3x7" not in (ws.settings.get("labels.offsets") or {})
