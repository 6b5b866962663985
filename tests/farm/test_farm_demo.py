"""The farm demo: a realistic season with one lot that gets labels and one that cannot."""

from __future__ import annotations

import datetime as dt
import unicodedata

from dxkit import demo
from dxkit.farm.demo_farm import demo_season_start, fill_farm_demo
from dxkit.farm.model import ENTRY_KINDS


def test_the_season_is_the_latest_one_harvested():
    assert demo_season_start(dt.datetime(2026, 11, 20)) == dt.date(2025, 11, 20)
    assert demo_season_start(dt.datetime(2027, 4, 1)) == dt.date(2026, 11, 20)
    assert demo_season_start(dt.datetime(2027, 3, 31)) == dt.date(2025, 11, 20)


def test_farm_demo_has_every_kind_and_a_lot_that_cannot_be_labelled(fresh_ws):
    result = fill_farm_demo(fresh_ws)
    assert result is not None
    f = fresh_ws.farm
    (org,) = f.orgs.all()
    assert "Đồng Tháp" in org.address and org.certification == "VietGAP"
    assert {p.crop for p in f.orgs.plots()} == {"rice", "mango"}
    entries = f.diary.timeline()
    assert {e.kind for e in entries} == set(ENTRY_KINDS)
    assert {e.action for e in entries} == {"record", "amend", "void"}
    assert max(e.on for e in entries) <= fresh_ws.today()
    compliance = {lot.product: lot.compliant for lot in f.lots.all()}
    assert compliance == {"Gạo OM18 VietGAP": True, "Gạo OM18": False,
                          "Xoài cát Chu Cao Lãnh": True}
    bad = next(lot for lot in f.lots.all() if not lot.compliant)
    assert "Virtako 40WG" in bad.reasons[0]
    good = next(lot for lot in result.lots if lot.product == "Gạo OM18 VietGAP")
    assert f.lots.print_runs(good)[0].serials == tuple(range(1, 22))
    assert f.lots.published_trace(good.code) is not None
    for row in fresh_ws.conn.execute("SELECT name FROM plots UNION ALL SELECT details FROM "
                                     "diary_entries"):
        assert unicodedata.normalize("NFC", row[0]) == row[0]
    assert fill_farm_demo(fresh_ws) is None  # only once


def test_the_demo_workspace_includes_the_farm(fresh_ws):
    assert not fresh_ws.farm.trace_base_url_confirmed
    demo.generate(fresh_ws, seed=1, households=12)
    assert len(fresh_ws.farm.lots.all()) == 3
    assert fresh_ws.farm.trace_base_url_confirmed  # the demo prints without being asked
