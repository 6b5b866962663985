"""The network under the hub client: where plain http may go, a deadline over each request,
and answers read within a size limit.

- Plain http carries the device token (and the enrollment code) in clear text, so without
  the user's explicit consent it may only reach this computer or its local network
  (`PRIVATE_NETWORKS`). A host name counts by what it resolves to, and the connection is made
  to exactly the addresses that were checked: a second lookup could answer differently.
- httpx's timeouts bound each socket operation, not a request: a hub that drips one byte
  every 20 s never trips a 60 s read timeout. Here every connect, TLS handshake, read and
  write of a request waits at most until the deadline set by `deadline_scope`.
- `read_body` inflates gzip itself, a bounded piece at a time, and stops past a limit: a small
  gzip bomb never expands in memory.
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
import socket
import ssl
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal, TypeVar

import httpcore
import httpx

T = TypeVar("T")

# Plain http may reach only these networks: loopback, the RFC 1918 and IPv6 unique-local LAN
# ranges, and link-local. Shared carrier space (100.64.0.0/10) is left out: other customers
# of the same provider share it.
PRIVATE_NETWORKS = tuple(ipaddress.ip_network(network) for network in (
    "127.0.0.0/8", "::1/128",
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7",
    "169.254.0.0/16", "fe80::/10",
))
KEEPALIVE_EXPIRY = 5.0  # seconds, as httpx's default pool
INFLATE_PIECE = 1 << 20  # bytes of inflated answer produced at a time

TlsKind = Literal["untrusted", "expired", "wrong_name", "handshake"]
# OpenSSL's verification codes (X509_V_ERR_*).
_EXPIRED_CODES = {9, 10}  # CERT_NOT_YET_VALID, CERT_HAS_EXPIRED
_WRONG_NAME_CODES = {62, 64}  # HOSTNAME_MISMATCH, IP_ADDRESS_MISMATCH


class PublicAddressRefused(Exception):
    """Plain http to an address outside PRIVATE_NETWORKS: no connection was opened."""

    def __init__(self, host: str, addresses: list[str]):
        super().__init__(f"{host} resolves to {', '.join(addresses) or 'nothing'}")
        self.host, self.addresses = host, addresses


class DeadlinePassed(Exception):
    """The request's deadline passed while it was connecting, sending or receiving."""


class AnswerTooLarge(Exception):
    """The answer expands to more than the limit; reading stopped there."""


class BadEncoding(Exception):
    """The answer's content encoding is unknown, or its gzip is damaged or cut short."""


# -- which addresses plain http may reach ----------------------------------------------------
def is_private_address(text: str) -> bool:
    """An IP address (an IPv6 zone such as %eth0 allowed) inside PRIVATE_NETWORKS."""
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:8.8.8.8 is 8.8.8.8
    return any(address in network for network in PRIVATE_NETWORKS)


def private_addresses(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, when every one of them is private; otherwise
    PublicAddressRefused (a name answering one private and one public address is refused:
    the connection could take either)."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:  # no such name, or no network to ask: as unreachable as can be
        raise httpcore.ConnectError(str(exc)) from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not addresses or not all(is_private_address(address) for address in addresses):
        raise PublicAddressRefused(host, addresses)
    return addresses


# -- the deadline ----------------------------------------------------------------------------
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "dxkit_sync_deadline", default=None)


@contextlib.contextmanager
def deadline_scope(deadline: float) -> Iterator[None]:
    """Socket operations of this thread wait at most until `deadline` (time.monotonic())."""
    token = _deadline.set(deadline)
    try:
        yield
    finally:
        _deadline.reset(token)


def _bounded(timeout: float | None, operation: Callable[..., T], *args: Any,
             **options: Any) -> T:
    """`operation(*args, timeout=…, **options)` with the smaller of its own timeout and the
    time left; a timeout caused by the deadline becomes DeadlinePassed."""
    deadline = _deadline.get()
    if deadline is None:
        return operation(*args, timeout=timeout, **options)
    left = deadline - time.monotonic()
    if left <= 0:
        raise DeadlinePassed
    by_deadline = timeout is None or left < timeout
    try:
        return operation(*args, timeout=left if by_deadline else timeout, **options)
    except httpcore.TimeoutException as exc:
        if by_deadline:
            raise DeadlinePassed from exc
        raise


class GuardedStream(httpcore.NetworkStream):
    """A connection whose every operation ends by the request's deadline."""

    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return _bounded(timeout, self._inner.read, max_bytes)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        _bounded(timeout, self._inner.write, buffer)

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        # The handshake as a whole is bounded: Python applies a socket's timeout to all of it.
        return GuardedStream(_bounded(timeout, self._inner.start_tls, ssl_context,
                                      server_hostname))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Opens connections for one hub. `private_only` (plain http without consent): resolve
    the host once, refuse it unless every address is private, connect to those addresses."""

    def __init__(self, private_only: bool, inner: httpcore.NetworkBackend | None = None):
        self.private_only = private_only
        self._inner = inner if inner is not None else httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
                    ) -> httpcore.NetworkStream:
        targets = private_addresses(host, port) if self.private_only else [host]
        failure: Exception | None = None
        for target in targets:  # in the resolver's order, as socket.create_connection does
            try:
                stream = _bounded(timeout, self._inner.connect_tcp, target, port,
                                  local_address=local_address, socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            return GuardedStream(stream)
        assert failure is not None  # targets is never empty
        raise failure

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
                            ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("the hub is reached over TCP only")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport over a GuardedBackend. The CA bundle is httpx's (certifi), or
    SSL_CERT_FILE / SSL_CERT_DIR when set, e.g. a province's own certificate authority."""

    def __init__(self, private_only: bool):
        context = httpx.create_ssl_context()
        super().__init__(verify=context, retries=0)
        # httpx has no way to hand its connection pool a network backend: the pool it just
        # made (no connection opened yet) is replaced by the same pool over ours. The
        # refusal and deadline tests fail if a new httpx stops using `_pool`.
        self._pool = httpcore.ConnectionPool(
            ssl_context=context, network_backend=GuardedBackend(private_only),
            keepalive_expiry=KEEPALIVE_EXPIRY)


# -- TLS failures ------------------------------------------------------------------------------
def tls_failure(exc: httpx.TransportError) -> TlsKind | None:
    """What went wrong setting up TLS, if that is why the connection failed. Only the connect
    phase counts: an SSL error later is a connection that broke (offline)."""
    if not isinstance(exc, httpx.ConnectError):
        return None
    error = _ssl_error(exc)
    if error is None:
        return None
    if isinstance(error, ssl.SSLCertVerificationError):
        if error.verify_code in _EXPIRED_CODES:
            return "expired"
        if error.verify_code in _WRONG_NAME_CODES:
            return "wrong_name"
        return "untrusted"
    return "handshake"


def _ssl_error(exc: BaseException) -> ssl.SSLError | None:
    """The ssl.SSLError httpx and httpcore wrapped (each raises its own `from` the other)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


# -- reading an answer -----------------------------------------------------------------------
class _Identity:
    def feed(self, data: bytes) -> Iterator[bytes]:
        yield data  # one network read: at most 64 KiB

    def finish(self) -> None:
        pass


class _Gunzip:
    """gzip inflated a bounded piece at a time, so the reader can stop between pieces (one
    64 KiB read of a bomb inflates to 64 MiB)."""

    def __init__(self) -> None:
        self._inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        self._fed = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        self._fed = self._fed or bool(data)
        pending = data
        while True:
            try:
                piece = self._inflate.decompress(pending, INFLATE_PIECE)
            except zlib.error as exc:
                raise BadEncoding from exc
            yield piece
            pending = self._inflate.unconsumed_tail
            # A full piece may leave output inside zlib even when no input is left.
            if not pending and len(piece) < INFLATE_PIECE:
                return

    def finish(self) -> None:
        if self._fed and not self._inflate.eof:
            raise BadEncoding  # cut short: the rest of the answer never came


def _decoder(content_encoding: str) -> _Identity | _Gunzip:
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return _Identity()
    if encoding in ("gzip", "x-gzip"):
        return _Gunzip()
    raise BadEncoding  # the client asks for gzip only


def read_body(response: httpx.Response, limit: int, deadline: float) -> bytes:
    """The answer's decoded body. Past `limit` bytes: AnswerTooLarge, having held at most
    `limit` plus one piece; after `deadline`: DeadlinePassed."""
    parts: list[bytes] = []
    stream_body(response, limit, deadline, parts.append)
    return b"".join(parts)


def stream_body(response: httpx.Response, limit: int, deadline: float,
                write: Callable[[bytes], object]) -> int:
    """Hand the answer's decoded body to `write` a piece at a time (a course pack goes to a
    file, never whole into memory); returns its size. Past `limit` bytes: AnswerTooLarge,
    before the piece that goes over is written; after `deadline`: DeadlinePassed."""
    if response.is_stream_consumed:
        # A test transport (httpx.MockTransport) hands over an answer it already read.
        if len(response.content) > limit:
            raise AnswerTooLarge
        write(response.content)
        return len(response.content)
    decoder = _decoder(response.headers.get("Content-Encoding", ""))
    size = 0
    for chunk in response.iter_raw():
        for piece in decoder.feed(chunk):
            size += len(piece)
            if size > limit:
                raise AnswerTooLarge
            write(piece)
        if time.monotonic() >= deadline:
            raise DeadlinePassed
    decoder.finish()
    return size
