"""The sync engine against an in-memory hub behind httpx.MockTransport: outbox draining,
batching, quarantine, cursors, conflicts, revocation and the token's privacy."""

from __future__ import annotations

import base64
import gzip
import json
import os
import stat
import sys
import types
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from dxkit.core.errors import Cancelled
from dxkit.core.merge import merge_event, merge_mutable
from dxkit.core.progress import Progress
from dxkit.core.synced import record_of
from dxkit.households.visits import VisitItem
from dxkit.sync import engine
from dxkit.sync.client import DeviceRevoked, HubFailed
from dxkit.sync.credentials import TOKEN_FILENAME, TokenStore
from dxkit.sync.teamkey import team_key
from dxkit.workspace import Workspace

URL = "http://hub.test"


class FakeHub:
    """Just enough of the protocol, with the shared merge rules, to drive the engine."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], tuple[dict[str, Any], int]] = {}
        self.seq = 0
        self.reject: dict[str, str] = {}
        self.pushes: list[tuple[int, int]] = []  # (records, gzip bytes) per push
        self.paths: list[str] = []
        self.revoked = False
        self.enrolled = 0
        self.on_push: Callable[[], None] | None = None
        self.tamper_results: Callable[[list[dict]], list[dict]] | None = None
        self.bundle_key = base64.urlsafe_b64encode(bytes(range(32))).decode()
        self.sends_bundle_key_at_enrollment = True  # False: as hubs did before bundle keys
        self.transport = httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        if request.url.path == "/v1/enroll":
            self.enrolled += 1
            answer = {
                "device_id": f"device-{self.enrolled}", "token": f"tok-{self.enrolled}-secret",
                "team": {"id": "team-1", "province_code": 87, "commune_code": 30001,
                         "hamlet": "Ấp Mỹ Hưng"}}
            if self.sends_bundle_key_at_enrollment:
                answer["bundle_key"] = self.bundle_key
            return httpx.Response(200, json=answer)
        if self.revoked:
            return httpx.Response(401, json={"error": "device_revoked", "message": "revoked"})
        if request.url.path == "/v1/team-key":
            return httpx.Response(200, json={"team_id": "team-1", "bundle_key": self.bundle_key})
        if request.url.path == "/v1/certificate-key":  # as hubs before certificates answer
            return httpx.Response(404, json={"error": "not_found", "message": "no such path"})
        if request.url.path == "/v1/push":
            assert request.headers["content-encoding"] == "gzip"
            records = json.loads(gzip.decompress(request.content))["records"]
            self.pushes.append((len(records), len(request.content)))
            if self.on_push:
                self.on_push()
            results = [self.apply(record) for record in records]
            if self.tamper_results:
                results = self.tamper_results(results)
            return httpx.Response(200, json={"results": results, "cursor": self.seq})
        params = request.url.params
        table, after = params["table"], int(params["after"])
        upto = min(int(params.get("upto", self.seq)), self.seq)
        limit = int(params["limit"])
        found = sorted((seq, record) for (name, _id), (record, seq) in self.rows.items()
                       if name == table and after < seq <= upto)
        page = found[:limit]
        return httpx.Response(200, json={
            "records": [record for _seq, record in page],
            "next": page[-1][0] if page else after, "more": len(found) > limit,
            "high_water": upto})

    def apply(self, record: dict[str, Any]) -> dict[str, Any]:
        key = (record["table"], record["id"])
        result = {"table": key[0], "id": key[1]}
        if key[1] in self.reject:
            return {**result, "status": "rejected", "reason": self.reject[key[1]]}
        stored = self.rows.get(key)
        if record["kind"] == "event":
            outcome = merge_event(stored[0]["fields"] if stored else None, record["fields"])
            if outcome == "applied":
                self.store(record)
            return {**result, "status": outcome}
        if stored is None:
            self.store(record)
            return {**result, "status": "applied"}
        merged = merge_mutable(stored[0]["fields"], stored[0]["clocks"], record["fields"],
                               record["clocks"])
        if not merged.changed:
            return {**result, "status": "duplicate"}
        self.store({**record, "fields": merged.fields, "clocks": merged.clocks})
        return {**result, "status": "applied"}

    def store(self, record: dict[str, Any]) -> None:
        self.seq += 1
        self.rows[(record["table"], record["id"])] = (record, self.seq)


@pytest.fixture(autouse=True)
def file_tokens(monkeypatch):
    monkeypatch.setenv("DXKIT_TOKEN_STORE", "file")


@pytest.fixture
def hub() -> FakeHub:
    return FakeHub()


@pytest.fixture
def laptop(tmp_path, hub):
    """Open and enroll workspaces; each gets a client on the fake hub."""
    opened: list[Workspace] = []

    def make(name: str) -> Workspace:
        ws = Workspace.open(tmp_path / name)
        engine.enroll(ws, URL, "ABCD-EFGH-JK", device_name=name, transport=hub.transport)
        opened.append(ws)
        return ws

    yield make
    for ws in opened:
        ws.close()


def sync(ws: Workspace, hub: FakeHub, progress: Progress | None = None) -> engine.SyncReport:
    with engine.client_for(ws, transport=hub.transport) as client:
        return engine.sync(ws, client, progress)


def fill(ws: Workspace, households: int = 3) -> list[str]:
    ws.catalog.add_hamlet("Ấp Mỹ Hưng")
    return [ws.households.add(code=f"MH-{n:04d}", head_name=f"Nguyễn Văn An {n}",
                              hamlet="Ấp Mỹ Hưng", address=f"Số {n}, đường Lê Lợi").value.id
            for n in range(households)]


def quarantine(ws: Workspace) -> list[dict[str, Any]]:
    return [dict(row) for row in ws.conn.execute(
        "SELECT table_name, row_id, direction, reason, record FROM sync_quarantine ORDER BY id")]


def test_enrollment_keeps_facts_in_meta_and_the_token_private(laptop, hub):
    ws = laptop("a")
    meta = ws.meta()
    assert meta["sync_server"] == URL and meta["sync_device_id"] == "device-1"
    assert (meta["sync_team_id"], meta["sync_hamlet"]) == ("team-1", "Ấp Mỹ Hưng")
    token_file = ws.path / TOKEN_FILENAME
    assert token_file.read_text() == "tok-1-secret"
    if sys.platform != "win32":
        assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    ws.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for path in ws.path.glob("dxkit.sqlite*"):
        assert b"tok-1-secret" not in path.read_bytes()
    assert "tok-1-secret" not in json.dumps(engine.status(ws))


def test_an_old_token_file_is_made_private_again(tmp_path):
    store = TokenStore(tmp_path, "abc")
    store.file_path.write_text("old")
    os.chmod(store.file_path, 0o644)
    assert store.save("new-token") == "file"
    assert store.load() == "new-token"
    if sys.platform != "win32":
        assert stat.S_IMODE(os.stat(store.file_path).st_mode) == 0o600


def test_sync_needs_an_enrollment(tmp_path, hub):
    with Workspace.open(tmp_path / "x") as ws, pytest.raises(engine.NotEnrolled):
        engine.sync(ws)


def test_push_drains_the_outbox_in_small_batches_parents_first(laptop, hub):
    ws = laptop("a")
    ids = fill(ws, households=700)
    waiting = ws.pending_changes()
    report = sync(ws, hub)
    assert ws.pending_changes() == 0
    assert report.pushed == waiting == len(hub.rows)
    assert len(hub.pushes) >= 2
    assert all(count <= 500 and size <= 64 * 1024 for count, size in hub.pushes)
    hamlet_seq = next(seq for (table, _id), (_r, seq) in hub.rows.items() if table == "hamlets")
    assert all(hamlet_seq < hub.rows[("households", i)][1] for i in ids)
    for (table, row_id), (record, _seq) in hub.rows.items():
        assert record == record_of(ws.conn, table, row_id)


def test_a_refused_record_is_quarantined_and_never_blocks_the_queue(laptop, hub):
    ws = laptop("a")
    ids = fill(ws, households=3)
    hub.reject[ids[1]] = "out_of_scope"
    report = sync(ws, hub)
    assert ws.pending_changes() == 0
    assert report.quarantined == 1
    [held] = quarantine(ws)
    assert (held["table_name"], held["row_id"], held["direction"], held["reason"]) == (
        "households", ids[1], "push", "out_of_scope")
    assert json.loads(held["record"])["fields"]["code"] == "MH-0001"
    assert ("households", ids[2]) in hub.rows
    assert engine.status(ws)["quarantined"] == 1


def test_an_edit_made_while_sending_stays_queued(laptop, hub):
    ws = laptop("a")
    [household] = fill(ws, households=1)
    hub.on_push = lambda: ws.households.update(household, phone="0912345678")
    sync(ws, hub)
    hub.on_push = None
    assert ws.pending_changes() == 1
    report = sync(ws, hub)
    assert report.pushed == 1 and ws.pending_changes() == 0
    assert hub.rows[("households", household)][0]["fields"]["phone"] == "0912345678"


def test_a_push_answer_that_does_not_match_keeps_the_queue(laptop, hub):
    ws = laptop("a")
    fill(ws, households=2)
    waiting = ws.pending_changes()
    hub.tamper_results = lambda results: [{**r, "id": "someone-else"} for r in results]
    with pytest.raises(HubFailed):
        sync(ws, hub)
    assert ws.pending_changes() == waiting


def test_pull_applies_good_records_quarantines_a_bad_one_and_saves_the_cursor(laptop, hub):
    a, b = laptop("a"), laptop("b")
    ids = fill(a, households=3)
    sync(a, hub)
    broken = dict(hub.rows[("households", ids[1])][0])
    broken["fields"] = {"code": "X"}
    hub.store(broken)
    last_household = hub.seq
    report = sync(b, hub)
    assert {h.id for h in b.households.list()} == {ids[0], ids[2]}
    [held] = quarantine(b)
    assert (held["row_id"], held["direction"]) == (ids[1], "pull")
    assert held["reason"] == "wrong_fields"
    assert report.quarantined == 1
    assert int(b.meta()["sync_cursor:households"]) == last_household
    assert b.households.search("nguyen van an 2")[0].id == ids[2]


def edit_on_both(laptop, hub, on_a: dict[str, str], on_b: dict[str, str]):
    """One household known to both laptops, edited offline on each, then A, B, A sync."""
    a, b = laptop("a"), laptop("b")
    [household] = fill(a, households=1)
    for ws in (a, b, a):
        sync(ws, hub)
    a.households.update(household, **on_a)
    b.households.update(household, **on_b)
    reports = [sync(ws, hub) for ws in (a, b, a)]
    return a, b, household, reports


def conflict_rows(ws: Workspace) -> list[tuple]:
    return [tuple(row) for row in ws.conn.execute(
        "SELECT field, local_value, remote_value, winner FROM sync_conflicts ORDER BY id")]


def test_same_field_edits_keep_the_newer_and_list_the_pair(laptop, hub):
    a, b, household, reports = edit_on_both(laptop, hub, {"phone": "0987654321"},
                                             {"phone": "0911111111"})
    assert ("phone", '"0911111111"', '"0987654321"', "local") in conflict_rows(b)
    assert reports[1].conflicts >= 1 and engine.status(b)["open_conflicts"] >= 1
    for ws in (a, b):
        assert ws.households.get(household).phone == "0911111111"


def test_edits_to_different_fields_both_survive(laptop, hub):
    a, b, household, _reports = edit_on_both(
        laptop, hub, {"phone": "0987654321", "notes": "ghi chú A"},
        {"address": "Số 7, Ấp Mỹ Hưng"})
    for ws in (a, b):
        merged = ws.households.get(household)
        assert (merged.phone, merged.notes, merged.address) == (
            "0987654321", "ghi chú A", "Số 7, Ấp Mỹ Hưng")


def test_edits_to_different_fields_are_not_listed_as_conflicts(laptop, hub):
    a, b, _household, _reports = edit_on_both(laptop, hub, {"phone": "0987654321"},
                                              {"address": "Số 7, Ấp Mỹ Hưng"})
    assert conflict_rows(a) == conflict_rows(b) == []


def test_a_sync_with_nothing_new_is_one_request(laptop, hub):
    ws = laptop("a")
    fill(ws)
    sync(ws, hub)
    sync(ws, hub)  # receives its own records back once
    report = sync(ws, hub)
    assert (report.requests, report.pushed, report.pulled, report.received) == (1, 0, 0, 0)
    assert report.bytes_sent == 0 and 0 < report.bytes_received < 1024


def test_an_event_with_other_content_on_the_hub_is_held_back_not_overwritten(laptop, hub):
    ws = laptop("a")
    [household] = fill(ws, households=1)
    member = ws.catalog.add_member("Lê Thị Hoa").value
    visit = ws.visits.add(household, [VisitItem("online_safety", "done")],
                          member_ids=[member.id], notes="thật").value
    forged = record_of(ws.conn, "visits", visit.id)
    hub.store({**forged, "fields": {**forged["fields"], "notes": "giả"}})
    sync(ws, hub)
    assert ws.visits.get(visit.id).notes == "thật"
    held = quarantine(ws)
    assert {(h["row_id"], h["reason"]) for h in held} == {(visit.id, "conflict")}
    assert ws.pending_changes() == 0


def test_a_revoked_device_stops_with_a_sentence_and_keeps_everything(laptop, hub):
    ws = laptop("a")
    fill(ws, households=2)
    waiting = ws.pending_changes()
    hub.revoked = True
    with pytest.raises(DeviceRevoked) as caught:
        sync(ws, hub)
    assert "thu hồi" in caught.value.message  # Vietnamese by default
    assert ws.pending_changes() == waiting and ws.households.count() == 2
    state = engine.status(ws)
    assert state["revoked"] and state["enrolled"] and state["last_sync_at"] is None


def test_cancelling_between_batches_keeps_what_was_applied(laptop, hub):
    ws = laptop("a")
    fill(ws, households=3)
    progress = Progress()
    hub.on_push = progress.cancel
    with pytest.raises(Cancelled):
        sync(ws, hub, progress)
    assert ws.pending_changes() == 0  # the batch the hub answered was settled
    assert "last_sync_at" not in ws.meta()


def test_status_before_and_after(laptop, hub, tmp_path):
    with Workspace.open(tmp_path / "lonely") as lonely:
        assert engine.status(lonely)["enrolled"] is False
    ws = laptop("a")
    fill(ws)
    sync(ws, hub)
    state = engine.status(ws)
    assert state["enrolled"] and state["server"] == URL and state["pending"] == 0
    assert state["team"]["hamlet"] == "Ấp Mỹ Hưng" and state["last_sync_at"]


def test_the_keyring_is_preferred_when_it_has_a_working_backend(tmp_path, monkeypatch):
    saved: dict[tuple[str, str], str] = {}
    fake = types.ModuleType("keyring")
    fake.get_keyring = lambda: types.SimpleNamespace(priority=5)
    fake.set_password = lambda service, account, token: saved.__setitem__(
        (service, account), token)
    fake.get_password = lambda service, account: saved.get((service, account))
    monkeypatch.setitem(sys.modules, "keyring", fake)
    monkeypatch.delenv("DXKIT_TOKEN_STORE")
    store = TokenStore(tmp_path, "device-a")
    assert store.save("secret") == "keyring"
    assert store.load() == "secret" and not store.file_path.exists()
    fake.get_keyring = lambda: types.SimpleNamespace(priority=0)  # the "fail" backend
    assert store.save("other") == "file" and store.file_path.exists()


def test_enrollment_keeps_the_team_bundle_key_in_the_keyring(laptop, hub, memory_keyring):
    ws = laptop("a")
    assert team_key("team-1") == bytes(range(32))
    assert ("dxkit-team-key", "team-1") in memory_keyring.secrets
    assert hub.bundle_key.encode() not in ws.db_path.read_bytes()  # not in the database


def test_a_device_enrolled_before_bundle_keys_gets_its_team_key_at_the_next_sync(laptop, hub,
                                                                                 memory_keyring):
    hub.sends_bundle_key_at_enrollment = False
    ws = laptop("a")
    assert team_key("team-1") is None
    sync(ws, hub)
    assert team_key("team-1") == bytes(range(32))
    asked = hub.paths.count("/v1/team-key")
    sync(ws, hub)
    assert hub.paths.count("/v1/team-key") == asked == 1  # asked once, kept
