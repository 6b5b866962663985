"""Hamlet teams and commune teams on the hub (issue 10 §1, docs/sync-protocol.md "Scope"), on
SQLite and PostgreSQL: a commune team reads and writes every hamlet of its commune, a hamlet
team only its own; a record written on either side reaches the other; scope is checked on
every push, pull, digest and fetch, through each household-bound table's parent chain."""

from __future__ import annotations

import datetime as dt

import pytest

from dxkit.core.places import hamlet_id
from dxkit.sync.hub import digest
from dxkit.sync.hub.store import HubError, HubStore

HUB_BACKENDS = ("sqlite", "postgresql")
NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
DONG_THAP, MY_THO, DAO_THANH = 82, 28261, 28249
MY_HUNG, KHOM_3 = "Ấp Mỹ Hưng", "Khóm 3"
H_MY_HUNG, H_KHOM_3 = hamlet_id(MY_THO, MY_HUNG), hamlet_id(MY_THO, KHOM_3)
HOUSEHOLD_BOUND = ("hamlets", "households", "people", "visits", "visit_items",
                   "indicator_answers")


@pytest.fixture
def store(hub_db: str):
    hub = HubStore(hub_db, now=lambda: NOW)
    yield hub
    hub.close()


def device_of(store: HubStore, team_id: str):
    code, _expires = store.issue_code(team_id)
    _device_id, token, _team = store.enroll(code, "Laptop")
    return store.authenticate(token)


@pytest.fixture
def teams(store):
    """The team of Ấp Mỹ Hưng, the team of Khóm 3, and the commune team of Mỹ Tho, one
    device each (and a second, silent device of each to read everything back)."""
    my_hung = store.add_team(DONG_THAP, MY_THO, MY_HUNG)
    khom_3 = store.add_team(DONG_THAP, MY_THO, KHOM_3)
    commune = store.add_team(DONG_THAP, MY_THO)
    return {name: (team, device_of(store, team.id), device_of(store, team.id))
            for name, team in (("my_hung", my_hung), ("khom_3", khom_3), ("commune", commune))}


def family(make_record, hamlet: str, tag: str, ms: int = 1) -> list[dict]:
    """A household of `hamlet` with a person, a visit, a visit item and an answer."""
    return [
        make_record("households", f"hh-{tag}", code=f"C-{tag}", head_name="Nguyễn Văn An",
                    hamlet_id=hamlet, ms=ms),
        make_record("people", f"p-{tag}", household_id=f"hh-{tag}", full_name="Trần Thị Lan",
                    ms=ms),
        make_record("visits", f"v-{tag}", household_id=f"hh-{tag}", kind="visit", ms=ms),
        make_record("visit_items", f"vi-{tag}", visit_id=f"v-{tag}", person_id=f"p-{tag}",
                    support_item_code="vneid_level2", outcome="done", ms=ms),
        make_record("indicator_answers", f"a-{tag}", person_id=f"p-{tag}",
                    indicator_code="smartphone", value=1, ms=ms),
    ]


def statuses(outcome) -> list[tuple[str, str, str | None]]:
    return [(r["table"], r["status"], r.get("reason")) for r in outcome.results]


def pulled(store: HubStore, device, table: str) -> set[str]:
    return {record["id"] for record in store.pull(device, table, limit=1000).records}


def everything(store: HubStore, device) -> dict[str, set[str]]:
    return {table: pulled(store, device, table) for table in HOUSEHOLD_BOUND}


def test_teams_know_their_kind_and_hamlets(store, teams):
    my_hung, _a, _ = teams["my_hung"]
    commune, _c, _ = teams["commune"]
    assert (my_hung.kind, [h.id for h in my_hung.hamlets]) == ("hamlet", [H_MY_HUNG])
    assert commune.kind == "commune" and commune.hamlet == ""
    assert {h.id for h in store.team(commune.id).hamlets} == {H_MY_HUNG, H_KHOM_3}
    wire = store.team(my_hung.id).to_wire()
    assert wire["kind"] == "hamlet" and wire["hamlets"] == [{"id": H_MY_HUNG, "name": MY_HUNG}]
    # The same hamlet typed again (any case, any diacritics) is the same hamlet.
    again = store.add_team(DONG_THAP, MY_THO, "ap my hung")
    assert [h.id for h in again.hamlets] == [H_MY_HUNG]
    with pytest.raises(HubError) as blank:
        store.add_team(DONG_THAP, MY_THO, "  ")
    assert blank.value.code == "bad_request"


def test_the_hub_makes_each_hamlet_teams_hamlet_row(store, teams):
    """A laptop enrolling gets its hamlet's row (made by the hub when the team was added);
    a commune team's laptop every hamlet of its commune."""
    my_hung, a, _ = teams["my_hung"]
    commune, c, _ = teams["commune"]
    assert pulled(store, a, "hamlets") == {H_MY_HUNG}
    assert pulled(store, c, "hamlets") == {H_MY_HUNG, H_KHOM_3}
    records = store.enrollment_records(my_hung.id)
    hamlet = next(r for r in records if r["table"] == "hamlets")
    assert hamlet["id"] == H_MY_HUNG and hamlet["fields"]["name"] == MY_HUNG
    assert hamlet["fields"]["population_15"] is None
    assert {r["table"] for r in store.enrollment_records(commune.id)} <= {"hamlets",
                                                                         "indicators"}


def test_a_commune_teams_households_reach_each_hamlet_team_and_back(store, teams,
                                                                    make_record):
    _, a, a_reader = teams["my_hung"]
    _, _b, b_reader = teams["khom_3"]
    _, c, c_reader = teams["commune"]
    pushed = store.push(c, family(make_record, H_MY_HUNG, "1") + family(make_record, H_KHOM_3,
                                                                        "2"))
    assert {status for _table, status, _reason in statuses(pushed)} == {"applied"}
    mine = everything(store, a_reader)
    assert mine["households"] == {"hh-1"} and mine["people"] == {"p-1"}
    assert mine["visits"] == {"v-1"} and mine["visit_items"] == {"vi-1"}
    assert mine["indicator_answers"] == {"a-1"} and mine["hamlets"] == {H_MY_HUNG}
    theirs = everything(store, b_reader)
    assert theirs["households"] == {"hh-2"} and theirs["indicator_answers"] == {"a-2"}
    # An edit by the hamlet team reaches the commune team (and the hamlet team's people
    # reach it, new rows included).
    edit = make_record("households", "hh-1", code="C-1", head_name="Nguyễn Văn Anh",
                       hamlet_id=H_MY_HUNG, ms=5)
    more = family(make_record, H_MY_HUNG, "3", ms=5)
    assert {s for _t, s, _r in statuses(store.push(a, [edit, *more]))} == {"applied"}
    by_commune = {r["id"]: r for r in store.pull(c_reader, "households", limit=100).records}
    assert by_commune["hh-1"]["fields"]["head_name"] == "Nguyễn Văn Anh"
    assert everything(store, c_reader)["visit_items"] == {"vi-1", "vi-2", "vi-3"}
    assert "hh-3" not in pulled(store, b_reader, "households")


def test_a_hamlet_team_cannot_touch_another_hamlet_through_any_table(store, teams,
                                                                     make_record):
    """Each household-bound table, resolved through its parent chain: a record of Khóm 3
    (new, or an edit of one that exists) from the team of Ấp Mỹ Hưng is refused, that
    record alone; so is a hamlet it has no right to make."""
    _, a, a_reader = teams["my_hung"]
    _, c, _ = teams["commune"]
    store.push(c, family(make_record, H_KHOM_3, "k"))
    edits = family(make_record, H_KHOM_3, "k", ms=9)  # the same rows, newer
    new = family(make_record, H_KHOM_3, "n")  # new rows of Khóm 3
    children = family(make_record, H_MY_HUNG, "x")[1:]  # of a household of Khóm 3:
    for record in children:
        for name in ("household_id", "person_id", "visit_id"):
            if name in record["fields"]:
                record["fields"][name] = {"household_id": "hh-k", "person_id": "p-k",
                                          "visit_id": "v-k"}[name]
    hamlets = [make_record("hamlets", H_KHOM_3, name=KHOM_3, name_key="khom 3", ms=9),
               make_record("hamlets", hamlet_id(MY_THO, "Ấp Mới"), name="Ấp Mới",
                           name_key="ap moi"),
               make_record("hamlets", hamlet_id(DAO_THANH, "Ấp Mới"), name="Ấp Mới",
                           name_key="ap moi")]
    batch = [*edits, *new, *children, *hamlets]
    outcome = store.push(a, batch)
    # New rows under the refused new household wait for it (it never comes: refused too).
    waiting = {id(record) for record in new[1:]}
    assert statuses(outcome) == [
        (record["table"], "rejected",
         "unknown_parent" if id(record) in waiting else "out_of_scope") for record in batch]
    assert everything(store, a_reader) == {
        "hamlets": {H_MY_HUNG}, **{table: set() for table in HOUSEHOLD_BOUND[1:]}}
    # and nothing of it changed for the hamlet's own team
    _, _b, b_reader = teams["khom_3"]
    households = store.pull(b_reader, "households", limit=10).records
    assert [r["fields"]["head_name"] for r in households] == ["Nguyễn Văn An"]


def test_rows_the_hub_cannot_place_yet_wait_for_their_parent(store, teams, make_record):
    _, a, _ = teams["my_hung"]
    orphans = family(make_record, H_MY_HUNG, "o")[1:]  # its household never arrived
    unknown_hamlet = make_record("households", "hh-u", code="U-1", hamlet_id="h-nowhere")
    outcome = store.push(a, [*orphans, unknown_hamlet])
    assert {(s, r) for _t, s, r in statuses(outcome)} == {("rejected", "unknown_parent")}
    household = family(make_record, H_MY_HUNG, "o")[0]
    outcome = store.push(a, [household, *orphans])  # sent again after it: taken
    assert {s for _t, s, _r in statuses(outcome)} == {"applied"}


def test_a_commune_team_adds_hamlets_its_commune_teams_read(store, teams, make_record):
    """A commune team may add a hamlet of its commune (the hub registers it, and a hamlet
    team made for it later uses it); a hamlet team may not, nor any team another commune's."""
    _, _a, _ = teams["my_hung"]
    commune, c, c_reader = teams["commune"]
    new_hamlet = hamlet_id(MY_THO, "Ấp Tân Long")
    outcome = store.push(c, [
        make_record("hamlets", new_hamlet, name="Ấp Tân Long", name_key="ap tan long"),
        make_record("households", "hh-t", code="TL-1", hamlet_id=new_hamlet)])
    assert {s for _t, s, _r in statuses(outcome)} == {"applied"}
    assert new_hamlet in {h.id for h in store.team(commune.id).hamlets}
    assert pulled(store, c_reader, "households") == {"hh-t"}
    later = store.add_team(DONG_THAP, MY_THO, "ấp tân long")
    assert [h.id for h in later.hamlets] == [new_hamlet]
    assert pulled(store, device_of(store, later.id), "households") == {"hh-t"}
    # A second commune team of the commune, made later, reads it too.
    again = store.add_team(DONG_THAP, MY_THO)
    assert {h.id for h in again.hamlets} == {H_MY_HUNG, H_KHOM_3, new_hamlet}
    other = device_of(store, store.add_team(DONG_THAP, DAO_THANH).id)
    assert statuses(store.push(other, [make_record(
        "households", "hh-z", code="Z-1", hamlet_id=new_hamlet)])) == [
            ("households", "rejected", "out_of_scope")]


def test_a_household_moving_hamlets_takes_its_rows_along(store, teams, make_record):
    """The commune team moves a household from Ấp Mỹ Hưng to Khóm 3: the team of Khóm 3
    pulls it with its person, visit, item and answer (new seq values, past its cursor); the
    team of Ấp Mỹ Hưng no longer reads or writes it. A hamlet team cannot move one out."""
    _, a, a_reader = teams["my_hung"]
    _, b, b_reader = teams["khom_3"]
    _, c, _ = teams["commune"]
    store.push(c, family(make_record, H_MY_HUNG, "m"))
    cursor = store.high_water()
    moved_out = make_record("households", "hh-m", code="C-m", head_name="Nguyễn Văn An",
                            hamlet_id=H_KHOM_3, ms=3)
    assert statuses(store.push(a, [moved_out])) == [("households", "rejected",
                                                     "out_of_scope")]
    assert statuses(store.push(c, [moved_out])) == [("households", "applied", None)]
    for table, tag in (("households", "hh"), ("people", "p"), ("visits", "v"),
                       ("visit_items", "vi"), ("indicator_answers", "a")):
        after = {r["id"] for r in store.pull(b_reader, table, after=cursor).records}
        assert after == {f"{tag}-m"}, table
        assert pulled(store, a_reader, table) == set(), table
    edit = make_record("people", "p-m", household_id="hh-m", full_name="Trần Thị Lan",
                       notes="đã chuyển", clocks={"notes": 7})
    assert statuses(store.push(a, [edit])) == [("people", "rejected", "out_of_scope")]
    assert statuses(store.push(b, [edit])) == [("people", "applied", None)]


def test_digests_and_fetches_see_what_a_pull_sees(store, teams, make_record):
    _, _a, a_reader = teams["my_hung"]
    _, c, c_reader = teams["commune"]
    store.push(c, family(make_record, H_MY_HUNG, "1") + family(make_record, H_KHOM_3, "2"))
    for table in HOUSEHOLD_BOUND:
        hashed = {row_id for row_id, _hash in digest.scope_hashes(store, a_reader, table)}
        assert hashed == pulled(store, a_reader, table), table
        assert {row_id for row_id, _h in digest.scope_hashes(store, c_reader, table)} == (
            pulled(store, c_reader, table)), table
    assert digest.table_digest(store, a_reader, "households").count == 1
    fetched = digest.fetch(store, a_reader, "people", ["p-1", "p-2"])
    assert [r["id"] for r in fetched] == ["p-1"]
    assert [r["id"] for r in digest.fetch(store, c_reader, "people", ["p-1", "p-2"])] == [
        "p-1", "p-2"]


def test_a_commune_teams_pull_pages_through_its_hamlets_in_seq_order(store, teams,
                                                                     make_record):
    """Rows of several hamlets interleave on the index; the pages still come in seq order,
    each at most `limit`, and the pusher's own rows (not sent back) still move it on."""
    _, _a, _ = teams["my_hung"]
    _, c, c_reader = teams["commune"]
    homes = [make_record("households", f"hh-{n}", code=f"C-{n}",
                         hamlet_id=(H_MY_HUNG, H_KHOM_3)[n % 2]) for n in range(7)]
    store.push(c, homes)
    got, after, pages = [], 0, 0
    while True:
        page = store.pull(c_reader, "households", after=after, limit=2)
        assert len(page.records) <= 2 and page.next >= after
        got += [r["id"] for r in page.records]
        pages += 1
        if not page.more:
            break
        after = page.next
    assert got == [f"hh-{n}" for n in range(7)] and pages == 4
    own, after, asked = [], 0, 0
    while True:  # the pusher: nothing comes back, but every page moves on
        page = store.pull(c, "households", after=after, limit=2)
        own += page.records
        asked += 1
        if not page.more:
            break
        assert page.next > after
        after = page.next
    assert own == [] and asked == 4
