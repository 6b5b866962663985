"""Plain http beyond the local network, end to end: `dxkit enroll` refuses it with one
sentence and no connection; allowed with --allow-insecure-http, the choice stays with the
workspace and later syncs (and the app's probe) honour it. The "public" hub is the real hub
on loopback, reached through a test network map that routes PUBLIC_IP there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dxkit.cli import cli
from dxkit.sync import engine
from dxkit.sync.client import HubClient, InsecureHubAddress
from dxkit.workspace import Workspace
from tests.sync.hostile import PUBLIC_IP, Network

DONG_THAP, MY_THO = "82", "28261"


@pytest.fixture
def network(monkeypatch) -> Network:
    return Network().install(monkeypatch)


@pytest.fixture
def public_url(module_hub) -> str:
    """The real hub's address as if it were on the internet, over plain http."""
    port = module_hub.url.rsplit(":", 1)[1]
    return f"http://{PUBLIC_IP}:{port}"


def enrollment_code(hub) -> str:
    team = hub.admin("team", "add", "--province", DONG_THAP, "--commune", MY_THO,
                     "--hamlet", "Ấp Mỹ Hưng")["team_id"]
    return hub.admin("enroll-code", "--team", team)["code"]


def dxkit(folder: Path, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["--data-dir", str(folder), *args])
    assert "Traceback" not in result.output
    return result


def test_enroll_refuses_plain_http_to_a_public_address_with_one_sentence(
        network, public_url, module_hub, tmp_path):
    code = enrollment_code(module_hub)
    before = list(network.dialed)  # the fixtures' own look at the hub, if any
    refused = dxkit(tmp_path / "laptop", "enroll", "--server", public_url, "--code", code)
    assert refused.exit_code != 0 and refused.stdout == ""
    sentence = refused.stderr.strip()
    assert "\n" not in sentence and sentence.startswith("Địa chỉ máy chủ http://")
    assert "https://" in sentence and "--allow-insecure-http" in sentence
    assert network.dialed == before  # neither the code nor anything else went out
    with Workspace.open(tmp_path / "laptop") as ws:
        assert engine.status(ws)["enrolled"] is False


def test_allowed_once_at_enrollment_later_syncs_honour_it(network, public_url, module_hub,
                                                          tmp_path):
    network.routes.add(PUBLIC_IP)
    folder = tmp_path / "laptop"
    joined = dxkit(folder, "enroll", "--server", public_url, "--code",
                   enrollment_code(module_hub), "--allow-insecure-http", "--json")
    assert joined.exit_code == 0, joined.stderr
    assert json.loads(joined.stdout)["allow_insecure_http"] is True
    synced = dxkit(folder, "sync", "--json")  # no flag: the workspace remembers
    assert synced.exit_code == 0, synced.stderr
    state = dxkit(folder, "sync", "status")
    assert "khóa thiết bị được gửi đi không mã hóa" in state.stdout
    assert PUBLIC_IP in network.dialed


def test_a_workspace_enrolled_before_the_check_is_refused_until_allowed(
        network, public_url, module_hub, tmp_path):
    network.routes.add(PUBLIC_IP)
    folder = tmp_path / "laptop"
    with Workspace.open(folder) as ws:
        engine.enroll(ws, public_url, enrollment_code(module_hub), allow_insecure_http=True)
        with ws.transaction() as tx:  # as enrolled by a version without the address check
            tx.conn.execute("DELETE FROM meta WHERE key = ?", (engine.META_INSECURE_HTTP,))
    dialed = len(network.dialed)
    refused = dxkit(folder, "sync")
    assert refused.exit_code != 0 and "--allow-insecure-http" in refused.stderr
    assert len(network.dialed) == dialed  # the token stayed here
    allowed = dxkit(folder, "sync", "--allow-insecure-http", "--json")
    assert allowed.exit_code == 0, allowed.stderr
    assert dxkit(folder, "sync", "--json").exit_code == 0


def test_a_plain_http_hub_on_loopback_needs_no_consent(network, module_hub, tmp_path):
    with Workspace.open(tmp_path / "laptop") as ws:
        facts = engine.enroll(ws, module_hub.url, enrollment_code(module_hub))
        assert facts.allow_insecure_http is False
        assert engine.sync(ws).pushed >= 0
    assert "127.0.0.1" in network.dialed and PUBLIC_IP not in network.dialed


def test_the_client_of_a_workspace_refuses_what_the_user_did_not_allow(network, public_url,
                                                                        module_hub, tmp_path):
    network.routes.add(PUBLIC_IP)
    with Workspace.open(tmp_path / "laptop") as ws:
        engine.enroll(ws, public_url, enrollment_code(module_hub), allow_insecure_http=True)
        assert engine.status(ws)["allow_insecure_http"] is True
        with engine.client_for(ws) as allowed:
            assert allowed.health()["ok"] is True
    with HubClient(public_url) as bare, pytest.raises(InsecureHubAddress):
        bare.health()
