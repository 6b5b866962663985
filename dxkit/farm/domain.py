"""The farm domain, declared to the kernel in one place: organisations, plots and seasons,
the production diary, the pesticide registry (reference data), harvest lots and label prints."""

from __future__ import annotations

import datetime as dt
import random

from dxkit.core.domain import Domain
from dxkit.farm import registry, tables
from dxkit.farm.demo_farm import fill_farm_demo
from dxkit.farm.schema import MIGRATIONS
from dxkit.farm.service import Farm
from dxkit.farm.workspace import FarmWorkspace


def seed_reference(ws: FarmWorkspace, _created: bool) -> None:
    """At every open: shipped registry rows a workspace lacks (never sent by sync)."""
    registry.refresh_shipped(ws)


def build_demo(ws: FarmWorkspace, now: dt.datetime, _rng: random.Random) -> None:
    fill_farm_demo(ws, now)


DOMAIN = Domain(
    name="farm",
    services={"farm": Farm},
    tables=tables.TABLES,
    migrations=MIGRATIONS,
    on_open=(seed_reference,),
    shipped_rows=(registry.shipped_rows,),
    demo=build_demo,
)
