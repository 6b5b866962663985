"""A hub that answers 429 with Retry-After (its per-device and per-address limits): the client
waits a short Retry-After out by itself and goes on, and stops on a long one with a sentence
and as offline (the app tries again later), never as a refusal."""

from __future__ import annotations

import httpx
import pytest

from dxkit.sync.client import BUSY_RETRIES, BUSY_WAIT_MAX_S, HubBusy, HubClient, HubUnreachable


def busy_then_fine(busy_answers: int, retry_after: str | None):
    calls: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if len(calls) <= busy_answers:
            headers = {} if retry_after is None else {"Retry-After": retry_after}
            return httpx.Response(429, json={"error": "rate_limited", "message": "busy"},
                                  headers=headers)
        return httpx.Response(200, json={"ok": True, "version": "1"})

    return httpx.MockTransport(handle), calls


def test_a_short_wait_is_waited_out_and_the_request_goes_on():
    transport, calls = busy_then_fine(2, "3")
    slept: list[float] = []
    with HubClient("http://127.0.0.1:1", transport=transport, sleep=slept.append) as hub:
        assert hub.health()["ok"] is True
    assert slept == [3, 3] and len(calls) == 3


def test_a_hub_busy_for_ever_is_left_after_a_few_waits():
    transport, calls = busy_then_fine(100, "1")
    slept: list[float] = []
    with HubClient("http://127.0.0.1:1", transport=transport, sleep=slept.append) as hub, \
            pytest.raises(HubBusy) as raised:
        hub.health()
    assert len(slept) == BUSY_RETRIES and len(calls) == BUSY_RETRIES + 1
    assert isinstance(raised.value, HubUnreachable)  # the app tries again later
    assert "khoảng 1 giây" in raised.value.message


@pytest.mark.parametrize("retry_after", [str(BUSY_WAIT_MAX_S + 1), None, "Wed, 21 Oct 2026"])
def test_a_long_or_unreadable_wait_is_not_slept(retry_after):
    transport, calls = busy_then_fine(1, retry_after)
    slept: list[float] = []
    with HubClient("http://127.0.0.1:1", transport=transport, sleep=slept.append) as hub, \
            pytest.raises(HubBusy):
        hub.health()
    assert slept == [] and len(calls) == 1
