"""Who may use the hub how much: in-process token buckets and a per-device bound on requests
in flight, checked before any request reaches a route (docs/deployment.md, "The hub's own
limits").

- A request with a device token the hub has seen authenticate is charged to that device's
  bucket (`device_rate` per second, bursts up to `device_burst`) — never to its address, so
  a commune office of laptops behind one NAT address is not throttled as one.
- Every other request (no token, or a token not yet seen to work: enroll, health, trace
  pages, guessed tokens) is charged to its client address (`address_rate`, `address_burst`);
  IPv6 addresses count per /64, the block one subscriber usually holds.
- A device token may have at most `device_concurrency` requests in flight; more get 429 at
  once instead of queueing for the worker threads every team shares. The sync client sends
  one request at a time.

A refusal is 429 `rate_limited` with Retry-After. The client address is the socket's peer
unless `hub serve` was told to trust a reverse proxy's X-Forwarded-For (uvicorn's
--proxy-headers/--forwarded-allow-ips rewrite it before the app sees it). The tables are
bounded (least recently used keys are forgotten), so random tokens or addresses cannot grow
them without limit. Everything runs on the event loop: no locks.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dxkit.core.i18n import _
from dxkit.sync.hub.limits import Limits


class RateLimited(Exception):
    def __init__(self, retry_after: int):
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class TokenBucket:
    """`rate` tokens per second up to `capacity`; a request takes one."""

    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, rate: float, capacity: int, now: float):
        self.rate, self.capacity = rate, float(capacity)
        self.tokens, self.stamp = float(capacity), now

    def take(self, now: float) -> float:
        """0 when a token was taken, else the seconds until one is there."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class _Recent(OrderedDict[str, TokenBucket]):
    """Buckets by key, forgetting the least recently used beyond `size`."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def bucket(self, key: str, make: Callable[[], TokenBucket]) -> TokenBucket:
        found = self.get(key)
        if found is None:
            found = self[key] = make()
            if len(self) > self.size:
                self.popitem(last=False)
        else:
            self.move_to_end(key)
        return found


class RequestGuard:
    """The buckets and in-flight counts of one hub process."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic):
        self.limits, self.clock = limits, clock
        self._addresses = _Recent(limits.tracked_keys)
        self._devices = _Recent(limits.tracked_keys)
        self._known: OrderedDict[str, None] = OrderedDict()  # tokens seen to authenticate
        self._in_flight: dict[str, int] = {}

    def enter(self, address: str, token: str | None) -> str | None:
        """Admit one request (RateLimited otherwise); returns the device slot to `leave`."""
        key = token_key(token) if token else None
        if key is not None and self._in_flight.get(key, 0) >= self.limits.device_concurrency:
            raise RateLimited(1)
        self._charge(key if key in self._known else None, address)
        if key is not None:
            self._in_flight[key] = self._in_flight.get(key, 0) + 1
        return key

    def leave(self, key: str | None) -> None:
        if key is None:
            return
        left = self._in_flight.pop(key) - 1
        if left:
            self._in_flight[key] = left

    def authenticated(self, token: str) -> None:
        """The token belongs to an enrolled device: its requests now count as the device's."""
        key = token_key(token)
        self._known[key] = None
        self._known.move_to_end(key)
        if len(self._known) > self.limits.tracked_keys:
            self._known.popitem(last=False)

    def _charge(self, device_key: str | None, address: str) -> None:
        now, limits = self.clock(), self.limits
        if device_key is not None:
            bucket = self._devices.bucket(device_key, lambda: TokenBucket(
                limits.device_rate, limits.device_burst, now))
        else:
            bucket = self._addresses.bucket(address, lambda: TokenBucket(
                limits.address_rate, limits.address_burst, now))
        wait = bucket.take(now)
        if wait:
            raise RateLimited(max(1, math.ceil(wait)))


def token_key(token: str) -> str:
    """What the guard remembers of a token: a hash, never the token."""
    return hashlib.blake2b(token.encode("utf-8", "replace"), digest_size=16).hexdigest()


def bearer_of(authorization: str) -> str | None:
    """The token of an `Authorization: Bearer …` header, or None."""
    scheme, _space, token = authorization.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def address_key(host: str | None) -> str:
    """The bucket of a client address: itself for IPv4, its /64 for IPv6."""
    if not host:
        return "?"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # a unix socket path or a name a proxy sent: as it is
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def rate_limited_response(retry_after: int) -> JSONResponse:
    return JSONResponse(
        {"error": "rate_limited",
         "message": _("Too many requests from this device or network; try again in "
                      "{seconds} s.").format(seconds=retry_after)},
        status_code=429, headers={"Retry-After": str(retry_after)})


class GuardMiddleware:
    """Refuses a request over its limits with 429 before any route, body or database sees
    it; the outermost middleware of the hub. An answer sent before the request's body was
    read (this 429, a 401 or 413 of the app) closes the connection: otherwise the server
    would go on receiving, and parsing as HTTP, the megabyte nobody wants."""

    def __init__(self, app: ASGIApp, guard: RequestGuard):
        self.app, self.guard = app, guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = _UnreadBody(receive, send, _has_body(scope))
        client = scope.get("client")
        address = address_key(client[0] if client else None)
        try:
            slot = self.guard.enter(address, bearer_of(_header(scope, b"authorization")))
        except RateLimited as refusal:
            await rate_limited_response(refusal.retry_after)(scope, body.receive, body.send)
            return
        try:
            await self.app(scope, body.receive, body.send)
        finally:
            self.guard.leave(slot)


class _UnreadBody:
    """Adds `Connection: close` to an answer that starts while the request body is unread."""

    def __init__(self, receive: Receive, send: Send, expected: bool):
        self._receive, self._send = receive, send
        self.unread = expected

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request" and not message.get("more_body", False):
            self.unread = False
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start" and self.unread:
            message = {**message, "headers": [*message.get("headers", ()),
                                              (b"connection", b"close")]}
        await self._send(message)


def _has_body(scope: Scope) -> bool:
    length = _header(scope, b"content-length")
    return bool(_header(scope, b"transfer-encoding")) or (length.isdigit() and int(length) > 0)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return ""
