"""Reference data the province publishes flows down to every laptop like the team's own rows;
teams may edit it for themselves without touching each other or the publication."""

from __future__ import annotations

import json
import subprocess

from dxkit.farm.pesticides import product_id
from dxkit.sync import engine, repair
from tests.support.hub_process import dxkit_command
from tests.support.places import unique_commune
from tests.sync.test_e2e_sync import (  # noqa: F401  (fixtures: file tokens, hub, laptops)
    file_tokens,
    hub,
    laptops,
    new_team,
)

HUB_BACKENDS = ("sqlite", "postgresql")
SQLITE_ONLY = {"test_hamlets_and_their_population_reach_the_teams_of_that_hamlet_only",
               "test_team_data_cannot_be_published_to_everyone_and_bad_files_are_sentences"}


def indicator_id(ws, code: str) -> str:
    return ws.conn.execute("SELECT id FROM indicators WHERE code = ?", (code,)).fetchone()[0]


def publish(hub, tmp_path, data: dict, *extra: str) -> dict:
    path = tmp_path / "publication.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return hub.admin("publish", str(path), *extra)


def test_published_targets_and_registry_reach_every_team(hub, laptops, tmp_path):
    a = laptops("a", new_team(hub))
    c = laptops("c", new_team(hub, "Khóm 3"))
    regent = product_id("Regent 800WG", "shipped")
    answer = publish(hub, tmp_path, {"tables": [
        {"table": "indicators", "rows": [{"id": indicator_id(a, "vneid_level2"),
                                          "target": 0.8}]},
        {"table": "pesticide_bans", "rows": [{
            "id": "ban-tricyclazole-test", "ingredient": "tricyclazole",
            "effective_on": "2026-06-01", "reference": "Quyết định thử nghiệm 1/2026",
            "deleted": 0}]},
        {"table": "pesticide_products", "rows": [{"id": regent, "active": 0}]},
    ]})
    assert answer["applied"] == {"indicators": 1, "pesticide_bans": 1, "pesticide_products": 1}
    for ws in (a, c):
        engine.sync(ws)
        target = {i.code: i.target for i in ws.catalog.indicators()}["vneid_level2"]
        assert target == 0.8
        published = {i.code for i in ws.catalog.indicators() if i.target_published}
        assert published == {"vneid_level2"}  # the app shows it locked
        assert "tricyclazole" in {ban.ingredient for ban in ws.farm.registry.bans()}
        assert "Regent 800WG" not in {p.name for p in ws.farm.registry.products()}
        assert repair.check(ws).in_step
    again = publish(hub, tmp_path, {"table": "indicators", "rows": [
        {"id": indicator_id(a, "vneid_level2"), "target": 0.8}]})
    assert again["unchanged"] == {"indicators": 1}  # nothing new: nothing to pull


def test_teams_edit_a_published_row_each_for_themselves(hub, laptops, tmp_path):
    a = laptops("a", new_team(hub))
    b = laptops("b", new_team(hub, "Khóm 3"))
    a.catalog.set_target("smartphone", "60%")
    b.catalog.set_target("smartphone", "90%")
    for ws in (a, b):
        report = engine.sync(ws)
        assert report.quarantined == 0  # once the first team to push owned the row
    publish(hub, tmp_path, {"table": "indicators", "rows": [
        {"id": indicator_id(a, "smartphone"), "target": 0.75}]})
    for ws in (a, b):
        engine.sync(ws)
        # The newer publication wins over each team's older edit of the same field ...
        assert {i.code: i.target for i in ws.catalog.indicators()}["smartphone"] == 0.75
        assert {i.code: i.target_published for i in ws.catalog.indicators()}["smartphone"]
    b.catalog.set_target("smartphone", "95%")
    engine.sync(b)
    engine.sync(a)
    # ... and a later team edit wins over the publication, for that team only.
    assert {i.code: i.target for i in b.catalog.indicators()}["smartphone"] == 0.95
    assert {i.code: i.target for i in a.catalog.indicators()}["smartphone"] == 0.75
    assert not {i.code: i.target_published for i in b.catalog.indicators()}["smartphone"]
    assert {i.code: i.target_published for i in a.catalog.indicators()}["smartphone"]
    for ws in (a, b):
        assert repair.check(ws).in_step


def test_hamlets_and_their_population_reach_the_teams_of_that_hamlet_only(hub, laptops,
                                                                         tmp_path):
    """The province registers a commune's hamlets and publishes their official population
    (`hub hamlets set`, `hub publish`): the commune team gets every one, the team of one of
    them only its own, and a team elsewhere none; a team's own figure is a synced edit that
    a newer publication replaces."""
    province, commune = unique_commune()
    place = ("--province", province, "--commune", commune)
    phu = hub.admin("hamlets", "set", *place, "--hamlet", "Ấp Mỹ Phú", "--population-15",
                    "812", "--population-18", "745")
    loi = hub.admin("hamlets", "set", *place, "--hamlet", "Ấp Mỹ Lợi")
    whole = laptops("whole", hub.admin("team", "add", *place)["team_id"])
    one = laptops("one", hub.admin("team", "add", *place, "--hamlet", "ấp mỹ phú")["team_id"])
    elsewhere = laptops("elsewhere", new_team(hub, "Ấp Mỹ Phú"))
    assert {h.name for h in whole.catalog.hamlets()} == {"Ấp Mỹ Phú", "Ấp Mỹ Lợi"}
    assert [(h.id, h.population_15, h.population_18) for h in one.catalog.hamlets()] == [
        (phu["id"], 812, 745)]  # with the enrollment, before any sync
    given = one.catalog.hamlet(phu["id"])
    assert given.population_15_published and given.population_18_published
    assert [h.id for h in elsewhere.catalog.hamlets()] != [phu["id"]]
    one.catalog.set_population(phu["id"], 820, 750)  # the team counted again
    engine.sync(one)
    engine.sync(whole)
    assert whole.catalog.hamlet(phu["id"]).population_15 == 820
    assert not whole.catalog.hamlet(phu["id"]).population_15_published  # the team's figure
    publish(hub, tmp_path, {"table": "hamlets", "rows": [
        {"id": phu["id"], "population_15": 830}, {"id": loi["id"], "population_18": 90}]})
    for ws in (whole, one):
        engine.sync(ws)
        assert repair.check(ws).in_step
    assert (whole.catalog.hamlet(phu["id"]).population_15,
            whole.catalog.hamlet(phu["id"]).population_18) == (830, 750)
    assert whole.catalog.hamlet(loi["id"]).population_18 == 90
    republished = whole.catalog.hamlet(phu["id"])
    assert (republished.population_15_published, republished.population_18_published) == (
        True, False)  # 830 the province's, 750 still the team's
    listed = {h["id"]: h for h in hub.admin("hamlets", "list", *place)}
    assert (listed[phu["id"]]["population_15"], listed[loi["id"]]["population_18"]) == (830, 90)


def test_team_data_cannot_be_published_to_everyone_and_bad_files_are_sentences(hub, tmp_path):
    path = tmp_path / "p.json"
    cases = [({"table": "hamlets", "rows": [{"id": "x", "name": "Ấp"}]}, "hub hamlets set"),
             ({"table": "team_members", "rows": [{"id": "x", "name": "Hoa"}]}, "--team"),
             ({"table": "visits", "rows": []}, "visits"),
             ({"table": "indicators", "rows": [{"id": "new-one", "code": "new_one"}]},
              "name_vi"),
             ({"table": "indicators", "rows": [{"code": "x"}]}, "id"),
             # Every value must fit its field's declared type, as a pushed one must.
             ({"table": "indicators", "rows": [{"id": "new-one", "target": 80}]},
              "field target: This number must be between 0 and 1"),
             ({"table": "indicators", "rows": [{"id": "i\ud800", "target": 0.5}]}, "no id")]
    for data, expected in cases:
        path.write_text(json.dumps(data), encoding="utf-8")
        done = subprocess.run(dxkit_command("--lang", "en", "hub", "--db", str(hub.db_path),
                                            "publish", str(path)),
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 1, done.stdout
        assert expected in done.stderr and "Traceback" not in done.stderr
