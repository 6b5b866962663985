"""Every synced table says where its rows live on the hub (core.synced.Area): a table added
without it would be kept as one team's own rows, and a commune team and the hamlet team
beside it would never share it."""

from __future__ import annotations

import pytest

import dxkit.workspace  # noqa: F401  (installs every domain's synced tables)
from dxkit.core.synced import REGISTRY, Area, SyncedTable, area_children, register


def test_every_synced_table_declares_its_area():
    undeclared = sorted(name for name, spec in REGISTRY.items() if spec.area is None)
    assert undeclared == [], (
        f"declare where these tables' rows live on the hub (area=Area.team(), "
        f"Area.hamlet(), Area.own(field) or Area.via(field, table)): {undeclared}")


def test_every_shared_table_reaches_a_hamlet():
    """Following Area.via from any shared table ends at a table whose rows name their hamlet
    (Area.own) or are hamlets (Area.hamlet): the hub can always resolve a row's hamlet."""
    for name, spec in REGISTRY.items():
        seen = [name]
        while spec.placed.kind == "via":
            spec = REGISTRY[spec.placed.table]
            assert spec.name not in seen, seen
            seen.append(spec.name)
        assert spec.placed.kind in ("team", "hamlet", "own"), seen
        if REGISTRY[name].placed.shared:
            assert spec.placed.kind in ("hamlet", "own"), seen


def test_the_household_bound_tables_are_shared():
    shared = {name for name, spec in REGISTRY.items() if spec.placed.shared}
    assert {"hamlets", "households", "people", "visits", "visit_items",
            "indicator_answers"} <= shared
    assert not {"team_members", "indicators", "support_items", "farm_orgs",
                "published_traces"} & shared
    assert {spec.name for spec in area_children("households")} >= {"people", "visits"}


def test_a_relation_must_name_a_field_and_a_parent_it_depends_on():
    types = {"visit_id": REGISTRY["visit_items"].types["visit_id"]}
    with pytest.raises(ValueError, match="not one of its fields"):
        register(SyncedTable("test_bad_area", "event", ("visit_id",), types=types,
                             area=Area.via("household_id", "households"),
                             depends_on=("households",)))
    with pytest.raises(ValueError, match="depends_on"):
        register(SyncedTable("test_bad_area", "event", ("visit_id",), types=types,
                             area=Area.via("visit_id", "visits")))
    assert "test_bad_area" not in REGISTRY
