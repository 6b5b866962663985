"""The parts of the hub's guard that need no server: the JSON nesting scan, token buckets, the
per-device and per-address accounting, and how a client address is keyed. The real hub under
attack is tests/sync/test_hub_attacks.py."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dxkit.sync.hub.bodies import (
    MAX_JSON_DEPTH,
    BodyError,
    gunzip_limited,
    nests_deeper_than,
    parse_json,
    parse_json_object,
)
from dxkit.sync.hub.guard import (
    RateLimited,
    RequestGuard,
    TokenBucket,
    address_key,
    bearer_of,
)
from dxkit.sync.hub.limits import Limits


def depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab,:'),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.text(alphabet='[]{}"\\x', max_size=3), inner, max_size=3),
    max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(value=JSON, limit=st.integers(min_value=0, max_value=8))
def test_the_scan_measures_what_the_parser_nests(value, limit):
    text = json.dumps(value).encode()
    assert nests_deeper_than(text, limit) == (depth(value) > limit)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet='[]{}"\\a,:1 ', max_size=40), limit=st.integers(0, 6))
def test_on_malformed_text_the_scan_never_says_shallower_than_the_parser_goes(text, limit):
    """Whatever the parser accepts, the scan measured at least its depth; what it refuses it
    refuses before reaching a depth the scan did not count."""
    try:
        value = json.loads(text)
    except ValueError:
        return
    if depth(value) > limit:
        assert nests_deeper_than(text.encode(), limit)


@pytest.mark.parametrize(("body", "code"), [
    (b"[" * 100_000 + b"]" * 100_000, "too_deep"),
    (b"[" * 100_000, "too_deep"),                      # never closed: the parser would recurse
    (b"{\"a\":" * (MAX_JSON_DEPTH + 1) + b"1" + b"}" * (MAX_JSON_DEPTH + 1), "too_deep"),
    (b'["' + b"[" * 100_000 + b'"]', None),            # brackets inside a string are text
    (b'["\\"' + b"[" * 100_000 + b'"]', None),         # even after an escaped quote
    (b'["\\\\"' + b"[" * 100 + b"]" * 100 + b"]", "too_deep"),  # an escaped backslash ends it
    (b'["' + b"[" * 100_000, "bad_request"),           # an unclosed string is just bad JSON
    (b"\xff\xfe[]", "bad_request"),                    # not UTF-8
    (b"NaN", "bad_request"),
])
def test_parse_json_refuses_with_a_code_and_never_recurses(body, code):
    if code is None:
        parse_json(body)
        return
    with pytest.raises(BodyError) as refused:
        parse_json(body)
    assert refused.value.code == code and refused.value.message


def test_a_body_is_an_object_within_its_limit_gzipped_or_not():
    import gzip

    assert parse_json_object(gzip.compress(b'{"a": 1}'), "gzip") == {"a": 1}
    for body, encoding, code in ((b"[1]", "", "bad_request"), (b"{}", "br", "bad_request"),
                                 (gzip.compress(b" " * 9000 + b"{}"), "gzip", "too_large")):
        with pytest.raises(BodyError) as refused:
            parse_json_object(body, encoding, limit=8 * 1024)
        assert refused.value.code == code
    with pytest.raises(BodyError):
        gunzip_limited(gzip.compress(b"{}")[:-4])


def test_a_bucket_refills_at_its_rate_up_to_its_capacity():
    bucket = TokenBucket(rate=2.0, capacity=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(0.5)  # one token in half a second
    assert bucket.take(0.5) == 0.0
    assert bucket.take(100.0) == 0.0 and bucket.tokens == 2.0  # never more than 3


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_device_is_charged_as_itself_once_it_authenticated():
    clock = Clock()
    guard = RequestGuard(Limits(address_burst=2, address_rate=1, device_burst=5,
                                device_rate=1, device_concurrency=10), clock)
    # An unknown token counts against its address, like any unauthenticated request.
    guard.leave(guard.enter("10.0.0.1", "token-a"))
    guard.leave(guard.enter("10.0.0.1", None))
    with pytest.raises(RateLimited) as limited:
        guard.enter("10.0.0.1", "token-a")
    assert limited.value.retry_after == 1
    guard.authenticated("token-a")
    for _request in range(5):  # its own burst, whatever its address has left
        guard.leave(guard.enter("10.0.0.1", "token-a"))
    with pytest.raises(RateLimited):
        guard.enter("10.0.0.1", "token-a")
    guard.enter("10.0.0.2", None)  # another address is untouched
    clock.now = 1.0
    guard.leave(guard.enter("10.0.0.1", "token-a"))


def test_requests_in_flight_are_bounded_per_device():
    guard = RequestGuard(Limits(device_concurrency=2), Clock())
    first, second = guard.enter("a", "token"), guard.enter("b", "token")
    with pytest.raises(RateLimited):
        guard.enter("c", "token")
    other = guard.enter("a", "other-token")  # another device has its own two
    guard.leave(first)
    third = guard.enter("a", "token")
    for slot in (second, third):
        guard.leave(slot)
    assert list(guard._in_flight) == [other]  # a device with nothing in flight is forgotten
    guard.leave(other)
    assert guard._in_flight == {}


def test_the_guard_remembers_a_bounded_number_of_keys():
    guard = RequestGuard(Limits(tracked_keys=3, address_burst=1), Clock())
    for n in range(10):
        guard.enter(f"10.0.0.{n}", None)
        guard.authenticated(f"token-{n}")
    assert len(guard._addresses) == 3 and len(guard._known) == 3
    guard.enter("10.0.0.0", None)  # forgotten, so a fresh bucket: no memory exhaustion


@pytest.mark.parametrize(("host", "key"), [
    ("203.0.113.7", "203.0.113.7"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),     # one subscriber's /64: one bucket
    ("::ffff:203.0.113.7", "203.0.113.7"),
    (None, "?"),
])
def test_client_addresses_are_keyed_per_subscriber(host, key):
    assert address_key(host) == key


@pytest.mark.parametrize(("header", "token"), [
    ("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("Basic abc", None), ("Bearer ", None),
    ("", None)])
def test_bearer_tokens_are_read_from_the_header(header, token):
    assert bearer_of(header) == token
