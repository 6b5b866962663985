"""Attacks on a REAL hub process (`dxkit hub serve` on 127.0.0.1): deep JSON, floods of large
unauthenticated bodies, one device's parallel digests, bursts past the rate limits, spoofed
X-Forwarded-For, idle and trickling connections — and the hub serving HTTPS itself.

Every hub here runs with the production limits (Limits() and ServeOptions(), or smaller ones
the test names) instead of the suite's lifted ones. No test asserts a speed: only that the
hub refused what it had to (400/413/429/503, or a closed socket) and that another team's
request still succeeded within a generous bound a loaded two-core machine meets."""

from __future__ import annotations

import dataclasses
import gzip
import http.client
import json
import socket
import ssl
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from dxkit.sync.hub.limits import Limits, ServeOptions
from tests.support.hub_process import HubServer, start_hub
from tests.support.tools import require_tool

MY_THO = ("--province", "82", "--commune", "28261")
MIB = 1024 * 1024
LIVENESS_SECONDS = 10.0  # another team's request must succeed within this, however loaded


PRODUCTION_LIMITS, PRODUCTION_OPTIONS = Limits(), ServeOptions()


def limit_args(limits: Limits = PRODUCTION_LIMITS, options: ServeOptions = PRODUCTION_OPTIONS
               ) -> tuple[str, ...]:
    """`hub serve` options that put these limits back in place of the suite's lifted ones."""
    args: list[str] = []
    for field in dataclasses.fields(Limits):
        if field.name != "tracked_keys":
            args += [f"--{field.name.replace('_', '-')}", str(getattr(limits, field.name))]
    return (*args, "--limit-concurrency", str(options.limit_concurrency),
            "--timeout-keep-alive", str(options.timeout_keep_alive))


@pytest.fixture
def hub_with(tmp_path: Path) -> Iterator[Callable[..., HubServer]]:
    """hub_with(*serve_args): a hub process of this test's own, stopped by PID at the end."""
    started: list[HubServer] = []

    def start(*serve_args: str) -> HubServer:
        hub = start_hub(tmp_path / f"hub{len(started)}.sqlite",
                        tmp_path / f"hub{len(started)}.log", *serve_args)
        started.append(hub)
        return hub

    yield start
    for hub in started:
        hub.stop()


def enroll(hub: HubServer, hamlet: str) -> str:
    """The token of a device of a new team."""
    team = hub.admin("team", "add", *MY_THO, "--hamlet", hamlet)
    code = hub.admin("enroll-code", "--team", team["team_id"])["code"]
    answer = httpx.post(f"{hub.url}/v1/enroll", json={"code": code, "device_name": hamlet},
                        timeout=30)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def client(hub: HubServer) -> httpx.Client:
    """One client per test (or thread): a new one per request costs a TLS context, a tenth
    of a second of the test's own CPU."""
    return httpx.Client(base_url=hub.url, timeout=LIVENESS_SECONDS)


def pull(web: httpx.Client, token: str) -> httpx.Response:
    return web.get("/v1/pull", params={"table": "households"}, headers=bearer(token))


def assert_alive(web: httpx.Client, token: str) -> float:
    """Another team's pull succeeds within LIVENESS_SECONDS; its duration."""
    started = time.monotonic()
    answer = pull(web, token)
    took = time.monotonic() - started
    assert answer.status_code == 200, answer.text
    assert took < LIVENESS_SECONDS
    return took


def nested(levels: int) -> bytes:
    return b'{"records": ' + b"[" * levels + b"]" * levels + b"}"


def test_deeply_nested_json_is_a_400_not_a_crash(hub_with):
    hub = hub_with(*limit_args())
    token = enroll(hub, "Ấp Mỹ Hưng")
    with client(hub) as web:
        for body, headers in ((nested(100_000), {}),
                              (gzip.compress(nested(500_000)), {"Content-Encoding": "gzip"})):
            answer = web.post("/v1/push", content=body, headers={**bearer(token), **headers})
            assert answer.status_code == 400, answer.text
            assert answer.json()["error"] == "too_deep"
        # Brackets inside a string are text, not nesting: that record is merely rejected.
        text = b'{"records": [{"fields": "' + b"[" * 50_000 + b'"}]}'
        answer = web.post("/v1/push", content=text, headers=bearer(token))
        assert answer.status_code == 200 and answer.json()["results"][0]["status"] == "rejected"
        # The unauthenticated enrollment too (its body may be 8 KiB: 2,000 levels fit).
        answer = web.post("/v1/enroll", content=b"[" * 2_000 + b"]" * 2_000)
        assert answer.status_code == 400 and answer.json()["error"] == "too_deep"
        assert web.get("/v1/health").json() == {"ok": True, "version": 1}
        assert_alive(web, token)


def post_unauthenticated(url: str, body: bytes, chunked: bool) -> int | str:
    """The status of an enrollment carrying `body`, or "cut" when the hub closed the
    connection before taking it all (it answered without reading it)."""
    content: Any = iter([body[i:i + 65536] for i in range(0, len(body), 65536)]) \
        if chunked else body
    web = _thread_clients.__dict__.setdefault("client", httpx.Client(timeout=30))
    try:
        return web.post(url, content=content,
                         headers={"Content-Type": "application/json"}).status_code
    except httpx.TransportError:
        return "cut"


_thread_clients = threading.local()


def test_floods_of_large_unauthenticated_bodies_are_refused_unread(hub_with):
    hub = hub_with(*limit_args())
    reader = enroll(hub, "Khóm 3")
    # Just under the 1 MiB a push may be: before, each was read and parsed in full.
    body = json.dumps({"code": "ABCD-EFGH-JK", "device_name": "x",
                       "pad": "x" * (MIB - 100)}).encode()
    assert len(body) < MIB
    url = f"{hub.url}/v1/enroll"
    with client(hub) as web, ThreadPoolExecutor(max_workers=8) as pool:
        assert_alive(web, reader)  # the hub now knows this device: charged as itself
        sent = [pool.submit(post_unauthenticated, url, body, n % 4 == 0) for n in range(32)]
        pulls = []
        while not all(future.done() for future in sent):
            pulls.append(assert_alive(web, reader))
        outcomes = Counter(future.result() for future in sent)
        assert_alive(web, reader)
    # Never read nor parsed: a declared size over 8 KiB is refused at once (413), a chunked
    # body once 8 KiB arrived (413 or the connection cut), and past the address's burst
    # (60) it would be 429. Before, each was read and parsed on the event loop, and
    # answered 403 bad_code.
    assert set(outcomes) <= {413, 429, "cut"}, outcomes
    assert outcomes[413] + outcomes[429] > 0, outcomes
    assert pulls  # the other team was served while the flood went on


def digest_storm(hub: HubServer, token: str, count: int) -> list[tuple[int, str | None]]:
    """`count` GET /v1/digest of one device sent at the same instant on connections opened
    beforehand; (status, Retry-After) of each."""
    host, port = hub.url.removeprefix("http://").split(":")
    connections = [http.client.HTTPConnection(host, int(port), timeout=60) for _ in range(count)]
    for connection in connections:
        connection.connect()
    start = threading.Barrier(count)

    def one(connection: http.client.HTTPConnection) -> tuple[int, str | None]:
        start.wait()
        connection.request("GET", "/v1/digest", headers=bearer(token))
        answer = connection.getresponse()
        answer.read()
        connection.close()
        return answer.status, answer.getheader("Retry-After")

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, connections))


def test_one_devices_parallel_digests_get_429_and_another_team_still_pulls(hub_with,
                                                                         make_record):
    hub = hub_with(*limit_args())
    heavy, other = enroll(hub, "Ấp Đông Hòa"), enroll(hub, "Ấp Mỹ Hưng")
    with client(hub) as web:
        for batch in range(2):  # rows to hash: each digest takes a while
            records = [make_record("households", f"hh-{batch}-{n}", code=f"MH-{batch}-{n}",
                                   head_name="Nguyễn Văn An") for n in range(500)]
            answer = web.post("/v1/push", json={"records": records}, headers=bearer(heavy))
            assert answer.status_code == 200, answer.text
        assert_alive(web, other)
        with ThreadPoolExecutor(max_workers=1) as side:
            during = side.submit(lambda: [assert_alive(web, other) for _ in range(3)])
            answers = digest_storm(hub, heavy, 40)
            during.result()
        assert_alive(web, other)
    statuses = Counter(status for status, _retry in answers)
    assert set(statuses) <= {200, 429}, statuses
    # Two at a time per device (Limits.device_concurrency): most of the 40 are turned away
    # at once instead of queueing for the worker threads every team shares.
    assert statuses[429] >= 20 and statuses[200] >= 1, statuses
    assert all(retry == "1" for status, retry in answers if status == 429)


def test_a_device_past_its_burst_waits_and_other_devices_do_not(hub_with):
    hub = hub_with(*limit_args(Limits(device_rate=1.0, device_burst=5)))
    busy, calm = enroll(hub, "Khóm 1"), enroll(hub, "Khóm 2")
    with client(hub) as web:
        answers = [pull(web, busy) for _ in range(12)]
        refused = [answer for answer in answers if answer.status_code == 429]
        assert refused and answers[0].status_code == 200
        assert {answer.json()["error"] for answer in refused} == {"rate_limited"}
        wait = max(int(answer.headers["Retry-After"]) for answer in refused)
        assert wait >= 1
        assert_alive(web, calm)  # its own bucket
        time.sleep(wait + 0.5)
        assert pull(web, busy).status_code == 200


SMALL = Limits(address_rate=0.5, address_burst=5)


def health_from(web: httpx.Client, addresses: list[str]) -> list[int]:
    return [web.get("/v1/health", headers={"X-Forwarded-For": address}).status_code
            for address in addresses]


def test_a_spoofed_forwarded_for_does_not_escape_the_address_limit(hub_with):
    hub = hub_with(*limit_args(SMALL))
    with client(hub) as web:
        # No proxy configured: X-Forwarded-For is anyone's to write and changes nothing.
        statuses = health_from(web, [f"203.0.113.{n}" for n in range(10)])
        assert statuses.count(429) >= 4, statuses
        for path in ("/t/MD-261120-007-0", "/t/K7M2Q9XA/MD-261120-007-0", "/v1/openapi.json"):
            answer = web.get(path)
            assert answer.status_code == 429 and int(answer.headers["Retry-After"]) >= 1


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(hub_with):
    hub = hub_with(*limit_args(SMALL), "--forwarded-allow-ips", "127.0.0.1")
    with client(hub) as web:
        assert set(health_from(web, [f"203.0.113.{n}" for n in range(10)])) == {200}
        statuses = health_from(web, ["198.51.100.7"] * 10)
        assert statuses.count(429) >= 4, statuses


def wait_closed(sock: socket.socket, within: float) -> bytes | None:
    """What the hub sent before closing the socket, or None if it was still open after
    `within` seconds."""
    sock.settimeout(within)
    received = b""
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            chunk = sock.recv(4096)
            if not chunk:
                return received
            received += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        return received
    return None


def test_idle_and_trickling_connections_are_closed(hub_with):
    hub = hub_with(*limit_args(options=ServeOptions(limit_concurrency=10,
                                                    timeout_keep_alive=1)))
    host, port = hub.url.removeprefix("http://").split(":")
    idle = [socket.create_connection((host, int(port)), timeout=10) for _ in range(25)]
    try:
        # Over the limit, turned away at once; the rest closed once their second is up.
        # Before, uvicorn kept every socket that never sent a byte open for ever.
        endings = [wait_closed(sock, within=8.0) for sock in idle]
        assert None not in endings, "an idle connection was still open after 8 s"
        assert sum(ending.startswith(b"HTTP/1.1 503") for ending in endings
                   if ending is not None) >= 1
    finally:
        for sock in idle:
            sock.close()
    trickle = socket.create_connection((host, int(port)), timeout=10)
    try:
        started = time.monotonic()
        for byte in b"GET /v1/health HTTP/1.1\r\nHost: hub\r\nX-Padding: " + b"a" * 60:
            try:
                trickle.sendall(bytes([byte]))
            except OSError:
                break  # closed by the hub
            time.sleep(0.1)  # ten seconds for the whole head: far past the one allowed
        assert time.monotonic() - started < 9.0, "a trickled request head was never cut"
    finally:
        trickle.close()
    assert httpx.get(f"{hub.url}/v1/health", timeout=30).status_code == 200


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, with `cryptography` when installed, else
    `openssl req`."""
    cert, key = folder / "hub.crt", folder / "hub.key"
    try:
        import cryptography  # noqa: F401
    except ImportError:
        require_tool(subprocess.run(["openssl", "version"], capture_output=True,
                                    check=False).returncode == 0, "openssl")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                        "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", str(key), "-out", str(cert)], check=True,
                       capture_output=True)
        return cert, key
    return _cryptography_certificate(cert, key)


def _cryptography_certificate(cert: Path, key: Path) -> tuple[Path, Path]:
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(private.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(minutes=5))
                   .not_valid_after(now + dt.timedelta(days=2))
                   .add_extension(x509.SubjectAlternativeName(
                       [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                                  critical=True)
                   .sign(private, hashes.SHA256()))
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(private.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return cert, key


def test_a_tls_hub_answers_over_https(hub_with, tmp_path):
    cert, key = self_signed(tmp_path)
    hub = hub_with("--ssl-certfile", str(cert), "--ssl-keyfile", str(key))
    assert hub.url.startswith("https://")
    trusting = ssl.create_default_context(cafile=str(cert))
    answer = httpx.get(f"{hub.url}/v1/health", verify=trusting, timeout=30)
    assert answer.status_code == 200 and answer.json() == {"ok": True, "version": 1}
    with pytest.raises(httpx.ConnectError):  # an unknown certificate is not trusted
        httpx.get(f"{hub.url}/v1/health", timeout=30)
    plain = hub.url.replace("https://", "http://")
    with pytest.raises(httpx.HTTPError):  # and no plain HTTP on that port
        httpx.get(f"{plain}/v1/health", timeout=30)


def test_tls_options_come_as_a_pair(tmp_path):
    from dxkit.cli import cli

    cert, _key = self_signed(tmp_path)
    done = CliRunner().invoke(cli, ["hub", "serve", "--db", str(tmp_path / "hub.sqlite"),
                                    "--ssl-certfile", str(cert)])
    assert done.exit_code == 2
    assert "--ssl-keyfile" in done.output
