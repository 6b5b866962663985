"""The farm part of the demo: a cooperative in Đồng Tháp with rice and mango plots, one
Đông Xuân season of diary entries, and two lots — one that gets labels, one that cannot (a
harvest inside the pre-harvest interval). Everything is invented.

Dates are relative to `now`: the season is the latest Đông Xuân already harvested, so no
entry lies in the future (the diary refuses those).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dxkit.core.text import folded_key

if TYPE_CHECKING:
    from dxkit.farm.model import Lot, Plot, Season
    from dxkit.farm.workspace import FarmWorkspace as Workspace

ORG_NAME = "HTX Dịch vụ Nông nghiệp Tân Mỹ Xanh"
ORG_ADDRESS = "Ấp Mỹ Phú, xã Mỹ Thọ, tỉnh Đồng Tháp"
MEMBERS = (("Nguyễn Văn Sáu", "Xã viên"), ("Trần Thị Hai", "Xã viên"),
           ("Lê Văn Bảy", "Tổ trưởng tổ bảo vệ thực vật"))


@dataclass(frozen=True)
class FarmDemo:
    lots: tuple[Lot, ...]
    entries: int


def demo_season_start(now: dt.datetime) -> dt.date:
    """20 November of the latest Đông Xuân season harvested by `now` (harvests end in March)."""
    year = now.year - 1 if now.month >= 4 else now.year - 2
    return dt.date(year, 11, 20)


def fill_farm_demo(ws: Workspace, now: dt.datetime | None = None) -> FarmDemo | None:
    """Write the farm demo (in the caller's transaction, if any). None if it is already there."""
    orgs, diary, lots = ws.farm.orgs, ws.farm.diary, ws.farm.lots
    if any(folded_key(o.name) == folded_key(ORG_NAME) for o in orgs.all()):
        return None
    start = demo_season_start(now or ws.now())
    with ws.transaction():
        org = orgs.add(ORG_NAME, address=ORG_ADDRESS, certification="VietGAP",
                       short_code="TMX").value
        members = [orgs.add_member(org, name, role=role).value for name, role in MEMBERS]
        rice = orgs.add_plot(org, "Ruộng lúa ông Sáu", crop="rice", area_ha=2.4, variety="OM18",
                             growing_area_code="DT-MT-LUA-012", location="Ấp Mỹ Phú, xã Mỹ Thọ",
                             certification="VietGAP", member=members[0].id).value
        rice2 = orgs.add_plot(org, "Ruộng lúa bà Hai", crop="rice", area_ha=1.8, variety="OM18",
                              growing_area_code="DT-MT-LUA-015",
                              location="Ấp Mỹ Hưng, xã Mỹ Thọ", member=members[1].id).value
        mango = orgs.add_plot(org, "Vườn xoài Cao Lãnh", crop="mango", area_ha=1.2,
                              variety="Xoài cát Chu", growing_area_code="DT-MT-XOAI-003",
                              location="Ấp An Lạc, xã Mỹ Thọ", certification="VietGAP",
                              member=members[2].id).value
        season = orgs.add_season(org, f"Đông Xuân {start.year}–{start.year + 1}",
                                 starts_on=start, ends_on=dt.date(start.year + 1, 3, 31)).value
        _rice_diary(ws, rice, season, start, members[0].name)
        _rice_diary(ws, rice2, season, start, members[1].name, early_harvest=True)
        _mango_diary(ws, mango, season, start, members[2].name)
        harvests = {plot.id: [e for e in diary.timeline(plot, season, effective_only=True)
                              if e.kind == "harvest"] for plot in (rice, rice2, mango)}
        day = start + dt.timedelta(days=112)
        good = lots.create([e.id for e in harvests[rice.id]], product="Gạo OM18 VietGAP",
                           pack_date=day).value
        bad = lots.create([e.id for e in harvests[rice2.id]], product="Gạo OM18",
                          pack_date=day).value
        fruit = lots.create([e.id for e in harvests[mango.id]],
                            product="Xoài cát Chu Cao Lãnh",
                            pack_date=start + dt.timedelta(days=103)).value
        if not ws.farm.trace_base_url_confirmed:  # the demo prints on the default address
            ws.farm.confirm_trace_base_url()
        lots.record_print(good, template="a4-3x7", copies=21, serials=True)
        lots.record_print(fruit, template="thermal-50x30", copies=40)
    return FarmDemo((lots.get(good.id), lots.get(bad.id), lots.get(fruit.id)),
                    len(diary.timeline(season=season)))


def _rice_diary(ws: Workspace, plot: Plot, season: Season, start: dt.date, farmer: str,
                early_harvest: bool = False) -> None:
    """A rice season; with `early_harvest` the harvest comes 4 days after a spraying whose PHI
    is 7 days: recorded truthfully, marked non-compliant."""
    d = ws.farm.diary

    def on(days: int) -> dt.date:
        return start + dt.timedelta(days=days)

    d.record(plot, season, "land_preparation", on(-6), method="Cày ải, trục bùn, san phẳng "
             "mặt ruộng", equipment="Máy cày Kubota")
    d.record(plot, season, "seed", on(-2), product="Lúa giống OM18 cấp xác nhận",
             source="Trung tâm Giống Nông nghiệp Đồng Tháp", lot="OM18-XN-1125",
             quantity="100 kg")
    d.record(plot, season, "sowing", on(0), method="Sạ hàng bằng máy, 100 kg/ha")
    d.record(plot, season, "irrigation", on(8), method="Bơm nước vào ruộng, giữ 3–5 cm",
             hours=4)
    d.record(plot, season, "fertiliser", on(10), product="Phân DAP 18-46-0",
             dose="50 kg/ha", applied_by=farmer)
    d.record(plot, season, "fertiliser", on(25), product="Phân NPK 20-20-15",
             dose="100 kg/ha", applied_by=farmer)
    d.record(plot, season, "observation", on(42), pest="Rầy nâu, mật độ 2–3 con/dảnh",
             severity="nhẹ", notes="Theo dõi tiếp, chưa cần phun")
    d.record(plot, season, "fertiliser", on(45), product="Phân Kali clorua (KCl)",
             dose="60 kg/ha", applied_by=farmer)
    d.record(plot, season, "observation", on(70), pest="Rầy nâu tăng, 8–10 con/dảnh",
             severity="trung bình")
    d.record(plot, season, "pesticide", on(72), product="Chess 50WG", dose="300 g/ha",
             target="Rầy nâu", applied_by=farmer, equipment="Bình phun máy 25 l")
    d.record(plot, season, "pesticide", on(90), product="Filia 525SE", dose="0,6 l/ha",
             target="Đạo ôn cổ bông", applied_by=farmer, equipment="Bình phun máy 25 l")
    if early_harvest:
        d.record(plot, season, "pesticide", on(100), product="Virtako 40WG", dose="150 g/ha",
                 target="Sâu đục thân", applied_by=farmer, equipment="Bình phun máy 25 l")
        d.record(plot, season, "harvest", on(104), quantity="11,5 tấn",
                 notes="Thu hoạch sớm vì thương lái hối")
        return
    entry = d.record(plot, season, "harvest", on(106), quantity="16 tấn").value
    d.amend(entry.id, reason="Cân lại tại sân phơi", quantity="16,4 tấn")


def _mango_diary(ws: Workspace, plot: Plot, season: Season, start: dt.date, farmer: str
                 ) -> None:
    d = ws.farm.diary

    def on(days: int) -> dt.date:
        return start + dt.timedelta(days=days)

    d.record(plot, season, "land_preparation", on(-10), method="Tỉa cành, vệ sinh vườn sau "
             "thu hoạch vụ trước")
    d.record(plot, season, "fertiliser", on(-5), product="Phân hữu cơ vi sinh",
             dose="2 tấn/ha", applied_by=farmer)
    d.record(plot, season, "irrigation", on(5), method="Tưới gốc bằng béc phun", hours=2)
    d.record(plot, season, "observation", on(30), pest="Bọ trĩ trên bông", severity="nhẹ")
    d.record(plot, season, "pesticide", on(32), product="Radiant 60SC", dose="0,5 l/ha",
             target="Bọ trĩ", applied_by=farmer, equipment="Máy phun động cơ")
    wrong = d.record(plot, season, "fertiliser", on(40), product="Phân NPK 16-16-8",
                     dose="300 kg/ha", applied_by=farmer).value
    d.void(wrong.id, reason="Ghi nhầm vườn")
    d.record(plot, season, "pesticide", on(60), product="Score 250EC", dose="0,5 l/ha",
             target="Thán thư", applied_by=farmer, equipment="Máy phun động cơ")
    d.record(plot, season, "harvest", on(98), quantity="9 tạ",
             notes="Bao trái, thu hái bằng tay")
