"""Hub migration 0007 (teams of a hamlet or a commune, records kept per hamlet) on a hub built
with the migrations before it and the data those wrote, on SQLite and PostgreSQL: existing
teams become hamlet teams of a registered hamlet, household-bound records move to the shared
scope with their hamlet resolved, and no device loses a row it could read before."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from dxkit.core.places import hamlet_id
from dxkit.core.synced import REGISTRY
from dxkit.sync.hub import digest
from dxkit.sync.hub.areas import PUBLISHED, SHARED
from dxkit.sync.hub.database import open_database
from dxkit.sync.hub.store import MIGRATIONS, HubStore, sha256

HUB_BACKENDS = ("sqlite", "postgresql")
NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
DONG_THAP, MY_THO = 82, 28261
BEFORE = [m for m in MIGRATIONS if m.name < "0007"]
# hamlets rows as laptops pushed them before hamlets had their official population
OLD_HAMLET_FIELDS = ("name", "name_key", "sort_order", "deleted")


def old_record(make_record, table: str, row_id: str, **values) -> dict:
    record = make_record(table, row_id, **values)
    if table == "hamlets":
        record["fields"] = {k: record["fields"][k] for k in OLD_HAMLET_FIELDS}
        record["clocks"] = {k: record["clocks"][k] for k in OLD_HAMLET_FIELDS}
    return record


class OldHub:
    """A hub database at migration 0006, written as that hub wrote it."""

    def __init__(self, db: str):
        self.database = open_database(db)
        self.database.migrate(BEFORE)
        self.seq = 0

    def team(self, team_id: str, hamlet: str, commune: int = MY_THO) -> None:
        with self.database.write() as conn:
            conn.execute("INSERT INTO teams (id, province_code, commune_code, hamlet, "
                         "created_at, trace_key, bundle_key) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (team_id, DONG_THAP, commune, hamlet, "2026-01-01T00:00:00+00:00",
                          f"K{team_id[:7]}", "key"))
            conn.execute("INSERT INTO devices (id, team_id, name, token_hash, created_at, "
                         "expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                         (f"dev-{team_id}", team_id, "Laptop", sha256(f"token-{team_id}"),
                          "2026-01-01T00:00:00+00:00", "2027-12-01T00:00:00+00:00"))

    def store(self, team: str, *records: dict) -> None:
        with self.database.write() as conn:
            for record in records:
                self.seq += 1
                conn.execute(
                    "INSERT INTO records (table_name, row_id, team_id, kind, fields, clocks, "
                    "created_at, device_id, pushed_by, pushed_exact, seq) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
                    (record["table"], record["id"], team, record["kind"],
                     json.dumps(record["fields"], sort_keys=True, ensure_ascii=False),
                     json.dumps(record["clocks"], sort_keys=True) if "clocks" in record
                     else None, record.get("created_at"), record["device_id"],
                     "a-laptop-since-gone" if team != PUBLISHED else "hub", self.seq))
            conn.execute("UPDATE counters SET value = ? WHERE name = 'seq'", (self.seq,))

    def close(self) -> None:
        self.database.close()


def family(make_record, hamlet: str, tag: str) -> list[dict]:
    return [
        old_record(make_record, "households", f"hh-{tag}", code=f"C-{tag}",
                   head_name="Nguyễn Văn An", hamlet_id=hamlet),
        old_record(make_record, "people", f"p-{tag}", household_id=f"hh-{tag}",
                   full_name="Trần Thị Lan"),
        old_record(make_record, "visits", f"v-{tag}", household_id=f"hh-{tag}", kind="visit"),
        old_record(make_record, "visit_items", f"vi-{tag}", visit_id=f"v-{tag}",
                   person_id=f"p-{tag}", support_item_code="vneid_level2", outcome="done"),
        old_record(make_record, "indicator_answers", f"a-{tag}", person_id=f"p-{tag}",
                   indicator_code="smartphone", value=1),
    ]


@pytest.fixture
def old_hub(hub_db, make_record):
    """Three teams of Phường Mỹ Tho as the hub before 0007 kept them:

    - the team of Ấp Mỹ Hưng, whose laptops pushed their hamlet (a random id, typed before
      ids were shared), a second hamlet, Ấp Mỹ Đông, and households of both; a member;
    - the team of Khóm 3, whose laptops never pushed a hamlet; a visit whose household the
      hub never received;
    - the team of Ấp Mỹ Lợi, given a hamlet list by `hub publish --team` with the same ids
      as the first team's (so the two teams hold one id each);
    and the published indicators."""
    hub = OldHub(hub_db)
    hub.team("t-hung", "Ấp Mỹ Hưng")
    hub.team("t-khom", "Khóm 3")
    hub.team("t-loi", "Ấp Mỹ Lợi")
    hung = old_record(make_record, "hamlets", "h-random-hung", name="Ấp Mỹ Hưng",
                      name_key="ap my hung", ms=1)
    dong = old_record(make_record, "hamlets", "h-random-dong", name="Ấp Mỹ Đông",
                      name_key="ap my dong", ms=1)
    hub.store("t-hung", hung, dong, *family(make_record, "h-random-hung", "1"),
              *family(make_record, "h-random-dong", "2"),
              make_record("team_members", "m-1", name="Lê Thị Hoa"))
    hub.store("t-khom", make_record("visits", "v-orphan", household_id="hh-never",
                                    kind="visit"))
    hub.store("t-loi", old_record(make_record, "hamlets", "h-random-dong", name="Ấp Mỹ Đông",
                                  name_key="ap my dong", ms=5,
                                  clocks={"sort_order": 7}, sort_order=3))
    hub.store(PUBLISHED, make_record("indicators", "i-1", code="smartphone", target=0.8))
    hub.close()
    return hub_db


def readable(store: HubStore, team: str) -> dict[str, set[str]]:
    device = store.authenticate(f"token-{team}")
    return {table: {r["id"] for r in store.pull(device, table, limit=1000).records}
            for table in REGISTRY}


def test_existing_teams_become_hamlet_teams_and_keep_every_row(old_hub, make_record):
    store = HubStore(old_hub, now=lambda: NOW)
    try:
        hung, khom, loi = (store.team(t) for t in ("t-hung", "t-khom", "t-loi"))
        assert {hung.kind, khom.kind, loi.kind} == {"hamlet"}
        # The hamlet row the team's laptops pushed under the team's name is its hamlet; the
        # other hamlet its laptops wrote households of stays in its scope.
        assert {h.id for h in hung.hamlets} == {"h-random-hung", "h-random-dong"}
        # A team whose laptops never pushed one: the hamlet every laptop gives that name,
        # with a row of the hub's that its laptops receive.
        k3 = hamlet_id(MY_THO, "Khóm 3")
        assert [h.id for h in khom.hamlets] == [k3]
        assert {h.id for h in loi.hamlets} == {hamlet_id(MY_THO, "Ấp Mỹ Lợi"),
                                               "h-random-dong"}
        mine = readable(store, "t-hung")
        assert mine["households"] == {"hh-1", "hh-2"} and mine["visit_items"] == {"vi-1",
                                                                                 "vi-2"}
        assert mine["indicator_answers"] == {"a-1", "a-2"}
        assert mine["team_members"] == {"m-1"} and mine["indicators"] == {"i-1"}
        assert mine["hamlets"] == {"h-random-hung", "h-random-dong"}
        theirs = readable(store, "t-khom")
        assert theirs["visits"] == {"v-orphan"}  # its household never came: kept with it
        assert theirs["hamlets"] == {k3} and theirs["households"] == set()
        assert readable(store, "t-loi")["hamlets"] >= {"h-random-dong"}
        # Rows are kept once, in the shared scope, with their hamlet.
        rows = {(r["table_name"], r["row_id"]): (r["team_id"], r["area"])
                for r in store.conn.execute("SELECT * FROM records")}
        assert rows[("households", "hh-2")] == (SHARED, "h-random-dong")
        assert rows[("visit_items", "vi-2")] == (SHARED, "h-random-dong")
        assert rows[("indicator_answers", "a-1")] == (SHARED, "h-random-hung")
        assert rows[("team_members", "m-1")] == ("t-hung", "t-hung")
        assert rows[("indicators", "i-1")] == (PUBLISHED, PUBLISHED)
        assert rows[("visits", "v-orphan")] == (SHARED, k3)
        # The hamlet two teams held is one row, merged per field (t-loi's newer sort order).
        [dong] = [r for r in store.conn.execute(
            "SELECT * FROM records WHERE row_id = 'h-random-dong'")]
        fields = json.loads(dong["fields"])
        assert fields["sort_order"] == 3 and fields["population_15"] is None
        assert set(json.loads(dong["clocks"])) == set(REGISTRY["hamlets"].wire_types)
        # Digests cover exactly what a pull does, and pushes place rows in the new way.
        device = store.authenticate("token-t-hung")
        assert {row_id for row_id, _h in digest.scope_hashes(store, device, "people")} == {
            "p-1", "p-2"}
        answer = store.push(device, [make_record("people", "p-3", household_id="hh-2")])
        assert answer.results[0]["status"] == "applied"
        other = store.authenticate("token-t-khom")
        refused = store.push(other, [make_record("people", "p-4", household_id="hh-1")])
        assert refused.results[0]["reason"] == "out_of_scope"
    finally:
        store.close()


def test_the_migrated_hub_opens_again_unchanged(old_hub):
    first = HubStore(old_hub, now=lambda: NOW)
    before = sorted(tuple(r) for r in first.conn.execute(
        "SELECT table_name, row_id, team_id, area, seq FROM records"))
    first.close()
    again = HubStore(old_hub, now=lambda: NOW)
    try:
        assert sorted(tuple(r) for r in again.conn.execute(
            "SELECT table_name, row_id, team_id, area, seq FROM records")) == before
    finally:
        again.close()
