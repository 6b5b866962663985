"""Sync through a fault-injecting proxy (tests/sync/faultproxy.py) in front of the REAL hub:
whatever breaks on the way, a later clean sync ends with every row once on every side.

The laptops are a commune team's (issue 10: every hamlet of Phường Mỹ Tho), beside the
team of one of its hamlets; the last tests break the syncs of both and check each ends with
exactly its own scope."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from dxkit.core import store
from dxkit.core.encryption import WorkspaceKeys
from dxkit.core.synced import dependency_order, record_of
from dxkit.households.visits import VisitItem
from dxkit.sync import engine
from dxkit.sync.client import HubClient, HubFailed, HubUnreachable
from dxkit.sync.credentials import TokenStore
from dxkit.workspace import Workspace
from tests.support.hub_process import dxkit_command, start_hub
from tests.support.places import ensure_hamlet
from tests.sync import faultproxy

DONG_THAP, MY_THO = "82", "28261"
PUSH, PULL = ("POST", "/v1/push"), ("GET", "/v1/pull")




@pytest.fixture(autouse=True)
def file_tokens(monkeypatch):
    monkeypatch.setenv("DXKIT_TOKEN_STORE", "file")


@pytest.fixture(autouse=True)
def small_batches(monkeypatch):
    """Several push and pull batches out of a few dozen rows."""
    monkeypatch.setattr(engine, "PUSH_MAX_RECORDS", 4)
    monkeypatch.setattr(engine, "PULL_LIMIT", 3)


@pytest.fixture
def proxy(hub_server):
    with faultproxy.FaultProxy(hub_server.url) as running:
        yield running


@pytest.fixture
def hamlet_team(hub_server):
    """The team of Ấp Mỹ Hưng (made first: the hub registers the hamlet)."""
    return hub_server.admin("team", "add", "--province", DONG_THAP, "--commune", MY_THO,
                            "--hamlet", "Ấp Mỹ Hưng")["team_id"]


@pytest.fixture
def team(hub_server, hamlet_team):
    """The commune team of Phường Mỹ Tho: every hamlet of the commune."""
    return hub_server.admin("team", "add", "--province", DONG_THAP, "--commune", MY_THO
                            )["team_id"]


@pytest.fixture
def laptops(tmp_path, hub_server, team):
    opened: list[Workspace] = []

    def make(name: str, team_id: str = team) -> Workspace:
        code = hub_server.admin("enroll-code", "--team", team_id)["code"]
        ws = Workspace.open(tmp_path / name)
        engine.enroll(ws, hub_server.url, code, device_name=name)  # directly, not via the proxy
        opened.append(ws)
        return ws

    yield make
    for ws in opened:
        ws.close()


def via(proxy, ws: Workspace, timeout: float = 20.0) -> HubClient:
    return HubClient(proxy.url, TokenStore(ws.path, ws.device_id).load(), timeout=timeout)


def sync_via(proxy, ws: Workspace, timeout: float = 20.0) -> engine.SyncReport:
    with via(proxy, ws, timeout) as client:
        return engine.sync(ws, client=client)


def rows(ws: Workspace) -> dict[tuple[str, str], dict]:
    return {(table, row_id): record_of(ws.conn, table, row_id)
            for table in dependency_order()
            for (row_id,) in ws.conn.execute(f"SELECT id FROM {table}")}


def fill(ws: Workspace, households: int = 8, hamlets: tuple[str, ...] = ("Ấp Mỹ Hưng",)
         ) -> None:
    """Households (each third with a visit), taking the hamlets in turn; the commune
    team's laptop adds a hamlet the hub does not know yet."""
    for hamlet in hamlets:
        ensure_hamlet(ws, hamlet)
    hoa = ws.catalog.add_member("Lê Thị Hoa").value
    for number in range(1, households + 1):
        hamlet = hamlets[number % len(hamlets)]
        home = ws.households.add(code=f"MH-{number:03}", head_name=f"Nguyễn Văn Số {number}",
                                 hamlet=hamlet, address=f"{number} Đường Lê Lợi",
                                 phone="0912345678").value
        person = ws.people.add(home.id, full_name=f"Trần Thị Hương {number}", sex="Nữ",
                               birth_year=1960 + number, relationship="Vợ", consent=True).value
        if number % 3 == 0:
            ws.visits.add(home.id, [VisitItem("vneid_level2", "done", person.id)],
                          member_ids=[hoa.id], notes="Hẹn quay lại")


def quarantined(ws: Workspace) -> int:
    return ws.conn.execute("SELECT count(*) FROM sync_quarantine").fetchone()[0]


def cursor(ws: Workspace, table: str) -> int:
    return int(ws.meta().get(engine.CURSOR_PREFIX + table, 0))


def committed_cursor(folder: Path, table: str) -> int:
    """A table's pull cursor as another process committed it (read-only, while it runs)."""
    try:
        conn = store.connect(folder / "dxkit.sqlite", WorkspaceKeys(folder).key(),
                             read_only=True)
    except store.DatabaseError:  # busy or not made yet
        return 0
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = ?",
                           (engine.CURSOR_PREFIX + table,)).fetchone()
    except store.OperationalError:  # busy or not made yet
        return 0
    finally:
        conn.close()
    return int(row[0]) if row else 0


def assert_converged(proxy, a: Workspace, b: Workspace) -> None:
    """A clean sync of both: the same rows, nothing queued, nothing quarantined."""
    proxy.clear()
    sync_via(proxy, a)
    sync_via(proxy, b)
    sync_via(proxy, a)  # b's copy of the seeded catalogue
    assert rows(b) == rows(a)
    assert a.pending_changes() == 0 and b.pending_changes() == 0
    assert quarantined(a) == 0 and quarantined(b) == 0


def hub_reader(hub_server, team: str) -> HubClient:
    """A client with a token of its own that never pushes: the hub sends it every row of the
    team (a device is not sent back the rows exactly as it pushed them)."""
    code = hub_server.admin("enroll-code", "--team", team)["code"]
    with HubClient(hub_server.url) as enrolling:
        token = enrolling.enroll(code, "reader")["token"]
    return HubClient(hub_server.url, token)


def hub_records(client: HubClient, table: str, upto: int | None = None) -> list[dict]:
    """Every record of the table the hub holds for the reader's team (up to seq `upto`)."""
    found, after = [], 0
    while True:
        answer = client.pull(table, after=after, upto=upto, limit=1000)
        found += answer["records"]
        if not answer["more"]:
            return found
        after = answer["next"]


def pushed_ids(exchanges) -> list[tuple[str, str]]:
    return [(r["table"], r["id"]) for e in exchanges if e.answer for r in e.answer["results"]]


# -- pushes --------------------------------------------------------------------------------------
@pytest.mark.parametrize("action", ["drop_request", "answer_503", "cut_response"])
def test_a_push_that_fails_before_or_during_the_answer_loses_nothing(proxy, laptops, action):
    a, b = laptops("a"), laptops("b")
    fill(a)
    waiting = a.pending_changes()
    proxy.plan(action, *PUSH, nth=2)
    with pytest.raises((HubUnreachable, HubFailed)) as caught:
        sync_via(proxy, a)
    assert caught.value.message and "Traceback" not in caught.value.message
    assert [e.action for e in proxy.faulted()] == [action]
    assert a.pending_changes() == waiting - 4  # only the first batch left the queue
    assert_converged(proxy, a, b)


def test_a_push_answer_lost_after_the_hub_committed_is_resent_once_as_duplicates(proxy,
                                                                                 laptops):
    a, b = laptops("a"), laptops("b")
    fill(a)
    waiting = a.pending_changes()
    proxy.plan("drop_response", *PUSH, nth=2)
    with pytest.raises(HubUnreachable):
        sync_via(proxy, a)
    [lost] = proxy.faulted()
    assert lost.status == 200  # the hub did commit it
    committed = pushed_ids([lost])
    before = len(proxy.seen(*PUSH))
    sync_via(proxy, a)
    resent = proxy.seen(*PUSH)[before:]
    statuses = [r["status"] for e in resent for r in e.answer["results"]]
    assert len(statuses) == waiting - 4  # everything after the first batch, nothing more
    assert statuses.count("duplicate") == len(committed) == 4  # at most one batch again
    assert set(committed) <= set(pushed_ids(resent))
    assert_converged(proxy, a, b)


def test_a_push_delivered_twice_is_applied_once(proxy, laptops):
    a, b = laptops("a"), laptops("b")
    fill(a)
    proxy.plan("duplicate", *PUSH, nth=1)
    report = sync_via(proxy, a)
    assert [e.status for e in proxy.faulted()] == [200]
    assert report.quarantined == 0 and a.pending_changes() == 0
    assert_converged(proxy, a, b)


def test_a_push_slower_than_the_client_timeout_is_offline_then_recovers(proxy, laptops):
    a, b = laptops("a"), laptops("b")
    fill(a)
    proxy.plan("delay", *PUSH, nth=2, seconds=2.0)  # then forwarded: the hub commits late
    with pytest.raises(HubUnreachable):
        sync_via(proxy, a, timeout=0.5)
    proxy.wait_idle()  # the late delivery has reached the hub
    assert_converged(proxy, a, b)


# -- pulls ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("action", ["drop_request", "drop_response", "cut_response",
                                    "answer_503", "truncate_gzip", "corrupt_gzip"])
def test_a_broken_pull_keeps_the_cursor_at_what_was_applied(proxy, laptops, action):
    a, b = laptops("a"), laptops("b")
    fill(a, households=10)
    sync_via(proxy, a)
    # The 2nd households batch: 3 rows of ~150 bytes, gzipped by the hub.
    proxy.plan(action, *PULL, nth=2, query="table=households")
    with pytest.raises((HubUnreachable, HubFailed)) as caught:
        sync_via(proxy, b)
    assert caught.value.message
    [broken] = proxy.faulted()
    if action.endswith("gzip"):
        assert broken.gzipped
    after = int(dict(p.split("=") for p in broken.query.split("&"))["after"])
    assert cursor(b, "households") == after > 0
    have = {row_id for (row_id,) in b.conn.execute("SELECT id FROM households")}
    assert len(have) == 3 and have <= {h.id for h in a.households.list()}
    assert_converged(proxy, a, b)


def test_a_pull_delivered_twice_is_harmless(proxy, laptops):
    a, b = laptops("a"), laptops("b")
    fill(a)
    sync_via(proxy, a)
    proxy.plan("duplicate", *PULL, nth=2, query="table=households")
    sync_via(proxy, b)
    assert_converged(proxy, a, b)


# -- processes dying -----------------------------------------------------------------------------
def test_a_client_killed_mid_pull_resumes_and_ends_complete(proxy, laptops, tmp_path,
                                                            key_files):
    a, b = laptops("a"), laptops("b")
    fill(a)
    sync_via(proxy, a)
    folder = b.path
    with b.transaction():
        b.set_meta(engine.META_SERVER, proxy.url)
    b.close()
    proxy.plan("delay", *PULL, nth=2, seconds=20.0, forward=False)  # ended by stop()
    before = len(proxy.seen(*PULL))
    env = {**os.environ, "DXKIT_TOKEN_STORE": "file", "DXKIT_LANG": "en"}
    child = subprocess.Popen(dxkit_command("--data-dir", str(folder), "sync"),
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    first_table = dependency_order()[0]
    try:
        deadline = time.monotonic() + 30
        # The second page is asked for while the first is applied (one request ahead): wait
        # for both, the request held back by the proxy and the first page committed.
        while (len(proxy.seen(*PULL)) < before + 2
               or committed_cursor(folder, first_table) == 0) and child.poll() is None:
            assert time.monotonic() < deadline, "the child never reached its second pull"
            time.sleep(0.05)
        assert child.poll() is None
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=10)
    proxy.clear()
    with Workspace.open(folder) as again:
        applied = again.conn.execute(f"SELECT count(*) FROM {first_table}").fetchone()[0]
        # The first batch was applied with its cursor; the second never arrived.
        assert applied == 1 and cursor(again, first_table) > 0
        assert again.households.count() == 0
        sync_via(proxy, again)
        sync_via(proxy, a)
        assert rows(again) == rows(a)
        assert quarantined(again) == 0 and again.pending_changes() == 0


def test_the_hub_restarted_between_two_push_batches_is_no_loss(proxy, laptops, hub_server,
                                                                tmp_path):
    a, b = laptops("a"), laptops("b")
    fill(a)
    replacements = []

    def restart() -> None:
        hub_server.stop()
        fresh = start_hub(hub_server.db_path, tmp_path / "hub-again.log")
        replacements.append(fresh)
        proxy.upstream = fresh.url

    proxy.plan("hook", *PUSH, nth=3, hook=restart)
    try:
        report = sync_via(proxy, a)
        assert replacements and hub_server.process.poll() is not None
        assert report.quarantined == 0 and a.pending_changes() == 0
        assert_converged(proxy, a, b)
    finally:
        for fresh in replacements:
            fresh.stop()


def test_own_edit_echoed_back_after_a_lost_push_answer_is_not_a_conflict(proxy, laptops):
    """The hub committed a push whose answer was lost; the same field is edited again before
    the next sync, whose pull brings the first edit back. That is this laptop's own edit, not
    a rival one: nothing goes to the review list."""
    a, b = laptops("a"), laptops("b")
    fill(a, households=2)
    sync_via(proxy, a)
    home = a.households.by_code("MH-001").id
    a.households.update(home, notes="Lần một")
    proxy.plan("drop_response", *PUSH, nth=1)
    with pytest.raises(HubUnreachable):
        sync_via(proxy, a)
    a.households.update(home, notes="Lần hai")
    sync_via(proxy, a)
    assert a.conn.execute("SELECT count(*) FROM sync_conflicts").fetchone()[0] == 0
    assert_converged(proxy, a, b)
    assert b.households.get(home).notes == "Lần hai"


# -- a commune team beside a hamlet team -------------------------------------------------------
def own_rows(ws: Workspace, hamlet: str) -> dict[tuple[str, str], dict]:
    """The rows of a laptop that belong to one hamlet: the hamlet, its households and what
    hangs off them (what the hamlet's team may read)."""
    households = {row[0] for row in ws.conn.execute(
        "SELECT id FROM households WHERE hamlet_id = ?", (hamlet,))}
    people = {row[0] for row in ws.conn.execute(
        f"SELECT id FROM people WHERE household_id IN ({','.join('?' * len(households))})",
        tuple(households))} if households else set()
    visits = {row[0] for row in ws.conn.execute(
        f"SELECT id FROM visits WHERE household_id IN ({','.join('?' * len(households))})",
        tuple(households))} if households else set()
    wanted = {"hamlets": {hamlet}, "households": households, "people": people,
              "visits": visits}
    every = rows(ws)
    mine = {key: record for key, record in every.items()
            if key[1] in wanted.get(key[0], set())}
    mine.update({key: record for key, record in every.items() if key[0] == "visit_items"
                 and record["fields"]["visit_id"] in visits})
    mine.update({key: record for key, record in every.items()
                 if key[0] == "indicator_answers" and record["fields"]["person_id"] in people})
    return mine


@pytest.mark.parametrize("action", ["drop_response", "answer_503", "cut_response"])
def test_a_commune_teams_broken_syncs_reach_the_hamlet_team_and_back(proxy, laptops,
                                                                     hamlet_team, action):
    """The commune team's laptop writes households of two hamlets, one the hub does not know
    yet, and its pushes break; the hamlet team's laptop writes too and its pulls break.
    After clean syncs the hamlet team's laptop holds exactly its hamlet's rows, as the
    commune team's laptops hold them, and its own edit has reached the commune team."""
    a, b = laptops("a"), laptops("b")
    mine = laptops("my-hung", hamlet_team)
    fill(a, households=10, hamlets=("Ấp Mỹ Hưng", "Ấp Tân Long"))
    proxy.plan(action, *PUSH, nth=2)
    with pytest.raises((HubUnreachable, HubFailed)):
        sync_via(proxy, a)
    proxy.clear()
    sync_via(proxy, a)
    proxy.plan(action, *PULL, nth=2, query="table=households")  # its 5 come in 2 pages
    with pytest.raises((HubUnreachable, HubFailed)):
        sync_via(proxy, mine)
    assert_converged(proxy, a, b)
    sync_via(proxy, mine)
    my_hung = mine.catalog.hamlet("Ấp Mỹ Hưng").id
    [home, *_rest] = [h for h in mine.households.list()]
    mine.households.update(home.id, notes="Sửa ở máy của ấp")
    for ws in (mine, a, b, mine):
        assert sync_via(proxy, ws).quarantined == 0
    assert b.households.get(home.id).notes == "Sửa ở máy của ấp"
    assert own_rows(mine, my_hung) == own_rows(a, my_hung) == own_rows(b, my_hung)
    assert {h.name for h in mine.catalog.hamlets()} == {"Ấp Mỹ Hưng"}
    assert mine.households.count() == 5 and a.households.count() == 10
    assert rows(a) == rows(b)
    assert quarantined(mine) == 0 and mine.pending_changes() == 0
