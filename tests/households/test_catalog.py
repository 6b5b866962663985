"""The indicator list and support-item catalogue are data a team or province can change."""

from __future__ import annotations

import pytest

from dxkit.core.errors import ValidationError
from dxkit.core.hlc import HUB_DEVICE
from dxkit.core.synced import record_of
from dxkit.households.catalog import (
    DEFAULT_INDICATORS,
    DEFAULT_SUPPORT_ITEMS,
    Hamlet,
    catalog_id,
    official_population,
)
from dxkit.households.visits import VisitItem


def test_defaults_are_vietnamese_and_identical_on_every_device(ws, tmp_path):
    assert [i.code for i in ws.catalog.indicators()] == [c for c, *_ in DEFAULT_INDICATORS]
    assert [s.code for s in ws.catalog.support_items()] == [c for c, *_ in DEFAULT_SUPPORT_ITEMS]
    assert ws.catalog.support_items()[2].name == "Kích hoạt định danh điện tử mức 2"
    row = ws.conn.execute("SELECT id FROM support_items WHERE code = 'vneid_level2'").fetchone()
    assert row["id"] == catalog_id("support_item", "vneid_level2")


def test_a_new_item_establishes_a_new_indicator(ws):
    ws.catalog.add_indicator("uses_zalo", "Dùng Zalo", "Uses Zalo", min_age=12)
    ws.catalog.add_support_item("zalo_install", "Cài đặt Zalo", "Install Zalo", "uses_zalo")
    household = ws.households.add(code="MH-1", head_name="Lê Văn A", hamlet="Ấp Mỹ Hưng").value
    person = ws.people.add(household.id, full_name="Lê Văn A", birth_year=1990).value
    ws.visits.add(household.id, [VisitItem("zalo_install", "done", person.id)],
                  member_ids=[ws.catalog.member("Lê Thị Hoa").id])
    assert [(v.code, v.value) for v in ws.indicators.for_person(person.id)] == [
        ("uses_zalo", True)]


def test_a_retired_item_is_not_offered_but_history_keeps_it(ws):
    household = ws.households.add(code="MH-1", head_name="Lê Văn A", hamlet="Ấp Mỹ Hưng").value
    member = ws.catalog.member("Lê Thị Hoa").id
    visit = ws.visits.add(household.id, [VisitItem("online_safety", "done")],
                          member_ids=[member]).value
    ws.catalog.set_active("support_items", "online_safety", False)
    assert "online_safety" not in [s.code for s in ws.catalog.support_items()]
    with pytest.raises(ValidationError):
        ws.visits.add(household.id, [VisitItem("online_safety", "done")], member_ids=[member])
    assert ws.visits.get(visit.id).items[0].support_item_code == "online_safety"


@pytest.mark.parametrize(("code", "vi", "en", "field"), [
    ("Cài Zalo", "Cài Zalo", "Install Zalo", "code"),
    ("vneid_level2", "Trùng", "Duplicate", "code"),
    ("zalo", "", "Install Zalo", "name_vi"),
])
def test_bad_entries_are_refused(ws, code, vi, en, field):
    before = len(ws.catalog.support_items())
    with pytest.raises(ValidationError) as error:
        ws.catalog.add_support_item(code, vi, en)
    assert field in error.value.fields
    assert len(ws.catalog.support_items()) == before


def test_the_shipped_catalogue_is_not_sent_and_is_older_than_any_edit(fresh_ws):
    from dxkit.core.synced import SHIPPED_CLOCK, field_clocks

    assert fresh_ws.conn.execute("SELECT count(*) FROM outbox WHERE table_name IN "
                                 "('indicators', 'support_items')").fetchone()[0] == 0
    row = fresh_ws.conn.execute("SELECT * FROM support_items WHERE code = 'online_safety'"
                                ).fetchone()
    assert set(field_clocks("support_items", row).values()) == {SHIPPED_CLOCK}
    fresh_ws.catalog.set_active("support_items", "online_safety", False)
    row = fresh_ws.conn.execute("SELECT * FROM support_items WHERE code = 'online_safety'"
                                ).fetchone()
    assert field_clocks("support_items", row)["active"] > SHIPPED_CLOCK
    assert fresh_ws.pending_changes() == 1  # a team's own edit is sent


# -- figures the province published -------------------------------------------------------------
def publish_from_hub(ws, table: str, row_id: str, values: dict) -> None:
    """Apply `values` to a row as a hub publication arriving by sync would: the fields
    stamped with a clock of the hub's (newer than the row's own), the rest as they are."""
    record = record_of(ws.conn, table, row_id)
    newest = max(int(stamp[:12], 16) for stamp in record["clocks"].values())
    stamp = f"{newest + 1000:012x}-0000-{HUB_DEVICE}"
    record["fields"].update(values)
    record["clocks"].update({name: stamp for name in values})
    with ws.transaction() as tx:
        assert tx.apply_remote(record) == "applied"


def indicator(ws, code: str):
    return next(i for i in ws.catalog.indicators() if i.code == code)


def test_a_target_is_published_when_the_hub_stamped_it(ws):
    assert not indicator(ws, "vneid_level2").target_published  # shipped, without a target
    ws.catalog.set_target("vneid_level2", "60%")
    assert indicator(ws, "vneid_level2").target_published is False  # the team's own
    publish_from_hub(ws, "indicators", catalog_id("indicator", "vneid_level2"),
                     {"target": 0.8})
    published = indicator(ws, "vneid_level2")
    assert (published.target, published.target_published) == (0.8, True)
    assert not indicator(ws, "smartphone").target_published  # only the field it published
    # A hub that withdraws the target (None) publishes no target: nothing to lock.
    publish_from_hub(ws, "indicators", catalog_id("indicator", "vneid_level2"),
                     {"target": None})
    assert indicator(ws, "vneid_level2").target_published is False
    # A team's later edit is the team's again.
    publish_from_hub(ws, "indicators", catalog_id("indicator", "vneid_level2"),
                     {"target": 0.9})
    ws.catalog.set_target("vneid_level2", "95%")
    assert (indicator(ws, "vneid_level2").target, indicator(ws, "vneid_level2")
            .target_published) == (0.95, False)


def test_each_population_figure_is_published_on_its_own(ws):
    hamlet = ws.catalog.hamlet("Khóm 3")
    assert (hamlet.population_15_published, hamlet.population_18_published) == (False, False)
    ws.catalog.set_population(hamlet.id, 500, 420)
    publish_from_hub(ws, "hamlets", hamlet.id, {"population_15": 812})
    again = ws.catalog.hamlet("Khóm 3")
    assert (again.population_15, again.population_18) == (812, 420)
    assert (again.population_15_published, again.population_18_published) == (True, False)
    other = ws.catalog.hamlet("Ấp Mỹ Hưng")
    assert not other.population_15_published


@pytest.mark.parametrize(("typed", "figure"), [("812", 812), (" 1.250 ", 1250), ("1,250", 1250),
                                               ("1 250 000", 1_250_000), ("", None)])
def test_a_typed_population_is_read_as_a_whole_number(ws, typed, figure):
    hamlet = ws.catalog.hamlet("Khóm 3")
    assert ws.catalog.set_population(hamlet.id, typed, None).value.population_15 == figure


@pytest.mark.parametrize("typed", ["12,5", "-3", "nhiều", "1.25", "3e4"])
def test_a_population_that_is_not_a_whole_number_is_one_sentence(ws, typed):
    hamlet = ws.catalog.hamlet("Khóm 3")
    with pytest.raises(ValidationError) as refused:
        ws.catalog.set_population(hamlet.id, "900", typed)
    assert refused.value.fields == {
        "population_18": "Dân số là số nguyên từ 0 đến 10.000.000."}
    assert ws.catalog.hamlet("Khóm 3").population_15 is None  # nothing written


def test_a_published_figure_given_unchanged_stays_the_provinces(ws):
    hamlet = ws.catalog.hamlet("Khóm 3")
    publish_from_hub(ws, "hamlets", hamlet.id, {"population_15": 812})
    again = ws.catalog.set_population(hamlet.id, 812, "700").value
    assert (again.population_15_published, again.population_18_published) == (True, False)


def test_official_population_is_summed_by_the_indicators_age():
    hamlets = [Hamlet("a", "A", 100, 80), Hamlet("b", "B", 50, 45)]
    assert official_population(hamlets, 15) == 150
    assert official_population(hamlets, 18) == 125
    assert official_population([*hamlets, Hamlet("c", "C", 10, None)], 15) == 160
    assert official_population([*hamlets, Hamlet("c", "C", 10, None)], 18) is None
    assert official_population([], 15) is None
