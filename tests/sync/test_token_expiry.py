"""A device token expiring, also in the middle of a sync (issue 3: "a token expiring
mid-sync"): the laptop stops with a clear sentence, keeps every local row and consistent
cursors, and once the administrator renews the device a sync completes with every record
arriving exactly once. On the real hub process, SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from dxkit.sync import engine
from dxkit.sync.client import HubClient, TokenExpired
from dxkit.sync.credentials import TokenStore
from dxkit.workspace import Workspace
from tests.support.places import ensure_hamlet

# The command line runs in processes of its own: workspace keys go to files they can read.
pytestmark = pytest.mark.usefixtures("key_files")

HUB_BACKENDS = ("sqlite", "postgresql")
SQLITE_ONLY = {"test_dxkit_sync_says_the_token_expired_and_resumes_after_renewal"}
BATCH = 40  # engine batch sizes for these tests: a few dozen rows make several batches
HOUSEHOLDS = 100


@pytest.fixture(autouse=True)
def small_batches(monkeypatch):
    monkeypatch.setenv("DXKIT_TOKEN_STORE", "file")
    monkeypatch.setattr(engine, "PULL_LIMIT", BATCH)
    monkeypatch.setattr(engine, "PUSH_MAX_RECORDS", BATCH)


@pytest.fixture
def team(hub_server) -> str:
    return hub_server.admin("team", "add", "--province", "82", "--commune", "28261",
                            "--hamlet", "Ấp Mỹ Hưng")["team_id"]


@pytest.fixture
def laptops(tmp_path, hub_server, team):
    opened: list[Workspace] = []

    def make(name: str) -> Workspace:
        code = hub_server.admin("enroll-code", "--team", team)["code"]
        ws = Workspace.open(tmp_path / name)
        engine.enroll(ws, hub_server.url, code, device_name=name)
        opened.append(ws)
        return ws

    yield make
    for ws in opened:
        ws.close()


class Tripwire(httpx.HTTPTransport):
    """Forwards requests to the hub; after the `nth` answer to requests matching `when`,
    runs `action` once (the administrator acting while the sync is under way)."""

    def __init__(self, when: Callable[[httpx.Request], bool], nth: int,
                 action: Callable[[], None]):
        super().__init__()
        self.when, self.nth, self.action = when, nth, action
        self.matched = 0
        self.paths: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        self.paths.append(request.url.path)
        if self.when(request):
            self.matched += 1
            if self.matched == self.nth:
                self.action()
        return response


def client_with(ws: Workspace, transport: httpx.BaseTransport) -> HubClient:
    token = TokenStore(ws.path, ws.device_id).load()
    return HubClient(ws.meta()[engine.META_SERVER], token, transport=transport)


def households(ws: Workspace) -> Counter:
    return Counter(row[0] for row in ws.conn.execute("SELECT id FROM households"))


def fill(ws: Workspace, count: int = HOUSEHOLDS) -> None:
    with ws.transaction():
        ensure_hamlet(ws, "Ấp Mỹ Hưng")
        for n in range(count):
            ws.households.add(code=f"MH-{n:03}", head_name=f"Nguyễn Văn {n}",
                              hamlet="Ấp Mỹ Hưng")


def test_expiry_between_two_push_batches_keeps_the_rest_queued(hub_server, laptops):
    a = laptops("a")
    fill(a)
    waiting = a.pending_changes()
    device_id = a.meta()[engine.META_DEVICE]
    wire = Tripwire(lambda r: r.url.path == "/v1/push", 1,
                    lambda: hub_server.admin("devices", "expire", device_id))
    with client_with(a, wire) as client, pytest.raises(TokenExpired) as stopped:
        engine.sync(a, client=client)
    assert stopped.value.code == "token_expired" and stopped.value.message
    assert wire.paths.count("/v1/push") == 2  # the second batch was refused
    assert a.pending_changes() == waiting - BATCH  # the first batch left the queue, no more
    assert sum(households(a).values()) == HOUSEHOLDS
    assert engine.status(a)["revoked"] is True and "last_sync_at" not in a.meta()

    hub_server.admin("devices", "renew", device_id)
    resumed = engine.sync(a)
    assert resumed.pushed == waiting - BATCH and a.pending_changes() == 0
    assert engine.status(a)["revoked"] is False
    b = laptops("b")
    engine.sync(b)
    assert households(b) == households(a) and set(households(b).values()) == {1}


def test_expiry_between_two_pull_batches_resumes_where_it_stopped(hub_server, laptops):
    a = laptops("a")
    fill(a)
    engine.sync(a)
    b = laptops("b")
    device_id = b.meta()[engine.META_DEVICE]

    def pulls_of_households(request: httpx.Request) -> bool:
        return request.url.path == "/v1/pull" and request.url.params["table"] == "households"

    wire = Tripwire(pulls_of_households, 1,
                    lambda: hub_server.admin("devices", "expire", device_id))
    with client_with(b, wire) as client, pytest.raises(TokenExpired):
        engine.sync(b, client=client)
    # Exactly the first batch of households is stored, with its cursor; the sync did not
    # finish, so the high water is not recorded and the next sync goes on from the cursor.
    assert sum(households(b).values()) == BATCH
    meta = b.meta()
    assert int(meta[engine.CURSOR_PREFIX + "households"]) > 0
    assert engine.META_HIGH_WATER not in meta
    before = households(b)

    hub_server.admin("devices", "renew", device_id)
    resumed = engine.sync(b)
    assert resumed.received == HOUSEHOLDS - BATCH  # nothing fetched twice
    assert households(b) == households(a) and set(households(b).values()) == {1}
    assert before.keys() <= households(b).keys()
    quiet = engine.sync(b)
    assert (quiet.received, quiet.requests) == (0, 1)


# -- the command line -------------------------------------------------------------------------
def dxkit(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DXKIT_TOKEN_STORE": "file", "DXKIT_LANG": "en"}
    return subprocess.run([sys.executable, "-m", "dxkit.ui.entry", "--data-dir", str(data_dir),
                           *args], capture_output=True, text=True, timeout=120, env=env,
                          check=False)


def test_dxkit_sync_says_the_token_expired_and_resumes_after_renewal(hub_server, laptops):
    a = laptops("a")
    fill(a, 3)
    folder, device_id, waiting = a.path, a.meta()[engine.META_DEVICE], a.pending_changes()
    a.close()
    hub_server.admin("devices", "expire", device_id)
    refused = dxkit("sync", "--json", data_dir=folder)
    assert refused.returncode != 0 and refused.stdout == ""
    assert "expired" in refused.stderr and "Traceback" not in refused.stderr
    with Workspace.open(folder) as ws:
        assert ws.pending_changes() == waiting and ws.households.count() == 3
    [listed] = [d for d in hub_server.admin("devices", "list") if d["id"] == device_id]
    assert listed["expires_at"]
    hub_server.admin("devices", "renew", device_id)
    done = dxkit("sync", "--json", data_dir=folder)
    assert done.returncode == 0, done.stderr
    with Workspace.open(folder) as ws:
        assert ws.pending_changes() == 0
