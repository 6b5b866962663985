"""Fixtures for the ws.farm tests: a cooperative with three plots and a season, at a time after
the season's harvest. Imported by each test_farm_* file."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from dxkit.farm.model import Org, Plot, Season
from dxkit.workspace import Workspace

FARM_NOW = dt.datetime(2027, 4, 1, 9, 30)


@dataclass
class FarmSetup:
    ws: Workspace
    org: Org
    rice: Plot
    rice2: Plot
    mango: Plot
    season: Season


@pytest.fixture
def farm(ws: Workspace) -> FarmSetup:
    ws.freeze_time(FARM_NOW)
    f = ws.farm
    f.confirm_trace_base_url()  # the default address, as the print dialog would confirm it
    org = f.orgs.add("HTX Nông nghiệp Mỹ An", address="Xã Mỹ An, Đồng Tháp",
                     certification="VietGAP").value
    rice = f.orgs.add_plot(org, "Ruộng ông Tám", crop="Lúa", area_ha="2,5", variety="OM18",
                           growing_area_code="DT-MA-LUA-01", location="Ấp 3, xã Mỹ An").value
    rice2 = f.orgs.add_plot(org, "Ruộng bà Năm", crop="rice", area_ha=1.2, variety="OM18",
                            growing_area_code="DT-MA-LUA-02").value
    mango = f.orgs.add_plot(org, "Vườn xoài Cao Lãnh", crop="xoài", area_ha=1.0,
                            variety="Cát Hòa Lộc").value
    season = f.orgs.add_season(org, "Đông Xuân 2026–2027", starts_on="15/11/2026",
                               ends_on="31/03/2027").value
    return FarmSetup(ws, org, rice, rice2, mango, season)


@pytest.fixture
def spray(farm: FarmSetup):
    """Record a pesticide application (Virtako 40WG: PHI 7 days on rice by default)."""
    def record(plot: Plot, on: dt.date, product: str = "Virtako 40WG", **extra):
        return farm.ws.farm.diary.record(plot, farm.season, "pesticide", on, product=product,
                                         dose="1,5 l/ha", applied_by="Nguyễn Văn Tám",
                                         equipment="Bình 16 l", **extra)
    return record


@pytest.fixture
def harvest(farm: FarmSetup):
    def record(plot: Plot, on: dt.date, quantity: str = "6,2 tấn"):
        return farm.ws.farm.diary.record(plot, farm.season, "harvest", on, quantity=quantity)
    return record
