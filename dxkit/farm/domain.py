"""The farm domain, declared to the kernel in one place: organisations, plots and seasons,
the production diary, the pesticide registry (reference data), harvest lots and label prints."""

from __future__ import annotations

import datetime as dt
import random

from dxkit.core.domain import Domain
from dxkit.core.synced import Tx
from dxkit.farm import registry, tables
from dxkit.farm.demo_farm import fill_farm_demo
from dxkit.farm.schema import MIGRATIONS
from dxkit.farm.service import Farm
from dxkit.farm.workspace import FarmWorkspace


def seed_reference(ws: FarmWorkspace, _created: bool) -> None:
    """At every open: shipped registry rows a workspace lacks (never sent by sync)."""
    registry.refresh_shipped(ws)


def forget_erased_members(tx: Tx) -> None:
    """A person erased here or by sync takes their name off the cooperative's member rows
    linked to them (a local edit that reaches the other laptops, like a household's head).
    The member row stays: plots and diary entries name it, and a lot's record must too."""
    for person_id in tx.erased.get("people", {}):
        for row in tx.conn.execute("SELECT id FROM farm_org_members WHERE person_id = ? "
                                   "AND deleted = 0", (person_id,)).fetchall():
            cleared = {"name": "", "name_key": ""}
            tx.update("farm_org_members", row["id"], cleared)
            tx.forget("farm_org_members", row["id"], cleared)


def build_demo(ws: FarmWorkspace, now: dt.datetime, _rng: random.Random) -> None:
    fill_farm_demo(ws, now)


DOMAIN = Domain(
    name="farm",
    services={"farm": Farm},
    tables=tables.TABLES,
    migrations=MIGRATIONS,
    on_open=(seed_reference,),
    before_commit=(forget_erased_members,),
    shipped_rows=(registry.shipped_rows,),
    demo=build_demo,
)
