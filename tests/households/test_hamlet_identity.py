"""One row per hamlet on a laptop (issue 10 §1): the id every laptop gives a hamlet of its
commune, twins merged wherever they meet, the official population, and migration 0011."""

from __future__ import annotations

import dataclasses
import json

import pytest

from dxkit.core.clock_repair import META_REPULL
from dxkit.core.errors import ValidationError
from dxkit.core.places import hamlet_id
from dxkit.core.synced import record_of
from dxkit.core.workspace import HUB_TEAM_KIND_META
from dxkit.households.domain import DOMAIN as HOUSEHOLDS
from dxkit.workspace import Workspace
from tests.support.derived import assert_derived_agree

MY_THO = 28261


@pytest.fixture
def pair(tmp_path):
    """Two laptops of Phường Mỹ Tho that have not met."""
    made = []
    for name in ("a", "b"):
        ws = Workspace.open(tmp_path / name)
        ws.configure_team("Đồng Tháp", "Mỹ Tho")
        made.append(ws)
    yield made
    for ws in made:
        ws.close()


def send(source: Workspace, target: Workspace, tables=("hamlets", "households")) -> None:
    """The source's rows of these tables, applied on the target as a pull would."""
    with target.transaction() as tx:
        for table in tables:
            for (row_id,) in source.conn.execute(f"SELECT id FROM {table}").fetchall():
                tx.apply_remote(record_of(source.conn, table, row_id))


def acknowledged(ws: Workspace) -> None:
    """What a successful push leaves: nothing waiting."""
    ws.conn.execute("DELETE FROM outbox")


def live(ws: Workspace) -> list[tuple[str, str]]:
    return [(h.id, h.name) for h in ws.catalog.hamlets()]


def test_a_hamlet_of_a_known_commune_gets_the_id_every_laptop_gives_it(pair):
    a, b = pair
    made = a.catalog.add_hamlet("Ấp Mỹ Đông").value
    assert made.id == hamlet_id(MY_THO, "ap my dong") == b.catalog.add_hamlet(
        "ẤP MỸ ĐÔNG").value.id
    # A hamlet renamed since it was typed keeps its id; the old name typed again gets another.
    a.catalog.rename_hamlet(made.id, "Ấp Mỹ Đông Một")
    again = a.catalog.add_hamlet("Ấp Mỹ Đông").value
    assert again.id != made.id
    with pytest.raises(ValidationError):
        a.catalog.rename_hamlet(again.id, "ấp mỹ đông một")  # a name another hamlet has


def test_without_a_commune_a_hamlet_gets_a_new_id(fresh_ws):
    made = fresh_ws.catalog.add_hamlet("Ấp Mỹ Đông").value
    assert made.id != hamlet_id(MY_THO, "Ấp Mỹ Đông")


def test_a_hamlet_teams_laptop_adds_no_hamlet(pair):
    a, _b = pair
    with a.transaction():
        a.set_meta(HUB_TEAM_KIND_META, "hamlet")
    with pytest.raises(ValidationError) as refused:
        a.catalog.add_hamlet("Ấp Mới")
    assert "name" in refused.value.fields


def test_a_pulled_twin_merges_and_the_households_follow(pair, tmp_path):
    """a typed the hamlet before it knew its commune and pushed it (acknowledged); b has the
    hub's row of it. On each, the twin meets the other: one survivor (a row the hub has, the
    id every laptop gives it first), households moved by synced edits, the other deleted."""
    _a, b = pair
    loose = Workspace.open(tmp_path / "loose")  # no commune yet: a random id
    try:
        typed = loose.catalog.add_hamlet("Ấp Mỹ Đông").value
        home = loose.households.add(code="MĐ-1", head_name="Nguyễn Văn An",
                                    hamlet="Ấp Mỹ Đông").value
        canonical = b.catalog.add_hamlet("Ấp Mỹ Đông").value
        b.households.add(code="MĐ-2", head_name="Trần Văn Bé", hamlet="Ấp Mỹ Đông")
        acknowledged(loose)
        acknowledged(b)
        send(loose, b)  # b meets the twin: both on the hub; the canonical id stays
        assert live(b) == [(canonical.id, "Ấp Mỹ Đông")]
        assert {h.hamlet_id for h in b.households.list()} == {canonical.id}
        assert record_of(b.conn, "hamlets", typed.id)["fields"]["deleted"] == 1
        moved = b.conn.execute("SELECT fields FROM outbox WHERE table_name = 'households' AND "
                               "row_id = ?", (home.id,)).fetchone()
        assert json.loads(moved[0]) == ["hamlet_id"]  # an ordinary edit, sent with the push
        assert b.catalog.hamlet("ap my dong").id == canonical.id
        assert_derived_agree([b])  # the search index names the survivor
    finally:
        loose.close()


def test_a_twin_that_never_left_this_laptop_gives_way_and_goes(pair):
    """b's own row of a hamlet is still waiting for its first push when the hub's arrives:
    b's households move to the hub's row and b's row is removed with its queued insert
    (nobody else has it)."""
    a, b = pair
    with b.transaction():
        b.set_meta("commune_code", "")  # as before it knew its commune: a random id
    mine = b.catalog.add_hamlet("Ấp Mỹ Đông").value
    b.households.add(code="MĐ-2", head_name="Trần Văn Bé", hamlet="Ấp Mỹ Đông")
    a.catalog.add_hamlet("Ấp Mỹ Đông")
    acknowledged(a)
    send(a, b)
    hub_row = hamlet_id(MY_THO, "Ấp Mỹ Đông")
    assert live(b) == [(hub_row, "Ấp Mỹ Đông")]
    assert record_of(b.conn, "hamlets", mine.id) is None
    assert b.conn.execute("SELECT count(*) FROM outbox WHERE row_id = ?",
                          (mine.id,)).fetchone()[0] == 0
    assert [h.hamlet_id for h in b.households.list()] == [hub_row]


def test_a_household_arriving_on_a_merged_hamlet_moves_to_the_survivor(pair, tmp_path):
    """A household typed elsewhere on the hamlet row that lost the merge reaches a laptop
    after the merge: it lands on the survivor (an edit, so its author's laptop follows)."""
    _a, b = pair
    loose = Workspace.open(tmp_path / "loose")
    try:
        typed = loose.catalog.add_hamlet("Ấp Mỹ Đông").value
        acknowledged(loose)
        canonical = b.catalog.add_hamlet("Ấp Mỹ Đông").value
        acknowledged(b)
        send(loose, b)
        late = loose.households.add(code="MĐ-9", head_name="Lê Văn Chín",
                                    hamlet=typed.id).value
        send(loose, b, ("households",))
        assert b.households.get(late.id).hamlet_id == canonical.id
    finally:
        loose.close()


def test_the_official_population_is_checked_and_synced(pair):
    a, b = pair
    hamlet = a.catalog.add_hamlet("Ấp Mỹ Đông").value
    with pytest.raises(ValidationError) as refused:
        a.catalog.set_population(hamlet.id, 100, 120)
    assert set(refused.value.fields) == {"population_18"}
    with pytest.raises(ValidationError):
        a.catalog.set_population(hamlet.id, -1, None)
    done = a.catalog.set_population(hamlet.id, 812, 745)
    assert (done.value.population_15, done.value.population_18) == (812, 745)
    send(a, b)
    assert b.catalog.hamlet("Ấp Mỹ Đông").population_18 == 745


def test_migration_0011_lets_twins_in_and_pulls_the_failed_rows_again(tmp_path, monkeypatch):
    """A workspace of the version before: its hamlet name index was unique, so a pulled twin
    failed (quarantined with an IntegrityError) and its households after it. Migrated: the
    index takes twins (they are merged), those quarantined rows are forgotten and their
    tables pulled again from the start at the next sync; hamlets have their population."""
    folder = tmp_path / "old"
    older = dataclasses.replace(HOUSEHOLDS, migrations=tuple(
        m for m in HOUSEHOLDS.migrations if m.name < "0011"), before_commit=())
    monkeypatch.setattr(Workspace, "domains", (older,))
    ws = Workspace.open(folder)
    with ws.transaction() as tx:
        tx.insert("hamlets", {"name": "Ấp Mỹ Đông", "name_key": "ap my dong", "sort_order": 0})
        for table, reason in (("hamlets", "IntegrityError: UNIQUE constraint failed: "
                                          "hamlets.name_key"),
                              ("households", "IntegrityError: FOREIGN KEY constraint failed"),
                              ("households", "too_long:notes")):
            tx.conn.execute("INSERT INTO sync_quarantine (table_name, row_id, direction, "
                            "reason, record, at) VALUES (?, 'x', 'pull', ?, '{}', '')",
                            (table, reason))
    ws.close()
    monkeypatch.undo()
    with Workspace.open(folder) as again:
        reasons = [row[0] for row in again.conn.execute("SELECT reason FROM sync_quarantine")]
        assert reasons == ["too_long:notes"]
        assert set(json.loads(again.meta()[META_REPULL])) >= {"hamlets", "households",
                                                              "people", "visits"}
        with again.transaction() as tx:  # a twin is stored (and merged at commit)
            tx.insert("hamlets", {"name": "Ấp Mỹ Đông", "name_key": "ap my dong",
                                  "sort_order": 1})
        assert len(again.catalog.hamlets()) == 1
        assert again.catalog.hamlets()[0].population_15 is None
