"""The client in the field, on real sockets: plain http only to this computer or its LAN
unless the user allowed it, TLS failures said as such, a gzip bomb refused within bounded
memory, a dripping hub given up on at the request's deadline."""

from __future__ import annotations

import threading
import tracemalloc

import pytest

from dxkit.sync import client as client_module
from dxkit.sync.client import (
    MAX_RESPONSE_BYTES,
    HubAnswerTooLarge,
    HubClient,
    HubFailed,
    HubTlsFailed,
    HubTooSlow,
    HubUnreachable,
    InsecureHubAddress,
)
from dxkit.sync.hub.app import MAX_PULL_LIMIT
from dxkit.sync.transport import is_private_address
from tests.sync.hostile import (
    HEALTH,
    PUBLIC_IP,
    Network,
    drips,
    gzip_bomb,
    gzip_json,
    healthy,
    issue,
    sends_gzip,
    sends_plain,
    serving,
    tls_context,
)

MB = 1_000_000


@pytest.fixture
def network(monkeypatch) -> Network:
    return Network().install(monkeypatch)


# -- which addresses plain http may reach ----------------------------------------------------
@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.9.10", "::1", "10.1.2.3", "172.16.0.1", "172.31.255.254",
    "192.168.1.10", "fd12:3456::1", "169.254.10.20", "fe80::1%eth0", "::ffff:192.168.1.10"])
def test_loopback_lan_and_link_local_addresses_are_private(address):
    assert is_private_address(address)


@pytest.mark.parametrize("address", [
    PUBLIC_IP, "8.8.8.8", "172.32.0.1", "100.64.0.1", "2001:db8::1", "2402:800::1",
    "::ffff:203.0.113.10", "0.0.0.0"])
def test_every_other_address_is_public(address):
    assert not is_private_address(address)


@pytest.mark.parametrize("host", [PUBLIC_IP, "[2001:db8::10]", "[::ffff:203.0.113.10]",
                                  "100.64.0.1"])
def test_plain_http_to_a_public_address_is_refused_before_any_connection(network, host):
    with HubClient(f"http://{host}:8765", token="secret") as client, \
            pytest.raises(InsecureHubAddress) as refused:
        client.pull("households", after=0)
    assert network.dialed == []  # no socket was opened, let alone a token sent
    assert "https://" in refused.value.message and "--allow-insecure-http" in refused.value.message
    assert "không mã hóa" in refused.value.message


def test_plain_http_to_a_public_host_name_is_refused_and_so_is_a_half_public_one(network):
    network.names["hub.example.vn"] = [[PUBLIC_IP]]
    network.names["mixed.example.vn"] = [["192.168.1.10", PUBLIC_IP]]
    for name in ("hub.example.vn", "mixed.example.vn"):
        with HubClient(f"http://{name}:8765") as client, pytest.raises(InsecureHubAddress):
            client.enroll("ABCD-EFGH-JK", "Máy Hoa")  # the code is a secret too
    assert network.dialed == []


def test_plain_http_to_loopback_works(network):
    with serving(healthy) as hub, HubClient(hub.url(), token="secret") as client:
        assert client.health()["ok"] is True
    assert network.dialed == ["127.0.0.1"]


@pytest.mark.parametrize("address", ["10.20.30.40", "192.168.1.10", "172.16.5.4",
                                     "fd00::10", "169.254.7.7"])
def test_plain_http_to_a_lan_address_works(network, address):
    network.routes.add(address)  # the "LAN hub" is the loopback server
    host = f"[{address}]" if ":" in address else address
    with serving(healthy) as hub, HubClient(f"http://{host}:{hub.port}") as client:
        assert client.health()["ok"] is True
    assert network.dialed == [address]


def test_a_name_is_looked_up_once_per_connection_and_that_answer_is_dialled(network):
    """A name that resolved to the LAN is connected to at the address that was checked, not
    looked up again (a second answer could be public); when it later resolves to a public
    address, the next connection is refused."""
    network.names["hub.lan"] = [["127.0.0.1"], [PUBLIC_IP]]
    with serving(healthy) as hub, HubClient(f"http://hub.lan:{hub.port}") as client:
        assert client.health()["ok"] is True  # the hub closes each connection
        with pytest.raises(InsecureHubAddress):
            client.health()
    assert network.lookups == ["hub.lan", "hub.lan"] and network.dialed == ["127.0.0.1"]


def test_the_user_may_allow_plain_http_to_a_public_address(network):
    network.routes.add(PUBLIC_IP)
    with serving(healthy) as hub, HubClient(f"http://{PUBLIC_IP}:{hub.port}",
                                            allow_insecure_http=True) as client:
        assert client.health()["ok"] is True
    assert network.dialed == [PUBLIC_IP]


# -- TLS -----------------------------------------------------------------------------------------
@pytest.fixture
def authority(tmp_path, monkeypatch):
    """A certificate authority this computer trusts (SSL_CERT_FILE, as a province with its
    own CA would set it)."""
    ca = issue("dxkit test CA", names=[], ca=True)
    ca_file, _key = ca.write(tmp_path, "ca")
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    return ca


def test_https_with_a_trusted_certificate_works(authority, tmp_path):
    leaf = issue("hub", names=["127.0.0.1"], by=authority)
    with serving(healthy, tls_context(leaf, tmp_path, "leaf")) as hub, \
            HubClient(hub.url("https")) as client:
        assert client.health()["ok"] is True


@pytest.mark.parametrize(("case", "kind", "words"), [
    ("self-signed", "untrusted", "không tin cậy"),
    ("expired", "expired", "hết hạn"),
    ("another name", "wrong_name", "địa chỉ khác"),
])
def test_a_certificate_problem_is_a_tls_sentence_not_offline(authority, tmp_path, case, kind,
                                                             words):
    leaf = {"self-signed": lambda: issue("hub", names=["127.0.0.1"]),
            "expired": lambda: issue("hub", names=["127.0.0.1"], by=authority,
                                     valid_days=(-30, -1)),
            "another name": lambda: issue("hub", names=["hub.example.vn"], by=authority),
            }[case]()
    with serving(healthy, tls_context(leaf, tmp_path, "leaf")) as hub, \
            HubClient(hub.url("https"), token="secret") as client, \
            pytest.raises(HubTlsFailed) as failed:
        client.pull("households", after=0)
    assert failed.value.kind == kind and not isinstance(failed.value, HubUnreachable)
    assert words in failed.value.message and "mất mạng" not in failed.value.message
    assert hub.heads == []  # the request (and its token) never went out


def test_https_to_the_real_hub_serving_plain_http_is_a_failed_handshake(authority, module_hub):
    with HubClient(module_hub.url.replace("http://", "https://")) as client, \
            pytest.raises(HubTlsFailed) as failed:
        client.health()
    assert failed.value.kind == "handshake" and "kết nối an toàn" in failed.value.message


def test_no_hub_listening_is_still_offline(authority):
    with serving(healthy) as hub:
        url = hub.url("https")
    with HubClient(url) as client, pytest.raises(HubUnreachable) as caught:
        client.health()
    assert not isinstance(caught.value, HubTlsFailed) and "mất mạng" in caught.value.message


# -- a gzip bomb -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bomb() -> bytes:
    return gzip_bomb(800 * MB)


def test_a_gzip_bomb_is_refused_within_bounded_memory(bomb):
    assert len(bomb) < 1 * MB  # 0.8 MB on the wire, 800 MB once inflated
    with serving(sends_gzip(bomb)) as hub, HubClient(hub.url(), token="secret") as client:
        tracemalloc.start()
        try:
            with pytest.raises(HubAnswerTooLarge) as refused:
                client.pull("households", after=0)
            _now, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 100 * MB, f"{peak / MB:.0f} MB held for an 800 MB bomb"
    assert isinstance(refused.value, HubFailed)
    assert f"{MAX_RESPONSE_BYTES // 2**20} MB" in refused.value.message


def test_the_size_limit_is_a_bound_on_the_decoded_answer_and_can_be_set():
    page = {"records": [{"id": f"r{n}", "note": "x" * 900} for n in range(2000)],
            "next": 1, "more": False, "high_water": 1}
    compressed = gzip_json(page)  # about 2 MB inflated, a few KB on the wire
    with serving(sends_gzip(compressed)) as hub:
        with HubClient(hub.url(), token="t", max_response_bytes=1 * MB) as small, \
                pytest.raises(HubAnswerTooLarge):
            small.pull("households", after=0)
        with HubClient(hub.url(), token="t", max_response_bytes=3 * MB) as large:
            assert len(large.pull("households", after=0)["records"]) == 2000


def test_a_plain_answer_is_held_to_the_same_limit():
    body = b'{"records": [' + b" " * (2 * MB) + b'], "next": 1}'
    with serving(sends_plain(body)) as hub, \
            HubClient(hub.url(), token="t", max_response_bytes=1 * MB) as client, \
            pytest.raises(HubAnswerTooLarge):
        client.pull("households", after=0)


def test_a_full_pull_page_fits_the_default_limit():
    """The limit follows the protocol: the hub's page size times a record bound well above
    the records the tables hold (a published trace, the largest, is about 3.5 KB)."""
    assert client_module.MAX_PULL_RECORDS == MAX_PULL_LIMIT
    assert client_module.RECORD_BYTES_BOUND >= 4 * 3_500
    assert MAX_RESPONSE_BYTES < 100 * MB  # still a bound that protects a 4 GB laptop


# -- a dripping hub ----------------------------------------------------------------------------
@pytest.mark.parametrize("head_too", [True, False], ids=["dripping head", "dripping body"])
def test_a_dripping_hub_is_given_up_at_the_deadline(head_too):
    """One byte every 0.2 s trips no read timeout; the 2 s deadline of the request does.
    (An outcome, not a timing: the request ends, where without a deadline it would take
    minutes; the bound is generous.)"""
    outcome: list[BaseException | None] = []

    def ask(url: str) -> None:
        try:
            with HubClient(url, deadline=2.0) as client:
                client.health()
            outcome.append(None)
        except BaseException as exc:  # handed to the test thread
            outcome.append(exc)

    with serving(drips(0.2, head_too)) as hub:
        worker = threading.Thread(target=ask, args=(hub.url(),), daemon=True)
        worker.start()
        worker.join(30)
        ended = not worker.is_alive()
    assert ended, "the request was still waiting on a dripping hub after 30 s"
    [error] = outcome
    assert isinstance(error, HubTooSlow) and isinstance(error, HubUnreachable)
    assert "2 giây" in error.message


def test_a_hub_that_answers_in_time_is_not_affected_by_the_deadline():
    with serving(sends_plain(HEALTH)) as hub, HubClient(hub.url(), deadline=5.0) as client:
        for _ in range(3):
            assert client.health()["ok"] is True
