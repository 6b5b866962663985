"""HubClient over httpx.MockTransport: gzip on the wire, and every failure as a sentence."""

from __future__ import annotations

import gzip
import json

import httpx
import pytest

from dxkit.sync.client import (
    DeviceRevoked,
    HubClient,
    HubFailed,
    HubRefused,
    HubUnreachable,
)

URL = "http://hub.test"


def answer(status: int, body: object, gzipped: bool = False) -> httpx.Response:
    content = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if gzipped:
        content = gzip.compress(content)
        headers["Content-Encoding"] = "gzip"
    return httpx.Response(status, content=content, headers=headers)


def client_for(handler, token: str | None = "secret-token") -> HubClient:
    return HubClient(URL, token=token, transport=httpx.MockTransport(handler))


def test_a_push_is_gzip_on_the_wire_with_the_token_and_accepts_gzip():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        records = json.loads(gzip.decompress(request.content))["records"]
        return answer(200, {"results": [{"table": r["table"], "id": r["id"],
                                         "status": "applied"} for r in records],
                            "cursor": 7}, gzipped=True)

    records = [{"table": "households", "id": f"h{i}", "fields": {"head_name": "Nguyễn Văn An"}}
               for i in range(50)]
    with client_for(handler) as client:
        result = client.push(records)
    assert result["cursor"] == 7 and len(result["results"]) == 50
    request = seen[0]
    assert request.url.path == "/v1/push"
    assert request.headers["content-encoding"] == "gzip"
    assert "gzip" in request.headers["accept-encoding"]
    assert request.headers["authorization"] == "Bearer secret-token"
    assert "Nguyễn Văn An" in gzip.decompress(request.content).decode("utf-8")  # not escaped
    assert client.requests == 1
    assert client.bytes_sent == len(request.content) < len(json.dumps({"records": records}))
    assert client.bytes_received > 0


def test_a_pull_sends_its_cursor_and_reads_the_answer():
    def handler(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        assert params == {"table": "people", "after": "3", "upto": "9", "limit": "200"}
        return answer(200, {"records": [], "next": 3, "more": False, "high_water": 9})

    with client_for(handler) as client:
        assert client.pull("people", after=3, upto=9, limit=200)["high_water"] == 9


def test_the_first_pull_of_a_sync_has_no_upto():
    def handler(request: httpx.Request) -> httpx.Response:
        assert "upto" not in request.url.params
        return answer(200, {"records": [], "next": 0, "more": False, "high_water": 0})

    with client_for(handler) as client:
        client.pull("hamlets", after=0)


def test_enrollment_needs_no_token_and_sends_the_code():
    def handler(request: httpx.Request) -> httpx.Response:
        assert "authorization" not in request.headers
        body = json.loads(gzip.decompress(request.content))
        assert body == {"code": "ABCD-EFGH-JK", "device_name": "Máy Hoa"}
        return answer(200, {"device_id": "d1", "token": "t", "team": {"id": "team-1"}})

    with client_for(handler, token=None) as client:
        assert client.enroll("ABCD-EFGH-JK", "Máy Hoa")["device_id"] == "d1"


@pytest.mark.parametrize("failure", [
    httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"), httpx.ReadTimeout("slow"),
    httpx.RemoteProtocolError("dropped mid-response"),
])
def test_no_connection_is_offline_and_is_not_retried(failure):
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise failure

    with client_for(handler) as client, pytest.raises(HubUnreachable) as caught:
        client.health()
    assert len(calls) == 1
    assert URL in caught.value.message and "mất mạng" in caught.value.message


@pytest.mark.parametrize(("code", "expected"), [
    ("device_revoked", "thu hồi"), ("unauthorized", "đăng ký lại")])
def test_a_refused_token_is_device_revoked(code, expected):
    def handler(request: httpx.Request) -> httpx.Response:
        return answer(401, {"error": code, "message": "no"})

    with client_for(handler) as client, pytest.raises(DeviceRevoked) as caught:
        client.pull("households", after=0)
    assert caught.value.code == code
    assert expected in caught.value.message and "giữ nguyên" in caught.value.message


def test_other_refusals_carry_the_hub_code_and_sentence():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/enroll":
            return answer(403, {"error": "bad_code", "message": "unknown code"})
        return answer(413, {"error": "too_large", "message": "The request is too large."})

    with client_for(handler) as client:
        with pytest.raises(HubRefused) as refused:
            client.enroll("nope", "x")
        assert refused.value.code == "bad_code" and not isinstance(refused.value, DeviceRevoked)
        with pytest.raises(HubRefused) as large:
            client.push([{"table": "t", "id": "1"}])
        assert large.value.code == "too_large"
        assert "The request is too large." in large.value.message


@pytest.mark.parametrize("response", [
    httpx.Response(500, json={"error": "server_error", "message": "boom"}),
    httpx.Response(503, text="<html>proxy</html>"),
    httpx.Response(200, text="not json"),
    httpx.Response(200, json=["a", "list"]),
    httpx.Response(200, json={"records": "no", "next": 1, "more": False, "high_water": 1}),
    httpx.Response(200, json={"records": [], "next": -1, "more": False, "high_water": 1}),
    httpx.Response(200, stream=httpx.ByteStream(b"\x1f\x8b\x08garbage"),
                   headers={"Content-Encoding": "gzip"}),
    httpx.Response(200, stream=httpx.ByteStream(b"[" * 100_000 + b"]" * 100_000)),  # too deep
])
def test_server_errors_and_malformed_answers_are_hub_failed(response):
    with client_for(lambda request: response) as client, pytest.raises(HubFailed) as caught:
        client.pull("households", after=0)
    assert caught.value.message


@pytest.mark.parametrize(("encoding", "body"), [
    ("gzip", gzip.compress(b'{"ok": true}')[:-8]),  # the stream's end (its checksum) never came
    ("br", b'{"ok": true}'),  # an encoding the client did not ask for
], ids=["gzip cut short", "brotli"])
def test_an_answer_it_cannot_decode_safely_is_hub_failed(encoding, body):
    response = httpx.Response(200, stream=httpx.ByteStream(body),
                              headers={"Content-Encoding": encoding})
    with client_for(lambda request: response) as client, pytest.raises(HubFailed):
        client.health()


def test_a_push_answer_with_the_wrong_number_of_results_is_hub_failed():
    def handler(request: httpx.Request) -> httpx.Response:
        return answer(200, {"results": [], "cursor": 1})

    with client_for(handler) as client, pytest.raises(HubFailed):
        client.push([{"table": "households", "id": "h1"}])


def test_without_a_token_nothing_is_sent():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return answer(200, {})

    with client_for(handler, token=None) as client, pytest.raises(DeviceRevoked):
        client.pull("households", after=0)
    assert calls == []
